/* SPDX-License-Identifier: MIT */
/*
 * fdset.h: QEMU's fd sets (-add-fd fd=N,set=S[,opaque=TEXT]).  A file name
 * "/dev/fdset/S" given to an option that opens a file (chardev path=,
 * logfile=) is served by duplicating an fd of set S whose access mode
 * (O_RDONLY/O_WRONLY/O_RDWR) is the one the opener wants, as QEMU's
 * qemu_open() does.  libvirt passes every file a domain's chardevs write
 * (serial files, virtlogd pipes) this way, because the VMM may not be
 * allowed to open them itself.
 */
#ifndef SYSTEM_FDSET_H
#define SYSTEM_FDSET_H

#include "util/common.h"
#include "util/error.h"

struct fdsets;

/* Takes a duplicate of every -add-fd fd (the originals are left alone:
 * whoever passed them owns them).  Texts were validated by vl.c. */
struct fdsets *fdsets_new(GPtrArray *add_fd_texts, Error **errp);
void fdsets_free(struct fdsets *s);
/* True for a "/dev/fdset/..." name. */
bool fdset_is_path(const char *path);
/* Opens path: a "/dev/fdset/S" name through the sets (s may be NULL: no
 * sets), anything else with open(2).  Of the flags, an fd set's fd honours
 * the access mode (which selects the fd) and O_NONBLOCK; O_CREAT, O_TRUNC
 * and O_APPEND were up to whoever opened it, as in QEMU.  Returns a new fd
 * (O_CLOEXEC) or -1. */
int fdset_open(struct fdsets *s, const char *path, int flags, mode_t mode,
               Error **errp);

#endif
