/* SPDX-License-Identifier: MIT */
/*
 * guest-mem.c: memfd-backed guest RAM and ROM regions; see guest-mem.h.
 */
#include "util/common.h"
#include "system/guest-mem.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

/* "Key:   12345 kB" from /proc/meminfo text; false if absent. */
static bool meminfo_field(const char *text, const char *key, uint64_t *bytes)
{
    const char *p = text;
    size_t klen = strlen(key);

    while (p && *p) {
        if (!strncmp(p, key, klen) && p[klen] == ':') {
            guint64 kib;
            char *end;

            kib = g_ascii_strtoull(p + klen + 1, &end, 10);
            if (end == p + klen + 1 || kib > UINT64_MAX / KiB) {
                return false;
            }
            *bytes = kib * KiB;
            return true;
        }
        p = strchr(p, '\n');
        p = p ? p + 1 : NULL;
    }
    return false;
}

bool gm_host_mem_parse(const char *meminfo, const char *overcommit,
                       struct gm_host_mem *h)
{
    memset(h, 0, sizeof(*h));
    h->overcommit = overcommit ? atoi(overcommit) : 0;
    return meminfo_field(meminfo, "MemTotal", &h->mem_total) &&
           meminfo_field(meminfo, "SwapTotal", &h->swap_total) &&
           meminfo_field(meminfo, "CommitLimit", &h->commit_limit) &&
           meminfo_field(meminfo, "Committed_AS", &h->committed);
}

/* Plain ASCII (g_format_size() puts a no-break space in). */
#define GIB_FMT "%.1f GiB"
#define GIB(x) ((double)(x) / (double)GiB)

bool gm_host_can_back(uint64_t size, const struct gm_host_mem *h, Error **errp)
{

    /* Every page of guest RAM may be touched: more than RAM + swap can
     * never be backed.  (Less than that but more than what is free now
     * is fine: RAM is a memfd, reserved page by page as the guest uses
     * it.)  QEMU fails the same sizes with ENOMEM under the default
     * heuristic overcommit. */
    if (size > h->mem_total + h->swap_total) {
        error_setg(errp,
                   "cannot back " GIB_FMT " of guest RAM: the host has " GIB_FMT
                   " of RAM and " GIB_FMT " of swap",
                   GIB(size), GIB(h->mem_total), GIB(h->swap_total));
        return false;
    }
    /* Strict overcommit: what the kernel's accounting would refuse
     * (QEMU's anonymous RAM is accounted there; it fails with ENOMEM). */
    if (h->overcommit == 2 && (h->committed > h->commit_limit ||
                               size > h->commit_limit - h->committed)) {
        uint64_t room =
            h->commit_limit > h->committed ? h->commit_limit - h->committed : 0;
        error_setg(errp,
                   "cannot back " GIB_FMT " of guest RAM: strict overcommit "
                   "(vm.overcommit_memory=2) leaves " GIB_FMT " to commit",
                   GIB(size), GIB(room));
        return false;
    }
    return true;
}

bool gm_check_host_ram(uint64_t size, Error **errp)
{
    g_autofree char *meminfo = NULL;
    g_autofree char *overcommit = NULL;
    struct gm_host_mem h;

    /* No /proc (a container without it): nothing to check against; the
     * allocation itself is then the only check. */
    if (!g_file_get_contents("/proc/meminfo", &meminfo, NULL, NULL)) {
        return true;
    }
    g_file_get_contents("/proc/sys/vm/overcommit_memory", &overcommit, NULL,
                        NULL);
    if (!gm_host_mem_parse(meminfo, overcommit, &h)) {
        return true;
    }
    return gm_host_can_back(size, &h, errp);
}

struct guest_mem *gm_new(uint64_t ram_size, Error **errp)
{
    int fd;

    if (!gm_check_host_ram(ram_size, errp)) {
        return NULL;
    }
    fd = memfd_create("vireo-ram", MFD_CLOEXEC);

    if (fd < 0) {
        error_setg_errno(errp, errno, "memfd_create for guest RAM failed");
        return NULL;
    }
    if (ftruncate(fd, (off_t)ram_size) < 0) {
        error_setg_errno(errp, errno,
                         "cannot size guest RAM to %" PRIu64 " bytes",
                         ram_size);
        close(fd);
        return NULL;
    }
    return gm_new_fd(fd, ram_size, true, errp);
}

struct guest_mem *gm_new_fd(int fd, uint64_t ram_size, bool shared,
                            Error **errp)
{
    struct guest_mem *gm = g_new0(struct guest_mem, 1);

    gm->regions = g_ptr_array_new();
    gm->memfd = fd;
    gm->shared = shared;
    gm->ram =
        mmap(NULL, ram_size, PROT_READ | PROT_WRITE,
             (shared ? MAP_SHARED : MAP_PRIVATE) | MAP_NORESERVE, gm->memfd, 0);
    if (gm->ram == MAP_FAILED) {
        gm->ram = NULL;
        error_setg_errno(errp, errno, "cannot map %" PRIu64 " bytes of RAM",
                         ram_size);
        goto fail;
    }
    gm->ram_size = ram_size;
    return gm;
fail:
    gm_free(gm);
    return NULL;
}

void gm_free(struct guest_mem *gm)
{
    if (!gm) {
        return;
    }
    for (guint i = 0; i < gm->regions->len; i++) {
        struct gm_region *r = g_ptr_array_index(gm->regions, i);
        /* ROM buffers are process-lifetime mappings; the process exit
         * returns them. */
        g_free(r->name);
        g_free(r);
    }
    g_ptr_array_free(gm->regions, TRUE);
    if (gm->ram) {
        munmap(gm->ram, gm->ram_size);
    }
    if (gm->memfd >= 0) {
        close(gm->memfd);
    }
    g_free(gm->dirty);
    g_free(gm);
}

static gint cmp_region(gconstpointer a, gconstpointer b)
{
    const struct gm_region *x = *(struct gm_region *const *)a;
    const struct gm_region *y = *(struct gm_region *const *)b;

    return x->gpa < y->gpa ? -1 : x->gpa > y->gpa;
}

static bool add_region(struct guest_mem *gm, struct gm_region *n, Error **errp)
{
    if (n->size == 0 || n->gpa + n->size - 1 < n->gpa) {
        error_setg(errp, "memory region '%s' has a bad size", n->name);
        goto fail;
    }
    for (guint i = 0; i < gm->regions->len; i++) {
        struct gm_region *r = g_ptr_array_index(gm->regions, i);
        if (n->gpa <= r->gpa + r->size - 1 && r->gpa <= n->gpa + n->size - 1) {
            error_setg(errp, "memory region '%s' overlaps '%s'", n->name,
                       r->name);
            goto fail;
        }
    }
    g_ptr_array_add(gm->regions, n);
    g_ptr_array_sort(gm->regions, cmp_region);
    return true;
fail:
    g_free(n->name);
    g_free(n);
    return false;
}

bool gm_add_ram(struct guest_mem *gm, uint64_t gpa, uint64_t ram_offset,
                uint64_t size, const char *name, Error **errp)
{
    struct gm_region *n = g_new0(struct gm_region, 1);

    if (ram_offset > gm->ram_size || size > gm->ram_size - ram_offset) {
        error_setg(errp, "RAM region '%s' lies outside guest RAM", name);
        g_free(n);
        return false;
    }
    n->gpa = gpa;
    n->size = size;
    n->hva = gm->ram + ram_offset;
    n->fd_offset = ram_offset;
    n->name = g_strdup(name);
    return add_region(gm, n, errp);
}

uint8_t *gm_add_rom(struct guest_mem *gm, uint64_t gpa, uint64_t size,
                    bool readonly, const char *name, Error **errp)
{
    struct gm_region *n = g_new0(struct gm_region, 1);
    /* populated: the caller fills all of it at once (faulting it in page
     * by page costs more, notably under shadow paging) */
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

    if (p == MAP_FAILED) {
        error_setg_errno(errp, errno, "cannot allocate ROM '%s'", name);
        g_free(n);
        return NULL;
    }
    n->gpa = gpa;
    n->size = size;
    n->hva = p;
    n->fd_offset = UINT64_MAX;
    n->readonly = readonly;
    n->name = g_strdup(name);
    if (!add_region(gm, n, errp)) {
        munmap(p, size);
        return NULL;
    }
    return p;
}

bool gm_add_alias(struct guest_mem *gm, uint64_t gpa, uint8_t *hva,
                  uint64_t size, bool readonly, const char *name, Error **errp)
{
    struct gm_region *n = g_new0(struct gm_region, 1);

    n->gpa = gpa;
    n->size = size;
    n->hva = hva;
    n->fd_offset = UINT64_MAX;
    n->readonly = readonly;
    n->name = g_strdup(name);
    return add_region(gm, n, errp);
}

static struct gm_region *find(struct guest_mem *gm, uint64_t gpa, uint64_t len)
{
    guint lo = 0, hi = gm->regions->len;

    if (len == 0 || gpa + len - 1 < gpa) {
        return NULL;
    }
    while (lo < hi) {
        guint mid = (lo + hi) / 2;
        struct gm_region *r = g_ptr_array_index(gm->regions, mid);
        if (gpa < r->gpa) {
            hi = mid;
        } else if (gpa - r->gpa >= r->size) {
            lo = mid + 1;
        } else {
            return (len <= r->size - (gpa - r->gpa)) ? r : NULL;
        }
    }
    return NULL;
}

#define GM_PAGE 4096u
#define LONG_BITS (sizeof(unsigned long) * 8)

/* Sets the bits of RAM offsets [off, off+len) (len > 0). */
static void mark_ram(struct guest_mem *gm, uint64_t off, uint64_t len)
{
    uint64_t first = off / GM_PAGE, last = (off + len - 1) / GM_PAGE;

    for (uint64_t p = first; p <= last; p++) {
        __atomic_fetch_or(&gm->dirty[p / LONG_BITS], 1UL << (p % LONG_BITS),
                          __ATOMIC_SEQ_CST);
    }
}

/* After the write: a pass that read the page before it sees the bit
 * (logging is checked after the data is in place, both seq_cst). */
static void mark_region(struct guest_mem *gm, const struct gm_region *r,
                        uint64_t gpa, uint64_t len)
{
    if (!g_atomic_int_get(&gm->logging) || r->fd_offset == UINT64_MAX) {
        return;
    }
    mark_ram(gm, r->fd_offset + (gpa - r->gpa), len);
}

void gm_mark_dirty_hva(struct guest_mem *gm, const void *hva, uint64_t len)
{
    const uint8_t *p = hva;

    if (!gm || !g_atomic_int_get(&gm->logging) || len == 0 || !gm->ram ||
        p < gm->ram || p >= gm->ram + gm->ram_size ||
        len > (uint64_t)(gm->ram + gm->ram_size - p)) {
        return;
    }
    mark_ram(gm, (uint64_t)(p - gm->ram), len);
}

void gm_dirty_start(struct guest_mem *gm)
{
    size_t longs = (gm->ram_size / GM_PAGE + LONG_BITS - 1) / LONG_BITS;

    if (!gm->dirty) {
        gm->dirty = g_new0(unsigned long, longs ? longs : 1);
    } else {
        for (size_t i = 0; i < longs; i++) {
            __atomic_store_n(&gm->dirty[i], 0, __ATOMIC_SEQ_CST);
        }
    }
    g_atomic_int_set(&gm->logging, 1);
}

void gm_dirty_stop(struct guest_mem *gm)
{
    g_atomic_int_set(&gm->logging, 0);
}

void gm_dirty_collect(struct guest_mem *gm, unsigned long *bitmap)
{
    size_t longs = (gm->ram_size / GM_PAGE + LONG_BITS - 1) / LONG_BITS;

    if (!gm->dirty) {
        return;
    }
    for (size_t i = 0; i < longs; i++) {
        if (__atomic_load_n(&gm->dirty[i], __ATOMIC_RELAXED)) {
            bitmap[i] |=
                __atomic_exchange_n(&gm->dirty[i], 0, __ATOMIC_SEQ_CST);
        }
    }
}

static void *map_region(struct guest_mem *gm, uint64_t gpa, uint64_t len,
                        bool write, struct gm_region **rp)
{
    struct gm_region *r = find(gm, gpa, len);

    if (!r || (write && r->readonly)) {
        return NULL;
    }
    *rp = r;
    return r->hva + (gpa - r->gpa);
}

void *gm_map(struct guest_mem *gm, uint64_t gpa, uint64_t len, bool write)
{
    struct gm_region *r;
    void *p = map_region(gm, gpa, len, write, &r);

    if (p && write) {
        mark_region(gm, r, gpa, len);
    }
    return p;
}

bool gm_read(struct guest_mem *gm, uint64_t gpa, void *buf, uint64_t len)
{
    void *p = gm_map(gm, gpa, len, false);

    if (!p) {
        return false;
    }
    memcpy(buf, p, len);
    return true;
}

bool gm_write(struct guest_mem *gm, uint64_t gpa, const void *buf, uint64_t len)
{
    struct gm_region *r;
    void *p = map_region(gm, gpa, len, true, &r);

    if (!p) {
        return false;
    }
    memcpy(p, buf, len);
    mark_region(gm, r, gpa, len);
    return true;
}

bool gm_write_any(struct guest_mem *gm, uint64_t gpa, const void *buf,
                  uint64_t len)
{
    struct gm_region *r = find(gm, gpa, len);

    if (!r) {
        return false;
    }
    memcpy(r->hva + (gpa - r->gpa), buf, len);
    mark_region(gm, r, gpa, len);
    return true;
}

bool gm_discard(struct guest_mem *gm, void *hva, uint64_t len, Error **errp)
{
    uint8_t *p = hva;
    uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
    uint64_t off;

    if (!gm->ram || p < gm->ram || len > gm->ram_size ||
        (uint64_t)(p - gm->ram) > gm->ram_size - len) {
        error_setg(errp, "discard of %" PRIu64 " bytes at %p: not in guest RAM",
                   len, hva);
        return false;
    }
    off = (uint64_t)(p - gm->ram);
    if ((off | len) & (page - 1)) {
        error_setg(errp,
                   "discard of %" PRIu64 " bytes at RAM offset 0x%" PRIx64
                   ": not aligned to the host page size (%" PRIu64 ")",
                   len, off, page);
        return false;
    }
    if (len == 0) {
        return true;
    }
    if (gm->shared) {
        /* a hole also unmaps the range from every mapping of the fd */
        if (fallocate(gm->memfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                      (off_t)off, (off_t)len) < 0) {
            error_setg_errno(errp, errno,
                             "cannot release guest RAM at offset 0x%" PRIx64
                             " (fallocate PUNCH_HOLE)",
                             off);
            return false;
        }
        return true;
    }
    if (madvise(p, len, MADV_DONTNEED) < 0) {
        error_setg_errno(errp, errno,
                         "cannot release guest RAM at offset 0x%" PRIx64
                         " (madvise DONTNEED)",
                         off);
        return false;
    }
    return true;
}

static uint64_t ram_in(const struct guest_mem *gm, uint64_t lo, uint64_t hi)
{
    uint64_t total = 0;

    for (guint i = 0; i < gm->regions->len; i++) {
        struct gm_region *r = g_ptr_array_index(gm->regions, i);
        if (r->fd_offset == UINT64_MAX) {
            continue;
        }
        if (r->gpa >= lo && r->gpa < hi) {
            total += r->size;
        }
    }
    return total;
}

uint64_t gm_ram_below_4g(const struct guest_mem *gm)
{
    return ram_in(gm, 0, 4 * GiB);
}

uint64_t gm_ram_above_4g(const struct guest_mem *gm)
{
    return ram_in(gm, 4 * GiB, UINT64_MAX);
}
