# SPDX-License-Identifier: MIT
"""test_startup.py: what happens to vireo before its main loop runs (issue
13): a termination signal while it waits for a QMP client ends it as it
ends QEMU 7.2 (killed by that signal, status 128+N in a shell) but with
its socket and pid file removed; a pid file that cannot be written is not
left behind.  All of this comes before /dev/kvm is opened, so it runs on
any host."""
import os
import resource
import signal
import subprocess
import time

import pytest


def _wait_for(path, proc, timeout=10):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if os.path.exists(path):
            return
        if proc.poll() is not None:
            break
        time.sleep(0.02)
    out, err = proc.communicate(timeout=5) if proc.poll() is None else \
        proc.communicate()
    pytest.fail('%s never appeared: rc=%r stderr=%r' % (path, proc.returncode,
                                                        err))


@pytest.mark.parametrize('sig', [signal.SIGTERM, signal.SIGINT,
                                 signal.SIGHUP])
def test_signal_while_waiting_for_qmp_client(vireo, tmp_path, sig):
    sock = tmp_path / 'qmp.sock'
    pidfile = tmp_path / 'vireo.pid'
    argv = [vireo, '-nodefaults', '-nographic', '-m', '16M',
            '-pidfile', str(pidfile),
            '-qmp', 'unix:%s,server=on' % sock]
    # default dispositions, as a shell's foreground job has them
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, preexec_fn=lambda: signal.signal(
                             signal.SIGINT, signal.SIG_DFL))
    try:
        _wait_for(sock, p)
        assert os.path.exists(pidfile)
        p.send_signal(sig)
        out, err = p.communicate(timeout=10)
    finally:
        if p.poll() is None:
            p.kill()
            p.communicate()
    # QEMU 7.2 (-accel tcg, same command line) dies of the signal too
    assert p.returncode == -sig, (p.returncode, err)
    assert 'terminating on signal %d' % sig in err, err
    assert not os.path.exists(sock), 'socket left behind'
    assert not os.path.exists(pidfile), 'pid file left behind'


def test_pidfile_write_fails(vireo, tmp_path):
    """A pid file that cannot be written (disk full; here a 2-byte file
    size limit, so the write is short and then fails) is an error and is
    removed, not left empty or partial."""
    pidfile = tmp_path / 'vireo.pid'

    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (2, 2))

    r = subprocess.run([vireo, '-nodefaults', '-nographic', '-m', '16M',
                        '-pidfile', str(pidfile)], preexec_fn=limit,
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 1, r
    assert "cannot write pid file '%s'" % pidfile in r.stderr, r
    assert not os.path.exists(pidfile), r


def test_pidfile_device_kept(vireo):
    """-pidfile naming a device fails to write and leaves the device be."""
    r = subprocess.run([vireo, '-nodefaults', '-nographic', '-m', '16M',
                        '-pidfile', '/dev/full'], capture_output=True,
                       text=True, timeout=10)
    assert r.returncode == 1, r
    assert "cannot write pid file '/dev/full'" in r.stderr, r
    assert os.path.exists('/dev/full')
