/* SPDX-License-Identifier: MIT */
/*
 * fuzz-virtio-serial.c: libFuzzer target for the virtio-serial control
 * protocol and data queues (hw/char/virtio-serial.c, virtio 1.2 section
 * 5.3) over the virtio core: a hostile driver (the byte program below)
 * builds descriptors on the six queues of a two-port device (port 0's,
 * the control pair, port 1's), publishes heads, kicks, sends control
 * messages well formed or not, writes the config space, restarts with
 * other features and resets, and migrates the device onto itself with
 * one byte of the model's state changed (a load the model accepts must
 * leave a device the next steps can drive; one it refuses must change
 * nothing).  The ports sit on null chardevs.  Checked
 * after each step: a broken device says DEVICE_NEEDS_RESET, no queue has
 * more chains in flight than it holds, the queue of control messages for
 * the driver stays within its bound (ASan watches the copies).
 */
#include "util/common.h"
#include "hw/char/chardev.h"
#include "hw/char/virtio-serial.h"
#include "fuzz-vring.h"
#include "migration/vmstate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_PORTS 2
#define FZ_NQ (2 * FZ_PORTS + 2)
#define FZ_NUM 8
#define FZ_CTRL_MSG 0x8000 /* where op 7 puts its control messages */

static void fz_notify(void *opaque, unsigned q)
{
}

static void fz_config(void *opaque)
{
}

static const struct virtio_transport_ops fz_ops = {fz_notify, fz_config};

static struct chardev *fz_chardev(unsigned i)
{
    static struct chardev *c[2];

    if (!c[i]) {
        c[i] = chardev_new(NULL, i ? "null,id=fz1" : "null,id=fz0", NULL);
        if (!c[i]) {
            abort();
        }
    }
    return c[i];
}

struct fz {
    struct fvr f;
    struct virtio_serial s;
    struct vr r[FZ_NQ];
};

static void fz_start(struct fz *z, uint8_t b)
{
    uint64_t feat = 1ULL << VIRTIO_F_VERSION_1;

    feat |= (b & 1) ? 1ULL << VIRTIO_CONSOLE_F_MULTIPORT : 0;
    feat |= (b & 2) ? 1ULL << VIRTIO_F_EVENT_IDX : 0;
    feat |= (b & 4) ? 1ULL << VIRTIO_F_INDIRECT_DESC : 0;
    feat |= (b & 8) ? 1ULL << VIRTIO_CONSOLE_F_EMERG_WRITE : 0;
    feat |= (b & 0x80) ? 1ULL << VIRTIO_CONSOLE_F_SIZE : 0; /* not offered */
    for (unsigned q = 0; q < FZ_NQ; q++) {
        vr_init(&z->r[q], z->f.gm, 0x400ULL * q, FZ_NUM);
    }
    vr_driver_start(&z->s.vdev, feat, z->r, FZ_NQ);
}

static void fz_check(struct fz *z)
{
    struct virtio_dev *vdev = &z->s.vdev;

    if (vdev->broken && !(vdev->status & VIRTIO_STATUS_DEVICE_NEEDS_RESET)) {
        abort();
    }
    for (unsigned q = 0; q < FZ_NQ; q++) {
        if (vdev->vqs[q].ready && vdev->vqs[q].inflight > vdev->vqs[q].num) {
            abort();
        }
    }
    if (g_queue_get_length(&z->s.ctrl_out) > 4 * FZ_PORTS + 16) {
        abort();
    }
}

/* Saves the device as a pair's save does (drain, core, model), changes
 * one byte of the model's body and loads it all back. */
static void fz_migrate(struct fz *z, const uint8_t *data, size_t size,
                       size_t *i)
{
    GByteArray *core = g_byte_array_new(), *model = g_byte_array_new();
    GByteArray *again = g_byte_array_new();
    uint16_t at = fvr_u16(data, size, i);
    uint8_t flip = fvr_byte(data, size, i);
    size_t pos = 0;
    bool ok;

    virtio_serial_model.drain(&z->s);
    /* nothing is held after a drain: both saves must succeed */
    if (!vmstate_save(&virtio_core_vmsd, &z->s.vdev, core, NULL) ||
        !vmstate_save(virtio_serial_model.vmsd, &z->s, model, NULL)) {
        abort();
    }
    model->data[at % model->len] ^= flip;
    ok = vmstate_load(&virtio_core_vmsd, &z->s.vdev, core->data, core->len,
                      &pos, NULL);
    pos = 0;
    if (ok && vmstate_load(virtio_serial_model.vmsd, &z->s, model->data,
                           model->len, &pos, NULL)) {
        virtio_load_finish(&z->s.vdev);
        virtio_serial_model.loaded(&z->s);
    } else if (ok) {
        /* refused: the model's state is what it was (pre_save skipped,
         * as a rollback snapshot does) */
        struct vmstate_desc d = *virtio_serial_model.vmsd;

        model->data[at % model->len] ^= flip;
        d.pre_save = NULL;
        if (!vmstate_save(&d, &z->s, again, NULL) || again->len != model->len ||
            memcmp(again->data, model->data, model->len)) {
            abort();
        }
    }
    g_byte_array_unref(core);
    g_byte_array_unref(model);
    g_byte_array_unref(again);
}

static void fz_step(struct fz *z, const uint8_t *data, size_t size, size_t *i)
{
    uint8_t op = fvr_byte(data, size, i);
    unsigned q = (op >> 3) % FZ_NQ;
    struct vr *r = &z->r[q];

    switch (op & 7) {
    case 0: { /* write guest RAM */
        uint16_t off = fvr_u16(data, size, i);
        size_t n = fvr_byte(data, size, i); /* not in MIN: read once */

        n = MIN(n, size - *i);

        if (n) {
            gm_write(z->f.gm, off, data + *i, MIN(n, FVR_RAM - off));
        }
        *i += n;
        break;
    }
    case 1: { /* a descriptor on queue q */
        uint8_t idx = fvr_byte(data, size, i);
        uint16_t lo = fvr_u16(data, size, i);
        uint16_t len = fvr_u16(data, size, i);
        uint8_t flags = fvr_byte(data, size, i);
        uint8_t next = fvr_byte(data, size, i);

        vr_desc(r, idx % FZ_NUM, fvr_addr(flags >> 4, lo), len, flags & 7,
                next % 12);
        break;
    }
    case 2: /* publish a head (sometimes out of range) */
        vr_add(r, fvr_byte(data, size, i) % 12);
        vr_publish(r);
        break;
    case 3: /* kick */
        virtio_queue_notify(&z->s.vdev, q);
        break;
    case 4: /* restart with other features */
        fz_start(z, fvr_byte(data, size, i));
        break;
    case 5: { /* config space (emerg_wr at 8) */
        uint8_t off = fvr_byte(data, size, i) % 16;
        uint32_t v = fvr_u16(data, size, i);
        unsigned sz = 1u << ((op >> 6) & 3);

        virtio_config_write(&z->s.vdev, off, v, sz);
        (void)virtio_config_read(&z->s.vdev, off, sz);
        break;
    }
    case 6: /* reset, a migration, or any avail index */
        if (op & 0x80) {
            virtio_set_status(&z->s.vdev, 0);
        } else if (op & 0x40) {
            fz_migrate(z, data, size, i);
        } else {
            vr_set_avail_idx(r, fvr_u16(data, size, i));
        }
        break;
    default: { /* a control message of `len` bytes, sent and kicked */
        uint8_t msg[8] = {0};
        uint8_t len = fvr_byte(data, size, i) % 12;
        uint8_t slot = (uint8_t)(z->r[3].avail_idx % FZ_NUM);

        msg[0] = fvr_byte(data, size, i) % 4; /* port id, a few too big */
        msg[3] = (op & 0x80) ? 0xff : 0;
        msg[4] = fvr_byte(data, size, i) % 9; /* event, one unknown */
        msg[6] = fvr_byte(data, size, i) & 1; /* value */
        gm_write(z->f.gm, FZ_CTRL_MSG + 16ULL * slot, msg, sizeof(msg));
        vr_desc(&z->r[3], slot, FZ_CTRL_MSG + 16ULL * slot, len, 0, 0);
        vr_add(&z->r[3], slot);
        vr_publish(&z->r[3]);
        virtio_queue_notify(&z->s.vdev, 3);
        break;
    }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz z;
    struct virtio_serial_port p[FZ_PORTS] = {
        {.nr = 0, .console = true, .chr = fz_chardev(0), .what = "fuzz"},
        {.nr = 1,
         .name = "org.qemu.guest_agent.0",
         .chr = fz_chardev(1),
         .what = "fuzz"},
    };
    size_t i = 0;

    memset(&z, 0, sizeof(z));
    fvr_setup(&z.f);
    virtio_serial_set_defaults(&z.s);
    z.s.max_ports = FZ_PORTS;
    if (!virtio_serial_setup(&z.s, z.f.gm, &z.f.log, NULL)) {
        abort();
    }
    virtio_set_transport(&z.s.vdev, &fz_ops, NULL);
    for (unsigned k = 0; k < FZ_PORTS; k++) {
        if (!virtio_serial_port_plug(&z.s, &p[k], NULL)) {
            abort();
        }
    }
    fz_start(&z, fvr_byte(data, size, &i));
    while (i < size) {
        fz_step(&z, data, size, &i);
        fz_check(&z);
    }
    virtio_serial_teardown(&z.s); /* unplugs the ports too */
    vlog_close(&z.f.log);
    gm_free(z.f.gm);
    return 0;
}
