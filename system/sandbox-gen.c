/* SPDX-License-Identifier: MIT */
/*
 * sandbox-gen.c: build-time compiler of the seccomp allowlists
 * (sandbox-rules.h) into classic BPF, run by meson.  vireo then installs
 * the programs with seccomp(2) itself and does not link libseccomp: at
 * run time libseccomp costs a shared library to load and relocate, a
 * dozen probing syscalls and the compilation of every filter.
 *
 * Each program is a binary search tree on the syscall number (ranges of
 * numbers with one verdict, split at the median), so a syscall costs
 * O(log n) instructions instead of libseccomp's linear list; a class can
 * test its hottest syscall first (the vCPU's ioctl, with KVM_RUN as its
 * first value).  Argument checks compare the 64-bit value as libseccomp
 * does (high word, then low word, both masked); a large value set is a
 * tree again.  The arch check and the x32 rejection follow libseccomp's
 * program (a foreign arch or an x32 number is killed; -1 gets the
 * default action).
 *
 * usage: sandbox-gen FILTERS.c REFERENCE.c [--pfc]
 * FILTERS.c gets the tree programs (linked into vireo); REFERENCE.c the
 * programs libseccomp makes of the same lists (for the unit test that
 * checks the two agree).  The process id in the kill() rule is a
 * placeholder in both; FILTERS.c lists where to patch it.  --pfc prints
 * libseccomp's pseudo code on stderr.
 *
 * Programs are built back to front: classic BPF only jumps forward, so
 * every jump target already has its final distance from the end when the
 * jump is emitted.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <inttypes.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "system/sandbox-rules.h"

#define N_ELEM(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_INSNS 4096
#define MAX_NR 1024 /* syscall numbers looked at (x86_64: < 512) */
#define X32_BIT 0x40000000u
#define BAD_ARCH_ACTION SECCOMP_RET_KILL_THREAD /* libseccomp's default */
#define SMALL_SET 3 /* value sets up to this size: a chain of jeq */
#define MAX_PID_PATCH 8
#define MAX_SHARED 8

struct gen {
    struct sock_filter buf[MAX_INSNS];
    size_t top;                   /* buf[top..MAX_INSNS) is the program */
    size_t pid_at[MAX_PID_PATCH]; /* buf indices holding the pid */
    size_t n_pid;
    uint32_t shared_action[MAX_SHARED]; /* the rets at the program's end */
    size_t shared_at[MAX_SHARED];
    size_t n_shared;
    bool sealed; /* no more shared rets */
};

/* One verdict over a range of keys [lo, next interval's lo). */
struct interval {
    uint32_t lo;
    uint32_t action;                     /* when rule is NULL */
    const struct sandbox_arg_rule *rule; /* argument check */
};

struct class_def {
    const char *name; /* C identifier part */
    const char *enum_name;
    const char *const *names;
    size_t n_names;
    const struct sandbox_arg_rule *arg_rules;
    size_t n_arg_rules;
    const struct sandbox_fixed_rule *fixed;
    size_t n_fixed;
    const char *hot; /* syscall tested before the tree, or NULL */
};

static void die(const char *fmt, const char *arg)
{
    fprintf(stderr, "sandbox-gen: ");
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    exit(1);
}

static size_t emit(struct gen *g, uint16_t code, uint8_t jt, uint8_t jf,
                   uint32_t k)
{
    if (g->top == 0) {
        die("%s", "program too long");
    }
    g->buf[--g->top] = (struct sock_filter){code, jt, jf, k};
    return g->top;
}

/* The distance a jump emitted next (at top - 1) needs to reach target. */
static size_t dist(const struct gen *g, size_t target)
{
    return target - g->top;
}

static size_t emit_ret(struct gen *g, uint32_t action)
{
    return emit(g, BPF_RET | BPF_K, 0, 0, action);
}

/* The program's one "ret action" at its end (see compile_class): leaves of
 * the trees jump there instead of carrying a ret each. */
static size_t shared_ret(struct gen *g, uint32_t action)
{
    for (size_t i = 0; i < g->n_shared; i++) {
        if (g->shared_action[i] == action) {
            return g->shared_at[i];
        }
    }
    /* emitted mid-program, the instruction before it could fall into it */
    if (g->sealed || g->n_shared == MAX_SHARED) {
        die("%s", "an action missing from the shared rets");
    }
    g->shared_action[g->n_shared] = action;
    g->shared_at[g->n_shared] = emit_ret(g, action);
    return g->shared_at[g->n_shared++];
}

/* A target a conditional jump emitted next can reach within limit: target
 * itself, or one instruction emitted here (a copy of the ret, or a ja). */
static size_t reach(struct gen *g, size_t target, size_t limit)
{
    const struct sock_filter *t = &g->buf[target];

    if (dist(g, target) <= limit) {
        return target;
    }
    if (BPF_CLASS(t->code) == BPF_RET) {
        return emit_ret(g, t->k);
    }
    return emit(g, BPF_JMP | BPF_JA, 0, 0, (uint32_t)dist(g, target));
}

/* "if (A op k) goto t; else goto f"; returns its index. */
static size_t emit_jcond(struct gen *g, uint16_t op, uint32_t k, size_t t,
                         size_t f)
{
    /* f first with room for t's fix-up, which may come after it */
    f = reach(g, f, 254);
    t = reach(g, t, 255);
    return emit(g, BPF_JMP | op | BPF_K, (uint8_t)dist(g, t),
                (uint8_t)dist(g, f), k);
}

static size_t emit_leaf(struct gen *g, const struct interval *iv,
                        uint32_t deflt);

/* A search tree over the sorted intervals iv[0..n) on the value in A;
 * returns the index where it starts (a shared ret for a plain leaf). */
static size_t emit_tree(struct gen *g, const struct interval *iv, size_t n,
                        uint32_t deflt)
{
    size_t mid, right, left;

    if (n == 1) {
        return emit_leaf(g, iv, deflt);
    }
    mid = n / 2;
    right = emit_tree(g, iv + mid, n - mid, deflt);
    left = emit_tree(g, iv, mid, deflt);
    return emit_jcond(g, BPF_JGE, iv[mid].lo, right, left);
}

static uint32_t arg_lo(unsigned i)
{
    return offsetof(struct seccomp_data, args) + 8 * i;
}

/* Fills iv (capacity cap) with the intervals of [0, 2^32) where a key is
 * in the sorted set v (ret action) or not (ret deflt); returns the count. */
static size_t set_intervals(const uint32_t *v, size_t n, uint32_t action,
                            uint32_t deflt, struct interval *iv, size_t cap)
{
    uint64_t next = 0; /* the first key not covered yet */
    size_t k = 0;

    for (size_t i = 0; i < n; i++) {
        if (i > 0 && v[i] == v[i - 1]) {
            continue;
        }
        if (k + 2 > cap) {
            die("%s", "value set too large");
        }
        if (v[i] > next) {
            iv[k++] = (struct interval){(uint32_t)next, deflt, NULL};
        }
        if (k == 0 || iv[k - 1].action != action || v[i] > next) {
            iv[k++] = (struct interval){v[i], action, NULL};
        } /* else v[i] extends the match range before it */
        next = (uint64_t)v[i] + 1;
    }
    if (next <= UINT32_MAX) {
        iv[k++] = (struct interval){(uint32_t)next, deflt, NULL};
    }
    return k;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return x < y ? -1 : x > y;
}

/* The argument check of one syscall: load the high word, compare, load the
 * low word, compare against the set.  Returns where it starts. */
static size_t emit_arg_rule(struct gen *g, const struct sandbox_arg_rule *r,
                            uint32_t deflt)
{
    uint32_t mask_lo = (uint32_t)r->mask, mask_hi = (uint32_t)(r->mask >> 32);
    uint32_t vhi = (uint32_t)(r->values[0] >> 32);
    uint32_t lo[256];
    size_t n = r->n_values, next;

    if (n == 0 || n > N_ELEM(lo)) {
        die("%s: bad value count", r->name);
    }
    for (size_t i = 0; i < n; i++) {
        if ((uint32_t)(r->values[i] >> 32) != vhi) {
            die("%s: values differ in their high words", r->name);
        }
        if ((r->values[i] & r->mask) != r->values[i]) {
            die("%s: a value has bits outside its mask", r->name);
        }
        lo[i] = (uint32_t)r->values[i];
    }
    if (r->value_is_pid && n != 1) {
        die("%s: a pid rule has one value", r->name);
    }

    /* the low word against the set */
    if (n <= SMALL_SET) {
        next = shared_ret(g, deflt);
        for (size_t i = n; i-- > 0;) {
            next =
                emit_jcond(g, BPF_JEQ, lo[i], shared_ret(g, r->action), next);
            if (r->value_is_pid) {
                if (g->n_pid == MAX_PID_PATCH) {
                    die("%s", "too many pid patches");
                }
                g->pid_at[g->n_pid++] = next;
            }
        }
    } else {
        struct interval iv[2 * N_ELEM(lo) + 2];
        uint32_t sorted[N_ELEM(lo)];
        size_t k;

        memcpy(sorted, lo, n * sizeof(lo[0]));
        qsort(sorted, n, sizeof(sorted[0]), cmp_u32);
        k = set_intervals(sorted, n, r->action, deflt, iv, N_ELEM(iv));
        next = emit_tree(g, iv, k, deflt);
        /* the first value is the hot one: tested before the tree */
        emit_jcond(g, BPF_JEQ, lo[0], shared_ret(g, r->action), next);
    }
    if (mask_lo != UINT32_MAX) {
        emit(g, BPF_ALU | BPF_AND | BPF_K, 0, 0, mask_lo);
    }
    next = emit(g, BPF_LD | BPF_W | BPF_ABS, 0, 0, arg_lo(r->arg));

    /* the high word: (hi & mask_hi) == vhi, else the default */
    if (mask_hi == 0) {
        if (vhi != 0) {
            die("%s: a value outside a 32-bit mask", r->name);
        }
        return next; /* always true */
    }
    emit_jcond(g, BPF_JEQ, vhi, next, shared_ret(g, deflt));
    if (mask_hi != UINT32_MAX) {
        emit(g, BPF_ALU | BPF_AND | BPF_K, 0, 0, mask_hi);
    }
    return emit(g, BPF_LD | BPF_W | BPF_ABS, 0, 0, arg_lo(r->arg) + 4);
}

static size_t emit_leaf(struct gen *g, const struct interval *iv,
                        uint32_t deflt)
{
    if (iv->rule) {
        return emit_arg_rule(g, iv->rule, deflt);
    }
    return shared_ret(g, iv->action);
}

/* The syscalls a class allows without condition: the common list, then
 * its own. */
static size_t n_plain(const struct class_def *c)
{
    return N_ELEM(sandbox_common_syscalls) + c->n_names;
}

static const char *plain_name(const struct class_def *c, size_t i)
{
    return i < N_ELEM(sandbox_common_syscalls)
               ? sandbox_common_syscalls[i]
               : c->names[i - N_ELEM(sandbox_common_syscalls)];
}

static int resolve(const char *name)
{
    int nr = seccomp_syscall_resolve_name(name);

    if (nr != __NR_SCMP_ERROR && (nr < 0 || nr >= MAX_NR)) {
        die("%s: syscall number out of range", name);
    }
    return nr;
}

/* Builds the tree program of a class into g. */
static void compile_class(struct gen *g, const struct class_def *c,
                          uint32_t deflt)
{
    static uint32_t action[MAX_NR];
    static const struct sandbox_arg_rule *rule[MAX_NR];
    static struct interval iv[MAX_NR + 1];
    size_t n = 0, body, next;
    int hot = -1;

    memset(g, 0, sizeof(*g));
    g->top = MAX_INSNS;
    for (size_t i = 0; i < MAX_NR; i++) {
        action[i] = deflt;
        rule[i] = NULL;
    }
    for (size_t i = 0; i < n_plain(c); i++) {
        int nr = resolve(plain_name(c, i));

        if (nr != __NR_SCMP_ERROR) {
            action[nr] = SECCOMP_RET_ALLOW;
        }
    }
    for (size_t i = 0; i < c->n_fixed; i++) {
        int nr = resolve(c->fixed[i].name);

        if (nr != __NR_SCMP_ERROR) {
            action[nr] = c->fixed[i].action;
        }
    }
    for (size_t i = 0; i < c->n_arg_rules; i++) {
        int nr = resolve(c->arg_rules[i].name);

        if (nr == __NR_SCMP_ERROR) {
            continue;
        }
        if (action[nr] != deflt || rule[nr]) {
            die("%s: an argument rule on a syscall with another rule",
                c->arg_rules[i].name);
        }
        rule[nr] = &c->arg_rules[i];
    }
    /* merge runs of numbers with the same plain verdict */
    for (uint32_t nr = 0; nr < MAX_NR; nr++) {
        if (n > 0 && !rule[nr] && !iv[n - 1].rule &&
            iv[n - 1].action == action[nr]) {
            continue;
        }
        iv[n++] = (struct interval){nr, action[nr], rule[nr]};
    }
    if (iv[n - 1].rule || iv[n - 1].action != deflt) {
        iv[n++] = (struct interval){MAX_NR, deflt, NULL};
    }
    /* the verdicts at the end, shared by every leaf */
    shared_ret(g, BAD_ARCH_ACTION);
    shared_ret(g, deflt);
    shared_ret(g, SECCOMP_RET_ALLOW);
    for (size_t i = 0; i < c->n_fixed; i++) {
        shared_ret(g, c->fixed[i].action);
    }
    for (size_t i = 0; i < c->n_arg_rules; i++) {
        shared_ret(g, c->arg_rules[i].action);
    }
    g->sealed = true;
    if (c->hot) {
        hot = resolve(c->hot);
    }
    if (hot >= 0) {
        struct interval hot_iv;
        size_t tree, i = 0;

        while (i + 1 < n && iv[i + 1].lo <= (uint32_t)hot) {
            i++;
        }
        /* tested before the tree: its argument check there would never
         * be reached (a rule's interval is its number alone) */
        hot_iv = iv[i];
        if (iv[i].rule) {
            iv[i].rule = NULL;
            iv[i].action = deflt;
        }
        tree = emit_tree(g, iv, n, deflt);
        body = emit_jcond(g, BPF_JEQ, (uint32_t)hot,
                          emit_leaf(g, &hot_iv, deflt), tree);
    } else {
        body = emit_tree(g, iv, n, deflt);
    }
    /* x32 numbers (and any above but -1): bad arch, as libseccomp */
    next = emit_jcond(g, BPF_JEQ, UINT32_MAX, body,
                      shared_ret(g, BAD_ARCH_ACTION));
    emit_jcond(g, BPF_JGE, X32_BIT, next, body);
    next = emit(g, BPF_LD | BPF_W | BPF_ABS, 0, 0,
                offsetof(struct seccomp_data, nr));
    emit_jcond(g, BPF_JEQ, AUDIT_ARCH_X86_64, next,
               shared_ret(g, BAD_ARCH_ACTION));
    emit(g, BPF_LD | BPF_W | BPF_ABS, 0, 0,
         offsetof(struct seccomp_data, arch));
}

static void print_prog(FILE *f, const char *name, const struct sock_filter *p,
                       size_t n)
{
    fprintf(f, "static const struct sock_filter %s[%zu] = {\n", name, n);
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "    {0x%02x, %u, %u, 0x%08" PRIx32 "},\n", p[i].code,
                p[i].jt, p[i].jf, p[i].k);
    }
    fprintf(f, "};\n");
}

static void check_rc(int rc, const char *what)
{
    if (rc < 0) {
        fprintf(stderr, "sandbox-gen: libseccomp: %s: %s\n", what,
                strerror(-rc));
        exit(1);
    }
}

/* libseccomp's program for the same lists, as the old run-time code built
 * it; *n gets its length, the instructions go to out. */
static size_t libseccomp_prog(const struct class_def *c, uint32_t deflt,
                              struct sock_filter *out, size_t cap, bool pfc)
{
    scmp_filter_ctx ctx = seccomp_init(deflt);
    int fd, rc;
    ssize_t len;

    if (!ctx) {
        die("%s", "seccomp_init failed");
    }
    for (size_t i = 0; i < n_plain(c); i++) {
        int nr = seccomp_syscall_resolve_name(plain_name(c, i));

        if (nr != __NR_SCMP_ERROR) {
            check_rc(seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0),
                     plain_name(c, i));
        }
    }
    for (size_t i = 0; i < c->n_fixed; i++) {
        int nr = seccomp_syscall_resolve_name(c->fixed[i].name);

        if (nr != __NR_SCMP_ERROR) {
            check_rc(seccomp_rule_add(ctx, c->fixed[i].action, nr, 0),
                     c->fixed[i].name);
        }
    }
    for (size_t i = 0; i < c->n_arg_rules; i++) {
        const struct sandbox_arg_rule *r = &c->arg_rules[i];
        int nr = seccomp_syscall_resolve_name(r->name);

        if (nr == __NR_SCMP_ERROR) {
            continue;
        }
        for (size_t j = 0; j < r->n_values; j++) {
            struct scmp_arg_cmp cmp =
                r->mask == UINT64_MAX
                    ? SCMP_CMP(r->arg, SCMP_CMP_EQ, r->values[j])
                    : SCMP_CMP(r->arg, SCMP_CMP_MASKED_EQ, r->mask,
                               r->values[j]);
            check_rc(seccomp_rule_add(ctx, r->action, nr, 1, cmp), r->name);
        }
    }
    if (pfc) {
        fprintf(stderr, "--- %s (libseccomp)\n", c->name);
        seccomp_export_pfc(ctx, STDERR_FILENO);
    }
    fd = memfd_create("sandbox-gen", 0);
    if (fd < 0) {
        die("memfd_create: %s", strerror(errno));
    }
    rc = seccomp_export_bpf(ctx, fd);
    check_rc(rc, "export");
    len = pread(fd, out, cap * sizeof(*out), 0);
    if (len < 0 || len % sizeof(*out) || (size_t)len == cap * sizeof(*out)) {
        die("%s", "cannot read libseccomp's program back");
    }
    close(fd);
    seccomp_release(ctx);
    return (size_t)len / sizeof(*out);
}

static const struct class_def classes[] = {
    {"main", "SANDBOX_MAIN", sandbox_main_syscalls,
     N_ELEM(sandbox_main_syscalls), sandbox_main_arg_rules,
     N_ELEM(sandbox_main_arg_rules), sandbox_main_fixed_rules,
     N_ELEM(sandbox_main_fixed_rules), NULL},
    {"vcpu", "SANDBOX_VCPU", sandbox_vcpu_syscalls,
     N_ELEM(sandbox_vcpu_syscalls), sandbox_vcpu_arg_rules,
     N_ELEM(sandbox_vcpu_arg_rules), NULL, 0, "ioctl"},
    {"block_worker", "SANDBOX_BLOCK_WORKER", NULL, 0, NULL, 0, NULL, 0, NULL},
};

static const char banner[] = "/* SPDX-License-Identifier: MIT */\n"
                             "/*\n"
                             " * %s: generated by system/sandbox-gen.c from\n"
                             " * system/sandbox-rules.h.  Do not edit.\n"
                             " */\n"
                             "#include \"system/sandbox-filters.h\"\n\n";

static FILE *open_out(const char *path)
{
    FILE *f = fopen(path, "w");
    const char *base = strrchr(path, '/');

    if (!f) {
        die("cannot write %s", path);
    }
    fprintf(f, banner, base ? base + 1 : path);
    return f;
}

static void close_out(FILE *f, const char *path)
{
    if (ferror(f) || fclose(f) != 0) {
        die("cannot write %s", path);
    }
}

int main(int argc, char **argv)
{
    static struct gen g;
    static struct sock_filter ref[MAX_INSNS];
    bool pfc = argc > 3 && !strcmp(argv[3], "--pfc");
    FILE *out, *rout;
    uint32_t deflt = SECCOMP_RET_TRAP;

    if (argc < 3) {
        fprintf(stderr, "usage: sandbox-gen FILTERS.c REFERENCE.c [--pfc]\n");
        return 2;
    }
    out = open_out(argv[1]);
    rout = open_out(argv[2]);
    for (size_t i = 0; i < N_ELEM(classes); i++) {
        const struct class_def *c = &classes[i];
        char name[64];
        size_t n, nref;

        compile_class(&g, c, deflt);
        n = MAX_INSNS - g.top;
        if (n > BPF_MAXINSNS) {
            die("%s: program too long", c->name);
        }
        snprintf(name, sizeof(name), "%s_insns", c->name);
        print_prog(out, name, g.buf + g.top, n);
        fprintf(out, "static const uint16_t %s_pid_at[] = {", c->name);
        for (size_t j = 0; j < g.n_pid; j++) {
            fprintf(out, "%zu, ", g.pid_at[j] - g.top);
        }
        fprintf(out, "0};\n\n");

        nref = libseccomp_prog(c, deflt, ref, N_ELEM(ref), pfc);
        snprintf(name, sizeof(name), "%s_ref", c->name);
        print_prog(rout, name, ref, nref);
        fprintf(rout, "\n");
    }
    fprintf(out, "const struct sandbox_prog sandbox_progs[SANDBOX_N_CLASSES] "
                 "= {\n");
    fprintf(rout, "const struct sandbox_prog "
                  "sandbox_ref_progs[SANDBOX_N_CLASSES] = {\n");
    for (size_t i = 0; i < N_ELEM(classes); i++) {
        const struct class_def *c = &classes[i];

        fprintf(out,
                "    [%s] = {%s_insns, G_N_ELEMENTS(%s_insns), %s_pid_at,\n"
                "             G_N_ELEMENTS(%s_pid_at) - 1},\n",
                c->enum_name, c->name, c->name, c->name, c->name);
        fprintf(rout, "    [%s] = {%s_ref, G_N_ELEMENTS(%s_ref), NULL, 0},\n",
                c->enum_name, c->name, c->name);
    }
    fprintf(out, "};\n");
    fprintf(rout, "};\n");
    close_out(out, argv[1]);
    close_out(rout, argv[2]);
    return 0;
}
