/* SPDX-License-Identifier: MIT */
/*
 * stream.h: byte streams for migration: a buffered writer and reader over
 * a file descriptor that may be a pipe or a socket (no seeking, short
 * reads and writes, EINTR) or a file already positioned after someone
 * else's header (libvirt's save image), and a reader over a memory buffer
 * (tests, fuzzing).  Positions count from where the stream started; `base`
 * is the fd's offset at that point when it can be known (lseek), so that
 * data can be placed page-aligned in the file for mmap.
 */
#ifndef MIGRATION_STREAM_H
#define MIGRATION_STREAM_H

#include "util/common.h"
#include "util/error.h"

struct mig_writer {
    int fd;
    uint64_t base; /* fd offset at the start (0 when not seekable) */
    bool seekable;
    bool socket;  /* send(MSG_NOSIGNAL): a dead peer is EPIPE */
    uint64_t pos; /* bytes written through this writer */
    uint8_t *buf;
    size_t len, cap;
};

struct mig_reader {
    int fd; /* -1: memory reader over mem/mem_len */
    /* -1, or an fd (an eventfd) whose becoming readable makes a read that
     * waits fail with "cancelled": set after init, for a reader on a
     * thread that must be stopped (quit during an incoming migration) */
    int cancel_fd;
    uint64_t received; /* bytes read from fd (atomic: mig_reader_received) */
    const uint8_t *mem;
    size_t mem_len;
    uint64_t base;
    bool seekable;
    uint64_t pos; /* bytes consumed */
    uint8_t *buf; /* fd readers: read-ahead */
    size_t have, off, cap;
};

/* fd -1: a memory writer: everything written stays in buf (len bytes)
 * and flushes are no-ops (a live migration captures the device state on
 * the main loop and sends it from its thread). */
void mig_writer_init(struct mig_writer *w, int fd);
bool mig_write(struct mig_writer *w, const void *p, size_t n, Error **errp);
/* Writes n bytes (guest RAM) and continues the CRC32C *crc over them:
 * chunk by chunk, each written while still in the cache. */
bool mig_write_crc(struct mig_writer *w, const void *p, size_t n, uint32_t *crc,
                   Error **errp);
/* Writes n zero bytes (padding). */
bool mig_write_zeros(struct mig_writer *w, size_t n, Error **errp);
bool mig_writer_flush(struct mig_writer *w, Error **errp);
/* Flushes and frees the buffer (the fd stays open). */
bool mig_writer_finish(struct mig_writer *w, Error **errp);
/* Absolute file offset of the next byte (base + pos). */
uint64_t mig_writer_offset(const struct mig_writer *w);

void mig_reader_init_fd(struct mig_reader *r, int fd);
void mig_reader_init_mem(struct mig_reader *r, const void *p, size_t n);
void mig_reader_fini(struct mig_reader *r);
/* Reads exactly n bytes; a short stream fails naming `what` and the
 * offset ("truncated stream"). */
bool mig_read(struct mig_reader *r, void *p, size_t n, const char *what,
              Error **errp);
/* Discards n bytes (seeks when the fd allows it). */
bool mig_skip(struct mig_reader *r, uint64_t n, const char *what, Error **errp);
uint64_t mig_reader_offset(const struct mig_reader *r);
/* Bytes read from the fd so far; any thread may ask while another reads. */
uint64_t mig_reader_received(const struct mig_reader *r);
/* For mmap: the fd when the reader has nothing buffered past `pos` that a
 * seek would lose, else -1.  After mapping, mig_skip the mapped bytes. */
int mig_reader_mappable_fd(struct mig_reader *r);

#endif
