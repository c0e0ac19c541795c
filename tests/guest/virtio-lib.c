/* SPDX-License-Identifier: MIT */
/*
 * virtio-lib.c: the virtio test guest's small runtime: COM1 output by
 * polling LSR.THRE, the freestanding mem* functions gcc may call, a bump
 * allocator for DMA memory in RAM, the TSC for timeouts, and the
 * PASS/FAIL report lines the functional tests parse.
 */
#include "virtio-guest.h"

#define COM1 0x3f8
#define COM1_LSR (COM1 + 5)

void vt_putc(char c)
{
    while (!(inb(COM1_LSR) & 0x20)) {
    }
    outb(COM1, (uint8_t)c);
}

void vt_puts(const char *s)
{
    while (*s) {
        vt_putc(*s++);
    }
}

void vt_puthex(uint64_t v, int digits)
{
    for (int i = digits - 1; i >= 0; i--) {
        vt_putc("0123456789abcdef"[(v >> (i * 4)) & 0xf]);
    }
}

void vt_putdec(uint64_t v)
{
    char buf[24];
    int n = 0;

    do {
        buf[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n) {
        vt_putc(buf[--n]);
    }
}

void vt_putbytes(const uint8_t *p, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        vt_puthex(p[i], 2);
    }
}

/* gcc turns these loops into calls to themselves unless told not to. */
__attribute__((optimize("no-tree-loop-distribute-patterns"))) void *
memset(void *d, int c, size_t n)
{
    volatile uint8_t *p = d;

    while (n--) {
        *p++ = (uint8_t)c;
    }
    return d;
}

__attribute__((optimize("no-tree-loop-distribute-patterns"))) void *
memcpy(void *d, const void *s, size_t n)
{
    volatile uint8_t *p = d;
    const uint8_t *q = s;

    while (n--) {
        *p++ = *q++;
    }
    return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const uint8_t *p = a, *q = b;

    for (; n; n--, p++, q++) {
        if (*p != *q) {
            return *p < *q ? -1 : 1;
        }
    }
    return 0;
}

void *vt_alloc(size_t size, size_t align)
{
    struct vt_state *s = vt();
    uintptr_t a = (s->arena + align - 1) & ~(uintptr_t)(align - 1);

    if (a + size > VT_ARENA_END) {
        vt_puts("virtio: FAIL out of guest memory for buffers\n");
        outb(0xf4, 1);
        for (;;) {
            __asm__ volatile("cli; hlt");
        }
    }
    s->arena = a + size;
    memset((void *)a, 0, size);
    return (void *)a;
}

uint64_t vt_rdtsc(void)
{
    uint32_t lo, hi;

    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

/* "PASS blk [pci 00:03.0]" / "FAIL blk [mmio feb00000]: why" */
static void report(const char *verdict, const char *what, const char *where)
{
    vt_puts(verdict);
    vt_puts(what);
    if (where) {
        vt_puts(" [");
        vt_puts(where);
        vt_puts("]");
    }
}

void vt_pass(const char *what, const char *where)
{
    vt()->passed++;
    report("PASS ", what, where);
    vt_puts("\n");
}

void vt_fail(const char *what, const char *where, const char *why)
{
    vt()->failed++;
    report("FAIL ", what, where);
    vt_puts(": ");
    vt_puts(why);
    vt_puts("\n");
}

/* Mixes the offset so that a sector written to the wrong place, a byte
 * swap or a short write all show; tests/functional/test_virtio_guest.py
 * has the same function. */
uint8_t vt_blk_pattern(unsigned i)
{
    return (uint8_t)((i * 7 + 0x5a) ^ (i >> 8) ^ (i >> 5));
}
