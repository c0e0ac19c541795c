/* SPDX-License-Identifier: MIT */
/*
 * crc32c.h: CRC-32C (Castagnoli, polynomial 0x1EDC6F41 reflected as
 * 0x82F63B78; RFC 3720 appendix B.4), the checksum of every section of a
 * migration stream.  Carry-less multiply folding (AVX-512 VPCLMULQDQ)
 * for long buffers and SSE4.2's crc32 instruction where the CPU has them,
 * a slicing-by-8 table otherwise; all give the same values.
 */
#ifndef UTIL_CRC32C_H
#define UTIL_CRC32C_H

#include "util/common.h"

/* Continues a CRC: crc32c(crc32c(0, a), b) == crc32c(0, a || b). */
uint32_t crc32c(uint32_t crc, const void *buf, size_t len);
/* The portable table version (tests compare the two). */
uint32_t crc32c_sw(uint32_t crc, const void *buf, size_t len);
/* crc32c() without the AVX-512 folding: the crc32q version where the
 * CPU has SSE4.2 (tests compare it too; crc32c() leaves it short
 * buffers only on CPUs that fold). */
uint32_t crc32c_nofold(uint32_t crc, const void *buf, size_t len);

#endif
