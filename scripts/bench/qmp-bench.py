#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""qmp-bench.py: QMP round-trip rate of query-status, vireo against QEMU on
the same idle guest (tests/guest/hlt.bin, running), and the RSS growth of
each process over a long run of commands (default 100000).

Usage: scripts/bench/qmp-bench.py [--vireo PATH] [--qemu PATH]
           [--guest hlt.bin] [--count 100000] [--warmup 1000]

One client, one command in flight (send, wait for the reply), as libvirt
drives QMP.  Reports round trips per second, mean and p99 latency in
microseconds, the rate with 100 commands pipelined per write (the
server's own cost), and VmRSS before/after both runs (2 x count commands).
The same client against an echo process that does no work gives the floor
the client and kernel put under every figure (an upper bound: the echo
process is Python too).
"""
import argparse
import multiprocessing
import os
import socket
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT / 'tests' / 'functional'))

from qmp_client import VM, find_guest, find_qemu, find_vireo  # noqa: E402


def bench(binary, guest, count, warmup, qemu):
    vm = VM(binary, guest, qemu=qemu, paused=False)
    try:
        c = vm.qmp()
        msg = b'{"execute": "query-status"}\r\n'
        for _ in range(warmup):
            c.send_raw(msg)
            c.recv_line()
        rss0 = vm.rss_kib()
        lat = []
        # a tight blocking loop: the client's own cost is part of what is
        # measured, so keep it small (no timeouts, one recv per reply)
        sock = c.sock
        sock.settimeout(None)
        clock = time.perf_counter
        t0 = clock()
        for _ in range(count):
            t = clock()
            sock.sendall(msg)
            line = sock.recv(4096)
            while not line.endswith(b'\r\n'):
                line += sock.recv(4096)
            lat.append(clock() - t)
            if not line.startswith(b'{"return"'):
                raise RuntimeError('bad reply %r' % line)
        elapsed = clock() - t0
        # pipelined: 100 commands per write, then their 100 replies; shows
        # the server's own cost with the client's round trip amortised
        batch = msg * 100
        t1 = time.perf_counter()
        for _ in range(max(1, count // 100)):
            c.send_raw(batch)
            for _ in range(100):
                c.recv_line()
        piped = max(1, count // 100) * 100 / (time.perf_counter() - t1)
        rss1 = vm.rss_kib()
        lat.sort()
        return {
            'rate': count / elapsed,
            'piped': piped,
            'mean_us': 1e6 * sum(lat) / len(lat),
            'p99_us': 1e6 * lat[int(len(lat) * 0.99)],
            'rss0': rss0, 'rss1': rss1,
        }
    finally:
        vm.stop()


def echo_server(path, ready):
    """A server that answers every line with a fixed reply: no parsing,
    no dispatch.  Its round trip is the client+kernel floor."""
    reply = (b'{"return": {"running": true, "singlestep": false, '
             b'"status": "running"}}\r\n')
    ls = socket.socket(socket.AF_UNIX)
    ls.bind(path)
    ls.listen(1)
    ready.set()
    c, _ = ls.accept()
    while True:
        d = c.recv(4096)
        if not d:
            return
        c.sendall(reply * d.count(b'\n'))


def bench_floor(count):
    d = tempfile.mkdtemp()
    path = os.path.join(d, 'echo.sock')
    ready = multiprocessing.Event()
    proc = multiprocessing.Process(target=echo_server, args=(path, ready))
    proc.start()
    ready.wait()
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    msg = b'{"execute": "query-status"}\r\n'
    clock = time.perf_counter
    t0 = clock()
    for _ in range(count):
        s.sendall(msg)
        line = s.recv(4096)
        while not line.endswith(b'\r\n'):
            line += s.recv(4096)
    mean = 1e6 * (clock() - t0) / count
    s.close()
    proc.join()
    os.unlink(path)
    os.rmdir(d)
    return mean


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--vireo', default=None)
    ap.add_argument('--qemu', default=None)
    ap.add_argument('--guest', default=None)
    ap.add_argument('--count', type=int, default=100000)
    ap.add_argument('--warmup', type=int, default=1000)
    args = ap.parse_args()
    vireo = args.vireo or find_vireo()
    qemu = args.qemu or find_qemu()
    guest = args.guest or find_guest('hlt')
    if not vireo or not guest:
        sys.exit('need the vireo binary and tests/guest/hlt.bin (build first)')
    rows = [('vireo', bench(vireo, guest, args.count, args.warmup, False))]
    if qemu:
        rows.append(('qemu', bench(qemu, guest, args.count, args.warmup,
                                   True)))
    print('%d x query-status, one in flight, idle guest %s' %
          (args.count, os.path.basename(str(guest))))
    print('%-6s %12s %10s %10s %12s %10s %10s %8s' % (
        'vmm', 'round-trip/s', 'mean us', 'p99 us', 'pipelined/s',
        'RSS0 KiB', 'RSS1 KiB', 'growth'))
    for name, r in rows:
        print('%-6s %12.0f %10.1f %10.1f %12.0f %10d %10d %+8d' % (
            name, r['rate'], r['mean_us'], r['p99_us'], r['piped'],
            r['rss0'], r['rss1'], r['rss1'] - r['rss0']))
    floor = bench_floor(args.count)
    print('floor (same client, a Python echo process that does no work): '
          '%.1f us' % floor)
    if len(rows) == 2:
        v, q = rows[0][1]['mean_us'], rows[1][1]['mean_us']
        print('vireo mean round trip = %.3f x QEMU\'s; above the floor: '
              '%.1f us vs %.1f us = %.3f x' %
              (v / q, v - floor, q - floor, (v - floor) / (q - floor)))


if __name__ == '__main__':
    main()
