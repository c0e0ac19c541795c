/* SPDX-License-Identifier: MIT */
/*
 * kvm.h: the KVM accelerator: /dev/kvm, the VM fd, capabilities, memory
 * slots, the irqchip, IRQ lines and MSIs.
 *
 * Two irqchip modes, as QEMU's -machine kernel-irqchip=: "split" (vireo's
 * default) keeps only the LAPICs in the kernel; the IOAPIC is a userspace
 * device (hw/intc/ioapic.c) that sends MSIs and registers for EOI exits,
 * and there is no PIC or PIT.  "on" is KVM's whole irqchip (PIC, IOAPIC, LAPIC)
 * plus the PIT, for firmware that needs the legacy timer and 8259s.  The split
 * chip exists because KVM tears down an in-kernel PIC/IOAPIC/PIT with SRCU
 * grace periods that cost ~20 ms per VM here (docs/performance.md).
 *
 * Every ioctl goes through kvm_ioctl(), which dispatches to a backend: the
 * real one calls ioctl(2); unit tests install a fake backend (see
 * tests/unit/fake-kvm.h) to model what this machine's KVM cannot do (SEV,
 * SMM, error injection).  Thin wrappers return -errno; their first caller
 * turns that into an Error with the ioctl named.
 */
#ifndef ACCEL_KVM_KVM_H
#define ACCEL_KVM_KVM_H

#include "util/common.h"
#include "util/error.h"

#include <linux/kvm.h>
#include <pthread.h>

struct guest_mem;
struct kvm_vcpu_ring;
struct kvm_ring_slot;
struct as_eventfd_listener;

struct kvm_backend {
    /* Returns the ioctl's non-negative result or -errno. */
    int (*ioctl)(void *opaque, int fd, unsigned long req, void *arg);
    /* Maps len bytes of a vCPU fd at page offset pgoff (the dirty ring),
     * NULL with errno set on failure, and unmaps them.  NULL hooks: mmap(2)
     * and munmap(2). */
    void *(*mmap)(void *opaque, int fd, size_t len, uint64_t pgoff);
    void (*munmap)(void *opaque, void *p, size_t len);
    void *opaque;
};

enum kvm_irqchip_mode {
    KVM_IRQCHIP_SPLIT = 0, /* in-kernel LAPIC, userspace IOAPIC */
    KVM_IRQCHIP_ON,        /* in-kernel PIC, IOAPIC, LAPIC and PIT */
};

/* Where IOAPIC EOIs go with a split irqchip (the userspace IOAPIC):
 * KVM_EXIT_IOAPIC_EOI reports a vCPU's EOI of a level-triggered vector. */
struct kvm_eoi_sink {
    void (*eoi)(void *opaque, unsigned vector);
};

/* One GSI routed as an MSI (KVM_SET_GSI_ROUTING). */
struct kvm_msi_route {
    uint32_t gsi;
    uint64_t addr;
    uint32_t data;
};

#define KVM_SPLIT_IOAPIC_PINS 24

struct kvm_accel {
    const struct kvm_backend *be;
    enum kvm_irqchip_mode irqchip;
    const struct kvm_eoi_sink *eoi_sink;
    void *eoi_opaque;
    /* GSI routing (accel/kvm/irq.c), under route_lock: the IOAPIC's pin
     * routes (split) and the MSI routes devices allocated (GSIs from
     * KVM_SPLIT_IOAPIC_PINS up).  Any thread: MSI-X table writes come
     * from vCPUs. */
    GMutex route_lock;
    struct kvm_msi_route pin_routes[KVM_SPLIT_IOAPIC_PINS];
    unsigned nr_pin_routes;
    GArray *msi_routes; /* struct kvm_msi_route; gsi 0: free slot */
    int sys_fd;
    int vm_fd;
    unsigned long vm_type; /* KVM_CREATE_VM type (0; SEV types: sev/) */
    int vcpu_mmap_size;
    int nr_slots; /* KVM_CAP_NR_MEMSLOTS */
    int next_slot;
    bool has_sregs2;
    bool has_xsave2;
    int xsave2_size; /* KVM_CAP_XSAVE2 value, bytes */
    bool has_xcrs;
    bool has_debugregs;
    bool has_vcpu_events;
    bool has_immediate_exit;
    bool has_readonly_mem;
    bool has_tsc_deadline;
    bool has_x2apic_api;
    bool has_smm;          /* KVM_CAP_X86_SMM: vCPU events carry SMM state */
    bool has_adjust_clock; /* KVM_CAP_ADJUST_CLOCK: KVM_GET/SET_CLOCK */
    bool has_stats_fd;     /* KVM_CAP_BINARY_STATS_FD (accel/kvm/stats.h) */
    /* Dirty logging (accel/kvm/dirty.c): KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2
     * enabled, so KVM_GET_DIRTY_LOG leaves pages writable and
     * KVM_CLEAR_DIRTY_LOG re-protects them chunk by chunk. */
    bool dirty_manual_protect;
    /* KVM's dirty ring (accel/kvm/dirty.c), enabled before any vCPU
     * exists: entries per vCPU ring (0: off, the bitmap path above) and
     * the vCPUs' rings and harvested pages, under ring_lock (the migration
     * thread harvests between passes, a vCPU thread on
     * KVM_EXIT_DIRTY_RING_FULL). */
    uint32_t dirty_ring_entries;
    GMutex ring_lock;
    GPtrArray *rings;                 /* struct kvm_vcpu_ring * */
    struct kvm_ring_slot *ring_slots; /* by slot id while logging */
    unsigned nr_ring_slots;
    unsigned long *ring_pending; /* pages harvested, not yet synced */
    uint64_t ring_pages;         /* bits in ring_pending */
    /* entries marked RESET but KVM_RESET_DIRTY_RINGS failed: the next
     * harvest resets even if it finds nothing new */
    bool ring_reset_owed;
    /* KVM_GET_SUPPORTED_CPUID: with the real backend the query runs on a
     * thread of its own while the machine is set up (on this kind of host
     * it is the slowest ioctl of the start: each CPUID KVM executes traps
     * to the outer hypervisor); read the field only after
     * kvm_wait_supported_cpuid(). */
    struct kvm_cpuid2 *supported_cpuid;
    bool cpuid_pending;
    pthread_t cpuid_thread;
    Error *cpuid_err;
    struct kvm_msr_list *msr_index_list; /* KVM_GET_MSR_INDEX_LIST */
};

/* The real backend (ioctl(2)). */
extern const struct kvm_backend kvm_real_backend;

int kvm_ioctl(struct kvm_accel *k, int fd, unsigned long req, void *arg);
/* Name of a KVM ioctl for messages, e.g. "KVM_SET_SREGS2". */
const char *kvm_ioctl_name(unsigned long req);

/* What KVM needs of guest-physical space on Intel (KVM_SET_IDENTITY_MAP_ADDR
 * takes one page, KVM_SET_TSS_ADDR three after it): the board says where. */
#define KVM_SYS_PAGES_SIZE 0x4000

/* Opens /dev/kvm (be == NULL: real), checks the API version and every
 * capability vireo uses, creates the VM and the irqchip (with "on" also
 * the PIT); sys_pages is the board's KVM_SYS_PAGES_SIZE reserved area. */
struct kvm_accel *kvm_accel_new(const struct kvm_backend *be,
                                enum kvm_irqchip_mode irqchip,
                                uint64_t sys_pages, Error **errp);
/* The same with a KVM_CREATE_VM type (the SEV types of sev/) when
 * KVM_CAP_VM_TYPES offers it; otherwise a default VM (k->vm_type says
 * which was created). */
struct kvm_accel *kvm_accel_new_typed(const struct kvm_backend *be,
                                      enum kvm_irqchip_mode irqchip,
                                      uint64_t sys_pages, unsigned long vm_type,
                                      Error **errp);
/* Parses QEMU's kernel-irqchip= value: on/split (off is refused: vireo
 * needs the in-kernel LAPIC). */
bool kvm_parse_irqchip_mode(const char *s, enum kvm_irqchip_mode *out,
                            Error **errp);
/* QEMU's -machine smm=on|off|auto: on needs KVM_CAP_X86_SMM (then vCPU
 * events carry the SMM state); off and auto are always accepted. */
bool kvm_check_smm_option(const struct kvm_accel *k, const char *s,
                          Error **errp);
void kvm_accel_free(struct kvm_accel *k);
/* Waits for the KVM_GET_SUPPORTED_CPUID query kvm_accel_new() started;
 * false (errp set) if it failed. */
bool kvm_wait_supported_cpuid(struct kvm_accel *k, Error **errp);
int kvm_check_extension(struct kvm_accel *k, long cap);

/* Registers every region of gm with KVM (ROM read-only). */
bool kvm_set_memory(struct kvm_accel *k, struct guest_mem *gm, Error **errp);
/* Turns dirty logging on/off on every RAM slot. */
bool kvm_set_dirty_logging(struct kvm_accel *k, struct guest_mem *gm, bool on,
                           Error **errp);

/* ---- dirty page tracking for live migration (accel/kvm/dirty.c) ----
 * Bitmaps have one bit per 4 KiB page of RAM offset (guest_mem.ram), so
 * they line up with the userspace bitmap of system/guest-mem.h. */

/* Pages per KVM_CLEAR_DIRTY_LOG call (1 GiB of guest RAM, as QEMU's
 * default): KVM write-protects them under its MMU lock, so a slot of any
 * size is cleared in bounded steps while vCPUs run. */
#define KVM_DIRTY_CLEAR_PAGES (1u << 18)

/* Enables manual protection when KVM offers it (first call), then
 * KVM_MEM_LOG_DIRTY_PAGES on every RAM slot.  With the dirty ring: what
 * the rings still hold is dropped and the slots are learnt, so that
 * harvested (slot, offset) pairs become RAM pages. */
bool kvm_dirty_log_start(struct kvm_accel *k, struct guest_mem *gm,
                         Error **errp);
/* Logging off on every RAM slot; with the dirty ring, the rings are then
 * drained (entries dropped, reset), so a later migration starts clean. */
bool kvm_dirty_log_stop(struct kvm_accel *k, struct guest_mem *gm,
                        Error **errp);
/* ORs the pages the guest wrote since the last sync into bitmap and
 * re-arms them (KVM_GET_DIRTY_LOG; with manual protection also
 * KVM_CLEAR_DIRTY_LOG on each KVM_DIRTY_CLEAR_PAGES chunk with a dirty
 * page, before the caller reads the pages).  With the dirty ring: every
 * vCPU's ring is harvested, KVM_RESET_DIRTY_RINGS re-protects the pages,
 * and what vCPU threads harvested on full rings is added; entries naming
 * no RAM page (unknown slot, offset past the slot) are dropped with an
 * error logged. */
bool kvm_dirty_log_sync(struct kvm_accel *k, struct guest_mem *gm,
                        unsigned long *bitmap, Error **errp);

/* ---- KVM's dirty ring (KVM_CAP_DIRTY_LOG_RING[_ACQ_REL], api.rst 8.29)
 * Each vCPU gets a ring of struct kvm_dirty_gfn (mapped from its fd at
 * KVM_DIRTY_LOG_PAGE_OFFSET) where KVM pushes the slot and page of every
 * first write to a logged slot; with it on, KVM_GET_DIRTY_LOG no longer
 * works (x86 has no KVM_CAP_DIRTY_LOG_RING_WITH_BITMAP) and the
 * kvm_dirty_log_* calls above harvest the rings instead. */

/* Entries per vCPU when -accel kvm gives no dirty-ring-size (what QEMU
 * users pick: 64 KiB per vCPU). */
#define KVM_DIRTY_RING_DEFAULT 4096
/* KVM's smallest ring is a page (256 entries of 16 bytes). */
#define KVM_DIRTY_RING_MIN 256

/* Enables the ring on the VM; call before any vCPU exists.  entries < 0:
 * vireo's default (on with KVM_DIRTY_RING_DEFAULT entries, or KVM's
 * maximum if smaller, where KVM offers KVM_CAP_DIRTY_LOG_RING_ACQ_REL,
 * else off); 0: off; otherwise a power of 2 within KVM's maximum (either
 * capability will do; where KVM offers neither, a warning and the bitmap,
 * as QEMU).  Refused with errp set: a size KVM cannot take. */
bool kvm_dirty_ring_enable(struct kvm_accel *k, int64_t entries, Error **errp);
/* Maps the ring of a new vCPU fd and registers it (kvm_create_vcpu calls
 * it; a no-op with the ring off). */
bool kvm_dirty_ring_add_vcpu(struct kvm_accel *k, int fd, unsigned index,
                             Error **errp);
/* Unmaps and forgets the ring of a vCPU fd about to be closed. */
void kvm_dirty_ring_remove_vcpu(struct kvm_accel *k, int fd);
/* Forgets every ring and what was harvested (kvm_accel_free). */
void kvm_dirty_ring_free(struct kvm_accel *k);
/* A vCPU thread's KVM_EXIT_DIRTY_RING_FULL: harvests every ring and
 * resets them (KVM_RESET_DIRTY_RINGS), so the vCPU can run on.  *n: the
 * entries collected (0 twice in a row means KVM does not make progress).
 * False with errp set if KVM refused the reset. */
bool kvm_dirty_ring_full(struct kvm_accel *k, unsigned *n, Error **errp);
/* How many entries vCPU `index`'s ring has given while logging since it
 * was mapped (each a page it wrote; a page written again after a reset
 * counts again, as QEMU's per-vCPU count); false if it has no ring. */
bool kvm_dirty_ring_count(struct kvm_accel *k, unsigned index, uint64_t *count);

/* ---- interrupts (accel/kvm/irq.c) ----------------------------------
 * Only hw/intc/ calls these: devices drive a struct irq_line or a struct
 * msi_sender (hw/core/irq.h) that the board wired to them. */

/* KVM_IRQ_LINE on the whole in-kernel irqchip; false with a split one
 * (the userspace IOAPIC takes GSIs then) or if KVM refused. */
bool kvm_set_irq(struct kvm_accel *k, unsigned gsi, bool level);
/* The userspace IOAPIC (split irqchip) registers for EOI exits here. */
void kvm_set_eoi_sink(struct kvm_accel *k, const struct kvm_eoi_sink *sink,
                      void *opaque);
/* KVM_EXIT_IOAPIC_EOI: a vCPU EOI'd a vector KVM tracks for the IOAPIC. */
void kvm_ioapic_eoi(struct kvm_accel *k, unsigned vector);
/* Delivers one MSI (KVM_SIGNAL_MSI); -errno, 0 if the guest's LAPICs
 * refused it (masked), > 0 delivered. */
int kvm_signal_msi(struct kvm_accel *k, uint64_t addr, uint32_t data);
/* Replaces the IOAPIC pin routes (GSIs below KVM_SPLIT_IOAPIC_PINS) and
 * commits the table: with a split irqchip KVM scans these routes to learn
 * which vectors are level-triggered and must exit with
 * KVM_EXIT_IOAPIC_EOI.  Refused with the whole in-kernel irqchip. */
bool kvm_set_msi_routes(struct kvm_accel *k, const struct kvm_msi_route *r,
                        unsigned n, Error **errp);
/* A new GSI routed as the MSI addr/data (for irqfd); the GSI, or -1 with
 * errp set.  Committed to KVM at once. */
int kvm_msi_route_add(struct kvm_accel *k, uint64_t addr, uint32_t data,
                      Error **errp);
bool kvm_msi_route_update(struct kvm_accel *k, int gsi, uint64_t addr,
                          uint32_t data, Error **errp);
void kvm_msi_route_release(struct kvm_accel *k, int gsi);
/* KVM_IRQFD: a write to fd raises gsi (assign) / stops doing so. */
bool kvm_irqfd(struct kvm_accel *k, int fd, int gsi, bool assign, Error **errp);
/* KVM_IOEVENTFD: a guest write of len bytes (1, 2, 4 or 8; with datamatch
 * only when the value is data) to addr in port I/O (pio) or MMIO space
 * signals fd instead of exiting to userspace. */
bool kvm_ioeventfd(struct kvm_accel *k, int fd, uint64_t addr, unsigned len,
                   bool pio, bool datamatch, uint64_t data, bool assign,
                   Error **errp);
/* The same as address-space listeners (opaque: the kvm_accel), so a
 * device's as_add_eventfd() doorbell is taken in the kernel. */
extern const struct as_eventfd_listener kvm_pio_eventfd_listener;
extern const struct as_eventfd_listener kvm_mmio_eventfd_listener;
/* Creates a vCPU fd and maps its kvm_run; returns fd or -errno. */
int kvm_create_vcpu(struct kvm_accel *k, unsigned index, struct kvm_run **run,
                    Error **errp);

#endif
