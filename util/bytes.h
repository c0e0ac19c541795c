/* SPDX-License-Identifier: MIT */
/*
 * bytes.h: little-endian loads and stores of 1..8 bytes, for the places
 * that move values between byte buffers and integers (kvm_run I/O data,
 * the vmstate wire format).  Byte by byte, so alignment never matters.
 */
#ifndef UTIL_BYTES_H
#define UTIL_BYTES_H

#include "util/common.h"

static inline uint64_t le_load(const uint8_t *p, unsigned len)
{
    uint64_t v = 0;

    for (unsigned i = 0; i < len; i++) {
        v |= (uint64_t)p[i] << (8 * i);
    }
    return v;
}

static inline void le_store(uint8_t *p, uint64_t v, unsigned len)
{
    for (unsigned i = 0; i < len; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

#endif
