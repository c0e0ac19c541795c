# SPDX-License-Identifier: MIT
"""test_qemu_compare.py: the same guest under QEMU 7.2 (the reference) and
under vireo gives the same serial output.  The QEMU half of each test also
checks that the guests and the test expectations are right on a VMM known
to be correct.  Known, deliberate differences:
  - hello/pio/mmio power off through vireo's ACPI sleep-control port; QEMU
    microvm has none there, so those guests fall back to isa-debug-exit
    (status 1 under QEMU, 0 under vireo);
  - unmapped MMIO reads return 0 under QEMU microvm, all ones under vireo.
"""
import re
import time

import pytest

from conftest import run, serial_lines
from test_guests import _check_longmode_dump, _last_dump

SAME = ['hello', 'pio', 'debugexit', 'port80', 'ok', 'longmode']


def _norm(text):
    return serial_lines(text)


@pytest.mark.parametrize('name', SAME)
def test_same_serial_as_qemu(name, guest, qemu_args, vm_args):
    q = run(qemu_args(guest(name), '-no-reboot'), timeout=60)
    qlines = _norm(q.serial)
    assert qlines, q
    assert not any('FAIL' in l for l in qlines), q
    v = run(vm_args(guest(name), '-no-reboot'), timeout=60)
    assert _norm(v.serial) == qlines, v


def test_mmio_qemu_reference(guest, qemu_args, vm_args):
    q = run(qemu_args(guest('mmio')))
    assert 'mmio: read1=00000000' in q.serial, q
    v = run(vm_args(guest('mmio')))
    ql = _norm(q.serial)
    vl = _norm(v.serial)
    # same first line, same number of lines; the values differ by design
    assert vl[:1] == ql[:1], v
    assert len(vl) == len(ql), v


@pytest.mark.parametrize('name,status', [('debugexit', 85), ('ok', 1),
                                         ('port80', 1)])
def test_same_exit_status_as_qemu(name, status, guest, qemu_args, vm_args):
    q = run(qemu_args(guest(name)), timeout=60)
    assert q.returncode == status, q
    v = run(vm_args(guest(name)), timeout=60)
    assert v.returncode == q.returncode, v


def test_triple_reference(guest, qemu_args, spawn):
    """Under QEMU the triple-fault guest reboots again and again and
    -no-reboot turns the first triple fault into exit status 0."""
    q = run(qemu_args(guest('triple'), '-no-reboot'))
    assert _norm(q.serial) == ['triple: boot'], q
    assert q.returncode == 0, q
    vm = spawn(qemu_args(guest('triple')))
    assert vm.wait_for('triple: boot', count=3, timeout=20), vm.serial()
    assert vm.terminate() == 0


def test_longmode_dump_reference(guest, qemu_args, spawn, tmp_path):
    """QEMU logs the pre-reset state on the reset after the triple fault
    (with -no-reboot it does not reset, so no dump): the checks applied to
    vireo's dump hold for QEMU's."""
    log = tmp_path / 'qemu.log'
    vm = spawn(qemu_args(guest('longmode'), '-d', 'cpu_reset', '-D', log))
    assert vm.wait_for('longmode: boot', count=2, timeout=20), vm.serial()
    vm.terminate()
    _check_longmode_dump(_last_dump(log.read_text()))


def test_i8042_reset_reboot_loop_reference(guest, qemu, kvm, spawn):
    """The same guest resets again and again under QEMU pc (the check
    vireo's test_i8042_reset_reboots applies)."""
    vm = spawn([qemu, '-M', 'pc,accel=kvm', '-nodefaults', '-nographic',
                '-serial', 'stdio', '-m', '16M', '-bios', guest('kbdreset')])
    assert vm.wait_for('kbdreset: boot', count=10, timeout=30), vm.serial()[-300:]
    assert 'FAIL' not in vm.serial()
    assert vm.terminate() == 0


def test_i8042_reset_reference(guest, qemu, kvm, vm_args):
    """QEMU microvm has no i8042; its pc machine does: 0xfe to port 0x64
    resets, and with -no-reboot QEMU exits 0 after one boot, as vireo."""
    q = run([qemu, '-M', 'pc,accel=kvm', '-nodefaults', '-nographic',
             '-serial', 'stdio', '-m', '16M', '-no-reboot',
             '-bios', guest('kbdreset')])
    assert _norm(q.serial) == ['kbdreset: boot'], q
    assert q.returncode == 0, q
    v = run(vm_args(guest('kbdreset'), '-no-reboot'))
    assert _norm(v.serial) == _norm(q.serial), v
    assert v.returncode == q.returncode, v


def _dump_lines(dump):
    """Register lines of a dump up to EFER, without QEMU's TCG-only
    condition-code line (CCS=...) and the FPU/SSE lines after EFER."""
    out = []
    for line in dump.splitlines():
        if line.startswith('CCS='):
            continue
        out.append(line.rstrip())
        if line.startswith('EFER='):
            break
    return out


def _fault_dumps(name, cs_kind, guest, qemu_args, vm_args, spawn, tmp_path):
    """The register lines (up to EFER) that QEMU and vireo log with
    -d cpu_reset when guest `name` triple-faults with a cs_kind code
    segment ('CS64' or 'CS32').  QEMU does not log with -no-reboot, so its
    dump comes from the reboot; vireo's from the fault with -no-reboot."""
    qlog = tmp_path / 'qemu.log'
    vm = spawn(qemu_args(guest(name), '-d', 'cpu_reset', '-D', qlog))
    assert vm.wait_for('%s: boot' % name, count=2, timeout=20), vm.serial()
    vm.terminate()
    qd = [d for d in _last_dump(qlog.read_text()) if cs_kind in d][-1]
    vlog = tmp_path / 'vireo.log'
    r = run(vm_args(guest(name), '-no-reboot', '-d', 'cpu_reset',
                    '-D', vlog))
    assert r.returncode == 0, r
    text = vlog.read_text() if vlog.exists() else r.stderr
    vd = [d for d in _last_dump(text) if cs_kind in d]
    assert vd, text[-3000:]
    return _dump_lines(vd[-1]), _dump_lines(qd)


def test_longmode_dump_same_as_qemu(guest, qemu_args, vm_args, spawn, tmp_path):
    """The register dump at the long-mode triple fault is line for line
    QEMU's (general registers, RIP/RFL, segments with their flag
    decoding, descriptor tables, control and debug registers, EFER)."""
    ours, qemus = _fault_dumps('longmode', 'CS64', guest, qemu_args, vm_args,
                               spawn, tmp_path)
    assert ours == qemus


def test_protected_mode_dump_same_as_qemu(guest, qemu_args, vm_args, spawn,
                                          tmp_path):
    """Outside 64-bit code QEMU switches to its 32-bit layout (EAX=...,
    EIP=, 8-digit segment bases, GDT/IDT and CR2/CR3); the dump at the
    32-bit protected-mode triple fault must be line for line QEMU's."""
    ours, qemus = _fault_dumps('triple', 'CS32', guest, qemu_args, vm_args,
                               spawn, tmp_path)
    assert ours == qemus
    assert [l for l in ours if l][0].startswith('EAX='), ours
