/* SPDX-License-Identifier: MIT */
/*
 * log.h: the -d/-D logging of QEMU.  Guest-caused errors (bad register
 * accesses, malformed descriptors) go through vlog_guest_error(): enabled
 * by "-d guest_errors", written to the -D file or stderr, and rate-limited
 * so a hostile guest cannot flood the host's disk.  Never exits.
 */
#ifndef UTIL_LOG_H
#define UTIL_LOG_H

#include "util/common.h"
#include "util/error.h"

enum {
    VLOG_GUEST_ERROR = 1u << 0,
    VLOG_UNIMP = 1u << 1,
    VLOG_INT = 1u << 2,
    VLOG_CPU_RESET = 1u << 3,
};

struct vlog {
    unsigned mask;
    FILE *out; /* NULL: stderr */
    GMutex lock;
    gint64 window_start_us;
    unsigned in_window;
    unsigned suppressed;
};

void vlog_init(struct vlog *l);
void vlog_close(struct vlog *l);
/* Parses "-d item,item" (and "help"); fails naming an unknown item. */
bool vlog_parse_mask(const char *items, unsigned *mask, Error **errp);
bool vlog_set_file(struct vlog *l, const char *path, Error **errp);
void vlog_msg(struct vlog *l, unsigned kind, const char *fmt, ...)
    PRINTF_FMT(3, 4);
#define vlog_guest_error(l, ...) vlog_msg(l, VLOG_GUEST_ERROR, __VA_ARGS__)
/* Text listing the -d items, for "-d help". */
const char *vlog_help(void);

#endif
