/* SPDX-License-Identifier: MIT */
/*
 * longmode.c: the 64-bit part of the long-mode guest, compiled with
 * -ffreestanding -mgeneral-regs-only -fpie (RIP-relative data: the image
 * sits at 0xffff0000, above what the small code model addresses).
 */
#include <stdint.h>

void lm_puts(const char *s);
void lm_main(void);

static inline void outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static void lm_putc(char c)
{
    while (!(inb(0x3fd) & 0x20)) {
    }
    outb(0x3f8, (uint8_t)c);
}

void lm_puts(const char *s)
{
    while (*s) {
        lm_putc(*s++);
    }
}

static void lm_puthex(uint64_t v, int digits)
{
    for (int i = digits - 1; i >= 0; i--) {
        lm_putc("0123456789abcdef"[(v >> (i * 4)) & 0xf]);
    }
}

void lm_main(void)
{
    uint64_t efer_lo, efer_hi, cr0, rip;

    __asm__ volatile("rdmsr" : "=a"(efer_lo), "=d"(efer_hi) : "c"(0xc0000080));
    __asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
    __asm__ volatile("lea 0(%%rip), %0" : "=r"(rip));
    lm_puts("longmode: hello from 64-bit code\n");
    lm_puts("longmode: efer=");
    lm_puthex((efer_hi << 32) | efer_lo, 16);
    lm_puts(" cr0=");
    lm_puthex(cr0, 16);
    lm_puts(" rip=");
    lm_puthex(rip, 16);
    lm_puts("\n");
}
