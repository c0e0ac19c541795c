#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""vm-snapshot-bench.py: whole-VM snapshot save, restore to running and
live migration of an idle guest whose RAM holds random data (issue 10),
vireo vs QEMU, with `cp` of the same file as the floor.

Both VMMs take the guest RAM from the same pre-filled file of random bytes,
`-object memory-backend-file,id=ram0,size=S,mem-path=F,share=off -machine
memory-backend=ram0` (private mapping: the file is not changed), and run
tests/guest/hlt.bin (the vCPU halts: an idle guest).  Over QMP (a unix
socket), with max-bandwidth set to 1 TiB/s ("unlimited"):

- save: `stop`, then `migrate` to a file (vireo `file:OUT`, QEMU
  `exec:cat > OUT`), timed from the command to query-migrate's
  "completed" (polled every 5 ms; query-migrate's total-time printed
  too);
- restore: a new process with `-S -incoming defer`, `migrate-incoming`
  from the file (vireo `file:`, QEMU `exec:cat FILE`), wait for
  "completed", `cont`: timed from the process's start to `cont`'s
  answer;
- live: a running source and a `-incoming defer` destination listening on
  a unix socket; `migrate unix:SOCK`; query-migrate's total-time and
  downtime on the source;
- cp: `cp` of the RAM file to a new file (page cache warm, no sync: as
  the VMMs' saves, which do not sync either).

Medians of N runs, interleaved.  QEMU's accelerator is --accel (kvm by
default; tcg runs anywhere: an idle guest's save/restore hardly depends
on it, the figures say which one was used).

usage: scripts/bench/vm-snapshot-bench.py [--build DIR] [--vmm vireo,qemu]
       [--size-mib 1024] [--runs N] [--accel kvm|tcg] [--dir DIR] [--dry-run]
"""
import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

UNLIMITED = 1 << 40


class QMP:
    """A minimal QMP client: one command at a time, events kept aside."""

    def __init__(self, path, timeout):
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.s.connect(path)
                break
            except OSError:
                self.s.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.002)
        self.f = self.s.makefile('rb')
        self.events = []
        self._read()  # greeting
        self.cmd('qmp_capabilities')

    def _read(self):
        line = self.f.readline()
        if not line:
            raise RuntimeError('QMP connection closed')
        return json.loads(line)

    def cmd(self, name, **args):
        self.s.sendall(json.dumps({'execute': name, 'arguments': args}).encode() + b'\n')
        while True:
            r = self._read()
            if 'event' in r:
                self.events.append(r)
                continue
            if 'error' in r:
                raise RuntimeError('%s: %s' % (name, r['error']))
            return r['return']

    def wait_migration(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            r = self.cmd('query-migrate')
            st = r.get('status')
            if st == 'completed':
                return r
            if st in ('failed', 'cancelled'):
                raise RuntimeError('migration %s: %s' % (st, r))
            time.sleep(0.005)
        raise RuntimeError('migration did not complete in %ss' % timeout)

    def close(self):
        self.s.close()


class Bench:
    def __init__(self, args):
        self.a = args
        self.dir = Path(args.dir)
        self.ram = self.dir / 'ram.src'
        self.n = 0

    def argv(self, vmm, extra):
        size = '%dM' % self.a.size_mib
        self.n += 1
        qmp = str(self.dir / ('qmp%d.sock' % self.n))
        common = ['-nodefaults', '-nographic', '-serial', 'none', '-m', size,
                  '-object', 'memory-backend-file,id=ram0,size=%s,mem-path=%s,'
                  'share=off' % (size, self.ram),
                  '-bios', str(Path(self.a.build) / 'tests' / 'guest' / 'hlt.bin'),
                  '-qmp', 'unix:%s,server=on,wait=off' % qmp] + extra
        if vmm == 'vireo':
            return [str(Path(self.a.build) / 'vireo'), '-M',
                    'microvm,memory-backend=ram0'] + common, qmp
        return [self.a.qemu, '-M', 'microvm,accel=%s,memory-backend=ram0'
                % self.a.accel] + common, qmp

    def start(self, vmm, extra=()):
        argv, qmp = self.argv(vmm, list(extra))
        t0 = time.monotonic()
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            q = QMP(qmp, self.a.timeout)
        except Exception:
            p.kill()
            raise RuntimeError('%s did not start: %s' % (
                vmm, p.communicate()[1].decode(errors='replace')[-500:]))
        q.cmd('migrate-set-parameters', **{'max-bandwidth': UNLIMITED})
        return p, q, t0

    def stop(self, p, q):
        try:
            q.cmd('quit')
        except (RuntimeError, OSError):
            pass
        q.close()
        try:
            p.wait(self.a.timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()

    def uri(self, vmm, path, out):
        if vmm == 'vireo':
            return 'file:%s' % path
        return 'exec:cat %s %s' % ('>' if out else '', path)

    def save(self, vmm):
        out = self.dir / ('%s.snap' % vmm)
        p, q, _ = self.start(vmm)
        q.cmd('stop')
        t = time.monotonic()
        q.cmd('migrate', uri=self.uri(vmm, out, True))
        r = q.wait_migration(self.a.timeout)
        wall = time.monotonic() - t
        self.stop(p, q)
        return {'save': wall, 'save_total': r.get('total-time', 0) / 1000,
                'size': out.stat().st_size}

    def restore(self, vmm):
        snap = self.dir / ('%s.snap' % vmm)
        p, q, t0 = self.start(vmm, ['-S', '-incoming', 'defer'])
        q.cmd('migrate-incoming', uri=self.uri(vmm, snap, False))
        q.wait_migration(self.a.timeout)
        q.cmd('cont')
        wall = time.monotonic() - t0
        st = q.cmd('query-status')
        if st.get('status') != 'running':
            raise RuntimeError('%s restore: status %s after cont' % (vmm, st))
        self.stop(p, q)
        return {'restore': wall}

    def live(self, vmm):
        sock = str(self.dir / 'mig.sock')
        if os.path.exists(sock):
            os.unlink(sock)
        dp, dq, _ = self.start(vmm, ['-incoming', 'defer'])
        sp, sq, _ = self.start(vmm)
        try:
            dq.cmd('migrate-incoming', uri='unix:' + sock)
            sq.cmd('migrate', uri='unix:' + sock)
            r = sq.wait_migration(self.a.timeout)
            dq.wait_migration(self.a.timeout)
            deadline = time.monotonic() + self.a.timeout
            while dq.cmd('query-status').get('status') != 'running':
                if time.monotonic() > deadline:
                    raise RuntimeError('%s live: destination not running' % vmm)
                time.sleep(0.005)
        finally:
            self.stop(sp, sq)
            self.stop(dp, dq)
        return {'live_total': r['total-time'] / 1000,
                'downtime': r['downtime'] / 1000}

    def cp(self):
        out = self.dir / 'cp.out'
        t = time.monotonic()
        subprocess.run(['cp', str(self.ram), str(out)], check=True)
        wall = time.monotonic() - t
        out.unlink()
        return {'save': wall}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--build', default='build')
    ap.add_argument('--qemu', default=shutil.which('qemu-system-x86_64'))
    ap.add_argument('--vmm', default='vireo,qemu')
    ap.add_argument('--accel', default='kvm', choices=('kvm', 'tcg'))
    ap.add_argument('--size-mib', type=int, default=1024)
    ap.add_argument('--runs', type=int, default=5)
    ap.add_argument('--parts', default='save,restore,live')
    ap.add_argument('--dir', default=None,
                    help='work directory (default: a new one under /var/tmp)')
    ap.add_argument('--timeout', type=float, default=300)
    ap.add_argument('--dry-run', action='store_true')
    args = ap.parse_args()
    vmms = args.vmm.split(',')
    parts = args.parts.split(',')
    if args.dry_run:
        args.dir = args.dir or 'DIR'
        b = Bench(args)
        for vmm in vmms:
            print(' '.join(b.argv(vmm, [])[0]))
        return
    made = args.dir is None
    if made:
        args.dir = tempfile_dir()
    b = Bench(args)
    try:
        with open(b.ram, 'wb') as f:
            for _ in range(args.size_mib):
                f.write(os.urandom(1 << 20))
        load0 = os.getloadavg()[0]
        samples = {}
        for _ in range(args.runs):
            for name, fn in [('cp', b.cp)] + [
                    (vmm, getattr(b, part)) for vmm in vmms for part in parts
                    if part != 'restore' or 'save' in parts]:
                if name == 'cp' and 'save' not in parts:
                    continue
                for k, v in (fn() if name == 'cp' else fn(name)).items():
                    samples.setdefault((name, k), []).append(v)
        load1 = os.getloadavg()[0]
    finally:
        if made:
            shutil.rmtree(args.dir, ignore_errors=True)
    print('Date: %s, load average %.2f at the start, %.2f at the end  '
          % (datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC'), load0, load1))
    print('Command: `%s`  ' % ' '.join(['scripts/bench/vm-snapshot-bench.py'] + sys.argv[1:]))
    print('Medians of %d runs (min in brackets); %d MiB guest RAM of random data; '
          'QEMU accel=%s.\n' % (args.runs, args.size_mib, args.accel))
    keys = [('save', 'save (to completed)'), ('save_total', 'save, query-migrate total-time'),
            ('size', 'snapshot size'), ('restore', 'restore to running (start to cont)'),
            ('live_total', 'live: total-time'), ('downtime', 'live: downtime')]
    names = ['cp'] + vmms
    print('| metric | ' + ' | '.join(names) + ' |')
    print('|---|' + '---|' * len(names))
    for k, label in keys:
        cells = []
        for name in names:
            v = samples.get((name, k))
            if not v:
                cells.append('')
            elif k == 'size':
                cells.append('%.1f MiB' % (statistics.median(v) / (1 << 20)))
            else:
                cells.append('%.1f ms (%.1f)' % (statistics.median(v) * 1000, min(v) * 1000))
        if any(cells):
            print('| %s | %s |' % (label, ' | '.join(cells)))


def tempfile_dir():
    import tempfile
    return tempfile.mkdtemp(prefix='vm-snapshot-bench.', dir='/var/tmp')


if __name__ == '__main__':
    main()
