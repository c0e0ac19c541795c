#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""blk-bench.py: the device-level virtio-blk benchmark of issue 9.

vireo's virtio-blk device model (scripts/bench/blk-bench.c: rings in a fake
guest RAM, io_uring backend, cache=none) against fio doing the same I/O on
the same file (--ioengine=io_uring --direct=1, 4 KiB random reads and
writes, queue depth 1 and 32).  Runs alternate between the two so that the
noise of a shared machine hits both alike; each figure is the median of
--reps runs.  Prints a markdown table for docs/performance.md.

usage: blk-bench.py BUILD_DIR [--file PATH] [--seconds N] [--reps N]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys


def make_image(path, size):
    if os.path.exists(path) and os.path.getsize(path) == size:
        return
    # real data: reads of never-written extents cost the disk nothing
    with open(path, 'wb') as f:
        for _ in range(size // (1 << 20)):
            f.write(os.urandom(1 << 20))
        os.fsync(f.fileno())


def run_vireo(build, path, rw, depth, secs, aio):
    out = subprocess.run(
        [os.path.join(build, 'scripts/bench/blk-bench'), path, rw,
         str(depth), str(secs), aio, 'none'],
        check=True, capture_output=True, text=True).stdout
    kv = dict(x.split('=') for x in out.split())
    return float(kv['iops']), float(kv['cpu_us_per_req'])


def run_fio(path, rw, depth, secs):
    out = subprocess.run(
        ['fio', '--name=bench', '--filename=' + path, '--ioengine=io_uring',
         '--direct=1', '--rw=rand' + rw, '--bs=4k',
         '--iodepth=%d' % depth, '--runtime=%g' % secs, '--time_based',
         '--output-format=json'],
        check=True, capture_output=True, text=True).stdout
    job = json.loads(out)['jobs'][0]
    io = job['read' if rw == 'read' else 'write']
    runtime = job['job_runtime'] / 1000.0
    cpu = (job['usr_cpu'] + job['sys_cpu']) / 100.0 * runtime
    return io['iops'], cpu / io['total_ios'] * 1e6


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('build')
    ap.add_argument('--file', default='/tmp/vireo-blkbench/img.raw')
    ap.add_argument('--seconds', type=float, default=5)
    ap.add_argument('--reps', type=int, default=3)
    ap.add_argument('--threads', action='store_true',
                    help='also run vireo with aio=threads')
    a = ap.parse_args()
    os.makedirs(os.path.dirname(a.file), exist_ok=True)
    make_image(a.file, 1 << 30)
    rows = []
    for rw in ('read', 'write'):
        for depth in (1, 32):
            res = {'vireo': [], 'fio': [], 'threads': []}
            for _ in range(a.reps):
                res['vireo'].append(run_vireo(a.build, a.file, rw, depth,
                                              a.seconds, 'io_uring'))
                res['fio'].append(run_fio(a.file, rw, depth, a.seconds))
                if a.threads:
                    res['threads'].append(run_vireo(a.build, a.file, rw,
                                                    depth, a.seconds,
                                                    'threads'))
            med = {k: (statistics.median(x[0] for x in v),
                       statistics.median(x[1] for x in v))
                   for k, v in res.items() if v}
            rows.append((rw, depth, med, res))
    print('| 4 KiB random | depth | vireo req/s | fio req/s | ratio | '
          'vireo CPU us/req | fio CPU us/req |' +
          (' vireo aio=threads req/s | threads CPU us/req |'
           if a.threads else ''))
    print('|---|---|---|---|---|---|---|' + ('---|---|' if a.threads else ''))
    for rw, depth, med, res in rows:
        v, f = med['vireo'], med['fio']
        line = '| %s | %d | %.0f | %.0f | %.2fx | %.1f | %.1f |' % (
            rw, depth, v[0], f[0], v[0] / f[0], v[1], f[1])
        if a.threads:
            line += ' %.0f | %.1f |' % med['threads']
        print(line)
    print()
    print('runs (req/s): ' + '; '.join(
        '%s qd%d vireo %s fio %s' % (
            rw, depth, [round(x[0]) for x in res['vireo']],
            [round(x[0]) for x in res['fio']])
        for rw, depth, med, res in rows))
    return 0


if __name__ == '__main__':
    sys.exit(main())
