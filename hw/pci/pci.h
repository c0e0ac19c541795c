/* SPDX-License-Identifier: MIT */
/*
 * pci.h: the PCI core.  A PCI function is a struct device with a 4 KiB
 * configuration space (PCI Local Bus 3.0 ch. 6, PCI Express Base 4.0 ch. 7):
 * type 0 (endpoint) or type 1 (bridge) header, per-byte write and
 * write-1-to-clear masks, BARs the guest sizes and places (the core maps
 * and unmaps the device's regions in the machine's address spaces as the
 * guest programs the BAR or toggles COMMAND.MEM/IO, and only while every
 * bridge above forwards the range), capability lists (PCIe, MSI, MSI-X
 * with table and PBA in a BAR of their own), INTx through the host's
 * swizzle onto IOAPIC GSIs, and MSI/MSI-X through the board's
 * struct msi_sender (hw/core/irq.h).
 *
 * A device: embed `struct pci_device` FIRST in the device struct, put
 * PCI_DEVICE_PROPS(struct x, pci) in the class's props, and in realize:
 *   pci_device_realize(&d->pci, m, &(struct pci_id){...}, errp);
 *   pci_register_bar(&d->pci, 0, PCI_BAR_MEM64, size, &my_ops, errp);
 *   pci_msix_init(&d->pci, nvec, 1, errp);      (BAR 1: table + PBA)
 *   pci_add_capability(&d->pci, PCI_CAP_ID_VNDR, len, errp);
 * unrealize calls pci_device_unrealize(), reset calls pci_device_reset().
 *
 * Lock model: config accesses (from the host bridge) and BAR accesses
 * (from system/memory.c) run under the function's dev.lock; the host
 * bridge takes its own lock first (order: host, then function).  The
 * pci_msi*_notify / pci_set_irq calls must be made with dev.lock held.
 * INTx levels are summed per GSI under the host's intx lock (a leaf before
 * the interrupt controller's).
 */
#ifndef HW_PCI_PCI_H
#define HW_PCI_PCI_H

#include "util/common.h"
#include "util/error.h"
#include "hw/core/device.h"
#include "hw/core/irq.h"

/* ---- configuration space registers (PCI 3.0 6.1, PCIe 4.0 7.5) ---- */
#define PCI_CONFIG_SIZE 4096
#define PCI_CONFIG_LEGACY_SIZE 256
#define PCI_VENDOR_ID 0x00
#define PCI_DEVICE_ID 0x02
#define PCI_COMMAND 0x04
#define PCI_COMMAND_IO 0x1
#define PCI_COMMAND_MEMORY 0x2
#define PCI_COMMAND_MASTER 0x4
#define PCI_COMMAND_SERR 0x100
#define PCI_COMMAND_INTX_DISABLE 0x400
#define PCI_STATUS 0x06
#define PCI_STATUS_INTERRUPT 0x08
#define PCI_STATUS_CAP_LIST 0x10
#define PCI_STATUS_W1C 0xf900 /* parity, aborts, SERR, parity error */
#define PCI_REVISION_ID 0x08
#define PCI_CLASS_PROG 0x09
#define PCI_CLASS_DEVICE 0x0a
#define PCI_CACHE_LINE_SIZE 0x0c
#define PCI_LATENCY_TIMER 0x0d
#define PCI_HEADER_TYPE 0x0e
#define PCI_HEADER_TYPE_BRIDGE 0x01
#define PCI_HEADER_TYPE_MULTI 0x80
#define PCI_BASE_ADDRESS_0 0x10
#define PCI_SUBSYSTEM_VENDOR_ID 0x2c
#define PCI_SUBSYSTEM_ID 0x2e
#define PCI_ROM_ADDRESS 0x30
#define PCI_CAPABILITY_LIST 0x34
#define PCI_INTERRUPT_LINE 0x3c
#define PCI_INTERRUPT_PIN 0x3d

/* type 1 (bridge) header */
#define PCI_PRIMARY_BUS 0x18
#define PCI_SECONDARY_BUS 0x19
#define PCI_SUBORDINATE_BUS 0x1a
#define PCI_IO_BASE 0x1c
#define PCI_IO_LIMIT 0x1d
#define PCI_SEC_STATUS 0x1e
#define PCI_MEMORY_BASE 0x20
#define PCI_MEMORY_LIMIT 0x22
#define PCI_PREF_MEMORY_BASE 0x24
#define PCI_PREF_MEMORY_LIMIT 0x26
#define PCI_PREF_BASE_UPPER32 0x28
#define PCI_PREF_LIMIT_UPPER32 0x2c
#define PCI_IO_BASE_UPPER16 0x30
#define PCI_IO_LIMIT_UPPER16 0x32
#define PCI_ROM_ADDRESS1 0x38
#define PCI_BRIDGE_CONTROL 0x3e

#define PCI_BASE_ADDRESS_SPACE_IO 0x01
#define PCI_BASE_ADDRESS_MEM_TYPE_64 0x04
#define PCI_BASE_ADDRESS_MEM_PREFETCH 0x08

/* capabilities */
#define PCI_CAP_ID_PM 0x01
#define PCI_CAP_ID_MSI 0x05
#define PCI_CAP_ID_VNDR 0x09
#define PCI_CAP_ID_EXP 0x10
#define PCI_CAP_ID_MSIX 0x11

#define PCI_MSI_FLAGS 2 /* from the capability's start */
#define PCI_MSI_FLAGS_ENABLE 0x0001
#define PCI_MSI_FLAGS_64BIT 0x0080
#define PCI_MSI_FLAGS_MASKBIT 0x0100
#define PCI_MSI_ADDRESS_LO 4
#define PCI_MSI_ADDRESS_HI 8
#define PCI_MSI_DATA_64 12
#define PCI_MSI_MASK_64 16
#define PCI_MSI_PENDING_64 20
#define PCI_MSI_CAP_SIZE 24

#define PCI_MSIX_FLAGS 2
#define PCI_MSIX_FLAGS_QSIZE 0x07ff
#define PCI_MSIX_FLAGS_MASKALL 0x4000
#define PCI_MSIX_FLAGS_ENABLE 0x8000
#define PCI_MSIX_TABLE 4
#define PCI_MSIX_PBA 8
#define PCI_MSIX_CAP_SIZE 12
#define PCI_MSIX_ENTRY_SIZE 16
#define PCI_MSIX_ENTRY_CTRL_MASKBIT 0x1
#define PCI_MSIX_MAX_VECTORS 2048

#define PCI_EXP_FLAGS 2
#define PCI_EXP_TYPE_ENDPOINT 0x0
#define PCI_EXP_TYPE_ROOT_PORT 0x4
#define PCI_EXP_TYPE_RC_END 0x9
#define PCI_EXP_FLAGS_SLOT 0x0100
#define PCI_EXP_DEVCAP 4
#define PCI_EXP_DEVCTL 8
#define PCI_EXP_DEVSTA 10
#define PCI_EXP_LNKCAP 12
#define PCI_EXP_LNKCTL 16
#define PCI_EXP_LNKSTA 18
#define PCI_EXP_SLTCAP 20
#define PCI_EXP_SLTCTL 24
#define PCI_EXP_SLTSTA 26
#define PCI_EXP_SLTSTA_PDS 0x0040
#define PCI_EXP_RTCTL 28
#define PCI_EXP_RTSTA 32
#define PCI_EXP_DEVCAP2 36
#define PCI_EXP_DEVCTL2 40
#define PCI_EXP_LNKCAP2 44
#define PCI_EXP_LNKCTL2 48
#define PCI_EXP_CAP_SIZE 60

#define PCI_NUM_BARS 6
#define PCI_ROM_SLOT 6

#define PCI_DEVFN(slot, fn) ((uint8_t)(((slot)&0x1f) << 3 | ((fn)&7)))
#define PCI_SLOT(devfn) (((devfn) >> 3) & 0x1f)
#define PCI_FUNC(devfn) ((devfn)&7)

struct pci_bus;
struct pci_host;
struct pci_device;

enum pci_bar_type {
    PCI_BAR_NONE = 0,
    PCI_BAR_IO,         /* 32-bit I/O space */
    PCI_BAR_MEM32,      /* 32-bit memory */
    PCI_BAR_MEM64,      /* 64-bit memory (takes the next BAR slot too) */
    PCI_BAR_MEM64_PREF, /* 64-bit prefetchable */
    PCI_BAR_MEM32_PREF,
    PCI_BAR_UPPER_HALF, /* the high dword of the 64-bit BAR before it */
};

struct pci_bar {
    enum pci_bar_type type;
    uint64_t size;            /* power of two; 0: not implemented */
    const struct io_ops *ops; /* handler (opaque: the struct device) */
    uint64_t mapped;          /* where it is mapped now */
    bool is_mapped;
};

/* What the function is (read-only header fields). */
struct pci_id {
    uint16_t vendor, device;
    uint16_t subsystem_vendor, subsystem;
    uint8_t revision;
    uint32_t class_code; /* base class << 16 | subclass << 8 | prog-if */
    uint8_t irq_pin;     /* 0: no INTx; 1..4: INTA..INTD */
    bool is_bridge;      /* type 1 header */
};

/* Optional per-device hooks, called under dev.lock after the core did
 * its part. */
struct pci_device_ops {
    /* A config write: [off, off+len) was written (masks applied). */
    void (*config_write)(struct pci_device *pd, unsigned off, unsigned len);
    /* A config read of [off, off+len) is about to be answered from
     * config[]: refresh those bytes first (virtio-pci's PCI_CFG window
     * reads through to a BAR). */
    void (*config_read)(struct pci_device *pd, unsigned off, unsigned len);
    /* MSI-X: vector's message or mask changed (route it again). */
    void (*msix_vector_changed)(struct pci_device *pd, unsigned vector);
    /* BAR `bar` was mapped at addr (mapped) or unmapped from it: where a
     * device registers ioeventfds (virtio-pci's notify area) and moves
     * them when the guest moves the BAR. */
    void (*bar_mapped)(struct pci_device *pd, unsigned bar, uint64_t addr,
                       bool mapped);
};

struct pci_msix_vector {
    int route;       /* msi_route_add id, or -1 */
    int irqfd;       /* eventfd bound through the route, or -1 */
    bool irqfd_live; /* the irqfd is bound (vector unmasked) */
};

struct pci_device {
    struct device dev; /* first */
    /* properties: bus=ID, addr=SLOT[.FN], multifunction=on|off */
    char *bus_prop;
    char *addr_prop;
    bool multifunction;

    const struct pci_device_ops *ops;
    struct pci_bus *bus;
    struct pci_bus *secondary; /* a bridge's bus; NULL for endpoints */
    uint8_t devfn;
    bool realized_on_bus;

    uint8_t config[PCI_CONFIG_SIZE];
    uint8_t wmask[PCI_CONFIG_SIZE];   /* bits the guest may write */
    uint8_t w1cmask[PCI_CONFIG_SIZE]; /* bits a 1 written clears */
    uint8_t cap_next;                 /* first free byte for capabilities */

    struct pci_bar bars[PCI_NUM_BARS];

    /* INTx */
    bool intx_level;     /* what the device asserts */
    int intx_gsi;        /* where it lands after the swizzle, or -1 */
    bool intx_delivered; /* the level counted at the host */

    /* MSI */
    uint8_t msi_cap;
    uint8_t msi_nvec;
    /* MSI-X */
    uint8_t msix_cap;
    uint8_t msix_bar;
    uint16_t msix_nvec;
    uint32_t msix_pba_off;
    uint8_t *msix_table;                   /* nvec * 16 bytes */
    uint8_t *msix_pba;                     /* pending bits */
    unsigned msix_table_len, msix_pba_len; /* their bytes (migration) */
    struct pci_msix_vector *msix_vec;
};

/* bus=, addr=, multifunction= for a class's props. */
#define PCI_DEVICE_PROPS(st, f)                                                \
    {"bus", PROP_STR, offsetof(st, f.bus_prop), NULL,                          \
     "bus to plug into: pcie.0 (default) or a root port's id"},                \
        {"addr", PROP_STR, offsetof(st, f.addr_prop), NULL,                    \
         "slot and function: SLOT[.FN], hexadecimal (default: first free)"},   \
    {                                                                          \
        "multifunction", PROP_BOOL, offsetof(st, f.multifunction), "off",      \
            "function 0 of a multi-function device"                            \
    }

/* ---- life cycle ---- */
/* Finds the bus (bus= or the root bus), the slot (addr= or the first free
 * one), fills the header from id and plugs pd in.  Errors name the bus
 * and slot (occupied, invalid, behind a port that takes slot 0 only). */
bool pci_device_realize(struct pci_device *pd, struct machine *m,
                        const struct pci_id *id, Error **errp);
void pci_device_unrealize(struct pci_device *pd);
/* Device reset: COMMAND, BARs, MSI/MSI-X and INTx back to power-on. */
void pci_device_reset(struct pci_device *pd);
/* Parses QEMU's addr=: "SLOT[.FN]" hex (0x prefix optional). */
bool pci_parse_devfn(const char *s, uint8_t *devfn, Error **errp);

/* vmstate of a PCI function's config space (offsets valid for any device
 * struct that embeds struct pci_device first). */
extern const struct vmstate_desc pci_device_vmsd;

/* ---- BARs ---- */
/* size: a power of two >= 16 (memory) or >= 4 (I/O), <= 2 GiB for 32-bit.
 * A 64-bit BAR uses idx and idx+1.  ops' opaque is the struct device. */
bool pci_register_bar(struct pci_device *pd, unsigned idx,
                      enum pci_bar_type type, uint64_t size,
                      const struct io_ops *ops, Error **errp);
/* The guest-programmed address of BAR idx (whether mapped or not). */
uint64_t pci_bar_address(const struct pci_device *pd, unsigned idx);

/* ---- capabilities ---- */
/* Appends a capability of len bytes (header included) to the list; the
 * offset, or 0 with errp set when config space is full. */
uint8_t pci_add_capability(struct pci_device *pd, uint8_t id, uint8_t len,
                           Error **errp);
/* Offset of the first capability `id`, or 0. */
uint8_t pci_find_capability(const struct pci_device *pd, uint8_t id);
/* PCIe capability (version 2) of the given port type; slot_nr >= 0 adds
 * slot registers (a root port's). */
uint8_t pci_express_init(struct pci_device *pd, uint8_t type, int slot_nr,
                         Error **errp);

/* ---- interrupts ---- */
/* INTx level (the pin of struct pci_id); honours COMMAND.INTX_DISABLE and
 * sets STATUS.INTERRUPT.  Caller holds dev.lock. */
void pci_set_irq(struct pci_device *pd, bool level);
/* MSI with nvec (1, 2, 4.. 32) vectors, 64-bit, per-vector masking. */
bool pci_msi_init(struct pci_device *pd, unsigned nvec, Error **errp);
bool pci_msi_enabled(const struct pci_device *pd);
/* MSI-X with nvec vectors; table at offset 0 and PBA at 2 KiB (or after
 * a bigger table), as QEMU's exclusive BAR, in BAR `bar` (a 32-bit memory
 * BAR the core owns, 4 KiB or the next power of two). */
bool pci_msix_init(struct pci_device *pd, unsigned nvec, unsigned bar,
                   Error **errp);
bool pci_msix_enabled(const struct pci_device *pd);
/* The vector's current message; false if out of range. */
bool pci_msix_message(const struct pci_device *pd, unsigned vector,
                      struct msi_msg *msg);
/* Signals a vector: sent now, or its pending bit set while masked.  MSI-X
 * when enabled, else MSI; false if neither is enabled (use INTx). */
bool pci_msi_notify(struct pci_device *pd, unsigned vector);
/* Fast path: writes to eventfd `fd` deliver MSI-X `vector` in the kernel
 * (a GSI route + irqfd), kept in step with the guest's table and masks;
 * while masked, pending is read from the eventfd.  fd -1 detaches.
 * Caller holds dev.lock (the device owns fd and closes it after
 * detaching). */
bool pci_msix_set_irqfd(struct pci_device *pd, unsigned vector, int fd,
                        Error **errp);

/* ---- config access (host bridges, tests) ---- */
/* off+len within 4 KiB, len 1, 2 or 4; anything else reads all ones /
 * is dropped (callers check and log). */
uint32_t pci_config_read(struct pci_device *pd, unsigned off, unsigned len);
void pci_config_write(struct pci_device *pd, unsigned off, uint32_t val,
                      unsigned len);

/* ---- buses ---- */
struct pci_bus {
    char *name;                   /* "pcie.0" or the bridge's id */
    struct pci_host *host;        /* of the hierarchy */
    struct pci_device *bridge;    /* NULL: the root bus */
    struct pci_device *devs[256]; /* by devfn */
    bool slot0_only;              /* below a PCIe port */
};

struct pci_bus *pci_bus_new(struct pci_host *host, struct pci_device *bridge,
                            const char *name);
void pci_bus_free(struct pci_bus *bus);
/* The function at (bus number, devfn) under the root bus, following the
 * bridges' secondary/subordinate numbers; NULL if none. */
struct pci_device *pci_find_device(struct pci_bus *root, unsigned bus_nr,
                                   unsigned devfn);
/* The bus a bridge forwards to (pci_device with secondary set). */
void pci_bridge_init(struct pci_device *pd, const char *bus_name);
enum pci_window { PCI_WINDOW_IO, PCI_WINDOW_MEM, PCI_WINDOW_PREF };
/* A bridge's window as programmed, [base, limit]; false when closed. */
bool pci_bridge_window(const struct pci_device *br, enum pci_window w,
                       uint64_t *base, uint64_t *limit);
/* Re-evaluates the mapping of every BAR of pd (and of everything below
 * it if it is a bridge). */
void pci_update_mappings(struct pci_device *pd);

#endif
