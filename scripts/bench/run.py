#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""run.py: start-up, exit-cost and memory benchmark of vireo against QEMU
and against bare-kvm (the minimal KVM program beside this file).

Each VMM runs each guest N times (16 MiB guest), through the measure wrapper
(measure.c): ok.bin (prints OK,
isa-debug-exit: start-to-exit time) and port80.bin (100000 port 0x80
writes: exit-heavy).  bare-kvm runs three times: as is (the floor the
targets use), with -s (the split irqchip vireo creates: in-kernel LAPIC
only) and with -i (KVM's whole irqchip and PIT, as QEMU creates them).  For every run: wall time, CPU time (user+sys from
wait4) and peak RSS (ru_maxrss); the output and the exit status are
checked, a wrong one makes the cell an error.  The VMMs' runs are
interleaved so that load from elsewhere hits them alike.  Prints a markdown table
(medians; ratios vireo/QEMU and vireo/bare) and the targets.  Stdlib only.

With --devices it also times start-to-exit of ok.bin (vireo and QEMU;
bare-kvm has no devices) on three configurations (issue 9): microvm with no
devices, microvm with virtio-blk-device and virtio-net-device, q35 with
virtio-blk-pci and virtio-net-pci; blk on a raw 16 MiB file, net on a tap
the VMM creates in a new network namespace (`unshare -n` runs the measure
wrapper, so the namespace's creation is not timed).  --devices-only skips
the first table; --vmm limits the VMMs; --qemu-accel tcg lets QEMU run
without KVM (a check of the script: a TCG start-up is no peer figure).

usage: scripts/bench/run.py [--build DIR] [--runs N] [--qemu PATH]
       [--devices | --devices-only] [--vmm LIST] [--qemu-accel kvm|tcg]
"""
import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

GUESTS = {
    # name: (expected exit status, text that must be in the output)
    'ok': (1, 'OK'),
    'port80': (1, 'port80: done'),
}
DEBUG_EXIT = ['-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04']
COMMON = ['-nodefaults', '-nographic', '-serial', 'stdio', '-m', '16M'] + DEBUG_EXIT


def commands(args):
    vmms = {}
    vireo = Path(args.build) / 'vireo'
    vmms['vireo'] = lambda img: [str(vireo)] + COMMON + ['-bios', str(img)]
    qemu = args.qemu or shutil.which('qemu-system-x86_64')
    if qemu:
        vmms['qemu'] = lambda img: ([qemu, '-M', 'microvm,accel=' + args.qemu_accel] + COMMON
                                    + ['-bios', str(img)])
    bare = Path(args.build) / 'scripts' / 'bench' / 'bare-kvm'
    vmms['bare'] = lambda img: [str(bare), '-m', '16', str(img)]
    # the same with the split irqchip vireo creates, and with KVM's whole
    # irqchip and PIT, which QEMU creates: KVM's set-up and teardown of the
    # latter cost wall time (SRCU grace periods), not CPU time
    vmms['bare-split'] = lambda img: [str(bare), '-m', '16', '-s', str(img)]
    vmms['bare-irq'] = lambda img: [str(bare), '-m', '16', '-i', str(img)]
    return vmms


def device_commands(args, image):
    """--devices: {(config, vmm): argv(img)} for vireo and QEMU."""
    qemu = args.qemu or shutil.which('qemu-system-x86_64')
    out = {}
    for config in ('microvm', 'microvm+blk+net', 'q35+blk+net'):
        machine = config.split('+')[0]
        sfx = '-pci' if machine == 'q35' else '-device'
        devs = []
        if '+' in config:
            devs = ['-drive', 'file=%s,format=raw,if=none,id=d0' % image,
                    '-device', 'virtio-blk%s,drive=d0' % sfx,
                    '-netdev', 'tap,id=n0,ifname=bench0,script=no,downscript=no',
                    '-device', 'virtio-net%s,netdev=n0' % sfx]
        vireo = str(Path(args.build) / 'vireo')
        out[config, 'vireo'] = (lambda img, m=machine, d=devs:
                                [vireo, '-M', m] + COMMON + d + ['-bios', str(img)])
        if qemu:
            leg = ['-global', 'virtio-mmio.force-legacy=false'] if devs and machine == 'microvm' else []
            out[config, 'qemu'] = (lambda img, m=machine, d=devs, g=leg:
                                   [qemu, '-M', '%s,accel=%s' % (m, args.qemu_accel)]
                                   + COMMON + g + d + ['-bios', str(img)])
    return {k: v for k, v in out.items() if k[1] in args.vmm.split(',')}


def run_once(argv, timeout, measure, prefix=()):
    """One run through the measure wrapper (prefix: a command that runs
    the wrapper, as `unshare -n`): (wall s, cpu s, maxrss KiB, status,
    output)."""
    with tempfile.TemporaryFile() as out, \
            tempfile.NamedTemporaryFile('r') as res:
        try:
            subprocess.run(list(prefix) + [str(measure), res.name] + argv,
                           stdin=subprocess.DEVNULL, stdout=out,
                           stderr=subprocess.STDOUT, timeout=timeout, check=True)
        except subprocess.TimeoutExpired:
            return 0, 0, 0, 'timeout', ''
        out.seek(0)
        text = out.read().decode(errors='replace')
        wall, cpu, rss, code = res.read().split()
    return float(wall), float(cpu), int(rss), int(code), text


def bench(vmms, img, guest, runs, timeout, measure, prefix=()):
    """Runs every VMM on img, interleaved (run i of each VMM back to back),
    so that load from elsewhere on the machine hits all of them alike.
    Returns {vmm: {'wall', 'wall_min', 'cpu', 'rss'} or {'error'}}."""
    want_status, want_text = GUESTS[guest]
    samples = {vmm: ([], [], []) for vmm in vmms}
    errors = {}
    for vmm, mk in vmms.items():
        run_once(mk(img), timeout, measure, prefix)  # warm-up (page cache, KVM)
    for _ in range(runs):
        for vmm, mk in vmms.items():
            if vmm in errors:
                continue
            wall, cpu, maxrss, code, text = run_once(mk(img), timeout, measure,
                                                     prefix)
            if code != want_status or want_text not in text:
                errors[vmm] = 'status %s, output %r' % (code, text[-200:])
                continue
            for lst, v in zip(samples[vmm], (wall, cpu, maxrss)):
                lst.append(v)
    res = {}
    for vmm, (walls, cpus, rss) in samples.items():
        if vmm in errors:
            res[vmm] = {'error': errors[vmm]}
        else:
            res[vmm] = {'wall': statistics.median(walls), 'wall_min': min(walls),
                        'cpu': statistics.median(cpus), 'rss': statistics.median(rss)}
    return res


def fmt(v, unit):
    if unit == 'ms':
        return '%.1f ms' % (v * 1000)
    return '%.1f MiB' % (v / 1024)


def ratio(a, b):
    return '%.2f' % (a / b) if b else 'n/a'


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--build', default='build', help='meson build dir')
    ap.add_argument('--runs', type=int, default=10)
    ap.add_argument('--qemu', default=None)
    ap.add_argument('--timeout', type=float, default=60)
    ap.add_argument('--devices', action='store_true',
                    help='also start-to-exit with virtio-blk and virtio-net')
    ap.add_argument('--devices-only', action='store_true')
    ap.add_argument('--vmm', default='vireo,qemu',
                    help='VMMs of the --devices table')
    ap.add_argument('--qemu-accel', default='kvm', choices=('kvm', 'tcg'))
    args = ap.parse_args()

    vmms = commands(args)
    measure = Path(args.build) / 'scripts' / 'bench' / 'measure'
    if not measure.exists():
        sys.exit('run.py: %s missing (build first: ninja -C %s)' % (measure, args.build))
    if args.devices_only:
        devices_table(args, measure)
        return
    gdir = Path(args.build) / 'tests' / 'guest'
    results = {}
    for guest in GUESTS:
        img = gdir / (guest + '.bin')
        if not img.exists():
            sys.exit('run.py: %s missing (build first: ninja -C %s)' % (img, args.build))
        for vmm, r in bench(vmms, img, guest, args.runs, args.timeout,
                            measure).items():
            results[guest, vmm] = r
            print('%-7s %-6s %s' % (guest, vmm, r), file=sys.stderr)

    names = list(vmms)
    print('Date: %s  ' % datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC'))
    print('Machine: %s, %s, %d CPUs, kernel %s  ' % (
        platform.node() or 'unknown', _cpu_model(), os.cpu_count(), platform.release()))
    print('Command: `%s`  ' % ' '.join(['scripts/bench/run.py'] + sys.argv[1:]))
    print('Medians of %d runs (VMMs interleaved), 16 MiB guest; load average '
          'at the end: %.2f.\n' % (args.runs, os.getloadavg()[0]))
    hdr = ['guest', 'metric'] + names
    if 'qemu' in names:
        hdr.append('vireo/QEMU')
    hdr += ['vireo/bare', 'vireo/bare-split']
    print('| ' + ' | '.join(hdr) + ' |')
    print('|' + '---|' * len(hdr))
    for guest in GUESTS:
        for metric, unit in (('wall', 'ms'), ('cpu', 'ms'), ('rss', 'MiB')):
            row = [guest + '.bin', {'wall': 'wall', 'cpu': 'CPU (user+sys)',
                                    'rss': 'peak RSS'}[metric]]
            for vmm in names:
                r = results[guest, vmm]
                row.append('error' if 'error' in r else fmt(r[metric], unit))
            v = results[guest, 'vireo']
            for other in (['qemu'] if 'qemu' in names else []) + ['bare', 'bare-split']:
                o = results[guest, other]
                row.append('n/a' if 'error' in v or 'error' in o
                           else ratio(v[metric], o[metric]))
            print('| ' + ' | '.join(row) + ' |')
    for (guest, vmm), r in results.items():
        if 'error' in r:
            print('\n%s on %s failed: %s' % (vmm, guest, r['error']))
    print()
    print('Targets:')
    v, b = results['ok', 'vireo'], results['ok', 'bare']
    q = results.get(('ok', 'qemu'))
    ok = 'error' not in v
    _target('start-to-exit wall <= 2x bare', ok and v['wall'] <= 2 * b['wall'])
    if q and 'error' not in q:
        _target('start-to-exit wall < 1/4 QEMU', ok and v['wall'] < q['wall'] / 4)
    _target('peak RSS < 8 MiB (16 MiB guest)', ok and v['rss'] < 8 * 1024)
    vh, bh = results['port80', 'vireo'], results['port80', 'bare']
    _target('exit-heavy wall <= 1.05x bare',
            'error' not in vh and vh['wall'] <= 1.05 * bh['wall'])
    if args.devices:
        print()
        devices_table(args, measure)


def devices_table(args, measure):
    """--devices: ok.bin's start-to-exit per configuration and VMM."""
    img = Path(args.build) / 'tests' / 'guest' / 'ok.bin'
    load0 = os.getloadavg()[0]
    with tempfile.NamedTemporaryFile(prefix='run-py-disk.') as disk:
        disk.truncate(16 << 20)
        cmds = device_commands(args, disk.name)
        # one bench() call with every (config, vmm) keeps the runs interleaved
        flat = {'%s|%s' % k: v for k, v in cmds.items()}
        res = bench(flat, img, 'ok', args.runs, args.timeout, measure,
                    prefix=['unshare', '-n'])
    print('Start-to-exit with devices: %s, load average %.2f at the start, '
          '%.2f at the end  ' % (datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC'),
                                 load0, os.getloadavg()[0]))
    print('Command: `%s`  ' % ' '.join(['scripts/bench/run.py'] + sys.argv[1:]))
    print('Medians of %d runs (interleaved), ok.bin, 16 MiB guest; QEMU '
          'accel=%s.\n' % (args.runs, args.qemu_accel))
    print('| configuration | VMM | wall | CPU (user+sys) | peak RSS |')
    print('|---|---|---|---|---|')
    for key, r in res.items():
        config, vmm = key.split('|')
        if vmm == 'qemu' and args.qemu_accel != 'kvm':
            vmm = 'qemu (%s)' % args.qemu_accel
        if 'error' in r:
            print('| %s | %s | error: %s | | |' % (config, vmm, r['error'][:120]))
        else:
            print('| %s | %s | %s | %s | %s |' % (config, vmm, fmt(r['wall'], 'ms'),
                                                fmt(r['cpu'], 'ms'), fmt(r['rss'], 'MiB')))


def _target(text, met):
    print('- %s: %s' % (text, 'met' if met else 'NOT met'))


def _cpu_model():
    try:
        for line in open('/proc/cpuinfo'):
            if line.startswith('model name'):
                return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


if __name__ == '__main__':
    main()
