# SPDX-License-Identifier: MIT
"""test_linux_virtio.py: issue 9's workload check with a real distribution
kernel (slow: meson suite 'slow'; needs /dev/kvm, e.g. scripts/nested-kvm).

Debian's linux-image-cloud-amd64 (the cache of scripts/bench/boot-bench.py,
vmlinux through PVH) boots with an initramfs built here: busybox-static, the
kernel's own virtio modules and their dependencies (depmod -b on the
extracted package, `modprobe --show-depends` for the order) and an /init
that exercises the devices and prints `VT: KEY VALUE` lines:

- virtio-blk on a raw image file: the size, the MD5 of a known 1 MiB
  pattern the host wrote, then a new pattern written with O_DIRECT and
  another through the page cache with fsync + sync + BLKFLSBUF, both read
  back with O_DIRECT; the host checks the image holds them after exit;
- virtio-rng: hw_random's current source and bytes from /dev/hwrng;
- virtio-net on `-netdev user` (slirp): DHCP with udhcpc (static
  10.0.2.15 if that fails), ping of the slirp host 10.0.2.2, and HTTP to a
  server the test runs on the host's 127.0.0.1 (slirp maps 10.0.2.2 to the
  host's loopback): a short GET, a 4 MiB GET (rx) posted back (tx, the
  server answers its MD5), then written to the disk with O_DIRECT;
- virtio-serial: a line to the virtconsole (hvc0) and one to a named
  virtserialport (found by its name in sysfs), both to chardev files;
- virtio-balloon: the test sets the target to 64 MiB below -m through QMP
  `balloon` while the kernel boots; the driver, loaded after the init noted
  MemTotal, must take exactly 64 MiB from it;
- no driver's probe failed (dmesg: 'probe of ... failed'; vireo's microvm
  once flagged an i8042 that Linux could not get IRQs for);
- then `poweroff -f`: the VMM must exit 0.

Two machines: `-M microvm` with the -device forms on virtio-mmio (nothing on
the command line: the devices are in the DSDT as LNRO0005, under QEMU as
under vireo) and `-M q35` with the -pci forms, each behind its own
pcie-root-port as libvirt places them (multifunction ports at 00:02.x).
QEMU (`accel=kvm`) runs the same guest as the reference when installed, and
both must report the same devices, sizes and results.  The figures
(seconds per boot, guest uptime at each step) are printed (`-s` shows
them).  Inside scripts/nested-kvm on two busy cores a boot with its
workload takes 25-60 s under vireo and 30-90 s under QEMU (the load of
the machine decides), the kernel reaching /init after 6-12 s of guest time
(TCG runs the nested guest); VIREO_LINUX_NO_QEMU=1 leaves the reference
out.
"""
import gzip
import hashlib
import http.server
import os
import random
import re
import shutil
import stat
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

# the kernel cache and boot-bench.py's helpers, as test_boot_linux uses them
from test_boot_linux import bench, linux  # noqa: F401 (fixtures)
from qmp_client import QMPClient

MEM_MIB = 256
TIMEOUT = float(os.environ.get('VIREO_LINUX_TIMEOUT', '240'))
DISK_MIB = 16
MIB = 1 << 20
# what the guest writes: O_DIRECT at 2 MiB, buffered + fsync at 3 MiB
DIRECT_OFF, BUFFERED_OFF = 2 * MIB, 3 * MIB
# fetched over HTTP, posted back, then written to the disk at 8 MiB
BULK_MIB, BULK_OFF = 4, 8 * MIB
MODULES = ['virtio_mmio', 'virtio_pci', 'virtio_blk', 'virtio_net',
           'virtio-rng', 'virtio_console', 'virtio_balloon']
# the balloon's target, set through QMP as the guest starts: the driver
# (loaded last, after the guest noted MemTotal) inflates to it at once
BALLOON_MIB = MEM_MIB - 64
PORT_NAME = 'org.vireo.test.0'
HTTP_BODY = b'vireo-linux-virtio-http-ok'
CMDLINE = 'console=ttyS0 panic=-1 quiet noxsave clearcpuid=cx16 ' \
          'mitigations=off'

INIT = r'''#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox --install -s /bin
export PATH=/bin
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
r() { echo "VT: $*"; }
for m in $(cat /lib/modules/order); do
    [ $m = virtio_balloon ] && continue
    insmod /lib/modules/$m.ko || r insmod-failed $m
done
memtotal() { sed -n 's/^MemTotal: *\([0-9]*\) kB/\1/p' /proc/meminfo; }
m0=$(memtotal)
insmod /lib/modules/virtio_balloon.ko || r insmod-failed virtio_balloon
r t-init $(cut -d' ' -f1 /proc/uptime)
r cmdline $(cat /proc/cmdline)
r uname $(uname -r)
# give the drivers a moment to probe (they run from insmod, but the
# block device's partition scan and eth0 may come just after)
for i in $(seq 50); do
    [ -b /dev/vda ] && [ -e /sys/class/net/eth0 ] && [ -e /dev/hwrng ] && break
    usleep 100000
done
ids=
for d in /sys/bus/virtio/devices/*; do
    [ -e $d/device ] && ids="$ids $(cat $d/device):$(basename $(readlink $d/driver))"
done
r virtio-devices $(echo $ids | tr ' ' '\n' | sort | tr '\n' ' ')

# ---- virtio-blk ----
if [ -b /dev/vda ]; then
    r blk-bytes $(blockdev --getsize64 /dev/vda)
    r blk-ro $(cat /sys/block/vda/ro)
    r blk-read $(dd if=/dev/vda bs=65536 count=16 iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1)
    yes vireo-direct-pattern | head -c 1048576 > /tmp/p1
    yes vireo-buffered-pattern | head -c 1048576 > /tmp/p2
    dd if=/tmp/p1 of=/dev/vda bs=65536 seek=32 oflag=direct conv=notrunc 2>/dev/null; a=$?
    dd if=/tmp/p2 of=/dev/vda bs=65536 seek=48 conv=notrunc,fsync 2>/dev/null; b=$?
    sync; blockdev --flushbufs /dev/vda; c=$?
    r blk-write $a $b $c
    r blk-readback $(dd if=/dev/vda bs=65536 skip=32 count=16 iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1) $(dd if=/dev/vda bs=65536 skip=48 count=16 iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1)
    r blk-expect $(md5sum < /tmp/p1 | cut -d' ' -f1) $(md5sum < /tmp/p2 | cut -d' ' -f1)
else
    r blk-missing
fi

# ---- virtio-rng ----
r rng-current $(cat /sys/class/misc/hw_random/rng_current 2>/dev/null)
r rng-bytes $(dd if=/dev/hwrng bs=32 count=1 2>/dev/null | od -An -tx1 | tr -d ' \n')
r rng-bytes2 $(dd if=/dev/hwrng bs=32 count=1 2>/dev/null | od -An -tx1 | tr -d ' \n')

# ---- virtio-net ----
port=$(sed -n 's/.*vt\.port=\([0-9]*\).*/\1/p' /proc/cmdline)
if [ -e /sys/class/net/eth0 ]; then
    r net-mac $(cat /sys/class/net/eth0/address)
    ip link set lo up
    ip link set eth0 up
    if udhcpc -i eth0 -f -q -n -t 5 -T 1 -s /dhcp.sh >/dev/null 2>&1; then
        r net-dhcp ok
    else
        r net-dhcp failed
        ip addr add 10.0.2.15/24 dev eth0
        ip route add default via 10.0.2.2
    fi
    r net-addr $(ip -4 -o addr show eth0 | sed -n 's/.* inet \([0-9./]*\).*/\1/p')
    if ping -c 2 -W 3 10.0.2.2 >/dev/null 2>&1; then r net-ping ok; else r net-ping failed; fi
    # (busybox 1.35's wget -T crashes: timeout(1) bounds it instead)
    r net-http $(timeout 20 wget -q -O - http://10.0.2.2:$port/vt 2>&1)
    r t-net-up $(cut -d' ' -f1 /proc/uptime)
    # bulk both ways (rx: mergeable buffers, tx: offloads through slirp)
    timeout 120 wget -q -O /tmp/bulk http://10.0.2.2:$port/bulk
    r net-bulk-get $(md5sum < /tmp/bulk | cut -d' ' -f1) $(stat -c %s /tmp/bulk)
    r t-net-get $(cut -d' ' -f1 /proc/uptime)
    r net-bulk-post $(timeout 120 wget -q -O - --post-file /tmp/bulk http://10.0.2.2:$port/up 2>&1)
    r t-net-post $(cut -d' ' -f1 /proc/uptime)
    if [ -b /dev/vda ]; then
        # what came over the network goes to the disk at 8 MiB, O_DIRECT
        dd if=/tmp/bulk of=/dev/vda bs=1048576 seek=8 oflag=direct conv=notrunc 2>/dev/null
        r blk-bulk $? $(dd if=/dev/vda bs=1048576 skip=8 count=4 iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1)
        r t-blk-bulk $(cut -d' ' -f1 /proc/uptime)
    fi
    r net-stats $(cat /sys/class/net/eth0/statistics/rx_packets) $(cat /sys/class/net/eth0/statistics/tx_packets)
else
    r net-missing
fi
# ---- virtio-serial: the console and a named port, to chardev files ----
[ -e /dev/hvc0 ] && echo vireo-hvc0-ok > /dev/hvc0
for p in /sys/class/virtio-ports/*; do
    [ "$(cat $p/name 2>/dev/null)" = "PORT_NAME" ] && \
        r serial-port $(basename $p) && echo vireo-port-ok > /dev/$(basename $p)
done

# ---- virtio-balloon: inflated to the target the host set (64 MiB) ----
for i in $(seq 150); do
    [ $((m0 - $(memtotal))) -ge 65536 ] && break
    usleep 200000
done
r balloon-kib $((m0 - $(memtotal)))
r t-balloon $(cut -d' ' -f1 /proc/uptime)

r failed-probes $(dmesg | grep -c 'probe of .* failed')
r i8042 $(dmesg | sed -n 's/.*i8042: \(PNP: .*\)/\1/p' | head -1)
dmesg | grep -i -e virtio -e vda -e hw_random -e i8042 -e serio -e error | sed 's/^/VT-dmesg: /'
r done
poweroff -f
'''

DHCP_SCRIPT = r'''#!/bin/sh
case "$1" in
bound|renew)
    ip addr flush dev "$interface"
    ip addr add "$ip/${mask:-24}" dev "$interface"
    [ -n "$router" ] && ip route add default via "$router"
    ;;
esac
exit 0
'''


def sbin(name):
    for p in (shutil.which(name), '/sbin/' + name, '/usr/sbin/' + name):
        if p and os.access(p, os.X_OK):
            return p
    pytest.skip('%s (kmod) not installed' % name)


def module_order(root, ver):
    """The .ko paths for MODULES with their dependencies, dependencies
    first, each once (modprobe --show-depends on the unpacked package)."""
    moddir = root / 'lib' / 'modules' / ver
    if not (moddir / 'modules.dep').exists():
        subprocess.run([sbin('depmod'), '-b', str(root), ver], check=True)
    out = []
    for m in MODULES:
        r = subprocess.run([sbin('modprobe'), '-d', str(root), '-S', ver,
                            '--show-depends', m], check=True,
                           capture_output=True, text=True)
        for line in r.stdout.splitlines():
            w = line.split()
            if w and w[0] == 'insmod' and Path(w[1]) not in out:
                out.append(Path(w[1]))
    return out


@pytest.fixture(scope='module')
def initramfs(bench, linux, tmp_path_factory):
    root = linux[0].parent / 'root'
    vers = sorted(p.name for p in (root / 'lib' / 'modules').iterdir())
    assert vers, 'no modules in %s' % root
    kos = module_order(root, vers[-1])
    assert kos, 'modprobe found none of %s' % MODULES
    d = stat.S_IFDIR | 0o755
    f = stat.S_IFREG | 0o755
    files = [('bin', d, b''), ('proc', d, b''), ('sys', d, b''),
             ('dev', d, b''), ('tmp', d, b''), ('lib', d, b''),
             ('lib/modules', d, b''),
             ('bin/busybox', f, (root / 'bin' / 'busybox').read_bytes()),
             ('init', f, INIT.replace('PORT_NAME', PORT_NAME).encode()),
             ('dhcp.sh', f, DHCP_SCRIPT.encode())]
    names = []
    for ko in kos:
        name = ko.name[:-3]
        names.append(name)
        files.append(('lib/modules/' + ko.name, stat.S_IFREG | 0o644,
                      ko.read_bytes()))
    files.append(('lib/modules/order', stat.S_IFREG | 0o644,
                  ('\n'.join(names) + '\n').encode()))
    out = tmp_path_factory.mktemp('linux-virtio') / 'initramfs.cpio.gz'
    out.write_bytes(gzip.compress(bench.cpio_newc(files), 1))
    return out


@pytest.fixture(scope='module')
def http_port():
    """A server on the host's loopback for the guest's wget (slirp sends
    the guest's connections to 10.0.2.2 there)."""
    class Handler(http.server.BaseHTTPRequestHandler):
        def reply(self, body):
            self.send_response(200)
            self.send_header('Content-Length', str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            self.reply(bulk_data() if self.path == '/bulk' else HTTP_BODY)

        def do_POST(self):
            n = int(self.headers.get('Content-Length', '0'))
            body = b''
            while len(body) < n:
                chunk = self.rfile.read(n - len(body))
                if not chunk:
                    break
                body += chunk
            self.reply(('%s %d' % (hashlib.md5(body).hexdigest(),
                                   len(body))).encode())

        def log_message(self, *a):
            pass
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield srv.server_address[1]
    srv.shutdown()
    srv.server_close()


def bulk_data():
    # no NUL: busybox wget's --post-file sends the file as a C string
    return random.Random(7).randbytes(BULK_MIB * MIB).replace(b'\0', b'\1')


def known_pattern():
    return random.Random(9).randbytes(MIB)


def make_disk(path):
    with open(path, 'wb') as f:
        f.write(known_pattern())
        f.truncate(DISK_MIB * MIB)


def guest_pattern(word):
    line = (word + '\n').encode()
    return (line * (MIB // len(line) + 1))[:MIB]


def machine_args(machine, work):
    drive = 'file=%s,format=raw,if=none,id=d0' % (work / 'disk.img')
    chardevs = ['-chardev', 'file,id=c0,path=%s' % (work / 'hvc0.out'),
                '-chardev', 'file,id=c1,path=%s' % (work / 'port.out')]
    ports = ['-device', 'virtconsole,chardev=c0,bus=vs0.0',
             '-device', 'virtserialport,chardev=c1,bus=vs0.0,name=' +
             PORT_NAME]
    if machine == 'microvm':
        return ['-drive', drive,
                '-device', 'virtio-blk-device,drive=d0',
                '-object', 'rng-random,id=r0,filename=/dev/urandom',
                '-device', 'virtio-rng-device,rng=r0',
                '-netdev', 'user,id=n0',
                '-device', 'virtio-net-device,netdev=n0,'
                'mac=52:54:00:12:34:56',
                '-device', 'virtio-serial-device,id=vs0',
                '-device', 'virtio-balloon-device,id=b0'] + chardevs + ports
    # q35 as libvirt lays it out: one pcie-root-port per device, the
    # ports as functions of 00:02
    rp = []
    for i in range(5):
        rp += ['-device', 'pcie-root-port,port=0x%x,chassis=%d,id=pci.%d,'
               'bus=pcie.0,addr=0x2.0x%x%s' % (0x10 + i, i + 1, i + 1, i,
                                               ',multifunction=on'
                                               if i == 0 else '')]
    return rp + [
        '-drive', drive,
        '-device', 'virtio-blk-pci,drive=d0,bus=pci.1,addr=0x0',
        '-netdev', 'user,id=n0',
        '-device', 'virtio-net-pci,netdev=n0,mac=52:54:00:12:34:56,'
        'bus=pci.2,addr=0x0',
        '-object', 'rng-random,id=r0,filename=/dev/urandom',
        '-device', 'virtio-rng-pci,rng=r0,bus=pci.3,addr=0x0',
        '-device', 'virtio-serial-pci,id=vs0,bus=pci.4,addr=0x0',
        '-device', 'virtio-balloon-pci,id=b0,bus=pci.5,addr=0x0'] + \
        chardevs + ports


def run_guest(binary, machine, vmlinux, initrd, work, port, qemu):
    """Boots the guest with its disk and chardev files in work; sets the
    balloon's target through QMP while the kernel boots.  Returns (serial
    log, exit status or 'timeout', seconds, QMP error or None)."""
    # (a socket of its own in /tmp: binding one on a 9p share fails)
    sockdir = tempfile.TemporaryDirectory(prefix='vireo-lv-')
    sock = Path(sockdir.name) / 'qmp.sock'
    argv = [str(binary), '-M', machine + ',accel=kvm', '-m', '%dM' % MEM_MIB,
            '-smp', '1', '-cpu', 'qemu64,-cx16', '-nodefaults',
            '-nographic', '-serial', 'stdio', '-no-reboot',
            '-qmp', 'unix:%s,server=on,wait=off' % sock,
            '-kernel', str(vmlinux), '-initrd', str(initrd),
            '-append', '%s vt.port=%d' % (CMDLINE, port)] + \
        machine_args(machine, work)
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    qmp_error = None
    try:
        q = QMPClient(sock, timeout=30, qemu=qemu)
        q.ok('balloon', {'value': BALLOON_MIB * MIB})
        q.close()
    except Exception as e:  # reported with the guest's results
        qmp_error = repr(e)
    try:
        out, _ = proc.communicate(timeout=TIMEOUT)
        rc = proc.returncode
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        rc = 'timeout'
    elapsed = time.monotonic() - start
    sockdir.cleanup()
    return (out.decode(errors='replace').replace('\r', ''), rc, elapsed,
            qmp_error)


def report(log):
    """{key: value} from the guest's 'VT: KEY VALUE' lines."""
    rep = {}
    for line in log.splitlines():
        # (search: under QEMU's q35 the first line follows SeaBIOS's text)
        m = re.search(r'VT: (\S+) ?(.*)$', line.strip())
        if m:
            rep[m.group(1)] = m.group(2).strip()
    return rep


def check(who, log, rc, work, qmp_error):
    rep = report(log)
    tail = log[-5000:]
    assert rep.get('done') is not None, \
        '%s: the guest did not finish its /init (rc %s):\n%s' % (who, rc,
                                                                 tail)
    assert rc == 0, '%s: exit status %s after poweroff' % (who, rc)
    assert not [k for k in rep if k.endswith('-missing') or
                k == 'insmod-failed'], '%s: %s' % (who, rep)
    devs = rep['virtio-devices'].split()
    assert devs == ['0x0001:virtio_net', '0x0002:virtio_blk',
                    '0x0003:virtio_console', '0x0004:virtio_rng',
                    '0x0005:virtio_balloon'], '%s: %s' % (who, devs)
    assert rep['blk-bytes'] == str(DISK_MIB * MIB), (who, rep)
    assert rep['blk-ro'] == '0', (who, rep)
    assert rep['blk-read'] == hashlib.md5(known_pattern()).hexdigest(), \
        '%s: the known pattern read back wrong: %s' % (who, rep)
    assert rep['blk-write'] == '0 0 0', (who, rep)
    assert rep['blk-readback'] == rep['blk-expect'], (who, rep)
    data = (work / 'disk.img').read_bytes()
    assert data[:MIB] == known_pattern(), who
    assert data[DIRECT_OFF:DIRECT_OFF + MIB] == \
        guest_pattern('vireo-direct-pattern'), \
        '%s: the O_DIRECT write is not in the image' % who
    assert data[BUFFERED_OFF:BUFFERED_OFF + MIB] == \
        guest_pattern('vireo-buffered-pattern'), \
        '%s: the fsync\'d write is not in the image' % who
    assert rep['rng-current'].startswith('virtio_rng'), (who, rep)
    for k in ('rng-bytes', 'rng-bytes2'):
        assert re.fullmatch(r'[0-9a-f]{64}', rep[k]), (who, k, rep[k])
    assert rep['rng-bytes'] != rep['rng-bytes2'] and \
        rep['rng-bytes'] != '0' * 64, (who, rep)
    assert rep['net-mac'] == '52:54:00:12:34:56', (who, rep)
    assert rep['net-dhcp'] == 'ok', (who, rep)
    assert rep['net-addr'] == '10.0.2.15/24', (who, rep)
    assert rep['net-ping'] == 'ok', (who, rep)
    assert rep['net-http'] == HTTP_BODY.decode(), (who, rep)
    bulk = bulk_data()
    md5 = hashlib.md5(bulk).hexdigest()
    assert rep['net-bulk-get'] == '%s %d' % (md5, len(bulk)), (who, rep)
    assert rep['net-bulk-post'] == '%s %d' % (md5, len(bulk)), (who, rep)
    assert rep['blk-bulk'] == '0 ' + md5, (who, rep)
    assert data[BULK_OFF:BULK_OFF + len(bulk)] == bulk, \
        '%s: the downloaded data is not in the image' % who
    assert 'vireo-hvc0-ok' in (work / 'hvc0.out').read_text(), who
    assert rep.get('serial-port', '').startswith('vport'), (who, rep)
    assert (work / 'port.out').read_text() == 'vireo-port-ok\n', who
    assert qmp_error is None, '%s: QMP balloon: %s' % (who, qmp_error)
    kib = int(rep['balloon-kib'])
    assert kib == (MEM_MIB - BALLOON_MIB) * 1024, \
        '%s: the balloon took %d KiB of MemTotal' % (who, kib)
    # every driver that probed succeeded (vireo's microvm once advertised
    # an i8042 whose IRQs Linux could not map: -EINVAL)
    assert rep['failed-probes'] == '0', '%s: %s' % (
        who, [l for l in log.splitlines() if 'probe of' in l])
    return rep


# what must be the same under vireo and QEMU (not rng bytes or counters)
SAME = ['virtio-devices', 'uname', 'blk-bytes', 'blk-ro', 'blk-read',
        'blk-write', 'blk-readback', 'rng-current', 'net-mac', 'net-dhcp',
        'net-addr', 'net-ping', 'net-http', 'net-bulk-get', 'net-bulk-post',
        'blk-bulk', 'serial-port', 'failed-probes']


@pytest.mark.parametrize('machine', ['microvm', 'q35'])
def test_linux_virtio(kvm, machine, linux, initramfs, http_port, vireo,
                      tmp_path):
    # (kvm first: without /dev/kvm skip before fetching the kernel)
    vmlinux = linux[0]
    runs = {'vireo': vireo}
    qemu = os.environ.get('VIREO_QEMU') or shutil.which('qemu-system-x86_64')
    if qemu and not os.environ.get('VIREO_LINUX_NO_QEMU'):
        runs['qemu'] = qemu
    reps = {}
    for who, binary in runs.items():
        work = tmp_path / who
        work.mkdir()
        make_disk(work / 'disk.img')
        log, rc, secs, qmp_error = run_guest(binary, machine, vmlinux,
                                             initramfs, work, http_port,
                                             who == 'qemu')
        (work / 'serial.log').write_text(log)
        reps[who] = rep = report(log)
        print('%s %s: %.1f s, status %s; guest uptime at %s' % (
            machine, who, secs, rc, ', '.join(
                '%s %s' % (k[2:], v) for k, v in rep.items()
                if k.startswith('t-'))))
        check('%s %s' % (who, machine), log, rc, work, qmp_error)
    if 'qemu' in reps:
        diff = {k: (reps['vireo'].get(k), reps['qemu'].get(k)) for k in SAME
                if reps['vireo'].get(k) != reps['qemu'].get(k)}
        assert not diff, 'vireo and QEMU differ: %s' % diff
