/* SPDX-License-Identifier: MIT */
/*
 * block-backend.h: raw image files for the block devices (virtio-blk),
 * with QEMU's -drive semantics: cache=none (O_DIRECT) | writeback |
 * unsafe (flush is a no-op), aio=io_uring (liburing) | threads (a small
 * pool; also used where io_uring is unavailable), readonly, and QEMU's
 * image locking (fcntl OFD locks on the bytes QEMU uses, so vireo and
 * QEMU refuse each other's images).  A qcow2 image given as raw is
 * refused with a hint.
 *
 * Requests are asynchronous: blk_submit() queues, blk_kick() starts what
 * was queued, and completions are delivered by blk_poll() (call it when
 * blk_event_fd() is readable) on the caller's thread: the main loop or an
 * I/O thread, never a worker.  The caller serialises every call for one
 * backend (the device lock).  Worker threads only run the system calls;
 * they install the SANDBOX_BLOCK_WORKER seccomp filter when asked to.
 */
#ifndef HW_BLOCK_BLOCK_BACKEND_H
#define HW_BLOCK_BLOCK_BACKEND_H

#include "util/common.h"
#include "util/error.h"
#include <sys/uio.h>

enum blk_cache {
    BLK_CACHE_WRITEBACK = 0, /* QEMU's default */
    BLK_CACHE_NONE,          /* O_DIRECT, flush = fdatasync */
    BLK_CACHE_UNSAFE,        /* page cache, flush ignored */
};

enum blk_aio {
    BLK_AIO_THREADS = 0,
    BLK_AIO_IO_URING,
};

enum blk_locking {
    BLK_LOCKING_AUTO = 0, /* on (OFD locks are always there on Linux) */
    BLK_LOCKING_ON,
    BLK_LOCKING_OFF,
};

struct blk_options {
    const char *filename;
    bool readonly;
    enum blk_cache cache;
    enum blk_aio aio;
    enum blk_locking locking;
    bool share_rw;        /* share the "write" permission (share-rw=on) */
    unsigned max_workers; /* thread pool size; 0: 64 (QEMU's) */
    bool sandbox_workers; /* workers install SANDBOX_BLOCK_WORKER */
};

enum blk_op {
    BLK_OP_READ,
    BLK_OP_WRITE,
    BLK_OP_FLUSH,
    BLK_OP_DISCARD,
    BLK_OP_WRITE_ZEROES,
};

struct blk_request;
typedef void blk_complete_fn(struct blk_request *req, int ret);

/* Filled by the caller, owned by it until its callback ran.  The iovec
 * array and buffers stay valid until then. */
struct blk_request {
    enum blk_op op;
    uint64_t offset;         /* bytes */
    uint64_t len;            /* DISCARD / WRITE_ZEROES; READ/WRITE: iov sum */
    const struct iovec *iov; /* READ / WRITE */
    unsigned niov;
    bool may_unmap;      /* WRITE_ZEROES may punch a hole */
    blk_complete_fn *cb; /* ret: 0 or -errno */
    /* private to the backend */
    struct blk_request *next;
    int ret;
    uint64_t done; /* bytes already transferred */
    void *bounce;
    struct iovec bounce_iov;
};

struct blk_backend;

struct blk_backend *blk_open(const struct blk_options *o, Error **errp);
/* Waits for everything in flight (callbacks run), then closes. */
void blk_close(struct blk_backend *be);
uint64_t blk_size(const struct blk_backend *be);
bool blk_is_readonly(const struct blk_backend *be);
enum blk_cache blk_cache_mode(const struct blk_backend *be);
/* What is in use: "io_uring" or "threads" (after a fallback). */
const char *blk_aio_name(const struct blk_backend *be);
const char *blk_filename(const struct blk_backend *be);
/* The image is a block device (QEMU's "host_device" protocol driver). */
bool blk_is_host_device(const struct blk_backend *be);
/* Bytes the host allocated to the image (st_blocks * 512), or -errno. */
int64_t blk_allocated_size(const struct blk_backend *be);

/* Readable when blk_poll has completions to deliver. */
int blk_event_fd(const struct blk_backend *be);
void blk_submit(struct blk_backend *be, struct blk_request *req);
/* Starts the requests submitted since the last kick (one io_uring_enter
 * for a batch). */
void blk_kick(struct blk_backend *be);
/* Delivers finished requests' callbacks; returns how many. */
unsigned blk_poll(struct blk_backend *be);
/* Waits until nothing is in flight, delivering callbacks. */
void blk_drain(struct blk_backend *be);
unsigned blk_inflight(const struct blk_backend *be);

/*
 * I/O accounting, QEMU's BlockAcctStats (block/accounting.c) as
 * query-blockstats reports it.  The device model decides what counts
 * (QEMU's virtio-blk: read, write and write-zeroes as reads/writes, discard
 * as unmap, flush; a request refused before it reached the image is
 * "invalid", one the image failed is "failed").  Updated with the device
 * lock held; QMP reads them from the main thread, so each counter is a
 * relaxed atomic (a snapshot may mix two requests, never tear a value).
 */
enum blk_acct_type {
    BLK_ACCT_READ,
    BLK_ACCT_WRITE,
    BLK_ACCT_FLUSH,
    BLK_ACCT_UNMAP,
    BLK_ACCT__MAX,
};

struct blk_acct_stats {
    uint64_t bytes[BLK_ACCT__MAX];
    uint64_t ops[BLK_ACCT__MAX];
    uint64_t failed_ops[BLK_ACCT__MAX];
    uint64_t invalid_ops[BLK_ACCT__MAX];
    uint64_t total_time_ns[BLK_ACCT__MAX];
    uint64_t wr_highest_offset; /* end of the highest write, bytes */
    int64_t last_access_ns;     /* monotonic; 0: no request finished yet */
};

/* One request being accounted (kept by the caller while in flight). */
struct blk_acct_cookie {
    enum blk_acct_type type;
    uint64_t bytes;
    int64_t start_ns;
};

int64_t blk_clock_ns(void);
struct blk_acct_stats *blk_stats(struct blk_backend *be);
void blk_acct_start(struct blk_acct_cookie *c, enum blk_acct_type type,
                    uint64_t bytes);
/* Completion: ret 0 counts the request done (bytes, time), else failed. */
void blk_acct_done(struct blk_backend *be, const struct blk_acct_cookie *c,
                   int ret);
/* A request refused before it was started (bad range, read-only image). */
void blk_acct_invalid(struct blk_backend *be, enum blk_acct_type type);
/* A write reached [offset, offset + bytes): raises wr_highest_offset. */
void blk_acct_write_end(struct blk_backend *be, uint64_t end);
/* A consistent copy of the counters (relaxed atomic loads). */
void blk_stats_read(struct blk_backend *be, struct blk_acct_stats *out);

/* Parsers for the option values (QEMU's spellings), precise errors. */
bool blk_parse_cache(const char *s, enum blk_cache *out, Error **errp);
bool blk_parse_aio(const char *s, enum blk_aio *out, Error **errp);
bool blk_parse_locking(const char *s, enum blk_locking *out, Error **errp);

#endif
