/* SPDX-License-Identifier: MIT */
/*
 * common.h: the first include of every vireo .c file.  C11, GLib, fixed-width
 * integers, and the handful of attribute macros the tree uses.
 */
#ifndef UTIL_COMMON_H
#define UTIL_COMMON_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>

#define VIREO_VERSION "0.1.0"
/* What we report to QMP clients and -version as the QEMU level we follow. */
#define VIREO_QEMU_MAJOR 7
#define VIREO_QEMU_MINOR 2
#define VIREO_QEMU_MICRO 0

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define KiB (1024ULL)
#define MiB (1024ULL * KiB)
#define GiB (1024ULL * MiB)
#define PRINTF_FMT(a, b) __attribute__((format(printf, a, b)))
#define WARN_UNUSED __attribute__((warn_unused_result))
#define ALIGN_UP(x, a) (((x) + (a)-1) & ~((__typeof__(x))(a)-1))
#define ALIGN_DOWN(x, a) ((x) & ~((__typeof__(x))(a)-1))

#endif
