/* SPDX-License-Identifier: MIT */
/*
 * savevm.h: vireo's migration stream (docs/migration-format.md): a header
 * (magic, format MAJOR.MINOR, machine type, configuration fingerprint),
 * named sections with instance ids, lengths and a CRC32C each, an end
 * marker.  A registry (struct savevm) lists what a machine saves: device
 * vmstates, vCPUs, the KVM clock, RAM.
 *
 * Loading checks everything before it applies anything: every section is
 * read, CRC-checked and parsed into a staging object, the set of sections
 * is compared with the registry, and only then are the staged objects
 * committed.  A commit a post_load refuses rolls the committed ones back
 * to what they were, so a refused stream leaves the destination as it was.
 */
#ifndef MIGRATION_SAVEVM_H
#define MIGRATION_SAVEVM_H

#include "util/common.h"
#include "util/error.h"
#include "migration/stream.h"

struct vmstate_desc;
struct guest_mem;

#define SAVEVM_MAGIC "VIREOVM\n"
#define SAVEVM_MAJOR 1
/* 1: "ram-dirty" sections (live pre-copy); 2: the "globalstate" section
 * (the source's run state, migration.c) */
#define SAVEVM_MINOR 2

/* Sections other than RAM are built in memory: bound what a stream may
 * make us allocate. */
#define SAVEVM_MAX_SECTION (16u << 20)
#define SAVEVM_MAX_FINGERPRINT (64u << 10)
/* RAM is sent in chunks of at most this much guest RAM each. */
#define SAVEVM_RAM_CHUNK (16u << 20)
/* Pages per "ram-dirty" section (live passes: throttle and cancel act
 * between sections). */
#define SAVEVM_RAM_DIRTY_CHUNK (1u << 20)

/* A section whose state is not (only) a vmstate table. */
struct savevm_ops {
    unsigned version;
    /* A stream may lack the section (one from a vireo of an older format
     * MINOR): the load goes on without it and commit is not called. */
    bool optional;
    /* Appends the section body. */
    bool (*save)(void *opaque, GByteArray *out, Error **errp);
    /* Parses and checks a body against this destination; applies nothing.
     * Returns the staged object. */
    void *(*stage)(void *opaque, const uint8_t *body, size_t len, Error **errp);
    /* Applies a staged object. */
    bool (*commit)(void *opaque, void *staged, Error **errp);
    void (*free_staged)(void *staged);
};

enum savevm_ram_layout {
    SAVEVM_RAM_STREAM = 0, /* chunks of zero-run and data records */
    SAVEVM_RAM_FILE = 1,   /* RAM page-aligned at a fixed file offset */
};

struct savevm;

/* What the last savevm_save (or the steps since savevm_save_begin) sent
 * (query-migrate's RAM statistics). */
struct savevm_stats {
    uint64_t bytes;      /* the whole stream */
    uint64_t zero_pages; /* sent as markers */
    uint64_t data_pages; /* sent with their contents */
};

/* machine_type and the fingerprint lines identify the configuration a
 * stream can be loaded into. */
struct savevm *savevm_new(const char *machine_type);
void savevm_free(struct savevm *sv);
/* Adds "key=value" to the fingerprint (keys in a fixed order). */
void savevm_fingerprint_add(struct savevm *sv, const char *key, const char *fmt,
                            ...) G_GNUC_PRINTF(3, 4);
/* A vmstate section; lock (may be NULL) is held around save and load. */
void savevm_register_vmsd(struct savevm *sv, const char *name,
                          uint32_t instance, const struct vmstate_desc *vmsd,
                          void *opaque, GMutex *lock);
void savevm_register_ops(struct savevm *sv, const char *name, uint32_t instance,
                         const struct savevm_ops *ops, void *opaque);
/* Guest RAM (the whole memfd mapping of gm). */
void savevm_register_ram(struct savevm *sv, struct guest_mem *gm);

/* Writes the whole stream.  The caller has stopped the vCPUs. */
bool savevm_save(struct savevm *sv, struct mig_writer *w,
                 enum savevm_ram_layout layout, Error **errp);

/* The same in steps, for a live (pre-copy) migration: the header; RAM
 * while the guest runs ("ram" sections over all of RAM in order, then
 * "ram-dirty" sections of pages written since); with the vCPUs stopped,
 * the last dirty pages, the state sections and the end marker.  Each call
 * writes at most SAVEVM_RAM_CHUNK of RAM, so the caller can throttle and
 * cancel between calls. */
bool savevm_save_begin(struct savevm *sv, struct mig_writer *w,
                       enum savevm_ram_layout layout, Error **errp);
/* One "ram" section for [off, off+len) (page-aligned, len at most
 * SAVEVM_RAM_CHUNK); the ranges of the first pass cover RAM in order. */
bool savevm_save_ram_range(struct savevm *sv, struct mig_writer *w,
                           uint64_t off, uint64_t len, Error **errp);
/* One "ram-dirty" section of up to SAVEVM_RAM_DIRTY_CHUNK of the pages set in
 * bitmap (one bit per RAM page) from page *page on; clears the bits it
 * sent and advances *page (= RAM pages when the scan is done). */
bool savevm_save_ram_dirty(struct savevm *sv, struct mig_writer *w,
                           unsigned long *bitmap, uint64_t *page, Error **errp);
/* Every state section (devices, vCPUs, clock, irqchip). */
bool savevm_save_state(struct savevm *sv, struct mig_writer *w, Error **errp);
bool savevm_save_end(struct savevm *sv, struct mig_writer *w, Error **errp);
const struct savevm_stats *savevm_get_stats(const struct savevm *sv);
/* Reads, checks and applies a whole stream (see above). */
bool savevm_load(struct savevm *sv, struct mig_reader *r, Error **errp);

/* The same in two steps, so that an incoming migration reads its stream
 * on a thread while the main loop answers QMP.  savevm_load_read reads,
 * checks and stages the whole stream; it changes nothing of the machine
 * (RAM goes to a mapping of its own, device state to staging objects), so
 * it may run on any thread as long as no other load or save uses sv.
 * NULL on a refused stream (nothing is kept).  savevm_load_apply then
 * applies what was staged, on the thread that owns the devices, rolling
 * back if a post_load refuses; savevm_load_discard drops it instead.
 * Both free the staged load. */
struct savevm_load;
struct savevm_load *savevm_load_read(struct savevm *sv, struct mig_reader *r,
                                     Error **errp);
bool savevm_load_apply(struct savevm_load *ld, Error **errp);
void savevm_load_discard(struct savevm_load *ld);
/* What the current (or last) load received: RAM pages as zero markers
 * and with contents, and (once read whole) the stream's bytes.  Safe from
 * any thread while savevm_load_read runs. */
void savevm_load_stats(const struct savevm *sv, struct savevm_stats *out);

#endif
