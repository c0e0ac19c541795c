/* SPDX-License-Identifier: MIT */
/*
 * test-kvm.c: accelerator start-up against a scripted backend: the API
 * version is checked, every missing capability is named, a failing
 * KVM_CREATE_VM is reported with errno, and the VM set-up ioctls are made
 * in order.  (The register-level fake lives in fake-kvm.c.)
 */
#include "util/common.h"
#include "accel/kvm/kvm.h"

struct script {
    int api_version;
    long missing_cap;
    int create_vm_err;
    GString *log;
    struct kvm_backend be;
};

static int script_ioctl(void *opaque, int fd, unsigned long req, void *arg)
{
    struct script *s = opaque;

    g_string_append_printf(s->log, "%s;", kvm_ioctl_name(req));
    switch (req) {
    case KVM_GET_API_VERSION:
        return s->api_version;
    case KVM_CHECK_EXTENSION:
        if ((long)arg == s->missing_cap) {
            return 0;
        }
        return (long)arg == KVM_CAP_NR_MEMSLOTS ? 509 : 1;
    case KVM_GET_VCPU_MMAP_SIZE:
        return 12288;
    case KVM_GET_SUPPORTED_CPUID: {
        struct kvm_cpuid2 *c = arg;
        c->nent = 1;
        c->entries[0].function = 0;
        return 0;
    }
    case KVM_GET_MSR_INDEX_LIST: {
        struct kvm_msr_list *l = arg;
        if (l->nmsrs < 2) {
            l->nmsrs = 2;
            return -E2BIG;
        }
        l->nmsrs = 2;
        l->indices[0] = 0x10;
        l->indices[1] = 0xc0000080;
        return 0;
    }
    case KVM_CREATE_VM:
        return s->create_vm_err ? -s->create_vm_err : 7;
    default:
        return 0;
    }
}

static struct kvm_accel *start(struct script *s, Error **errp)
{
    s->be = (struct kvm_backend){.ioctl = script_ioctl, .opaque = s};
    return kvm_accel_new(&s->be, errp);
}

static void test_ok(void)
{
    struct script s = {KVM_API_VERSION, -1, 0, g_string_new(NULL)};
    Error *err = NULL;
    struct kvm_accel *k = start(&s, &err);

    g_assert_nonnull(k);
    g_assert_cmpint(k->vm_fd, ==, 7);
    g_assert_cmpint(k->nr_slots, ==, 509);
    g_assert_cmpuint(k->msr_index_list->nmsrs, ==, 2);
    g_assert_nonnull(strstr(s.log->str, "KVM_CREATE_VM;"));
    /* The irqchip must exist before the PIT, and both after the VM. */
    g_assert_nonnull(strstr(s.log->str, "KVM_CREATE_IRQCHIP;KVM_CREATE_PIT2;"));
    kvm_accel_free(k);
    g_string_free(s.log, TRUE);
}

static void test_api_version(void)
{
    struct script s = {11, -1, 0, g_string_new(NULL)};
    Error *err = NULL;

    g_assert_null(start(&s, &err));
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "KVM API version 11, vireo needs 12");
    error_free(err);
    g_string_free(s.log, TRUE);
}

static void test_missing_cap(void)
{
    struct script s = {KVM_API_VERSION, KVM_CAP_IRQFD, 0, g_string_new(NULL)};
    Error *err = NULL;

    g_assert_null(start(&s, &err));
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "KVM lacks a capability vireo needs: KVM_CAP_IRQFD");
    g_assert_cmpint(error_get_class(err), ==, ERROR_CLASS_KVM_MISSING_CAP);
    g_assert_null(strstr(s.log->str, "KVM_CREATE_VM"));
    error_free(err);
    g_string_free(s.log, TRUE);
}

static void test_create_vm_fails(void)
{
    struct script s = {KVM_API_VERSION, -1, ENOMEM, g_string_new(NULL)};
    Error *err = NULL;

    g_assert_null(start(&s, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "KVM_CREATE_VM failed"));
    g_assert_nonnull(strstr(error_get_pretty(err), g_strerror(ENOMEM)));
    error_free(err);
    g_string_free(s.log, TRUE);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/kvm/start-ok", test_ok);
    g_test_add_func("/kvm/api-version", test_api_version);
    g_test_add_func("/kvm/missing-cap", test_missing_cap);
    g_test_add_func("/kvm/create-vm-fails", test_create_vm_fails);
    return g_test_run();
}
