/* SPDX-License-Identifier: MIT */
/*
 * fuzz-cpu.c: libFuzzer target for the CPU state layer (target-i386) on
 * the fake KVM backend.  Two kinds of input, chosen by the first byte:
 *   0: a -cpu option string: parsing must fail cleanly or give a model
 *      whose CPUID table KVM_SET_CPUID2 takes;
 *   1: raw register state (struct kvm_regs + struct kvm_sregs2, as a
 *      migration stream or a loader could hand it over) written with a
 *      FULL put.  The fake applies KVM's own KVM_SET_SREGS* rules, so the
 *      property checked is: whatever our consistency checks let through,
 *      KVM accepts; a bare -EINVAL from KVM means a check is missing.
 */
#include "util/common.h"
#include "accel/kvm/kvm.h"
#include "target-i386/cpu.h"
#include "tests/unit/fake-kvm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_model(const uint8_t *data, size_t size)
{
    struct fake_kvm f;
    g_autofree char *text = g_strndup((const char *)data, size);
    struct x86_cpu_model *m;
    struct x86_cpu *c;
    Error *err = NULL;

    fake_kvm_init(&f);
    m = x86_cpu_model_new(&f.accel, text, 2, 1, 2, 1, &err);
    if (!m) {
        g_assert(err && *error_get_pretty(err));
        error_free(err);
        fake_kvm_destroy(&f);
        return;
    }
    c = x86_cpu_new(&f.accel, FAKE_VCPU_FD, 1, m, &err);
    if (!c) {
        g_error("-cpu '%s' parsed but the vCPU failed: %s", text,
                error_get_pretty(err));
    }
    x86_cpu_free(c);
    x86_cpu_model_free(m);
    fake_kvm_destroy(&f);
}

static void fuzz_state(const uint8_t *data, size_t size)
{
    struct fake_kvm f;
    struct x86_boot_state b;
    struct x86_cpu_model *m;
    struct x86_cpu *c;
    Error *err = NULL;
    GString *dump = g_string_new(NULL);

    memset(&b, 0, sizeof(b));
    memcpy(&b, data, MIN(size, sizeof(b)));
    fake_kvm_init(&f);
    m = x86_cpu_model_new(&f.accel, "host", 1, 1, 1, 1, NULL);
    c = x86_cpu_new(&f.accel, FAKE_VCPU_FD, 0, m, NULL);
    g_assert(m && c);
    x86_cpu_reset(c, true);
    x86_cpu_set_sev_es(c, size > sizeof(b) && (data[sizeof(b)] & 1));
    x86_cpu_apply_boot_state(c, &b);
    if (!x86_cpu_put(c, X86_PUT_FULL, &err)) {
        /* Refused by us (named rule), never by KVM with a bare errno. */
        if (!strstr(error_get_pretty(err), "refusing")) {
            g_error("state reached KVM and was refused: %s",
                    error_get_pretty(err));
        }
        error_free(err);
    } else {
        /* Accepted: it reads back and dumps without trouble. */
        x86_cpu_invalidate(c);
        g_assert(x86_cpu_get(c, X86_ALL, NULL));
    }
    x86_cpu_dump(c, dump);
    g_assert(strstr(dump->str, "EFER="));
    g_string_free(dump, TRUE);
    x86_cpu_free(c);
    x86_cpu_model_free(m);
    fake_kvm_destroy(&f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    if (data[0] & 1) {
        fuzz_state(data + 1, size - 1);
    } else {
        fuzz_model(data + 1, size - 1);
    }
    return 0;
}
