/* SPDX-License-Identifier: MIT */
/*
 * migrate-buf.c: the migration test guest (image migrate-buf.bin; the
 * serial output and TSC helpers are the virtio guest's, virtio-lib.c).  It
 * keeps rewriting a buffer of a few MiB in RAM and checksumming it,
 * printing its progress on COM1, so that a migration or a save/restore
 * in the middle of the work can be checked end to end: the destination
 * prints the same answer as an uninterrupted run only if every page,
 * every register and the UART came across, and its serial output picks up
 * at the byte where the source's stopped (tests/functional/
 * test_migrate_guest.py).  64-bit, polling, integer-only; all state is in
 * registers, on the stack (below 0x80000) and in the buffer: nothing is
 * written to the image, which is read-only on QEMU's q35 and not
 * migrated by vireo (the destination maps its own -bios).
 *
 * Parameters sit in the image (mb_params below) behind the magic
 * "MIGBUF-PARAMS-1": a test copies the image and patches them, so the
 * same guest runs quick under QEMU's TCG and long enough under KVM.
 *   kib     buffer size in KiB (4..MB_BUF_MAX_KIB), at MB_BUF
 *   stride  words rewritten per round: one in stride (a power of two,
 *           1..512; 8 still dirties every page each round at 1/8 of
 *           the work)
 *   rounds  number of rounds (1..1000000)
 *   pace    each round lasts at least pace * 2^20 TSC ticks (busy wait;
 *           0: none).  It only stretches the run: a TSC that jumps
 *           across a migration ends one wait early, never changes a sum.
 *   seed    64-bit seed
 *
 * All arithmetic is modulo 2^64 on n = kib * 128 words buf[0..n-1]:
 *   buf[i] = mix(seed + i * 0x9e3779b97f4a7c15), mix being splitmix64's
 *   finaliser (z = (z ^ z >> 30) * 0xbf58476d1ce4e5b9;
 *   z = (z ^ z >> 27) * 0x94d049bb133111eb; z ^ z >> 31)
 *   x = seed ^ 0x9e3779b97f4a7c15 (1 if that is 0); next() is xorshift64*
 *   (x ^= x >> 12; x ^= x << 25; x ^= x >> 27; return x * 0x2545f4914f6cdd1d)
 *   round r = 1..rounds: a = next() | 1, b = next(), c = (r - 1) % stride;
 *     for i = c, c + stride, ... < n: buf[i] = buf[i] * a + b,
 *       sum += buf[i] * (2i + 1)            (sum starts at 0 each round)
 *     print "round R sum %016x"
 *   then over every word: done = sum of buf[i] * (2i + 1); print
 *   "done %016x", and exit through isa-debug-exit (0: status 1), else
 *   ACPI S5 at vireo's microvm sleep-control port.
 * Every update reads the word it rewrites, so a page lost or stale in a
 * migration changes every later sum; the weights catch a page moved.
 * Bad parameters print "migbuf: bad parameters" and exit with 2 (status
 * 5).  Output, in full:
 *   migbuf: boot
 *   migbuf: KIB KiB, stride S, ROUNDS rounds, pace P, seed %016x
 *   round 1 sum ... / ... / round ROUNDS sum ...
 *   done %016x
 */
#include "virtio-guest.h"

#define COM1_LSR 0x3fd
#define DEBUG_EXIT_PORT 0xf4
#define ACPI_SLEEP_CTL_PORT 0x600
#define ACPI_S5_VALUE ((5 << 2) | 0x20)

/* The buffer: above the page tables (0x10000) and the stack (0x80000);
 * the largest one ends at 16 MiB, the tests' RAM size. */
#define MB_BUF 0x400000ULL
#define MB_BUF_MAX_KIB 12288

struct mb_params {
    char magic[16];
    uint32_t kib;
    uint32_t stride;
    uint32_t rounds;
    uint32_t pace;
    uint64_t seed;
};

/* volatile: read from the image at run time, never folded by gcc */
static const volatile struct mb_params mb_params
    __attribute__((used, aligned(16))) = {
        .magic = "MIGBUF-PARAMS-1",
        .kib = 1024,
        .stride = 1,
        .rounds = 8,
        .pace = 0,
        .seed = 0x5eed0f00d5eed001ULL,
};

void mb_main(void);

/* Entry from lm64.S (pm32.S's weak main16 goes straight to protected
 * mode): a stack in low RAM, then mb_main, which does not return. */
__asm__(".text\n"
        ".globl main64\n"
        "main64:\n"
        "    movl $0x80000, %esp\n"
        "    call mb_main\n"
        "1:  cli\n"
        "    hlt\n"
        "    jmp 1b\n");

static uint64_t next(uint64_t *x)
{
    *x ^= *x >> 12;
    *x ^= *x << 25;
    *x ^= *x >> 27;
    return *x * 0x2545f4914f6cdd1dULL;
}

static uint64_t mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void power_off(uint8_t code)
{
    outb(DEBUG_EXIT_PORT, code);
    outb(ACPI_SLEEP_CTL_PORT, ACPI_S5_VALUE);
    /* a VMM may power off asynchronously: give it LSR reads (exits) */
    for (unsigned i = 0; i < 10000; i++) {
        (void)inb(COM1_LSR);
    }
    vt_puts("migbuf: exit failed, halting\n");
}

void mb_main(void)
{
    uint32_t kib = mb_params.kib, stride = mb_params.stride;
    uint32_t rounds = mb_params.rounds, pace = mb_params.pace;
    uint64_t seed = mb_params.seed;
    uint64_t *buf = (uint64_t *)MB_BUF;
    uint64_t n = (uint64_t)kib * 128, x, sum;

    vt_puts("migbuf: boot\n");
    if (kib < 4 || kib > MB_BUF_MAX_KIB || !stride || stride > 512 ||
        (stride & (stride - 1)) || !rounds || rounds > 1000000) {
        vt_puts("migbuf: bad parameters\n");
        power_off(2);
        return;
    }
    vt_puts("migbuf: ");
    vt_putdec(kib);
    vt_puts(" KiB, stride ");
    vt_putdec(stride);
    vt_puts(", ");
    vt_putdec(rounds);
    vt_puts(" rounds, pace ");
    vt_putdec(pace);
    vt_puts(", seed ");
    vt_puthex(seed, 16);
    vt_puts("\n");

    for (uint64_t i = 0; i < n; i++) {
        buf[i] = mix(seed + i * 0x9e3779b97f4a7c15ULL);
    }
    x = seed ^ 0x9e3779b97f4a7c15ULL;
    if (!x) {
        x = 1;
    }
    for (uint32_t r = 1; r <= rounds; r++) {
        uint64_t t0 = vt_rdtsc();
        uint64_t a = next(&x) | 1, b = next(&x);

        sum = 0;
        for (uint64_t i = (r - 1) & (stride - 1); i < n; i += stride) {
            uint64_t v = buf[i] * a + b;

            buf[i] = v;
            sum += v * (2 * i + 1);
        }
        /* the stores are done before the line says so */
        __asm__ volatile("" : : : "memory");
        vt_puts("round ");
        vt_putdec(r);
        vt_puts(" sum ");
        vt_puthex(sum, 16);
        vt_puts("\n");
        while (pace && vt_rdtsc() - t0 < ((uint64_t)pace << 20)) {
            __asm__ volatile("pause");
        }
    }
    sum = 0;
    for (uint64_t i = 0; i < n; i++) {
        sum += buf[i] * (2 * i + 1);
    }
    vt_puts("done ");
    vt_puthex(sum, 16);
    vt_puts("\n");
    power_off(0);
}
