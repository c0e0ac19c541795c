/* SPDX-License-Identifier: MIT */
/*
 * block-backend.c: raw image files with io_uring or a thread pool; see
 * block-backend.h.  The image locks follow QEMU's file-posix scheme (so a
 * QEMU and a vireo on one image see each other): one byte per permission
 * at 100 + bit held shared while we hold the permission, one at 200 + bit
 * held shared while we refuse to share it; after taking ours we test the
 * other side's bytes with an exclusive F_OFD_GETLK.
 */
#include "util/common.h"
#include "hw/block/block-backend.h"
#include "system/sandbox.h"

#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <liburing.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BLK_URING_ENTRIES 256
#define BLK_DEFAULT_WORKERS 64 /* QEMU's thread pool maximum */
#define BLK_ZERO_CHUNK (1 * MiB)

/* QEMU's permission bits and lock byte offsets (block/file-posix.c). */
enum {
    BLK_PERM_CONSISTENT_READ = 1u << 0,
    BLK_PERM_WRITE = 1u << 1,
    BLK_PERM_WRITE_UNCHANGED = 1u << 2,
    BLK_PERM_RESIZE = 1u << 3,
    BLK_PERM_ALL = 0xf,
};
#define BLK_LOCK_PERM_BASE 100
#define BLK_LOCK_SHARED_BASE 200
static const char *const blk_perm_names[] = {"consistent read", "write",
                                             "write unchanged", "resize"};

struct blk_pool {
    GMutex lock;
    GCond cond;
    struct blk_request *todo_head, *todo_tail;
    struct blk_request *done; /* LIFO; order does not matter */
    GThread **threads;
    unsigned nthreads, idle, max;
    bool stop;
};

struct blk_backend {
    char *filename;
    int fd;
    int efd; /* completions: io_uring's CQ and the pool both signal it */
    uint64_t size;
    bool readonly;
    bool host_device; /* a block device (QEMU's host_device driver) */
    enum blk_cache cache;
    bool use_uring;
    bool sandbox_workers;
    size_t align; /* O_DIRECT buffer, length and offset alignment */
    struct io_uring ring;
    unsigned uring_queued; /* prepared, not yet submitted */
    struct blk_request *uring_wait_head, *uring_wait_tail; /* ring full */
    struct blk_pool pool;
    unsigned inflight;
    struct blk_acct_stats stats;
};

/* ---- option parsing -------------------------------------------------- */

bool blk_parse_cache(const char *s, enum blk_cache *out, Error **errp)
{
    if (!strcmp(s, "writeback")) {
        *out = BLK_CACHE_WRITEBACK;
    } else if (!strcmp(s, "none")) {
        *out = BLK_CACHE_NONE;
    } else if (!strcmp(s, "unsafe")) {
        *out = BLK_CACHE_UNSAFE;
    } else if (!strcmp(s, "writethrough") || !strcmp(s, "directsync")) {
        error_setg(errp,
                   "cache mode '%s' is not supported by vireo (use none, "
                   "writeback or unsafe)",
                   s);
        return false;
    } else {
        error_setg(errp, "invalid cache option '%s'", s);
        return false;
    }
    return true;
}

bool blk_parse_aio(const char *s, enum blk_aio *out, Error **errp)
{
    if (!strcmp(s, "threads")) {
        *out = BLK_AIO_THREADS;
    } else if (!strcmp(s, "io_uring")) {
        *out = BLK_AIO_IO_URING;
    } else if (!strcmp(s, "native")) {
        error_setg(errp, "aio=native is not supported by vireo (use io_uring "
                         "or threads)");
        return false;
    } else {
        error_setg(errp, "invalid aio option '%s'", s);
        return false;
    }
    return true;
}

bool blk_parse_locking(const char *s, enum blk_locking *out, Error **errp)
{
    if (!strcmp(s, "auto")) {
        *out = BLK_LOCKING_AUTO;
    } else if (!strcmp(s, "on")) {
        *out = BLK_LOCKING_ON;
    } else if (!strcmp(s, "off")) {
        *out = BLK_LOCKING_OFF;
    } else {
        error_setg(errp, "Parameter 'locking' does not accept value '%s'", s);
        return false;
    }
    return true;
}

/* ---- locking ------------------------------------------------------- */

static int ofd_lock(int fd, int64_t start, short type)
{
    struct flock fl = {
        .l_whence = SEEK_SET, .l_start = start, .l_len = 1, .l_type = type};

    return fcntl(fd, F_OFD_SETLK, &fl) < 0 ? -errno : 0;
}

/* 0 if an exclusive lock on the byte could be taken; -EAGAIN if held. */
static int ofd_test(int fd, int64_t start)
{
    struct flock fl = {
        .l_whence = SEEK_SET, .l_start = start, .l_len = 1, .l_type = F_WRLCK};

    if (fcntl(fd, F_OFD_GETLK, &fl) < 0) {
        return -errno;
    }
    return fl.l_type == F_UNLCK ? 0 : -EAGAIN;
}

static bool blk_lock(struct blk_backend *be, unsigned perm, unsigned shared,
                     Error **errp)
{
    unsigned unshared = ~shared & BLK_PERM_ALL;
    int r;

    for (unsigned i = 0; i < ARRAY_SIZE(blk_perm_names); i++) {
        if (((perm >> i) & 1) &&
            (r = ofd_lock(be->fd, BLK_LOCK_PERM_BASE + i, F_RDLCK)) < 0) {
            goto lock_failed;
        }
        if (((unshared >> i) & 1) &&
            (r = ofd_lock(be->fd, BLK_LOCK_SHARED_BASE + i, F_RDLCK)) < 0) {
            goto lock_failed;
        }
    }
    for (unsigned i = 0; i < ARRAY_SIZE(blk_perm_names); i++) {
        /* someone refuses to share what we take? */
        if (((perm >> i) & 1) &&
            ofd_test(be->fd, BLK_LOCK_SHARED_BASE + i) == -EAGAIN) {
            error_setg(errp,
                       "Failed to get \"%s\" lock: Is another process using "
                       "the image [%s]?",
                       blk_perm_names[i], be->filename);
            return false;
        }
        /* someone holds what we refuse to share? */
        if (((unshared >> i) & 1) &&
            ofd_test(be->fd, BLK_LOCK_PERM_BASE + i) == -EAGAIN) {
            error_setg(errp,
                       "Failed to get shared \"%s\" lock: Is another process "
                       "using the image [%s]?",
                       blk_perm_names[i], be->filename);
            return false;
        }
    }
    return true;
lock_failed:
    if (r == -EAGAIN || r == -EACCES) {
        error_setg(errp,
                   "Failed to lock byte: Is another process using the image "
                   "[%s]?",
                   be->filename);
    } else {
        error_setg_errno(errp, -r,
                         "Failed to lock image '%s' (locking=off disables "
                         "locking)",
                         be->filename);
    }
    return false;
}

/* ---- the thread pool ------------------------------------------------ */

static void signal_done(struct blk_backend *be)
{
    uint64_t one = 1;
    ssize_t r;

    do {
        r = write(be->efd, &one, sizeof(one));
    } while (r < 0 && errno == EINTR);
}

/* A copy of iov advanced by `skip` bytes (g_free it). */
static struct iovec *iov_skip(const struct iovec *iov, unsigned n,
                              uint64_t skip, unsigned *out_n)
{
    struct iovec *v = g_new(struct iovec, n ? n : 1);
    unsigned k = 0;

    for (unsigned i = 0; i < n; i++) {
        if (skip >= iov[i].iov_len) {
            skip -= iov[i].iov_len;
            continue;
        }
        v[k].iov_base = (char *)iov[i].iov_base + skip;
        v[k].iov_len = iov[i].iov_len - skip;
        skip = 0;
        k++;
    }
    *out_n = k;
    return v;
}

static const struct iovec *req_iov(struct blk_request *req, unsigned *n)
{
    if (req->bounce) {
        *n = 1;
        return &req->bounce_iov;
    }
    *n = req->niov;
    return req->iov;
}

static int do_rw(struct blk_backend *be, struct blk_request *req)
{
    bool write = req->op == BLK_OP_WRITE;
    unsigned n;
    const struct iovec *iov = req_iov(req, &n);

    while (req->done < req->len) {
        unsigned k;
        struct iovec *v = iov_skip(iov, n, req->done, &k);
        off_t off = (off_t)(req->offset + req->done);
        ssize_t r = write ? pwritev(be->fd, v, (int)MIN(k, IOV_MAX), off)
                          : preadv(be->fd, v, (int)MIN(k, IOV_MAX), off);
        int e = errno;

        g_free(v);
        if (r < 0) {
            if (e == EINTR) {
                continue;
            }
            return -e;
        }
        if (r == 0) {
            if (write) {
                return -EIO;
            }
            /* end of file (the image shrank): the rest reads as zeros */
            iov = req_iov(req, &n);
            v = iov_skip(iov, n, req->done, &k);
            for (unsigned i = 0; i < k; i++) {
                memset(v[i].iov_base, 0, v[i].iov_len);
            }
            g_free(v);
            req->done = req->len;
            break;
        }
        req->done += (uint64_t)r;
    }
    return 0;
}

static int write_zero_buffers(struct blk_backend *be, uint64_t off,
                              uint64_t len)
{
    size_t chunk = (size_t)MIN(len, BLK_ZERO_CHUNK);
    /* be->align is 1 without O_DIRECT: posix_memalign wants a multiple
     * of the pointer size */
    size_t align = MAX(be->align, 64);
    void *buf = NULL;
    int ret = 0;

    if (posix_memalign(&buf, align, ALIGN_UP(chunk, align))) {
        return -ENOMEM;
    }
    memset(buf, 0, ALIGN_UP(chunk, align));
    while (len) {
        size_t l = (size_t)MIN(len, chunk);
        ssize_t r = pwrite(be->fd, buf, l, (off_t)off);

        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            ret = r < 0 ? -errno : -EIO;
            break;
        }
        off += (uint64_t)r;
        len -= (uint64_t)r;
    }
    free(buf);
    return ret;
}

static int do_fallocate(struct blk_backend *be, struct blk_request *req)
{
    off_t off = (off_t)req->offset, len = (off_t)req->len;

    if (req->op == BLK_OP_DISCARD) {
        if (fallocate(be->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off,
                      len) == 0) {
            return 0;
        }
        /* discard is a hint: a file system without holes ignores it */
        return (errno == EOPNOTSUPP || errno == ENOSYS) ? 0 : -errno;
    }
    if (fallocate(be->fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, off,
                  len) == 0) {
        return 0;
    }
    if (errno != EOPNOTSUPP && errno != ENOSYS && errno != EINVAL) {
        return -errno;
    }
    if (req->may_unmap &&
        fallocate(be->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off,
                  len) == 0) {
        return 0;
    }
    return write_zero_buffers(be, req->offset, req->len);
}

static int do_request(struct blk_backend *be, struct blk_request *req)
{
    switch (req->op) {
    case BLK_OP_READ:
    case BLK_OP_WRITE:
        return do_rw(be, req);
    case BLK_OP_FLUSH:
        return fdatasync(be->fd) < 0 ? -errno : 0;
    case BLK_OP_DISCARD:
    case BLK_OP_WRITE_ZEROES:
        return do_fallocate(be, req);
    }
    return -EINVAL;
}

static gpointer pool_worker(gpointer opaque)
{
    struct blk_backend *be = opaque;
    struct blk_pool *p = &be->pool;

    if (be->sandbox_workers) {
        Error *err = NULL;

        if (!sandbox_install(SANDBOX_BLOCK_WORKER, &err)) {
            /* a worker without its filter must not run requests */
            error_report_err(err);
            abort();
        }
    }
    g_mutex_lock(&p->lock);
    for (;;) {
        struct blk_request *req;

        while (!p->stop && !p->todo_head) {
            p->idle++;
            g_cond_wait(&p->cond, &p->lock);
            p->idle--;
        }
        if (!p->todo_head) {
            break; /* stop, and nothing left */
        }
        req = p->todo_head;
        p->todo_head = req->next;
        if (!p->todo_head) {
            p->todo_tail = NULL;
        }
        g_mutex_unlock(&p->lock);
        req->ret = do_request(be, req);
        g_mutex_lock(&p->lock);
        req->next = p->done;
        p->done = req;
        g_mutex_unlock(&p->lock);
        signal_done(be);
        g_mutex_lock(&p->lock);
    }
    g_mutex_unlock(&p->lock);
    return NULL;
}

static void pool_submit(struct blk_backend *be, struct blk_request *req)
{
    struct blk_pool *p = &be->pool;

    g_mutex_lock(&p->lock);
    req->next = NULL;
    if (p->todo_tail) {
        p->todo_tail->next = req;
    } else {
        p->todo_head = req;
    }
    p->todo_tail = req;
    if (p->idle) {
        g_cond_signal(&p->cond);
    } else if (p->nthreads < p->max) {
        p->threads[p->nthreads++] =
            g_thread_new("vireo-blk-worker", pool_worker, be);
    }
    g_mutex_unlock(&p->lock);
}

/* ---- io_uring -------------------------------------------------------- */

static bool uring_prep(struct blk_backend *be, struct blk_request *req)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&be->ring);
    unsigned n;
    const struct iovec *iov = req_iov(req, &n);

    if (!sqe) {
        return false;
    }
    switch (req->op) {
    case BLK_OP_READ:
        io_uring_prep_readv(sqe, be->fd, iov, n, req->offset);
        break;
    case BLK_OP_WRITE:
        io_uring_prep_writev(sqe, be->fd, iov, n, req->offset);
        break;
    default: /* FLUSH; the others go to the pool */
        io_uring_prep_fsync(sqe, be->fd, IORING_FSYNC_DATASYNC);
        break;
    }
    io_uring_sqe_set_data(sqe, req);
    be->uring_queued++;
    return true;
}

static void uring_submit(struct blk_backend *be)
{
    while (be->uring_queued) {
        int r = io_uring_submit(&be->ring);

        if (r == -EINTR) {
            continue;
        }
        if (r < 0) {
            /* EAGAIN/EBUSY: the kernel is short of memory or the CQ is
             * full; the next kick or poll retries */
            break;
        }
        be->uring_queued -= MIN((unsigned)r, be->uring_queued);
        if (r == 0) {
            break;
        }
    }
    /* requests that found the SQ full */
    while (be->uring_wait_head) {
        struct blk_request *req = be->uring_wait_head;

        if (!uring_prep(be, req)) {
            break;
        }
        be->uring_wait_head = req->next;
        if (!be->uring_wait_head) {
            be->uring_wait_tail = NULL;
        }
    }
    if (be->uring_queued) {
        io_uring_submit(&be->ring);
        be->uring_queued = 0;
    }
}

/*
 * The ring may only read, write and fsync (IORING_REGISTER_RESTRICTIONS):
 * io_uring operations pass by seccomp, so without this a compromised
 * thread that can enter the ring could open files or sockets through it.
 * The restrictions take effect when the ring is enabled, after the
 * eventfd is registered; no register operation is allowed afterwards.
 */
static bool uring_setup(struct blk_backend *be)
{
    static const uint8_t ops[] = {IORING_OP_READV, IORING_OP_WRITEV,
                                  IORING_OP_FSYNC};
    struct io_uring_restriction res[ARRAY_SIZE(ops)];

    if (io_uring_queue_init(BLK_URING_ENTRIES, &be->ring,
                            IORING_SETUP_R_DISABLED) < 0) {
        return false;
    }
    memset(res, 0, sizeof(res));
    for (size_t i = 0; i < ARRAY_SIZE(ops); i++) {
        res[i].opcode = IORING_RESTRICTION_SQE_OP;
        res[i].sqe_op = ops[i];
    }
    if (io_uring_register_eventfd(&be->ring, be->efd) < 0 ||
        io_uring_register_restrictions(&be->ring, res, ARRAY_SIZE(res)) < 0 ||
        io_uring_enable_rings(&be->ring) < 0) {
        io_uring_queue_exit(&be->ring);
        return false;
    }
    return true;
}

/* ---- requests ------------------------------------------------------ */

static bool needs_bounce(struct blk_backend *be, struct blk_request *req)
{
    if (be->cache != BLK_CACHE_NONE) {
        return false;
    }
    if (req->offset % be->align || req->len % be->align) {
        return true;
    }
    for (unsigned i = 0; i < req->niov; i++) {
        if ((uintptr_t)req->iov[i].iov_base % be->align ||
            req->iov[i].iov_len % be->align) {
            return true;
        }
    }
    return false;
}

static void complete(struct blk_backend *be, struct blk_request *req, int ret)
{
    if (req->bounce) {
        if (ret == 0 && req->op == BLK_OP_READ) {
            uint64_t off = 0;
            for (unsigned i = 0; i < req->niov; i++) {
                memcpy(req->iov[i].iov_base, (char *)req->bounce + off,
                       req->iov[i].iov_len);
                off += req->iov[i].iov_len;
            }
        }
        free(req->bounce);
        req->bounce = NULL;
    }
    be->inflight--;
    req->cb(req, ret);
}

void blk_submit(struct blk_backend *be, struct blk_request *req)
{
    req->next = NULL;
    req->ret = 0;
    req->done = 0;
    req->bounce = NULL;
    be->inflight++;
    if (req->op == BLK_OP_READ || req->op == BLK_OP_WRITE) {
        req->len = 0;
        for (unsigned i = 0; i < req->niov; i++) {
            req->len += req->iov[i].iov_len;
        }
    }
    if (req->op != BLK_OP_READ && req->op != BLK_OP_FLUSH && be->readonly) {
        req->ret = -EROFS;
        goto done_now;
    }
    if (req->op == BLK_OP_FLUSH && be->cache == BLK_CACHE_UNSAFE) {
        goto done_now;
    }
    if ((req->op == BLK_OP_READ || req->op == BLK_OP_WRITE) &&
        needs_bounce(be, req)) {
        /* O_DIRECT wants aligned memory, lengths and offsets: a bounce
         * buffer covers memory; misaligned offsets never come from a
         * device (sectors of 512 and an image of 512-byte units). */
        size_t len = ALIGN_UP(req->len, be->align);

        if (req->offset % be->align ||
            posix_memalign(&req->bounce, be->align, len ? len : be->align)) {
            req->bounce = NULL;
            req->ret = -EINVAL;
            goto done_now;
        }
        if (req->op == BLK_OP_WRITE) {
            uint64_t off = 0;
            for (unsigned i = 0; i < req->niov; i++) {
                memcpy((char *)req->bounce + off, req->iov[i].iov_base,
                       req->iov[i].iov_len);
                off += req->iov[i].iov_len;
            }
        }
        req->bounce_iov.iov_base = req->bounce;
        req->bounce_iov.iov_len = req->len;
    }
    if (be->use_uring && (req->op == BLK_OP_READ || req->op == BLK_OP_WRITE ||
                          req->op == BLK_OP_FLUSH)) {
        if (req->len == 0 && req->op != BLK_OP_FLUSH) {
            goto done_now;
        }
        if (!uring_prep(be, req)) {
            uring_submit(be);
            if (!uring_prep(be, req)) {
                if (be->uring_wait_tail) {
                    be->uring_wait_tail->next = req;
                } else {
                    be->uring_wait_head = req;
                }
                be->uring_wait_tail = req;
            }
        }
        return;
    }
    pool_submit(be, req);
    return;
done_now:
    /* delivered by blk_poll like any other completion, never inline */
    g_mutex_lock(&be->pool.lock);
    req->next = be->pool.done;
    be->pool.done = req;
    g_mutex_unlock(&be->pool.lock);
    signal_done(be);
}

void blk_kick(struct blk_backend *be)
{
    if (be->use_uring && (be->uring_queued || be->uring_wait_head)) {
        uring_submit(be);
    }
}

unsigned blk_poll(struct blk_backend *be)
{
    unsigned count = 0;
    uint64_t v;
    struct blk_request *done;

    while (read(be->efd, &v, sizeof(v)) < 0 && errno == EINTR) {
    }
    if (be->use_uring) {
        struct io_uring_cqe *cqe;

        while (io_uring_peek_cqe(&be->ring, &cqe) == 0) {
            struct blk_request *req = io_uring_cqe_get_data(cqe);
            int res = cqe->res;

            io_uring_cqe_seen(&be->ring, cqe);
            if (res >= 0 && req->op != BLK_OP_FLUSH &&
                (uint64_t)res < req->len) {
                /* short transfer: the pool finishes it */
                req->done = (uint64_t)res;
                pool_submit(be, req);
                continue;
            }
            if (res == -EAGAIN || res == -EINTR) {
                pool_submit(be, req);
                continue;
            }
            complete(be, req, res < 0 ? res : 0);
            count++;
        }
        if (be->uring_wait_head) {
            uring_submit(be);
        }
    }
    g_mutex_lock(&be->pool.lock);
    done = be->pool.done;
    be->pool.done = NULL;
    g_mutex_unlock(&be->pool.lock);
    while (done) {
        struct blk_request *req = done;

        done = req->next;
        complete(be, req, req->ret);
        count++;
    }
    return count;
}

void blk_drain(struct blk_backend *be)
{
    blk_kick(be);
    blk_poll(be);
    while (be->inflight) {
        struct pollfd pfd = {.fd = be->efd, .events = POLLIN};

        poll(&pfd, 1, 100);
        blk_kick(be);
        blk_poll(be);
    }
}

unsigned blk_inflight(const struct blk_backend *be)
{
    return be->inflight;
}

/* ---- open and close ------------------------------------------------ */

/* The smallest alignment O_DIRECT accepts here: 512 unless the file
 * system or device needs 4096. */
static size_t probe_align(int fd)
{
    int ssz = 0;
    void *buf = NULL;
    size_t a = 512;

    if (ioctl(fd, BLKSSZGET, &ssz) == 0 && ssz > 0) {
        return (size_t)MAX(ssz, 512);
    }
    if (posix_memalign(&buf, 4096, 4096)) {
        return 4096;
    }
    for (a = 512; a < 4096; a *= 2) {
        if (pread(fd, (char *)buf + a, a, 0) >= 0 || errno != EINVAL) {
            break;
        }
    }
    free(buf);
    return a;
}

/* One aligned block, so that an O_DIRECT descriptor can read it too. */
static bool is_qcow2(int fd)
{
    void *b = NULL;
    bool q = false;

    if (!posix_memalign(&b, 4096, 4096)) {
        q = pread(fd, b, 4096, 0) >= 4 && !memcmp(b, "QFI\xfb", 4);
        free(b);
    }
    return q;
}

struct blk_backend *blk_open(const struct blk_options *o, Error **errp)
{
    struct blk_backend *be = g_new0(struct blk_backend, 1);
    int flags = (o->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC;
    struct stat st;

    be->fd = be->efd = -1;
    be->filename = g_strdup(o->filename ? o->filename : "");
    be->readonly = o->readonly;
    be->cache = o->cache;
    be->sandbox_workers = o->sandbox_workers;
    be->align = 1;
    g_mutex_init(&be->pool.lock);
    g_cond_init(&be->pool.cond);
    be->pool.max = o->max_workers ? o->max_workers : BLK_DEFAULT_WORKERS;
    be->pool.threads = g_new0(GThread *, be->pool.max);
    if (!o->filename || !*o->filename) {
        error_setg(errp, "A block device needs a file name (file=)");
        goto fail;
    }
    if (o->cache == BLK_CACHE_NONE) {
        flags |= O_DIRECT;
    }
    be->fd = open(o->filename, flags);
    if (be->fd < 0 && errno == EINVAL && (flags & O_DIRECT)) {
        error_setg(errp,
                   "Could not open '%s': cache=none needs O_DIRECT, which "
                   "this file system does not support",
                   o->filename);
        goto fail;
    }
    if (be->fd < 0) {
        error_setg_errno(errp, errno, "Could not open '%s'", o->filename);
        goto fail;
    }
    if (fstat(be->fd, &st) < 0) {
        error_setg_errno(errp, errno, "Could not stat '%s'", o->filename);
        goto fail;
    }
    if (S_ISBLK(st.st_mode)) {
        uint64_t sz = 0;
        if (ioctl(be->fd, BLKGETSIZE64, &sz) < 0) {
            error_setg_errno(errp, errno, "Could not get the size of '%s'",
                             o->filename);
            goto fail;
        }
        be->size = sz;
        be->host_device = true;
    } else if (S_ISREG(st.st_mode)) {
        be->size = (uint64_t)st.st_size;
    } else {
        error_setg(errp, "'%s' is not a regular file or block device",
                   o->filename);
        goto fail;
    }
    if (o->locking != BLK_LOCKING_OFF) {
        unsigned perm = BLK_PERM_CONSISTENT_READ;
        /* what QEMU's virtio-blk shares: readers, unchanged writers and
         * resizes; writers only with share-rw=on */
        unsigned shared = BLK_PERM_CONSISTENT_READ | BLK_PERM_WRITE_UNCHANGED |
                          BLK_PERM_RESIZE;

        if (!o->readonly) {
            perm |= BLK_PERM_WRITE;
        }
        if (o->share_rw) {
            shared |= BLK_PERM_WRITE;
        }
        if (!blk_lock(be, perm, shared, errp)) {
            goto fail;
        }
    }
    if (o->cache == BLK_CACHE_NONE) {
        be->align = probe_align(be->fd);
    }
    if (is_qcow2(be->fd)) {
        error_setg(errp,
                   "'%s' is a qcow2 image, and vireo reads raw images only: "
                   "convert it with 'qemu-img convert -f qcow2 -O raw %s "
                   "IMAGE.raw'",
                   o->filename, o->filename);
        goto fail;
    }
    be->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (be->efd < 0) {
        error_setg_errno(errp, errno, "eventfd for '%s'", o->filename);
        goto fail;
    }
    if (o->aio == BLK_AIO_IO_URING) {
        /* io_uring may be disabled (sysctl, seccomp of a container):
         * the thread pool does the same work */
        be->use_uring = uring_setup(be);
    }
    return be;
fail:
    blk_close(be);
    return NULL;
}

void blk_close(struct blk_backend *be)
{
    if (!be) {
        return;
    }
    if (be->efd >= 0) {
        blk_drain(be);
    }
    g_mutex_lock(&be->pool.lock);
    be->pool.stop = true;
    g_cond_broadcast(&be->pool.cond);
    g_mutex_unlock(&be->pool.lock);
    for (unsigned i = 0; i < be->pool.nthreads; i++) {
        g_thread_join(be->pool.threads[i]);
    }
    g_free(be->pool.threads);
    g_mutex_clear(&be->pool.lock);
    g_cond_clear(&be->pool.cond);
    if (be->use_uring) {
        io_uring_queue_exit(&be->ring);
    }
    if (be->efd >= 0) {
        close(be->efd);
    }
    if (be->fd >= 0) {
        close(be->fd); /* drops the OFD locks */
    }
    g_free(be->filename);
    g_free(be);
}

/* ---- accounting ------------------------------------------------------ */

int64_t blk_clock_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

struct blk_acct_stats *blk_stats(struct blk_backend *be)
{
    return &be->stats;
}

static void acct_add(uint64_t *p, uint64_t v)
{
    __atomic_fetch_add(p, v, __ATOMIC_RELAXED);
}

void blk_acct_start(struct blk_acct_cookie *c, enum blk_acct_type type,
                    uint64_t bytes)
{
    c->type = type;
    c->bytes = bytes;
    c->start_ns = blk_clock_ns();
}

void blk_acct_done(struct blk_backend *be, const struct blk_acct_cookie *c,
                   int ret)
{
    struct blk_acct_stats *st = &be->stats;
    int64_t now = blk_clock_ns();

    if (ret == 0) {
        acct_add(&st->bytes[c->type], c->bytes);
        acct_add(&st->ops[c->type], 1);
    } else {
        acct_add(&st->failed_ops[c->type], 1);
    }
    /* QEMU adds the latency of failed requests too (account_failed=on) */
    acct_add(&st->total_time_ns[c->type], (uint64_t)(now - c->start_ns));
    __atomic_store_n(&st->last_access_ns, now, __ATOMIC_RELAXED);
}

void blk_acct_invalid(struct blk_backend *be, enum blk_acct_type type)
{
    acct_add(&be->stats.invalid_ops[type], 1);
    __atomic_store_n(&be->stats.last_access_ns, blk_clock_ns(),
                     __ATOMIC_RELAXED);
}

void blk_acct_write_end(struct blk_backend *be, uint64_t end)
{
    uint64_t cur =
        __atomic_load_n(&be->stats.wr_highest_offset, __ATOMIC_RELAXED);

    while (end > cur && !__atomic_compare_exchange_n(
                            &be->stats.wr_highest_offset, &cur, end, false,
                            __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
    }
}

void blk_stats_read(struct blk_backend *be, struct blk_acct_stats *out)
{
    const uint64_t *src = (const uint64_t *)&be->stats;
    uint64_t *dst = (uint64_t *)out;

    /* every member is a 64-bit counter (last_access_ns included) */
    G_STATIC_ASSERT(sizeof(*out) % sizeof(uint64_t) == 0);
    for (size_t i = 0; i < sizeof(*out) / sizeof(uint64_t); i++) {
        dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
    }
}

uint64_t blk_size(const struct blk_backend *be)
{
    return be->size;
}

bool blk_is_readonly(const struct blk_backend *be)
{
    return be->readonly;
}

enum blk_cache blk_cache_mode(const struct blk_backend *be)
{
    return be->cache;
}

const char *blk_aio_name(const struct blk_backend *be)
{
    return be->use_uring ? "io_uring" : "threads";
}

const char *blk_filename(const struct blk_backend *be)
{
    return be->filename;
}

bool blk_is_host_device(const struct blk_backend *be)
{
    return be->host_device;
}

/* QEMU's raw-posix answer: the blocks the host allocated, now (a sparse
 * image grows as the guest writes). */
int64_t blk_allocated_size(const struct blk_backend *be)
{
    struct stat st;

    if (fstat(be->fd, &st) < 0) {
        return -errno;
    }
    return (int64_t)st.st_blocks * 512;
}

int blk_event_fd(const struct blk_backend *be)
{
    return be->efd;
}
