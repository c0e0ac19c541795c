#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""guest-bench.py: the virtio test guest's request loops through a whole
VMM (issue 9, "through the guest"): vireo vs QEMU on the same image and
the same tap (in a network namespace of its own).

virtio-bench.bin (tests/guest/virtio-bench.c) checks a virtio-blk and a
virtio-net device like virtio.bin, then runs 20000 requests on each, one
in flight (blk: 4 KiB reads and writes by turns on a raw file; net: 60-byte
transmitted frames into a tap; the script re-runs itself under
`unshare -n` (as root), creates the tap there and answers the guest's
first frame on it through an AF_PACKET socket), each loop
between "bench: DEV start N" and "bench: DEV done N" lines on COM1.  When
such a line arrives this script reads the VMM's per-thread CPU time
(/proc/PID/task/*/schedstat, ns; stat's utime+stime if schedstat is
missing) and the clock, so for each loop it reports wall time, requests/s,
and CPU per request in the vCPU threads (comm "CPU N/KVM", "CPU N/TCG":
vireo names its vCPU threads as QEMU does with -name debug-threads=on) and in all the other threads
(main loop, I/O workers: the VMM's own cost).  The totals of threads that
exit inside a loop are missed; the process's own utime+stime (which keeps
them) is printed as a check.

The peer comparison needs KVM for both (--accel kvm, the default).  With
--accel tcg QEMU runs here, which only checks the script: TCG's vCPU
thread also runs the device emulation's exits in-line, so its figures are
no QEMU-with-KVM figures.

usage: scripts/bench/guest-bench.py [--build DIR] [--vmm vireo,qemu]
       [--machine microvm,q35] [--runs N] [--accel kvm|tcg] [--dry-run]
"""
import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

GUEST_MAC = '52:54:00:12:34:56'
HOST_MAC = '52:54:00:ab:cd:ef'
VCPU_COMM = re.compile(r'^CPU \d+/(KVM|TCG)$')
TICK = os.sysconf('SC_CLK_TCK')
VERBOSE = False
TAP = 'bench0'
ETH_P_ALL = 3


def vmm_argv(vmm, machine, args, tmp):
    pci = machine == 'q35'
    dev = (lambda n: n + ('-pci' if pci else '-device'))
    a = ['-nodefaults', '-nographic', '-serial', 'stdio', '-m', '16M',
         '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04',
         '-bios', str(Path(args.build) / 'tests' / 'guest' / 'virtio-bench.bin')]
    a += ['-drive', 'file=%s/disk.img,format=raw,if=none,id=d0,cache=%s,aio=threads'
          % (tmp, args.cache),
          '-device', dev('virtio-blk') + ',drive=d0',
          '-netdev', 'tap,id=n0,ifname=%s,script=no,downscript=no' % TAP,
          '-device', '%s,netdev=n0,mac=%s' % (dev('virtio-net'), GUEST_MAC)]
    if vmm == 'vireo':
        return [str(Path(args.build) / 'vireo'), '-M', machine] + a
    # QEMU names its threads ("CPU 0/KVM", "worker") only when asked to;
    # its virtio-mmio is legacy unless told (vireo's is version 2 only)
    return [args.qemu, '-M', '%s,accel=%s' % (machine, args.accel),
            '-name', 'debug-threads=on'] + (
                [] if pci else ['-global', 'virtio-mmio.force-legacy=false']) + a


def threads_cpu(pid):
    """{tid: (comm, cpu seconds)} of every live thread of pid."""
    out = {}
    for t in os.listdir('/proc/%d/task' % pid):
        base = '/proc/%d/task/%s/' % (pid, t)
        try:
            comm = open(base + 'comm').read().rstrip('\n')
            try:
                cpu = int(open(base + 'schedstat').read().split()[0]) / 1e9
            except (OSError, IndexError, ValueError):
                f = open(base + 'stat').read().rsplit(')', 1)[1].split()
                cpu = (int(f[11]) + int(f[12])) / TICK
        except OSError:
            continue
        out[t] = (comm, cpu)
    return out


def process_cpu(pid):
    f = open('/proc/%d/stat' % pid).read().rsplit(')', 1)[1].split()
    return (int(f[11]) + int(f[12])) / TICK


def net_host(sock, count):
    """Answers the guest's first frame (its net-rx check), then drains."""
    frame = (bytes.fromhex(GUEST_MAC.replace(':', '')) +
             bytes.fromhex(HOST_MAC.replace(':', '')) + b'\x88\xb5' +
             b'vireo virtio-net host to guest').ljust(60, b'\0')
    while True:
        try:
            sock.recv(65536)
        except OSError:
            return
        count[0] += 1
        if count[0] == 1:
            sock.send(frame)


def one_run(vmm, machine, args):
    """One VMM run: {dev: {'reqs', 'wall', 'vcpu', 'other', 'proc'}}."""
    with tempfile.TemporaryDirectory(prefix='guest-bench.') as tmp:
        with open(tmp + '/disk.img', 'wb') as f:
            f.truncate(16 << 20)
        sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                             socket.htons(ETH_P_ALL))
        sock.bind((TAP, ETH_P_ALL))
        count = [0]
        threading.Thread(target=net_host, args=(sock, count),
                         daemon=True).start()
        argv = vmm_argv(vmm, machine, args, tmp)
        p = subprocess.Popen(argv, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        marks, lines = {}, []
        timer = threading.Timer(args.timeout, p.kill)
        timer.start()
        try:
            for raw in p.stdout:
                now = time.monotonic()
                line = raw.decode(errors='replace').rstrip('\r\n')
                lines.append(line)
                m = re.match(r'bench: (\w+) (start|done) (\d+)$', line)
                if m:
                    marks[m.group(1), m.group(2)] = (
                        now, threads_cpu(p.pid), process_cpu(p.pid),
                        int(m.group(3)))
                    if m.group(2) == 'done':  # the guest waits for this
                        p.stdin.write(b'g')
                        p.stdin.flush()
            err = p.stderr.read().decode(errors='replace')
            p.wait()
        finally:
            timer.cancel()
            sock.close()
        text = '\n'.join(lines)
        if p.returncode != 1 or 'FAIL' in text or ' 0 failed' not in text:
            raise RuntimeError('%s %s: status %s\n%s\n%s' % (
                vmm, machine, p.returncode, text[-1500:], err[-500:]))
    res = {}
    for dev in ('blk', 'net'):
        t0, th0, pc0, _ = marks[dev, 'start']
        t1, th1, pc1, n = marks[dev, 'done']
        vcpu = other = 0.0
        for tid, (comm, cpu) in th1.items():
            d = cpu - th0.get(tid, (comm, 0.0))[1]
            if VERBOSE:
                print('%s %s %s: thread %s %r %.3f s' % (vmm, machine, dev, tid,
                                                        comm, d), file=sys.stderr)
            if VCPU_COMM.match(comm):
                vcpu += d
            else:
                other += d
        res[dev] = {'reqs': n, 'wall': t1 - t0, 'vcpu': vcpu, 'other': other,
                    'proc': pc1 - pc0}
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--build', default='build')
    ap.add_argument('--qemu', default=shutil.which('qemu-system-x86_64'))
    ap.add_argument('--vmm', default='vireo,qemu')
    ap.add_argument('--machine', default='microvm,q35')
    ap.add_argument('--accel', default='kvm', choices=('kvm', 'tcg'),
                    help="QEMU's accelerator (tcg: a check of the script)")
    ap.add_argument('--runs', type=int, default=5)
    ap.add_argument('--timeout', type=float, default=600)
    ap.add_argument('--dry-run', action='store_true',
                    help='print the command lines and stop')
    ap.add_argument('--verbose', action='store_true',
                    help="each thread's CPU time per loop on stderr")
    # under nested KVM a request now and then times out in the guest, with
    # QEMU as with vireo: --retries runs that one again (reported)
    ap.add_argument('--retries', type=int, default=0,
                    help='run a failed VMM run again, up to N times (counted)')
    # tmpfs has no O_DIRECT: writeback there
    ap.add_argument('--cache', default='none',
                    choices=('none', 'writeback', 'unsafe'),
                    help='the disk image\'s cache= for both VMMs (default none)')
    args = ap.parse_args()
    global VERBOSE
    VERBOSE = args.verbose
    vmms = args.vmm.split(',')
    machines = args.machine.split(',')
    if args.dry_run:
        for vmm in vmms:
            for machine in machines:
                print(' '.join(vmm_argv(vmm, machine, args, 'TMP')))
        return
    if not (Path(args.build) / 'tests' / 'guest' / 'virtio-bench.bin').exists():
        sys.exit('guest-bench.py: build first (ninja -C %s)' % args.build)
    if os.environ.get('GUEST_BENCH_NETNS') != '1':
        # a network namespace of our own for the tap (needs root)
        env = dict(os.environ, GUEST_BENCH_NETNS='1')
        sys.exit(subprocess.run(['unshare', '-n', sys.executable] + sys.argv,
                                env=env).returncode)
    for cmd in (['ip', 'tuntap', 'add', TAP, 'mode', 'tap'],
                ['ip', 'link', 'set', TAP, 'up']):
        subprocess.run(cmd, check=True)
    load0 = os.getloadavg()[0]
    samples = {}
    failed = {}
    for _ in range(args.runs):  # interleaved
        for machine in machines:
            for vmm in vmms:
                for attempt in range(args.retries + 1):
                    try:
                        res = one_run(vmm, machine, args)
                        break
                    except RuntimeError as e:
                        if attempt == args.retries:
                            raise
                        failed[vmm, machine] = failed.get((vmm, machine), 0) + 1
                        why = [l for l in str(e).splitlines()
                               if 'FAIL' in l or l.startswith('bench:')]
                        print('guest-bench.py: failed run, retried: %s'
                              % '; '.join(str(e).splitlines()[:1] + why),
                              file=sys.stderr)
                for dev, r in res.items():
                    samples.setdefault((machine, vmm, dev), []).append(r)
    print('Date: %s, load average %.2f at the start, %.2f at the end  '
          % (datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC'), load0,
             os.getloadavg()[0]))
    print('Command: `%s`  ' % ' '.join(['scripts/bench/guest-bench.py'] + sys.argv[1:]))
    print('Medians of %d runs; QEMU accel=%s; per request: CPU time (us).\n'
          % (args.runs, args.accel))
    for (vmm, machine), n in sorted(failed.items()):
        print('Retried: %s %s, %d failed run%s (a request timed out)  '
              % (vmm, machine, n, '' if n == 1 else 's'))
    print('| machine | VMM | loop | requests | wall | requests/s | '
          'CPU/req outside vCPUs | CPU/req vCPUs | process CPU/req (check) |')
    print('|---|---|---|---|---|---|---|---|---|')
    for (machine, vmm, dev), rs in samples.items():
        med = (lambda k: statistics.median(r[k] for r in rs))
        n = rs[0]['reqs']
        print('| %s | %s%s | %s | %d | %.3f s | %.0f | %.2f us | %.2f us | %.2f us |' % (
            machine, vmm, '' if vmm == 'vireo' else ' (%s)' % args.accel, dev, n,
            med('wall'), n / med('wall'), med('other') / n * 1e6,
            med('vcpu') / n * 1e6, med('proc') / n * 1e6))


if __name__ == '__main__':
    main()
