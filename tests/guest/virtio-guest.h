/* SPDX-License-Identifier: MIT */
/*
 * virtio-guest.h: the virtio test guest's internal interface.  A 64-bit,
 * polling, integer-only driver for virtio 1.x (virtio 1.2 spec: split
 * virtqueues 2.7, PCI transport 4.1, MMIO transport version 2 4.2) and
 * checks for blk, net, rng, console and balloon.  The image runs from ROM
 * (read-only on QEMU's q35), so there are no writable globals: all state
 * lives in RAM at VT_STATE, DMA buffers in a bump arena after it.
 */
#ifndef TESTS_GUEST_VIRTIO_GUEST_H
#define TESTS_GUEST_VIRTIO_GUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* RAM layout (identity-mapped; every machine has RAM from 0, 16 MiB is
 * enough).  The page tables are virtio-main.S's, at 0x10000. */
#define VT_STACK_TOP 0x80000
#define VT_STATE 0x100000
#define VT_IDT 0x30000
#define VT_ARENA 0x200000
#define VT_ARENA_END 0x800000

/* Where the guest puts the BARs it assigns on q35: above the ECAM window
 * (0xb0000000, 256 MiB), inside the 32-bit PCI hole of QEMU and vireo. */
#define VT_PCI_MEM_BASE 0xc0000000ULL
#define VT_PCI_MEM_END 0xfe000000ULL
#define VT_ECAM_BASE 0xb0000000ULL

#define VT_MMIO_BASE 0xfeb00000ULL
#define VT_MMIO_SIZE 0x200
#define VT_MMIO_SLOTS 24

/* The blk check writes VT_BLK_SECTORS sectors at VT_BLK_SECTOR; byte i of
 * that range is vt_blk_pattern(i) (the functional test computes it too). */
#define VT_BLK_SECTOR 8
#define VT_BLK_SECTORS 2

/* virtio-crash.bin writes VT_CRASH_REQS requests of VT_CRASH_REQ_SECTORS
 * sectors from VT_CRASH_SECTOR (byte i of the range is vt_blk_pattern(i)),
 * VT_CRASH_BATCH in flight at a time, flushes, prints "crash: flushed",
 * then writes VT_CRASH_DIRTY bytes over as many sectors from
 * VT_CRASH_DIRTY_SECTOR, again and again, never flushing. */
#define VT_CRASH_SECTOR 64
#define VT_CRASH_REQ_SECTORS 8
#define VT_CRASH_REQS 64
#define VT_CRASH_BATCH 4
#define VT_CRASH_DIRTY_SECTOR 1024
#define VT_CRASH_DIRTY 0xdd

/* Timeouts in TSC ticks (the TSC runs at the host's rate, ~1-4 GHz, under
 * both TCG and KVM). */
#define VT_TSC_SHORT (4ULL << 30)
#define VT_TSC_LONG (24ULL << 30)

#define VT_MAX_DEVS 16
/* LAPIC vectors: MSI-X of device i at VT_VEC_MSIX + i, GSI g at
 * VT_VEC_GSI + g (see virtio-irq.c) */
#define VT_VEC_MSIX 0x40
#define VT_VEC_GSI 0x60
#define VT_MAX_QUEUES 3
#define VT_QSIZE 16

/* virtio device ids (virtio 1.2, 5) */
#define VIRTIO_ID_NET 1
#define VIRTIO_ID_BLK 2
#define VIRTIO_ID_CONSOLE 3
#define VIRTIO_ID_RNG 4
#define VIRTIO_ID_BALLOON 5

#define VIRTIO_F_VERSION_1 32

/* device status (2.1) */
#define VS_ACK 1
#define VS_DRIVER 2
#define VS_DRIVER_OK 4
#define VS_FEATURES_OK 8
#define VS_NEEDS_RESET 64
#define VS_FAILED 128

/* split virtqueue (2.7) */
#define VRING_DESC_F_NEXT 1
#define VRING_DESC_F_WRITE 2

struct vring_desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};

struct vring_avail {
    uint16_t flags;
    uint16_t idx;
    uint16_t ring[VT_QSIZE];
    uint16_t used_event;
};

struct vring_used_elem {
    uint32_t id;
    uint32_t len;
};

struct vring_used {
    uint16_t flags;
    uint16_t idx;
    struct vring_used_elem ring[VT_QSIZE];
    uint16_t avail_event;
};

struct vq {
    uint16_t index, size;
    bool ready;
    uint16_t avail_idx, last_used;
    uint32_t notify_off;
    struct vring_desc *desc;
    struct vring_avail *avail;
    struct vring_used *used;
};

/* one buffer of a descriptor chain */
struct vbuf {
    void *addr;
    uint32_t len;
    bool write; /* device-writable */
};

enum vt_transport { VT_PCI, VT_MMIO };

struct vdev {
    enum vt_transport transport;
    uint16_t id;
    char where[24]; /* "pci 00:03.0" or "mmio feb00000" */
    /* PCI: addresses of the modern capabilities' structures */
    uintptr_t common, notify, isr, devcfg;
    uint32_t notify_mult;
    uintptr_t msix_cap, msix_table; /* MSI-X capability, table entry 0 */
    uint8_t msix_vector;            /* 0: MSI-X not in use */
    /* MMIO: the register window */
    uintptr_t mmio;
    uint64_t features; /* negotiated */
    struct vq vqs[VT_MAX_QUEUES];
};

struct vt_state {
    uintptr_t arena;  /* next free byte */
    uint64_t pci_mem; /* next free PCI memory address */
    uint8_t next_bus;
    unsigned ndevs, passed, failed;
    struct vdev devs[VT_MAX_DEVS];
    uint32_t irqs[256]; /* interrupts seen, per vector */
    uintptr_t irq_mmio; /* virtio-mmio device the ISR acknowledges */
};

static inline struct vt_state *vt(void)
{
    return (struct vt_state *)VT_STATE;
}

/* ---- virtio-lib.c: serial, memory, time, MMIO/port access ---- */
void vt_putc(char c);
void vt_puts(const char *s);
void vt_puthex(uint64_t v, int digits);
void vt_putdec(uint64_t v);
void vt_putbytes(const uint8_t *p, unsigned n); /* hex, no separator */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
void *vt_alloc(size_t size, size_t align); /* zeroed, never fails silently */
uint64_t vt_rdtsc(void);
/* where: the device ("pci 00:03.0", "mmio feb00000") or NULL */
void vt_pass(const char *what, const char *where);
void vt_fail(const char *what, const char *where, const char *why);
uint8_t vt_blk_pattern(unsigned i);

static inline void outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}
static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
static inline void outl(uint16_t port, uint32_t v)
{
    __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}
static inline uint32_t inl(uint16_t port)
{
    uint32_t v;
    __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
#define VT_MMIO_RW(bits)                                                       \
    static inline uint##bits##_t rd##bits(uintptr_t a)                         \
    {                                                                          \
        return *(volatile uint##bits##_t *)a;                                  \
    }                                                                          \
    static inline void wr##bits(uintptr_t a, uint##bits##_t v)                 \
    {                                                                          \
        *(volatile uint##bits##_t *)a = v;                                     \
    }
VT_MMIO_RW(8)
VT_MMIO_RW(16)
VT_MMIO_RW(32)

static inline void barrier(void)
{
    __asm__ volatile("" ::: "memory");
}
static inline void mb(void)
{
    __asm__ volatile("mfence" ::: "memory");
}

/* ---- virtio-transport.c: PCI (ECAM) and MMIO discovery, common ops ---- */
/* true on q35 (PCI scanned), false where there is no PCI host */
bool vt_pci_scan(void);
void vt_mmio_scan(void);
uint64_t vd_get_features(struct vdev *d);
void vd_set_features(struct vdev *d, uint64_t f);
uint8_t vd_get_status(struct vdev *d);
void vd_set_status(struct vdev *d, uint8_t s);
uint32_t vd_cfg_read(struct vdev *d, unsigned off, unsigned size);
void vd_cfg_write32(struct vdev *d, unsigned off, uint32_t v);
/* Selects queue idx; returns its maximum size (0: no such queue). */
uint16_t vd_queue_max(struct vdev *d, unsigned idx);
/* Programs and enables queue vq (vq->size and ring addresses set). */
bool vd_queue_enable(struct vdev *d, struct vq *vq);
void vd_notify(struct vdev *d, struct vq *vq);

/* ---- virtio-ring.c: device initialisation and split virtqueues ---- */
/* Reset, ACK, DRIVER, negotiate (VERSION_1 | wanted & offered),
 * FEATURES_OK, set up nq queues, DRIVER_OK.  Prints FAIL and returns
 * false if any step fails. */
bool vd_init(struct vdev *d, const char *name, uint64_t wanted, unsigned nq);
void vd_reset(struct vdev *d);
/* Posts the chain bufs[0..n) on vq (descriptors head..head+n) and kicks. */
bool vq_submit(struct vdev *d, struct vq *vq, unsigned head,
               const struct vbuf *bufs, unsigned n);
/* Waits for the next used element; returns true and its length. */
bool vq_wait(struct vq *vq, uint64_t timeout, uint32_t *len);
/* submit + wait */
bool vq_xfer(struct vdev *d, struct vq *vq, const struct vbuf *bufs, unsigned n,
             uint32_t *len);

/* ---- virtio-irq.c: IDT, LAPIC, IOAPIC routes, MSI-X, the check ---- */
void vt_irq_init(void);
void vt_irq_route_gsis(void);
void vt_msix_enable(struct vdev *d, uint8_t vector);
void vt_irq_check(struct vdev *d, const char *name);

/* ---- virtio-devs.c: the per-device checks ---- */
void vt_test_device(struct vdev *d);
/* true in virtio-hostile.bin (virtio-hostile.c), false in virtio.bin */
bool vt_hostile_mode(void);
/* true in virtio-crash.bin (virtio-crash.c): only virtio-blk is driven,
 * by the crash-safety writer, which never returns while it works */
bool vt_crash_mode(void);
const char *vt_dev_name(uint16_t id);
/* virtio-bench.bin (virtio-bench.c): VT_BENCH_REQS requests on a blk or net
 * device after its check passed; a no-op in the other images */
#define VT_BENCH_REQS 20000
void vt_bench_device(struct vdev *d);

#endif
