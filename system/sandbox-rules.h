/* SPDX-License-Identifier: MIT */
/*
 * sandbox-rules.h: the seccomp allowlists of each thread class, as data.
 * Only the build-time compiler (sandbox-gen.c) reads this header: it turns
 * the lists into BPF programs (a binary search tree on the syscall number)
 * and, for the equivalence test, into libseccomp's own program.  vireo
 * itself carries only the compiled programs (sandbox-filters.c, generated).
 *
 * What each class allows and why: see sandbox.c.
 *
 * A new syscall comes with its line here (house rule 6).
 */
#ifndef SYSTEM_SANDBOX_RULES_H
#define SYSTEM_SANDBOX_RULES_H

#include <linux/if_tun.h>
#include <linux/kvm.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <errno.h>
#include <stdint.h>
#include <sys/socket.h>

#ifndef SANDBOX_FOR_LSAN
#define SANDBOX_FOR_LSAN 0
#endif

/* Allowed in every class. */
static const char *const sandbox_common_syscalls[] = {
    "read",
    "write",
    "readv",
    "writev",
    "pread64",
    "pwrite64",
    "preadv",
    "pwritev",
    "preadv2",
    "pwritev2",
    "lseek",
    "close",
    "fstat",
    "newfstatat",
    "fcntl",
    "futex",
    "futex_waitv",
    "rt_sigreturn",
    "rt_sigprocmask",
    "rt_sigtimedwait",
    "sigaltstack",
    "tgkill",
    "tkill",
    "getpid",
    "gettid",
    "mmap",
    "munmap",
    "mprotect",
    "madvise",
    "mremap",
    "brk",
    "clock_gettime",
    "clock_getres",
    "clock_nanosleep",
    "nanosleep",
    "gettimeofday",
    "time",
    "exit",
    "exit_group",
    "sched_yield",
    "sched_getaffinity",
    "poll",
    "ppoll",
    "sendto",
    "sendmsg",
    "recvfrom",
    "recvmsg",
    /* GLib, and virtio-rng's rng-builtin entropy (hw/virtio/virtio-rng.c):
     * the main loop, or a vCPU thread when a queue kick comes without an
     * ioeventfd; rng-random's file is plain read/readv */
    "getrandom",
    "rseq",
    "membarrier",
    "restart_syscall",
    "fsync",
    "fdatasync",
    "fallocate",
};

/* Main loop / I/O thread on top of the common list. */
static const char *const sandbox_main_syscalls[] = {
    /* files (on fds, and the few opens GLib, pthread_setname_np or a QMP
     * command writing a file need) */
    "open",
    "openat",
    "close_range",
    "stat",
    "lstat",
    "statx",
    "access",
    "faccessat",
    "faccessat2",
    "readlink",
    "readlinkat",
    "getcwd",
    "getdents64",
    "fstatfs",
    "statfs",
    "unlink",
    "unlinkat",
    "ftruncate",
    "sync_file_range",
    "splice",
    "tee",
    "sendfile",
    "copy_file_range",
    "fadvise64",
    "readahead",
    "flock",
    "io_setup",
    "io_destroy",
    "io_submit",
    "io_getevents",
    "io_pgetevents",
    "io_cancel",
    "getcpu",
    "pause",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    /* polling, events, pipes */
    "select",
    "pselect6",
    "epoll_create",
    "epoll_create1",
    "epoll_ctl",
    "epoll_wait",
    "epoll_pwait",
    "epoll_pwait2",
    "eventfd",
    "eventfd2",
    "pipe",
    "pipe2",
    "dup",
    "dup2",
    "dup3",
    /* sockets (socket() itself is filtered by family below) */
    "socketpair",
    "connect",
    "accept",
    "accept4",
    "bind",
    "listen",
    "getsockname",
    "getpeername",
    "getsockopt",
    "setsockopt",
    "sendmmsg",
    "recvmmsg",
    "shutdown",
    /* memory */
    "mlock",
    "mlock2",
    "munlock",
    "mlockall",
    "munlockall",
    "mincore",
    "msync",
    "memfd_create",
    /* threads and signals */
    "set_robust_list",
    "get_robust_list",
    "rt_sigaction",
    "rt_sigpending",
    "rt_sigsuspend",
    "signalfd",
    "signalfd4",
    "prctl",
    "arch_prctl",
    /* a thread started later installs its own (stricter) filter */
    "seccomp",
#if SANDBOX_FOR_LSAN
    /* LeakSanitizer's tracer (see SANDBOX_CLONE_MASK); it lists the
     * threads with the old getdents */
    "ptrace",
    "wait4",
    "getdents",
#endif
    /* time */
    "timerfd_create",
    "timerfd_settime",
    "timerfd_gettime",
    "timer_create",
    "timer_settime",
    "timer_gettime",
    "timer_delete",
    "timer_getoverrun",
    "alarm",
    "setitimer",
    "getitimer",
    /* identity and limits (read-only) */
    "getppid",
    "getuid",
    "geteuid",
    "getgid",
    "getegid",
    "getgroups",
    "getresuid",
    "getresgid",
    "getpgrp",
    "getsid",
    "uname",
    "sysinfo",
    "getrlimit",
    "prlimit64",
    "getrusage",
    "times",
    "sched_getparam",
    "sched_getscheduler",
    "sched_get_priority_max",
    "sched_get_priority_min",
};

/* A syscall allowed only when one argument matches:
 * (arg & mask) == value for one of values[] (64-bit compares, as
 * libseccomp's SCMP_CMP_EQ / SCMP_CMP_MASKED_EQ). */
struct sandbox_arg_rule {
    const char *name;
    uint32_t action; /* SECCOMP_RET_* when an argument matches */
    unsigned arg;    /* index of the argument (0..5) */
    uint64_t mask;   /* UINT64_MAX: plain equality */
    const uint64_t *values;
    size_t n_values;
    /* values[] holds one placeholder: the process id, patched into the
     * compiled program at run time (kill() only to ourselves). */
    bool value_is_pid;
};

/* A syscall with a fixed non-default action and no argument check. */
struct sandbox_fixed_rule {
    const char *name;
    uint32_t action;
};

/* The pid compiled into the programs until sandbox_install() patches it. */
/* (defined the same in sandbox-filters.h) */
#define SANDBOX_PID_PLACEHOLDER 0x7ead5eedU

static const uint64_t sandbox_socket_families[] = {AF_UNIX, AF_INET, AF_INET6,
                                                   AF_NETLINK};
/* ioctl types: KVM (0xAE), the terminal/tun group 'T' (0x54, TCGETS,
 * TIOCGPTN, FIONBIO, FIONREAD, TUNSETIFF...) and /dev/sev's 'S'
 * (SEV_ISSUE_CMD, for query-sev-capabilities of an SEV guest) */
static const uint64_t sandbox_ioctl_types[] = {KVMIO << 8, 'T' << 8, 'S' << 8};
#if SANDBOX_FOR_LSAN
/* Sanitizer builds (meson -Db_sanitize=address or leak): LeakSanitizer's
 * check at exit stops the world from a tracer task it clones with
 * CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_UNTRACED (no CLONE_THREAD), which
 * then ptrace()s every thread and wait4()s for it.  Allowed in these
 * builds only; fork, vfork and posix_spawn (no CLONE_VM, or CLONE_VFORK
 * without CLONE_UNTRACED) stay out. */
#define SANDBOX_CLONE_MASK (CLONE_THREAD | CLONE_UNTRACED | CLONE_VM)
static const uint64_t sandbox_clone_thread[] = {CLONE_THREAD | CLONE_VM,
                                                CLONE_UNTRACED | CLONE_VM};
#else
#define SANDBOX_CLONE_MASK CLONE_THREAD
static const uint64_t sandbox_clone_thread[] = {CLONE_THREAD};
#endif
static const uint64_t sandbox_pid[] = {SANDBOX_PID_PLACEHOLDER};

static const struct sandbox_arg_rule sandbox_main_arg_rules[] = {
    {"socket", SECCOMP_RET_ALLOW, 0, UINT64_MAX, sandbox_socket_families, 4,
     false},
    {"ioctl", SECCOMP_RET_ALLOW, 1, 0xff00, sandbox_ioctl_types, 3, false},
    /* threads only: fork and vfork stay out */
    {"clone", SECCOMP_RET_ALLOW, 0, SANDBOX_CLONE_MASK, sandbox_clone_thread,
     sizeof(sandbox_clone_thread) / sizeof(sandbox_clone_thread[0]), false},
    /* signals to ourselves only (raise/abort); tgkill covers threads */
    {"kill", SECCOMP_RET_ALLOW, 0, UINT64_MAX, sandbox_pid, 1, true},
};

static const struct sandbox_fixed_rule sandbox_main_fixed_rules[] = {
    /* clone3 passes its flags in memory a filter cannot read: ENOSYS makes
     * glibc fall back to clone, which is checked above. */
    {"clone3", SECCOMP_RET_ERRNO | ENOSYS},
};

/* The ioctls a vCPU thread may issue: its own registers and run loop, and
 * the VM-level calls device emulation makes while handling an exit.
 * KVM_RUN first: the compiled filter tests it before anything else. */
static const uint64_t sandbox_vcpu_ioctls[] = {
    KVM_RUN,
    KVM_GET_REGS,
    KVM_SET_REGS,
    KVM_GET_SREGS,
    KVM_SET_SREGS,
#ifdef KVM_GET_SREGS2
    KVM_GET_SREGS2,
    KVM_SET_SREGS2,
#endif
    KVM_GET_MSRS,
    KVM_SET_MSRS,
    KVM_GET_FPU,
    KVM_SET_FPU,
    KVM_GET_XSAVE,
    KVM_SET_XSAVE,
#ifdef KVM_GET_XSAVE2
    KVM_GET_XSAVE2,
#endif
    KVM_GET_XCRS,
    KVM_SET_XCRS,
    KVM_GET_LAPIC,
    KVM_SET_LAPIC,
    KVM_GET_VCPU_EVENTS,
    KVM_SET_VCPU_EVENTS,
    KVM_GET_DEBUGREGS,
    KVM_SET_DEBUGREGS,
    KVM_GET_MP_STATE,
    KVM_SET_MP_STATE,
    KVM_INTERRUPT,
    KVM_NMI,
    KVM_SET_SIGNAL_MASK,
    KVM_SET_CPUID2,
    KVM_GET_CPUID2,
    KVM_TRANSLATE,
    KVM_SET_GUEST_DEBUG,
    KVM_KVMCLOCK_CTRL,
    KVM_GET_TSC_KHZ,
    KVM_SET_TSC_KHZ,
    KVM_TPR_ACCESS_REPORTING,
    /* VM fd, from device emulation on an exit */
    KVM_IRQ_LINE,
    KVM_IRQ_LINE_STATUS,
    KVM_SIGNAL_MSI,
    KVM_IOEVENTFD,
    KVM_IRQFD,
    KVM_SET_GSI_ROUTING,
    KVM_SET_USER_MEMORY_REGION,
    KVM_GET_IRQCHIP,
    KVM_SET_IRQCHIP,
    KVM_GET_CLOCK,
    KVM_CHECK_EXTENSION,
    /* KVM_EXIT_DIRTY_RING_FULL: the vCPU harvests the rings and resets
     * them (accel/kvm/dirty.c) */
    KVM_RESET_DIRTY_RINGS,
    /* KVM_SET_MEMORY_ATTRIBUTES (Linux 6.8, newer than Debian 12's headers:
     * _IOW(KVMIO, 0xd2, 32-byte struct)): an SEV-SNP vCPU converts a page
     * between private and shared on KVM_EXIT_MEMORY_FAULT (sev/sev.c). */
    _IOW(KVMIO, 0xd2, uint64_t[4]),
    /* virtio-net: the driver's DRIVER_OK status write (a vCPU MMIO exit)
     * sets the tap's offloads (net/tap.c).  tx frames go out with writev
     * from whichever thread handles the kick (common list). */
    TUNSETOFFLOAD,
};

/* A virtio transport may deliver a queue kick on the vCPU thread (an MMIO
 * notify without ioeventfd): the block device then submits to its
 * io_uring.  The ring only reads, writes and fsyncs (restricted at
 * set-up, hw/block/block-backend.c), what read/write here allow anyway. */
static const char *const sandbox_vcpu_syscalls[] = {
    "io_uring_enter",
};

static const struct sandbox_arg_rule sandbox_vcpu_arg_rules[] = {
    {"ioctl", SECCOMP_RET_ALLOW, 1, UINT64_MAX, sandbox_vcpu_ioctls,
     sizeof(sandbox_vcpu_ioctls) / sizeof(sandbox_vcpu_ioctls[0]), false},
};

#endif
