# SPDX-License-Identifier: MIT
"""test_crash_safety.py: issue 9's crash-safety check.  "An acknowledged
write after a completed flush survives kill -9 of vireo."

virtio-crash.bin (tests/guest/virtio-crash.c) writes a pattern over 64
requests of 8 sectors (four in flight at a time), issues FLUSH, prints
"crash: flushed" once the flush completed, then keeps writing 0xdd over
other sectors without flushing.  The test SIGKILLs the VMM the moment the
line appears and checks the image file: the pattern is there, sectors
nobody wrote are untouched, and the unflushed region holds only the old
filler or the new bytes.  The matrix: cache=none and cache=writeback (the
default), aio=io_uring and aio=threads, q35 (virtio-blk-pci) and microvm
(virtio-blk-device).  QEMU 7.2 with TCG is the reference and runs here;
vireo's runs need /dev/kvm (the `kvm` fixture)."""
import os
import signal
import subprocess

import pytest

from conftest import Running

# tests/guest/virtio-guest.h
CRASH_SECTOR = 64
REQ_SECTORS = 8
REQS = 64
DIRTY_SECTOR = 1024
DIRTY = 0xdd
FILLER = 0xcc
MARKER = 'crash: flushed'
IMAGE_SIZE = 1 << 20


def blk_pattern(i):
    """tests/guest/virtio-lib.c's vt_blk_pattern."""
    return ((i * 7 + 0x5a) ^ (i >> 8) ^ (i >> 5)) & 0xff


def pattern():
    return bytes(blk_pattern(i) for i in range(REQS * REQ_SECTORS * 512))


def o_direct_missing(directory):
    """Why cache=none (O_DIRECT) cannot be had in directory, or None."""
    probe = os.path.join(directory, 'odirect-probe')
    try:
        fd = os.open(probe, os.O_CREAT | os.O_RDWR | os.O_DIRECT, 0o600)
    except OSError as e:
        return 'O_DIRECT not supported here: %s' % e
    os.close(fd)
    os.unlink(probe)
    return None


def drive_args(machine, image, cache, aio, qemu):
    dev = 'virtio-blk-pci' if machine == 'q35' else 'virtio-blk-device'
    a = []
    if qemu and machine == 'microvm':
        # QEMU's microvm defaults to legacy virtio-mmio (vireo has only v2)
        a += ['-global', 'virtio-mmio.force-legacy=false']
    a += ['-drive', 'file=%s,format=raw,if=none,id=d0,cache=%s,aio=%s'
          % (image, cache, aio),
          '-device', '%s,drive=d0' % dev]
    return a


def crash_and_check(argv, tmp_path, image):
    """Runs argv until the guest's marker, SIGKILLs it at once, checks the
    image."""
    vm = Running(argv)
    try:
        seen = vm.wait_for(MARKER, timeout=120)
        # no delay between seeing the line and the signal
        if seen:
            os.killpg(vm.proc.pid, signal.SIGKILL)
        serial = vm.serial()
        try:
            vm.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pytest.fail('VMM still running after SIGKILL')
        err = vm.proc.stderr.read().decode(errors='replace')
        assert seen, ('no %r from the guest (rc %s):\n%s\n%s'
                      % (MARKER, vm.proc.returncode, serial[-3000:], err))
        assert 'FAIL' not in serial, serial
        # it died of the signal, not by itself
        assert vm.proc.returncode == -signal.SIGKILL, (vm.proc.returncode,
                                                       serial, err)
    finally:
        vm.cleanup()
    data = image.read_bytes()
    assert len(data) == IMAGE_SIZE
    lo = CRASH_SECTOR * 512
    hi = lo + REQS * REQ_SECTORS * 512
    got = data[lo:hi]
    want = pattern()
    if got != want:
        bad = [s for s in range(REQS * REQ_SECTORS)
               if got[s * 512:(s + 1) * 512] != want[s * 512:(s + 1) * 512]]
        pytest.fail('%d of %d flushed sectors lost after kill -9 (first: '
                    'sector %d)' % (len(bad), REQS * REQ_SECTORS,
                                    CRASH_SECTOR + bad[0]))
    dlo = DIRTY_SECTOR * 512
    dhi = dlo + REQS * REQ_SECTORS * 512
    assert set(data[dlo:dhi]) <= {FILLER, DIRTY}, \
        'the unflushed region holds bytes nobody wrote'
    assert data[:lo] == bytes([FILLER]) * lo, 'sectors before the pattern'
    assert data[hi:dlo] == bytes([FILLER]) * (dlo - hi), 'sectors between'
    assert data[dhi:] == bytes([FILLER]) * (IMAGE_SIZE - dhi), \
        'sectors after the unflushed region'


def make_image(tmp_path, cache):
    if cache == 'none':
        why = o_direct_missing(str(tmp_path))
        if why:
            pytest.skip(why)
    image = tmp_path / 'disk.img'
    image.write_bytes(bytes([FILLER]) * IMAGE_SIZE)
    return image


MATRIX = [pytest.param(m, c, a, id='%s-%s-%s' % (m, c, a))
          for m in ('q35', 'microvm')
          for c in ('none', 'writeback')
          for a in ('io_uring', 'threads')]


def qemu_has_io_uring(qemu):
    """Debian's QEMU 7.2 is built with liburing; another build may not be
    (then QEMU refuses aio=io_uring before the guest runs)."""
    r = subprocess.run([qemu, '-M', 'none', '-nodefaults', '-display',
                        'none', '-drive', 'file=/dev/null,format=raw,'
                        'if=none,id=x,aio=io_uring', '-S', '-monitor',
                        'none', '-qmp', 'stdio'],
                       input=b'{"execute":"qmp_capabilities"}\n'
                       b'{"execute":"quit"}\n',
                       capture_output=True, timeout=30)
    return r.returncode == 0


@pytest.mark.parametrize('machine,cache,aio', MATRIX)
def test_crash_safety_qemu(qemu, guest, tmp_path, machine, cache, aio):
    """QEMU 7.2 (TCG), the reference."""
    if aio == 'io_uring' and not qemu_has_io_uring(qemu):
        pytest.skip('this QEMU has no io_uring')
    image = make_image(tmp_path, cache)
    argv = [qemu, '-M', machine, '-accel', 'tcg', '-nodefaults',
            '-display', 'none', '-m', '16M', '-serial', 'stdio',
            '-bios', str(guest('virtio-crash')),
            '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04']
    argv += drive_args(machine, image, cache, aio, qemu=True)
    crash_and_check(argv, tmp_path, image)


@pytest.mark.parametrize('machine,cache,aio', MATRIX)
def test_crash_safety_vireo(kvm, vireo, guest, tmp_path, machine, cache,
                            aio):
    image = make_image(tmp_path, cache)
    argv = [str(vireo), '-M', machine, '-nodefaults', '-nographic', '-m',
            '16M', '-serial', 'stdio', '-bios', str(guest('virtio-crash')),
            '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04']
    argv += drive_args(machine, image, cache, aio, qemu=False)
    crash_and_check(argv, tmp_path, image)
