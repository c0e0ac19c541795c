/* SPDX-License-Identifier: MIT */
/*
 * crc32c.c: CRC-32C, see crc32c.h.  The slicing-by-8 tables are computed
 * once, on first use, under g_once (read-only after that).
 * The hardware path processes 8 bytes per crc32q; RAM sections are
 * gigabytes, so it matters (about 10x the table's speed).  Where the CPU
 * has AVX-512 and VPCLMULQDQ, long buffers are folded with carry-less
 * multiplies instead, 256 bytes a step (about 1.6x crc32q here).
 */
#include "util/common.h"
#include "util/crc32c.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#endif

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

/*
 * Folding (the method of Intel's "Fast CRC Computation for Generic
 * Polynomials Using PCLMULQDQ", written here from the algebra): in the
 * reflected bit order a 16-byte lane loaded little-endian is the
 * polynomial L * x^64 + H (L the low 8 bytes, bit i the coefficient of
 * x^(63-i) in each half), and a carry-less product of two halves comes
 * out multiplied by x once more.  The CRC only depends on the message
 * modulo P, so a lane followed by D more bits of message may be replaced
 * by
 *   clmul(L, x^(63+D) mod P) ^ clmul(H, x^(D-1) mod P)
 * xored into the lane D bits further on (each product fits in 128
 * bits: the constants have 32 bits).  Four 512-bit registers (16 lanes)
 * run over the buffer, are folded into one lane, and that lane's 16
 * bytes go through crc32q from a zero register: the initial register is
 * xored into the first 4 bytes instead, which is the same CRC.
 */
#define FOLD_MIN 512

struct fold_consts {
    uint64_t k2048[2], k512[2], k128[2];
};

/* x^n mod P in a lane half's order: bit 63-d is the coefficient of x^d */
static uint64_t fold_power(unsigned n)
{
    uint64_t v = 1, r = 0;

    for (unsigned i = 0; i < n; i++) {
        v <<= 1;
        if (v >> 32) {
            v ^= 0x11edc6f41ULL; /* P, normal order */
        }
    }
    for (unsigned d = 0; d < 32; d++) {
        r |= (v >> d & 1) << (63 - d);
    }
    return r;
}

static gpointer fold_init(gpointer arg)
{
    struct fold_consts *k = g_new(struct fold_consts, 1);
    static const unsigned dist[] = {2048, 512, 128};
    uint64_t *out[] = {k->k2048, k->k512, k->k128};

    for (unsigned i = 0; i < 3; i++) {
        out[i][0] = fold_power(63 + dist[i]); /* for L */
        out[i][1] = fold_power(dist[i] - 1);  /* for H */
    }
    return k;
}

#define FOLD_TARGET "avx512f,vpclmulqdq,pclmul,sse4.2"

__attribute__((target(FOLD_TARGET))) static inline __m128i
fold128(__m128i x, __m128i k, __m128i next)
{
    return _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x, k, 0x00),
                                       _mm_clmulepi64_si128(x, k, 0x11)),
                         next);
}

__attribute__((target(FOLD_TARGET))) static inline __m512i
fold512(__m512i x, __m512i k, __m512i next)
{
    /* 0x96: three-way xor */
    return _mm512_ternarylogic_epi64(_mm512_clmulepi64_epi128(x, k, 0x00),
                                     _mm512_clmulepi64_epi128(x, k, 0x11), next,
                                     0x96);
}

__attribute__((target(FOLD_TARGET))) static uint32_t
crc32c_fold(uint32_t crc, const void *buf, size_t len)
{
    static GOnce once = G_ONCE_INIT;
    const struct fold_consts *k = g_once(&once, fold_init, NULL);
    const uint8_t *p = buf;
    __m512i k2048 =
        _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)k->k2048));
    __m512i k512 =
        _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)k->k512));
    __m128i k128 = _mm_loadu_si128((const __m128i *)k->k128), x;
    __m512i a0 = _mm512_loadu_si512(p), a1 = _mm512_loadu_si512(p + 64),
            a2 = _mm512_loadu_si512(p + 128), a3 = _mm512_loadu_si512(p + 192);
    uint64_t c;

    a0 = _mm512_xor_si512(a0,
                          _mm512_zextsi128_si512(_mm_cvtsi32_si128((int)~crc)));
    p += 256;
    len -= 256;
    while (len >= 256) {
        a0 = fold512(a0, k2048, _mm512_loadu_si512(p));
        a1 = fold512(a1, k2048, _mm512_loadu_si512(p + 64));
        a2 = fold512(a2, k2048, _mm512_loadu_si512(p + 128));
        a3 = fold512(a3, k2048, _mm512_loadu_si512(p + 192));
        p += 256;
        len -= 256;
    }
    a1 = fold512(a0, k512, a1);
    a2 = fold512(a1, k512, a2);
    a3 = fold512(a2, k512, a3);
    x = _mm512_extracti32x4_epi32(a3, 0);
    x = fold128(x, k128, _mm512_extracti32x4_epi32(a3, 1));
    x = fold128(x, k128, _mm512_extracti32x4_epi32(a3, 2));
    x = fold128(x, k128, _mm512_extracti32x4_epi32(a3, 3));
    c = __builtin_ia32_crc32di(0, (uint64_t)_mm_cvtsi128_si64(x));
    c = __builtin_ia32_crc32di(c, (uint64_t)_mm_extract_epi64(x, 1));
    /* the rest (under 256 bytes) continues from the raw register */
    return crc32c_hw(~(uint32_t)c, p, len);
}

uint32_t crc32c_nofold(uint32_t crc, const void *buf, size_t len)
{
    if (__builtin_cpu_supports("sse4.2")) {
        return crc32c_hw(crc, buf, len);
    }
    return crc32c_sw(crc, buf, len);
}

uint32_t crc32c(uint32_t crc, const void *buf, size_t len)
{
    if (len >= FOLD_MIN && __builtin_cpu_supports("avx512f") &&
        __builtin_cpu_supports("vpclmulqdq") &&
        __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.2")) {
        return crc32c_fold(crc, buf, len);
    }
    return crc32c_nofold(crc, buf, len);
}
#else
uint32_t crc32c_nofold(uint32_t crc, const void *buf, size_t len)
{
    return crc32c_sw(crc, buf, len);
}

uint32_t crc32c(uint32_t crc, const void *buf, size_t len)
{
    return crc32c_sw(crc, buf, len);
}
#endif
