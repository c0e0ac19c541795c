/* SPDX-License-Identifier: MIT */
/*
 * test-savevm.c: the migration stream (migration/savevm.c, stream.c) on a
 * machine built from real device models (16550A, i8042, CMOS RTC, the
 * userspace IOAPIC), guest RAM in a memfd, and one vCPU, the KVM clock and
 * the in-kernel irqchip on the fake KVM backend.  A save through a pipe
 * restores every state byte for byte; a file snapshot after a foreign
 * header maps its RAM copy-on-write; and every refusal of issue 10 (wrong
 * magic, newer major, other machine or configuration, unknown or missing
 * section, bad CRC, truncation, a value post_load refuses) names the
 * section and reason and leaves the destination exactly as it was.
 */
#include "util/common.h"
#include "hw/intc/ioapic.h"
#include "migration/savevm.h"
#include "migration/vmstate.h"
#include "tests/unit/savevm-probe.h"
#include "system/guest-mem.h"
#include "target-i386/cpu.h"
#include "target-i386/machine.h"
#include "tests/unit/dev-harness.h"
#include "tests/unit/fake-kvm.h"
#include "util/crc32c.h"

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

extern const struct device_class serial_isa_class;
extern const struct device_class i8042_class;
extern const struct device_class mc146818_rtc_class;

#define RAM_SIZE (2u << 20)

struct vm {
    struct machine *m;
    struct device *serial, *kbd, *rtc;
    struct ioapic_state ioapic;
    struct guest_mem *gm;
    struct fake_kvm f;
    struct x86_cpu_model *model;
    struct x86_cpu *cpu;
    struct probe probe;
    struct savevm *sv;
};

static bool io_send(void *opaque, uint64_t addr, uint32_t data)
{
    return true;
}

static void io_routes(void *opaque, const unsigned *pins,
                      const struct ioapic_msg *msgs, unsigned n)
{
}

static const struct ioapic_ops io_ops = {io_send, io_routes};

enum vm_variant {
    VM_SAME = 0,
    VM_OTHER_TYPE,
    VM_OTHER_RAM,
    VM_EXTRA_SECTION,
    VM_NO_I8042,
    VM_OTHER_VERSION,
};

static const struct vmstate_desc probe_v2_vmsd = {
    .name = "probe",
    .version = 2,
    .fields = probe_fields,
};

static struct vm *vm_new(enum vm_variant var)
{
    struct vm *v = g_new0(struct vm, 1);
    Error *err = NULL;

    v->m = th_machine_new();
    v->serial = th_device_new(v->m, &serial_isa_class, NULL, &err);
    g_assert_null(err);
    v->kbd = th_device_new(v->m, &i8042_class, NULL, &err);
    g_assert_null(err);
    v->rtc = th_device_new(v->m, &mc146818_rtc_class, NULL, &err);
    g_assert_null(err);
    ioapic_core_init(&v->ioapic, &io_ops, v, NULL, 0);
    v->gm = gm_new(RAM_SIZE, &err);
    g_assert_null(err);

    fake_kvm_init(&v->f);
    v->f.accel.vm_fd = FAKE_VM_FD;
    v->model = x86_cpu_model_new(&v->f.accel, "qemu64", 1, 1, 1, 1, &err);
    g_assert_null(err);
    v->cpu = x86_cpu_new(&v->f.accel, FAKE_VCPU_FD, 0, v->model, &err);
    g_assert_null(err);
    x86_cpu_reset(v->cpu, true);
    g_assert_true(x86_cpu_put(v->cpu, X86_PUT_RESET, &err));
    x86_cpu_invalidate(v->cpu);

    v->sv = savevm_new(var == VM_OTHER_TYPE ? "q35" : "microvm");
    savevm_fingerprint_add(v->sv, "ram", "%u",
                           var == VM_OTHER_RAM ? RAM_SIZE * 2 : RAM_SIZE);
    savevm_fingerprint_add(v->sv, "cpu", "qemu64");
    savevm_fingerprint_add(v->sv, "devices", "isa-serial,i8042,mc146818rtc");
    savevm_register_vmsd(v->sv, "isa-serial", 0, serial_isa_class.vmsd,
                         v->serial, &v->serial->lock);
    if (var != VM_NO_I8042) {
        savevm_register_vmsd(v->sv, "i8042", 0, i8042_class.vmsd, v->kbd,
                             &v->kbd->lock);
    }
    savevm_register_vmsd(v->sv, "mc146818rtc", 0, mc146818_rtc_class.vmsd,
                         v->rtc, &v->rtc->lock);
    savevm_register_vmsd(v->sv, "ioapic", 0, &ioapic_core_vmsd, &v->ioapic,
                         NULL);
    savevm_register_ops(v->sv, "cpu", 0, &x86_cpu_savevm_ops, v->cpu);
    savevm_register_ops(v->sv, "kvmclock", 0, &x86_kvmclock_savevm_ops,
                        &v->f.accel);
    savevm_register_ops(v->sv, "kvm-irqchip", 0, &x86_kvm_irqchip_savevm_ops,
                        &v->f.accel);
    savevm_register_vmsd(v->sv, "probe", 0,
                         var == VM_OTHER_VERSION ? &probe_v2_vmsd : &probe_vmsd,
                         &v->probe, NULL);
    if (var == VM_EXTRA_SECTION) {
        savevm_register_vmsd(v->sv, "mystery", 3, &probe_vmsd, &v->probe, NULL);
    }
    savevm_register_ram(v->sv, v->gm);
    return v;
}

static void vm_free(struct vm *v)
{
    savevm_free(v->sv);
    x86_cpu_free(v->cpu);
    x86_cpu_model_free(v->model);
    fake_kvm_destroy(&v->f);
    gm_free(v->gm);
    th_device_free(v->serial);
    th_device_free(v->kbd);
    th_device_free(v->rtc);
    th_machine_free(v->m);
    g_free(v);
}

/* Guest-visible changes to every part of the machine. */
static void vm_scribble(struct vm *v)
{
    th_out(v->m, 0x3fb, 0x1b, 1); /* LCR */
    th_out(v->m, 0x3ff, 0x5a, 1); /* scratch */
    th_out(v->m, 0x3f9, 0x05, 1); /* IER */
    th_out(v->m, 0x64, 0x60, 1);  /* i8042: write command byte */
    th_out(v->m, 0x60, 0x45, 1);
    th_out(v->m, 0x70, 0x40, 1); /* CMOS NVRAM byte 0x40 */
    th_out(v->m, 0x71, 0x77, 1);
    ioapic_core_write(&v->ioapic, 0, 0x12, 4); /* RTE 1 low */
    ioapic_core_write(&v->ioapic, 0x10, 0x00010039, 4);
    for (unsigned i = 0; i < RAM_SIZE; i += 4096 * 3) {
        memset(v->gm->ram + i, (i / 4096) | 1, 100);
    }
    v->probe.v = 0x1234;
    v->f.regs.rax = 0x1122334455667788ULL;
    v->f.regs.rip = 0xfff0 + 0x123;
    v->f.mp.mp_state = KVM_MP_STATE_HALTED;
    v->f.events.nmi.pending = 1;
    for (unsigned i = 0; i < sizeof(v->f.lapic.regs); i++) {
        v->f.lapic.regs[i] = (char)(i * 3);
    }
    v->f.clock.clock = 987654321;
    memset(v->f.chips[0].chip.dummy, 0x21, 512);
    memset(v->f.chips[2].chip.dummy, 0x43, 512);
    memset(&v->f.pit, 0x65, sizeof(v->f.pit.channels));
    x86_cpu_invalidate(v->cpu);
}

/* Every state byte of the machine, for comparisons. */
static GByteArray *vm_state(struct vm *v)
{
    GByteArray *b = g_byte_array_new();
    struct x86_cpu_state *st = g_new0(struct x86_cpu_state, 1);
    struct device *devs[] = {v->serial, v->kbd, v->rtc};
    uint32_t crc = crc32c(0, v->gm->ram, RAM_SIZE);

    for (size_t i = 0; i < ARRAY_SIZE(devs); i++) {
        g_assert_true(vmstate_save(devs[i]->cls->vmsd, devs[i], b, NULL));
    }
    g_assert_true(vmstate_save(&ioapic_core_vmsd, &v->ioapic, b, NULL));
    g_assert_true(vmstate_save(&probe_vmsd, &v->probe, b, NULL));
    x86_cpu_invalidate(v->cpu);
    /* dirty groups (a loaded state) are the truth; else KVM's */
    g_assert_true(x86_cpu_save_state(v->cpu, st, NULL));
    st->events.flags = 0;
    g_assert_true(vmstate_save(&x86_cpu_vmsd, st, b, NULL));
    g_byte_array_append(b, (const uint8_t *)&v->f.clock.clock, 8);
    for (int i = 0; i < 3; i++) {
        g_byte_array_append(b, (const uint8_t *)v->f.chips[i].chip.dummy, 512);
    }
    g_byte_array_append(b, (const uint8_t *)&v->f.pit, sizeof(v->f.pit));
    g_byte_array_append(b, (const uint8_t *)&crc, 4);
    g_free(st);
    return b;
}

static GByteArray *save_bytes(struct vm *v, enum savevm_ram_layout layout)
{
    int fd = memfd_create("stream", MFD_CLOEXEC);
    struct mig_writer w;
    GByteArray *b = g_byte_array_new();
    Error *err = NULL;
    struct stat st;

    g_assert_cmpint(fd, >=, 0);
    mig_writer_init(&w, fd);
    g_assert_true(savevm_save(v->sv, &w, layout, &err));
    g_assert_null(err);
    g_assert_true(mig_writer_finish(&w, NULL));
    g_assert_cmpint(fstat(fd, &st), ==, 0);
    g_byte_array_set_size(b, st.st_size);
    g_assert_cmpint(pread(fd, b->data, b->len, 0), ==, (ssize_t)b->len);
    close(fd);
    return b;
}

/* Loads bytes that must be refused; the destination must not change. */
static void assert_refused(const GByteArray *bytes, size_t len,
                           const char *want)
{
    struct vm *d = vm_new(VM_SAME);
    g_autoptr(GByteArray) before = vm_state(d);
    g_autoptr(GByteArray) after = NULL;
    struct mig_reader r;
    Error *err = NULL;
    unsigned sets;

    fake_kvm_clear_log(&d->f);
    mig_reader_init_mem(&r, bytes->data, len);
    g_assert_false(savevm_load(d->sv, &r, &err));
    g_assert_nonnull(err);
    if (want && !strstr(error_get_pretty(err), want)) {
        g_test_message("error: %s", error_get_pretty(err));
        g_assert_nonnull(strstr(error_get_pretty(err), want));
    }
    error_free(err);
    /* nothing was written to the vCPU or the VM */
    sets = fake_kvm_count(&d->f, KVM_SET_REGS) +
           fake_kvm_count(&d->f, KVM_SET_CLOCK) +
           fake_kvm_count(&d->f, KVM_SET_IRQCHIP) +
           fake_kvm_count(&d->f, KVM_SET_MSRS);
    g_assert_cmpuint(sets, ==, 0);
    after = vm_state(d);
    g_assert_cmpmem(after->data, after->len, before->data, before->len);
    vm_free(d);
}

struct pipe_job {
    struct vm *v;
    int fd;
    enum savevm_ram_layout layout;
    bool ok;
};

static gpointer pipe_writer(gpointer opaque)
{
    struct pipe_job *j = opaque;
    struct mig_writer w;

    mig_writer_init(&w, j->fd);
    j->ok = savevm_save(j->v->sv, &w, j->layout, NULL);
    j->ok &= mig_writer_finish(&w, NULL);
    close(j->fd);
    return NULL;
}

static void test_pipe_round_trip(void)
{
    struct vm *s = vm_new(VM_SAME), *d = vm_new(VM_SAME);
    g_autoptr(GByteArray) want = NULL, got = NULL, fresh = NULL;
    struct pipe_job job = {.v = s, .layout = SAVEVM_RAM_STREAM};
    struct mig_reader r;
    Error *err = NULL;
    int p[2];
    GThread *t;

    vm_scribble(s);
    want = vm_state(s);
    fresh = vm_state(d);
    g_assert_false(want->len == fresh->len &&
                   !memcmp(want->data, fresh->data, want->len));
    g_assert_cmpint(pipe(p), ==, 0);
    job.fd = p[1];
    t = g_thread_new("save", pipe_writer, &job);
    mig_reader_init_fd(&r, p[0]);
    g_assert_false(r.seekable);
    g_assert_true(savevm_load(d->sv, &r, &err));
    g_assert_null(err);
    mig_reader_fini(&r);
    g_thread_join(t);
    g_assert_true(job.ok);
    close(p[0]);
    /* the vCPU state goes to KVM whole, at the next put */
    g_assert_cmpuint(x86_cpu_dirty(d->cpu), ==, 0x1ff);
    g_assert_true(x86_cpu_put(d->cpu, X86_PUT_RUNTIME, NULL));
    g_assert_cmphex(d->f.regs.rax, ==, 0x1122334455667788ULL);
    g_assert_cmpuint(d->f.clock.clock, ==, 987654321);
    got = vm_state(d);
    g_assert_cmpmem(got->data, got->len, want->data, want->len);
    /* the restored devices behave as the source's: scratch register */
    g_assert_cmphex(th_in(d->m, 0x3ff, 1), ==, 0x5a);
    vm_free(s);
    vm_free(d);
}

/* The file layout written into a pipe (`migrate "exec:cat > FILE"`): no
 * in-kernel copy there, plain writes; the reader cannot map it and reads
 * RAM in, checking the CRC. */
static void test_file_layout_pipe(void)
{
    struct vm *s = vm_new(VM_SAME), *d = vm_new(VM_SAME);
    g_autoptr(GByteArray) want = NULL, got = NULL;
    struct pipe_job job = {.v = s, .layout = SAVEVM_RAM_FILE};
    struct mig_reader r;
    Error *err = NULL;
    int p[2];
    GThread *t;

    vm_scribble(s);
    want = vm_state(s);
    g_assert_cmpint(pipe(p), ==, 0);
    job.fd = p[1];
    t = g_thread_new("save", pipe_writer, &job);
    mig_reader_init_fd(&r, p[0]);
    g_assert_true(savevm_load(d->sv, &r, &err));
    g_assert_null(err);
    mig_reader_fini(&r);
    g_thread_join(t);
    g_assert_true(job.ok);
    close(p[0]);
    got = vm_state(d);
    g_assert_cmpmem(got->data, got->len, want->data, want->len);
    vm_free(s);
    vm_free(d);
}

/* Zero pages travel as markers: a RAM of zeros costs a few bytes. */
static void test_zero_pages(void)
{
    struct vm *s = vm_new(VM_SAME);
    g_autoptr(GByteArray) empty = save_bytes(s, SAVEVM_RAM_STREAM);
    g_autoptr(GByteArray) full = NULL;

    g_assert_cmpuint(empty->len, <, 64 * 1024);
    vm_scribble(s);
    full = save_bytes(s, SAVEVM_RAM_STREAM);
    /* one in three pages has data */
    g_assert_cmpuint(full->len, >, RAM_SIZE / 3);
    g_assert_cmpuint(full->len, <, RAM_SIZE / 2);
    vm_free(s);
}

/* A snapshot written after someone else's header (libvirt's), restored
 * from the fd positioned after it: RAM is mapped copy-on-write. */
static void test_file_snapshot(void)
{
    struct vm *s = vm_new(VM_SAME);
    g_autoptr(GByteArray) want = NULL;
    g_autofree char *path = NULL;
    static const char hdr[1000] = "LibvirtQemudSave";
    Error *err = NULL;
    int fd = g_file_open_tmp("vireo-snap-XXXXXX", &path, NULL);
    struct mig_writer w;

    g_assert_cmpint(fd, >=, 0);
    vm_scribble(s);
    want = vm_state(s);
    g_assert_cmpint(write(fd, hdr, sizeof(hdr)), ==, sizeof(hdr));
    mig_writer_init(&w, fd);
    g_assert_cmpuint(mig_writer_offset(&w), ==, sizeof(hdr));
    g_assert_true(savevm_save(s->sv, &w, SAVEVM_RAM_FILE, &err));
    g_assert_true(mig_writer_finish(&w, &err));
    g_assert_null(err);

    /* restores any number of times */
    for (int round = 0; round < 2; round++) {
        struct vm *d = vm_new(VM_SAME);
        g_autoptr(GByteArray) got = NULL;
        struct mig_reader r;
        uint8_t byte;

        g_assert_cmpint(lseek(fd, sizeof(hdr), SEEK_SET), ==, sizeof(hdr));
        mig_reader_init_fd(&r, fd);
        g_assert_true(savevm_load(d->sv, &r, &err));
        g_assert_null(err);
        mig_reader_fini(&r);
        got = vm_state(d);
        g_assert_cmpmem(got->data, got->len, want->data, want->len);
        /* copy-on-write: the guest's writes stay out of the file */
        d->gm->ram[0] = 0xee;
        g_assert_cmpint(pread(fd, &byte, 1, 8192), ==, 1);
        g_assert_cmpuint(byte, !=, 0xee);
        /* and the restored machine saves its own RAM, not a stale copy */
        {
            g_autoptr(GByteArray) again = save_bytes(d, SAVEVM_RAM_FILE);
            struct vm *e = vm_new(VM_SAME);
            struct mig_reader r2;

            mig_reader_init_mem(&r2, again->data, again->len);
            g_assert_true(savevm_load(e->sv, &r2, &err));
            g_assert_null(err);
            g_assert_cmpmem(e->gm->ram, RAM_SIZE, d->gm->ram, RAM_SIZE);
            g_assert_cmpuint(e->gm->ram[0], ==, 0xee);
            vm_free(e);
        }
        vm_free(d);
    }
    /* The same file through a pipe: read in, CRC checked. */
    {
        struct vm *d = vm_new(VM_SAME);
        g_autoptr(GByteArray) got = NULL;
        g_autofree char *all = NULL;
        gsize len;
        struct mig_reader r;

        g_assert_true(g_file_get_contents(path, &all, &len, NULL));
        mig_reader_init_mem(&r, all + sizeof(hdr), len - sizeof(hdr));
        g_assert_true(savevm_load(d->sv, &r, &err));
        g_assert_null(err);
        got = vm_state(d);
        g_assert_cmpmem(got->data, got->len, want->data, want->len);
        vm_free(d);
        /* and a flipped RAM byte is caught there: in the last page and
         * in the first (RAM is checksummed a chunk at a time) */
        for (int at = 0; at < 2; at++) {
            size_t ram_end = len - 4 - 9, ram_at = ram_end - RAM_SIZE;
            size_t flip = at ? ram_at + 10 : ram_end - 4096;

            g_assert_cmpuint(ram_at % 4096, ==, 0);
            all[flip] ^= 1;
            d = vm_new(VM_SAME);
            mig_reader_init_mem(&r, all + sizeof(hdr), len - sizeof(hdr));
            g_assert_false(savevm_load(d->sv, &r, &err));
            g_assert_nonnull(strstr(error_get_pretty(err), "'ram-file'"));
            g_assert_nonnull(strstr(error_get_pretty(err), "bad CRC"));
            error_free(err);
            err = NULL;
            vm_free(d);
            all[flip] ^= 1;
        }
    }
    close(fd);
    unlink(path);
    vm_free(s);
}

struct drain_job {
    int fd;
    uint8_t *buf;
    size_t want, got;
};

/* Reads at most 1000 bytes at a time: the writer sees short writes. */
static gpointer drain_small(gpointer opaque)
{
    struct drain_job *j = opaque;

    while (j->got < j->want) {
        ssize_t k = read(j->fd, j->buf + j->got, MIN(1000, j->want - j->got));

        if (k <= 0) {
            break;
        }
        j->got += k;
    }
    return NULL;
}

/* mig_write_crc, which writes the RAM of the file layout: a chunk at a
 * time, so sizes that are not a multiple of the chunk, a CRC continued
 * from a header, after bytes still in the writer's buffer, into a file
 * and into a pipe (short writes). */
static void test_write_crc(void)
{
    static const size_t sizes[] = {
        0, 1, 4095, 1u << 20, (1u << 20) + 1, (5u << 19) + 123};
    const size_t max = (5u << 19) + 123;
    g_autofree uint8_t *src = g_malloc(max), *back = g_malloc(max + 3);
    uint64_t x = 0x9e3779b97f4a7c15ULL;

    for (size_t i = 0; i < max; i++) { /* xorshift64 */
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        src[i] = x >> 32;
    }
    for (size_t k = 0; k < G_N_ELEMENTS(sizes); k++) {
        size_t n = sizes[k];
        g_autofree char *path = NULL;
        int fd = g_file_open_tmp("vireo-wcrc-XXXXXX", &path, NULL);
        uint32_t crc = crc32c(0, "hdr", 3);
        struct mig_writer w;
        Error *err = NULL;

        g_assert_cmpint(fd, >=, 0);
        mig_writer_init(&w, fd);
        g_assert_true(mig_write(&w, "hdr", 3, &err));
        g_assert_true(mig_write_crc(&w, src, n, &crc, &err));
        g_assert_true(mig_writer_finish(&w, &err));
        g_assert_null(err);
        g_assert_cmpuint(mig_writer_offset(&w), ==, n + 3);
        /* the bytes are the input and the CRC is the one-shot one over
         * header and data */
        g_assert_cmpint(pread(fd, back, n + 3, 0), ==, (ssize_t)(n + 3));
        g_assert_cmpmem(back, 3, "hdr", 3);
        g_assert_cmpmem(back + 3, n, src, n);
        g_assert_cmphex(crc, ==, crc32c_sw(0, back, n + 3));
        close(fd);
        unlink(path);
    }
    /* a pipe that a thread drains in small reads */
    {
        struct drain_job j = {.want = max};
        uint32_t crc = 0;
        struct mig_writer w;
        Error *err = NULL;
        int p[2];
        GThread *t;

        g_assert_cmpint(pipe(p), ==, 0);
        j.fd = p[0];
        j.buf = back;
        t = g_thread_new("drain", drain_small, &j);
        mig_writer_init(&w, p[1]);
        g_assert_true(mig_write_crc(&w, src, max, &crc, &err));
        g_assert_true(mig_writer_finish(&w, &err));
        g_assert_null(err);
        close(p[1]);
        g_thread_join(t);
        close(p[0]);
        g_assert_cmpuint(j.got, ==, max);
        g_assert_cmpmem(back, max, src, max);
        g_assert_cmphex(crc, ==, crc32c_sw(0, src, max));
    }
}

static GByteArray *stream_of(enum vm_variant var)
{
    struct vm *s = vm_new(var);
    GByteArray *b;

    vm_scribble(s);
    b = save_bytes(s, SAVEVM_RAM_STREAM);
    vm_free(s);
    return b;
}

static size_t find(const GByteArray *b, const char *needle)
{
    size_t n = strlen(needle);

    for (size_t i = 0; i + n <= b->len; i++) {
        if (!memcmp(b->data + i, needle, n)) {
            return i;
        }
    }
    g_assert_not_reached();
}

static void test_refuse_magic(void)
{
    g_autoptr(GByteArray) b = stream_of(VM_SAME);

    b->data[0] = 'Q';
    assert_refused(b, b->len, "wrong magic");
}

static void test_refuse_major(void)
{
    g_autoptr(GByteArray) b = stream_of(VM_SAME);

    g_autofree char *want = NULL;

    b->data[8] = SAVEVM_MAJOR + 1;
    want = g_strdup_printf("stream format %d.%d is newer", SAVEVM_MAJOR + 1,
                           SAVEVM_MINOR);
    assert_refused(b, b->len, want);
}

static void test_refuse_machine(void)
{
    g_autoptr(GByteArray) b = stream_of(VM_OTHER_TYPE);

    assert_refused(b, b->len, "machine type 'q35', this is 'microvm'");
}

static void test_refuse_config(void)
{
    g_autoptr(GByteArray) b = stream_of(VM_OTHER_RAM);
    g_autofree char *want = g_strdup_printf(
        "stream has 'ram=%u', this machine 'ram=%u'", RAM_SIZE * 2, RAM_SIZE);

    assert_refused(b, b->len, want);
}

static void test_refuse_unknown(void)
{
    g_autoptr(GByteArray) b = stream_of(VM_EXTRA_SECTION);

    assert_refused(b, b->len, "section 'mystery' instance 3: unknown section");
}

static void test_refuse_missing(void)
{
    g_autoptr(GByteArray) b = stream_of(VM_NO_I8042);

    assert_refused(b, b->len, "section 'i8042' instance 0: missing");
}

static void test_refuse_version(void)
{
    g_autoptr(GByteArray) b = stream_of(VM_OTHER_VERSION);

    assert_refused(b, b->len,
                   "section 'probe' instance 0: layout version 2, this "
                   "vireo has 1");
}

static void test_refuse_crc(void)
{
    g_autoptr(GByteArray) b = stream_of(VM_SAME);
    /* the section's name length byte, name, instance, version, length */
    size_t at = find(b, "\x0b"
                        "mc146818rtc") +
                1 + 11 + 16 + 5;

    b->data[at] ^= 0x40;
    assert_refused(b, b->len, "section 'mc146818rtc' instance 0: bad CRC");
}

static void test_refuse_truncated(void)
{
    g_autoptr(GByteArray) b = stream_of(VM_SAME);
    size_t cpu = find(b, "\x03"
                         "cpu");

    /* inside the header, a section, the CPU state, the end marker */
    assert_refused(b, 5, "truncated stream: header magic");
    assert_refused(b, cpu + 100, "section 'cpu' instance 0: truncated");
    assert_refused(b, b->len - 3, "truncated stream: end marker");
    for (size_t cut = 0; cut < b->len; cut += b->len / 23 + 1) {
        assert_refused(b, cut, "truncated stream");
    }
}

/* The probe section comes after the devices: they are committed when its
 * post_load refuses, and must be rolled back. */
static void test_refuse_post_load(void)
{
    struct vm *s = vm_new(VM_SAME);
    g_autoptr(GByteArray) b = NULL;

    vm_scribble(s);
    s->probe.v = 0xdeadbeef;
    b = save_bytes(s, SAVEVM_RAM_STREAM);
    vm_free(s);
    assert_refused(b, b->len,
                   "section 'probe' instance 0: vmstate 'probe': value "
                   "0xdeadbeef refused");
}

/* A CPU state the destination's KVM cannot take (SMM without SMM). */
static void test_refuse_cpu(void)
{
    struct vm *s = vm_new(VM_SAME);
    g_autoptr(GByteArray) b = NULL;

    vm_scribble(s);
    s->f.accel.has_smm = true;
    s->f.events.smi.smm = 1;
    b = save_bytes(s, SAVEVM_RAM_STREAM);
    vm_free(s);
    assert_refused(b, b->len,
                   "section 'cpu' instance 0: vCPU 0: the state is in SMM");
}

static void test_crc32c(void)
{
    static const uint8_t zeros[32],
        ones[32] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    uint8_t inc[32], buf[1000];

    for (int i = 0; i < 32; i++) {
        inc[i] = i;
    }
    /* RFC 3720 B.4 test vectors, and "123456789" (0xe3069283) */
    g_assert_cmphex(crc32c(0, zeros, 32), ==, 0x8a9136aa);
    g_assert_cmphex(crc32c(0, ones, 32), ==, 0x62a8ab43);
    g_assert_cmphex(crc32c(0, inc, 32), ==, 0x46dd794e);
    g_assert_cmphex(crc32c(0, "123456789", 9), ==, 0xe3069283);
    for (size_t i = 0; i < sizeof(buf); i++) {
        buf[i] = i * 31 + 7;
    }
    for (size_t off = 0; off < 9; off++) {
        for (size_t n = 0; n + off < sizeof(buf); n += 37) {
            uint32_t a = crc32c(0, buf + off, n);

            g_assert_cmphex(a, ==, crc32c_sw(0, buf + off, n));
            /* continuation */
            g_assert_cmphex(crc32c(crc32c(0, buf + off, n / 2),
                                   buf + off + n / 2, n - n / 2),
                            ==, a);
        }
    }
    /* lengths that take the three-stream path of the SSE4.2 version and
     * the AVX-512 folding (from 512 bytes; 256 a step, then the rest
     * through crc32q) where this CPU has them */
    {
        size_t big = 64 * 1024 + 123;
        g_autofree uint8_t *b = g_malloc(big);

        for (size_t i = 0; i < big; i++) {
            b[i] = (uint8_t)(i * 2654435761u >> 13);
        }
        for (size_t n = 12 * 1024 - 17; n + 9 < big; n += 7777) {
            for (size_t off = 0; off < 9; off += 3) {
                uint32_t want = crc32c_sw(0x1234, b + off, n);

                g_assert_cmphex(crc32c(0x1234, b + off, n), ==, want);
                g_assert_cmphex(crc32c_nofold(0x1234, b + off, n), ==, want);
                /* continued at a point that is no multiple of 256 */
                g_assert_cmphex(crc32c(crc32c(0x1234, b + off, n / 3 + 5),
                                       b + off + n / 3 + 5, n - n / 3 - 5),
                                ==, want);
            }
        }
        for (size_t n = 500; n < 1400; n += 3) {
            for (size_t off = 0; off < 9; off += 4) {
                g_assert_cmphex(crc32c(~0u, b + off, n), ==,
                                crc32c_sw(~0u, b + off, n));
            }
        }
    }
}

/* The two steps of an incoming migration: savevm_load_read stages the
 * whole stream and changes nothing (a discarded load leaves the machine
 * as it was, and sv can load again); savevm_load_apply applies it.  The
 * page counts are the source's. */
static void test_load_steps(void)
{
    struct vm *s = vm_new(VM_SAME), *d = vm_new(VM_SAME);
    g_autoptr(GByteArray) want = NULL, fresh = NULL, stream = NULL;
    g_autoptr(GByteArray) got = NULL;
    struct savevm_stats src, st;
    struct savevm_load *ld;
    struct mig_reader r;
    Error *err = NULL;

    vm_scribble(s);
    want = vm_state(s);
    stream = save_bytes(s, SAVEVM_RAM_STREAM);
    src = *savevm_get_stats(s->sv);
    fresh = vm_state(d);
    mig_reader_init_mem(&r, stream->data, stream->len);
    ld = savevm_load_read(d->sv, &r, &err);
    g_assert_nonnull(ld);
    g_assert_null(err);
    got = vm_state(d);
    g_assert_cmpmem(got->data, got->len, fresh->data, fresh->len);
    g_clear_pointer(&got, g_byte_array_unref);
    savevm_load_stats(d->sv, &st);
    g_assert_cmpuint(st.bytes, ==, stream->len);
    g_assert_cmpuint(st.data_pages, ==, src.data_pages);
    g_assert_cmpuint(st.zero_pages, ==, src.zero_pages);
    savevm_load_discard(ld);
    got = vm_state(d);
    g_assert_cmpmem(got->data, got->len, fresh->data, fresh->len);
    g_clear_pointer(&got, g_byte_array_unref);
    mig_reader_init_mem(&r, stream->data, stream->len);
    ld = savevm_load_read(d->sv, &r, &err);
    g_assert_nonnull(ld);
    g_assert_true(savevm_load_apply(ld, &err));
    g_assert_null(err);
    got = vm_state(d);
    g_assert_cmpmem(got->data, got->len, want->data, want->len);
    /* a refused stream stages nothing and says why */
    mig_reader_init_mem(&r, stream->data, stream->len - 1);
    g_assert_null(savevm_load_read(d->sv, &r, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "truncated stream"));
    error_free(err);
    vm_free(s);
    vm_free(d);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/savevm/crc32c", test_crc32c);
    g_test_add_func("/savevm/pipe-round-trip", test_pipe_round_trip);
    g_test_add_func("/savevm/zero-pages", test_zero_pages);
    g_test_add_func("/savevm/file-layout-pipe", test_file_layout_pipe);
    g_test_add_func("/savevm/file-snapshot", test_file_snapshot);
    g_test_add_func("/savevm/load-steps", test_load_steps);
    g_test_add_func("/savevm/write-crc", test_write_crc);
    g_test_add_func("/savevm/refuse/magic", test_refuse_magic);
    g_test_add_func("/savevm/refuse/major", test_refuse_major);
    g_test_add_func("/savevm/refuse/machine", test_refuse_machine);
    g_test_add_func("/savevm/refuse/config", test_refuse_config);
    g_test_add_func("/savevm/refuse/unknown", test_refuse_unknown);
    g_test_add_func("/savevm/refuse/missing", test_refuse_missing);
    g_test_add_func("/savevm/refuse/version", test_refuse_version);
    g_test_add_func("/savevm/refuse/crc", test_refuse_crc);
    g_test_add_func("/savevm/refuse/truncated", test_refuse_truncated);
    g_test_add_func("/savevm/refuse/post-load", test_refuse_post_load);
    g_test_add_func("/savevm/refuse/cpu", test_refuse_cpu);
    return g_test_run();
}
