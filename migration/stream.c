/* SPDX-License-Identifier: MIT */
/*
 * stream.c: the buffered migration byte streams of stream.h.  Pipes and
 * sockets give short reads and writes and EINTR; a file may start at any
 * offset (libvirt writes its own header first and hands us the fd).  We
 * never seek backwards, so the same code serves all of them; a forward
 * skip seeks when it can (the RAM of a snapshot that was mapped).
 */
#include "util/common.h"
#include "migration/stream.h"
#include "util/crc32c.h"

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define MIG_BUF_SIZE (256 * 1024)
/* What mig_write_crc checksums and then writes at a time: within a
 * core's L2, and no smaller than the buffer so it goes straight out. */
#define MIG_CRC_CHUNK (1024 * 1024)

/* Where the fd is now, when it can tell (a pipe or socket cannot). */
static bool fd_start(int fd, uint64_t *base)
{
    off_t off = lseek(fd, 0, SEEK_CUR);

    *base = off >= 0 ? (uint64_t)off : 0;
    return off >= 0;
}

void mig_writer_init(struct mig_writer *w, int fd)
{
    struct stat st;

    memset(w, 0, sizeof(*w));
    w->fd = fd;
    w->seekable = fd_start(fd, &w->base);
    /* A destination that dies mid-stream must be an error for the
     * source, not a SIGPIPE that kills it: sockets get MSG_NOSIGNAL, and
     * for pipes (exec:) SIGPIPE is ignored process-wide, as QEMU does at
     * start-up (chardev.c does the same for its pipes). */
    if (fstat(fd, &st) == 0) {
        w->socket = S_ISSOCK(st.st_mode);
        if (S_ISFIFO(st.st_mode)) {
            struct sigaction sa = {.sa_handler = SIG_IGN};

            sigemptyset(&sa.sa_mask);
            sigaction(SIGPIPE, &sa, NULL);
        }
    }
    w->cap = MIG_BUF_SIZE;
    w->buf = g_malloc(w->cap);
}

static bool write_all(struct mig_writer *w, const uint8_t *p, size_t n,
                      Error **errp)
{
    while (n) {
        ssize_t r =
            w->socket ? send(w->fd, p, n, MSG_NOSIGNAL) : write(w->fd, p, n);

        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            error_setg_errno(errp, errno, "migration stream: write failed");
            return false;
        }
        p += r;
        n -= r;
    }
    return true;
}

bool mig_writer_flush(struct mig_writer *w, Error **errp)
{
    if (w->fd < 0) {
        return true; /* a memory writer keeps everything */
    }
    if (w->len && !write_all(w, w->buf, w->len, errp)) {
        return false;
    }
    w->len = 0;
    return true;
}

bool mig_write(struct mig_writer *w, const void *p, size_t n, Error **errp)
{
    const uint8_t *b = p;

    w->pos += n;
    if (w->fd < 0) { /* a memory writer: the buffer grows */
        if (w->len + n > w->cap) {
            w->cap = MAX(w->cap * 2, w->len + n);
            w->buf = g_realloc(w->buf, w->cap);
        }
        memcpy(w->buf + w->len, b, n);
        w->len += n;
        return true;
    }
    if (n >= w->cap) { /* big blocks (RAM) go straight to the fd */
        return mig_writer_flush(w, errp) && write_all(w, b, n, errp);
    }
    if (w->len + n > w->cap && !mig_writer_flush(w, errp)) {
        return false;
    }
    memcpy(w->buf + w->len, b, n);
    w->len += n;
    return true;
}

bool mig_write_crc(struct mig_writer *w, const void *p, size_t n, uint32_t *crc,
                   Error **errp)
{
    const uint8_t *b = p;

    /* The checksum of a chunk reads it from memory into the cache and
     * the write then copies it from there: guest RAM is read once, on one
     * core.  No in-kernel copy: copy_file_range(2) from the RAM's memfd
     * to a file on another file system is refused (EXDEV, Linux >= 5.19),
     * and sendfile(2) from it measured slower than write(2).  No checksum
     * thread: beside one write(2) of all RAM it cost 4x the write's CPU
     * time on the PVM host of docs/performance.md, and a second core is
     * not free on a loaded machine. */
    while (n) {
        size_t k = MIN(n, MIG_CRC_CHUNK);

        *crc = crc32c(*crc, b, k);
        if (!mig_write(w, b, k, errp)) {
            return false;
        }
        b += k;
        n -= k;
    }
    return true;
}

bool mig_write_zeros(struct mig_writer *w, size_t n, Error **errp)
{
    static const uint8_t zeros[4096];

    while (n) {
        size_t k = MIN(n, sizeof(zeros));

        if (!mig_write(w, zeros, k, errp)) {
            return false;
        }
        n -= k;
    }
    return true;
}

bool mig_writer_finish(struct mig_writer *w, Error **errp)
{
    bool ok = mig_writer_flush(w, errp);

    g_free(w->buf);
    w->buf = NULL;
    return ok;
}

uint64_t mig_writer_offset(const struct mig_writer *w)
{
    return w->base + w->pos;
}

void mig_reader_init_fd(struct mig_reader *r, int fd)
{
    memset(r, 0, sizeof(*r));
    r->fd = fd;
    r->cancel_fd = -1;
    r->seekable = fd_start(fd, &r->base);
    r->cap = MIG_BUF_SIZE;
    r->buf = g_malloc(r->cap);
}

void mig_reader_init_mem(struct mig_reader *r, const void *p, size_t n)
{
    memset(r, 0, sizeof(*r));
    r->fd = -1;
    r->cancel_fd = -1;
    r->mem = p;
    r->mem_len = n;
}

void mig_reader_fini(struct mig_reader *r)
{
    g_free(r->buf);
    r->buf = NULL;
}

static bool truncated(struct mig_reader *r, size_t n, size_t got,
                      const char *what, Error **errp)
{
    error_setg(errp,
               "truncated stream: %s: need %zu bytes at offset %" PRIu64
               ", the stream ends after %zu",
               what, n, r->pos, got);
    return false;
}

/* One read(2) of up to n bytes: 0 at end of stream, -1 on error.  With
 * a cancel_fd, waits for data or for the cancel, whichever comes first
 * (a pipe or socket whose writer is silent must not hold the reading
 * thread forever). */
static ssize_t read_some(struct mig_reader *r, void *p, size_t n, Error **errp)
{
    for (;;) {
        ssize_t k;

        if (r->cancel_fd >= 0) {
            struct pollfd pf[2] = {{.fd = r->fd, .events = POLLIN},
                                   {.fd = r->cancel_fd, .events = POLLIN}};

            if (poll(pf, 2, -1) < 0) {
                if (errno == EINTR) {
                    continue;
                }
                error_setg_errno(errp, errno, "migration stream: poll failed");
                return -1;
            }
            if (pf[1].revents) {
                error_setg(errp, "migration stream: cancelled");
                return -1;
            }
        }
        k = read(r->fd, p, n);
        if (k < 0 && errno == EINTR) {
            continue;
        }
        if (k < 0) {
            error_setg_errno(errp, errno, "migration stream: read failed");
            return -1;
        }
        __atomic_fetch_add(&r->received, (uint64_t)k, __ATOMIC_RELAXED);
        return k;
    }
}

/* Refills the read-ahead; 0 at end of stream, -1 on error. */
static ssize_t fill(struct mig_reader *r, Error **errp)
{
    ssize_t k = read_some(r, r->buf, r->cap, errp);

    if (k >= 0) {
        r->have = k;
        r->off = 0;
    }
    return k;
}

bool mig_read(struct mig_reader *r, void *p, size_t n, const char *what,
              Error **errp)
{
    uint8_t *out = p;
    size_t done = 0;

    if (n == 0) {
        return true; /* an empty section: p may be NULL */
    }
    if (r->fd < 0) {
        if (r->pos > r->mem_len || n > r->mem_len - r->pos) {
            return truncated(r, n, r->mem_len - MIN(r->pos, r->mem_len), what,
                             errp);
        }
        memcpy(out, r->mem + r->pos, n);
        r->pos += n;
        return true;
    }
    while (done < n) {
        size_t k;

        if (r->off == r->have) {
            ssize_t got;

            /* big reads bypass the read-ahead */
            if (n - done >= r->cap) {
                got = read_some(r, out + done, n - done, errp);
                if (got < 0) {
                    return false;
                }
                if (got == 0) {
                    return truncated(r, n, done, what, errp);
                }
                done += got;
                continue;
            }
            got = fill(r, errp);
            if (got < 0) {
                return false;
            }
            if (got == 0) {
                return truncated(r, n, done, what, errp);
            }
        }
        k = MIN(n - done, r->have - r->off);
        memcpy(out + done, r->buf + r->off, k);
        r->off += k;
        done += k;
    }
    r->pos += n;
    return true;
}

bool mig_skip(struct mig_reader *r, uint64_t n, const char *what, Error **errp)
{
    uint8_t tmp[4096];

    if (r->fd < 0) {
        if (r->pos > r->mem_len || n > r->mem_len - r->pos) {
            return truncated(r, n, r->mem_len - MIN(r->pos, r->mem_len), what,
                             errp);
        }
        r->pos += n;
        return true;
    }
    if (r->seekable) {
        uint64_t buffered = r->have - r->off;

        if (n <= buffered) {
            r->off += n;
            r->pos += n;
            return true;
        }
        /* the fd is at base + pos + buffered */
        if (lseek(r->fd, (off_t)(n - buffered), SEEK_CUR) >= 0) {
            struct stat st;

            r->off = r->have = 0;
            r->pos += n;
            /* a seek past the end succeeds: check the file has the bytes */
            if (fstat(r->fd, &st) == 0 && S_ISREG(st.st_mode) &&
                (uint64_t)st.st_size < r->base + r->pos) {
                error_setg(errp,
                           "truncated stream: %s: the file ends before "
                           "offset %" PRIu64,
                           what, r->base + r->pos);
                return false;
            }
            return true;
        }
    }
    while (n) {
        size_t k = MIN(n, sizeof(tmp));

        if (!mig_read(r, tmp, k, what, errp)) {
            return false;
        }
        n -= k;
    }
    return true;
}

uint64_t mig_reader_offset(const struct mig_reader *r)
{
    return r->base + r->pos;
}

uint64_t mig_reader_received(const struct mig_reader *r)
{
    return __atomic_load_n(&r->received, __ATOMIC_RELAXED);
}

int mig_reader_mappable_fd(struct mig_reader *r)
{
    return r->fd >= 0 && r->seekable ? r->fd : -1;
}
