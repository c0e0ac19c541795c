/* SPDX-License-Identifier: MIT */
/*
 * test-vl.c: the command line (system/vl.c): every option, QEMU's defaults
 * for serial/monitor, -smp topology rules and every error path.  No KVM.
 */
#include "util/common.h"
#include <fcntl.h>
#include <unistd.h>
#include "system/vl.h"
#include "hw/core/device.h"
#include "sev/sev-config.h"
#include "system/object.h"

struct parsed {
    enum vl_result r;
    struct machine_config cfg;
    GString *out;
    char *err;
};

/* Parses "vireo" + args split on spaces (a "\x1f" stands for a space
 * inside one argument). */
static void parse_line(struct parsed *p, const char *line)
{
    gchar **words = g_strsplit(line, " ", -1);
    GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
    Error *err = NULL;

    g_ptr_array_add(argv, g_strdup("vireo"));
    for (gchar **w = words; *w; w++) {
        if (**w) {
            g_ptr_array_add(argv, g_strdelimit(g_strdup(*w), "\x1f", ' '));
        }
    }
    g_ptr_array_add(argv, NULL);
    machine_config_init(&p->cfg);
    p->out = g_string_new(NULL);
    p->r = vl_parse((int)argv->len - 1, (char **)argv->pdata, &p->cfg, p->out,
                    &err);
    p->err = err ? g_strdup(error_get_pretty(err)) : NULL;
    g_assert_true((p->r == VL_ERROR) == (err != NULL));
    error_free(err);
    g_ptr_array_unref(argv);
    g_strfreev(words);
}

static void parsed_clear(struct parsed *p)
{
    machine_config_clear(&p->cfg);
    g_string_free(p->out, TRUE);
    g_free(p->err);
}

static void ok_line(struct parsed *p, const char *line)
{
    parse_line(p, line);
    if (p->r != VL_RUN) {
        g_error("'%s': expected VL_RUN, got %d (%s)", line, p->r,
                p->err ? p->err : "");
    }
}

static void err_line(const char *line, const char *want)
{
    struct parsed p;

    parse_line(&p, line);
    if (p.r != VL_ERROR || !strstr(p.err, want)) {
        g_error("'%s': expected an error containing \"%s\", got %d (%s)", line,
                want, p.r, p.err ? p.err : "no error");
    }
    parsed_clear(&p);
}

static const char *chardev_at(struct parsed *p, guint i)
{
    g_assert_cmpuint(i, <, p->cfg.chardevs->len);
    return g_ptr_array_index(p->cfg.chardevs, i);
}

static struct mon_spec *mon_at(struct parsed *p, guint i)
{
    g_assert_cmpuint(i, <, p->cfg.monitors->len);
    return g_ptr_array_index(p->cfg.monitors, i);
}

static void test_defaults(void)
{
    struct parsed p;

    ok_line(&p, "");
    g_assert_cmpstr(p.cfg.machine_type, ==, "microvm");
    g_assert_cmpstr(p.cfg.machine_opts, ==, "");
    g_assert_cmpstr(p.cfg.accel, ==, "kvm");
    g_assert_null(p.cfg.cpu_model);
    g_assert_cmpuint(p.cfg.ram_size, ==, 128 * MiB);
    g_assert_cmpuint(p.cfg.smp_cpus, ==, 1);
    g_assert_cmpuint(p.cfg.smp_maxcpus, ==, 1);
    g_assert_true(p.cfg.sandbox);
    g_assert_cmpstr(p.cfg.rtc_base, ==, "utc");
    /* QEMU without -nodefaults: serial0 on stdio, no monitor here */
    g_assert_cmpuint(p.cfg.serials->len, ==, 1);
    g_assert_cmpstr(g_ptr_array_index(p.cfg.serials, 0), ==, "serial0");
    g_assert_cmpuint(p.cfg.chardevs->len, ==, 1);
    g_assert_cmpstr(chardev_at(&p, 0), ==, "stdio,id=serial0");
    g_assert_cmpuint(p.cfg.monitors->len, ==, 0);
    g_assert_cmpstr(p.cfg.argv[0], ==, "vireo");
    g_assert_null(p.cfg.argv[1]);
    g_assert_null(p.cfg.help_request);
    parsed_clear(&p);
}

static void test_machine(void)
{
    struct parsed p;

    ok_line(&p, "-machine microvm,accel=kvm,x-option-roms=off,pic=off");
    g_assert_cmpstr(p.cfg.machine_type, ==, "microvm");
    g_assert_cmpstr(p.cfg.accel, ==, "kvm");
    g_assert_cmpstr(p.cfg.machine_opts, ==, "x-option-roms=off,pic=off");
    parsed_clear(&p);

    /* -M, repeated -machine merge, ',,' escapes survive */
    ok_line(&p, "-M microvm -machine rtc=on,,x --machine type=microvm,isa=off");
    g_assert_cmpstr(p.cfg.machine_opts, ==, "rtc=on,,x,isa=off");
    parsed_clear(&p);

    parse_line(&p, "-machine help");
    g_assert_cmpint(p.r, ==, VL_EXIT_OK);
    g_assert_cmpstr(p.cfg.help_request, ==, "machine");
    parsed_clear(&p);

    err_line("-machine pc", "-machine: unsupported machine type 'pc'");
    err_line("-M pc-i440fx-7.2,accel=kvm", "-M: unsupported machine");
    ok_line(&p, "-M q35,accel=kvm");
    g_assert_cmpstr(p.cfg.machine_type, ==, "q35");
    parsed_clear(&p);
    err_line("-machine microvm,accel=tcg", "invalid accelerator tcg");
    err_line("-machine microvm,accel=tcg:kvm", "invalid accelerator tcg");
    ok_line(&p, "-machine microvm,accel=kvm:tcg");
    g_assert_cmpstr(p.cfg.accel, ==, "kvm");
    g_assert_cmpstr(p.cfg.machine_opts, ==, "");
    parsed_clear(&p);
    err_line("-machine microvm,", "-machine: trailing");
    err_line("-machine microvm,rtc=on,rtc=off", "given twice");
}

static void test_accel(void)
{
    struct parsed p;

    ok_line(&p, "-accel kvm");
    g_assert_cmpstr(p.cfg.accel, ==, "kvm");
    parsed_clear(&p);
    ok_line(&p, "-enable-kvm");
    g_assert_cmpstr(p.cfg.accel, ==, "kvm");
    parsed_clear(&p);
    parse_line(&p, "-accel help");
    g_assert_cmpint(p.r, ==, VL_EXIT_OK);
    g_assert_nonnull(strstr(p.out->str, "kvm"));
    parsed_clear(&p);
    err_line("-accel tcg", "-accel: invalid accelerator tcg");
    err_line("-accel hvf", "invalid accelerator hvf");
    err_line("-accel kvm,thread=single", "invalid parameter 'thread'");
    err_line("-accel type=kvm", "parameter 'accel' is missing");
    /* KVM's dirty ring: not given, a size, off */
    ok_line(&p, "-accel kvm");
    g_assert_cmpint(p.cfg.dirty_ring_size, ==, -1);
    parsed_clear(&p);
    ok_line(&p, "-accel kvm,dirty-ring-size=1024");
    g_assert_cmpint(p.cfg.dirty_ring_size, ==, 1024);
    parsed_clear(&p);
    ok_line(&p, "-accel kvm,dirty-ring-size=0");
    g_assert_cmpint(p.cfg.dirty_ring_size, ==, 0);
    parsed_clear(&p);
    err_line("-accel kvm,dirty-ring-size=1000",
             "-accel: dirty-ring-size must be a power of two.");
    err_line("-accel kvm,dirty-ring-size=big",
             "parameter 'dirty-ring-size' expects a number, not 'big'");
    err_line("-accel kvm,dirty-ring-size=8589934592",
             "dirty-ring-size 8589934592 is out of range (0 to 4294967295)");
}

static void test_cpu(void)
{
    struct parsed p;

    ok_line(&p, "-cpu max,+x2apic,-cx16");
    g_assert_cmpstr(p.cfg.cpu_model, ==, "max,+x2apic,-cx16");
    parsed_clear(&p);
    parse_line(&p, "-cpu help");
    g_assert_cmpint(p.r, ==, VL_EXIT_OK);
    g_assert_cmpstr(p.cfg.help_request, ==, "cpu");
    parsed_clear(&p);
    err_line("-cpu", "-cpu: requires an argument");
    {
        char *argv[] = {"vireo", "-cpu", "", NULL};
        struct machine_config cfg;
        GString *out = g_string_new(NULL);
        Error *err = NULL;

        machine_config_init(&cfg);
        g_assert_cmpint(vl_parse(3, argv, &cfg, out, &err), ==, VL_ERROR);
        g_assert_cmpstr(error_get_pretty(err), ==,
                        "-cpu: missing CPU model name");
        error_free(err);
        machine_config_clear(&cfg);
        g_string_free(out, TRUE);
    }
}

struct smp_case {
    const char *arg;
    unsigned cpus, sockets, cores, threads, maxcpus;
};

static void test_smp(void)
{
    static const struct smp_case ok[] = {
        {"4", 4, 1, 4, 1, 4},           {"cpus=4", 4, 1, 4, 1, 4},
        {"4,sockets=2", 4, 2, 2, 1, 4}, {"cores=2,threads=2", 4, 1, 2, 2, 4},
        {"sockets=2", 2, 2, 1, 1, 2},   {"maxcpus=4", 4, 1, 4, 1, 4},
        {"2,maxcpus=4", 2, 1, 4, 1, 4}, {"8,sockets=2,cores=2", 8, 2, 2, 2, 8},
        {"8,cores=4", 8, 2, 4, 1, 8},   {"4,dies=1", 4, 1, 4, 1, 4},
        {"288", 288, 1, 288, 1, 288},
    };
    struct parsed p;

    for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
        char *line = g_strdup_printf("-smp %s", ok[i].arg);
        ok_line(&p, line);
        if (p.cfg.smp_cpus != ok[i].cpus ||
            p.cfg.smp_sockets != ok[i].sockets ||
            p.cfg.smp_cores != ok[i].cores ||
            p.cfg.smp_threads != ok[i].threads ||
            p.cfg.smp_maxcpus != ok[i].maxcpus || p.cfg.smp_dies != 1) {
            g_error("-smp %s: got %u cpus %u/%u/%u max %u", ok[i].arg,
                    p.cfg.smp_cpus, p.cfg.smp_sockets, p.cfg.smp_cores,
                    p.cfg.smp_threads, p.cfg.smp_maxcpus);
        }
        parsed_clear(&p);
        g_free(line);
    }
    err_line("-smp 0", "-smp: CPU topology parameters must be greater");
    err_line("-smp 2,cores=0", "greater than zero ('cores')");
    err_line("-smp 4,cores=3",
             "product of the hierarchy must match maxcpus: sockets (1) * "
             "cores (3) * threads (1) != maxcpus (4)");
    err_line("-smp sockets=2,cores=2,threads=2,maxcpus=4",
             "sockets (2) * cores (2) * threads (2) != maxcpus (4)");
    err_line("-smp 2,maxcpus=1", "maxcpus must be equal to or greater than "
                                 "smp: sockets (1) * cores (1) * threads (1) "
                                 "== maxcpus (1) < smp_cpus (2)");
    err_line("-smp 300", "Invalid SMP CPUs 300. The max CPUs supported by "
                         "machine 'microvm' is 288");
    err_line("-smp foo", "-smp: parameter 'cpus' expects a number");
    err_line("-smp 2,bogus=1", "-smp: invalid parameter "
                               "'bogus'");
    err_line("-smp 4,dies=2", "dies not supported");
    err_line("-smp 99999999999", "too large");
    err_line("-smp sockets=65536,cores=65536,threads=2", "too large");
    err_line("-smp", "-smp: requires an argument");
}

static void test_m(void)
{
    static const struct {
        const char *arg;
        uint64_t size;
    } ok[] = {
        {"512", 512 * MiB},    {"1G", GiB},           {"1g", GiB},
        {"size=2G", 2 * GiB},  {"1.5G", 3 * GiB / 2}, {"65536K", 64 * MiB},
        {"1001k", 1028096}, /* rounded up to 4 KiB */
        {"4096G", 4096 * GiB},
    };
    struct parsed p;

    for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
        char *line = g_strdup_printf("-m %s", ok[i].arg);
        ok_line(&p, line);
        g_assert_cmpuint(p.cfg.ram_size, ==, ok[i].size);
        parsed_clear(&p);
        g_free(line);
    }
    err_line("-m abc", "-m: invalid RAM size 'abc'");
    err_line("-m size=abc", "invalid RAM size 'abc'");
    err_line("-m 0", "-m: invalid RAM size '0'");
    err_line("-m -5", "invalid RAM size '-5'");
    err_line("-m 4097G", "too large");
    err_line("-m 16E", "invalid RAM size '16E'");
    err_line("-m 99999999999999999999", "invalid RAM size");
    err_line("-m 2G,maxmem=4G", "memory hotplug");
    err_line("-m 2G,slots=2", "memory hotplug");
    err_line("-m 2G,foo=1", "invalid parameter 'foo'");
    err_line("-m", "-m: requires an argument");
}

static void test_boot_files(void)
{
    struct parsed p;

    ok_line(&p, "-bios /b.bin -kernel /k -initrd /i -append a\x1f"
                "b -dtb /d.dtb");
    g_assert_cmpstr(p.cfg.bios, ==, "/b.bin");
    g_assert_cmpstr(p.cfg.kernel, ==, "/k");
    g_assert_cmpstr(p.cfg.initrd, ==, "/i");
    g_assert_cmpstr(p.cfg.append, ==, "a b");
    g_assert_cmpstr(p.cfg.dtb, ==, "/d.dtb");
    parsed_clear(&p);
    /* the last one wins, as in QEMU */
    ok_line(&p, "-kernel /a -kernel /b");
    g_assert_cmpstr(p.cfg.kernel, ==, "/b");
    parsed_clear(&p);
    err_line("-initrd /i", "-initrd only allowed with -kernel option");
    err_line("-append x", "-append only allowed with -kernel option");
    err_line("-dtb /d", "-dtb only allowed with -kernel option");
    err_line("-kernel", "-kernel: requires an argument");
}

static void test_serial(void)
{
    struct parsed p;

    ok_line(&p, "-serial file:/tmp/a,b -serial unix:/tmp/s,server=on,wait=off"
                " -serial tcp::4444,server=on,wait=off -serial "
                "tcp:127.0.0.1:5555");
    g_assert_cmpuint(p.cfg.serials->len, ==, 4);
    g_assert_cmpstr(chardev_at(&p, 0), ==, "file,id=serial0,path=/tmp/a,,b");
    g_assert_cmpstr(chardev_at(&p, 1), ==,
                    "socket,id=serial1,path=/tmp/s,server=on,wait=off");
    g_assert_cmpstr(chardev_at(&p, 2), ==,
                    "socket,id=serial2,port=4444,server=on,wait=off");
    g_assert_cmpstr(chardev_at(&p, 3), ==,
                    "socket,id=serial3,host=127.0.0.1,port=5555");
    g_assert_cmpstr(g_ptr_array_index(p.cfg.serials, 3), ==, "serial3");
    g_assert_cmpuint(p.cfg.monitors->len, ==, 0);
    parsed_clear(&p);

    ok_line(&p, "-serial pty -serial null");
    g_assert_cmpstr(chardev_at(&p, 0), ==, "pty,id=serial0");
    g_assert_cmpstr(chardev_at(&p, 1), ==, "null,id=serial1");
    parsed_clear(&p);

    ok_line(&p, "-serial none");
    g_assert_cmpuint(p.cfg.serials->len, ==, 0);
    g_assert_cmpuint(p.cfg.chardevs->len, ==, 0);
    parsed_clear(&p);

    /* chardev: may name a -chardev given later */
    ok_line(&p, "-serial chardev:c0 -chardev null,id=c0");
    g_assert_cmpuint(p.cfg.serials->len, ==, 1);
    g_assert_cmpstr(g_ptr_array_index(p.cfg.serials, 0), ==, "c0");
    g_assert_cmpuint(p.cfg.chardevs->len, ==, 1);
    parsed_clear(&p);

    ok_line(&p, "-serial mon:stdio");
    g_assert_cmpstr(chardev_at(&p, 0), ==, "stdio,id=serial0,mux=on");
    g_assert_cmpuint(p.cfg.monitors->len, ==, 1);
    g_assert_cmpstr(mon_at(&p, 0)->chardev_id, ==, "serial0");
    g_assert_cmpint(mon_at(&p, 0)->mode, ==, MON_MODE_READLINE);
    parsed_clear(&p);

    err_line("-serial bogus", "-serial: 'bogus' is not a valid char "
                              "driver");
    err_line("-serial vc", "'vc' is not a valid char driver");
    err_line("-serial chardev:nosuch", "-serial: chardev "
                                       "'nosuch' not found");
    err_line("-serial unix:/tmp/s,bogus=1", "invalid parameter 'bogus'");
    err_line("-serial unix:", "missing socket path");
    err_line("-serial file:", "missing file name");
    err_line("-serial tcp:4444", "expected tcp:HOST:PORT");
    err_line("-serial tcp:host:", "expected tcp:HOST:PORT");
    err_line("-serial mon:mon:stdio", "'mon:' given twice");
    err_line("-serial null -serial null -serial null -serial null -serial "
             "null",
             "-serial: too many serial ports");
    err_line("-serial stdio -serial stdio",
             "cannot use stdio by multiple character devices");
    err_line("-serial stdio -monitor stdio",
             "cannot use stdio by multiple character devices");
}

static void test_compat(void)
{
    Error *err = NULL;
    bool mux;
    char *t;

    t = vl_compat_chardev("mon:unix:/s,server=on", "m0", &mux, &err);
    g_assert_no_error((GError *)err);
    g_assert_true(mux);
    g_assert_cmpstr(t, ==, "socket,id=m0,path=/s,server=on,mux=on");
    g_free(t);
    t = vl_compat_chardev("tcp:[::1]:44,server=on", "m1", &mux, &err);
    g_assert_false(mux);
    g_assert_cmpstr(t, ==, "socket,id=m1,host=::1,port=44,server=on");
    g_free(t);
    g_assert_null(vl_compat_chardev("telnet:x:1", "m2", &mux, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "not a valid char"));
    error_free(err);
}

static void test_chardev(void)
{
    struct parsed p;

    ok_line(&p, "-nodefaults -chardev socket,id=c,path=/tmp/s,server=on,"
                "wait=off -chardev file,id=f,path=/tmp/f,append=on "
                "-chardev pty,id=p -chardev null,id=n -chardev stdio,id=s,"
                "signal=off,mux=on");
    g_assert_cmpuint(p.cfg.chardevs->len, ==, 5);
    g_assert_cmpstr(chardev_at(&p, 0), ==,
                    "socket,id=c,path=/tmp/s,server=on,wait=off");
    g_assert_cmpuint(p.cfg.serials->len, ==, 0);
    parsed_clear(&p);

    /* QEMU 7.2's deprecated short-form booleans still work */
    ok_line(&p, "-nodefaults -chardev socket,id=c,path=/tmp/a,,b,server,nowait"
                " -serial tcp::4444,server,nowait,nodelay -serial "
                "file:/tmp/f,noappend");
    g_assert_cmpstr(chardev_at(&p, 0), ==,
                    "socket,id=c,path=/tmp/a,,b,server=on,wait=off");
    g_assert_cmpstr(chardev_at(&p, 1), ==,
                    "socket,id=serial0,port=4444,server=on,wait=off,"
                    "nodelay=on");
    /* file: takes the rest as the path, commas included */
    g_assert_cmpstr(chardev_at(&p, 2), ==,
                    "file,id=serial1,path=/tmp/f,,noappend");
    parsed_clear(&p);
    err_line("-chardev socket,id=c,path=/a,server,bogus",
             "expected 'key=value' but found 'bogus'");
    err_line("-chardev socket,id=c,path=/a,nonsense",
             "expected 'key=value' but found 'nonsense'");

    parse_line(&p, "-chardev help");
    g_assert_cmpint(p.r, ==, VL_EXIT_OK);
    g_assert_nonnull(strstr(p.out->str, "socket"));
    parsed_clear(&p);

    err_line("-chardev stdio", "-chardev: chardev: no id specified");
    err_line("-chardev foo,id=a", "'foo' is not a valid char driver name");
    err_line("-chardev null,id=a,bogus=1",
             "chardev 'a': invalid parameter 'bogus'");
    err_line("-chardev null,id=a -chardev null,id=a",
             "duplicate ID 'a' for chardev");
    err_line("-chardev socket,id=x", "socket needs exactly one of");
    err_line("-chardev socket,id=x,path=/a,port=3", "exactly one of");
    err_line("-chardev socket,id=x,path=/a,wait=off",
             "'wait' option is incompatible");
    err_line("-chardev socket,id=x,path=/a,server=maybe",
             "parameter 'server' expects 'on' or 'off'");
    err_line("-chardev file,id=x", "file backend requires path=");
    err_line("-chardev id=x", "chardev: missing backend");
    err_line("-nodefaults -chardev stdio,id=a -chardev stdio,id=b",
             "cannot use stdio by multiple");
}

static void test_monitors(void)
{
    struct parsed p;

    ok_line(&p, "-qmp unix:/tmp/q,server=on,wait=off -monitor "
                "tcp::4445,server=on,wait=off -qmp-pretty null");
    g_assert_cmpuint(p.cfg.monitors->len, ==, 3);
    g_assert_cmpstr(chardev_at(&p, 0), ==,
                    "socket,id=compat_monitor0,path=/tmp/q,server=on,wait=off");
    g_assert_cmpstr(mon_at(&p, 0)->chardev_id, ==, "compat_monitor0");
    g_assert_cmpint(mon_at(&p, 0)->mode, ==, MON_MODE_CONTROL);
    g_assert_false(mon_at(&p, 0)->pretty);
    g_assert_cmpstr(mon_at(&p, 1)->chardev_id, ==, "compat_monitor1");
    g_assert_cmpint(mon_at(&p, 1)->mode, ==, MON_MODE_READLINE);
    g_assert_cmpstr(mon_at(&p, 2)->chardev_id, ==, "compat_monitor2");
    g_assert_true(mon_at(&p, 2)->pretty);
    /* the default serial is still there */
    g_assert_cmpuint(p.cfg.serials->len, ==, 1);
    parsed_clear(&p);

    ok_line(&p, "-nodefaults -chardev socket,id=q,path=/tmp/q,server=on,"
                "wait=off -mon chardev=q,mode=control,pretty=on -mon q "
                "-monitor chardev:q -monitor none");
    g_assert_cmpuint(p.cfg.monitors->len, ==, 3);
    g_assert_cmpstr(mon_at(&p, 0)->chardev_id, ==, "q");
    g_assert_cmpint(mon_at(&p, 0)->mode, ==, MON_MODE_CONTROL);
    g_assert_true(mon_at(&p, 0)->pretty);
    g_assert_cmpint(mon_at(&p, 1)->mode, ==, MON_MODE_READLINE);
    g_assert_cmpint(mon_at(&p, 2)->mode, ==, MON_MODE_READLINE);
    g_assert_cmpuint(p.cfg.chardevs->len, ==, 1);
    parsed_clear(&p);

    /* stdio taken by a monitor: the default serial goes nowhere, as
     * QEMU's (invisible) graphical console would */
    ok_line(&p, "-monitor stdio");
    g_assert_cmpstr(chardev_at(&p, 0), ==, "stdio,id=compat_monitor0");
    g_assert_cmpstr(chardev_at(&p, 1), ==, "null,id=serial0");
    parsed_clear(&p);

    /* libvirt's form */
    ok_line(&p, "-nodefaults -chardev socket,id=charmonitor,path=/tmp/m,"
                "server=on,wait=off -mon chardev=charmonitor,id=monitor,"
                "mode=control");
    g_assert_cmpint(mon_at(&p, 0)->mode, ==, MON_MODE_CONTROL);
    parsed_clear(&p);

    ok_line(&p, "-qmp stdio -nodefaults");
    g_assert_cmpstr(chardev_at(&p, 0), ==, "stdio,id=compat_monitor0");
    parsed_clear(&p);

    err_line("-mon chardev=x", "-mon: chardev \"x\" not found");
    err_line("-chardev null,id=x -mon chardev=x,mode=foo",
             "parameter 'mode' does not accept value 'foo'");
    err_line("-chardev null,id=x -mon chardev=x,mode=readline,pretty=on",
             "'pretty' is not compatible with HMP monitors");
    err_line("-mon mode=control", "parameter 'chardev' is missing");
    err_line("-mon x,bogus=1", "invalid parameter 'bogus'");
    err_line("-chardev null,id=x -mon x,pretty=perhaps", "'pretty' expects");
    err_line("-qmp bogus", "-qmp: 'bogus' is not a valid char driver");
    err_line("-monitor chardev:nope", "chardev \"nope\" not found");
    err_line("-qmp unix:/tmp/q,server=on,bogus=1", "invalid parameter 'bogus'");
}

static void test_nographic(void)
{
    struct parsed p;

    ok_line(&p, "-nographic");
    g_assert_true(p.cfg.nographic);
    g_assert_cmpuint(p.cfg.chardevs->len, ==, 1);
    g_assert_cmpstr(chardev_at(&p, 0), ==, "stdio,id=serial0,mux=on");
    g_assert_cmpuint(p.cfg.serials->len, ==, 1);
    g_assert_cmpstr(g_ptr_array_index(p.cfg.serials, 0), ==, "serial0");
    g_assert_cmpuint(p.cfg.monitors->len, ==, 1);
    g_assert_cmpstr(mon_at(&p, 0)->chardev_id, ==, "serial0");
    g_assert_cmpint(mon_at(&p, 0)->mode, ==, MON_MODE_READLINE);
    parsed_clear(&p);

    /* with a -qmp the default monitor goes: serial alone on stdio */
    ok_line(&p, "-nographic -qmp unix:/tmp/q,server=on,wait=off");
    g_assert_cmpuint(p.cfg.monitors->len, ==, 1);
    g_assert_cmpstr(chardev_at(&p, 1), ==, "stdio,id=serial0");
    parsed_clear(&p);

    /* with a -serial, the default monitor is on stdio */
    ok_line(&p, "-nographic -serial null");
    g_assert_cmpstr(chardev_at(&p, 0), ==, "null,id=serial0");
    g_assert_cmpstr(chardev_at(&p, 1), ==, "stdio,id=compat_monitor0");
    g_assert_cmpuint(p.cfg.monitors->len, ==, 1);
    parsed_clear(&p);

    /* -serial mon:... carries the monitor: no second one on stdio */
    ok_line(&p, "-nographic -serial mon:stdio");
    g_assert_cmpuint(p.cfg.chardevs->len, ==, 1);
    g_assert_cmpstr(chardev_at(&p, 0), ==, "stdio,id=serial0,mux=on");
    g_assert_cmpuint(p.cfg.monitors->len, ==, 1);
    parsed_clear(&p);

    ok_line(&p, "-nographic -nodefaults");
    g_assert_cmpuint(p.cfg.chardevs->len, ==, 0);
    g_assert_cmpuint(p.cfg.monitors->len, ==, 0);
    parsed_clear(&p);

    err_line("-nographic -serial stdio", "cannot use stdio by multiple");
}

static void test_display_and_flags(void)
{
    struct parsed p;

    ok_line(&p, "-display none -nodefaults -no-user-config -S -no-reboot "
                "-no-shutdown -pidfile /run/v.pid -D /tmp/log");
    g_assert_true(p.cfg.display_none);
    g_assert_true(p.cfg.nodefaults);
    g_assert_true(p.cfg.no_user_config);
    g_assert_true(p.cfg.start_paused);
    g_assert_true(p.cfg.no_reboot);
    g_assert_true(p.cfg.no_shutdown);
    g_assert_false(p.cfg.daemonize);
    g_assert_cmpstr(p.cfg.pidfile, ==, "/run/v.pid");
    g_assert_cmpstr(p.cfg.logfile, ==, "/tmp/log");
    g_assert_cmpuint(p.cfg.serials->len, ==, 0);
    parsed_clear(&p);

    ok_line(&p, "--display type=none");
    g_assert_true(p.cfg.display_none);
    parsed_clear(&p);
    parse_line(&p, "-display help");
    g_assert_cmpint(p.r, ==, VL_EXIT_OK);
    g_assert_nonnull(strstr(p.out->str, "none"));
    parsed_clear(&p);
    err_line("-display gtk", "-display: display 'gtk' is not supported");
    err_line("-display none,foo=1", "invalid parameter 'foo'");
    err_line("-display none,foo", "expected 'key=value'");
}

static void test_daemonize(void)
{
    struct parsed p;

    /* QEMU's default serial would be a console: nothing on stdio */
    ok_line(&p, "-daemonize");
    g_assert_true(p.cfg.daemonize);
    g_assert_cmpstr(chardev_at(&p, 0), ==, "null,id=serial0");
    parsed_clear(&p);
    ok_line(&p, "-daemonize -nographic -nodefaults");
    parsed_clear(&p);
    err_line("-daemonize -serial stdio", "cannot use stdio with -daemonize");
    err_line("-daemonize -nodefaults -qmp stdio",
             "chardev 'compat_monitor0': cannot use stdio with -daemonize");
    err_line("-nographic -daemonize",
             "-nographic cannot be used with -daemonize");
}

static void test_name_uuid(void)
{
    static const uint8_t want[16] = {0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc,
                                     0xde, 0xf0, 0x12, 0x34, 0x56, 0x78,
                                     0x9a, 0xbc, 0xde, 0xf0};
    struct parsed p;

    ok_line(&p, "-name foo");
    g_assert_cmpstr(p.cfg.name, ==, "foo");
    parsed_clear(&p);
    ok_line(&p, "-name guest=bar,debug-threads=on");
    g_assert_cmpstr(p.cfg.name, ==, "bar");
    parsed_clear(&p);
    err_line("-name guest=foo,bar=1", "invalid parameter 'bar'");
    err_line("-name foo,process=x", "parameter 'process' is not supported");
    err_line("-name foo,debug-threads=maybe", "'debug-threads' expects");

    ok_line(&p, "-uuid 12345678-9abc-DEF0-1234-56789abcdef0");
    g_assert_true(p.cfg.has_uuid);
    g_assert_cmpmem(p.cfg.uuid, 16, want, 16);
    parsed_clear(&p);
    err_line("-uuid xyz", "-uuid: failed to parse UUID string");
    err_line("-uuid 12345678-9abc-def0-1234-56789abcdefg", "wrong format");
    err_line("-uuid 123456789-abc-def0-1234-56789abcdef0", "wrong format");
    err_line("-uuid 12345678-9abc-def0-1234-56789abcdef00", "wrong format");
}

static void test_log(void)
{
    struct parsed p;

    ok_line(&p, "-d guest_errors,unimp");
    g_assert_cmpuint(p.cfg.log_mask, ==, VLOG_GUEST_ERROR | VLOG_UNIMP);
    parsed_clear(&p);
    parse_line(&p, "-d help");
    g_assert_cmpint(p.r, ==, VL_EXIT_OK);
    g_assert_nonnull(strstr(p.out->str, "guest_errors"));
    parsed_clear(&p);
    err_line("-d foo", "-d: unknown log item 'foo'");
}

static void test_device(void)
{
    struct parsed p;

    const struct device_opts *o;

    ok_line(&p, "-device isa-serial,id=s0,index=2 -device isa-debug-exit");
    g_assert_cmpuint(p.cfg.devices->len, ==, 2);
    /* parsed once, here: class, id and typed values */
    o = g_ptr_array_index(p.cfg.devices, 0);
    g_assert_cmpstr(o->text, ==, "isa-serial,id=s0,index=2");
    g_assert_cmpstr(o->cls->name, ==, "isa-serial");
    g_assert_cmpstr(o->id, ==, "s0");
    g_assert_cmpuint(o->n, ==, 1);
    g_assert_cmpstr(o->values[0].name, ==, "index");
    g_assert_cmpuint(o->values[0].u, ==, 2);
    parsed_clear(&p);
    /* libvirt's JSON form ("\x1f" is a space inside the argument) */
    ok_line(&p, "-device {\"driver\":\"isa-debug-exit\",\x1f\"id\":\"dx\","
                "\"iobase\":244,\"iosize\":4}");
    o = g_ptr_array_index(p.cfg.devices, 0);
    g_assert_cmpstr(o->cls->name, ==, "isa-debug-exit");
    g_assert_cmpstr(o->id, ==, "dx");
    g_assert_cmpuint(o->n, ==, 2);
    g_assert_cmpuint(o->values[0].u, ==, 244);
    g_assert_cmpuint(o->values[1].u, ==, 4);
    parsed_clear(&p);
    /* checked before any machine exists, in QEMU's "-device TEXT:" form */
    err_line("-device nosuch", "-device nosuch: 'nosuch' is not a valid "
                               "device model name");
    err_line("-device isa-debug-exit,bogus=1",
             "-device isa-debug-exit,bogus=1: isa-debug-exit: invalid "
             "parameter 'bogus'");
    err_line("-device isa-debug-exit,iobase=zz", "does not accept 'zz'");
    err_line("-device port80", "cannot be created with -device");
    err_line("-device isa-serial,id=9x", "Parameter 'id' expects an "
                                         "identifier");
    err_line("-device {\"driver\":\"isa-debug-exit\",\"iobase\":\"0xf4\"}",
             "Invalid parameter type for 'iobase', expected: integer");
    err_line("-device {\"driver\":\"isa-debug-exit\",\"nope\":1}",
             "Property 'isa-debug-exit.nope' not found");
    err_line("-device {\"driver\":", "-device {\"driver\":: ");
    err_line("-device {\"id\":\"x\"}", "Parameter 'driver' is missing");
    parse_line(&p, "-device help");
    g_assert_cmpint(p.r, ==, VL_EXIT_OK);
    g_assert_cmpstr(p.cfg.help_request, ==, "device");
    parsed_clear(&p);
    parse_line(&p, "-device isa-serial,help");
    g_assert_cmpint(p.r, ==, VL_EXIT_OK);
    g_assert_cmpstr(p.cfg.help_request, ==, "device:isa-serial");
    parsed_clear(&p);
    err_line("-device", "-device: requires an argument");
    {
        /* an empty argument cannot be written with parse_line */
        char *argv[] = {"vireo", "-device", "", NULL};
        struct machine_config cfg;
        GString *out = g_string_new(NULL);
        Error *err = NULL;

        machine_config_init(&cfg);
        g_assert_cmpint(vl_parse(3, argv, &cfg, out, &err), ==, VL_ERROR);
        g_assert_nonnull(strstr(error_get_pretty(err), "missing driver"));
        error_free(err);
        machine_config_clear(&cfg);
        g_string_free(out, TRUE);
    }
}

static void test_rtc(void)
{
    static const struct {
        const char *arg, *base;
    } ok[] = {
        {"base=utc", "utc"},
        {"base=localtime", "localtime"},
        {"base=2006-06-17", "2006-06-17"},
        {"base=2006-06-17T16:01:21", "2006-06-17T16:01:21"},
        {"base=localtime,clock=host,driftfix=none", "localtime"},
        {"clock=host", "utc"},
    };
    struct parsed p;

    for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
        char *line = g_strdup_printf("-rtc %s", ok[i].arg);
        ok_line(&p, line);
        g_assert_cmpstr(p.cfg.rtc_base, ==, ok[i].base);
        parsed_clear(&p);
        g_free(line);
    }
    err_line("-rtc base=foo", "invalid datetime format 'foo'");
    err_line("-rtc base=2006-13-01", "invalid datetime format");
    err_line("-rtc base=2006-06-17T25:00:00", "invalid datetime format");
    err_line("-rtc clock=vm", "clock=vm is not supported");
    err_line("-rtc driftfix=slew", "driftfix=slew is not supported");
    err_line("-rtc base=utc,foo=1", "-rtc: invalid parameter 'foo'");
    err_line("-rtc utc", "expected 'key=value'");
}

static void test_sandbox(void)
{
    struct parsed p;

    ok_line(&p, "-sandbox off");
    g_assert_false(p.cfg.sandbox);
    parsed_clear(&p);
    ok_line(&p, "-sandbox on,obsolete=deny,elevateprivileges=deny,spawn=deny,"
                "resourcecontrol=deny");
    g_assert_true(p.cfg.sandbox);
    parsed_clear(&p);
    err_line("-sandbox maybe", "'enable' expects 'on' or 'off'");
    err_line("-sandbox on,spawn=allow", "spawn=allow is not supported");
    err_line("-sandbox obsolete=deny", "parameter 'enable' is missing");
    err_line("-sandbox on,foo=1", "-sandbox: invalid parameter 'foo'");
}

static void test_add_fd(void)
{
    struct parsed p;
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    char *line;

    g_assert_cmpint(fd, >, 2);
    line = g_strdup_printf("-add-fd fd=%d,set=2,opaque=rdonly", fd);
    ok_line(&p, line);
    g_assert_cmpuint(p.cfg.add_fds->len, ==, 1);
    g_assert_cmpstr(g_ptr_array_index(p.cfg.add_fds, 0), ==, line + 8);
    parsed_clear(&p);
    g_free(line);
    line = g_strdup_printf("-add-fd fd=%d", fd);
    err_line(line, "parameter 'set' is missing");
    g_free(line);
    close(fd);
    line = g_strdup_printf("-add-fd fd=%d,set=1", fd);
    err_line(line, "is not valid or already in use");
    g_free(line);
    err_line("-add-fd fd=1,set=1", "fd 1 is not valid");
    fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    line = g_strdup_printf("-add-fd fd=%d,set=18446744073709551615", fd);
    err_line(line, "out of range");
    g_free(line);
    close(fd);
    err_line("-add-fd set=1", "parameter 'fd' is missing");
    err_line("-add-fd fd=x,set=1", "'fd' expects a number");
    err_line("-add-fd fd=3,set=1,foo=2", "-add-fd: invalid parameter 'foo'");
    err_line("-add-fd 3", "expected 'key=value'");
}

/* What libvirt 9.0 puts on a QEMU command line (libvirt-qmp.md, 3.1). */
static void test_libvirt_options(void)
{
    struct parsed p;

    ok_line(&p, "-machine none,accel=kvm:tcg");
    g_assert_cmpstr(p.cfg.machine_type, ==, "none");
    g_assert_true(p.cfg.accel_fallback);
    g_assert_cmpuint(p.cfg.serials->len, ==, 0); /* none has no serial */
    parsed_clear(&p);
    ok_line(&p, "-machine microvm,accel=kvm");
    g_assert_false(p.cfg.accel_fallback);
    parsed_clear(&p);
    err_line("-machine pc", "unsupported machine type 'pc'");

    ok_line(&p, "-object {\"qom-type\":\"secret\",\"id\":\"masterKey0\","
                "\"format\":\"raw\",\"file\":\"/k\"} "
                "-object memory-backend-ram,id=pc.ram,size=67108864 "
                "-overcommit mem-lock=off -boot strict=on -msg timestamp=on "
                "-audiodev {\"id\":\"audio1\",\"driver\":\"none\"} "
                "-audiodev none,id=a2 -no-acpi -incoming defer");
    g_assert_cmpuint(p.cfg.objects->len, ==, 2);
    g_assert_cmpuint(p.cfg.audiodevs->len, ==, 2);
    g_assert_true(p.cfg.msg_timestamp);
    g_assert_cmpstr(p.cfg.incoming, ==, "defer");
    g_assert_nonnull(strstr(p.cfg.machine_opts, "acpi=off"));
    parsed_clear(&p);

    /* without -m, RAM is the backend's size (QEMU's rule) */
    ok_line(&p, "-object memory-backend-ram,id=r,size=48M "
                "-machine microvm,memory-backend=r");
    g_assert_cmpuint(p.cfg.ram_size, ==, 48 * MiB);
    parsed_clear(&p);
    ok_line(&p, "-object memory-backend-ram,id=r,size=48M -m 64 "
                "-machine microvm,memory-backend=r");
    g_assert_cmpuint(p.cfg.ram_size, ==, 64 * MiB); /* the machine refuses */
    parsed_clear(&p);

    err_line("-object secret,id=a,data=x -object secret,id=a,data=y",
             "duplicate property 'a'");
    err_line("-object nosuch,id=a", "-object: invalid object type: nosuch");
    err_line("-overcommit mem-lock=on", "mem-lock=on is not supported");
    err_line("-overcommit cpu-pm=on", "cpu-pm=on is not supported");
    err_line("-overcommit mem-lock=on-fault", "on-fault is not supported");
    err_line("-overcommit foo=off", "invalid parameter 'foo'");
    err_line("-boot order=c", "invalid parameter 'order'");
    err_line("-boot c", "boot order 'c' is not supported");
    err_line("-msg guest-name=on", "guest-name=on is not supported");
    err_line("-audiodev pa,id=a", "audio driver 'pa' is not supported");
    err_line("-audiodev none", "Parameter 'id' is missing");
    err_line("-audiodev {\"id\":\"a\",\"driver\":\"none\",\"x\":1}",
             "Parameter 'x' is unexpected");
    err_line("-audiodev none,id=a -audiodev none,id=a", "duplicate audiodev");
}

/* The whole command line libvirt 9.0 gave QEMU 7.2 for a minimal domain
 * (libvirt-qmp.md 3.1), with vireo's machine and keyval -device. */
static void test_libvirt_argv(void)
{
    struct parsed p;
    int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    char *line = g_strdup_printf(
        "-name guest=cap1,debug-threads=on -S "
        "-object {\"qom-type\":\"secret\",\"id\":\"masterKey0\","
        "\"format\":\"raw\",\"file\":\"/var/lib/libvirt/qemu/"
        "domain-1-cap1/master-key.aes\"} "
        "-machine microvm,usb=off,dump-guest-core=off,"
        "memory-backend=microvm.ram -accel kvm -cpu qemu64 "
        "-bios /tmp/fw.bin -m 64 "
        "-object {\"qom-type\":\"memory-backend-ram\",\"id\":"
        "\"microvm.ram\",\"size\":67108864} "
        "-overcommit mem-lock=off -smp 1,sockets=1,cores=1,threads=1 "
        "-uuid 3a7e3c36-0f35-4c4d-9a4f-2f6b6c2d5e11 -display none "
        "-no-user-config -nodefaults "
        "-chardev socket,id=charmonitor,fd=%d,server=on,wait=off "
        "-mon chardev=charmonitor,id=monitor,mode=control -rtc base=utc "
        "-no-shutdown -boot strict=on "
        "-add-fd set=0,fd=%d,opaque=serial0-log "
        "-chardev pty,id=charserial0,logfile=/dev/fdset/0,logappend=on "
        "-device isa-serial,chardev=charserial0,id=serial0,index=0 "
        "-audiodev {\"id\":\"audio1\",\"driver\":\"none\"} "
        "-sandbox on,obsolete=deny,elevateprivileges=deny,spawn=deny,"
        "resourcecontrol=deny -msg timestamp=on",
        fd, fd);

    ok_line(&p, line);
    g_assert_true(p.cfg.start_paused);
    g_assert_true(p.cfg.no_shutdown);
    g_assert_cmpuint(p.cfg.objects->len, ==, 2);
    g_assert_cmpuint(p.cfg.chardevs->len, ==, 2);
    g_assert_cmpuint(p.cfg.devices->len, ==, 1);
    g_assert_cmpuint(p.cfg.ram_size, ==, 64 * MiB);
    parsed_clear(&p);
    g_free(line);
    close(fd);
}

/*
 * What libvirt 9.0 generates for a q35 domain with a virtio disk, a virtio
 * NIC, a virtio-serial channel and the default balloon (docs/libvirt.md's
 * q35 domain; `virsh domxml-to-native qemu-argv`, with the NIC as
 * libvirt-qmp.md records it and the monitor and channel sockets passed as
 * fds, as on a real start; the disk's "bootindex":1 is accepted and has
 * no effect: no fw_cfg hands a boot order to firmware).  Every
 * option parses, and the -machine keys are
 * ones q35 takes (what machine_new checks before opening /dev/kvm).
 */
static void test_libvirt_argv_q35(void)
{
    struct parsed p;
    Error *err = NULL;
    int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    char *line = g_strdup_printf(
        "-name guest=vireo-q35,debug-threads=on -S "
        "-object {\"qom-type\":\"secret\",\"id\":\"masterKey0\","
        "\"format\":\"raw\",\"file\":\"/var/lib/libvirt/qemu/"
        "domain-1-vireo-q35/master-key.aes\"} "
        "-machine pc-q35-7.2,usb=off,dump-guest-core=off,memory-backend=pc.ram "
        "-accel kvm -cpu qemu64 -m 256 "
        "-object {\"qom-type\":\"memory-backend-ram\",\"id\":\"pc.ram\","
        "\"size\":268435456} "
        "-overcommit mem-lock=off -smp 1,sockets=1,cores=1,threads=1 "
        "-uuid 1eaa6e63-73b9-40ca-b69d-24bf8dd53ad0 -display none "
        "-no-user-config -nodefaults "
        "-chardev socket,id=charmonitor,fd=%d,server=on,wait=off "
        "-mon chardev=charmonitor,id=monitor,mode=control -rtc base=utc "
        "-no-shutdown -boot strict=on "
        "-kernel /var/lib/libvirt/images/bzImage "
        "-append console=ttyS0\x1froot=/dev/vda "
        "-device {\"driver\":\"pcie-root-port\",\"port\":8,\"chassis\":1,"
        "\"id\":\"pci.1\",\"bus\":\"pcie.0\",\"multifunction\":true,"
        "\"addr\":\"0x1\"} "
        "-device {\"driver\":\"pcie-root-port\",\"port\":9,\"chassis\":2,"
        "\"id\":\"pci.2\",\"bus\":\"pcie.0\",\"addr\":\"0x1.0x1\"} "
        "-device {\"driver\":\"pcie-root-port\",\"port\":10,\"chassis\":3,"
        "\"id\":\"pci.3\",\"bus\":\"pcie.0\",\"addr\":\"0x1.0x2\"} "
        "-device {\"driver\":\"pcie-root-port\",\"port\":11,\"chassis\":4,"
        "\"id\":\"pci.4\",\"bus\":\"pcie.0\",\"addr\":\"0x1.0x3\"} "
        "-device {\"driver\":\"pcie-root-port\",\"port\":12,\"chassis\":5,"
        "\"id\":\"pci.5\",\"bus\":\"pcie.0\",\"addr\":\"0x1.0x4\"} "
        "-device {\"driver\":\"virtio-serial-pci\",\"id\":\"virtio-serial0\","
        "\"bus\":\"pci.2\",\"addr\":\"0x0\"} "
        "-blockdev {\"driver\":\"file\",\"filename\":"
        "\"/var/lib/libvirt/images/root.img\",\"node-name\":"
        "\"libvirt-1-storage\",\"auto-read-only\":true,\"discard\":"
        "\"unmap\"} "
        "-blockdev {\"node-name\":\"libvirt-1-format\",\"read-only\":false,"
        "\"driver\":\"raw\",\"file\":\"libvirt-1-storage\"} "
        "-device {\"driver\":\"virtio-blk-pci\",\"bus\":\"pci.3\","
        "\"addr\":\"0x0\",\"drive\":\"libvirt-1-format\",\"id\":"
        "\"virtio-disk0\",\"bootindex\":1} "
        "-netdev {\"type\":\"user\",\"id\":\"hostnet0\"} "
        "-device {\"driver\":\"virtio-net-pci\",\"netdev\":\"hostnet0\","
        "\"id\":\"net0\",\"mac\":\"52:54:00:12:34:56\",\"bus\":\"pci.1\","
        "\"addr\":\"0x0\"} "
        "-chardev pty,id=charserial0 "
        "-device {\"driver\":\"isa-serial\",\"chardev\":\"charserial0\","
        "\"id\":\"serial0\",\"index\":0} "
        "-chardev socket,id=charchannel0,fd=%d,server=on,wait=off "
        "-device {\"driver\":\"virtserialport\",\"bus\":\"virtio-serial0.0\","
        "\"nr\":1,\"chardev\":\"charchannel0\",\"id\":\"channel0\","
        "\"name\":\"org.qemu.guest_agent.0\"} "
        "-audiodev {\"id\":\"audio1\",\"driver\":\"none\"} "
        "-device {\"driver\":\"virtio-balloon-pci\",\"id\":\"balloon0\","
        "\"bus\":\"pci.4\",\"addr\":\"0x0\"} "
        "-sandbox on,obsolete=deny,elevateprivileges=deny,spawn=deny,"
        "resourcecontrol=deny -msg timestamp=on",
        fd, fd);

    ok_line(&p, line);
    if (!machine_check_opts(&p.cfg, &err)) {
        g_error("%s", error_get_pretty(err));
    }
    g_assert_cmpstr(p.cfg.machine_type, ==, "pc-q35-7.2");
    g_assert_cmpstr(p.cfg.append, ==, "console=ttyS0 root=/dev/vda");
    g_assert_cmpuint(p.cfg.objects->len, ==, 2);
    g_assert_cmpuint(p.cfg.chardevs->len, ==, 3);
    g_assert_cmpuint(p.cfg.devices->len, ==, 11);
    g_assert_cmpuint(p.cfg.blockdevs->len, ==, 2);
    g_assert_cmpuint(p.cfg.netdevs->len, ==, 1);
    g_assert_cmpuint(p.cfg.ram_size, ==, 256 * MiB);
    parsed_clear(&p);
    g_free(line);
    /* before the fix: any of these was "invalid parameter" on q35 */
    ok_line(&p, "-M q35,usb=off,dump-guest-core=off,acpi=on "
                "-object memory-backend-ram,id=pc.ram,size=64M "
                "-machine memory-backend=pc.ram");
    if (!machine_check_opts(&p.cfg, &err)) {
        g_error("%s", error_get_pretty(err));
    }
    g_assert_cmpuint(p.cfg.ram_size, ==, 64 * MiB);
    parsed_clear(&p);
    ok_line(&p, "-M q35 -no-acpi");
    if (!machine_check_opts(&p.cfg, &err)) {
        g_error("%s", error_get_pretty(err));
    }
    parsed_clear(&p);
    ok_line(&p, "-M q35,pic=off");
    g_assert_false(machine_check_opts(&p.cfg, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "pic"));
    error_free(err);
    parsed_clear(&p);
    close(fd);
}

/* An option's error names the option once (the parsers of -drive and
 * -blockdev say it themselves; it was "-drive: -drive: ..."). */
static void test_error_prefix_once(void)
{
    static const char *const cases[][2] = {
        {"-drive file=x,if=ide",
         "-drive: if=ide is not supported by vireo (use if=virtio or "
         "if=none)"},
        {"-drive if=virtio,file=x,foo=1", "-drive: invalid parameter 'foo'"},
        {"-blockdev driver=raw,node-name=a,file..x=1",
         "-blockdev: invalid key 'file..x'"},
        {"-blockdev driver=file,filename=/x,node-name=n,aio=bogus",
         "-blockdev: invalid aio option 'bogus'"},
        {"-m lots", "-m: "},
    };

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        struct parsed p;

        parse_line(&p, cases[i][0]);
        g_assert_cmpint(p.r, ==, VL_ERROR);
        if (i + 1 < G_N_ELEMENTS(cases)) {
            g_assert_cmpstr(p.err, ==, cases[i][1]);
        } else {
            g_assert_true(g_str_has_prefix(p.err, cases[i][1]));
        }
        parsed_clear(&p);
    }
}

static void test_help_version(void)
{
    static const char *const opts[] = {
        "-machine",     "-M",
        "-accel",       "-enable-kvm",
        "-cpu",         "-smp",
        "-m ",          "-bios",
        "-kernel",      "-initrd",
        "-append",      "-dtb",
        "-serial",      "-chardev",
        "-qmp",         "-monitor",
        "-mon ",        "-add-fd",
        "-nographic",   "-display",
        "-nodefaults",  "-no-user-config",
        "-name",        "-uuid",
        "-S ",          "-no-reboot",
        "-no-shutdown", "-daemonize",
        "-pidfile",     "-D ",
        "-d ",          "-device",
        "-rtc",         "-sandbox",
        "-version",     "-h ",
        "-help",
    };
    static const char *const helps[] = {"-h", "-help", "--help"};
    struct parsed p;

    for (size_t h = 0; h < ARRAY_SIZE(helps); h++) {
        parse_line(&p, helps[h]);
        g_assert_cmpint(p.r, ==, VL_EXIT_OK);
        for (size_t i = 0; i < ARRAY_SIZE(opts); i++) {
            if (!strstr(p.out->str, opts[i])) {
                g_error("%s does not list %s", helps[h], opts[i]);
            }
        }
        parsed_clear(&p);
    }
    parse_line(&p, "-version");
    g_assert_cmpint(p.r, ==, VL_EXIT_OK);
    g_assert_true(g_str_has_prefix(p.out->str, "QEMU emulator version 7.2.0"));
    parsed_clear(&p);
    /* the first -version wins over later errors, as QEMU exits there */
    parse_line(&p, "--version -foo");
    g_assert_cmpint(p.r, ==, VL_EXIT_OK);
    parsed_clear(&p);
}

/* True if a ".TP" header line of the man page names the option (roff
 * text, "\-name"), not just a longer one starting the same way. */
static bool man_documents(gchar **lines, const char *roff)
{
    for (gchar **l = lines; *l && l[1]; l++) {
        const char *hit;

        if (strcmp(*l, ".TP") != 0) {
            continue;
        }
        for (hit = strstr(l[1], roff); hit; hit = strstr(hit + 1, roff)) {
            char next = hit[strlen(roff)];
            if (!g_ascii_isalnum(next) && next != '\\') {
                return true;
            }
        }
    }
    return false;
}

/* docs/vireo.1 documents every option -h lists. */
static void test_man_page(void)
{
    char *dir = g_path_get_dirname(__FILE__);
    char *path = g_build_filename(dir, "..", "..", "docs", "vireo.1", NULL);
    char *man = NULL;
    struct parsed p;
    gchar **lines, **man_lines;

    if (!g_file_get_contents(path, &man, NULL, NULL)) {
        g_test_skip("docs/vireo.1 not found from the build directory");
        g_free(path);
        g_free(dir);
        return;
    }
    man_lines = g_strsplit(man, "\n", -1);
    parse_line(&p, "-h");
    lines = g_strsplit(p.out->str, "\n", -1);
    for (gchar **l = lines; *l; l++) {
        gchar **parts;
        char *opt, *roff;

        if ((*l)[0] != '-') {
            continue;
        }
        opt = g_strndup(*l, strcspn(*l, " "));
        /* roff writes the dashes of an option name as "\-" */
        parts = g_strsplit(opt, "-", -1);
        roff = g_strjoinv("\\-", parts);
        g_strfreev(parts);
        if (!man_documents(man_lines, roff)) {
            g_error("docs/vireo.1 does not document %s", opt);
        }
        g_free(roff);
        g_free(opt);
    }
    g_strfreev(lines);
    g_strfreev(man_lines);
    parsed_clear(&p);
    g_free(man);
    g_free(path);
    g_free(dir);
}

/* -object sev-guest / sev-snp-guest and the machine's reference to it. */
static void test_sev_object(void)
{
    struct parsed p;

    ok_line(&p, "-object sev-guest,id=sev0,cbitpos=47,reduced-phys-bits=1,"
                "policy=0x5 -machine confidential-guest-support=sev0");
    g_assert_nonnull(p.cfg.sev);
    g_assert_true(p.cfg.sev_enabled);
    g_assert_cmpuint(p.cfg.sev->mode, ==, SEV_MODE_ES);
    g_assert_cmpuint(p.cfg.sev->cbitpos, ==, 47);
    g_assert_cmpuint(p.cfg.sev->reduced_phys_bits, ==, 1);
    parsed_clear(&p);

    ok_line(&p, "-object sev-guest,id=s");
    g_assert_false(p.cfg.sev_enabled); /* created, not used: as QEMU */
    g_assert_cmpuint(p.cfg.sev->policy, ==, 1);
    g_assert_cmpuint(p.cfg.sev->mode, ==, SEV_MODE_SEV);
    parsed_clear(&p);

    ok_line(&p, "-object sev-snp-guest,id=snp,host-data="
                "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= "
                "-machine memory-encryption=snp -measure-launch");
    g_assert_true(p.cfg.measure_launch);
    g_assert_cmpuint(p.cfg.sev->mode, ==, SEV_MODE_SNP);
    g_assert_cmphex(p.cfg.sev->policy, ==, 0x30000);
    g_assert_true(p.cfg.sev->has_host_data);
    parsed_clear(&p);

    err_line("-object sev-guest", "'id' is missing");
    err_line("-object sev-guest,id=9x", "expects an identifier");
    err_line("-object sev-guest,id=s,policy=-1", "'policy' expects uint32_t");
    err_line("-object sev-guest,id=s,handle=0x1ffffffff",
             "'handle' expects uint32_t");
    err_line("-object sev-guest,id=s,cbitpos=64", "cbitpos 64");
    err_line("-object sev-guest,id=s,reduced-phys-bits=0",
             "reduced-phys-bits 0");
    err_line("-object sev-guest,id=s,handle=x", "'handle' expects uint32_t");
    err_line("-object sev-guest,id=s,id-block=AAAA", "'id-block'");
    err_line("-object sev-snp-guest,id=s,policy=0", "bit 17");
    err_line("-object sev-snp-guest,id=s,policy=0x80030000", "reserved bits");
    err_line("-object sev-snp-guest,id=s,guest-visible-workarounds=AAAA",
             "decodes to 3 bytes, must be 16");
    err_line("-object sev-snp-guest,id=s,id-block=A===", "not valid base64");
    err_line("-object sev-snp-guest,id=s,id-auth=AAAA", "'id-auth'");
    err_line("-object sev-snp-guest,id=s,author-key-enabled=2",
             "'author-key-enabled' expects");
    err_line("-object sev-snp-guest,id=s,dh-cert-file=/x",
             "invalid parameter 'dh-cert-file'");
    err_line("-object sev-guest,id=a -object sev-guest,id=b",
             "only one sev-guest");
    err_line("-object iothread,id=io", "invalid object type: iothread");
    /* SEV objects go through the -object table: JSON form too */
    ok_line(&p, "-object {\"qom-type\":\"sev-snp-guest\",\"id\":\"snp\","
                "\"policy\":196608,\"author-key-enabled\":false} "
                "-machine confidential-guest-support=snp");
    g_assert_nonnull(p.cfg.sev);
    g_assert_true(p.cfg.sev_enabled);
    g_assert_cmpuint(p.cfg.sev->mode, ==, SEV_MODE_SNP);
    g_assert_cmphex(p.cfg.sev->policy, ==, 0x30000);
    g_assert_nonnull(object_find(p.cfg.objects, "snp"));
    parsed_clear(&p);
    err_line("-object {\"qom-type\":\"sev-guest\",\"id\":\"s\","
             "\"cbitpos\":[1]}",
             "Invalid parameter type for 'cbitpos'");
    err_line("-object {\"qom-type\":\"sev-guest\",\"id\":\"s\","
             "\"x=1,policy\":1}",
             "unexpected for sev-guest");
    err_line("-machine confidential-guest-support=x",
             "confidential-guest-support=x: no sev-guest");
    err_line("-object sev-guest,id=a -machine memory-encryption=b",
             "memory-encryption=b");
}

static void test_syntax(void)
{
    struct parsed p;

    ok_line(&p, "--m 256 --smp 2");
    g_assert_cmpuint(p.cfg.ram_size, ==, 256 * MiB);
    g_assert_cmpuint(p.cfg.smp_cpus, ==, 2);
    parsed_clear(&p);
    err_line("-foo", "-foo: invalid option");
    err_line("--foo", "--foo: invalid option");
    err_line("-m=100", "-m=100: invalid option");
    err_line("---m 100", "---m: invalid option");
    err_line("disk.img", "disk.img: a disk image without an option");
    err_line("-", "-: a disk image without an option");
    /* errors stop at the first bad option */
    err_line("-m abc -foo", "-m: invalid RAM size 'abc'");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/vl/defaults", test_defaults);
    g_test_add_func("/vl/sev-object", test_sev_object);
    g_test_add_func("/vl/machine", test_machine);
    g_test_add_func("/vl/accel", test_accel);
    g_test_add_func("/vl/cpu", test_cpu);
    g_test_add_func("/vl/smp", test_smp);
    g_test_add_func("/vl/m", test_m);
    g_test_add_func("/vl/boot-files", test_boot_files);
    g_test_add_func("/vl/serial", test_serial);
    g_test_add_func("/vl/compat", test_compat);
    g_test_add_func("/vl/chardev", test_chardev);
    g_test_add_func("/vl/monitors", test_monitors);
    g_test_add_func("/vl/nographic", test_nographic);
    g_test_add_func("/vl/display-flags", test_display_and_flags);
    g_test_add_func("/vl/daemonize", test_daemonize);
    g_test_add_func("/vl/name-uuid", test_name_uuid);
    g_test_add_func("/vl/log", test_log);
    g_test_add_func("/vl/device", test_device);
    g_test_add_func("/vl/rtc", test_rtc);
    g_test_add_func("/vl/sandbox", test_sandbox);
    g_test_add_func("/vl/add-fd", test_add_fd);
    g_test_add_func("/vl/libvirt-options", test_libvirt_options);
    g_test_add_func("/vl/libvirt-argv", test_libvirt_argv);
    g_test_add_func("/vl/libvirt-argv-q35", test_libvirt_argv_q35);
    g_test_add_func("/vl/error-prefix-once", test_error_prefix_once);
    g_test_add_func("/vl/help-version", test_help_version);
    g_test_add_func("/vl/syntax", test_syntax);
    g_test_add_func("/vl/man-page", test_man_page);
    return g_test_run();
}
