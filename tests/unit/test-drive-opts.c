/* SPDX-License-Identifier: MIT */
/*
 * test-drive-opts.c: -drive and -blockdev (dotted and JSON, libvirt's
 * two-node form) parsed into typed structs (hw/block/drive-opts.c), and
 * the precise error for each thing vireo refuses.
 */
#include "util/common.h"
#include "hw/block/drive-opts.h"

/* err must be set and mention needle; frees it. */
static void check_error(Error *err, const char *text, const char *needle)
{
    g_assert_nonnull(err);
    if (!strstr(error_get_pretty(err), needle)) {
        g_error("'%s': got '%s', wanted '%s'", text, error_get_pretty(err),
                needle);
    }
    error_free(err);
}

static void expect_drive_error(const char *text, const char *needle)
{
    struct drive_opts o;
    Error *err = NULL;

    g_assert_false(drive_parse(text, &o, &err));
    check_error(err, text, needle);
}

static void test_drive(void)
{
    struct drive_opts o;
    Error *err = NULL;

    g_assert_true(drive_parse("file=/img/a.raw,format=raw,if=virtio,id=d0,"
                              "readonly=on,cache=none,aio=io_uring",
                              &o, &err));
    g_assert_cmpstr(o.file, ==, "/img/a.raw");
    g_assert_cmpstr(o.id, ==, "d0");
    g_assert_cmpint(o.iface, ==, DRIVE_IF_VIRTIO);
    g_assert_true(o.readonly);
    g_assert_cmpint(o.cache, ==, BLK_CACHE_NONE);
    g_assert_cmpint(o.aio, ==, BLK_AIO_IO_URING);
    drive_opts_clear(&o);
    /* defaults; commas in the path; file.locking; discard */
    g_assert_true(drive_parse("file=/a,,b.img,if=none,file.locking=off,"
                              "discard=unmap",
                              &o, &err));
    g_assert_cmpstr(o.file, ==, "/a,b.img");
    g_assert_null(o.id);
    g_assert_cmpint(o.iface, ==, DRIVE_IF_NONE);
    g_assert_false(o.readonly);
    g_assert_cmpint(o.cache, ==, BLK_CACHE_WRITEBACK);
    g_assert_cmpint(o.aio, ==, BLK_AIO_THREADS);
    g_assert_cmpint(o.locking, ==, BLK_LOCKING_OFF);
    g_assert_true(o.discard_unmap);
    drive_opts_clear(&o);
    g_assert_true(
        drive_parse("file=x,if=none,read-only=on,cache=unsafe", &o, &err));
    g_assert_true(o.readonly);
    g_assert_cmpint(o.cache, ==, BLK_CACHE_UNSAFE);
    drive_opts_clear(&o);
    /* cache.direct / cache.no-flush win over the mode cache= sets */
    {
        static const struct {
            const char *opts;
            enum blk_cache cache;
        } flags[] = {
            {"cache.direct=on", BLK_CACHE_NONE},
            {"cache.no-flush=on", BLK_CACHE_UNSAFE},
            {"cache=unsafe,cache.no-flush=off", BLK_CACHE_WRITEBACK},
            {"cache=none,cache.direct=off", BLK_CACHE_WRITEBACK},
            {"cache.direct=off,cache=none", BLK_CACHE_WRITEBACK},
        };
        for (size_t i = 0; i < ARRAY_SIZE(flags); i++) {
            g_autofree char *t =
                g_strdup_printf("file=x,if=none,%s", flags[i].opts);

            g_assert_true(drive_parse(t, &o, &err));
            g_assert_cmpint(o.cache, ==, flags[i].cache);
            drive_opts_clear(&o);
        }
    }

    expect_drive_error("if=virtio", "file is required");
    expect_drive_error("file=x", "if= is required");
    expect_drive_error("file=x,if=ide", "if=ide is not supported");
    expect_drive_error("file=x,if=bogus", "unsupported bus type 'bogus'");
    expect_drive_error("file=x,if=none,format=qcow2",
                       "format 'qcow2' is not supported");
    expect_drive_error("file=x,if=none,format=zzz", "Unknown driver 'zzz'");
    expect_drive_error("file=x,if=none,cache=directsync",
                       "cache mode 'directsync' is not supported");
    expect_drive_error("file=x,if=none,cache=fast", "invalid cache option");
    expect_drive_error("file=x,if=none,cache=none,cache.no-flush=on",
                       "cache.direct=on with cache.no-flush=on");
    expect_drive_error("file=x,if=none,cache.direct=maybe", "cache.direct");
    expect_drive_error("file=x,if=none,aio=native", "aio=native");
    expect_drive_error("file=x,if=none,readonly=maybe", "readonly");
    expect_drive_error("file=x,if=none,id=0bad", "identifier");
    expect_drive_error("file=x,if=none,werror=stop", "werror");
    expect_drive_error("file=x,if=none,locking=sometimes", "locking");
    expect_drive_error("file=x,if=none,discard=maybe", "discard");
}

static struct blockdev_node *bd(const char *text)
{
    Error *err = NULL;
    struct blockdev_node *n = blockdev_parse(text, &err);

    if (!n) {
        g_error("'%s': %s", text, error_get_pretty(err));
    }
    return n;
}

static void expect_bd_error(const char *text, const char *needle)
{
    Error *err = NULL;

    g_assert_null(blockdev_parse(text, &err));
    check_error(err, text, needle);
}

static void test_blockdev_dotted(void)
{
    GPtrArray *nodes =
        g_ptr_array_new_with_free_func((GDestroyNotify)blockdev_node_free);
    struct drive_opts o;
    Error *err = NULL;

    g_ptr_array_add(nodes, bd("driver=raw,node-name=disk0,file.driver=file,"
                              "file.filename=/img/b.raw,file.aio=io_uring,"
                              "cache.direct=on,read-only=on"));
    g_assert_true(blockdev_resolve(nodes, "disk0", &o, &err));
    g_assert_cmpstr(o.file, ==, "/img/b.raw");
    g_assert_cmpstr(o.id, ==, "disk0");
    g_assert_cmpint(o.cache, ==, BLK_CACHE_NONE);
    g_assert_cmpint(o.aio, ==, BLK_AIO_IO_URING);
    g_assert_true(o.readonly);
    drive_opts_clear(&o);
    /* a file node alone, no-flush: unsafe */
    g_ptr_array_add(nodes, bd("driver=file,node-name=f1,filename=/c,"
                              "cache.no-flush=on,locking=off"));
    g_assert_true(blockdev_resolve(nodes, "f1", &o, &err));
    g_assert_cmpint(o.cache, ==, BLK_CACHE_UNSAFE);
    g_assert_cmpint(o.locking, ==, BLK_LOCKING_OFF);
    drive_opts_clear(&o);
    g_assert_false(blockdev_resolve(nodes, "nope", &o, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "node-name='nope'"));
    error_free(err);
    g_ptr_array_unref(nodes);

    expect_bd_error("driver=qcow2,node-name=a,file=b", "not supported");
    expect_bd_error("driver=zzz,node-name=a", "does not accept value 'zzz'");
    expect_bd_error("node-name=a,filename=/x", "'driver' is missing");
    expect_bd_error("driver=file,filename=/x", "node-name is required");
    expect_bd_error("driver=file,node-name=a", "'filename' is missing");
    expect_bd_error("driver=file,node-name=a,filename=/x,bogus=1",
                    "invalid parameter 'bogus'");
    expect_bd_error("driver=raw,node-name=a,file.driver=file,"
                    "file.filename=/x,file.offset=4",
                    "invalid parameter 'file.offset'");
    expect_bd_error("driver=raw,node-name=a,file=b,file.driver=file",
                    "used inconsistently");
    expect_bd_error("driver=file,node-name=a,filename=/x,read-only=perhaps",
                    "'read-only' expects 'on' or 'off'");
    expect_bd_error("driver=file,node-name=a,filename=/x,cache.writeback=on",
                    "invalid parameter 'cache.writeback'");
    expect_bd_error("driver=raw,node-name=a", "'file' is missing");
    expect_bd_error("driver=raw,node-name=a,file.driver=raw,file.file=x",
                    "must be a file");
}

/* libvirt's form: a storage node and a format node naming it. */
static void test_blockdev_json(void)
{
    GPtrArray *nodes =
        g_ptr_array_new_with_free_func((GDestroyNotify)blockdev_node_free);
    struct drive_opts o;
    Error *err = NULL;

    g_ptr_array_add(
        nodes,
        bd("{\"driver\":\"file\",\"filename\":\"/var/lib/libvirt/images/"
           "d.img\",\"node-name\":\"libvirt-1-storage\",\"auto-read-only\":"
           "true,\"discard\":\"unmap\",\"cache\":{\"direct\":true,"
           "\"no-flush\":false}}"));
    g_ptr_array_add(nodes,
                    bd("{\"node-name\":\"libvirt-1-format\",\"read-only\":"
                       "false,\"cache\":{\"direct\":true,\"no-flush\":false},"
                       "\"driver\":\"raw\",\"file\":\"libvirt-1-storage\"}"));
    g_assert_true(blockdev_resolve(nodes, "libvirt-1-format", &o, &err));
    g_assert_cmpstr(o.file, ==, "/var/lib/libvirt/images/d.img");
    g_assert_cmpint(o.cache, ==, BLK_CACHE_NONE);
    g_assert_false(o.readonly);
    g_assert_true(o.discard_unmap);
    drive_opts_clear(&o);
    /* a reference to a missing node */
    g_ptr_array_add(nodes, bd("{\"driver\":\"raw\",\"node-name\":\"r2\","
                              "\"file\":\"ghost\"}"));
    g_assert_false(blockdev_resolve(nodes, "r2", &o, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "ghost"));
    error_free(err);
    err = NULL;
    /* inline child object */
    g_ptr_array_add(nodes, bd("{\"driver\":\"raw\",\"node-name\":\"r3\","
                              "\"file\":{\"driver\":\"file\",\"filename\":"
                              "\"/z\",\"aio\":\"threads\"}}"));
    g_assert_true(blockdev_resolve(nodes, "r3", &o, &err));
    g_assert_cmpstr(o.file, ==, "/z");
    drive_opts_clear(&o);
    /* direct + no-flush together */
    g_ptr_array_add(nodes, bd("{\"driver\":\"file\",\"node-name\":\"f4\","
                              "\"filename\":\"/q\",\"cache\":{\"direct\":true,"
                              "\"no-flush\":true}}"));
    g_assert_false(blockdev_resolve(nodes, "f4", &o, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "no-flush"));
    error_free(err);
    g_ptr_array_unref(nodes);

    expect_bd_error("{\"driver\":\"file\",\"node-name\":\"a\",\"filename\":"
                    "\"/x\",\"read-only\":\"on\"}",
                    "Invalid parameter type for 'read-only', expected: "
                    "boolean");
    expect_bd_error("{\"driver\":\"file\",\"node-name\":\"a\",\"filename\":3}",
                    "'filename', expected: string");
    expect_bd_error("{\"driver\":\"file\",", "JSON");
    expect_bd_error("[1]", "key=value"); /* not JSON: dotted, as QEMU */
    expect_bd_error("{\"driver\":\"raw\",\"node-name\":\"a\",\"file\":{"
                    "\"driver\":\"file\"}}",
                    "'file.filename' is missing");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/drive-opts/drive", test_drive);
    g_test_add_func("/drive-opts/blockdev-dotted", test_blockdev_dotted);
    g_test_add_func("/drive-opts/blockdev-json", test_blockdev_json);
    return g_test_run();
}
