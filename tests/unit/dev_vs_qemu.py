#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""dev_vs_qemu.py: differential test of the 16550A and i8042 register
models against QEMU 7.2.  Seeded random programs of port accesses run in
QEMU (microvm, paused, driven through qtest on stdio) and in dev-replay
(our cores); every read must agree except for the documented differences:

  - 16550A FIFO character timeout: QEMU raises it from a timer that never
    fires in a paused qtest machine, vireo at once (line idle between input
    batches), so IIR may read 0xcc here where QEMU reads 0xc1/0xc2 -- and
    a THRE interrupt QEMU cleared by reporting it may still be pending here;
    a program is compared up to its first such read;
  - MSR delta bits (low nibble): vireo latches them when loopback changes
    the modem inputs, as the 8250 does; QEMU never sets them.  IER.MSI is
    left out of the programs and MSR reads compare the high nibble;
  - i8042 status bit 3 (last write went to port 0x64): vireo tracks it,
    QEMU leaves it set.

Usage: dev_vs_qemu.py DEV_REPLAY [PROGRAMS]; exit 77 (skip) without QEMU.
"""
import random
import shutil
import subprocess
import sys

QEMU = shutil.which('qemu-system-x86_64')


def uart_program(rng, n):
    prog = []
    for _ in range(n):
        reg = rng.randrange(8)
        if rng.random() < 0.5:
            if reg == 3:
                val = rng.choice([0x03, 0x83, 0x1b, 0x80, rng.randrange(256)])
            elif reg == 4:
                val = rng.choice([0x10, 0x1f, 0x0b, 0x00, 0x13,
                                  rng.randrange(32)])
            elif reg == 2:
                val = rng.choice([0x00, 0x01, 0x07, 0x41, 0x81, 0xc1, 0xc7,
                                  rng.randrange(256)])
            elif reg == 1:
                val = rng.choice([0x00, 0x07, 0x02, 0x01, 0x05, 0x06,
                                  rng.randrange(256)]) & ~0x08
            else:
                val = rng.randrange(256)
            prog.append(('w', 0x3f8 + reg, val))
        else:
            prog.append(('r', 0x3f8 + reg))
    return prog


# The i8042 part follows what drivers do: a command, then its answer is
# read (status, data) before the next one.  vireo models one output queue
# while QEMU keeps controller answers and each PS/2 device's bytes apart,
# so interleaved unread answers are out of scope here.
KBC_SIMPLE = {0x20: 1, 0xa7: 0, 0xa8: 0, 0xa9: 1, 0xaa: 1, 0xab: 1,
              0xad: 0, 0xae: 0}
KBC_DATA = {0x60: 0, 0xd2: 1, 0xd3: 1}
KBD_REPLY = {0xee: 1, 0xf2: 3, 0xf4: 1, 0xf5: 1, 0xf6: 1, 0xff: 2}
AUX_REPLY = {0xf2: 2, 0xf4: 1, 0xf5: 1, 0xf6: 1, 0xff: 3}


def kbc_program(rng, n):
    prog = []

    def drain(k):
        for _ in range(k):
            prog.append(('r', 0x64))
            prog.append(('r', 0x60))
        prog.append(('r', 0x64))

    while len(prog) < n:
        x = rng.random()
        if x < 0.35:
            cmd = rng.choice(list(KBC_SIMPLE))
            prog.append(('w', 0x64, cmd))
            drain(KBC_SIMPLE[cmd])
        elif x < 0.6:
            cmd = rng.choice(list(KBC_DATA))
            val = (rng.choice([0x03, 0x01, 0x02, 0x00, 0x43, 0x47])
                   if cmd == 0x60 else rng.randrange(256))
            prog.append(('w', 0x64, cmd))
            prog.append(('w', 0x60, val))
            drain(KBC_DATA[cmd])
        elif x < 0.8:
            cmd = rng.choice(list(KBD_REPLY))
            prog.append(('w', 0x60, cmd))
            drain(KBD_REPLY[cmd])
        else:
            cmd = rng.choice(list(AUX_REPLY))
            prog.append(('w', 0x64, 0xd4))
            prog.append(('w', 0x60, cmd))
            drain(AUX_REPLY[cmd])
    return prog


def run_qemu(machine, prog):
    cmds = ''.join(f'outb 0x{p[1]:x} 0x{p[2]:x}\n' if p[0] == 'w' else
                   f'inb 0x{p[1]:x}\n' for p in prog)
    q = subprocess.Popen([QEMU, '-machine', machine, '-accel', 'tcg', '-S',
                          '-nodefaults', '-serial', 'null', '-display', 'none',
                          '-qtest', 'stdio'],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True)
    q.stdin.write(cmds)
    q.stdin.flush()
    out, got = [], 0
    while got < len(prog):
        line = q.stdout.readline()
        if not line:
            break
        if line.startswith('OK') or line.startswith('FAIL'):
            got += 1
            if line.startswith('OK 0x'):
                out.append(int(line.split()[1], 16))
    q.kill()
    q.wait()
    return out


def run_ours(replay, prog):
    cmds = ''.join(f'w {p[1]:x} {p[2]:x}\n' if p[0] == 'w' else
                   f'r {p[1]:x}\n' for p in prog)
    r = subprocess.run([replay], input=cmds, capture_output=True, text=True,
                       check=True)
    return [int(v, 16) for v in r.stdout.split()]


def compare(prog, q, o):
    """Index of the first real difference in the reads, or None."""
    reads = [p for p in prog if p[0] == 'r']
    if len(q) != len(reads) or len(o) != len(reads):
        return -1
    for i, (a, b) in enumerate(zip(q, o)):
        port = reads[i][1]
        if port == 0x3fe:
            a, b = a & 0xf0, b & 0xf0
        if port == 0x64:
            # bit 3 says where the last write went: vireo tracks it, QEMU
            # leaves it set
            a, b = a & ~0x08, b & ~0x08
        if port == 0x3fa and (b & 0x0f) == 0x0c and (a & 0x0f) in (1, 2):
            return None  # timeout: the models legitimately part here
        if a != b:
            return i
    return None


def main():
    if not QEMU:
        print('1..0 # SKIP qemu-system-x86_64 not installed')
        return 77
    replay = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    failures = 0
    print(f'1..{2 * count}')
    n = 0
    # QEMU's microvm has no i8042: its PC machine has the same model.
    for kind, machine, gen in (('uart', 'microvm', uart_program),
                               ('i8042', 'pc', kbc_program)):
        for k in range(count):
            n += 1
            prog = gen(random.Random(f'{kind}-{k}'), 150)
            q, o = run_qemu(machine, prog), run_ours(replay, prog)
            bad = compare(prog, q, o)
            if bad is None:
                print(f'ok {n} {kind} program {k}')
                continue
            failures += 1
            print(f'not ok {n} {kind} program {k}')
            if bad < 0:
                print(f'# read counts differ: qemu {len(q)} ours {len(o)}')
                continue
            idx = [j for j, p in enumerate(prog) if p[0] == 'r'][bad]
            print(f'# read #{bad} of port 0x{prog[idx][1]:x}: '
                  f'qemu 0x{q[bad]:02x} vireo 0x{o[bad]:02x}')
            print(f'# after {prog[max(0, idx - 15):idx + 1]}')
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
