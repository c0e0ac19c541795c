#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""qmp_vs_qemu.py: differential test of how the QMP input stream is split
and recovered, against QEMU 7.2.  Each input (fixed cases from issue 13,
then seeded random byte strings over JSON's significant characters and
some garbage) is sent, followed by 0xff (which puts both lexers into
recovery, whatever their state) and a query-status, to QEMU
(`-machine none`, TCG, one QMP client per input) and to qmp-replay (the
real QMP session and command table, no KVM).  The replies must agree:
the same number, the same error classes and texts, except for errors
about escapes in strings, which vireo's parser words its own way
(docs/qmp-reference.md, "Differences from QEMU 7.2").

Usage: qmp_vs_qemu.py QMP_REPLAY [RANDOM_CASES]; skips without QEMU.
"""
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time

QEMU = shutil.which('qemu-system-x86_64')
TAIL = b'\xff{"execute":"query-status","id":"end"}'

FIXED = [
    b'\x1b[A', b'[A', b'[[A', b'{"execute":"query-status\x00"}',
    b'{"execute":"query-status\\u0000"}', b'\x00',
    b'{"execute": @}', b'{"a":[1,@]}', b'{"execute": "a\nb"}',
    b'"a\\\x01"', b"'x\"y\x01", b'{"execute": 1.}', b'-x', b'01', b'True',
    b'@\t@ @"x"@', b'@\n@', b'@,@', b'@\x1b@', b'\xfe',
    b'{"execute": \x01 "query-status"}', b'{"execute": "\xc0\x80"}',
    b'{"execute":"query-status","id":\'sq\'}', b'1e{}', b'-0.5e+3 ',
]
ALPHABET = (b'{}[]:,"\'\\ \t\r\nabeflnrstuxAEQ0123456789-+.@\x00\x01\x1b'
            b'\x7f\xc0\x80\xc3\xa9\xfe')


def random_cases(rng, n):
    out = []
    for _ in range(n):
        k = rng.randrange(1, 40)
        out.append(bytes(rng.choice(ALPHABET) for _ in range(k)))
    return out


def split_replies(data):
    return [json.loads(line) for line in data.split(b'\r\n') if line]


def run_qemu(inputs):
    d = tempfile.mkdtemp(prefix='qmp-vs-qemu-')
    path = os.path.join(d, 'qmp.sock')
    proc = subprocess.Popen(
        [QEMU, '-machine', 'none', '-accel', 'tcg', '-display', 'none',
         '-nodefaults', '-qmp', 'unix:%s,server=on,wait=off' % path],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    results = []
    try:
        for data in inputs:
            s = socket.socket(socket.AF_UNIX)
            for _ in range(500):
                try:
                    s.connect(path)
                    break
                except (FileNotFoundError, ConnectionRefusedError):
                    time.sleep(0.01)
            s.settimeout(10)
            f = s.makefile('rb')
            f.readline()
            s.sendall(b'{"execute":"qmp_capabilities"}')
            f.readline()
            s.sendall(data + TAIL)
            replies = []
            while True:
                line = f.readline()
                if not line:
                    raise RuntimeError('QEMU closed the connection')
                r = json.loads(line)
                if 'event' in r:
                    continue
                replies.append(r)
                if r.get('id') == 'end':
                    break
            results.append(replies)
            f.close()
            s.close()
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(d, ignore_errors=True)
    return results


def run_vireo(replay, data):
    out = subprocess.run([replay], input=data + TAIL, capture_output=True,
                         timeout=30, check=True).stdout
    return split_replies(out)[2:]  # greeting, qmp_capabilities


# QEMU's parse errors about escapes in strings: vireo's parser words its
# own (docs/qmp-reference.md, "Differences from QEMU 7.2").
OWN_WORDS = ('escape', 'Unicode character')


def same(q, v):
    """Why QEMU's reply q and ours v disagree, or None."""
    if 'error' not in q or 'error' not in v:
        return None if q == v else 'replies differ'
    qe, ve = q['error'], v['error']
    if qe['class'] != ve['class'] or q.get('id') != v.get('id'):
        return 'error class or id differs'
    if any(w in qe['desc'] for w in OWN_WORDS):
        ok = ve['desc'].startswith('JSON parse error, ')
    else:
        ok = qe['desc'] == ve['desc']
    return None if ok else 'error text differs'


def main():
    if not QEMU:
        print('1..0 # SKIP qemu-system-x86_64 not installed')
        return 0
    replay = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    inputs = FIXED + random_cases(random.Random(13), count)
    qemu = run_qemu(inputs)
    print(f'1..{len(inputs)}')
    failed = 0
    for n, (data, q) in enumerate(zip(inputs, qemu), 1):
        v = run_vireo(replay, data)
        why = 'reply counts differ' if len(q) != len(v) else None
        for qr, vr in zip(q, v):
            why = why or same(qr, vr)
        if why:
            failed += 1
            print(f'not ok {n} {data!r}: {why}')
            print(f'# qemu  {q}')
            print(f'# vireo {v}')
        else:
            print(f'ok {n} {data!r}')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
