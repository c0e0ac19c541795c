/* SPDX-License-Identifier: MIT */
/*
 * crc32c.c: CRC-32C, see crc32c.h.  The slicing-by-8 tables are computed
 * once, on first use, under g_once (read-only after that).
 * The hardware path processes 8 bytes per crc32q; RAM sections are
 * gigabytes, so it matters (about 10x the table's speed).
 */
#include "util/common.h"
#include "util/crc32c.h"

#define CRC32C_POLY 0x82f63b78u

struct crc32c_tables {
    uint32_t t[8][256];
};

static gpointer tables_init(gpointer arg)
{
    struct crc32c_tables *tb = g_new(struct crc32c_tables, 1);

    for (unsigned n = 0; n < 256; n++) {
        uint32_t c = n;

        for (int k = 0; k < 8; k++) {
            c = c & 1 ? (c >> 1) ^ CRC32C_POLY : c >> 1;
        }
        tb->t[0][n] = c;
    }
    for (unsigned n = 0; n < 256; n++) {
        for (int k = 1; k < 8; k++) {
            uint32_t c = tb->t[k - 1][n];

            tb->t[k][n] = (c >> 8) ^ tb->t[0][c & 0xff];
        }
    }
    return tb;
}

static const struct crc32c_tables *tables(void)
{
    static GOnce once = G_ONCE_INIT;

    return g_once(&once, tables_init, NULL);
}

uint32_t crc32c_sw(uint32_t crc, const void *buf, size_t len)
{
    const struct crc32c_tables *tb = tables();
    const uint8_t *p = buf;

    crc = ~crc;
    while (len >= 8) {
        uint32_t lo = crc ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 |
                             (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
        uint32_t hi = (uint32_t)p[4] | (uint32_t)p[5] << 8 |
                      (uint32_t)p[6] << 16 | (uint32_t)p[7] << 24;

        crc = tb->t[7][lo & 0xff] ^ tb->t[6][(lo >> 8) & 0xff] ^
              tb->t[5][(lo >> 16) & 0xff] ^ tb->t[4][lo >> 24] ^
              tb->t[3][hi & 0xff] ^ tb->t[2][(hi >> 8) & 0xff] ^
              tb->t[1][(hi >> 16) & 0xff] ^ tb->t[0][hi >> 24];
        p += 8;
        len -= 8;
    }
    while (len--) {
        crc = (crc >> 8) ^ tb->t[0][(crc ^ *p++) & 0xff];
    }
    return ~crc;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
/*
 * crc32q has a latency of 3 cycles and a throughput of 1: three
 * independent streams over three adjacent blocks keep it busy, and the
 * three results are joined with the CRC's linearity,
 *   crc(r, A||B||C) = shift(shift(crc(r, A)) ^ crc(0, B)) ^ crc(0, C),
 * where shift() advances a register over BLOCK zero bytes (a 4 x 256
 * table, from the same instruction).  Registers here are raw (no
 * pre/post inversion).
 */
#define HW_BLOCK 4096

struct crc32c_shift {
    uint32_t t[4][256];
};

__attribute__((target("sse4.2"))) static gpointer shift_init(gpointer arg)
{
    struct crc32c_shift *sh = g_new(struct crc32c_shift, 1);

    for (unsigned k = 0; k < 4; k++) {
        for (unsigned b = 0; b < 256; b++) {
            uint64_t x = (uint64_t)b << (8 * k);

            for (unsigned i = 0; i < HW_BLOCK / 8; i++) {
                x = __builtin_ia32_crc32di(x, 0);
            }
            sh->t[k][b] = (uint32_t)x;
        }
    }
    return sh;
}

static uint32_t shift(const struct crc32c_shift *sh, uint32_t x)
{
    return sh->t[0][x & 0xff] ^ sh->t[1][(x >> 8) & 0xff] ^
           sh->t[2][(x >> 16) & 0xff] ^ sh->t[3][x >> 24];
}

__attribute__((target("sse4.2"))) static uint32_t
crc32c_hw(uint32_t crc, const void *buf, size_t len)
{
    static GOnce once = G_ONCE_INIT;
    const struct crc32c_shift *sh = NULL;
    const uint8_t *p = buf;
    uint64_t c = ~crc;

    while (len && ((uintptr_t)p & 7)) {
        c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
        len--;
    }
    if (len >= 3 * HW_BLOCK) {
        sh = g_once(&once, shift_init, NULL);
    }
    while (len >= 3 * HW_BLOCK) {
        uint64_t a = c, b = 0, d = 0;

        for (unsigned i = 0; i < HW_BLOCK; i += 8) {
            uint64_t va, vb, vd;

            memcpy(&va, p + i, 8);
            memcpy(&vb, p + HW_BLOCK + i, 8);
            memcpy(&vd, p + 2 * HW_BLOCK + i, 8);
            a = __builtin_ia32_crc32di(a, va);
            b = __builtin_ia32_crc32di(b, vb);
            d = __builtin_ia32_crc32di(d, vd);
        }
        c = shift(sh, shift(sh, (uint32_t)a) ^ (uint32_t)b) ^ (uint32_t)d;
        p += 3 * HW_BLOCK;
        len -= 3 * HW_BLOCK;
    }
    while (len >= 8) {
        uint64_t v;

        memcpy(&v, p, 8);
        c = __builtin_ia32_crc32di(c, v);
        p += 8;
        len -= 8;
    }
    while (len--) {
        c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
    }
    return ~(uint32_t)c;
}

uint32_t crc32c(uint32_t crc, const void *buf, size_t len)
{
    if (__builtin_cpu_supports("sse4.2")) {
        return crc32c_hw(crc, buf, len);
    }
    return crc32c_sw(crc, buf, len);
}
#else
uint32_t crc32c(uint32_t crc, const void *buf, size_t len)
{
    return crc32c_sw(crc, buf, len);
}
#endif
