#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""boot-bench.py: time from process start to the real kernel's milestones,
vireo vs QEMU microvm vs QEMU q35, same kernel and command line (issue 3).

The kernel is Debian's linux-image-cloud-amd64, fetched with
`apt-get download`, unpacked, and its vmlinux decompressed from the
bzImage payload (PVH boot); the initramfs is busybox-static with an /init
that prints a line and powers off.  Milestones, read from the serial
console as the guest writes it:
  linux    'Linux version'
  fxsave   'x86/fpu: x87 FPU will use FXSAVE'
  init     'vireo-initramfs: init running' (reached only where the guest
           runs natively; on the test machine KVM's emulator stops the
           kernel at its first int3, see DESIGN.md)
Prints a markdown table of median seconds per milestone and the ratio per
pair (vireo/microvm, vireo/q35, microvm/q35).  Stdlib only.

usage: scripts/bench/boot-bench.py [--build DIR] [--runs N] [--timeout S]
                                   [--cache DIR] [--qemu PATH]
       scripts/bench/boot-bench.py --prepare-only --cache DIR
"""
import argparse
import gzip
import os
import selectors
import shutil
import signal
import stat
import statistics
import struct
import subprocess
import sys
import time
from pathlib import Path

CMDLINE = ('console=ttyS0 earlyprintk=serial noxsave clearcpuid=cx16 '
           'mitigations=off')
MILESTONES = [
    ('linux', 'Linux version'),
    ('fxsave', 'x86/fpu: x87 FPU will use FXSAVE'),
    ('init', 'vireo-initramfs: init running'),
]
INIT = b'''#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox echo "vireo-initramfs: init running, $(/bin/busybox nproc) cpus"
/bin/busybox poweroff -f
'''


def sh(argv, cwd):
    subprocess.run(argv, cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def cpio_newc(files):
    """files: [(name, mode, data)] -> newc archive bytes."""
    out = bytearray()

    def entry(ino, name, mode, data):
        nb = name.encode() + b'\0'
        fields = (ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(nb), 0)
        out.extend(b'070701' + ''.join('%08x' % v for v in fields).encode())
        out.extend(nb)
        out.extend(b'\0' * (-len(out) % 4))
        out.extend(data)
        out.extend(b'\0' * (-len(out) % 4))
    for i, (name, mode, data) in enumerate(files):
        entry(i + 1, name, mode, data)
    entry(len(files) + 1, 'TRAILER!!!', 0, b'')
    return bytes(out)


def extract_vmlinux(bzimage):
    """The uncompressed ELF from a bzImage's payload (LZ4, as Debian
    builds it; gzip/xz/zstd too if their tools are installed)."""
    d = bzimage.read_bytes()
    if d[0x202:0x206] != b'HdrS':
        raise SystemExit('%s: not a bzImage' % bzimage)
    setup = ((d[0x1f1] or 4) + 1) * 512
    off, length = struct.unpack_from('<II', d, 0x248)
    payload = d[setup + off:setup + off + length]
    if length < 8 or setup + off + length > len(d):
        raise SystemExit('%s: bad payload_offset/payload_length' % bzimage)
    out = bzimage.parent / 'vmlinux'
    comp = bzimage.parent / 'payload'
    # The kernel build appends the decompressed size (4 bytes) after the
    # stream; unlz4 calls that trailing garbage, so leave it out.
    comp.write_bytes(payload[:-4] if payload[:4] == b'\x02\x21\x4c\x18'
                     else payload)
    if payload[:4] == b'\x02\x21\x4c\x18':
        cmd = ['unlz4', '-f', '-q', str(comp), str(out)]
    elif payload[:2] == b'\x1f\x8b':
        out.write_bytes(gzip.decompress(payload))
        cmd = None
    elif payload[:6] == b'\xfd7zXZ\x00':
        cmd = ['sh', '-c', 'xz -dc "$0" > "$1"', str(comp), str(out)]
    elif payload[:4] == b'\x28\xb5\x2f\xfd':
        cmd = ['zstd', '-d', '-f', '-q', str(comp), '-o', str(out)]
    else:
        raise SystemExit('unknown payload compression %s' % payload[:6].hex())
    if cmd:
        subprocess.run(cmd, check=True)
    comp.unlink()
    if out.read_bytes()[:4] != b'\x7fELF':
        raise SystemExit('decompressed payload is not an ELF')
    return out


def prepare(cache):
    """Fetches and unpacks the kernel and busybox once into cache; returns
    (vmlinux, initramfs)."""
    cache = Path(cache)
    vmlinux, initrd = cache / 'vmlinux', cache / 'initramfs.cpio.gz'
    if vmlinux.exists() and initrd.exists():
        return vmlinux, initrd
    cache.mkdir(parents=True, exist_ok=True)
    for pkg in ('linux-image-cloud-amd64', 'busybox-static'):
        if pkg == 'linux-image-cloud-amd64':
            # the metapackage depends on the versioned image package
            dep = subprocess.run(['apt-cache', 'depends', pkg], check=True,
                                 capture_output=True, text=True).stdout
            pkg = [l.split(':', 1)[1].strip() for l in dep.splitlines()
                   if l.strip().startswith('Depends:')][0]
        sh(['apt-get', 'download', pkg], cache)
    for deb in cache.glob('*.deb'):
        sh(['dpkg-deb', '-x', str(deb), 'root'], cache)
    vmlinuz = sorted((cache / 'root' / 'boot').glob('vmlinuz-*'))[0]
    extracted = extract_vmlinux(vmlinuz)
    extracted.rename(vmlinux)
    busybox = (cache / 'root' / 'bin' / 'busybox').read_bytes()
    files = [('bin', stat.S_IFDIR | 0o755, b''),
             ('proc', stat.S_IFDIR | 0o755, b''),
             ('dev', stat.S_IFDIR | 0o755, b''),
             ('bin/busybox', stat.S_IFREG | 0o755, busybox),
             ('init', stat.S_IFREG | 0o755, INIT)]
    initrd.write_bytes(gzip.compress(cpio_newc(files), 1))
    return vmlinux, initrd


def drain(proc, sel, seconds):
    """What proc still writes until it exits (EOF) or seconds pass."""
    out = b''
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if not sel.select(timeout=0.5):
            if proc.poll() is not None:
                break
            continue
        chunk = os.read(proc.stdout.fileno(), 65536)
        if not chunk:
            break
        out += chunk
    try:
        proc.wait(max(0.1, end - time.monotonic()))
    except subprocess.TimeoutExpired:
        pass
    return out


def boot(argv, timeout, idle=20, exit_wait=0):
    """Runs argv with the serial console on stdout; returns
    ({milestone: seconds}, output, status) and stops the VMM once the last
    milestone is seen, on exit, at timeout, or when it has printed nothing
    for `idle` seconds after the FXSAVE line (the guest is stuck at the
    emulator's int3: QEMU then spins forever).  With exit_wait, the VMM
    gets that many seconds after the last milestone to exit by itself (the
    init powers off), so that its status is its own, not SIGKILL's."""
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    out = b''
    seen = {}
    last = start
    try:
        while time.monotonic() - start < timeout:
            if not sel.select(timeout=0.5):
                if proc.poll() is not None:
                    break
                if 'fxsave' in seen and time.monotonic() - last > idle:
                    break
                continue
            last = time.monotonic()
            chunk = os.read(proc.stdout.fileno(), 65536)
            if not chunk:
                break
            out += chunk
            now = time.monotonic() - start
            text = out.decode(errors='replace')
            for name, needle in MILESTONES:
                if name not in seen and needle in text:
                    seen[name] = now
            if 'init' in seen:
                break
        if 'init' in seen and exit_wait:
            out += drain(proc, sel, exit_wait)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    return seen, out.decode(errors='replace'), proc.returncode


def vmm_commands(args, vmlinux, initrd):
    common = ['-m', '512M', '-smp', '2', '-nodefaults', '-nographic',
              '-serial', 'stdio', '-kernel', str(vmlinux), '-initrd',
              str(initrd), '-append', CMDLINE]
    cmds = {'vireo': [str(Path(args.build) / 'vireo'), '-cpu',
                      'qemu64,-cx16'] + common}
    qemu = args.qemu or shutil.which('qemu-system-x86_64')
    if qemu:
        # QEMU 7.2's -cpu host/max abort on this machine (MSR 0x10a)
        cmds['microvm'] = [qemu, '-M', 'microvm,accel=kvm', '-cpu',
                           'qemu64,-cx16'] + common
        cmds['q35'] = [qemu, '-M', 'q35,accel=kvm', '-cpu',
                       'qemu64,-cx16'] + common
    return cmds


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--build', default='build')
    ap.add_argument('--runs', type=int, default=1)
    ap.add_argument('--timeout', type=float, default=180)
    ap.add_argument('--cache', default=os.path.expanduser(
        '~/.cache/vireo-boot-bench'))
    ap.add_argument('--qemu')
    ap.add_argument('--prepare-only', action='store_true')
    args = ap.parse_args()
    vmlinux, initrd = prepare(args.cache)
    if args.prepare_only:
        print(vmlinux)
        print(initrd)
        return 0
    cmds = vmm_commands(args, vmlinux, initrd)
    times = {vmm: {m: [] for m, _ in MILESTONES} for vmm in cmds}
    for _ in range(args.runs):
        for vmm, argv in cmds.items():
            seen, out, rc = boot(argv, args.timeout)
            for m, t in seen.items():
                times[vmm][m].append(t)
            print('%s: %s (status %s)' % (vmm, ', '.join(
                '%s %.2fs' % kv for kv in seen.items()) or 'no milestone',
                rc), file=sys.stderr)

    def med(vmm, m):
        v = times[vmm][m]
        return statistics.median(v) if v else None

    def fmt(x):
        return '%.2f' % x if x is not None else '-'
    pairs = [(a, b) for a, b in (('vireo', 'microvm'), ('vireo', 'q35'),
                                 ('microvm', 'q35')) if a in cmds and b in cmds]
    print('| milestone | ' + ' | '.join('%s s' % v for v in cmds) + ' | ' +
          ' | '.join('%s/%s' % p for p in pairs) + ' |')
    print('|' + '---|' * (1 + len(cmds) + len(pairs)))
    for m, _ in MILESTONES:
        row = [fmt(med(v, m)) for v in cmds]
        for a, b in pairs:
            x, y = med(a, m), med(b, m)
            row.append('%.2f' % (x / y) if x and y else '-')
        print('| %s | %s |' % (m, ' | '.join(row)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
