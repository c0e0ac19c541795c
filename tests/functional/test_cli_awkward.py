# SPDX-License-Identifier: MIT
"""test_cli_awkward.py: every option `vireo -help` lists, given awkward
values, on `-machine none` without KVM.  Each run either starts (then it
is stopped) or exits 1 with a message on stderr that names the option's
value or the option; no run dies of a signal or exits silently.  The
options are read from the help text, so a new option is covered the day
it is added.
"""
import os
import re
import signal
import subprocess
import time

from qmp_fixtures import *  # noqa: F401,F403

AWKWARD = ['', ',', '=', 'x', '-1', '18446744073709551616', '0x',
           'a' * 5000, ',,id=,', '{"x":', '{}', '/dev/zero', '/nonexistent',
           'help']
# options that end the run on purpose (help/version/dump) or would go to
# the background or take over the terminal
SKIP = {'-h', '-help', '-version', '-daemonize', '-dump-vmstate',
        '-measure-launch', '-nographic'}


def options(vireo):
    out = subprocess.run([vireo, '-help'], capture_output=True, text=True,
                         timeout=10).stdout
    opts = []
    for line in out.splitlines():
        m = re.match(r'^(-[a-z][-a-z0-9]*)( \S+)?', line)
        if m and m.group(1) not in SKIP:
            opts.append((m.group(1), bool(m.group(2))))
    return opts


def run(vireo, tmp, args):
    argv = [vireo, '-machine', 'none,accel=kvm:tcg', '-nodefaults', '-display', 'none',
            '-serial', 'none', '-pidfile', os.path.join(tmp, 'pid')] + args
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         cwd=tmp)
    try:
        _, err = p.communicate(timeout=0.7)
        return p.returncode, err.decode(errors='replace')
    except subprocess.TimeoutExpired:
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=10)
        return 'running', err.decode(errors='replace')


def test_awkward_option_values(vireo, tmp_path):
    opts = options(vireo)
    assert len(opts) > 30, opts
    tried = 0
    for opt, takes_arg in opts:
        for val in (AWKWARD if takes_arg else [None]):
            args = [opt] if val is None else [opt, val]
            rc, err = run(vireo, str(tmp_path), args)
            tried += 1
            assert rc in ('running', 0, 1), (args, rc, err)
            if rc == 1:
                assert err.strip(), (args, 'exit 1 without a message')
            assert 'Sanitizer' not in err and 'assert' not in err, (args,
                                                                     err)
    # and an option without its value at the end of the line
    for opt, takes_arg in opts:
        if takes_arg:
            rc, err = run(vireo, str(tmp_path), [opt])
            assert rc == 1 and 'requires an argument' in err, (opt, rc, err)
    assert tried > 400


def test_pidfile_only_own_file_removed(vireo, tmp_path):
    """The pid file is removed at exit only if it is the regular file
    vireo wrote: `-pidfile /dev/zero` once made vireo unlink /dev/zero
    (this test's first version found it).  A device node made in the
    test's directory stands in for /dev/zero."""
    pid = tmp_path / 'pid'
    rc, err = run(vireo, str(tmp_path), ['-pidfile', str(pid)])
    assert rc == 'running', err
    assert not pid.exists()  # a regular file: removed at exit
    if os.geteuid() == 0:
        dev = tmp_path / 'zero'
        os.mknod(dev, 0o666 | 0o020000, os.makedev(1, 5))
        run(vireo, str(tmp_path), ['-pidfile', str(dev)])
        assert dev.is_char_device()
    # a file put in its place while vireo ran is someone else's
    p = subprocess.Popen([vireo, '-machine', 'none,accel=kvm:tcg', '-nodefaults',
                          '-display', 'none', '-pidfile', str(pid)],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    deadline = time.monotonic() + 10
    while not (pid.exists() and pid.read_text().strip()):
        assert time.monotonic() < deadline and p.poll() is None
        time.sleep(0.02)
    pid.unlink()
    pid.write_text('other\n')
    p.terminate()
    p.wait(10)
    assert pid.read_text() == 'other\n'
