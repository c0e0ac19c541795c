/* SPDX-License-Identifier: MIT */
/*
 * test-sandbox-bpf.c: the precompiled seccomp programs (sandbox-gen.c)
 * against libseccomp's programs for the same lists.  A small classic-BPF
 * interpreter runs both over every syscall number up to 1024 and the
 * interesting ones beyond (x32, -1), three arches, and argument values
 * around every constant the rules compare with (each socket family, ioctl
 * number and type, CLONE_THREAD, the pid placeholder, the same with a
 * high word set); the verdicts must be equal.  It also counts the
 * instructions a syscall runs through, to keep the tree a tree, and
 * checks the pid patch in a child that installs the main filter.
 */
#include "util/common.h"
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/kvm.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "system/sandbox-filters.h"
#include "system/sandbox-rules.h"

#define MAX_STEPS 100000

/* Runs prog over d; returns the SECCOMP_RET_* verdict, *steps the number
 * of instructions executed.  Any instruction the kernel would refuse, a
 * jump out of the program or a fall off its end fails the test. */
static uint32_t bpf_run(const struct sandbox_prog *p,
                        const struct seccomp_data *d, unsigned *steps)
{
    uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = {0};
    const uint8_t *data = (const uint8_t *)d;
    size_t pc = 0;

    *steps = 0;
    while (pc < p->len) {
        const struct sock_filter *in = &p->insns[pc++];
        uint32_t src = BPF_SRC(in->code) == BPF_X ? x : in->k;

        ++*steps;
        g_assert_cmpuint(*steps, <, MAX_STEPS);
        switch (BPF_CLASS(in->code)) {
        case BPF_LD:
            if (in->code == (BPF_LD | BPF_W | BPF_ABS)) {
                g_assert_cmpuint(in->k, <=, sizeof(*d) - 4);
                g_assert_cmpuint(in->k % 4, ==, 0);
                memcpy(&a, data + in->k, 4);
            } else if (in->code == (BPF_LD | BPF_IMM)) {
                a = in->k;
            } else if (in->code == (BPF_LD | BPF_MEM)) {
                g_assert_cmpuint(in->k, <, BPF_MEMWORDS);
                a = mem[in->k];
            } else {
                g_error("unsupported load 0x%x at %zu", in->code, pc - 1);
            }
            break;
        case BPF_LDX:
            if (in->code == (BPF_LDX | BPF_IMM)) {
                x = in->k;
            } else if (in->code == (BPF_LDX | BPF_MEM)) {
                g_assert_cmpuint(in->k, <, BPF_MEMWORDS);
                x = mem[in->k];
            } else {
                g_error("unsupported ldx 0x%x at %zu", in->code, pc - 1);
            }
            break;
        case BPF_ST:
            g_assert_cmpuint(in->k, <, BPF_MEMWORDS);
            mem[in->k] = a;
            break;
        case BPF_STX:
            g_assert_cmpuint(in->k, <, BPF_MEMWORDS);
            mem[in->k] = x;
            break;
        case BPF_ALU:
            switch (BPF_OP(in->code)) {
            case BPF_ADD:
                a += src;
                break;
            case BPF_SUB:
                a -= src;
                break;
            case BPF_AND:
                a &= src;
                break;
            case BPF_OR:
                a |= src;
                break;
            case BPF_LSH:
                a = src < 32 ? a << src : 0;
                break;
            case BPF_RSH:
                a = src < 32 ? a >> src : 0;
                break;
            case BPF_NEG:
                a = -a;
                break;
            default:
                g_error("unsupported alu 0x%x at %zu", in->code, pc - 1);
            }
            break;
        case BPF_JMP: {
            bool t;

            if (BPF_OP(in->code) == BPF_JA) {
                pc += in->k;
                break;
            }
            switch (BPF_OP(in->code)) {
            case BPF_JEQ:
                t = a == src;
                break;
            case BPF_JGT:
                t = a > src;
                break;
            case BPF_JGE:
                t = a >= src;
                break;
            case BPF_JSET:
                t = (a & src) != 0;
                break;
            default:
                g_error("unsupported jump 0x%x at %zu", in->code, pc - 1);
            }
            pc += t ? in->jt : in->jf;
            break;
        }
        case BPF_RET:
            return BPF_RVAL(in->code) == BPF_A ? a : in->k;
        case BPF_MISC:
            if (BPF_MISCOP(in->code) == BPF_TAX) {
                x = a;
            } else {
                a = x;
            }
            break;
        default:
            g_error("unsupported class 0x%x at %zu", in->code, pc - 1);
        }
    }
    g_error("fell off the end of the program");
    return 0;
}

/* Argument values worth trying: every constant in a rule, its
 * neighbours, the same with a high word, and the odd extreme. */
static GArray *arg_values(void)
{
    static const uint64_t base[] = {
        0,
        1,
        2,
        3,
        AF_UNIX,
        AF_INET,
        AF_INET6,
        AF_NETLINK,
        AF_PACKET,
        AF_VSOCK,
        KVMIO << 8,
        'T' << 8,
        0x5401,     /* TCGETS */
        0x80081272, /* BLKGETSIZE64 */
        (KVMIO << 8) | 0xff,
        CLONE_THREAD,
        CLONE_THREAD | CLONE_VM | CLONE_SIGHAND,
        CLONE_VM | SIGCHLD,
        SIGCHLD,
        SANDBOX_PID_PLACEHOLDER,
        SANDBOX_PID_PLACEHOLDER - 1,
        SANDBOX_PID_PLACEHOLDER + 1,
        0x7fffffff,
        0x80000000,
        0xffffffff,
        UINT64_MAX,
    };
    /* ioctls the vCPU list does not have (and KVM_RUN's neighbours
     * through the +-1 below) */
    static const uint64_t other_ioctls[] = {
        KVM_CREATE_VCPU,   KVM_SET_CLOCK, KVM_ENABLE_CAP,
        KVM_GET_DIRTY_LOG, KVM_CREATE_VM, KVM_CREATE_IRQCHIP,
    };
    const struct {
        const uint64_t *v;
        size_t n;
    } sets[] = {
        {base, G_N_ELEMENTS(base)},
        {other_ioctls, G_N_ELEMENTS(other_ioctls)},
        {sandbox_vcpu_ioctls, G_N_ELEMENTS(sandbox_vcpu_ioctls)},
    };
    GArray *v = g_array_new(FALSE, FALSE, sizeof(uint64_t));

    for (size_t s = 0; s < G_N_ELEMENTS(sets); s++) {
        for (size_t i = 0; i < sets[s].n; i++) {
            uint64_t x = sets[s].v[i];
            uint64_t more[] = {x, x + 1, x - 1, x | (1ULL << 32),
                               x | 0xffffffff00000000ULL};

            g_array_append_vals(v, more, G_N_ELEMENTS(more));
        }
    }
    return v;
}

static void compare_class(enum sandbox_class cls, const char *name)
{
    const struct sandbox_prog *tree = &sandbox_progs[cls];
    const struct sandbox_prog *ref = &sandbox_ref_progs[cls];
    static const uint32_t arches[] = {AUDIT_ARCH_X86_64, AUDIT_ARCH_I386,
                                      AUDIT_ARCH_AARCH64};
    static const uint32_t far_nrs[] = {
        1024,       4095,       65536,      0x3fffffff, 0x40000000, 0x40000001,
        0x40000010, 0x40000200, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff};
    g_autoptr(GArray) vals = arg_values();
    unsigned tree_max = 0, ref_max = 0, steps, n = 0;
    uint64_t tree_sum = 0, ref_sum = 0, calls = 0;
    GRand *rnd = g_rand_new_with_seed(42);

    for (uint32_t i = 0; i < 1024 + G_N_ELEMENTS(far_nrs); i++) {
        uint32_t nr = i < 1024 ? i : far_nrs[i - 1024];

        for (size_t ai = 0; ai < G_N_ELEMENTS(arches); ai++) {
            /* a0 and a1 over the value set (the rules look at one of
             * them), then random mixes of all six arguments */
            size_t nv = vals->len, cases = ai == 0 ? 2 * nv + 64 : 4;

            for (size_t c = 0; c < cases; c++) {
                struct seccomp_data d = {.nr = (int)nr,
                                         .arch = arches[ai],
                                         .instruction_pointer = 0x401000};
                uint32_t want, got;

                if (c < nv) {
                    d.args[0] = g_array_index(vals, uint64_t, c);
                } else if (c < 2 * nv) {
                    d.args[1] = g_array_index(vals, uint64_t, c - nv);
                } else {
                    for (int k = 0; k < 6; k++) {
                        d.args[k] = g_array_index(vals, uint64_t,
                                                  g_rand_int_range(rnd, 0, nv));
                    }
                }
                want = bpf_run(ref, &d, &steps);
                ref_max = MAX(ref_max, steps);
                ref_sum += steps;
                got = bpf_run(tree, &d, &steps);
                tree_max = MAX(tree_max, steps);
                tree_sum += steps;
                calls++;
                if (want != got) {
                    g_error(
                        "%s: nr %u arch 0x%x args 0x%" PRIx64 " 0x%" PRIx64
                        " 0x%" PRIx64 ": libseccomp says 0x%x, the tree 0x%x",
                        name, nr, arches[ai], (uint64_t)d.args[0],
                        (uint64_t)d.args[1], (uint64_t)d.args[2], want, got);
                }
                n++;
            }
        }
    }
    g_rand_free(rnd);
    g_test_message("%s: %u cases; instructions per syscall: tree max %u "
                   "mean %.1f, libseccomp max %u mean %.1f",
                   name, n, tree_max, (double)tree_sum / calls, ref_max,
                   (double)ref_sum / calls);
    /* a tree: no syscall walks a list (libseccomp's walks ~2 per rule) */
    g_assert_cmpuint(tree_max, <=, 40);
    g_assert_cmpuint(tree->len, <=, BPF_MAXINSNS);
}

static void test_main_equiv(void)
{
    compare_class(SANDBOX_MAIN, "main");
}

static void test_vcpu_equiv(void)
{
    compare_class(SANDBOX_VCPU, "vcpu");
}

static void test_block_worker_equiv(void)
{
    compare_class(SANDBOX_BLOCK_WORKER, "block_worker");
}

/* KVM_RUN, paid on every exit, is the vCPU filter's fast path. */
static void test_kvm_run_path(void)
{
    struct seccomp_data d = {
        .nr = SYS_ioctl, .arch = AUDIT_ARCH_X86_64, .args = {5, KVM_RUN, 0}};
    unsigned steps;

    g_assert_cmphex(bpf_run(&sandbox_progs[SANDBOX_VCPU], &d, &steps), ==,
                    SECCOMP_RET_ALLOW);
    g_test_message("KVM_RUN: %u instructions", steps);
    g_assert_cmpuint(steps, <=, 12);
}

/* The pid placeholder sits in the kill() rule's compare, and the installed
 * main filter lets the process signal itself and nobody else. */
static int child_kill(pid_t target)
{
    int status;
    pid_t pid = fork();

    g_assert_cmpint(pid, >=, 0);
    if (pid == 0) {
        Error *err = NULL;
        int null = open("/dev/null", O_WRONLY);

        dup2(null, STDERR_FILENO);
        if (!sandbox_install(SANDBOX_MAIN, &err)) {
            _exit(2);
        }
        _exit(kill(target ? target : getpid(), 0) == 0 ? 0 : 3);
    }
    g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
    g_assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static void test_pid_patch(void)
{
    const struct sandbox_prog *p = &sandbox_progs[SANDBOX_MAIN];

    g_assert_cmpuint(p->n_pid_at, ==, 1);
    g_assert_cmphex(p->insns[p->pid_at[0]].k, ==, SANDBOX_PID_PLACEHOLDER);
    g_assert_cmphex(p->insns[p->pid_at[0]].code, ==, BPF_JMP | BPF_JEQ | BPF_K);
    g_assert_cmpuint(sandbox_progs[SANDBOX_VCPU].n_pid_at, ==, 0);
    g_assert_cmpint(child_kill(0), ==, 0);
    g_assert_cmpint(child_kill(getpid()), ==, 159); /* SANDBOX_EXIT_STATUS */
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/sandbox-bpf/main", test_main_equiv);
    g_test_add_func("/sandbox-bpf/vcpu", test_vcpu_equiv);
    g_test_add_func("/sandbox-bpf/block-worker", test_block_worker_equiv);
    g_test_add_func("/sandbox-bpf/kvm-run", test_kvm_run_path);
    g_test_add_func("/sandbox-bpf/pid-patch", test_pid_patch);
    return g_test_run();
}
