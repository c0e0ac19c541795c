# SPDX-License-Identifier: MIT
"""test_bench_scripts.py: the issue 9/10 benchmark scripts
(scripts/bench/guest-bench.py, vm-snapshot-bench.py) still build command
lines vireo accepts.  Their --dry-run prints the VMM command lines; each
vireo line is run here, where without /dev/kvm vireo must get past option
parsing and stop at KVM (so an option it does not know shows as a failure).
No timing, no guest run: the benchmarks themselves take minutes."""
import os
import shlex
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.join(HERE, '..', '..', 'scripts', 'bench')


def dry_run(vireo, script, *extra):
    build = str(vireo.parent)
    r = subprocess.run([sys.executable, os.path.join(BENCH, script), '--build',
                        build, '--dry-run', '--vmm', 'vireo,qemu',
                        '--qemu', 'qemu-system-x86_64'] + list(extra)
                       + (['--size-mib', '1'] if script.startswith('vm-') else []),
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return [shlex.split(l) for l in r.stdout.splitlines()]


@pytest.mark.parametrize('script', ['guest-bench.py', 'vm-snapshot-bench.py'])
def test_dry_run_lines(vireo, tmp_path, script):
    lines = dry_run(vireo, script)
    vmms = [os.path.basename(l[0]) for l in lines]
    assert 'vireo' in vmms and 'qemu-system-x86_64' in vmms, lines
    for argv in lines:
        if os.path.basename(argv[0]) != 'vireo':
            continue
        assert argv[0] == str(vireo)
        if os.path.exists('/dev/kvm'):
            continue  # vireo would start the guest: parsing is not checked here
        # paths the script would create: point them at real files
        argv = [a.replace('TMP/', str(tmp_path) + '/').replace('DIR/', str(tmp_path) + '/')
                for a in argv]
        (tmp_path / 'disk.img').write_bytes(bytes(1 << 20))
        (tmp_path / 'ram.src').write_bytes(bytes(1 << 20))
        r = subprocess.run(argv, capture_output=True, text=True, timeout=30,
                           stdin=subprocess.DEVNULL)
        assert r.returncode != 0
        assert '/dev/kvm' in r.stderr, (argv, r.stderr)
