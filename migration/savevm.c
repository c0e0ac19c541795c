/* SPDX-License-Identifier: MIT */
/*
 * savevm.c: writes and reads the stream of savevm.h.  Layout (all
 * integers little-endian; docs/migration-format.md has the full table):
 *
 *   header:  "VIREOVM\n", u16 major, u16 minor, u8 RAM layout,
 *            u8 len + machine type, u32 len + fingerprint, u32 CRC32C
 *   section: u8 0x01, u8 len + name, u32 instance, u32 version,
 *            u64 body length, body, u32 CRC32C (from the 0x01 on)
 *   end:     u8 0x02, u32 number of sections, u32 CRC32C
 *
 * RAM travels as sections too: "ram" chunks of zero-run and data records
 * (a stream), or one "ram-file" section whose data starts page-aligned in
 * the file, so that a restore maps it copy-on-write instead of reading it.
 *
 * Why staging: the seeds of this work are save/load bugs where a half
 * applied state ran.  Every section is read, checked and staged first; RAM
 * is staged in a memory mapping of its own and swapped in with mremap
 * last; device sections are committed with an undo copy each, so a
 * post_load that refuses a value rolls back the ones committed before it.
 */
#include "util/common.h"
#include "migration/savevm.h"
#include "migration/vmstate.h"
#include "system/guest-mem.h"
#include "util/bytes.h"
#include "util/crc32c.h"

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define TAG_SECTION 0x01
#define TAG_END 0x02
#define NAME_MAX_LEN 64
#define PAGE 4096u

#define RAM_REC_ZERO 1u /* u32 page count follows; pages are zero */
#define RAM_REC_DATA 2u /* u32 page count, then the pages */
#define RAM_VERSION 1

struct savevm_entry {
    char *name;
    uint32_t instance;
    const struct vmstate_desc *vmsd;
    const struct savevm_ops *ops;
    void *opaque;
    GMutex *lock;
    /* load */
    bool seen;
    GByteArray *body; /* vmsd: the checked body */
    void *staged;     /* ops */
    GByteArray *undo; /* once committed: the state from before */
};

struct ram_stage {
    uint8_t *map;
    uint64_t size;
    int memfd;        /* -1 when the file itself is mapped */
    uint64_t next;    /* stream layout: RAM offset the next record covers */
    bool file_mapped; /* "ram-file" seen */
};

struct savevm {
    struct savevm_stats stats;
    unsigned nsec;    /* sections written so far (savevm_save_*) */
    uint32_t ram_seq; /* instance of the next "ram" / "ram-dirty" */
    char *machine_type;
    GString *fp;
    GPtrArray *entries;
    struct guest_mem *gm;
};

static void entry_free(gpointer p)
{
    struct savevm_entry *e = p;

    g_free(e->name);
    g_free(e);
}

struct savevm *savevm_new(const char *machine_type)
{
    struct savevm *sv = g_new0(struct savevm, 1);

    sv->machine_type = g_strdup(machine_type);
    sv->fp = g_string_new(NULL);
    sv->entries = g_ptr_array_new_with_free_func(entry_free);
    return sv;
}

void savevm_free(struct savevm *sv)
{
    if (!sv) {
        return;
    }
    g_free(sv->machine_type);
    g_string_free(sv->fp, TRUE);
    g_ptr_array_free(sv->entries, TRUE);
    g_free(sv);
}

void savevm_fingerprint_add(struct savevm *sv, const char *key, const char *fmt,
                            ...)
{
    va_list ap;

    g_string_append_printf(sv->fp, "%s=", key);
    va_start(ap, fmt);
    g_string_append_vprintf(sv->fp, fmt, ap);
    va_end(ap);
    g_string_append_c(sv->fp, '\n');
}

static struct savevm_entry *add_entry(struct savevm *sv, const char *name,
                                      uint32_t instance)
{
    struct savevm_entry *e = g_new0(struct savevm_entry, 1);

    g_assert(strlen(name) > 0 && strlen(name) <= NAME_MAX_LEN);
    e->name = g_strdup(name);
    e->instance = instance;
    g_ptr_array_add(sv->entries, e);
    return e;
}

void savevm_register_vmsd(struct savevm *sv, const char *name,
                          uint32_t instance, const struct vmstate_desc *vmsd,
                          void *opaque, GMutex *lock)
{
    struct savevm_entry *e = add_entry(sv, name, instance);

    e->vmsd = vmsd;
    e->opaque = opaque;
    e->lock = lock;
}

void savevm_register_ops(struct savevm *sv, const char *name, uint32_t instance,
                         const struct savevm_ops *ops, void *opaque)
{
    struct savevm_entry *e = add_entry(sv, name, instance);

    e->ops = ops;
    e->opaque = opaque;
}

void savevm_register_ram(struct savevm *sv, struct guest_mem *gm)
{
    sv->gm = gm;
}

/* ---- saving ---- */

static void put(GByteArray *b, uint64_t v, unsigned w)
{
    uint8_t t[8];

    le_store(t, v, w);
    g_byte_array_append(b, t, w);
}

static unsigned entry_version(const struct savevm_entry *e)
{
    return e->vmsd ? e->vmsd->version : e->ops->version;
}

static void section_header(GByteArray *h, const char *name, uint32_t instance,
                           uint32_t version, uint64_t body_len)
{
    uint8_t tag = TAG_SECTION, nl = strlen(name);

    g_byte_array_append(h, &tag, 1);
    g_byte_array_append(h, &nl, 1);
    g_byte_array_append(h, (const uint8_t *)name, nl);
    put(h, instance, 4);
    put(h, version, 4);
    put(h, body_len, 8);
}

static bool write_section(struct mig_writer *w, const char *name,
                          uint32_t instance, uint32_t version,
                          const GByteArray *body, Error **errp)
{
    g_autoptr(GByteArray) h = g_byte_array_new();
    uint32_t crc;

    section_header(h, name, instance, version, body->len);
    crc = crc32c(crc32c(0, h->data, h->len), body->data, body->len);
    if (!mig_write(w, h->data, h->len, errp) ||
        !mig_write(w, body->data, body->len, errp)) {
        return false;
    }
    g_byte_array_set_size(h, 0);
    put(h, crc, 4);
    return mig_write(w, h->data, 4, errp);
}

static bool entry_save(struct savevm_entry *e, GByteArray *out, Error **errp)
{
    bool ok;

    if (e->ops) {
        return e->ops->save(e->opaque, out, errp);
    }
    if (e->lock) {
        g_mutex_lock(e->lock);
    }
    ok = vmstate_save(e->vmsd, e->opaque, out, errp);
    if (e->lock) {
        g_mutex_unlock(e->lock);
    }
    return ok;
}

static bool page_is_zero(const uint8_t *p)
{
    uint64_t acc = 0;

    for (unsigned i = 0; i < PAGE; i += 8) {
        uint64_t v;

        memcpy(&v, p + i, 8);
        acc |= v;
    }
    return acc == 0;
}

/* Appends zero-run and data records for the pages of [p, end). */
static void ram_records(struct savevm *sv, GByteArray *body, uint64_t p,
                        uint64_t end)
{
    const struct guest_mem *gm = sv->gm;

    while (p < end) {
        bool zero = page_is_zero(gm->ram + p);
        uint64_t q = p + PAGE;

        while (q < end && page_is_zero(gm->ram + q) == zero) {
            q += PAGE;
        }
        *(zero ? &sv->stats.zero_pages : &sv->stats.data_pages) +=
            (q - p) / PAGE;
        put(body, p | (zero ? RAM_REC_ZERO : RAM_REC_DATA), 8);
        put(body, (q - p) / PAGE, 4);
        if (!zero) {
            g_byte_array_append(body, gm->ram + p, q - p);
        }
        p = q;
    }
}

bool savevm_save_ram_range(struct savevm *sv, struct mig_writer *w,
                           uint64_t off, uint64_t len, Error **errp)
{
    g_autoptr(GByteArray) body = g_byte_array_new();

    g_assert(off % PAGE == 0 && len <= SAVEVM_RAM_CHUNK &&
             len <= sv->gm->ram_size - off);
    ram_records(sv, body, off, off + len);
    if (!write_section(w, "ram", sv->ram_seq++, RAM_VERSION, body, errp)) {
        return false;
    }
    sv->nsec++;
    return true;
}

static bool save_ram_stream(struct savevm *sv, struct mig_writer *w,
                            Error **errp)
{
    const struct guest_mem *gm = sv->gm;

    for (uint64_t off = 0; off < gm->ram_size; off += SAVEVM_RAM_CHUNK) {
        if (!savevm_save_ram_range(
                sv, w, off, MIN(gm->ram_size - off, SAVEVM_RAM_CHUNK), errp)) {
            return false;
        }
    }
    return true;
}

#define LONG_BITS (sizeof(unsigned long) * 8)

static bool test_bit(const unsigned long *b, uint64_t i)
{
    return b[i / LONG_BITS] & (1UL << (i % LONG_BITS));
}

bool savevm_save_ram_dirty(struct savevm *sv, struct mig_writer *w,
                           unsigned long *bitmap, uint64_t *page, Error **errp)
{
    g_autoptr(GByteArray) body = g_byte_array_new();
    uint64_t pages = sv->gm->ram_size / PAGE, p = *page, sent = 0;

    while (p < pages && sent < SAVEVM_RAM_DIRTY_CHUNK / PAGE) {
        uint64_t q;

        if (!bitmap[p / LONG_BITS]) {
            p = (p / LONG_BITS + 1) * LONG_BITS;
            continue;
        }
        if (!test_bit(bitmap, p)) {
            p++;
            continue;
        }
        /* a run of dirty pages, cleared as it is read */
        for (q = p; q < pages && test_bit(bitmap, q) &&
                    sent + (q - p) < SAVEVM_RAM_DIRTY_CHUNK / PAGE;
             q++) {
            bitmap[q / LONG_BITS] &= ~(1UL << (q % LONG_BITS));
        }
        ram_records(sv, body, p * PAGE, q * PAGE);
        sent += q - p;
        p = q;
    }
    *page = MIN(p, pages);
    if (!body->len) {
        return true;
    }
    if (!write_section(w, "ram-dirty", sv->ram_seq++, RAM_VERSION, body,
                       errp)) {
        return false;
    }
    sv->nsec++;
    return true;
}

/* One section whose data starts page-aligned in the file: a restore maps
 * it (MAP_PRIVATE) where the file is seekable. */
static bool save_ram_file(struct savevm *sv, struct mig_writer *w, Error **errp)
{
    const struct guest_mem *gm = sv->gm;
    g_autoptr(GByteArray) h = g_byte_array_new();
    uint64_t hdr_len = 1 + 1 + strlen("ram-file") + 4 + 4 + 8;
    uint64_t data_at = mig_writer_offset(w) + hdr_len + 24;
    uint64_t pad = (PAGE - data_at % PAGE) % PAGE;
    uint32_t crc;

    section_header(h, "ram-file", 0, RAM_VERSION, 24 + pad + gm->ram_size);
    put(h, gm->ram_size, 8);
    put(h, data_at + pad, 8);
    put(h, pad, 8);
    crc = crc32c(0, h->data, h->len);
    if (!mig_write(w, h->data, h->len, errp) ||
        !mig_write_zeros(w, pad, errp)) {
        return false;
    }
    for (uint64_t i = 0; i < pad; i++) {
        crc = crc32c(crc, "", 1);
    }
    sv->stats.data_pages += gm->ram_size / PAGE;
    if (!mig_write_crc(w, gm->ram, gm->ram_size, &crc, errp)) {
        return false;
    }
    g_byte_array_set_size(h, 0);
    put(h, crc, 4);
    sv->nsec++;
    return mig_write(w, h->data, 4, errp);
}

bool savevm_save_begin(struct savevm *sv, struct mig_writer *w,
                       enum savevm_ram_layout layout, Error **errp)
{
    g_autoptr(GByteArray) b = g_byte_array_new();
    uint8_t u8;

    memset(&sv->stats, 0, sizeof(sv->stats));
    sv->nsec = 0;
    sv->ram_seq = 0;
    g_byte_array_append(b, (const uint8_t *)SAVEVM_MAGIC, 8);
    put(b, SAVEVM_MAJOR, 2);
    put(b, SAVEVM_MINOR, 2);
    put(b, layout, 1);
    u8 = strlen(sv->machine_type);
    g_byte_array_append(b, &u8, 1);
    g_byte_array_append(b, (const uint8_t *)sv->machine_type, u8);
    put(b, sv->fp->len, 4);
    g_byte_array_append(b, (const uint8_t *)sv->fp->str, sv->fp->len);
    put(b, crc32c(0, b->data, b->len), 4);
    return mig_write(w, b->data, b->len, errp);
}

bool savevm_save_state(struct savevm *sv, struct mig_writer *w, Error **errp)
{
    g_autoptr(GByteArray) b = g_byte_array_new();

    for (guint i = 0; i < sv->entries->len; i++) {
        struct savevm_entry *e = g_ptr_array_index(sv->entries, i);

        g_byte_array_set_size(b, 0);
        if (!entry_save(e, b, errp)) {
            error_prepend(errp, "section '%s' instance %" PRIu32 ": ", e->name,
                          e->instance);
            return false;
        }
        if (!write_section(w, e->name, e->instance, entry_version(e), b,
                           errp)) {
            return false;
        }
        sv->nsec++;
    }
    return true;
}

bool savevm_save_end(struct savevm *sv, struct mig_writer *w, Error **errp)
{
    g_autoptr(GByteArray) b = g_byte_array_new();

    put(b, TAG_END, 1);
    put(b, sv->nsec, 4);
    put(b, crc32c(0, b->data, b->len), 4);
    if (!mig_write(w, b->data, b->len, errp) || !mig_writer_flush(w, errp)) {
        return false;
    }
    sv->stats.bytes = w->pos;
    return true;
}

bool savevm_save(struct savevm *sv, struct mig_writer *w,
                 enum savevm_ram_layout layout, Error **errp)
{
    if (!savevm_save_begin(sv, w, layout, errp) ||
        !savevm_save_state(sv, w, errp)) {
        return false;
    }
    if (sv->gm) {
        bool ok = layout == SAVEVM_RAM_FILE ? save_ram_file(sv, w, errp)
                                            : save_ram_stream(sv, w, errp);
        if (!ok) {
            return false;
        }
    }
    return savevm_save_end(sv, w, errp);
}

const struct savevm_stats *savevm_get_stats(const struct savevm *sv)
{
    return &sv->stats;
}

/* ---- loading ---- */

struct loader {
    struct savevm *sv;
    struct mig_reader *r;
    struct ram_stage ram;
    unsigned nsec;
};

static bool rd(struct loader *l, void *p, size_t n, const char *what,
               uint32_t *crc, Error **errp)
{
    if (!mig_read(l->r, p, n, what, errp)) {
        return false;
    }
    if (crc) {
        *crc = crc32c(*crc, p, n);
    }
    return true;
}

static bool rd_le(struct loader *l, uint64_t *v, unsigned w, const char *what,
                  uint32_t *crc, Error **errp)
{
    uint8_t t[8];

    if (!rd(l, t, w, what, crc, errp)) {
        return false;
    }
    *v = le_load(t, w);
    return true;
}

/* Stream text in messages: printable characters only. */
static char *shown(const uint8_t *p, size_t n)
{
    char *s = g_malloc(n + 1);

    for (size_t i = 0; i < n; i++) {
        s[i] = g_ascii_isprint(p[i]) ? p[i] : '?';
    }
    s[n] = 0;
    return s;
}

/* Names the first fingerprint line that differs. */
static bool fingerprint_check(const char *want, const char *got, Error **errp)
{
    g_auto(GStrv) a = g_strsplit(want, "\n", -1);
    g_auto(GStrv) b = g_strsplit(got, "\n", -1);

    for (unsigned i = 0; a[i] || b[i]; i++) {
        if (a[i] && b[i] && !strcmp(a[i], b[i])) {
            continue;
        }
        if (!b[i] || !*b[i]) {
            error_setg(errp,
                       "different machine configuration: the stream lacks "
                       "'%s'",
                       a[i]);
        } else if (!a[i] || !*a[i]) {
            error_setg(errp,
                       "different machine configuration: the stream has "
                       "'%s', this machine has nothing of it",
                       b[i]);
        } else {
            error_setg(errp,
                       "different machine configuration: the stream has "
                       "'%s', this machine '%s'",
                       b[i], a[i]);
        }
        return false;
    }
    return true;
}

static bool load_header(struct loader *l, Error **errp)
{
    uint8_t magic[8], mtl;
    uint64_t major, minor, layout, fpl, crc_in;
    uint32_t crc = 0;
    g_autofree char *mt = NULL, *fp = NULL;

    if (!rd(l, magic, 8, "header magic", &crc, errp)) {
        return false;
    }
    if (memcmp(magic, SAVEVM_MAGIC, 8)) {
        g_autofree char *s = shown(magic, 8);

        error_setg(errp,
                   "not a vireo migration stream: wrong magic '%s' "
                   "(expected 'VIREOVM')",
                   s);
        return false;
    }
    if (!rd_le(l, &major, 2, "format major", &crc, errp) ||
        !rd_le(l, &minor, 2, "format minor", &crc, errp)) {
        return false;
    }
    if (major != SAVEVM_MAJOR) {
        error_setg(errp,
                   "stream format %" PRIu64 ".%" PRIu64 " is %s than this "
                   "vireo's %d.%d",
                   major, minor, major > SAVEVM_MAJOR ? "newer" : "older",
                   SAVEVM_MAJOR, SAVEVM_MINOR);
        return false;
    }
    if (!rd_le(l, &layout, 1, "RAM layout", &crc, errp) ||
        !rd(l, &mtl, 1, "machine type length", &crc, errp)) {
        return false;
    }
    if (layout > SAVEVM_RAM_FILE) {
        error_setg(errp, "unknown RAM layout %" PRIu64, layout);
        return false;
    }
    mt = g_malloc0(mtl + 1);
    if (!rd(l, mt, mtl, "machine type", &crc, errp) ||
        !rd_le(l, &fpl, 4, "fingerprint length", &crc, errp)) {
        return false;
    }
    if (fpl > SAVEVM_MAX_FINGERPRINT) {
        error_setg(errp, "fingerprint of %" PRIu64 " bytes (at most %u)", fpl,
                   SAVEVM_MAX_FINGERPRINT);
        return false;
    }
    fp = g_malloc0(fpl + 1);
    if (!rd(l, fp, fpl, "fingerprint", &crc, errp) ||
        !rd_le(l, &crc_in, 4, "header CRC", NULL, errp)) {
        return false;
    }
    if (crc_in != crc) {
        error_setg(errp,
                   "header: bad CRC (stream 0x%08" PRIx64
                   ", computed 0x%08" PRIx32 ")",
                   crc_in, crc);
        return false;
    }
    if (strlen(mt) != mtl || strcmp(mt, l->sv->machine_type)) {
        g_autofree char *s = shown((const uint8_t *)mt, mtl);

        error_setg(errp,
                   "different machine: the stream is of machine type '%s', "
                   "this is '%s'",
                   s, l->sv->machine_type);
        return false;
    }
    if (strlen(fp) != fpl) {
        error_setg(errp, "fingerprint contains a NUL byte");
        return false;
    }
    return fingerprint_check(l->sv->fp->str, fp, errp);
}

static struct savevm_entry *find_entry(struct savevm *sv, const char *name,
                                       uint32_t instance)
{
    for (guint i = 0; i < sv->entries->len; i++) {
        struct savevm_entry *e = g_ptr_array_index(sv->entries, i);

        if (e->instance == instance && !strcmp(e->name, name)) {
            return e;
        }
    }
    return NULL;
}

/* populate: every page will be written (a read-in file layout): fault
 * them in with one call instead of one exception per page. */
static bool ram_stage_init(struct loader *l, bool populate, Error **errp)
{
    struct ram_stage *s = &l->ram;

    if (s->map) {
        return true;
    }
    s->size = l->sv->gm->ram_size;
    s->memfd = memfd_create("vireo-incoming-ram", MFD_CLOEXEC);
    if (s->memfd < 0) {
        error_setg_errno(errp, errno, "staging RAM: memfd_create");
        return false;
    }
    if (ftruncate(s->memfd, s->size) < 0) {
        error_setg_errno(errp, errno, "staging RAM: ftruncate");
        return false;
    }
    s->map =
        mmap(NULL, s->size, PROT_READ | PROT_WRITE, MAP_SHARED, s->memfd, 0);
    if (s->map == MAP_FAILED) {
        s->map = NULL;
        error_setg_errno(errp, errno, "staging RAM: mmap");
        return false;
    }
    return true;
}

static void ram_stage_free(struct ram_stage *s)
{
    if (s->map) {
        munmap(s->map, s->size);
    }
    if (s->memfd >= 0) {
        close(s->memfd);
    }
    memset(s, 0, sizeof(*s));
    s->memfd = -1;
}

/* Pages received, for query-migrate on the destination: another thread
 * reads them while the stream is read (savevm_load_stats). */
static void count_pages(struct loader *l, bool zero, uint64_t n)
{
    __atomic_fetch_add(zero ? &l->sv->stats.zero_pages
                            : &l->sv->stats.data_pages,
                       n, __ATOMIC_RELAXED);
}

/* A "ram" chunk: records covering RAM in order, from where the last
 * chunk ended. */
static bool stage_ram_chunk(struct loader *l, const uint8_t *b, size_t len,
                            Error **errp)
{
    struct ram_stage *s = &l->ram;
    size_t pos = 0;

    if (s->file_mapped) {
        error_setg(errp, "both 'ram-file' and 'ram' sections");
        return false;
    }
    if (!ram_stage_init(l, false, errp)) {
        return false;
    }
    while (pos < len) {
        uint64_t hdr, off, n;
        unsigned type;

        if (len - pos < 12) {
            error_setg(errp, "record at body offset %zu is cut short", pos);
            return false;
        }
        hdr = le_load(b + pos, 8);
        n = le_load(b + pos + 8, 4);
        pos += 12;
        off = hdr & ~(uint64_t)(PAGE - 1);
        type = hdr & (PAGE - 1);
        if (off != s->next) {
            error_setg(errp,
                       "record covers RAM offset 0x%" PRIx64
                       ", expected 0x%" PRIx64,
                       off, s->next);
            return false;
        }
        if (n == 0 || n > (s->size - off) / PAGE) {
            error_setg(errp,
                       "record of %" PRIu64 " pages at 0x%" PRIx64
                       " goes beyond RAM (0x%" PRIx64 " bytes)",
                       n, off, s->size);
            return false;
        }
        if (type == RAM_REC_DATA) {
            if ((len - pos) / PAGE < n) {
                error_setg(errp, "data record at 0x%" PRIx64 " is cut short",
                           off);
                return false;
            }
            memcpy(s->map + off, b + pos, n * PAGE);
            pos += n * PAGE;
            count_pages(l, false, n);
        } else if (type == RAM_REC_ZERO) {
            /* a fresh memfd reads as zero: nothing to write */
            count_pages(l, true, n);
        } else {
            error_setg(errp, "unknown RAM record type %u at 0x%" PRIx64, type,
                       off);
            return false;
        }
        s->next = off + n * PAGE;
    }
    return true;
}

/* A "ram-dirty" chunk (format 1.1): pages written while the first pass
 * ran, anywhere in RAM, each replacing what an earlier section sent.
 * Only after the "ram" sections covered all of RAM. */
static bool stage_ram_dirty(struct loader *l, const uint8_t *b, size_t len,
                            Error **errp)
{
    struct ram_stage *s = &l->ram;
    size_t pos = 0;

    if (s->file_mapped) {
        error_setg(errp, "'ram-dirty' in a stream with a 'ram-file' section");
        return false;
    }
    if (!s->map || s->next != s->size) {
        error_setg(errp,
                   "comes before the 'ram' sections covered RAM (up to "
                   "0x%" PRIx64 " of 0x%" PRIx64 " bytes)",
                   s->next, l->sv->gm->ram_size);
        return false;
    }
    while (pos < len) {
        uint64_t hdr, off, n;
        unsigned type;

        if (len - pos < 12) {
            error_setg(errp, "record at body offset %zu is cut short", pos);
            return false;
        }
        hdr = le_load(b + pos, 8);
        n = le_load(b + pos + 8, 4);
        pos += 12;
        off = hdr & ~(uint64_t)(PAGE - 1);
        type = hdr & (PAGE - 1);
        if (off >= s->size || n == 0 || n > (s->size - off) / PAGE) {
            error_setg(errp,
                       "record of %" PRIu64 " pages at 0x%" PRIx64
                       " goes beyond RAM (0x%" PRIx64 " bytes)",
                       n, off, s->size);
            return false;
        }
        if (type == RAM_REC_DATA) {
            if ((len - pos) / PAGE < n) {
                error_setg(errp, "data record at 0x%" PRIx64 " is cut short",
                           off);
                return false;
            }
            memcpy(s->map + off, b + pos, n * PAGE);
            pos += n * PAGE;
            count_pages(l, false, n);
        } else if (type == RAM_REC_ZERO) {
            /* the page may hold what the first pass sent */
            memset(s->map + off, 0, n * PAGE);
            count_pages(l, true, n);
        } else {
            error_setg(errp, "unknown RAM record type %u at 0x%" PRIx64, type,
                       off);
            return false;
        }
    }
    return true;
}

/* "ram-file": header, padding, the RAM.  Mapped copy-on-write when the
 * fd is a seekable file and the data is where the header says; then the
 * CRC is not computed (that would read every page the mapping saves us
 * from reading).  Read in and checked otherwise. */
static bool stage_ram_file(struct loader *l, uint64_t body_len, uint32_t *crc,
                           Error **errp)
{
    struct ram_stage *s = &l->ram;
    uint64_t size, data_at, pad;
    int fd;

    if (s->map) {
        error_setg(errp, "both 'ram-file' and 'ram' sections, or two "
                         "'ram-file'");
        return false;
    }
    if (!rd_le(l, &size, 8, "RAM size", crc, errp) ||
        !rd_le(l, &data_at, 8, "RAM data offset", crc, errp) ||
        !rd_le(l, &pad, 8, "RAM padding", crc, errp)) {
        return false;
    }
    if (size != l->sv->gm->ram_size) {
        error_setg(errp,
                   "RAM of 0x%" PRIx64 " bytes, this machine has 0x%" PRIx64,
                   size, l->sv->gm->ram_size);
        return false;
    }
    if (pad >= PAGE || body_len != 24 + pad + size) {
        error_setg(errp,
                   "body length %" PRIu64 " does not match %" PRIu64
                   " bytes of RAM and %" PRIu64 " of padding",
                   body_len, size, pad);
        return false;
    }
    fd = mig_reader_mappable_fd(l->r);
    if (fd >= 0 && data_at % PAGE == 0 &&
        data_at == mig_reader_offset(l->r) + pad) {
        struct stat st;

        if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
            (uint64_t)st.st_size >= data_at + size) {
            void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd,
                           (off_t)data_at);

            if (p != MAP_FAILED) {
                s->map = p;
                s->size = size;
                s->memfd = -1;
                s->file_mapped = true;
                s->next = size;
                count_pages(l, false, size / PAGE);
                return mig_skip(l->r, pad + size, "RAM", errp);
            }
        }
    }
    /* Fallback: read it in. */
    if (!ram_stage_init(l, true, errp)) {
        return false;
    }
    for (uint64_t i = 0; i < pad; i++) {
        uint8_t z;

        if (!rd(l, &z, 1, "RAM padding", crc, errp)) {
            return false;
        }
    }
    for (uint64_t off = 0; off < size; off += SAVEVM_RAM_CHUNK) {
        uint64_t n = MIN(size - off, SAVEVM_RAM_CHUNK);

        if (!rd(l, s->map + off, n, "RAM", crc, errp)) {
            return false;
        }
    }
    s->file_mapped = true;
    s->next = size;
    count_pages(l, false, size / PAGE);
    return true;
}

static bool stage_entry(struct savevm_entry *e, GByteArray *body, Error **errp)
{
    if (e->ops) {
        e->staged = e->ops->stage(e->opaque, body->data, body->len, errp);
        g_byte_array_unref(body);
        return e->staged != NULL;
    }
    if (!vmstate_check(e->vmsd, body->data, body->len, errp)) {
        g_byte_array_unref(body);
        return false;
    }
    e->body = body;
    return true;
}

static bool load_section(struct loader *l, Error **errp)
{
    uint8_t tag = TAG_SECTION, nl;
    uint8_t name_raw[NAME_MAX_LEN];
    char name[NAME_MAX_LEN + 1];
    uint64_t instance, version, body_len, crc_in;
    uint32_t crc = crc32c(0, &tag, 1);
    struct savevm_entry *e = NULL;
    bool is_ram, is_ram_dirty, is_ram_file;
    GByteArray *body;

    if (!rd(l, &nl, 1, "section name length", &crc, errp)) {
        return false;
    }
    if (nl == 0 || nl > NAME_MAX_LEN) {
        error_setg(errp, "section %u: name length %u (1..%d)", l->nsec, nl,
                   NAME_MAX_LEN);
        return false;
    }
    if (!rd(l, name_raw, nl, "section name", &crc, errp)) {
        return false;
    }
    for (unsigned i = 0; i < nl; i++) {
        name[i] = g_ascii_isprint(name_raw[i]) ? name_raw[i] : '?';
    }
    name[nl] = 0;
    if (!rd_le(l, &instance, 4, "section instance", &crc, errp) ||
        !rd_le(l, &version, 4, "section version", &crc, errp) ||
        !rd_le(l, &body_len, 8, "section length", &crc, errp)) {
        return false;
    }
    is_ram = l->sv->gm && !strcmp(name, "ram");
    is_ram_dirty = l->sv->gm && !strcmp(name, "ram-dirty");
    is_ram_file = l->sv->gm && !strcmp(name, "ram-file") && instance == 0;
    if (!is_ram && !is_ram_dirty && !is_ram_file) {
        e = find_entry(l->sv, name, instance);
        if (!e) {
            error_setg(errp,
                       "section '%s' instance %" PRIu64 ": unknown section "
                       "(no such device or state here)",
                       name, instance);
            return false;
        }
        if (e->seen) {
            error_setg(errp, "section '%s' instance %" PRIu64 ": appears twice",
                       name, instance);
            return false;
        }
    }
    if (version != (e ? entry_version(e) : RAM_VERSION)) {
        error_setg(errp,
                   "section '%s' instance %" PRIu64 ": layout version %" PRIu64
                   ", this vireo has %u",
                   name, instance, version, e ? entry_version(e) : RAM_VERSION);
        return false;
    }
    if (is_ram_file) {
        if (!stage_ram_file(l, body_len, &crc, errp)) {
            error_prepend(errp, "section 'ram-file': ");
            return false;
        }
        if (!rd_le(l, &crc_in, 4, "section CRC", NULL, errp)) {
            return false;
        }
        /* a mapped RAM was not read: crc covers the header only */
        if (l->ram.memfd >= 0 && crc_in != crc) {
            error_setg(errp,
                       "section 'ram-file' instance 0: bad CRC (stream "
                       "0x%08" PRIx64 ", computed 0x%08" PRIx32 ")",
                       crc_in, crc);
            return false;
        }
        return true;
    }
    if (body_len > SAVEVM_MAX_SECTION + SAVEVM_MAX_SECTION / PAGE * 12) {
        error_setg(errp,
                   "section '%s' instance %" PRIu64 ": length %" PRIu64
                   " is more than a section may have",
                   name, instance, body_len);
        return false;
    }
    body = g_byte_array_sized_new(body_len);
    g_byte_array_set_size(body, body_len);
    if (!rd(l, body->data, body_len, name, &crc, errp) ||
        !rd_le(l, &crc_in, 4, "section CRC", NULL, errp)) {
        g_byte_array_unref(body);
        error_prepend(errp, "section '%s' instance %" PRIu64 ": ", name,
                      instance);
        return false;
    }
    if (crc_in != crc) {
        g_byte_array_unref(body);
        error_setg(errp,
                   "section '%s' instance %" PRIu64 ": bad CRC (stream "
                   "0x%08" PRIx64 ", computed 0x%08" PRIx32 ")",
                   name, instance, crc_in, crc);
        return false;
    }
    if (is_ram || is_ram_dirty) {
        bool ok = is_ram ? stage_ram_chunk(l, body->data, body->len, errp)
                         : stage_ram_dirty(l, body->data, body->len, errp);

        g_byte_array_unref(body);
        if (!ok) {
            error_prepend(errp, "section '%s' instance %" PRIu64 ": ", name,
                          instance);
        }
        return ok;
    }
    e->seen = true;
    if (!stage_entry(e, body, errp)) {
        error_prepend(errp, "section '%s' instance %" PRIu64 ": ", name,
                      instance);
        return false;
    }
    return true;
}

static bool load_end(struct loader *l, Error **errp)
{
    uint8_t tag = TAG_END;
    uint32_t crc = crc32c(0, &tag, 1);
    uint64_t n, crc_in;

    if (!rd_le(l, &n, 4, "end marker", &crc, errp) ||
        !rd_le(l, &crc_in, 4, "end marker CRC", NULL, errp)) {
        return false;
    }
    if (crc_in != crc) {
        error_setg(errp, "end marker: bad CRC");
        return false;
    }
    if (n != l->nsec) {
        error_setg(errp,
                   "end marker: the stream says %" PRIu64 " sections, %u "
                   "were read",
                   n, l->nsec);
        return false;
    }
    for (guint i = 0; i < l->sv->entries->len; i++) {
        struct savevm_entry *e = g_ptr_array_index(l->sv->entries, i);

        if (!e->seen && !(e->ops && e->ops->optional)) {
            error_setg(errp,
                       "section '%s' instance %" PRIu32 ": missing from the "
                       "stream",
                       e->name, e->instance);
            return false;
        }
    }
    if (l->sv->gm && l->ram.next != l->sv->gm->ram_size) {
        error_setg(errp,
                   "section 'ram': the stream carries RAM up to 0x%" PRIx64
                   " of 0x%" PRIx64 " bytes",
                   l->ram.next, l->sv->gm->ram_size);
        return false;
    }
    return true;
}

/* Applies one staged entry, keeping what it replaces in e->undo. */
static bool commit_entry(struct savevm_entry *e, Error **errp)
{
    size_t pos = 0;
    bool ok;

    e->undo = g_byte_array_new();
    if (!entry_save(e, e->undo, errp)) {
        g_byte_array_unref(e->undo);
        e->undo = NULL;
        return false;
    }
    if (e->ops) {
        return e->ops->commit(e->opaque, e->staged, errp);
    }
    if (e->lock) {
        g_mutex_lock(e->lock);
    }
    ok = vmstate_load(e->vmsd, e->opaque, e->body->data, e->body->len, &pos,
                      errp);
    if (e->lock) {
        g_mutex_unlock(e->lock);
    }
    return ok;
}

/* Puts back what commit_entry replaced (a state that was in effect, so
 * its post_load accepts it and redoes its side effects: IRQ lines,
 * timers). */
static void rollback_entry(struct savevm_entry *e)
{
    size_t pos = 0;

    if (!e->undo) {
        return;
    }
    if (e->ops) {
        void *st = e->ops->stage(e->opaque, e->undo->data, e->undo->len, NULL);

        if (st) {
            e->ops->commit(e->opaque, st, NULL);
            e->ops->free_staged(st);
        }
    } else {
        if (e->lock) {
            g_mutex_lock(e->lock);
        }
        vmstate_load(e->vmsd, e->opaque, e->undo->data, e->undo->len, &pos,
                     NULL);
        if (e->lock) {
            g_mutex_unlock(e->lock);
        }
    }
}

static bool commit_ram(struct loader *l, Error **errp)
{
    struct guest_mem *gm = l->sv->gm;
    struct ram_stage *s = &l->ram;
    void *p;

    /* One syscall replaces the whole RAM mapping, at the same address
     * (KVM's memslots keep pointing at it). */
    p = mremap(s->map, s->size, s->size, MREMAP_MAYMOVE | MREMAP_FIXED,
               gm->ram);
    if (p == MAP_FAILED) {
        error_setg_errno(errp, errno, "RAM: mremap onto guest RAM failed");
        return false;
    }
    s->map = NULL;
    if (gm->memfd >= 0) {
        close(gm->memfd);
    }
    /* From a mapped file, RAM is a private mapping of it: no memfd backs
     * it any more (and a later save must not copy a stale one). */
    gm->memfd = s->memfd;
    s->memfd = -1;
    return true;
}

static void cleanup_entries(struct savevm *sv)
{
    for (guint i = 0; i < sv->entries->len; i++) {
        struct savevm_entry *e = g_ptr_array_index(sv->entries, i);

        if (e->body) {
            g_byte_array_unref(e->body);
        }
        if (e->undo) {
            g_byte_array_unref(e->undo);
        }
        if (e->staged) {
            e->ops->free_staged(e->staged);
        }
        e->body = e->undo = NULL;
        e->staged = NULL;
        e->seen = false;
    }
}

struct savevm_load {
    struct loader l;
};

void savevm_load_stats(const struct savevm *sv, struct savevm_stats *out)
{
    out->bytes = __atomic_load_n(&sv->stats.bytes, __ATOMIC_RELAXED);
    out->zero_pages = __atomic_load_n(&sv->stats.zero_pages, __ATOMIC_RELAXED);
    out->data_pages = __atomic_load_n(&sv->stats.data_pages, __ATOMIC_RELAXED);
}

void savevm_load_discard(struct savevm_load *ld)
{
    if (!ld) {
        return;
    }
    ram_stage_free(&ld->l.ram);
    cleanup_entries(ld->l.sv);
    g_free(ld);
}

struct savevm_load *savevm_load_read(struct savevm *sv, struct mig_reader *r,
                                     Error **errp)
{
    struct savevm_load *ld = g_new0(struct savevm_load, 1);
    struct loader *l = &ld->l;

    l->sv = sv;
    l->r = r;
    l->ram.memfd = -1;
    __atomic_store_n(&sv->stats.bytes, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&sv->stats.zero_pages, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&sv->stats.data_pages, 0, __ATOMIC_RELAXED);
    if (!load_header(l, errp)) {
        goto fail;
    }
    for (;;) {
        uint8_t tag;

        if (!rd(l, &tag, 1, "section tag", NULL, errp)) {
            goto fail;
        }
        if (tag == TAG_END) {
            break;
        }
        if (tag != TAG_SECTION) {
            error_setg(errp,
                       "bad section tag 0x%02x at offset %" PRIu64
                       " (after %u sections)",
                       tag, r->pos - 1, l->nsec);
            goto fail;
        }
        if (!load_section(l, errp)) {
            goto fail;
        }
        l->nsec++;
    }
    if (!load_end(l, errp)) {
        goto fail;
    }
    __atomic_store_n(&sv->stats.bytes, r->pos, __ATOMIC_RELAXED);
    l->r = NULL; /* the reader is the caller's again */
    return ld;
fail:
    savevm_load_discard(ld);
    return NULL;
}

bool savevm_load_apply(struct savevm_load *ld, Error **errp)
{
    struct savevm *sv = ld->l.sv;
    bool ok = false;
    guint done = 0;
    GPtrArray *order;

    /* Everything is checked: apply.  Device vmstates first, since their
     * post_load may still refuse a value (and is undone without any KVM
     * write); then the sections staged and checked whole (vCPUs, clock,
     * irqchip); RAM last, in one mremap. */
    order = g_ptr_array_new();
    for (int pass = 0; pass < 2; pass++) {
        for (guint i = 0; i < sv->entries->len; i++) {
            struct savevm_entry *e = g_ptr_array_index(sv->entries, i);

            /* an optional section the stream did not carry: nothing to
             * apply (load_end refused any other missing one) */
            if (e->seen && (pass == 0) == (e->vmsd != NULL)) {
                g_ptr_array_add(order, e);
            }
        }
    }
    for (done = 0; done < order->len; done++) {
        struct savevm_entry *e = g_ptr_array_index(order, done);

        if (!commit_entry(e, errp)) {
            error_prepend(errp, "section '%s' instance %" PRIu32 ": ", e->name,
                          e->instance);
            break;
        }
    }
    if (done == order->len && (!sv->gm || commit_ram(&ld->l, errp))) {
        ok = true;
    } else {
        for (guint i = MIN(done + 1, order->len); i-- > 0;) {
            rollback_entry(g_ptr_array_index(order, i));
        }
    }
    g_ptr_array_free(order, TRUE);
    savevm_load_discard(ld);
    return ok;
}

bool savevm_load(struct savevm *sv, struct mig_reader *r, Error **errp)
{
    struct savevm_load *ld = savevm_load_read(sv, r, errp);

    return ld && savevm_load_apply(ld, errp);
}
