/* SPDX-License-Identifier: MIT */
/*
 * virtio-irq.c: interrupts for the virtio guest's one interrupt check per
 * device.  The driver polls; interrupts are only enabled around the check,
 * after a device's test: a PCI device's queue 0 signals MSI-X table entry
 * 0 (virtio 1.2, 4.1.5.1.2; PCI 3.0 6.8.2), a virtio-mmio device raises
 * its level-triggered line through an IOAPIC pin (4.2.3.4), acknowledged
 * through InterruptACK before the EOI.  The 8259s and LINT0 are masked:
 * nothing else may interrupt.
 */
#include "virtio-guest.h"

#define LAPIC 0xfee00000u
#define LAPIC_TPR 0x80
#define LAPIC_EOI 0xb0
#define LAPIC_SVR 0xf0
#define LAPIC_LVT_LINT0 0x350
#define LAPIC_LVT_LINT1 0x360
#define IOAPIC1 0xfec00000u
#define IOAPIC2 0xfec10000u /* QEMU microvm's second IOAPIC, GSI 24.. */
#define SPURIOUS 0xff
#define MMIO_IRQ_STATUS 0x060
#define MMIO_IRQ_ACK 0x064

extern char isr_stubs[];
void vt_isr(uint64_t vector);

struct idt_gate {
    uint16_t off0, sel;
    uint8_t ist, attr;
    uint16_t off1;
    uint32_t off2, zero;
};

void vt_irq_init(void)
{
    struct idt_gate *idt = (struct idt_gate *)VT_IDT;
    struct __attribute__((packed)) {
        uint16_t limit;
        uint64_t base;
    } desc = {256 * sizeof(*idt) - 1, VT_IDT};

    for (unsigned v = 0; v < 256; v++) {
        uint64_t a = (uintptr_t)isr_stubs + 16 * v;

        idt[v] = (struct idt_gate){
            (uint16_t)a,         0x18, 0, 0x8e, (uint16_t)(a >> 16),
            (uint32_t)(a >> 32), 0};
    }
    __asm__ volatile("lidt %0" : : "m"(desc));
    outb(0x21, 0xff); /* both 8259s masked */
    outb(0xa1, 0xff);
    wr32(LAPIC + LAPIC_LVT_LINT0, 0x10000);
    wr32(LAPIC + LAPIC_LVT_LINT1, 0x10000);
    wr32(LAPIC + LAPIC_TPR, 0);
    wr32(LAPIC + LAPIC_SVR, 0x100 | SPURIOUS);
}

void vt_isr(uint64_t vector)
{
    struct vt_state *s = vt();

    if (vector < 32) {
        vt_puts("FAIL exception: vector ");
        vt_putdec(vector);
        vt_puts("\n");
        outb(0xf4, 1);
        for (;;) {
            __asm__ volatile("cli; hlt");
        }
    }
    s->irqs[vector & 0xff]++;
    if (vector == SPURIOUS) {
        return;
    }
    if (vector >= VT_VEC_GSI && s->irq_mmio) {
        /* the line stays up until the device's status is acknowledged */
        wr32(s->irq_mmio + MMIO_IRQ_ACK, rd32(s->irq_mmio + MMIO_IRQ_STATUS));
    }
    wr32(LAPIC + LAPIC_EOI, 0);
}

static void ioapic_write(uintptr_t base, unsigned reg, uint32_t v)
{
    wr32(base, reg);
    wr32(base + 0x10, v);
}

static uint32_t ioapic_read(uintptr_t base, unsigned reg)
{
    wr32(base, reg);
    return rd32(base + 0x10);
}

/* Routes GSIs 16..23 (IOAPIC 1) and 24.. (a second IOAPIC, if any) to
 * vectors VT_VEC_GSI + gsi, level-triggered, to APIC 0: wherever the
 * machine wires its virtio-mmio slots (QEMU's microvm: 24.., vireo's:
 * 16..), the line lands on a known vector.  ISA pins stay masked. */
void vt_irq_route_gsis(void)
{
    uint32_t ver2 = ioapic_read(IOAPIC2, 1);
    unsigned n2 = ver2 == 0xffffffffu ? 0 : ((ver2 >> 16) & 0xff) + 1;

    for (unsigned gsi = 16; gsi < 24 + n2 && gsi < 24 + 24; gsi++) {
        uintptr_t base = gsi < 24 ? IOAPIC1 : IOAPIC2;
        unsigned pin = gsi < 24 ? gsi : gsi - 24;

        ioapic_write(base, 0x11 + 2 * pin, 0);
        ioapic_write(base, 0x10 + 2 * pin, (VT_VEC_GSI + gsi) | (1u << 15));
    }
}

/* PCI: MSI-X on, entry 0 -> vector, unmasked.  Done before the queues
 * are set up so that vd_queue_enable can point queue 0 at entry 0. */
void vt_msix_enable(struct vdev *d, uint8_t vector)
{
    uint16_t ctl = rd16(d->msix_cap + 2);

    wr32(d->msix_table + 0, LAPIC);
    wr32(d->msix_table + 4, 0);
    wr32(d->msix_table + 8, vector);
    wr32(d->msix_table + 12, 0);
    /* enable, function mask clear */
    wr16(d->msix_cap + 2, (uint16_t)((ctl | 0x8000) & ~0x4000));
    d->msix_vector = vector;
}

/*
 * After a device's test: its completions have left an interrupt pending
 * (MSI-X: the LAPIC's IRR; MMIO: the level line, status not yet
 * acknowledged).  Open the window and see it delivered.
 */
void vt_irq_check(struct vdev *d, const char *name)
{
    struct vt_state *s = vt();
    unsigned lo = d->transport == VT_PCI ? d->msix_vector : VT_VEC_GSI;
    unsigned hi = d->transport == VT_PCI ? d->msix_vector : 255;
    uint64_t start;
    unsigned got = 0;
    char what[24];

    if (d->transport == VT_PCI && !d->msix_vector) {
        vt_puts(name);
        vt_puts(": no MSI-X capability, interrupts not checked\n");
        return;
    }
    memset(s->irqs, 0, sizeof(s->irqs));
    s->irq_mmio = d->transport == VT_MMIO ? d->mmio : 0;
    start = vt_rdtsc();
    __asm__ volatile("sti");
    while (vt_rdtsc() - start < VT_TSC_SHORT / 4) {
        __asm__ volatile("pause");
        for (unsigned v = lo; v <= hi && !got; v++) {
            got = s->irqs[v] ? v : 0;
        }
        if (got) {
            break;
        }
    }
    __asm__ volatile("cli");
    s->irq_mmio = 0;
    memcpy(what, name, 16);
    what[15] = 0;
    for (unsigned i = 0; i < 16; i++) {
        if (!what[i]) {
            memcpy(what + i, "-irq", 5);
            break;
        }
    }
    if (!got) {
        vt_fail(what, d->where, "no interrupt delivered");
        return;
    }
    vt_puts(name);
    if (d->transport == VT_PCI) {
        vt_puts(": MSI-X vector 0x");
        vt_puthex(got, 2);
    } else {
        vt_puts(": interrupt on GSI ");
        vt_putdec(got - VT_VEC_GSI);
    }
    vt_puts("\n");
    vt_pass(what, d->where);
}
