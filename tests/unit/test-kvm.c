/* SPDX-License-Identifier: MIT */
/*
 * test-kvm.c: accelerator start-up against a scripted backend: the API
 * version is checked, every missing capability is named, a failing
 * KVM_CREATE_VM is reported with errno, and the VM set-up ioctls are made
 * in order for both irqchip modes (split: KVM_CAP_SPLIT_IRQCHIP with 24
 * IOAPIC pins; on: irqchip then PIT).  Also the split-mode plumbing: GSIs
 * and EOIs reach the registered sink, MSI routes and KVM_SIGNAL_MSI carry
 * the message, and kernel-irqchip= values are parsed as QEMU's.  (The
 * register-level fake lives in fake-kvm.c.)
 */
#include "util/common.h"
#include "accel/kvm/kvm.h"

struct script {
    int api_version;
    long missing_cap;
    int create_vm_err;
    GString *log;
    struct kvm_backend be;
    enum kvm_irqchip_mode mode;
    struct kvm_enable_cap cap;
    struct kvm_irq_routing_entry routes[4];
    unsigned nroutes;
    struct kvm_msi msi;
    int vm_types;          /* KVM_CAP_VM_TYPES answer */
    unsigned long vm_type; /* KVM_CREATE_VM's argument */
};

static int script_ioctl(void *opaque, int fd, unsigned long req, void *arg)
{
    struct script *s = opaque;

    g_string_append_printf(s->log, "%s;", kvm_ioctl_name(req));
    switch (req) {
    case KVM_GET_API_VERSION:
        return s->api_version;
    case KVM_CHECK_EXTENSION:
        if ((long)arg == 235) { /* KVM_CAP_VM_TYPES */
            return s->vm_types;
        }
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
        s->vm_type = (unsigned long)arg;
        return s->create_vm_err ? -s->create_vm_err : 7;
    case KVM_ENABLE_CAP:
        s->cap = *(struct kvm_enable_cap *)arg;
        return 0;
    case KVM_SET_GSI_ROUTING: {
        struct kvm_irq_routing *t = arg;
        s->nroutes = t->nr;
        memcpy(s->routes, t->entries,
               MIN(t->nr, 4u) * sizeof(struct kvm_irq_routing_entry));
        return 0;
    }
    case KVM_SIGNAL_MSI:
        s->msi = *(struct kvm_msi *)arg;
        return 1;
    default:
        return 0;
    }
}

static struct kvm_accel *start(struct script *s, Error **errp)
{
    s->be = (struct kvm_backend){.ioctl = script_ioctl, .opaque = s};
    return kvm_accel_new(&s->be, s->mode, 0xfeffc000, errp);
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
    /* Split by default: the capability with 24 IOAPIC pins, no PIC/PIT. */
    g_assert_cmpint(k->irqchip, ==, KVM_IRQCHIP_SPLIT);
    g_assert_nonnull(
        strstr(strstr(s.log->str, "KVM_CREATE_VM;"), "KVM_ENABLE_CAP;"));
    g_assert_cmpuint(s.cap.cap, ==, KVM_CAP_SPLIT_IRQCHIP);
    g_assert_cmpuint(s.cap.args[0], ==, 24);
    g_assert_null(strstr(s.log->str, "KVM_CREATE_IRQCHIP"));
    g_assert_null(strstr(s.log->str, "KVM_CREATE_PIT2"));
    kvm_accel_free(k);
    g_string_free(s.log, TRUE);
}

static void test_ok_whole_irqchip(void)
{
    struct script s = {KVM_API_VERSION, KVM_CAP_SPLIT_IRQCHIP, 0,
                       g_string_new(NULL)};
    Error *err = NULL;
    struct kvm_accel *k;

    s.mode = KVM_IRQCHIP_ON;
    k = start(&s, &err);
    g_assert_nonnull(k);
    /* The irqchip must exist before the PIT, and both after the VM. */
    g_assert_nonnull(strstr(strstr(s.log->str, "KVM_CREATE_VM;"),
                            "KVM_CREATE_IRQCHIP;KVM_CREATE_PIT2;"));
    g_assert_null(strstr(s.log->str, "KVM_ENABLE_CAP"));
    /* No sink: GSIs go to KVM_IRQ_LINE. */
    g_assert_true(kvm_set_irq(k, 4, true));
    g_assert_nonnull(strstr(s.log->str, "KVM_IRQ_LINE;"));
    kvm_accel_free(k);
    g_string_free(s.log, TRUE);
}

static void expect_missing(enum kvm_irqchip_mode mode, long cap,
                           const char *name)
{
    struct script s = {KVM_API_VERSION, cap, 0, g_string_new(NULL)};
    Error *err = NULL;
    g_autofree char *want =
        g_strdup_printf("KVM lacks a capability vireo needs: %s", name);

    s.mode = mode;
    g_assert_null(start(&s, &err));
    g_assert_cmpstr(error_get_pretty(err), ==, want);
    g_assert_null(strstr(s.log->str, "KVM_CREATE_VM"));
    error_free(err);
    g_string_free(s.log, TRUE);
}

static void test_missing_irqchip_caps(void)
{
    expect_missing(KVM_IRQCHIP_SPLIT, KVM_CAP_SPLIT_IRQCHIP,
                   "KVM_CAP_SPLIT_IRQCHIP");
    expect_missing(KVM_IRQCHIP_SPLIT, KVM_CAP_SIGNAL_MSI, "KVM_CAP_SIGNAL_MSI");
    expect_missing(KVM_IRQCHIP_ON, KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP");
    expect_missing(KVM_IRQCHIP_ON, KVM_CAP_PIT2, "KVM_CAP_PIT2");
}

struct sink_log {
    GString *s;
};

static void sink_eoi(void *opaque, unsigned vector)
{
    struct sink_log *l = opaque;
    g_string_append_printf(l->s, "eoi%u;", vector);
}

static const struct kvm_eoi_sink test_sink = {sink_eoi};

static void test_split_plumbing(void)
{
    struct script s = {KVM_API_VERSION, -1, 0, g_string_new(NULL)};
    struct sink_log l = {g_string_new(NULL)};
    struct kvm_msi_route r[2] = {{4, 0xfee01000, 0x8031},
                                 {9, 0xfee00000, 0x32}};
    Error *err = NULL;
    struct kvm_accel *k = start(&s, &err);

    g_assert_nonnull(k);
    /* With a split chip KVM has no IOAPIC to take KVM_IRQ_LINE: the
     * userspace IOAPIC owns the GSIs (hw/intc), and says so. */
    g_assert_false(kvm_set_irq(k, 4, true));
    kvm_ioapic_eoi(k, 0x30); /* no sink yet: dropped */
    kvm_set_eoi_sink(k, &test_sink, &l);
    kvm_ioapic_eoi(k, 0x31);
    g_assert_cmpstr(l.s->str, ==, "eoi49;");
    g_assert_null(strstr(s.log->str, "KVM_IRQ_LINE"));

    g_assert_true(kvm_set_msi_routes(k, r, 2, &err));
    g_assert_cmpuint(s.nroutes, ==, 2);
    g_assert_cmpuint(s.routes[0].gsi, ==, 4);
    g_assert_cmpuint(s.routes[0].type, ==, KVM_IRQ_ROUTING_MSI);
    g_assert_cmpuint(s.routes[0].u.msi.address_lo, ==, 0xfee01000);
    g_assert_cmpuint(s.routes[0].u.msi.data, ==, 0x8031);
    g_assert_cmpuint(s.routes[1].gsi, ==, 9);

    g_assert_cmpint(kvm_signal_msi(k, 0xfee02000, 0x4030), ==, 1);
    g_assert_cmpuint(s.msi.address_lo, ==, 0xfee02000);
    g_assert_cmpuint(s.msi.address_hi, ==, 0);
    g_assert_cmpuint(s.msi.data, ==, 0x4030);
    kvm_accel_free(k);
    g_string_free(s.log, TRUE);
    g_string_free(l.s, TRUE);
}

static void test_parse_irqchip(void)
{
    enum kvm_irqchip_mode m = KVM_IRQCHIP_ON;
    Error *err = NULL;

    g_assert_true(kvm_parse_irqchip_mode("split", &m, &err));
    g_assert_cmpint(m, ==, KVM_IRQCHIP_SPLIT);
    g_assert_true(kvm_parse_irqchip_mode("on", &m, &err));
    g_assert_cmpint(m, ==, KVM_IRQCHIP_ON);
    g_assert_false(kvm_parse_irqchip_mode("off", &m, &err));
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "kernel-irqchip=off is not supported: vireo needs KVM's "
                    "in-kernel LAPIC (use on or split)");
    error_free(err);
    err = NULL;
    g_assert_false(kvm_parse_irqchip_mode("maybe", &m, &err));
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "kernel-irqchip: invalid value 'maybe' (use on, split or "
                    "off)");
    error_free(err);
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

/* SEV VM types: used when offered, else a default VM. */
static void test_vm_type(void)
{
    struct script s = {KVM_API_VERSION, -1, 0, g_string_new(NULL)};
    Error *err = NULL;
    struct kvm_accel *k;

    s.be = (struct kvm_backend){.ioctl = script_ioctl, .opaque = &s};
    s.vm_types = 1 | 1 << 3;
    k = kvm_accel_new_typed(&s.be, KVM_IRQCHIP_SPLIT, 0xfeffc000, 3, &err);
    g_assert_nonnull(k);
    g_assert_cmpuint(s.vm_type, ==, 3);
    g_assert_cmpuint(k->vm_type, ==, 3);
    kvm_accel_free(k);
    k = kvm_accel_new_typed(&s.be, KVM_IRQCHIP_SPLIT, 0xfeffc000, 4, &err);
    g_assert_nonnull(k);
    g_assert_cmpuint(s.vm_type, ==, 0);
    g_assert_cmpuint(k->vm_type, ==, 0);
    kvm_accel_free(k);
    g_string_free(s.log, TRUE);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/kvm/start-ok", test_ok);
    g_test_add_func("/kvm/vm-type", test_vm_type);
    g_test_add_func("/kvm/start-ok-whole-irqchip", test_ok_whole_irqchip);
    g_test_add_func("/kvm/missing-irqchip-caps", test_missing_irqchip_caps);
    g_test_add_func("/kvm/split-plumbing", test_split_plumbing);
    g_test_add_func("/kvm/parse-irqchip", test_parse_irqchip);
    g_test_add_func("/kvm/api-version", test_api_version);
    g_test_add_func("/kvm/missing-cap", test_missing_cap);
    g_test_add_func("/kvm/create-vm-fails", test_create_vm_fails);
    return g_test_run();
}
