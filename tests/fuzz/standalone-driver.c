/* SPDX-License-Identifier: MIT */
/*
 * standalone-driver.c: runs a libFuzzer target without libFuzzer (gcc
 * builds), so CI always exercises the fuzz targets: every file named on
 * the command line (or found in a named directory), then -runs=N inputs
 * from a fixed-seed generator, half random bytes and half mutations of
 * the corpus.  A target reports a bug by crashing; the exit status is 0
 * only if every input ran.
 */
#include "util/common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_INPUT 4096

static void run_file(const char *path, GPtrArray *corpus)
{
    gchar *buf = NULL;
    gsize len = 0;
    GError *gerr = NULL;

    if (!g_file_get_contents(path, &buf, &len, &gerr)) {
        fprintf(stderr, "fuzz driver: %s\n", gerr->message);
        g_error_free(gerr);
        exit(2);
    }
    LLVMFuzzerTestOneInput((const uint8_t *)buf, len);
    g_ptr_array_add(corpus, g_bytes_new_take(buf, len));
}

static void run_path(const char *path, GPtrArray *corpus)
{
    GDir *dir;
    const char *name;
    GPtrArray *names;

    if (!g_file_test(path, G_FILE_TEST_IS_DIR)) {
        run_file(path, corpus);
        return;
    }
    dir = g_dir_open(path, 0, NULL);
    if (!dir) {
        fprintf(stderr, "fuzz driver: cannot open %s\n", path);
        exit(2);
    }
    names = g_ptr_array_new_with_free_func(g_free);
    while ((name = g_dir_read_name(dir))) {
        g_ptr_array_add(names, g_build_filename(path, name, NULL));
    }
    g_dir_close(dir);
    for (guint i = 0; i < names->len; i++) {
        run_file(g_ptr_array_index(names, i), corpus);
    }
    g_ptr_array_free(names, TRUE);
}

int main(int argc, char **argv)
{
    unsigned long runs = 1000, seed = 1;
    GPtrArray *corpus =
        g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
    uint8_t *buf = g_malloc(FUZZ_MAX_INPUT);
    GRand *r;

    for (int i = 1; i < argc; i++) {
        if (g_str_has_prefix(argv[i], "-runs=")) {
            runs = strtoul(argv[i] + 6, NULL, 10);
        } else if (g_str_has_prefix(argv[i], "-seed=")) {
            seed = strtoul(argv[i] + 6, NULL, 10);
        } else if (argv[i][0] == '-') {
            continue; /* libFuzzer options have no meaning here */
        } else {
            run_path(argv[i], corpus);
        }
    }
    r = g_rand_new_with_seed(seed);
    for (unsigned long n = 0; n < runs; n++) {
        size_t len;

        if (corpus->len && (n & 1)) {
            GBytes *b =
                g_ptr_array_index(corpus, g_rand_int_range(r, 0, corpus->len));
            gsize blen;
            const uint8_t *src = g_bytes_get_data(b, &blen);
            len = MIN((size_t)blen, (size_t)FUZZ_MAX_INPUT);
            memcpy(buf, src, len);
            for (int k = g_rand_int_range(r, 1, 5); k > 0 && len; k--) {
                buf[g_rand_int_range(r, 0, len)] = g_rand_int(r);
            }
            if (len && g_rand_boolean(r)) {
                len = g_rand_int_range(r, 0, len + 1);
            }
        } else {
            len = g_rand_int_range(r, 0, FUZZ_MAX_INPUT + 1);
            for (size_t k = 0; k < len; k++) {
                buf[k] = g_rand_int(r);
            }
        }
        LLVMFuzzerTestOneInput(buf, len);
    }
    printf("fuzz driver: %u corpus inputs, %lu generated inputs, no crash\n",
           corpus->len, runs);
    g_rand_free(r);
    g_free(buf);
    g_ptr_array_free(corpus, TRUE);
    return 0;
}
