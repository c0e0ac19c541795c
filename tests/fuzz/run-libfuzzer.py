#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""run-libfuzzer.py: a bounded libFuzzer run of every fuzz target (the
`slow` suite; the `fuzz` suite only replays the corpus for a few seconds).

The project may be built with gcc, which has no libFuzzer: this builds the
fuzz targets in a clang build tree of their own (WORK/clang, configured on
first use and rebuilt incrementally after), with -fsanitize=fuzzer,address,
undefined and UBSan reports fatal, then runs each target for SECONDS
(default 60, 30 when CI=true, env VIREO_FUZZ_SECONDS), JOBS at a time (default 2: CI has two
cores), from its seed corpus tests/fuzz/corpus/NAME.  New inputs go to
WORK/corpus/NAME, crashes to WORK/artifacts; the source tree is never
written.  `--merge` folds what a run found into tests/fuzz/corpus (libFuzzer
-merge=1 keeps only inputs that add coverage), for a developer to commit.

Exit status: 0 all ran clean, 1 a target crashed, leaked, hit a sanitizer
report or timed out, 77 (meson's skip) without clang or libFuzzer.

usage: run-libfuzzer.py SRCDIR WORK NAME... [--seconds N] [--jobs N] [--merge]
"""
import argparse
import os
import shutil
import subprocess
import sys
import time

SKIP = 77


def log(msg):
    print(msg, flush=True)


def clang_build(src, work, names):
    """Configures (once) and builds the fuzz targets with clang."""
    bdir = os.path.join(work, 'clang')
    env = dict(os.environ, CC='clang', CXX='clang++')
    if not os.path.exists(os.path.join(bdir, 'build.ninja')):
        r = subprocess.run(['meson', 'setup', bdir, src], env=env,
                           capture_output=True, text=True)
        if r.returncode:
            log(r.stdout[-3000:] + r.stderr[-3000:])
            raise SystemExit('meson setup of the clang fuzz build failed')
    targets = ['tests/fuzz/fuzz-' + n for n in names]
    r = subprocess.run(['ninja', '-C', bdir] + targets, env=env,
                       capture_output=True, text=True)
    if r.returncode:
        log(r.stdout[-5000:] + r.stderr[-3000:])
        raise SystemExit('building the libFuzzer targets failed')
    return bdir


def is_libfuzzer(exe):
    """A libFuzzer binary answers -help=1 with its flag list."""
    r = subprocess.run([exe, '-help=1'], capture_output=True, text=True,
                       timeout=60)
    return 'max_total_time' in r.stdout + r.stderr


def run_target(exe, name, src, work, seconds):
    corpus = os.path.join(work, 'corpus', name)
    seeds = os.path.join(src, 'tests', 'fuzz', 'corpus', name)
    arts = os.path.join(work, 'artifacts')
    os.makedirs(corpus, exist_ok=True)
    os.makedirs(arts, exist_ok=True)
    # A fixed seed: a run explores the same inputs in the same order each
    # time (how far it gets still depends on the machine's speed), so a
    # failure in CI can be replayed here (VIREO_FUZZ_SEED to vary it).
    seed = int(os.environ.get('VIREO_FUZZ_SEED', '1'))
    argv = [exe, '-seed=%d' % seed, '-max_total_time=%d' % seconds,
            '-rss_limit_mb=2048',
            '-timeout=20', '-print_final_stats=1',
            '-artifact_prefix=%s/%s-' % (arts, name), corpus]
    if os.path.isdir(seeds):
        argv.append(seeds)  # read only: libFuzzer writes to the first dir
    out = open(os.path.join(work, 'fuzz-%s.log' % name), 'w')
    env = dict(os.environ,
               ASAN_OPTIONS='detect_leaks=1:abort_on_error=0',
               UBSAN_OPTIONS='print_stacktrace=1:halt_on_error=1')
    return subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                            env=env), out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('src')
    ap.add_argument('work')
    ap.add_argument('names', nargs='+')
    # CI's 30 s per target keeps its whole run well under half an hour
    # next to functional-kvm-nested; a developer's run gets the minute.
    ci = os.environ.get('CI') == 'true'
    ap.add_argument('--seconds', type=int,
                    default=int(os.environ.get('VIREO_FUZZ_SECONDS',
                                               '30' if ci else '60')))
    ap.add_argument('--jobs', type=int, default=2)
    ap.add_argument('--merge', action='store_true')
    a = ap.parse_args()

    if not shutil.which('clang'):
        log('SKIP: clang not installed (no libFuzzer)')
        return SKIP
    work = os.path.abspath(a.work)
    os.makedirs(work, exist_ok=True)
    t0 = time.monotonic()
    bdir = clang_build(a.src, work, a.names)
    log('clang fuzz build ready in %.0f s' % (time.monotonic() - t0))
    exes = {n: os.path.join(bdir, 'tests', 'fuzz', 'fuzz-' + n)
            for n in a.names}
    if not is_libfuzzer(exes[a.names[0]]):
        log('SKIP: clang here cannot link libFuzzer')
        return SKIP

    pending = list(a.names)
    running = {}
    failed = []
    while pending or running:
        while pending and len(running) < a.jobs:
            n = pending.pop(0)
            running[n] = run_target(exes[n], n, a.src, work, a.seconds)
            log('fuzz-%s: running %d s' % (n, a.seconds))
        time.sleep(0.5)
        for n, (p, out) in list(running.items()):
            if p.poll() is None:
                continue
            out.close()
            del running[n]
            text = open(out.name).read()
            stats = [ln for ln in text.splitlines() if ln.startswith('stat::')]
            log('fuzz-%s: exit %d %s' % (n, p.returncode, ' '.join(
                s[len('stat::'):].replace(' ', '') for s in stats
                if 'executed_units' in s or 'new_units' in s)))
            if p.returncode != 0:
                failed.append(n)
                log(text[-6000:])
    if a.merge and not failed:
        for n in a.names:
            seeds = os.path.join(a.src, 'tests', 'fuzz', 'corpus', n)
            os.makedirs(seeds, exist_ok=True)
            subprocess.run([exes[n], '-merge=1', seeds,
                            os.path.join(work, 'corpus', n)], check=True,
                           capture_output=True)
            log('fuzz-%s: corpus merged into %s' % (n, seeds))
    if failed:
        log('FAILED: %s (artifacts in %s/artifacts)' % (' '.join(failed),
                                                        work))
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
