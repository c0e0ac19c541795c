/* SPDX-License-Identifier: MIT */
/*
 * check.c: the checks every fake kernel runs on what its loader handed it
 * (32-bit, integer-only, freestanding).  Expectations come from the
 * command line, so the same kernel checks any -m/-smp/-initrd:
 *   magic=vireo-boot-ok      the command line arrived intact
 *   expect_mem=MIB           usable e820 RAM within [MIB-4 MiB, MIB MiB]
 *   expect_cpus=N            enabled processors in the MADT
 *   expect_initrd=SIZE,SUM   initrd length and checksum (hex, see below)
 *   expect_year=YYYY         the CMOS RTC's year (BCD, century at 0x32)
 *   reboot=1                 first boot: count it in CMOS byte 0x40 and reset
 *                            through the i8042 (0xfe to port 0x64); the
 *                            second boot (count 1) runs the checks
 *   smp=1                    start the APs (INIT, SIPI, SIPI through the
 *                            LAPIC) and check every one reports its APIC
 *                            id (1..expect_cpus-1)
 *   poweroff=1               when every check passed, power off through
 *                            ACPI (\_S5 and the FADT sleep control register
 *                            or PM1a control block) instead of debug-exit
 * Output: "PASS <check> ..." / "FAIL <check> ..." lines on COM1 (0x3f8,
 * polling LSR), then "DONE pass=P fail=F", then isa-debug-exit at 0xf4.
 */
#include "check.h"

void *memset(void *d, int c, unsigned long n);
void *memcpy(void *d, const void *s, unsigned long n);

void *memset(void *d, int c, unsigned long n)
{
    u8 *p = d;
    while (n--) {
        *p++ = (u8)c;
    }
    return d;
}

void *memcpy(void *d, const void *s, unsigned long n)
{
    u8 *p = d;
    const u8 *q = s;
    while (n--) {
        *p++ = *q++;
    }
    return d;
}

static inline void outb(u16 port, u8 v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}
static inline void outl(u16 port, u32 v)
{
    __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}
static inline u8 inb(u16 port)
{
    u8 v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

#define COM1 0x3f8

static void putc_(char c)
{
    for (unsigned i = 0; i < 100000 && !(inb(COM1 + 5) & 0x20); i++) {
    }
    outb(COM1, (u8)c);
}

static void puts_(const char *s)
{
    while (*s) {
        if (*s == '\n') {
            putc_('\r');
        }
        putc_(*s++);
    }
}

static void putdec(u32 v)
{
    char b[12];
    int i = 0;

    do {
        b[i++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (i--) {
        putc_(b[i]);
    }
}

static void puthex(u64 v)
{
    static const char d[] = "0123456789abcdef";
    int started = 0;

    puts_("0x");
    for (int s = 60; s >= 0; s -= 4) {
        unsigned x = (unsigned)(v >> s) & 15;
        if (x || started || s == 0) {
            putc_(d[x]);
            started = 1;
        }
    }
}

static unsigned npass, nfail;

static void result(int ok, const char *name)
{
    puts_(ok ? "PASS " : "FAIL ");
    puts_(name);
    putc_(' ');
    if (ok) {
        npass++;
    } else {
        nfail++;
    }
}

void bz_print_setup_data(u32 type, u32 len, u32 first)
{
    puts_("setup_data type ");
    putdec(type);
    puts_(" len ");
    putdec(len);
    puts_(" first ");
    puthex(first);
    puts_("\n");
}

/* ---- command line ---- */

static const char *find_arg(const char *cmd, const char *key)
{
    unsigned kl = 0;

    while (key[kl]) {
        kl++;
    }
    for (const char *p = cmd; p && *p; p++) {
        if ((p == cmd || p[-1] == ' ')) {
            unsigned i = 0;
            while (i < kl && p[i] == key[i]) {
                i++;
            }
            if (i == kl && p[kl] == '=') {
                return p + kl + 1;
            }
        }
    }
    return 0;
}

static int parse_num(const char *s, u32 *out, unsigned base)
{
    u32 v = 0;
    int n = 0;

    for (; s && *s && *s != ' ' && *s != ','; s++, n++) {
        unsigned d;
        if (*s >= '0' && *s <= '9') {
            d = (unsigned)(*s - '0');
        } else if (base == 16 && *s >= 'a' && *s <= 'f') {
            d = (unsigned)(*s - 'a' + 10);
        } else {
            return 0;
        }
        v = v * base + d;
    }
    *out = v;
    return n > 0;
}

/* ---- ACPI ---- */

static int sum_ok(u32 a, u32 len)
{
    u8 s = 0;

    for (u32 i = 0; i < len; i++) {
        s = (u8)(s + rd8(a + i));
    }
    return s == 0;
}

static int sig_is(u32 a, const char *sig)
{
    for (int i = 0; i < 4; i++) {
        if (rd8(a + (u32)i) != (u8)sig[i]) {
            return 0;
        }
    }
    return 1;
}

static int is_rsdp(u32 a)
{
    static const char s[] = "RSD PTR ";

    for (int i = 0; i < 8; i++) {
        if (rd8(a + (u32)i) != (u8)s[i]) {
            return 0;
        }
    }
    return sum_ok(a, 20);
}

static u32 find_rsdp(void)
{
    u32 ebda = (u32)rd16(0x40e) << 4;

    if (ebda >= 0x80000 && ebda < 0xa0000) {
        for (u32 a = ebda; a < ebda + 1024; a += 16) {
            if (is_rsdp(a)) {
                return a;
            }
        }
    }
    for (u32 a = 0xe0000; a < 0x100000; a += 16) {
        if (is_rsdp(a)) {
            return a;
        }
    }
    return 0;
}

/* A table header at a: signature and checksum over its length. */
static int table_ok(u32 a, const char *sig)
{
    u32 len;

    if (!a || !sig_is(a, sig)) {
        return 0;
    }
    len = rd32(a + 4);
    return len >= 36 && len < 0x100000 && sum_ok(a, len);
}

static u32 g_fadt, g_dsdt;

static inline void outw(u16 port, u16 v)
{
    __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

/* SLP_TYP for S5 from the DSDT's \_S5 package: Name (_S5, Package () {a,
 * ...}): "_S5_" 0x12 PkgLength NumElements then the first element. */
static int s5_type(u32 *typ)
{
    u32 len = g_dsdt ? rd32(g_dsdt + 4) : 0;

    for (u32 p = g_dsdt + 36; p + 8 < g_dsdt + len; p++) {
        if (sig_is(p, "_S5_") && rd8(p + 4) == 0x12) {
            u32 q = p + 5;
            q += 1 + (rd8(q) >> 6); /* PkgLength */
            q += 1;                 /* NumElements */
            if (rd8(q) == 0x0a) {
                *typ = rd8(q + 1);
            } else if (rd8(q) <= 1) {
                *typ = rd8(q);
            } else {
                return 0;
            }
            return 1;
        }
    }
    return 0;
}

static void poweroff(void)
{
    u32 typ;

    if (!g_fadt || !s5_type(&typ)) {
        puts_("FAIL poweroff no FADT or \\_S5\n");
        return;
    }
    puts_("poweroff: S5 SLP_TYP=");
    putdec(typ);
    puts_("\n");
    if ((rd32(g_fadt + 112) & (1u << 20)) && rd32(g_fadt + 4) >= 268) {
        /* hardware-reduced: sleep control register, I/O or memory */
        u8 v = (u8)((typ & 7) << 2 | 0x20);
        if (rd8(g_fadt + 244) == 1) {
            outb((u16)rd64(g_fadt + 248), v);
        } else if (rd8(g_fadt + 244) == 0) {
            *(volatile u8 *)(u32)rd64(g_fadt + 248) = v;
        }
    } else if (rd32(g_fadt + 64)) {
        outw((u16)rd32(g_fadt + 64), (u16)((typ & 7) << 10 | 1u << 13));
    }
    /* The VMM acts on the write asynchronously: give it time. */
    for (volatile u32 i = 0; i < 3000000; i++) {
    }
    puts_("FAIL poweroff still running\n");
}

static void check_acpi(struct bootinfo *bi, const char *cmd)
{
    u32 rsdp = (u32)bi->rsdp, root, n, esz, fadt = 0, madt = 0, cpus = 0;
    u32 want;
    int xsdt;

    if (!rsdp) {
        rsdp = find_rsdp();
    }
    result(rsdp && is_rsdp(rsdp) && (rd8(rsdp + 15) < 2 || sum_ok(rsdp, 36)),
           "rsdp");
    puthex(rsdp);
    puts_(bi->rsdp ? " (handed over)\n" : " (found by scan)\n");
    if (!rsdp || !is_rsdp(rsdp)) {
        return;
    }
    xsdt = rd8(rsdp + 15) >= 2 && rd64(rsdp + 24) &&
           rd64(rsdp + 24) < 0x100000000ULL;
    root = xsdt ? (u32)rd64(rsdp + 24) : rd32(rsdp + 16);
    esz = xsdt ? 8 : 4;
    result(table_ok(root, xsdt ? "XSDT" : "RSDT"), xsdt ? "xsdt" : "rsdt");
    puthex(root);
    puts_("\n");
    if (!table_ok(root, xsdt ? "XSDT" : "RSDT")) {
        return;
    }
    n = (rd32(root + 4) - 36) / esz;
    for (u32 i = 0; i < n; i++) {
        u32 t = rd32(root + 36 + i * esz);
        if (sig_is(t, "FACP")) {
            fadt = t;
        } else if (sig_is(t, "APIC")) {
            madt = t;
        }
    }
    g_fadt = table_ok(fadt, "FACP") ? fadt : 0;
    result(table_ok(fadt, "FACP"), "fadt");
    puthex(fadt);
    puts_("\n");
    if (table_ok(fadt, "FACP")) {
        u32 dsdt = rd32(fadt + 40);
        if (rd32(fadt + 4) >= 148 && rd64(fadt + 140)) {
            dsdt = (u32)rd64(fadt + 140);
        }
        g_dsdt = table_ok(dsdt, "DSDT") ? dsdt : 0;
        result(table_ok(dsdt, "DSDT"), "dsdt");
        puthex(dsdt);
        puts_("\n");
    }
    result(table_ok(madt, "APIC"), "madt");
    puthex(madt);
    puts_("\n");
    if (table_ok(madt, "APIC")) {
        u32 end = madt + rd32(madt + 4);
        for (u32 p = madt + 44; p + 2 <= end && rd8(p + 1) >= 2;
             p += rd8(p + 1)) {
            if (rd8(p) == 0 && (rd32(p + 4) & 1)) {
                cpus++;
            } else if (rd8(p) == 9 && (rd32(p + 8) & 1)) {
                cpus++;
            }
        }
        if (!parse_num(find_arg(cmd, "expect_cpus"), &want, 10)) {
            want = 0xffffffff;
        }
        result(cpus == want, "cpus");
        puts_("madt=");
        putdec(cpus);
        puts_(" expected=");
        putdec(want);
        puts_("\n");
    }
}

/* ---- SMP: wake the APs, collect their APIC ids (smp.S) ---- */

extern const char ap_trampoline[], ap_trampoline_end[];
extern volatile u32 ap_count, ap_ids[64];

#define LAPIC 0xfee00000u

static void lapic_w(u32 reg, u32 v)
{
    *(volatile u32 *)(LAPIC + reg) = v;
}

static void delay(u32 n)
{
    for (volatile u32 i = 0; i < n; i++) {
    }
}

static void check_smp(const char *cmd)
{
    u32 want, seen = 0, bad = 0;

    if (!find_arg(cmd, "smp") ||
        !parse_num(find_arg(cmd, "expect_cpus"), &want, 10)) {
        return;
    }
    memcpy((void *)0x8000, ap_trampoline,
           (unsigned long)(ap_trampoline_end - ap_trampoline));
    lapic_w(0xf0, 0x1ff); /* software enable */
    lapic_w(0x310, 0);
    lapic_w(0x300, 0x000c4500); /* INIT, all but self */
    delay(100000);
    for (int i = 0; i < 2; i++) {
        lapic_w(0x310, 0);
        lapic_w(0x300, 0x000c4608); /* SIPI, vector 0x08 */
        delay(20000);
    }
    for (u32 i = 0; i < 3000000 && ap_count < want - 1; i++) {
    }
    for (u32 i = 0; i < ap_count && i < 64; i++) {
        puts_("  AP apic id ");
        putdec(ap_ids[i]);
        puts_("\n");
        if (ap_ids[i] == 0 || ap_ids[i] >= want || (seen & (1u << ap_ids[i]))) {
            bad = 1;
        } else {
            seen |= 1u << ap_ids[i];
        }
    }
    result(!bad && ap_count == want - 1, "smp-aps");
    putdec(ap_count);
    puts_(" APs of ");
    putdec(want - 1);
    puts_("\n");
}

/* ---- the checks ---- */

void check_run(struct bootinfo *bi)
{
    const char *cmd = bi->cmdline ? bi->cmdline : "";
    const char *magic = find_arg(cmd, "magic");
    u64 usable = 0;
    u32 want_mib, kstart = bi->kernel_start, kend = bi->kernel_end;
    int sorted = 1, kernel_in_ram = 0;

    if (find_arg(cmd, "reboot")) {
        outb(0x70, 0x40);
        u8 count = inb(0x71);
        puts_("\nboot count ");
        putdec(count);
        if (count == 0) {
            outb(0x70, 0x40);
            outb(0x71, 1);
            /* Spoil what the loader wrote: the VMM must write it again. */
            *(char *)cmd = 'X';
            if (bi->has_initrd && bi->initrd_size) {
                *(volatile u8 *)bi->initrd_addr ^= 0xff;
            }
            puts_(", rebooting\n");
            outb(0x64, 0xfe);
            for (;;) {
                __asm__ volatile("cli; hlt");
            }
        }
    }
    puts_("\nfake kernel: ");
    puts_(bi->format);
    puts_("\ncmdline: ");
    puts_(cmd);
    puts_("\n");

    /* command line */
    {
        static const char want[] = "vireo-boot-ok";
        int ok = magic != 0;
        for (unsigned i = 0; ok && want[i]; i++) {
            ok = magic[i] == want[i];
        }
        ok = ok &&
             (magic[sizeof(want) - 1] == ' ' || magic[sizeof(want) - 1] == 0);
        result(ok, "cmdline");
        puts_("\n");
    }

    /* e820 */
    for (unsigned i = 0; i < bi->n_e820; i++) {
        struct bi_e820 *e = &bi->e820[i];
        if (e->size == 0) {
            continue;
        }
        puts_("  e820 ");
        puthex(e->addr);
        puts_("-");
        puthex(e->addr + e->size - 1);
        puts_(" type ");
        putdec(e->type);
        puts_("\n");
        /* the map need not be sorted (firmware maps are not), but RAM
         * ranges must not overlap one another */
        for (unsigned j = 0; j < i; j++) {
            struct bi_e820 *o = &bi->e820[j];
            if (e->type == 1 && o->type == 1 && e->size && o->size &&
                e->addr < o->addr + o->size && o->addr < e->addr + e->size) {
                sorted = 0;
            }
        }
        if (e->type == 1) {
            usable += e->size;
            if (kstart >= e->addr && kend <= e->addr + e->size) {
                kernel_in_ram = 1;
            }
        }
    }
    result(bi->n_e820 > 0 && sorted, "e820-sane"); /* RAM ranges disjoint */
    putdec(bi->n_e820);
    puts_(" entries\n");
    if (!parse_num(find_arg(cmd, "expect_mem"), &want_mib, 10)) {
        want_mib = 0;
    }
    result(want_mib && usable <= ((u64)want_mib << 20) &&
               usable + (4ULL << 20) >= ((u64)want_mib << 20),
           "e820-ram");
    puts_("usable=");
    puthex(usable);
    puts_(" (");
    putdec((u32)(usable >> 10));
    puts_(" KiB) expected=");
    putdec(want_mib);
    puts_(" MiB\n");
    result(kernel_in_ram, "kernel-in-ram");
    puthex(kstart);
    puts_("-");
    puthex(kend);
    puts_("\n");

    /* initrd */
    {
        const char *ex = find_arg(cmd, "expect_initrd");
        u32 size, sum = 0, want_sum;
        const char *comma = ex;
        while (comma && *comma && *comma != ',' && *comma != ' ') {
            comma++;
        }
        if (ex && parse_num(ex, &size, 10) && comma && *comma == ',' &&
            parse_num(comma + 1, &want_sum, 16)) {
            if (bi->has_initrd) {
                for (u32 i = 0; i < bi->initrd_size; i++) {
                    sum = sum * 31 + rd8(bi->initrd_addr + i);
                }
            }
            result(bi->has_initrd && bi->initrd_size == size && sum == want_sum,
                   "initrd");
            puts_("addr=");
            puthex(bi->initrd_addr);
            puts_(" size=");
            putdec(bi->initrd_size);
            puts_(" sum=");
            puthex(sum);
            puts_("\n");
        }
    }

    check_acpi(bi, cmd);
    check_smp(cmd);

    /* CMOS RTC: wait out update-in-progress, read year and century */
    {
        u32 want;
        if (parse_num(find_arg(cmd, "expect_year"), &want, 10)) {
            u32 year, i;
            for (i = 0; i < 1000000; i++) {
                outb(0x70, 0x0a);
                if (!(inb(0x71) & 0x80)) {
                    break;
                }
            }
            outb(0x70, 0x09);
            year = inb(0x71);
            outb(0x70, 0x32);
            year += (u32)inb(0x71) << 8;
            year = ((year >> 12) & 15) * 1000 + ((year >> 8) & 15) * 100 +
                   ((year >> 4) & 15) * 10 + (year & 15);
            result(year == want, "rtc-year");
            putdec(year);
            puts_(" expected=");
            putdec(want);
            puts_("\n");
        }
    }

    puts_("DONE pass=");
    putdec(npass);
    puts_(" fail=");
    putdec(nfail);
    puts_("\n");
    if (!nfail && find_arg(cmd, "poweroff")) {
        poweroff();
        nfail++;
    }
    outl(0xf4, nfail ? 0x11 : 0x10);
    for (;;) {
        __asm__ volatile("cli; hlt");
    }
}
