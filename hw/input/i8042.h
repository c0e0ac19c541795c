/* SPDX-License-Identifier: MIT */
/*
 * i8042.h: a minimal PS/2 keyboard controller (Intel 8042 as on the PC/AT;
 * QEMU's "i8042").  It exists so that guests can reset the machine (command
 * 0xfe on port 0x64) and so that Linux's i8042 and atkbd/psmouse probes get
 * answers instead of timeouts: controller self tests, the command byte,
 * AUX loopback, and a keyboard and mouse that acknowledge their commands.
 * No keys or mouse movement are ever generated.  The A20 gate bit is kept
 * but has no effect (KVM guests see all of memory).
 *
 * The register model is a core (struct i8042_state) with callbacks for the
 * two IRQ lines and the reset line; hw/input/i8042.c also holds the device
 * glue (ports 0x60 and 0x64, GSIs, machine reset).  Lock model: every core
 * call runs under the device lock (system/memory.c takes it).
 */
#ifndef HW_INPUT_I8042_H
#define HW_INPUT_I8042_H

#include "util/common.h"

struct vmstate_desc;
struct device_class;

/* The board device (not user-creatable: the machine creates it). */
extern const struct device_class i8042_class;

#define I8042_QUEUE_LEN 16

enum { I8042_DATA = 0, I8042_CMD = 1 }; /* port 0x60, port 0x64 */
enum { I8042_LINE_KBD = 0, I8042_LINE_AUX = 1 };

/* Status register (read from port 0x64) */
#define I8042_STS_OBF 0x01
#define I8042_STS_IBF 0x02
#define I8042_STS_SYS 0x04
#define I8042_STS_CMD 0x08 /* last write went to port 0x64 */
#define I8042_STS_UNLOCKED 0x10
#define I8042_STS_AUX_OBF 0x20

/* Controller command byte ("CTR" in Linux) */
#define I8042_CCB_KBD_INT 0x01
#define I8042_CCB_AUX_INT 0x02
#define I8042_CCB_SYS 0x04
#define I8042_CCB_KBD_DISABLE 0x10
#define I8042_CCB_AUX_DISABLE 0x20
#define I8042_CCB_XLATE 0x40

/* Output port (commands 0xd0/0xd1) */
#define I8042_OUT_RESET 0x01 /* 0: CPU held in reset */
#define I8042_OUT_A20 0x02

struct i8042_ops {
    /* line: I8042_LINE_KBD or I8042_LINE_AUX; called on changes only. */
    void (*set_irq)(void *opaque, unsigned line, bool level);
    /* The guest pulsed the CPU reset line. */
    void (*request_reset)(void *opaque);
};

struct i8042_state {
    /* Guest-visible state (i8042_core_vmsd) */
    uint8_t status;
    uint8_t ccb;
    uint8_t outport;
    uint8_t pending;   /* controller command waiting for its data byte */
    uint8_t last_data; /* what port 0x60 reads when nothing is queued */
    uint8_t q_data[I8042_QUEUE_LEN];
    uint8_t q_aux[I8042_QUEUE_LEN]; /* 1: byte comes from the AUX port */
    uint8_t q_head, q_count;
    uint8_t kbd_pending;  /* keyboard command waiting for its parameter */
    uint8_t kbd_scan_set; /* 1..3 */
    uint8_t kbd_leds;
    uint8_t kbd_enabled; /* scanning on (0/1) */
    uint8_t aux_pending; /* mouse command waiting for its parameter */
    uint8_t aux_rate, aux_resolution;
    uint8_t aux_enabled; /* data reporting on (0/1) */

    /* Host side */
    bool irq_level[2];
    const struct i8042_ops *ops;
    void *opaque;
    struct vlog *log; /* guest errors; may be NULL */
};

extern const struct vmstate_desc i8042_core_vmsd;

void i8042_core_init(struct i8042_state *s, const struct i8042_ops *ops,
                     void *opaque, struct vlog *log);
void i8042_core_reset(struct i8042_state *s);
/* Guest-controlled: port (I8042_DATA / I8042_CMD; others read 0xff), val. */
uint8_t i8042_core_read(struct i8042_state *s, unsigned port);
void i8042_core_write(struct i8042_state *s, unsigned port, uint8_t val);
/* Drives both IRQ callbacks with the current levels (after a load). */
void i8042_core_sync_irq(struct i8042_state *s);

#endif
