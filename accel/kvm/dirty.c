/* SPDX-License-Identifier: MIT */
/*
 * dirty.c: which guest pages the guest wrote, for live migration's
 * passes (kvm.h).  KVM marks writes to slots with KVM_MEM_LOG_DIRTY_PAGES
 * in a per-slot bitmap (Documentation/virt/kvm/api.rst, 4.37
 * KVM_GET_DIRTY_LOG); with KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 (4.118
 * KVM_CLEAR_DIRTY_LOG) reading it no longer write-protects every page at
 * once: vireo clears the pages it is about to send, 1 GiB at a time.
 * KVM's dirty ring (KVM_CAP_DIRTY_LOG_RING) is not used yet.
 */
#include "util/common.h"
#include "accel/kvm/kvm.h"
#include "system/guest-mem.h"

#define PAGE 4096u
#define LONG_BITS (sizeof(unsigned long) * 8)

/* Only RAM is migrated: ROM slots are read-only and not in the stream. */
static bool is_ram_slot(const struct gm_region *r)
{
    return !r->readonly && r->fd_offset != UINT64_MAX;
}

bool kvm_dirty_log_start(struct kvm_accel *k, struct guest_mem *gm,
                         Error **errp)
{
    if (!k->dirty_manual_protect &&
        kvm_check_extension(k, KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2) > 0) {
        /* Not INITIALLY_SET: the first pass sends every page anyway, and
         * pages start write-protected as with plain logging. */
        struct kvm_enable_cap cap = {
            .cap = KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2,
            .args = {KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE},
        };
        int r = kvm_ioctl(k, k->vm_fd, KVM_ENABLE_CAP, &cap);

        if (r < 0) {
            error_setg_errno(errp, -r,
                             "KVM_ENABLE_CAP "
                             "KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 failed");
            return false;
        }
        k->dirty_manual_protect = true;
    }
    return kvm_set_dirty_logging(k, gm, true, errp);
}

bool kvm_dirty_log_stop(struct kvm_accel *k, struct guest_mem *gm, Error **errp)
{
    return kvm_set_dirty_logging(k, gm, false, errp);
}

/* ORs n bits of src (from bit 0) into dst from bit `at`. */
static void or_bits(unsigned long *dst, uint64_t at, const unsigned long *src,
                    uint64_t n)
{
    for (uint64_t w = 0; w * LONG_BITS < n; w++) {
        unsigned long v = src[w];

        while (v) {
            unsigned b = __builtin_ctzl(v);
            uint64_t bit = w * LONG_BITS + b;

            v &= v - 1;
            if (bit < n) {
                uint64_t d = at + bit;
                dst[d / LONG_BITS] |= 1UL << (d % LONG_BITS);
            }
        }
    }
}

static bool any_bit(const unsigned long *b, uint64_t first, uint64_t n)
{
    for (uint64_t w = first / LONG_BITS; w * LONG_BITS < first + n; w++) {
        if (b[w]) {
            return true;
        }
    }
    return false;
}

bool kvm_dirty_log_sync(struct kvm_accel *k, struct guest_mem *gm,
                        unsigned long *bitmap, Error **errp)
{
    for (guint i = 0; i < gm->regions->len; i++) {
        const struct gm_region *r = g_ptr_array_index(gm->regions, i);
        uint64_t pages = r->size / PAGE;
        size_t longs = (pages + LONG_BITS - 1) / LONG_BITS;
        g_autofree unsigned long *slot_bits = NULL;
        struct kvm_dirty_log log = {.slot = i};
        int ret;

        if (!is_ram_slot(r) || pages == 0) {
            continue;
        }
        /* RAM regions start and end on page boundaries (gm_add_ram) */
        slot_bits = g_new0(unsigned long, longs);
        log.dirty_bitmap = slot_bits;
        ret = kvm_ioctl(k, k->vm_fd, KVM_GET_DIRTY_LOG, &log);
        if (ret < 0) {
            error_setg_errno(errp, -ret,
                             "KVM_GET_DIRTY_LOG for '%s' (slot %u) failed",
                             r->name, i);
            return false;
        }
        /* Re-protect before the caller reads the pages: a guest write
         * after this point is reported by the next sync. */
        for (uint64_t first = 0; k->dirty_manual_protect && first < pages;
             first += KVM_DIRTY_CLEAR_PAGES) {
            uint64_t n = MIN(pages - first, (uint64_t)KVM_DIRTY_CLEAR_PAGES);
            struct kvm_clear_dirty_log clr = {
                .slot = i,
                .num_pages = (uint32_t)n,
                .first_page = first,
                .dirty_bitmap = slot_bits + first / LONG_BITS,
            };

            if (!any_bit(slot_bits, first, n)) {
                continue;
            }
            ret = kvm_ioctl(k, k->vm_fd, KVM_CLEAR_DIRTY_LOG, &clr);
            if (ret < 0) {
                error_setg_errno(errp, -ret,
                                 "KVM_CLEAR_DIRTY_LOG for '%s' (slot %u, "
                                 "pages %" PRIu64 "+%" PRIu64 ") failed",
                                 r->name, i, first, n);
                return false;
            }
        }
        or_bits(bitmap, r->fd_offset / PAGE, slot_bits, pages);
    }
    return true;
}
