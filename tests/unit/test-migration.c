/* SPDX-License-Identifier: MIT */
/*
 * test-migration.c: a whole machine saved and restored (migration/
 * migration.c): devices from the device table (16550A, i8042, CMOS RTC),
 * guest RAM, one vCPU on the fake KVM backend with its thread not started
 * (as with -S).  Covers the machine's registry, save to a file and restore
 * (twice), unix: and fd: streams, the pending reset settled before a save
 * and before `info registers` (-S shows the state the vCPU starts from),
 * a refused stream leaving the destination machine as it was, and the
 * incoming load on its thread (QMP answers while a pipe is fed, a cut
 * stream fails with nothing applied, quit stops the reader).
 */
#include "util/common.h"
#include "accel/kvm/vcpu.h"
#include "migration/dirtyrate.h"
#include "migration/migration.h"
#include "migration/vmstate.h"
#include "qapi/monitor.h"
#include "qapi/qapi-gen-types.h"
#include "system/guest-mem.h"
#include "target-i386/cpu.h"
#include "tests/unit/dev-harness.h"
#include "tests/unit/fake-kvm.h"
#include "util/bytes.h"
#include "util/crc32c.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

extern const struct device_class serial_isa_class;
extern const struct device_class i8042_class;
extern const struct device_class mc146818_rtc_class;
extern const struct device_class port80_class;

#define RAM (4u << 20)

struct tmach {
    struct machine *m;
    struct machine_config cfg;
    struct machine_type type;
    struct fake_kvm f;
    struct kvm_run run;
    struct vcpu_env env;
};

static struct tmach *tm_new(void)
{
    struct tmach *t = g_new0(struct tmach, 1);
    const struct device_class *cls[] = {&serial_isa_class, &i8042_class,
                                        &mc146818_rtc_class, &port80_class};
    struct x86_cpu_model *model;
    struct vcpu *cpu;
    Error *err = NULL;

    machine_config_init(&t->cfg);
    t->cfg.smp_cpus = 1;
    t->type.name = "microvm";
    t->m = th_machine_new();
    t->m->cfg = &t->cfg;
    t->m->type = &t->type;
    t->m->state = RUN_STATE_PRELAUNCH;
    t->m->devices = g_ptr_array_new();
    t->m->listeners = g_ptr_array_new();
    for (size_t i = 0; i < ARRAY_SIZE(cls); i++) {
        struct device *d = th_device_new(t->m, cls[i], NULL, &err);

        g_assert_null(err);
        g_ptr_array_add(t->m->devices, d);
    }
    t->m->gm = gm_new(RAM, &err);
    g_assert_null(err);
    fake_kvm_init(&t->f);
    t->f.accel.vm_fd = FAKE_VM_FD;
    t->m->kvm = &t->f.accel;
    model = x86_cpu_model_new(&t->f.accel, "qemu64", 1, 1, 1, 1, &err);
    g_assert_null(err);
    t->m->cpu_model = model;
    cpu = g_new0(struct vcpu, 1);
    t->env.kvm = &t->f.accel;
    t->env.log = &t->m->log;
    t->env.opaque = t->m;
    cpu->env = &t->env;
    cpu->fd = FAKE_VCPU_FD;
    cpu->run = &t->run;
    g_mutex_init(&cpu->lock);
    g_cond_init(&cpu->cond);
    cpu->want_pause = true;
    cpu->pending_reset = true; /* as vcpu_new leaves it */
    cpu->arch = x86_cpu_new(&t->f.accel, FAKE_VCPU_FD, 0, model, &err);
    g_assert_null(err);
    t->m->vcpus = g_new0(struct vcpu *, 1);
    t->m->vcpus[0] = cpu;
    t->m->nr_vcpus = 1;
    return t;
}

static void tm_free(struct tmach *t)
{
    struct vcpu *cpu = t->m->vcpus[0];

    x86_cpu_free(cpu->arch);
    g_mutex_clear(&cpu->lock);
    g_cond_clear(&cpu->cond);
    g_free(cpu);
    g_free(t->m->vcpus);
    x86_cpu_model_free(t->m->cpu_model);
    for (guint i = 0; i < t->m->devices->len; i++) {
        th_device_free(g_ptr_array_index(t->m->devices, i));
    }
    g_ptr_array_free(t->m->devices, TRUE);
    g_ptr_array_free(t->m->listeners, TRUE);
    migration_state_free(t->m);
    g_clear_pointer(&t->m->dirtyrate, dirtyrate_free);
    gm_free(t->m->gm);
    fake_kvm_destroy(&t->f);
    th_machine_free(t->m);
    machine_config_clear(&t->cfg);
    g_free(t);
}

static void tm_scribble(struct tmach *t)
{
    struct x86_cpu *c = t->m->vcpus[0]->arch;

    th_out(t->m, 0x3fb, 0x03, 1);
    th_out(t->m, 0x3ff, 0xc3, 1);
    th_out(t->m, 0x70, 0x41, 1);
    th_out(t->m, 0x71, 0x99, 1);
    th_out(t->m, 0x64, 0x60, 1);
    th_out(t->m, 0x60, 0x47, 1);
    for (unsigned i = 0; i < RAM; i += 4096 * 5) {
        memset(t->m->gm->ram + i, 0x5a ^ (i >> 12), 64);
    }
    /* the vCPU "ran": its reset was applied, KVM holds other values */
    vcpu_settle_reset(t->m->vcpus[0]);
    g_assert_true(x86_cpu_put(c, X86_PUT_RUNTIME, NULL));
    t->f.regs.rax = 0xabcdef0123456789ULL;
    t->f.regs.rip = 0x8000;
    t->f.mp.mp_state = KVM_MP_STATE_HALTED;
    t->f.clock.clock = 5555555;
    x86_cpu_invalidate(c);
}

static GByteArray *tm_state(struct tmach *t)
{
    GByteArray *b = g_byte_array_new();
    struct x86_cpu_state *st = g_new0(struct x86_cpu_state, 1);
    uint32_t crc = crc32c(0, t->m->gm->ram, RAM);

    for (guint i = 0; i < t->m->devices->len; i++) {
        struct device *d = g_ptr_array_index(t->m->devices, i);

        if (d->cls->vmsd) {
            g_assert_true(vmstate_save(d->cls->vmsd, d, b, NULL));
        }
    }
    g_assert_true(x86_cpu_save_state(t->m->vcpus[0]->arch, st, NULL));
    st->events.flags = 0;
    g_assert_true(vmstate_save(&x86_cpu_vmsd, st, b, NULL));
    g_byte_array_append(b, (const uint8_t *)&t->f.clock.clock, 8);
    g_byte_array_append(b, (const uint8_t *)&crc, 4);
    g_free(st);
    return b;
}

static void test_file_save_restore(void)
{
    struct tmach *s = tm_new();
    g_autoptr(GByteArray) want = NULL;
    g_autofree char *path = NULL;
    g_autofree char *uri = NULL;
    enum savevm_ram_layout layout;
    Error *err = NULL;
    GPid child;
    bool listening;
    int fd;

    fd = g_file_open_tmp("vireo-mig-XXXXXX", &path, NULL);
    g_assert_cmpint(fd, >=, 0);
    close(fd);
    uri = g_strdup_printf("file:%s", path);
    tm_scribble(s);
    want = tm_state(s);
    fd =
        migration_open_uri(s->m, uri, false, &layout, &child, &listening, &err);
    g_assert_null(err);
    g_assert_cmpint(layout, ==, SAVEVM_RAM_FILE);
    g_assert_true(migration_save_fd(s->m, fd, layout, NULL, &err));
    g_assert_null(err);
    close(fd);
    for (int round = 0; round < 2; round++) {
        struct tmach *d = tm_new();
        g_autoptr(GByteArray) got = NULL;

        fd = migration_open_uri(d->m, uri, true, &layout, &child, &listening,
                                &err);
        g_assert_null(err);
        g_assert_true(migration_load_fd(d->m, fd, NULL, &err));
        g_assert_null(err);
        close(fd);
        /* the reset the destination vCPU had pending is gone: the loaded
         * state is what it runs, written whole by its next put */
        g_assert_false(d->m->vcpus[0]->pending_reset);
        g_assert_true(x86_cpu_put(d->m->vcpus[0]->arch, X86_PUT_RUNTIME, NULL));
        g_assert_cmphex(d->f.regs.rax, ==, 0xabcdef0123456789ULL);
        g_assert_cmphex(d->f.regs.rip, ==, 0x8000);
        g_assert_cmpuint(d->f.mp.mp_state, ==, KVM_MP_STATE_HALTED);
        g_assert_cmpuint(d->f.clock.clock, ==, 5555555);
        got = tm_state(d);
        g_assert_cmpmem(got->data, got->len, want->data, want->len);
        g_assert_cmphex(th_in(d->m, 0x3ff, 1), ==, 0xc3);
        tm_free(d);
    }
    unlink(path);
    tm_free(s);
}

/* A machine of another configuration refuses the stream and stays as it
 * was. */
static void test_refused_other_config(void)
{
    struct tmach *s = tm_new(), *d = tm_new();
    g_autoptr(GByteArray) before = NULL, after = NULL;
    Error *err = NULL;

    tm_scribble(s);
    /* destination without the RTC */
    th_device_free(g_ptr_array_index(d->m->devices, 2));
    g_ptr_array_remove_index(d->m->devices, 2);
    before = tm_state(d);
    {
        FILE *f = tmpfile();
        int fd = fileno(f);

        g_assert_true(
            migration_save_fd(s->m, fd, SAVEVM_RAM_STREAM, NULL, NULL));
        lseek(fd, 0, SEEK_SET);
        g_assert_false(migration_load_fd(d->m, fd, NULL, &err));
        fclose(f);
    }
    g_assert_nonnull(
        strstr(error_get_pretty(err), "different machine configuration"));
    g_assert_nonnull(strstr(error_get_pretty(err), "devices="));
    error_free(err);
    after = tm_state(d);
    g_assert_cmpmem(after->data, after->len, before->data, before->len);
    tm_free(s);
    tm_free(d);
}

struct sender {
    struct tmach *t;
    const char *uri;
    bool ok;
};

static gpointer send_thread(gpointer opaque)
{
    struct sender *s = opaque;
    enum savevm_ram_layout layout;
    GPid child;
    bool listening;
    int fd = -1;

    /* the destination may not listen yet */
    for (int i = 0; i < 500 && fd < 0; i++) {
        fd = migration_open_uri(s->t->m, s->uri, false, &layout, &child,
                                &listening, NULL);
        if (fd < 0) {
            g_usleep(10000);
        }
    }
    s->ok = fd >= 0 && migration_save_fd(s->t->m, fd, layout, NULL, NULL);
    if (fd >= 0) {
        close(fd);
    }
    return NULL;
}

/* A scribbled source sent to uri by a thread, received by d listening on
 * it: d ends with the source's state. */
static void stream_between(const char *uri)
{
    struct tmach *s = tm_new(), *d = tm_new();
    g_autoptr(GByteArray) want = NULL, got = NULL;
    struct sender snd = {.t = s, .uri = uri};
    enum savevm_ram_layout layout;
    Error *err = NULL;
    bool listening;
    GThread *th;
    GPid child;
    int fd;

    tm_scribble(s);
    want = tm_state(s);
    fd = migration_open_uri(d->m, uri, true, &layout, &child, &listening, &err);
    g_assert_null(err);
    g_assert_true(listening);
    g_assert_cmpint(layout, ==, SAVEVM_RAM_STREAM);
    th = g_thread_new("send", send_thread, &snd);
    fd = migration_accept(fd, &err);
    g_assert_null(err);
    g_assert_true(migration_load_fd(d->m, fd, NULL, &err));
    g_assert_null(err);
    close(fd);
    g_thread_join(th);
    g_assert_true(snd.ok);
    got = tm_state(d);
    g_assert_cmpmem(got->data, got->len, want->data, want->len);
    tm_free(s);
    tm_free(d);
}

static void test_unix_stream(void)
{
    g_autofree char *dir = g_dir_make_tmp("vireo-mig-XXXXXX", NULL);
    g_autofree char *sock = g_build_filename(dir, "sock", NULL);
    g_autofree char *uri = g_strdup_printf("unix:%s", sock);

    stream_between(uri);
    unlink(sock);
    rmdir(dir);
}

/* tcp: over loopback (a port the kernel just had free) */
static void test_tcp_stream(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof(a);
    g_autofree char *uri = NULL;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    g_assert_cmpint(bind(fd, (struct sockaddr *)&a, sizeof(a)), ==, 0);
    g_assert_cmpint(getsockname(fd, (struct sockaddr *)&a, &al), ==, 0);
    close(fd);
    uri = g_strdup_printf("tcp:127.0.0.1:%u", ntohs(a.sin_port));
    stream_between(uri);
}

/* libvirt's save: `getfd fdname=migrate` then `migrate fd:migrate`; its
 * restore: an inherited fd, `migrate-incoming fd:N`. */
static void test_named_fd(void)
{
    struct tmach *s = tm_new(), *d = tm_new();
    g_autofree char *path = NULL, *in_uri = NULL;
    g_autoptr(GByteArray) want = NULL, got = NULL;
    enum savevm_ram_layout layout;
    Error *err = NULL;
    GPid child;
    bool listening;
    int fd = g_file_open_tmp("vireo-mig-XXXXXX", &path, NULL), got_fd;

    g_assert_cmpint(fd, >=, 0);
    unlink(path);
    s->m->qmp_named_fds =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_hash_table_insert(s->m->qmp_named_fds, g_strdup("migrate"),
                        GINT_TO_POINTER(fd));
    tm_scribble(s);
    want = tm_state(s);
    got_fd = migration_open_uri(s->m, "fd:migrate", false, &layout, &child,
                                &listening, &err);
    g_assert_null(err);
    g_assert_cmpint(got_fd, ==, fd);
    g_assert_cmpint(layout, ==, SAVEVM_RAM_STREAM);
    /* taken: a second migrate cannot reuse (and later close) it */
    g_assert_false(g_hash_table_contains(s->m->qmp_named_fds, "migrate"));
    g_assert_true(migration_save_fd(s->m, fd, layout, NULL, &err));
    g_assert_null(err);
    g_assert_cmpint(lseek(fd, 0, SEEK_SET), ==, 0);
    in_uri = g_strdup_printf("fd:%d", fd);
    got_fd = migration_open_uri(d->m, in_uri, true, &layout, &child, &listening,
                                &err);
    g_assert_null(err);
    g_assert_true(migration_load_fd(d->m, got_fd, NULL, &err));
    g_assert_null(err);
    close(fd);
    got = tm_state(d);
    g_assert_cmpmem(got->data, got->len, want->data, want->len);
    g_hash_table_destroy(s->m->qmp_named_fds);
    s->m->qmp_named_fds = NULL;
    tm_free(d);
    tm_free(s);
}

static void test_uri_errors(void)
{
    struct tmach *t = tm_new();
    enum savevm_ram_layout layout;
    Error *err = NULL;
    GPid child;
    bool listening;

    g_assert_cmpint(migration_open_uri(t->m, "rdma:1.2.3.4:5", false, &layout,
                                       &child, &listening, &err),
                    ==, -1);
    g_assert_nonnull(strstr(error_get_pretty(err), "unknown migration"));
    error_free(err), err = NULL;
    g_assert_cmpint(migration_open_uri(t->m, "fd:999", false, &layout, &child,
                                       &listening, &err),
                    ==, -1);
    g_assert_nonnull(strstr(error_get_pretty(err), "fd:999"));
    error_free(err), err = NULL;
    /* a name that getfd never gave */
    g_assert_cmpint(migration_open_uri(t->m, "fd:migrate", false, &layout,
                                       &child, &listening, &err),
                    ==, -1);
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "fd:migrate: File descriptor named 'migrate' not found");
    error_free(err), err = NULL;
    t->cfg.sandbox = true;
    g_assert_cmpint(migration_open_uri(t->m, "exec:cat > /dev/null", false,
                                       &layout, &child, &listening, &err),
                    ==, -1);
    g_assert_nonnull(strstr(error_get_pretty(err), "-sandbox off"));
    error_free(err), err = NULL;
    /* an empty path: an abstract socket nobody could reach */
    g_assert_cmpint(migration_open_uri(t->m, "unix:", true, &layout, &child,
                                       &listening, &err),
                    ==, -1);
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "unix: needs a socket path (unix:PATH)");
    error_free(err), err = NULL;
    tm_free(t);
}

/* -S: `info registers` shows the reset state the vCPU will start from,
 * not what KVM created it with. */
static void test_prelaunch_registers(void)
{
    struct tmach *t = tm_new();
    g_autoptr(GString) out = g_string_new(NULL);
    Error *err = NULL;

    t->f.regs.rip = 0x1234; /* KVM's creation state, never run */
    g_assert_true(machine_dump_cpu(t->m, 0, out, &err));
    g_assert_nonnull(strstr(out->str, "EIP=0000fff0"));
    g_assert_nonnull(strstr(out->str, "CS =f000 ffff0000"));
    tm_free(t);
}

static void record_event(void *opaque, const char *name, const char *data)
{
    g_string_append_printf(opaque, "%s%s;", name, data ? data : "");
}

/* An incoming stream is read on a thread and applied from the main
 * loop: run m's context until the migration has ended. */
static void wait_incoming(struct machine *m)
{
    while (m->migration->status == QAPI_MIGRATION_STATUS_SETUP ||
           m->migration->status == QAPI_MIGRATION_STATUS_ACTIVE) {
        g_main_context_iteration(m->ctx, TRUE);
    }
}

/* QMP: migrate to a file (events on), query-migrate, then -incoming defer
 * and migrate-incoming on another machine. */
static void test_qmp_file(void)
{
    struct tmach *s = tm_new(), *d = tm_new();
    g_autoptr(GString) ev = g_string_new(NULL);
    struct machine_listener l = {record_event, ev};
    g_autoptr(GByteArray) want = NULL, got = NULL;
    g_autofree char *path = NULL, *uri = NULL;
    struct qapi_migration_capability_status cap = {
        QAPI_MIGRATION_CAPABILITY_EVENTS, true};
    GPtrArray *caps = g_ptr_array_new();
    struct qapi_migration_info *info;
    g_autofree char *file = NULL;
    gsize file_len;
    Error *err = NULL;
    int fd = g_file_open_tmp("vireo-qmp-XXXXXX", &path, NULL);

    close(fd);
    uri = g_strdup_printf("file:%s", path);
    g_ptr_array_add(s->m->listeners, &l);
    g_ptr_array_add(caps, &cap);
    qmp_migrate_set_capabilities(s->m, caps, &err);
    g_assert_null(err);
    g_ptr_array_free(caps, TRUE);
    tm_scribble(s);
    want = tm_state(s);
    s->m->state = RUN_STATE_PAUSED;
    /* an SEV guest cannot migrate (QEMU's blocker); nothing is written */
    s->m->sev = (struct sev_guest *)&l; /* only tested for NULL */
    qmp_migrate(s->m, uri, false, false, false, false, false, false, false,
                false, &err);
    g_assert_nonnull(err);
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "SEV: Migration is not implemented");
    g_clear_pointer(&err, error_free);
    g_assert_cmpstr(ev->str, ==, "");
    s->m->sev = NULL;
    /* a device whose state cannot be described yet blocks it too */
    {
        static const struct device_class nomig = {.name = "nomig",
                                                  .size = sizeof(struct device),
                                                  .unmigratable = true};
        struct device d = {.cls = &nomig};

        g_ptr_array_add(s->m->devices, &d);
        qmp_migrate(s->m, uri, false, false, false, false, false, false, false,
                    false, &err);
        g_assert_nonnull(err);
        g_assert_cmpstr(error_get_pretty(err), ==,
                        "State blocked by non-migratable device 'nomig'");
        g_clear_pointer(&err, error_free);
        g_ptr_array_remove(s->m->devices, &d);
    }
    g_assert_cmpstr(ev->str, ==, "");
    qmp_migrate(s->m, uri, false, false, false, false, false, false, false,
                false, &err);
    g_assert_null(err);
    g_assert_cmpint(s->m->state, ==, RUN_STATE_POSTMIGRATE);
    g_assert_cmpstr(ev->str, ==,
                    "MIGRATION{\"status\":\"setup\"};"
                    "MIGRATION{\"status\":\"active\"};"
                    "MIGRATION_PASS{\"pass\":1};"
                    "MIGRATION{\"status\":\"completed\"};");
    info = qmp_query_migrate(s->m, &err);
    g_assert_true(info->has_status && info->has_ram);
    g_assert_cmpint(info->status, ==, QAPI_MIGRATION_STATUS_COMPLETED);
    g_assert_cmpint(info->ram->total, ==, RAM);
    g_assert_cmpint(info->ram->normal, ==, RAM / 4096); /* file layout */
    g_assert_cmpint(info->ram->transferred, >, RAM);
    qapi_migration_info_free(info);
    {
        g_autofree char *hmp = hmp_run(s->m, "info migrate", -1);

        g_assert_nonnull(strstr(hmp, "Migration status: completed\r\n"));
        g_assert_nonnull(strstr(hmp, "total ram: 4096 kbytes"));
    }

    g_assert_true(migration_incoming_start(d->m, "defer", &err));
    g_assert_cmpint(d->m->state, ==, RUN_STATE_INMIGRATE);
    /* stop while waiting: stays paused once loaded; cont: runs, but the
     * source was paused (its "globalstate" section): the destination is
     * paused whatever autostart says, as QEMU's */
    d->cfg.start_paused = false;
    qmp_stop(d->m, &err);
    g_assert_cmpint(d->m->state, ==, RUN_STATE_INMIGRATE);
    qmp_cont(d->m, &err);
    g_assert_null(err);
    g_assert_cmpint(d->m->state, ==, RUN_STATE_INMIGRATE);
    g_assert_true(g_file_get_contents(path, &file, &file_len, NULL));
    qmp_migrate_incoming(d->m, uri, &err);
    g_assert_null(err);
    wait_incoming(d->m);
    g_assert_cmpint(d->m->state, ==, RUN_STATE_PAUSED);
    got = tm_state(d);
    g_assert_cmpmem(got->data, got->len, want->data, want->len);
    /* read on the thread, still mapped copy-on-write: no memfd backs RAM,
     * and the guest's writes stay out of the file */
    g_assert_cmpint(d->m->gm->memfd, ==, -1);
    memset(d->m->gm->ram, 0xee, RAM);
    {
        g_autofree char *after = NULL;
        gsize after_len;

        g_assert_true(g_file_get_contents(path, &after, &after_len, NULL));
        g_assert_cmpmem(after, after_len, file, file_len);
    }
    qmp_migrate_incoming(d->m, uri, &err);
    g_assert_nonnull(strstr(error_get_pretty(err), "already been started"));
    error_free(err), err = NULL;

    /* a failed migrate (through HMP): reported, the source goes on */
    {
        g_autofree char *hmp =
            hmp_run(d->m, "migrate -d file:/nonexistent/dir/x", -1);

        g_assert_nonnull(strstr(hmp, "Error: file:/nonexistent/dir/x"));
    }
    /* HMP's -d (detach) flag without a URI, or no URI at all: named as a
     * missing URI (it was "unknown migration protocol: '-d'") */
    {
        static const char *const lines[][2] = {
            {"migrate -d",
             "migrate: missing URI (usage: migrate [-d] uri)\r\n"},
            {"migrate", "migrate: missing URI (usage: migrate [-d] uri)\r\n"},
            {"migrate -d  ",
             "migrate: missing URI (usage: migrate [-d] uri)\r\n"},
            {"migrate -b tcp:h:1",
             "migrate: unsupported option -b (only -d)\r\n"},
        };

        for (size_t i = 0; i < G_N_ELEMENTS(lines); i++) {
            g_autofree char *hmp = hmp_run(d->m, lines[i][0], -1);

            g_assert_cmpstr(hmp, ==, lines[i][1]);
        }
    }
    g_assert_cmpint(d->m->state, ==, RUN_STATE_PAUSED);
    info = qmp_query_migrate(d->m, &err);
    g_assert_cmpint(info->status, ==, QAPI_MIGRATION_STATUS_FAILED);
    g_assert_true(info->has_error_desc);
    qapi_migration_info_free(info);
    /* without -incoming defer */
    qmp_migrate_incoming(s->m, uri, &err);
    g_assert_nonnull(strstr(error_get_pretty(err), "'-incoming' was not"));
    error_free(err);
    unlink(path);
    tm_free(s);
    tm_free(d);
}

/* A vCPU asked to pause right after an IN exit completes the I/O (one
 * KVM_RUN with immediate_exit) before it parks, so that the registers read
 * while it is paused already hold the IN result. */
static void test_pause_completes_io(void)
{
    struct tmach *t = tm_new();
    struct vcpu *cpu = t->m->vcpus[0];
    Error *err = NULL;
    gint64 end = g_get_monotonic_time() + 5 * G_TIME_SPAN_SECOND;

    t->run.exit_reason = KVM_EXIT_IO;
    t->run.io.direction = KVM_EXIT_IO_IN;
    fake_kvm_clear_log(&t->f);
    g_assert_true(vcpu_start(cpu, &err));
    g_mutex_lock(&cpu->lock);
    while (cpu->state != VCPU_PAUSED && g_get_monotonic_time() < end) {
        g_cond_wait_until(&cpu->cond, &cpu->lock, end);
    }
    g_assert_cmpint(cpu->state, ==, VCPU_PAUSED);
    g_mutex_unlock(&cpu->lock);
    g_assert_cmpuint(fake_kvm_count(&t->f, KVM_RUN), ==, 1);
    g_assert_cmpuint(t->run.exit_reason, ==, KVM_EXIT_INTR);
    vcpu_stop_thread(cpu);
    tm_free(t);
}

/* A destination that is gone (socket or pipe closed): the save fails with
 * EPIPE, the source process is not killed by SIGPIPE. */
static void test_dest_gone(void)
{
    struct tmach *s = tm_new();
    Error *err = NULL;
    int sv[2], p[2];

    tm_scribble(s);
    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), ==, 0);
    close(sv[1]);
    g_assert_false(
        migration_save_fd(s->m, sv[0], SAVEVM_RAM_STREAM, NULL, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "Broken pipe"));
    error_free(err), err = NULL;
    close(sv[0]);
    g_assert_cmpint(pipe(p), ==, 0);
    close(p[0]);
    g_assert_false(migration_save_fd(s->m, p[1], SAVEVM_RAM_FILE, NULL, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "Broken pipe"));
    error_free(err);
    close(p[1]);
    tm_free(s);
}

/* A source's stream (the stream layout of a live migration) in memory. */
static GByteArray *tm_stream(struct tmach *s, struct savevm_stats *st)
{
    g_autofree char *path = NULL;
    GByteArray *b = g_byte_array_new();
    int fd = g_file_open_tmp("vireo-mig-XXXXXX", &path, NULL);
    gchar *data;
    gsize len;

    g_assert_cmpint(fd, >=, 0);
    g_assert_true(migration_save_fd(s->m, fd, SAVEVM_RAM_STREAM, st, NULL));
    close(fd);
    g_assert_true(g_file_get_contents(path, &data, &len, NULL));
    unlink(path);
    g_byte_array_append(b, (const uint8_t *)data, len);
    g_free(data);
    return b;
}

static void write_all_fd(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t k = write(fd, p, n);

        g_assert_cmpint(k, >, 0);
        p += k;
        n -= k;
    }
}

/* Polls query-migrate until the destination has read `bytes` (the
 * thread reads on its own: nothing here runs the main loop). */
static struct qapi_migration_info *wait_received(struct machine *m,
                                                 uint64_t bytes)
{
    for (;;) {
        struct qapi_migration_info *info = qmp_query_migrate(m, NULL);

        g_assert_true(info->has_ram);
        if ((uint64_t)info->ram->transferred >= bytes) {
            return info;
        }
        qapi_migration_info_free(info);
        g_usleep(1000);
    }
}

/* migrate-incoming fd:N on a pipe the test feeds: QMP answers while the
 * stream is in flight (query-status inmigrate, query-migrate active with
 * the bytes received), other migrations are refused, nothing of the state
 * is applied before the end; with the rest, the VM runs with the source's
 * state.  A stream cut mid-way: failed with the reason, exit requested,
 * the destination exactly as before. */
static void incoming_pipe(bool cut)
{
    struct tmach *s = tm_new(), *d = tm_new();
    g_autoptr(GString) ev = g_string_new(NULL);
    struct machine_listener l = {record_event, ev};
    g_autoptr(GByteArray) stream = NULL, want = NULL, before = NULL;
    g_autoptr(GByteArray) got = NULL;
    struct qapi_migration_capability_status cap = {
        QAPI_MIGRATION_CAPABILITY_EVENTS, true};
    GPtrArray *caps = g_ptr_array_new();
    struct qapi_migration_info *info;
    struct qapi_status_info *st;
    struct savevm_stats sst;
    g_autofree char *uri = NULL;
    Error *err = NULL;
    size_t half;
    int p[2];

    tm_scribble(s);
    want = tm_state(s);
    /* a running source: its destination runs once loaded */
    s->m->state = RUN_STATE_RUNNING;
    stream = tm_stream(s, &sst);
    half = stream->len / 2;
    before = tm_state(d);
    g_ptr_array_add(d->m->listeners, &l);
    g_ptr_array_add(caps, &cap);
    d->cfg.start_paused = false;
    g_assert_true(migration_incoming_start(d->m, "defer", &err));
    /* QEMU takes capabilities on the destination */
    qmp_migrate_set_capabilities(d->m, caps, &err);
    g_assert_null(err);
    g_assert_cmpint(pipe(p), ==, 0);
    uri = g_strdup_printf("fd:%d", p[0]);
    qmp_migrate_incoming(d->m, uri, &err);
    g_assert_null(err);
    write_all_fd(p[1], stream->data, half);
    info = wait_received(d->m, half);
    g_assert_cmpint(info->status, ==, QAPI_MIGRATION_STATUS_ACTIVE);
    g_assert_cmpuint(info->ram->transferred, ==, half);
    g_assert_cmpuint(info->ram->total, ==, RAM);
    g_assert_true(info->has_total_time);
    qapi_migration_info_free(info);
    st = qmp_query_status(d->m, &err);
    g_assert_cmpint(st->status, ==, QAPI_RUN_STATE_INMIGRATE);
    g_assert_false(st->running);
    qapi_status_info_free(st);
    g_assert_cmpstr(ev->str, ==,
                    "MIGRATION{\"status\":\"setup\"};"
                    "MIGRATION{\"status\":\"active\"};");
    /* refused meanwhile, as QEMU */
    qmp_migrate_incoming(d->m, uri, &err);
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "The incoming migration has already been started");
    g_clear_pointer(&err, error_free);
    qmp_migrate(d->m, "file:/dev/null", false, false, false, false, false,
                false, false, false, &err);
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "Guest is waiting for an incoming migration");
    g_clear_pointer(&err, error_free);
    /* nothing applied yet: the vCPU keeps its pending reset */
    got = tm_state(d);
    g_assert_cmpmem(got->data, got->len, before->data, before->len);
    g_clear_pointer(&got, g_byte_array_unref);
    g_assert_true(d->m->vcpus[0]->pending_reset);
    if (!cut) {
        write_all_fd(p[1], stream->data + half, stream->len - half);
    }
    close(p[1]);
    wait_incoming(d->m);
    info = qmp_query_migrate(d->m, &err);
    got = tm_state(d);
    if (cut) {
        enum shutdown_cause cause;

        g_assert_cmpint(info->status, ==, QAPI_MIGRATION_STATUS_FAILED);
        g_assert_true(info->has_error_desc);
        g_assert_true(
            g_str_has_prefix(info->error_desc, "load of migration failed: "));
        g_assert_nonnull(strstr(info->error_desc, "truncated stream"));
        /* QEMU's destination exits; nothing of the stream was applied */
        g_assert_cmpuint(th_take_requests(d->m, &cause), ==, REQ_DEBUG_EXIT);
        g_assert_cmpint(d->m->exit_status, ==, 1);
        g_assert_cmpint(d->m->state, ==, RUN_STATE_INMIGRATE);
        g_assert_cmpmem(got->data, got->len, before->data, before->len);
        g_assert_true(d->m->vcpus[0]->pending_reset);
        g_assert_cmpstr(ev->str, ==,
                        "MIGRATION{\"status\":\"setup\"};"
                        "MIGRATION{\"status\":\"active\"};"
                        "MIGRATION{\"status\":\"failed\"};");
    } else {
        g_assert_cmpint(info->status, ==, QAPI_MIGRATION_STATUS_COMPLETED);
        g_assert_cmpuint(info->ram->transferred, ==, stream->len);
        g_assert_cmpuint(info->ram->remaining, ==, 0);
        g_assert_cmpuint(info->ram->normal, ==, sst.data_pages);
        g_assert_cmpuint(info->ram->duplicate, ==, sst.zero_pages);
        g_assert_cmpint(d->m->state, ==, RUN_STATE_RUNNING);
        g_assert_cmpmem(got->data, got->len, want->data, want->len);
        g_assert_false(d->m->vcpus[0]->pending_reset);
        /* QEMU's order: the VM runs, then "completed" */
        g_assert_cmpstr(ev->str, ==,
                        "MIGRATION{\"status\":\"setup\"};"
                        "MIGRATION{\"status\":\"active\"};"
                        "RESUME;"
                        "MIGRATION{\"status\":\"completed\"};");
    }
    qapi_migration_info_free(info);
    g_ptr_array_free(caps, TRUE);
    g_ptr_array_remove(d->m->listeners, &l);
    tm_free(s);
    tm_free(d);
}

static void test_incoming_slow(void)
{
    incoming_pipe(false);
}

static void test_incoming_cut(void)
{
    incoming_pipe(true);
}

/* quit while the source sends nothing: the reading thread is stopped
 * (it waits on the pipe) and joined, nothing leaks. */
static void test_incoming_quit(void)
{
    struct tmach *d = tm_new();
    g_autofree char *uri = NULL;
    Error *err = NULL;
    int p[2];

    g_assert_true(migration_incoming_start(d->m, "defer", &err));
    g_assert_cmpint(pipe(p), ==, 0);
    uri = g_strdup_printf("fd:%d", p[0]);
    qmp_migrate_incoming(d->m, uri, &err);
    g_assert_null(err);
    write_all_fd(p[1], (const uint8_t *)SAVEVM_MAGIC, 8);
    g_assert_nonnull(d->m->migration->in_thread);
    tm_free(d); /* migration_state_free: stops and joins the reader */
    close(p[1]);
}

/* The destination of a live migration: reads until the end. */
static gpointer drain_thread(gpointer opaque)
{
    int fd = GPOINTER_TO_INT(opaque);
    GByteArray *b = g_byte_array_new();
    uint8_t buf[65536];
    ssize_t n;

    while ((n = read(fd, buf, sizeof(buf))) > 0) {
        g_byte_array_append(b, buf, n);
    }
    close(fd);
    return b;
}

/* migrate fd: on a socket another thread drains; fd[1] is its end. */
static GThread *live_migrate(struct tmach *s)
{
    g_autofree char *uri = NULL;
    Error *err = NULL;
    int sv[2];

    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==,
                    0);
    uri = g_strdup_printf("fd:%d", sv[0]);
    qmp_migrate(s->m, uri, false, false, false, false, false, false, false,
                false, &err);
    g_assert_null(err);
    return g_thread_new("drain", drain_thread, GINT_TO_POINTER(sv[1]));
}

/* quit right after migrate (live, a reader draining), before and after
 * the passes converged: the migration is cancelled and its thread
 * joined; the thread never runs the completion inline (it used to join
 * itself there, and the main thread it: a hang). */
static void test_live_quit(gconstpointer converged_p)
{
    struct tmach *s = tm_new();
    GThread *rd = live_migrate(s);
    struct migration_state *ms = s->m->migration;

    if (GPOINTER_TO_INT(converged_p)) {
        /* the thread has posted the completion and waits for it */
        for (;;) {
            bool posted;

            g_mutex_lock(&ms->go_lock);
            posted = ms->live_src != NULL;
            g_mutex_unlock(&ms->go_lock);
            if (posted) {
                break;
            }
            g_usleep(1000);
        }
    }
    tm_free(s); /* migration_state_free */
    g_byte_array_unref(g_thread_join(rd));
}

static void wait_status(struct machine *m, int status)
{
    while (m->migration->status != status) {
        g_main_context_iteration(m->ctx, TRUE);
    }
}

/* A live migration through QMP to the end, the main loop running: the
 * stream loads into another machine with the source's state. */
static void test_live_complete(void)
{
    struct tmach *s = tm_new(), *d = tm_new();
    g_autoptr(GByteArray) want = NULL, got = NULL;
    GByteArray *stream;
    GThread *rd;
    Error *err = NULL;
    int fd = memfd_create("live", MFD_CLOEXEC);

    tm_scribble(s);
    want = tm_state(s);
    rd = live_migrate(s);
    wait_status(s->m, QAPI_MIGRATION_STATUS_COMPLETED);
    g_assert_cmpint(s->m->state, ==, RUN_STATE_POSTMIGRATE);
    g_assert_false(g_atomic_int_get(&s->m->gm->logging));
    stream = g_thread_join(rd);
    write_all_fd(fd, stream->data, stream->len);
    g_assert_cmpint(lseek(fd, 0, SEEK_SET), ==, 0);
    g_assert_true(migration_load_fd(d->m, fd, NULL, &err));
    g_assert_null(err);
    got = tm_state(d);
    g_assert_cmpmem(got->data, got->len, want->data, want->len);
    close(fd);
    g_byte_array_unref(stream);
    tm_free(s);
    tm_free(d);
}

/* A device that logs what it hears: run-state changes ("run", "stop") and
 * the capture of its state ("save"). */
struct probe {
    struct device dev;
    GString *log;   /* set after realize */
    int at_realize; /* what realize told it: -1 nothing, 0 stop, 1 run */
};

static bool probe_realize(struct device *dev, struct machine *m, Error **errp)
{
    ((struct probe *)dev)->at_realize = -1;
    return true;
}

static void probe_run_state(struct device *dev, bool running)
{
    struct probe *p = (struct probe *)dev;

    if (!p->log) {
        p->at_realize = running;
        return;
    }
    g_string_append(p->log, running ? "run;" : "stop;");
}

static bool probe_pre_save(void *opaque, Error **errp)
{
    struct probe *p = opaque;

    g_string_append(p->log, "save;");
    return true;
}

static const struct vmstate_field probe_fields[] = {VMS_END};
static const struct vmstate_desc probe_vmsd = {
    .name = "probe",
    .version = 1,
    .fields = probe_fields,
    .pre_save = probe_pre_save,
};
static const struct device_class probe_class = {
    .name = "probe",
    .size = sizeof(struct probe),
    .realize = probe_realize,
    .run_state = probe_run_state,
    .vmsd = &probe_vmsd,
};

/* A live migration of a running machine: its devices hear the stop
 * before their state is captured for the last phase, and nothing after:
 * postmigrate keeps them quiet (the QEMU rule: no backend delivers into
 * a source that has handed its state over). */
static void test_live_devices_quiesced(void)
{
    struct tmach *s = tm_new();
    g_autoptr(GString) log = g_string_new(NULL);
    struct probe *p;
    GThread *rd;
    Error *err = NULL;

    p = (struct probe *)th_device_new(s->m, &probe_class, NULL, &err);
    g_assert_null(err);
    p->log = log;
    g_ptr_array_add(s->m->devices, p);
    /* realized in prelaunch: told it does not run */
    g_assert_cmpint(p->at_realize, ==, 0);
    /* no vCPU thread to resume or pause here */
    s->m->nr_vcpus = 0;
    machine_set_state(s->m, RUN_STATE_RUNNING);
    g_assert_cmpstr(log->str, ==, "run;");
    rd = live_migrate(s);
    wait_status(s->m, QAPI_MIGRATION_STATUS_COMPLETED);
    g_byte_array_unref(g_thread_join(rd));
    g_assert_cmpint(s->m->state, ==, RUN_STATE_POSTMIGRATE);
    g_assert_cmpstr(log->str, ==, "run;stop;save;");
    /* cont after a completed migration: the devices run again */
    machine_resume(s->m);
    g_assert_cmpstr(log->str, ==, "run;stop;save;run;");
    s->m->nr_vcpus = 1;
    tm_free(s);
}

/* exec: to a command that never reads: the main loop never waits for
 * it, so QMP answers (query-migrate: active), and migrate_cancel ends it
 * (the command is stopped, its pipe breaks): cancelled, the source as
 * before with dirty logging off. */
static void test_live_exec_cancel(void)
{
    struct tmach *s = tm_new();
    struct qapi_migration_info *info;
    Error *err = NULL;

    s->cfg.sandbox = false;
    s->m->state = RUN_STATE_PAUSED;
    qmp_migrate(s->m, "exec:exec sleep 60", false, false, false, false, false,
                false, false, false, &err);
    g_assert_null(err);
    g_main_context_iteration(s->m->ctx, FALSE);
    info = qmp_query_migrate(s->m, &err);
    g_assert_cmpint(info->status, ==, QAPI_MIGRATION_STATUS_ACTIVE);
    qapi_migration_info_free(info);
    qmp_migrate_cancel(s->m, &err);
    g_assert_null(err);
    wait_status(s->m, QAPI_MIGRATION_STATUS_CANCELLED);
    g_assert_cmpint(s->m->state, ==, RUN_STATE_PAUSED);
    g_assert_false(g_atomic_int_get(&s->m->gm->logging));
    g_assert_null(s->m->migration->thread);
    tm_free(s);
}

/* ---- the "globalstate" section ---- */

/* The source's stream (stream layout) with its run state set to st. */
static GByteArray *gs_stream(enum run_state st)
{
    struct tmach *s = tm_new();
    GByteArray *b;

    tm_scribble(s);
    s->m->state = st;
    b = tm_stream(s, NULL);
    /* the save stopped a running source (QEMU's STOP) */
    g_assert_cmpint(s->m->state, ==,
                    st == RUN_STATE_RUNNING ? RUN_STATE_PAUSED : st);
    tm_free(s);
    return b;
}

/* Where the "globalstate" section starts in b and its length, tag to CRC. */
static size_t gs_find(const GByteArray *b, size_t *len)
{
    static const char head[] = "\x01\x0bglobalstate";
    const size_t hl = sizeof(head) - 1;

    for (size_t i = 0; i + hl + 16 <= b->len; i++) {
        if (!memcmp(b->data + i, head, hl)) {
            *len = hl + 16 + le_load(b->data + i + hl + 8, 8) + 4;
            return i;
        }
    }
    g_assert_not_reached();
}

/* Replaces the section's body by body (its CRC made right), or drops the
 * section (body NULL) as a vireo of format 1.1 wrote the stream: minor 1,
 * one section fewer in the end marker, CRCs made right. */
static void gs_rewrite(GByteArray *b, const char *body)
{
    size_t len, at = gs_find(b, &len);
    const size_t hl = 13;

    if (body) {
        g_autoptr(GByteArray) sec = g_byte_array_new();
        uint8_t t[8];

        g_byte_array_append(sec, b->data + at, hl + 8);
        le_store(t, strlen(body), 8);
        g_byte_array_append(sec, t, 8);
        g_byte_array_append(sec, (const uint8_t *)body, strlen(body));
        le_store(t, crc32c(0, sec->data, sec->len), 4);
        g_byte_array_append(sec, t, 4);
        g_byte_array_append(sec, b->data + at + len, b->len - at - len);
        g_byte_array_set_size(b, at);
        g_byte_array_append(b, sec->data, sec->len);
    } else {
        size_t mtl = b->data[13], fpl = le_load(b->data + 14 + mtl, 4);
        size_t hdr = 14 + mtl + 4 + fpl;
        uint8_t *end;

        g_byte_array_remove_range(b, at, len);
        le_store(b->data + 10, 1, 2);
        le_store(b->data + hdr, crc32c(0, b->data, hdr), 4);
        end = b->data + b->len - 9;
        g_assert_cmpint(end[0], ==, 0x02);
        le_store(end + 1, le_load(end + 1, 4) - 1, 4);
        le_store(end + 5, crc32c(0, end, 5), 4);
    }
}

/* Loads b into a fresh machine: whether it took it, the global state,
 * the error (freed by the caller). */
static bool gs_load(const GByteArray *b, struct migration_globalstate *gs,
                    Error **errp)
{
    struct tmach *d = tm_new();
    g_autoptr(GByteArray) before = tm_state(d), after = NULL;
    FILE *f = tmpfile();
    bool ok;

    g_assert_cmpint(fwrite(b->data, 1, b->len, f), ==, b->len);
    fflush(f);
    lseek(fileno(f), 0, SEEK_SET);
    gs->received = false;
    gs->state = -1;
    ok = migration_load_fd(d->m, fileno(f), gs, errp);
    fclose(f);
    if (!ok) { /* refused before anything was applied */
        after = tm_state(d);
        g_assert_cmpmem(after->data, after->len, before->data, before->len);
        g_assert_true(d->m->vcpus[0]->pending_reset);
    }
    tm_free(d);
    return ok;
}

/* The source's run state at the stop travels; the save pauses a running
 * source first, the section still says "running". */
static void test_globalstate_present(void)
{
    static const enum run_state states[] = {
        RUN_STATE_RUNNING, RUN_STATE_PAUSED, RUN_STATE_PRELAUNCH,
        RUN_STATE_SHUTDOWN, RUN_STATE_GUEST_PANICKED};

    for (size_t i = 0; i < G_N_ELEMENTS(states); i++) {
        g_autoptr(GByteArray) b = gs_stream(states[i]);
        struct migration_globalstate gs;
        size_t len, at = gs_find(b, &len);
        Error *err = NULL;

        g_assert_cmpuint(le_load(b->data + 10, 2), ==, 2); /* format 1.2 */
        g_assert_cmpmem(b->data + at + 29, len - 33, run_state_name(states[i]),
                        strlen(run_state_name(states[i])));
        g_assert_true(gs_load(b, &gs, &err));
        g_assert_null(err);
        g_assert_true(gs.received);
        g_assert_cmpint(gs.state, ==, states[i]);
    }
}

/* A stream of format 1.1 (no section) loads as before: nothing received,
 * the destination's autostart rule decides. */
static void test_globalstate_absent(void)
{
    g_autoptr(GByteArray) b = gs_stream(RUN_STATE_PAUSED);
    struct migration_globalstate gs;
    Error *err = NULL;

    gs_rewrite(b, NULL);
    g_assert_true(gs_load(b, &gs, &err));
    g_assert_null(err);
    g_assert_false(gs.received);
}

/* A name this vireo does not know, one no destination can be in, one not
 * a name at all: refused naming the section and the value, nothing
 * applied. */
static void test_globalstate_bad(void)
{
    static const char *const bad[][2] = {
        {"suspended", "section 'globalstate' instance 0: unknown run state "
                      "'suspended'"},
        {"Running", "section 'globalstate' instance 0: unknown run state "
                    "'Running'"},
        {"paused\n", "section 'globalstate' instance 0: unknown run state "
                     "'paused?'"},
        {"inmigrate", "section 'globalstate' instance 0: run state "
                      "'inmigrate' cannot be a destination's run state"},
        {"postmigrate", "section 'globalstate' instance 0: run state "
                        "'postmigrate' cannot be a destination's run state"},
        {"",
         "section 'globalstate' instance 0: run state name of 0 bytes (1..32)"},
        {"running-running-running-running-x",
         "section 'globalstate' instance 0: run state name of 33 bytes "
         "(1..32)"},
    };

    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GByteArray) b = gs_stream(RUN_STATE_PAUSED);
        struct migration_globalstate gs;
        Error *err = NULL;

        gs_rewrite(b, bad[i][0]);
        g_assert_false(gs_load(b, &gs, &err));
        g_assert_nonnull(err);
        g_assert_cmpstr(error_get_pretty(err), ==, bad[i][1]);
        error_free(err);
    }
}

/* As QEMU's: a source that migrated once is not migrated again. */
static void test_postmigrate_refused(void)
{
    struct tmach *s = tm_new();
    Error *err = NULL;

    s->m->state = RUN_STATE_POSTMIGRATE;
    qmp_migrate(s->m, "file:/dev/null", false, false, false, false, false,
                false, false, false, &err);
    g_assert_nonnull(err);
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "Can't migrate the vm that was paused due to previous "
                    "migration");
    error_free(err);
    tm_free(s);
}

static int dirtyrate_status(struct machine *m, int64_t *calc_time)
{
    Error *err = NULL;
    struct qapi_dirty_rate_info *i = qmp_query_dirty_rate(m, &err);
    int st;

    g_assert_null(err);
    st = i->status;
    *calc_time = i->calc_time;
    g_assert_true(i->has_dirty_rate == (st == QAPI_DIRTY_RATE_STATUS_MEASURED));
    qapi_dirty_rate_info_free(i);
    return st;
}

/* calc-dirty-rate's logging modes share KVM's dirty log with a live
 * migration (migration/dirtyrate.h): migrate ends a dirty-bitmap
 * measurement at once; while the migration runs the logging modes are
 * refused, page-sampling is not. */
static void test_dirtyrate_and_migrate(void)
{
    struct tmach *s = tm_new();
    int64_t calc_time;
    Error *err = NULL;

    s->cfg.sandbox = false;
    s->m->state = RUN_STATE_PAUSED;
    qmp_calc_dirty_rate(s->m, 60, false, 0, true,
                        QAPI_DIRTY_RATE_MEASURE_MODE_DIRTY_BITMAP, &err);
    g_assert_null(err);
    g_assert_cmpint(dirtyrate_status(s->m, &calc_time), ==,
                    QAPI_DIRTY_RATE_STATUS_MEASURING);
    g_assert_cmpint(calc_time, ==, 60);
    qmp_migrate(s->m, "exec:exec sleep 60", false, false, false, false, false,
                false, false, false, &err);
    g_assert_null(err);
    g_assert_cmpint(dirtyrate_status(s->m, &calc_time), ==,
                    QAPI_DIRTY_RATE_STATUS_MEASURED);
    g_assert_cmpint(calc_time, <, 60);
    qmp_calc_dirty_rate(s->m, 1, false, 0, true,
                        QAPI_DIRTY_RATE_MEASURE_MODE_DIRTY_BITMAP, &err);
    g_assert_nonnull(err);
    g_assert_nonnull(
        strstr(error_get_pretty(err), "while a migration is in progress"));
    g_clear_pointer(&err, error_free);
    qmp_calc_dirty_rate(s->m, 1, false, 0, false, 0, &err);
    g_assert_null(err);
    g_assert_cmpint(dirtyrate_status(s->m, &calc_time), ==,
                    QAPI_DIRTY_RATE_STATUS_MEASURING);
    qmp_migrate_cancel(s->m, &err);
    g_assert_null(err);
    wait_status(s->m, QAPI_MIGRATION_STATUS_CANCELLED);
    tm_free(s); /* page-sampling still measuring: freed with the machine */
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/migration/file-save-restore", test_file_save_restore);
    g_test_add_func("/migration/refused-other-config",
                    test_refused_other_config);
    g_test_add_func("/migration/unix-stream", test_unix_stream);
    g_test_add_func("/migration/tcp-stream", test_tcp_stream);
    g_test_add_func("/migration/named-fd", test_named_fd);
    g_test_add_func("/migration/uri-errors", test_uri_errors);
    g_test_add_func("/migration/qmp-file", test_qmp_file);
    g_test_add_func("/migration/dest-gone", test_dest_gone);
    g_test_add_data_func("/migration/live-quit/at-once", GINT_TO_POINTER(0),
                         test_live_quit);
    g_test_add_data_func("/migration/live-quit/converged", GINT_TO_POINTER(1),
                         test_live_quit);
    g_test_add_func("/migration/live-complete", test_live_complete);
    g_test_add_func("/migration/live-exec-cancel", test_live_exec_cancel);
    g_test_add_func("/migration/live-devices-quiesced",
                    test_live_devices_quiesced);
    g_test_add_func("/migration/dirtyrate", test_dirtyrate_and_migrate);
    g_test_add_func("/migration/incoming-slow", test_incoming_slow);
    g_test_add_func("/migration/incoming-cut", test_incoming_cut);
    g_test_add_func("/migration/incoming-quit", test_incoming_quit);
    g_test_add_func("/migration/pause-completes-io", test_pause_completes_io);
    g_test_add_func("/migration/prelaunch-registers", test_prelaunch_registers);
    g_test_add_func("/migration/globalstate/present", test_globalstate_present);
    g_test_add_func("/migration/globalstate/absent", test_globalstate_absent);
    g_test_add_func("/migration/globalstate/bad", test_globalstate_bad);
    g_test_add_func("/migration/postmigrate-refused", test_postmigrate_refused);
    return g_test_run();
}
