/* SPDX-License-Identifier: MIT */
/*
 * test-exit.c: the pure exit decoder fed hand-built struct kvm_run: port
 * I/O in and out (with string counts), MMIO, reset/shutdown events,
 * internal errors and unknown exits (never ignored), malformed layouts.
 */
#include "util/common.h"
#include "accel/kvm/kvm.h"
#include "accel/kvm/vcpu.h"
#include "system/memory.h"

#define RUN_SIZE 8192

struct fixture {
    struct vcpu_env env;
    struct kvm_accel k;
    struct vcpu cpu;
    struct kvm_run *run;
    GString *written;
};

static uint64_t port_read(void *opaque, uint64_t off, unsigned size)
{
    return 0xab;
}

static void port_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    struct fixture *f = opaque;

    g_string_append_printf(f->written, "%" PRIx64 ":%" PRIx64 "/%u;", off, val,
                           size);
}

static const struct io_ops port_ops = {.read = port_read, .write = port_write};

static void setup(struct fixture *f, gconstpointer data)
{
    memset(f, 0, sizeof(*f));
    f->k.vcpu_mmap_size = RUN_SIZE;
    f->env.kvm = &f->k;
    f->env.pio = as_new("io", NULL);
    f->env.mmio = as_new("mem", NULL);
    f->cpu.env = &f->env;
    f->run = g_malloc0(RUN_SIZE);
    f->written = g_string_new(NULL);
    g_assert_true(as_map(f->env.pio, 0x3f8, 8, &port_ops, f, NULL, "p", NULL));
    g_assert_true(
        as_map(f->env.mmio, 0xd0000000, 0x1000, &port_ops, f, NULL, "m", NULL));
}

static void teardown(struct fixture *f, gconstpointer data)
{
    as_free(f->env.pio);
    as_free(f->env.mmio);
    g_free(f->run);
    g_free(f->cpu.fatal_reason);
    g_string_free(f->written, TRUE);
}

static void test_io_out_string(struct fixture *f, gconstpointer data)
{
    uint8_t *d = (uint8_t *)f->run + 4096;

    f->run->exit_reason = KVM_EXIT_IO;
    f->run->io.direction = KVM_EXIT_IO_OUT;
    f->run->io.port = 0x3f8;
    f->run->io.size = 1;
    f->run->io.count = 3;
    f->run->io.data_offset = 4096;
    memcpy(d, "abc", 3);
    g_assert_cmpint(kvm_exit_dispatch(&f->cpu, f->run), ==, EXIT_CONTINUE);
    g_assert_cmpstr(f->written->str, ==, "0:61/1;0:62/1;0:63/1;");
}

static void test_io_in(struct fixture *f, gconstpointer data)
{
    uint8_t *d = (uint8_t *)f->run + 4096;

    f->run->exit_reason = KVM_EXIT_IO;
    f->run->io.direction = KVM_EXIT_IO_IN;
    f->run->io.port = 0x3fd;
    f->run->io.size = 1;
    f->run->io.count = 1;
    f->run->io.data_offset = 4096;
    g_assert_cmpint(kvm_exit_dispatch(&f->cpu, f->run), ==, EXIT_CONTINUE);
    g_assert_cmphex(d[0], ==, 0xab);
    /* unmapped port reads all ones */
    f->run->io.port = 0x1234;
    f->run->io.size = 2;
    g_assert_cmpint(kvm_exit_dispatch(&f->cpu, f->run), ==, EXIT_CONTINUE);
    g_assert_cmphex(d[0], ==, 0xff);
    g_assert_cmphex(d[1], ==, 0xff);
}

static void test_io_malformed(struct fixture *f, gconstpointer data)
{
    f->run->exit_reason = KVM_EXIT_IO;
    f->run->io.direction = KVM_EXIT_IO_OUT;
    f->run->io.port = 0x3f8;
    f->run->io.size = 4;
    f->run->io.count = 2000; /* 8000 bytes from offset 4096: past the map */
    f->run->io.data_offset = 4096;
    g_assert_cmpint(kvm_exit_dispatch(&f->cpu, f->run), ==, EXIT_FATAL);
    g_assert_nonnull(strstr(f->cpu.fatal_reason, "malformed KVM_EXIT_IO"));
    g_assert_cmpstr(f->written->str, ==, "");
    f->run->io.count = 1;
    f->run->io.size = 3;
    g_assert_cmpint(kvm_exit_dispatch(&f->cpu, f->run), ==, EXIT_FATAL);
}

static void test_mmio(struct fixture *f, gconstpointer data)
{
    f->run->exit_reason = KVM_EXIT_MMIO;
    f->run->mmio.phys_addr = 0xd0000010;
    f->run->mmio.len = 4;
    f->run->mmio.is_write = 1;
    memcpy(f->run->mmio.data, "\x78\x56\x34\x12", 4);
    g_assert_cmpint(kvm_exit_dispatch(&f->cpu, f->run), ==, EXIT_CONTINUE);
    g_assert_cmpstr(f->written->str, ==, "10:12345678/4;");
    f->run->mmio.is_write = 0;
    f->run->mmio.phys_addr = 0xe0000000; /* unmapped */
    g_assert_cmpint(kvm_exit_dispatch(&f->cpu, f->run), ==, EXIT_CONTINUE);
    g_assert_cmphex(f->run->mmio.data[0], ==, 0xff);
    f->run->mmio.len = 9;
    g_assert_cmpint(kvm_exit_dispatch(&f->cpu, f->run), ==, EXIT_FATAL);
}

static void test_events(struct fixture *f, gconstpointer data)
{
    f->run->exit_reason = KVM_EXIT_SHUTDOWN;
    g_assert_cmpint(kvm_exit_dispatch(&f->cpu, f->run), ==, EXIT_RESET);
    f->run->exit_reason = KVM_EXIT_SYSTEM_EVENT;
    f->run->system_event.type = KVM_SYSTEM_EVENT_SHUTDOWN;
    g_assert_cmpint(kvm_exit_dispatch(&f->cpu, f->run), ==, EXIT_SHUTDOWN);
    f->run->system_event.type = KVM_SYSTEM_EVENT_RESET;
    g_assert_cmpint(kvm_exit_dispatch(&f->cpu, f->run), ==, EXIT_RESET);
    f->run->system_event.type = 77;
    g_assert_cmpint(kvm_exit_dispatch(&f->cpu, f->run), ==, EXIT_FATAL);
    f->run->exit_reason = KVM_EXIT_HLT;
    g_assert_cmpint(kvm_exit_dispatch(&f->cpu, f->run), ==, EXIT_PAUSE);
    f->run->exit_reason = KVM_EXIT_INTR;
    g_assert_cmpint(kvm_exit_dispatch(&f->cpu, f->run), ==, EXIT_CONTINUE);
}

static void test_errors(struct fixture *f, gconstpointer data)
{
    f->run->exit_reason = KVM_EXIT_INTERNAL_ERROR;
    f->run->internal.suberror = KVM_INTERNAL_ERROR_EMULATION;
    f->run->internal.ndata = 200; /* bogus count is clamped */
    g_assert_cmpint(kvm_exit_dispatch(&f->cpu, f->run), ==, EXIT_FATAL);
    g_assert_nonnull(
        strstr(f->cpu.fatal_reason, "KVM internal error. Suberror: 1"));
    f->run->exit_reason = KVM_EXIT_FAIL_ENTRY;
    f->run->fail_entry.hardware_entry_failure_reason = 0x80000021;
    g_assert_cmpint(kvm_exit_dispatch(&f->cpu, f->run), ==, EXIT_FATAL);
    g_assert_nonnull(strstr(f->cpu.fatal_reason, "0x80000021"));
    f->run->exit_reason = 12345;
    g_assert_cmpint(kvm_exit_dispatch(&f->cpu, f->run), ==, EXIT_FATAL);
    g_assert_nonnull(strstr(f->cpu.fatal_reason, "unhandled KVM exit"));
    f->run->exit_reason = KVM_EXIT_HYPERCALL;
    g_assert_cmpint(kvm_exit_dispatch(&f->cpu, f->run), ==, EXIT_FATAL);
    g_assert_nonnull(strstr(f->cpu.fatal_reason, "HYPERCALL"));
}

/* The board's KVM_EXIT_MEMORY_FAULT handler (SEV-SNP page conversion). */
static unsigned faults_seen;
static bool fault_ok(void *opaque, const struct kvm_run *run, Error **errp)
{
    faults_seen++;
    g_assert_cmpuint(run->exit_reason, ==, 39);
    return true;
}

static bool fault_refused(void *opaque, const struct kvm_run *run, Error **errp)
{
    error_setg(errp, "not a page-aligned range");
    return false;
}

static void test_memory_fault(struct fixture *f, gconstpointer data)
{
    f->run->exit_reason = 39; /* KVM_EXIT_MEMORY_FAULT (Linux 6.8) */
    /* a VM without private memory: never ignored */
    g_assert_cmpint(kvm_exit_dispatch(&f->cpu, f->run), ==, EXIT_FATAL);
    g_assert_nonnull(strstr(f->cpu.fatal_reason, "without private memory"));
    f->env.memory_fault = fault_ok;
    faults_seen = 0;
    g_assert_cmpint(kvm_exit_dispatch(&f->cpu, f->run), ==, EXIT_CONTINUE);
    g_assert_cmpuint(faults_seen, ==, 1);
    f->env.memory_fault = fault_refused;
    g_assert_cmpint(kvm_exit_dispatch(&f->cpu, f->run), ==, EXIT_FATAL);
    g_assert_nonnull(strstr(f->cpu.fatal_reason,
                            "KVM_EXIT_MEMORY_FAULT: not a page-aligned"));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
#define T(name, fn)                                                            \
    g_test_add("/exit/" name, struct fixture, NULL, setup, fn, teardown)
    T("io-out-string", test_io_out_string);
    T("io-in", test_io_in);
    T("io-malformed", test_io_malformed);
    T("mmio", test_mmio);
    T("events", test_events);
    T("errors", test_errors);
    T("memory-fault", test_memory_fault);
    return g_test_run();
}
