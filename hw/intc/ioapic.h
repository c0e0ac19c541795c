/* SPDX-License-Identifier: MIT */
/*
 * ioapic.h: the I/O APIC in userspace (82093AA register model, version
 * 0x20 with the EOI register, 24 pins), for KVM's split irqchip: the LAPICs
 * stay in the kernel, this chip turns GSIs into MSIs.
 *
 * The register model is a core (struct ioapic_state) with two callbacks, so
 * unit tests and fuzzers drive it without KVM: send_msi delivers one
 * interrupt message, set_routes tells the accelerator the messages of the
 * level-triggered pins (KVM must know their vectors to report the EOI that
 * clears Remote IRR).  hw/intc/ioapic.c also holds the device glue (class
 * "ioapic": MMIO at 0xfec00000, the machine's GSI lines (m->gsi: input n
 * drives pin n) and the accelerator's EOI exits).
 *
 * Semantics: an edge-triggered pin latches a rising edge and delivers it
 * when unmasked; a level-triggered pin delivers while asserted and unmasked
 * with Remote IRR clear, sets Remote IRR, and redelivers after the EOI if
 * still asserted.  Input levels are logical (asserted = true), so the
 * polarity bit is stored and reported but does not invert the line, as
 * every ISA source vireo models is active-high.  Delivery status always
 * reads 0: a message is handed to KVM at once.
 *
 * Lock model: the core has no lock of its own.  The glue runs every core
 * call under the device lock; a device raising its line holds its own lock
 * first (lock order: source device, then IOAPIC).  The core never calls back
 * into a source device.
 */
#ifndef HW_INTC_IOAPIC_H
#define HW_INTC_IOAPIC_H

#include "util/common.h"

struct vmstate_desc;
struct vlog;

#define IOAPIC_NUM_PINS 24
#define IOAPIC_VERSION 0x20
#define IOAPIC_MMIO_SIZE 0x1000
/* Where x86 boards put it (the MADT and MP tables say so too). */
#define IOAPIC_DEFAULT_ADDR 0xfec00000ULL

/* MMIO offsets */
#define IOAPIC_IOREGSEL 0x00
#define IOAPIC_IOWIN 0x10
#define IOAPIC_EOI 0x40

/* Indirect registers */
#define IOAPIC_REG_ID 0x00
#define IOAPIC_REG_VER 0x01
#define IOAPIC_REG_ARB 0x02
#define IOAPIC_REG_REDTBL 0x10 /* 0x10 + 2 * pin: low dword, +1: high */

/* Redirection entry bits */
#define IOAPIC_RTE_VECTOR 0xffULL
#define IOAPIC_RTE_DELMODE_SHIFT 8
#define IOAPIC_RTE_DESTMODE (1ULL << 11)
#define IOAPIC_RTE_DELIVS (1ULL << 12)
#define IOAPIC_RTE_POLARITY (1ULL << 13)
#define IOAPIC_RTE_REMOTE_IRR (1ULL << 14)
#define IOAPIC_RTE_LEVEL (1ULL << 15)
#define IOAPIC_RTE_MASKED (1ULL << 16)
#define IOAPIC_RTE_DEST_SHIFT 56
/* Writable by the guest: vector, delivery mode, destination mode,
 * polarity, trigger mode, mask, and the destination byte (bits 48..55 are
 * kept too: Linux's extended destination ID lives there). */
#define IOAPIC_RTE_RW_MASK 0xffff00000001afffULL

enum ioapic_delmode {
    IOAPIC_DM_FIXED = 0,
    IOAPIC_DM_LOWEST = 1,
    IOAPIC_DM_SMI = 2,
    IOAPIC_DM_NMI = 4,
    IOAPIC_DM_INIT = 5,
    IOAPIC_DM_EXTINT = 7,
};

struct ioapic_msg {
    uint64_t addr;
    uint32_t data;
};

struct ioapic_ops {
    /* Delivers one message; false if the accelerator failed to. */
    bool (*send_msi)(void *opaque, uint64_t addr, uint32_t data);
    /* The level-triggered pins and their messages changed: n entries,
     * pins[i] routed as msgs[i]. */
    void (*set_routes)(void *opaque, const unsigned *pins,
                       const struct ioapic_msg *msgs, unsigned n);
};

struct ioapic_state {
    /* Guest-visible state (vmstate) */
    uint8_t id; /* ID register bits 27:24 */
    uint8_t ioregsel;
    uint32_t line;    /* input levels, bit per pin */
    uint32_t pending; /* edges latched and not yet delivered */
    uint64_t redtbl[IOAPIC_NUM_PINS];

    /* Wiring (not migrated) */
    const struct ioapic_ops *ops;
    void *opaque;
    struct vlog *log; /* guest errors; may be NULL */
    uint8_t reset_id;
    /* What set_routes last reported, to skip redundant updates (each one
     * costs KVM an SRCU grace period).  A new VM's table is empty. */
    uint32_t routed;
    struct ioapic_msg route_msg[IOAPIC_NUM_PINS];
    /* Counters for tests and `info irq`-like reports. */
    uint64_t delivered;
    uint64_t dropped;
};

extern const struct vmstate_desc ioapic_core_vmsd;

void ioapic_core_init(struct ioapic_state *s, const struct ioapic_ops *ops,
                      void *opaque, struct vlog *log, uint8_t id);
/* Power-on state: every pin masked, edge, vector 0; input levels kept. */
void ioapic_core_reset(struct ioapic_state *s);
/* Guest-controlled offset (0..IOAPIC_MMIO_SIZE) and size (1..4). */
uint32_t ioapic_core_read(struct ioapic_state *s, uint64_t off, unsigned size);
void ioapic_core_write(struct ioapic_state *s, uint64_t off, uint32_t val,
                       unsigned size);
/* A source device drives pin to level (pin >= IOAPIC_NUM_PINS ignored). */
void ioapic_core_set_irq(struct ioapic_state *s, unsigned pin, bool level);
/* An EOI for vector (from a LAPIC, or the EOI register). */
void ioapic_core_eoi(struct ioapic_state *s, unsigned vector);
/* The message a redirection entry sends (MSI address/data format). */
struct ioapic_msg ioapic_rte_msg(uint64_t rte);
/* After loading state: re-reports routes and delivers what is due. */
void ioapic_core_post_load(struct ioapic_state *s);

#endif
