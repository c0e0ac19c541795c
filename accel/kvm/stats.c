/* SPDX-License-Identifier: MIT */
/*
 * stats.c: reads KVM's binary statistics fds (see stats.h).  The fd is
 * asked for on every read and closed after it: query-stats is rare, and a
 * fresh descriptor block stays right if KVM's list ever changes.
 */
#include "util/common.h"
#include "accel/kvm/stats.h"

#include <unistd.h>

/* Sanity bounds on what the header announces (KVM has ~100 statistics
 * with names under 64 bytes, histograms of at most 64 buckets). */
#define STATS_MAX_DESC 4096
#define STATS_MAX_NAME 1024
#define STATS_MAX_VALUES 4096

static void stat_free(gpointer p)
{
    struct kvm_stat *s = p;

    g_free(s->name);
    g_free(s->values);
    g_free(s);
}

static bool read_at(int fd, void *buf, size_t len, uint64_t off,
                    const char *what, Error **errp)
{
    size_t done = 0;

    while (done < len) {
        ssize_t n =
            pread(fd, (char *)buf + done, len - done, (off_t)(off + done));

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            error_setg(errp,
                       "KVM statistics: cannot read the %s (%zu bytes at "
                       "%" PRIu64 "): %s",
                       what, len, off, n < 0 ? strerror(errno) : "end of file");
            return false;
        }
        done += (size_t)n;
    }
    return true;
}

GPtrArray *kvm_stats_parse(int sfd, Error **errp)
{
    struct kvm_stats_header h;
    size_t stride;
    uint8_t *descs = NULL;
    GPtrArray *out = NULL;

    if (!read_at(sfd, &h, sizeof(h), 0, "header", errp)) {
        return NULL;
    }
    if (h.num_desc > STATS_MAX_DESC || h.name_size == 0 ||
        h.name_size > STATS_MAX_NAME) {
        error_setg(errp,
                   "KVM statistics: implausible header (%u statistics, "
                   "names of %u bytes)",
                   h.num_desc, h.name_size);
        return NULL;
    }
    stride = sizeof(struct kvm_stats_desc) + h.name_size;
    descs = g_malloc(stride * h.num_desc + 1);
    if (!read_at(sfd, descs, stride * h.num_desc, h.desc_offset, "descriptors",
                 errp)) {
        goto out;
    }
    out = g_ptr_array_new_with_free_func(stat_free);
    for (uint32_t i = 0; i < h.num_desc; i++) {
        struct kvm_stats_desc d;
        const char *name = (const char *)descs + i * stride + sizeof(d);
        struct kvm_stat *s;

        memcpy(&d, descs + i * stride, sizeof(d));
        if (d.size == 0 || d.size > STATS_MAX_VALUES) {
            error_setg(errp, "KVM statistics: statistic %u has %u values", i,
                       d.size);
            goto fail;
        }
        s = g_new0(struct kvm_stat, 1);
        s->name = g_strndup(name, h.name_size);
        s->flags = d.flags;
        s->exponent = d.exponent;
        s->bucket_size = d.bucket_size;
        s->size = d.size;
        s->values = g_new(uint64_t, d.size);
        g_ptr_array_add(out, s);
        if (!read_at(sfd, s->values, d.size * sizeof(uint64_t),
                     (uint64_t)h.data_offset + d.offset, s->name, errp)) {
            goto fail;
        }
    }
    goto out;
fail:
    g_ptr_array_free(out, true);
    out = NULL;
out:
    g_free(descs);
    return out;
}

int kvm_stats_vcpu_fd(struct kvm_accel *k, int vcpu_fd)
{
    int r;

    if (!k->has_stats_fd) {
        return -1;
    }
    r = kvm_ioctl(k, vcpu_fd, KVM_GET_STATS_FD, NULL);
    return r < 0 ? -1 : r;
}

GPtrArray *kvm_stats_read_vm(struct kvm_accel *k, Error **errp)
{
    int sfd = kvm_ioctl(k, k->vm_fd, KVM_GET_STATS_FD, NULL);
    GPtrArray *r;

    if (sfd < 0) {
        error_setg(errp, "KVM_GET_STATS_FD: %s", strerror(-sfd));
        return NULL;
    }
    r = kvm_stats_parse(sfd, errp);
    close(sfd);
    return r;
}
