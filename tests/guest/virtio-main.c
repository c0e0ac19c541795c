/* SPDX-License-Identifier: MIT */
/*
 * virtio-main.c: the virtio test guest's main: find the devices on
 * either transport, list them, check each, summarise, then exit through
 * isa-debug-exit (value 0 when everything passed, 1 otherwise: status 1
 * or 3), falling back to ACPI S5 at vireo's sleep-control port.
 */
#include "virtio-guest.h"

void vt_main(void);

void vt_main(void)
{
    struct vt_state *s = vt();

    memset(s, 0, sizeof(*s));
    s->arena = VT_ARENA;
    vt_puts("virtio: 64-bit guest running\n");
    vt_irq_init();
    if (!vt_pci_scan()) {
        vt_mmio_scan();
        vt_irq_route_gsis();
    }
    vt_puts("virtio: devices:");
    for (unsigned i = 0; i < s->ndevs; i++) {
        vt_puts(" ");
        vt_puts(vt_dev_name(s->devs[i].id));
    }
    vt_puts(s->ndevs ? "\n" : " none\n");
    for (unsigned i = 0; i < s->ndevs; i++) {
        struct vdev *d = &s->devs[i];

        vt_puts("virtio: ");
        vt_puts(d->where);
        vt_puts(" id ");
        vt_putdec(d->id);
        vt_puts(" (");
        vt_puts(vt_dev_name(d->id));
        vt_puts(")\n");
        vt_test_device(d);
    }
    vt_puts("virtio: done, ");
    vt_putdec(s->passed);
    vt_puts(" passed, ");
    vt_putdec(s->failed);
    vt_puts(" failed\n");
    outb(0xf4, s->failed ? 1 : 0);
    outb(0x600, (5 << 2) | 0x20); /* ACPI S5 (vireo's microvm) */
    vt_puts("virtio: exit failed, halting\n");
}
