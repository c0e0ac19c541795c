/* SPDX-License-Identifier: MIT */
/*
 * test-object.c: the -object table (system/object.c): both syntaxes,
 * typed properties with precise errors, and realize (secrets read and
 * decoded, memory backend files created and sized, rng-random's file
 * opened).  No KVM.
 */
#include "util/common.h"
#include "system/object.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

static struct object *parse_ok(const char *text)
{
    Error *err = NULL;
    struct object *o = object_parse(text, &err);

    if (!o) {
        g_error("'%s': %s", text, error_get_pretty(err));
    }
    return o;
}

static void parse_err(const char *text, const char *want)
{
    Error *err = NULL;
    struct object *o = object_parse(text, &err);

    g_assert_null(o);
    if (!strstr(error_get_pretty(err), want)) {
        g_error("'%s': expected \"%s\", got \"%s\"", text, want,
                error_get_pretty(err));
    }
    error_free(err);
}

static void test_syntax(void)
{
    struct object *o = parse_ok("memory-backend-ram,id=pc.ram,size=64M");

    g_assert_cmpstr(o->cls->name, ==, "memory-backend-ram");
    g_assert_cmpstr(o->id, ==, "pc.ram");
    g_assert_cmpuint(object_get_size(o, "size"), ==, 64 * MiB);
    g_assert_false(object_get_bool(o, "share"));
    g_assert_true(object_is_memory_backend(o));
    object_free(o);

    /* libvirt's JSON form: sizes are numbers, booleans are booleans */
    o = parse_ok("{\"qom-type\":\"memory-backend-file\",\"id\":\"m0\","
                 "\"size\":67108864,\"mem-path\":\"/tmp/x\",\"share\":true}");
    g_assert_cmpuint(object_get_size(o, "size"), ==, 64 * MiB);
    g_assert_true(object_get_bool(o, "share"));
    g_assert_cmpstr(object_get_str(o, "mem-path"), ==, "/tmp/x");
    object_free(o);

    o = parse_ok("{\"qom-type\":\"secret\",\"id\":\"masterKey0\","
                 "\"format\":\"raw\",\"file\":\"/k\"}");
    g_assert_cmpstr(object_get_str(o, "format"), ==, "raw");
    g_assert_false(object_is_memory_backend(o));
    object_free(o);
}

static void test_errors(void)
{
    parse_err("nosuch,id=x", "invalid object type: nosuch");
    parse_err("secret,data=x", "Parameter 'id' is missing");
    parse_err("secret,id=1x,data=x", "'id' expects an identifier");
    parse_err("secret,id=k", "exactly one of 'data' and 'file'");
    parse_err("secret,id=k,data=a,file=b", "exactly one of 'data' and 'file'");
    parse_err("secret,id=k,data=a,format=hex",
              "'format' does not accept value 'hex'");
    parse_err("secret,id=k,data=a,keyid=k2",
              "Parameter 'keyid' is unexpected for secret");
    parse_err("memory-backend-ram,id=r", "Parameter 'size' is missing");
    parse_err("memory-backend-ram,id=r,size=0", "size must be greater than 0");
    parse_err("memory-backend-ram,id=r,size=lots", "'size' expects");
    parse_err("memory-backend-ram,id=r,size=1M,share=maybe",
              "'share' expects 'on' or 'off'");
    parse_err("memory-backend-ram,id=r,size=1M,prealloc=on",
              "'prealloc' is unexpected");
    parse_err("memory-backend-file,id=r,size=1M", "'mem-path' is missing");
    parse_err("{\"qom-type\":\"memory-backend-ram\",\"id\":\"r\","
              "\"size\":\"64M\"}",
              "Invalid parameter type for 'size', expected: integer");
    parse_err("{\"qom-type\":\"memory-backend-ram\",\"id\":\"r\","
              "\"size\":1,\"share\":\"on\"}",
              "Invalid parameter type for 'share', expected: boolean");
    parse_err("{\"qom-type\":\"memory-backend-ram\",\"id\":\"r\","
              "\"size\":-1}",
              "expected: integer");
    parse_err("{\"id\":\"r\"}", "Parameter 'qom-type' is missing");
    parse_err("{\"qom-type\":7}", "'qom-type', expected: string");
    parse_err("{1}", "invalid JSON");
    parse_err("{\"qom-type\":\"secret\"", "invalid JSON");
}

static char *write_tmp(const char *data, size_t len)
{
    GError *gerr = NULL;
    char *path = NULL;
    int fd = g_file_open_tmp("vireo-object-XXXXXX", &path, &gerr);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(write(fd, data, len), ==, (ssize_t)len);
    close(fd);
    return path;
}

static void test_secret(void)
{
    g_autofree char *path = write_tmp("key\0bytes", 9);
    g_autofree char *text = g_strdup_printf("secret,id=k,file=%s", path);
    struct object *o = parse_ok(text);
    Error *err = NULL;

    g_assert_true(object_realize(o, NULL));
    g_assert_cmpuint(o->data_len, ==, 9);
    g_assert_cmpmem(o->data, 9, "key\0bytes", 9);
    object_free(o);

    o = parse_ok("secret,id=k,data=YWJj,format=base64");
    g_assert_true(object_realize(o, NULL));
    g_assert_cmpmem(o->data, o->data_len, "abc", 3);
    object_free(o);

    o = parse_ok("secret,id=k,data=YW*j,format=base64");
    g_assert_false(object_realize(o, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "not valid base64"));
    error_free(err);
    err = NULL;
    object_free(o);

    o = parse_ok("secret,id=k,file=/nonexistent/key");
    g_assert_false(object_realize(o, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "cannot read"));
    error_free(err);
    object_free(o);
    unlink(path);
}

static void test_memory_backend_file(void)
{
    g_autofree char *dir = g_dir_make_tmp("vireo-object-XXXXXX", NULL);
    g_autofree char *file = g_build_filename(dir, "ram", NULL);
    g_autofree char *t1 = g_strdup_printf(
        "memory-backend-file,id=m,size=2M,mem-path=%s,share=on", file);
    g_autofree char *t2 =
        g_strdup_printf("memory-backend-file,id=m,size=4M,mem-path=%s", file);
    g_autofree char *t3 =
        g_strdup_printf("memory-backend-file,id=m,size=1M,mem-path=%s", dir);
    struct object *o = parse_ok(t1);
    struct stat st;
    Error *err = NULL;

    /* a new file is created with the backend's size */
    g_assert_true(object_realize(o, NULL));
    g_assert_cmpint(fstat(o->fd, &st), ==, 0);
    g_assert_cmpint(st.st_size, ==, 2 * MiB);
    object_free(o);
    /* an existing file smaller than size is refused */
    o = parse_ok(t2);
    g_assert_false(object_realize(o, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "does not match 'size'"));
    error_free(err);
    object_free(o);
    /* a directory gets an unlinked temporary file */
    o = parse_ok(t3);
    g_assert_true(object_realize(o, NULL));
    g_assert_cmpint(fstat(o->fd, &st), ==, 0);
    g_assert_cmpint(st.st_size, ==, 1 * MiB);
    g_assert_cmpint(st.st_nlink, ==, 0);
    object_free(o);
    unlink(file);
    rmdir(dir);
}

static void test_rng(void)
{
    struct object *o;
    Error *err = NULL;
    int fl;

    /* libvirt's JSON form; opened non-blocking for the main loop */
    o = parse_ok("{\"qom-type\":\"rng-random\",\"id\":\"objrng0\","
                 "\"filename\":\"/dev/urandom\"}");
    g_assert_true(object_is_rng_backend(o));
    g_assert_false(object_is_memory_backend(o));
    g_assert_true(object_realize(o, NULL));
    g_assert_cmpint(o->fd, >=, 0);
    fl = fcntl(o->fd, F_GETFL);
    g_assert_true(fl & O_NONBLOCK);
    g_assert_cmpint(fl & O_ACCMODE, ==, O_RDONLY);
    object_free(o);
    /* no filename: QEMU's default */
    o = parse_ok("rng-random,id=r");
    g_assert_null(object_get_str(o, "filename"));
    g_assert_true(object_realize(o, NULL));
    g_assert_cmpint(o->fd, >=, 0);
    object_free(o);
    /* a missing file: QEMU's message, at realize (before the guest) */
    o = parse_ok("rng-random,id=r,filename=/nonexistent");
    g_assert_false(object_realize(o, &err));
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "Could not open '/nonexistent': No such file or "
                    "directory");
    error_free(err);
    err = NULL;
    object_free(o);
    /* rng-builtin: nothing to open, nothing to set */
    o = parse_ok("{\"qom-type\":\"rng-builtin\",\"id\":\"b\"}");
    g_assert_true(object_is_rng_backend(o));
    g_assert_true(object_realize(o, NULL));
    g_assert_cmpint(o->fd, ==, -1);
    object_free(o);
    parse_err("rng-builtin,id=b,filename=x", "filename");
}

static void test_help(void)
{
    g_autofree char *list = object_help(NULL);
    g_autofree char *one = object_help("memory-backend-file");

    g_assert_nonnull(strstr(list, "memory-backend-ram"));
    g_assert_nonnull(strstr(one, "mem-path=<string>"));
    g_assert_null(object_help("nosuch"));
    {
        g_autofree char *rng = object_help("rng-random");
        g_autofree char *builtin = object_help("rng-builtin");

        g_assert_nonnull(strstr(list, "rng-random"));
        g_assert_nonnull(strstr(list, "rng-builtin"));
        g_assert_nonnull(strstr(rng, "filename=<string>"));
        /* QEMU's words */
        g_assert_cmpstr(builtin, ==, "There are no options for rng-builtin.\n");
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/object/syntax", test_syntax);
    g_test_add_func("/object/errors", test_errors);
    g_test_add_func("/object/secret", test_secret);
    g_test_add_func("/object/memory-backend-file", test_memory_backend_file);
    g_test_add_func("/object/rng", test_rng);
    g_test_add_func("/object/help", test_help);
    return g_test_run();
}
