# SPDX-License-Identifier: MIT
"""test_irq.py: interrupts from a device to a vCPU.  The irq guest routes
COM1's IRQ 4 through the IOAPIC to the LAPIC, edge- then level-triggered
(see tests/guest/irq.S).  Under vireo's default split irqchip the IOAPIC
is vireo's own (hw/intc/ioapic.c) and a level interrupt is redelivered
only through KVM_EXIT_IOAPIC_EOI; with kernel-irqchip=on it is KVM's.
Either way QEMU 7.2 with the same kernel-irqchip= must print the same
lines (with KVM's own IOAPIC both print one interrupt more in the level
step: KVM's behaviour, not ours)."""
import pytest

from conftest import run, serial_lines


def test_irq_split_default(vm_args, guest):
    r = run(vm_args(guest('irq')), timeout=60)
    lines = serial_lines(r.serial)
    assert lines == ['irq: start', 'irq: edge ok', 'irq: level ok'], r
    assert r.returncode == 0, r


@pytest.mark.parametrize('mode', ['split', 'on'])
def test_irq_same_as_qemu(mode, guest, qemu_args, vm_args):
    opt = ['-machine', 'kernel-irqchip=' + mode]
    q = run(qemu_args(guest('irq'), *opt), timeout=60)
    qlines = serial_lines(q.serial)
    assert qlines[:2] == ['irq: start', 'irq: edge ok'], q
    v = run(vm_args(guest('irq'), *opt), timeout=60)
    assert serial_lines(v.serial) == qlines, v


def test_kernel_irqchip_spellings(vm_args, guest):
    """QEMU takes kernel_irqchip too; both reach the same machine."""
    r = run(vm_args(guest('irq'), '-machine', 'kernel_irqchip=split'),
            timeout=60)
    assert 'irq: level ok' in r.serial, r


@pytest.mark.parametrize('value,msg', [
    ('off', "vireo: -machine: kernel-irqchip=off is not supported: vireo "
            "needs KVM's in-kernel LAPIC (use on or split)"),
    ('maybe', "vireo: -machine: kernel-irqchip: invalid value 'maybe' "
              "(use on, split or off)"),
])
def test_kernel_irqchip_errors(value, msg, vm_args, guest):
    r = run(vm_args(guest('hello'), '-machine', 'kernel-irqchip=' + value),
            timeout=10)
    assert r.returncode == 1, r
    assert msg in r.stderr, r
    assert r.serial == '', r


@pytest.mark.parametrize('mode', ['split', 'on'])
def test_power_button_reaches_guest(mode, vireo, kvm, guest, spawn, tmp_path):
    """system_powerdown presses the ACPI power button: the GED raises its
    level-triggered GSI 9, the guest's handler reads the event and powers
    off, and vireo ends with status 0 after POWERDOWN and a guest-initiated
    SHUTDOWN (QEMU's sequence)."""
    from qmp_client import QMPClient
    sock = str(tmp_path / 'qmp.sock')
    vm = spawn([vireo, '-nodefaults', '-nographic', '-m', '16M',
                '-serial', 'stdio', '-machine', 'kernel-irqchip=' + mode,
                '-qmp', 'unix:%s,server=on,wait=off' % sock,
                '-bios', guest('powerbtn')])
    assert vm.wait_for('powerbtn: ready', timeout=30), vm.serial()
    c = QMPClient(sock)
    try:
        c.ok('system_powerdown')
        c.wait_event('POWERDOWN')
        e = c.wait_event('SHUTDOWN', timeout=30)
        assert e['data'] == {'guest': True, 'reason': 'guest-shutdown'}, e
    finally:
        c.close()
    assert vm.wait_for('powerbtn: pressed', timeout=10), vm.serial()
    assert vm.proc.wait(timeout=30) == 0
    assert 'without an event' not in vm.serial()


@pytest.mark.parametrize('mode', ['split', 'on'])
def test_rtc_interrupts(mode, vm_args, guest):
    """The CMOS RTC's periodic (1024 Hz) and update-ended interrupts reach
    the guest on IRQ 8 with the flags register C must show (IRQF|PF,
    IRQF|UF)."""
    r = run(vm_args(guest('rtcirq'), '-machine', 'kernel-irqchip=' + mode),
            timeout=60)
    assert serial_lines(r.serial) == ['rtcirq: start', 'rtcirq: periodic ok',
                                      'rtcirq: update-ended ok'], r
    assert r.returncode == 0, r
