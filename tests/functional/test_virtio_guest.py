# SPDX-License-Identifier: MIT
"""test_virtio_guest.py: the virtio test guest (tests/guest/virtio-*.c)
with virtio-blk, -rng, -net, -serial (virtconsole) and -balloon, over PCI
on q35 and virtio-mmio on microvm.  Each run checks the guest's PASS/FAIL
lines and what reached the host: the pattern in the image file, the frame
on the netdev's socket, the line on the console's chardev, and the replies
the host sends back (a frame in, a line in).  After each device's check
the guest sees one interrupt from it (MSI-X on PCI, its IOAPIC line on
virtio-mmio).  The net check runs on a unix datagram socket (`-netdev
dgram`) and on a tap in a network namespace the test creates
(netns_tap.py).  virtio-hostile.bin adds broken rings on blk and rng,
which must set DEVICE_NEEDS_RESET without stopping the VMM or the other
devices.

QEMU 7.2 with TCG is the reference and runs here; the same command lines
run under vireo with the `kvm` fixture (they skip without /dev/kvm).  QEMU
needs `-global virtio-mmio.force-legacy=false` for version-2 virtio-mmio
(vireo's only version); the guest refuses the legacy transport."""
import json
import os
import shutil
import socket
import subprocess
import threading
import time

import pytest

from conftest import serial_lines, run, Running

HERE = os.path.dirname(os.path.abspath(__file__))

BLK_SECTOR = 8
BLK_SECTORS = 2
SECTOR0 = b'VIREO-VIRTIO-S0:'
BLK_SERIAL = 'vireo-blk0'
GUEST_MAC = '52:54:00:12:34:56'
HOST_MAC = bytes.fromhex('525400abcdef')
ETHERTYPE = 0x88b5
GUEST_FRAME_TEXT = b'vireo virtio-net guest to host'
HOST_FRAME_TEXT = 'vireo virtio-net host to guest'
CONSOLE_HELLO = 'virtio-console: hello from the guest\n'
CONSOLE_PING = 'ping from the host'

ALL = ('blk', 'rng', 'net', 'console', 'balloon')


def blk_pattern(i):
    """tests/guest/virtio-lib.c's vt_blk_pattern."""
    return ((i * 7 + 0x5a) ^ (i >> 8) ^ (i >> 5)) & 0xff


def expected_blk_bytes():
    return bytes(blk_pattern(i) for i in range(BLK_SECTORS * 512))


def make_image(path, size=1 << 20):
    """An image with a known sector 0 and 0xcc filler elsewhere, so that a
    write to the wrong sector shows as well as a missing one."""
    data = bytearray(b'\xcc' * size)
    data[0:len(SECTOR0)] = SECTOR0
    path.write_bytes(bytes(data))
    return data


def check_image(path, before):
    after = path.read_bytes()
    lo, hi = BLK_SECTOR * 512, (BLK_SECTOR + BLK_SECTORS) * 512
    assert len(after) == len(before)
    assert after[lo:hi] == expected_blk_bytes(), 'pattern not in the image'
    assert after[:lo] == before[:lo] and after[hi:] == before[hi:], \
        'bytes outside the test sectors changed'


class Host:
    """The host side of one guest run: the image, the console's socket
    chardev and the net's datagram socket, and the threads that answer the
    guest.  args(machine) gives the device options (QEMU's names)."""

    def __init__(self, tmp_path, devices, net='dgram'):
        self.tmp = tmp_path
        self.devices = devices
        self.net = net  # 'dgram' (a unix datagram socket) or 'tap'
        self.tap = 'vtap0'
        self.errors = []
        self.threads = []
        self.console_text = ''
        self.frame = None
        self.image = tmp_path / 'disk.img'
        self.image_before = make_image(self.image) if 'blk' in devices else None
        self.con_path = str(tmp_path / 'con.sock')
        self.net_host = str(tmp_path / 'net-host.sock')
        self.net_guest = str(tmp_path / 'net-guest.sock')
        self.net_sock = None
        if 'net' in devices and net == 'dgram':
            self.net_sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            self.net_sock.bind(self.net_host)
            self.net_sock.settimeout(60)

    def args(self, machine):
        pci = machine == 'q35'
        dev = (lambda name: name + ('-pci' if pci else '-device'))
        a = []
        if not pci:
            a += ['-global', 'virtio-mmio.force-legacy=false']
        if 'blk' in self.devices:
            a += ['-drive', 'file=%s,format=raw,if=none,id=d0' % self.image,
                  '-device', '%s,drive=d0,serial=%s' % (dev('virtio-blk'),
                                                        BLK_SERIAL)]
        if 'rng' in self.devices:
            a += ['-device', dev('virtio-rng')]
        if 'net' in self.devices:
            if self.net == 'tap':
                a += ['-netdev', 'tap,id=n0,ifname=%s,script=no,'
                      'downscript=no' % self.tap]
            else:
                a += ['-netdev', 'dgram,id=n0,local.type=unix,local.path=%s,'
                      'remote.type=unix,remote.path=%s'
                      % (self.net_guest, self.net_host)]
            a += ['-device', '%s,netdev=n0,mac=%s' % (dev('virtio-net'),
                                                      GUEST_MAC)]
        if 'console' in self.devices:
            a += ['-chardev', 'socket,id=vc0,path=%s,server=on,wait=on'
                  % self.con_path,
                  '-device', dev('virtio-serial'),
                  '-device', 'virtconsole,chardev=vc0']
        if 'balloon' in self.devices:
            a += ['-device', dev('virtio-balloon')]
        return a

    def start(self):
        """Starts the answering threads (after the VMM was started)."""
        if 'console' in self.devices:
            self._thread(self._console)
        if 'net' in self.devices and self.net == 'dgram':
            self._thread(self._net)

    def _thread(self, fn):
        def wrap():
            try:
                fn()
            except Exception as e:  # reported by finish()
                self.errors.append('%s: %r' % (fn.__name__, e))
        t = threading.Thread(target=wrap, daemon=True)
        t.start()
        self.threads.append(t)

    def _console(self):
        # wait=on: the VMM waits for this connection before the guest runs
        deadline = time.monotonic() + 30
        while True:
            try:
                c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                c.connect(self.con_path)
                break
            except OSError:
                c.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        c.settimeout(60)
        with c:
            buf = b''
            want_echo = ('virtio-console: echo %s\n' % CONSOLE_PING).encode()
            sent = False
            while want_echo not in buf:
                if not sent and CONSOLE_HELLO.encode() in buf:
                    c.sendall((CONSOLE_PING + '\n').encode())
                    sent = True
                chunk = c.recv(4096)
                if not chunk:
                    break
                buf += chunk
                self.console_text = buf.decode(errors='replace')
            self.console_text = buf.decode(errors='replace')

    def wrap(self, argv):
        """With a tap: the VMM runs in a new network namespace under
        netns_tap.py, which creates the tap and answers on it."""
        if 'net' not in self.devices or self.net != 'tap':
            return argv
        return ['unshare', '-n', '/usr/bin/python3',
                os.path.join(HERE, 'netns_tap.py'), '--ifname', self.tap,
                '--guest-mac', GUEST_MAC, '--host-mac', HOST_MAC.hex(),
                '--ethertype', hex(ETHERTYPE), '--text', HOST_FRAME_TEXT,
                '--'] + [str(x) for x in argv]

    def unwrap(self, rc, serial, err):
        """netns_tap.py's report -> the VMM's (rc, serial, stderr)."""
        if 'net' not in self.devices or self.net != 'tap':
            return rc, serial, err
        assert rc == 0, (rc, serial, err)
        rep = json.loads(serial)
        self.errors += rep['errors']
        self.frame = bytes.fromhex(rep['frame']) if rep['frame'] else None
        return rep['returncode'], rep['serial'], rep['stderr']

    def _net(self):
        data = self.net_sock.recv(65536)
        self.frame = data
        frame = (bytes.fromhex(GUEST_MAC.replace(':', '')) + HOST_MAC +
                 ETHERTYPE.to_bytes(2, 'big') + HOST_FRAME_TEXT.encode())
        frame += bytes(max(0, 60 - len(frame)))
        self.net_sock.sendto(frame, self.net_guest)

    def finish(self, serial):
        """Joins the threads and checks the host-side effects of each
        device the guest passed (the guest's own verdicts are checked by
        check_serial)."""
        for t in self.threads:
            t.join(timeout=30)
        if self.net_sock is not None:
            self.net_sock.close()
        assert not self.errors, self.errors
        if 'blk' in self.devices:
            check_image(self.image, self.image_before)
        if 'net' in self.devices:
            f = self.frame
            assert f is not None, 'no frame from the guest'
            assert len(f) == 60 or (self.net == 'tap' and len(f) >= 60), f
            assert f[0:6] == b'\xff' * 6, f
            assert f[6:12].hex(':') == GUEST_MAC, f
            assert int.from_bytes(f[12:14], 'big') == ETHERTYPE, f
            assert f[14:14 + len(GUEST_FRAME_TEXT)] == GUEST_FRAME_TEXT, f
        if 'console' in self.devices:
            assert CONSOLE_HELLO in self.console_text, self.console_text
            assert ('virtio-console: echo %s\n' % CONSOLE_PING
                    in self.console_text), self.console_text


HOSTILE = ('hostile-loop', 'hostile-next', 'hostile-outside-ram',
           'hostile-avail-jump')


def check_serial(serial, devices, where_prefix, hostile=None):
    """The guest's report: every device found, every check passed, none
    failed, and the details that show the data really moved.  hostile:
    virtio-hostile.bin's run, 'qemu' (QEMU completes a request whose
    buffer is outside RAM: the guest notes it) or 'strict' (vireo: every
    broken ring sets DEVICE_NEEDS_RESET)."""
    lines = serial_lines(serial)
    assert not [l for l in lines if l.startswith('FAIL')], serial
    found = [l for l in lines if l.startswith('virtio: devices:')]
    assert len(found) == 1, serial
    assert sorted(found[0].split()[2:]) == sorted(devices), serial
    checks = {'blk': ['blk'], 'rng': ['rng'], 'net': ['net-tx', 'net-rx'],
              'console': ['console-tx', 'console-rx'], 'balloon': ['balloon']}
    npass = 0
    for dev in devices:
        # after its test each device delivers an interrupt: MSI-X on PCI,
        # its IOAPIC line on virtio-mmio; QEMU's virtio-balloon-pci has no
        # MSI-X (then the guest says so)
        irq = [dev + '-irq']
        if (where_prefix == 'pci ' and dev == 'balloon' and
                'balloon: no MSI-X capability, interrupts not checked'
                in lines):
            irq = []
        for c in checks[dev] + irq:
            mine = [l for l in lines if l.startswith('PASS %s [' % c)]
            assert len(mine) == 1, (c, serial)
            assert mine[0].split('[')[1].startswith(where_prefix), serial
            npass += 1
    if hostile:
        # on blk and rng: each broken ring refused, in this order
        nh = len([d for d in devices if d in ('blk', 'rng')])
        for c in HOSTILE:
            n = len([l for l in lines if l.startswith('PASS %s [' % c)])
            if c == 'hostile-outside-ram' and hostile == 'qemu':
                assert n == 0, serial
                n = len([l for l in lines
                         if l.startswith('NOTE %s [' % c)])
            else:
                npass += n
            assert n == nh, (c, serial)
    assert 'virtio: done, %d passed, 0 failed' % npass in lines, serial
    if 'blk' in devices:
        assert 'blk: sector 0 starts %s' % SECTOR0.hex() in lines, serial
        assert "blk: id '%s'" % BLK_SERIAL in lines, serial
        assert 'blk: flushed' in lines, serial
    if 'net' in devices:
        assert 'net: mac %s' % GUEST_MAC in lines, serial
        assert ("net: rx 60 bytes from %s: '%s'"
                % (HOST_MAC.hex(':'), HOST_FRAME_TEXT)) in lines, serial
    if 'console' in devices:
        assert "console: rx '%s'" % CONSOLE_PING in lines, serial
    if 'rng' in devices:
        assert 'rng: 64 bytes,' in serial, serial


def run_guest(argv, host, timeout=60):
    """Runs the VMM with the host side answering; returns (rc, serial,
    stderr)."""
    argv = host.wrap(argv)
    vm = Running(argv)
    try:
        host.start()
        try:
            vm.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pytest.fail('timed out: %s\nserial: %r' % (' '.join(argv),
                                                       vm.serial()[-3000:]))
        serial = vm.serial()
        err = vm.proc.stderr.read().decode(errors='replace')
        return host.unwrap(vm.proc.returncode, serial, err)
    finally:
        vm.cleanup()


def qemu_argv(qemu, machine, guest, image='virtio'):
    return [qemu, '-M', machine, '-accel', 'tcg', '-nodefaults',
            '-display', 'none', '-m', '16M', '-serial', 'stdio',
            '-bios', str(guest(image)),
            '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04']


def vireo_argv(vireo, machine, guest, image='virtio'):
    return [str(vireo), '-M', machine, '-nodefaults', '-nographic', '-m',
            '16M', '-serial', 'stdio', '-bios', str(guest(image)),
            '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04']


def vireo_args(host, machine):
    """QEMU's options minus the -global vireo has no need for (its
    virtio-mmio is version 2 only)."""
    a = host.args(machine)
    if a[:2] == ['-global', 'virtio-mmio.force-legacy=false']:
        a = a[2:]
    return a


WHERE = {'q35': 'pci ', 'microvm': 'mmio '}


def _run_and_check(argv, host, machine, devices, hostile=None):
    rc, serial, err = run_guest(argv, host)
    assert rc == 1, (rc, serial, err)    # isa-debug-exit 0: all passed
    check_serial(serial, devices, WHERE[machine], hostile)
    host.finish(serial)
    return serial, err


@pytest.mark.parametrize('machine', ['q35', 'microvm'])
def test_virtio_guest_qemu_all(qemu, guest, tmp_path, machine):
    """Every device at once under QEMU 7.2 (TCG), the reference."""
    host = Host(tmp_path, ALL)
    argv = qemu_argv(qemu, machine, guest) + host.args(machine)
    _run_and_check(argv, host, machine, ALL)


@pytest.mark.parametrize('machine', ['q35', 'microvm'])
@pytest.mark.parametrize('dev', ALL)
def test_virtio_guest_qemu_one(qemu, guest, tmp_path, machine, dev):
    """One device alone: the guest copes with any subset."""
    host = Host(tmp_path, (dev,))
    argv = qemu_argv(qemu, machine, guest) + host.args(machine)
    _run_and_check(argv, host, machine, (dev,))


@pytest.mark.parametrize('machine', ['q35', 'microvm'])
def test_virtio_guest_qemu_none(qemu, guest, machine):
    r = run(qemu_argv(qemu, machine, guest), timeout=60)
    assert 'virtio: devices: none' in serial_lines(r.serial), r
    assert 'virtio: done, 0 passed, 0 failed' in serial_lines(r.serial), r
    assert r.returncode == 1, r


def test_virtio_guest_qemu_behind_root_ports(qemu, guest, tmp_path):
    """libvirt's q35 layout: each device behind its own pcie-root-port, so
    the guest numbers the buses and opens the bridges' windows."""
    host = Host(tmp_path, ('blk', 'net'))
    a = host.args('q35')
    ports = ['-device', 'pcie-root-port,id=rp1,chassis=1,addr=2',
             '-device', 'pcie-root-port,id=rp2,chassis=2,addr=3']
    a = [x + ',bus=rp1' if x.startswith('virtio-blk-pci') else
         x + ',bus=rp2' if x.startswith('virtio-net-pci') else x for x in a]
    serial, _ = _run_and_check(qemu_argv(qemu, 'q35', guest) + ports + a,
                               host, 'q35', ('blk', 'net'))
    assert 'PASS blk [pci 01:00.0]' in serial, serial
    assert 'PASS net-rx [pci 02:00.0]' in serial, serial


def netns_tap_missing():
    """Why a tap in a network namespace cannot be had here, or None."""
    if os.geteuid() != 0:
        return 'a tap in a network namespace needs root'
    for tool in ('unshare', 'ip'):
        if not shutil.which(tool):
            return '%s not installed' % tool
    if not os.path.exists('/dev/net/tun'):
        return 'no /dev/net/tun'
    return None


def need_netns_tap():
    why = netns_tap_missing()
    if why:
        pytest.skip(why)


def vireo_net():
    """vireo's net backends are tap and user (issue 9): its runs use the
    tap when the namespace can be made, QEMU's dgram socket otherwise."""
    return 'dgram' if netns_tap_missing() else 'tap'


@pytest.mark.parametrize('machine', ['q35', 'microvm'])
def test_virtio_guest_qemu_tap(qemu, guest, tmp_path, machine):
    """virtio-net on a tap in a network namespace the test creates: the
    guest's frame arrives on the tap, the host's frame reaches the guest."""
    need_netns_tap()
    host = Host(tmp_path, ('net',), net='tap')
    argv = qemu_argv(qemu, machine, guest) + host.args(machine)
    _run_and_check(argv, host, machine, ('net',))


@pytest.mark.parametrize('machine', ['q35', 'microvm'])
def test_virtio_guest_qemu_hostile(qemu, guest, tmp_path, machine):
    """virtio-hostile.bin: broken rings on blk and rng (a loop, a next
    index past the queue, a buffer outside RAM, an avail index jump)
    each set DEVICE_NEEDS_RESET -- except the buffer outside RAM, which
    QEMU 7.2 bounce-buffers and completes; after a reset each device
    works again, and every other device works throughout."""
    host = Host(tmp_path, ALL)
    argv = qemu_argv(qemu, machine, guest, 'virtio-hostile') + \
        host.args(machine)
    _, err = _run_and_check(argv, host, machine, ALL, hostile='qemu')
    for msg in ('Desc next is', 'Guest moved used index'):
        assert msg in err, err


def test_virtio_guest_qemu_legacy_mmio_refused(qemu, guest):
    """QEMU's default virtio-mmio is the legacy (version 1) transport: the
    guest says it does not drive it, and fails."""
    r = run(qemu_argv(qemu, 'microvm', guest) + ['-device',
                                                  'virtio-rng-device'],
            timeout=60)
    assert 'legacy transport not supported' in r.serial, r
    assert r.returncode == 3, r


# ---- the same runs under vireo (KVM) ----

@pytest.mark.parametrize('machine', ['q35', 'microvm'])
def test_virtio_guest_vireo_all(kvm, vireo, guest, tmp_path, machine):
    host = Host(tmp_path, ALL, net=vireo_net())
    argv = vireo_argv(vireo, machine, guest) + vireo_args(host, machine)
    _run_and_check(argv, host, machine, ALL)


@pytest.mark.parametrize('machine', ['q35', 'microvm'])
@pytest.mark.parametrize('dev', ALL)
def test_virtio_guest_vireo_one(kvm, vireo, guest, tmp_path, machine, dev):
    host = Host(tmp_path, (dev,), net=vireo_net())
    argv = vireo_argv(vireo, machine, guest) + vireo_args(host, machine)
    _run_and_check(argv, host, machine, (dev,))


@pytest.mark.parametrize('machine', ['q35', 'microvm'])
def test_virtio_guest_vireo_none(kvm, vireo, guest, machine):
    r = run(vireo_argv(vireo, machine, guest), timeout=60)
    assert 'virtio: done, 0 passed, 0 failed' in serial_lines(r.serial), r
    assert r.returncode == 1, r


@pytest.mark.parametrize('machine', ['q35', 'microvm'])
def test_virtio_guest_vireo_tap(kvm, vireo, guest, tmp_path, machine):
    need_netns_tap()
    host = Host(tmp_path, ('net',), net='tap')
    argv = vireo_argv(vireo, machine, guest) + vireo_args(host, machine)
    _run_and_check(argv, host, machine, ('net',))


@pytest.mark.parametrize('machine', ['q35', 'microvm'])
def test_virtio_guest_vireo_hostile(kvm, vireo, guest, tmp_path, machine):
    """vireo refuses every broken ring, the buffer outside RAM too."""
    host = Host(tmp_path, ALL, net=vireo_net())
    argv = vireo_argv(vireo, machine, guest, 'virtio-hostile') + \
        vireo_args(host, machine)
    _run_and_check(argv, host, machine, ALL, hostile='strict')


def test_virtio_guest_vireo_behind_root_ports(kvm, vireo, guest, tmp_path):
    host = Host(tmp_path, ('blk', 'net'), net=vireo_net())
    a = vireo_args(host, 'q35')
    ports = ['-device', 'pcie-root-port,id=rp1,chassis=1,addr=2',
             '-device', 'pcie-root-port,id=rp2,chassis=2,addr=3']
    a = [x + ',bus=rp1' if x.startswith('virtio-blk-pci') else
         x + ',bus=rp2' if x.startswith('virtio-net-pci') else x for x in a]
    _run_and_check(vireo_argv(vireo, 'q35', guest) + ports + a, host, 'q35',
                   ('blk', 'net'))
