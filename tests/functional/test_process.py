# SPDX-License-Identifier: MIT
"""test_process.py: how vireo runs as a process and where serial output
goes: Ctrl-A x on a pty-backed stdio quits, -S starts paused, -daemonize
with -pidfile, -serial file:PATH, and a -chardev socket server that a
client connects to and reads the banner from."""
import os
import pty
import select
import signal
import socket
import time

from conftest import BANNER_TEXT, run


def _read_pty(fd, until, timeout):
    buf = b''
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
            if until is not None and until in buf:
                break
    return buf


def test_ctrl_a_x_quits(vireo, kvm, guest, spawn):
    """-nographic puts serial and the mux (Ctrl-A prefix) on stdio; on a
    terminal, Ctrl-A x terminates vireo with status 0."""
    master, slave = pty.openpty()
    try:
        vm = spawn([vireo, '-nographic', '-m', '16M', '-bios', guest('hlt')],
                   stdin=slave, stdout=slave, stderr=slave)
        os.close(slave)
        slave = None
        out = _read_pty(master, b'hlt: halting', 15)
        assert b'hlt: halting' in out, out
        assert vm.alive()
        os.write(master, b'\x01x')
        try:
            status = vm.proc.wait(timeout=10)
        except Exception:
            status = None
        out += _read_pty(master, None, 0.5)
        assert status == 0, 'Ctrl-A x did not quit (status %r): %r' % (status, out)
    finally:
        if slave is not None:
            os.close(slave)
        os.close(master)


def test_start_paused(vm_args, guest, spawn):
    """-S without a monitor: the vCPU never runs, so the banner never
    appears; SIGTERM still ends the process with status 0."""
    vm = spawn(vm_args(guest('hello'), '-S'))
    time.sleep(2.0)
    assert vm.alive(), 'vireo exited although started paused: %r' % vm.stderr()
    assert BANNER_TEXT not in vm.serial()
    assert vm.terminate() == 0


def test_serial_file(vireo, kvm, guest, tmp_path):
    out = tmp_path / 'serial.txt'
    r = run([vireo, '-nodefaults', '-nographic', '-m', '16M',
             '-serial', 'file:%s' % out, '-bios', guest('hello')],
            serial_file=out, timeout=10)
    assert r.returncode == 0, r
    assert BANNER_TEXT in r.serial, r
    # nothing of the guest's goes to stdout then
    assert BANNER_TEXT not in r.stdout, r


def test_daemonize_pidfile(vireo, kvm, guest, tmp_path):
    pidfile = tmp_path / 'vireo.pid'
    out = tmp_path / 'serial.txt'
    r = run([vireo, '-nodefaults', '-display', 'none', '-m', '16M',
             '-serial', 'file:%s' % out, '-daemonize', '-pidfile', pidfile,
             '-bios', guest('hlt')], timeout=15)
    assert r.returncode == 0, r
    assert pidfile.exists(), r
    pid = int(pidfile.read_text().strip())
    try:
        os.kill(pid, 0)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and 'hlt: halting' not in out.read_text():
            time.sleep(0.05)
        assert 'hlt: halting' in out.read_text()
        with open('/proc/%d/cmdline' % pid, 'rb') as f:
            assert b'-daemonize' in f.read()
    finally:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        os.kill(pid, signal.SIGKILL)
        raise AssertionError('daemon did not exit on SIGTERM')
    # QEMU removes its pidfile on exit
    assert not pidfile.exists()


def test_chardev_socket_server(vireo, kvm, guest, spawn, tmp_path):
    """-chardev socket,server=on,wait=on: vireo waits for a client before
    the guest runs, and the client reads the banner."""
    path = tmp_path / 'serial.sock'
    vm = spawn([vireo, '-nodefaults', '-nographic', '-m', '16M',
                '-chardev', 'socket,id=ser0,path=%s,server=on,wait=on' % path,
                '-serial', 'chardev:ser0', '-bios', guest('hello')])
    deadline = time.monotonic() + 10
    while not path.exists() and time.monotonic() < deadline:
        assert vm.alive(), vm.stderr()
        time.sleep(0.05)
    assert path.exists(), 'socket never created'
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(str(path))
    buf = b''
    try:
        while BANNER_TEXT.encode() not in buf:
            chunk = s.recv(4096)
            if not chunk:
                break
            buf += chunk
    finally:
        s.close()
    assert BANNER_TEXT.encode() in buf, buf
    assert vm.proc.wait(timeout=10) == 0


def test_pidfile_removed_at_exit_and_locked(vireo, kvm, guest, spawn,
                                            tmp_path):
    """The pidfile is removed when vireo ends, also on a guest-chosen exit
    status; a second instance on the same pidfile is refused and must not
    remove the first one's file (only the owner removes it)."""
    pidfile = tmp_path / 'vireo.pid'
    r = run([vireo, '-nodefaults', '-display', 'none', '-m', '16M',
             '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04',
             '-pidfile', pidfile, '-bios', guest('debugexit')], timeout=15)
    assert r.returncode not in (0, 1), r
    assert not pidfile.exists(), r

    first = spawn([vireo, '-nodefaults', '-display', 'none', '-m', '16M',
                   '-pidfile', str(pidfile), '-bios', guest('hlt')])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not (
            pidfile.exists() and pidfile.read_text().strip()):
        time.sleep(0.05)
    assert pidfile.read_text().strip() == str(first.proc.pid)
    second = run([vireo, '-nodefaults', '-display', 'none', '-m', '16M',
                  '-pidfile', pidfile, '-bios', guest('hlt')], timeout=15)
    assert second.returncode == 1, second
    assert 'another instance' in second.stderr, second
    assert pidfile.read_text().strip() == str(first.proc.pid)
    first.terminate()
    assert not pidfile.exists()


def test_vcpu_thread_names(vireo, kvm, guest, spawn):
    """Each vCPU thread names itself 'CPU N/KVM', as QEMU's do (what top
    and ps -L show)."""
    vm = spawn([vireo, '-nographic', '-m', '16M', '-smp', '2', '-bios',
                guest('hlt')])
    vm.wait_for('hlt: halting')
    task = '/proc/%d/task' % vm.proc.pid
    names = set()
    for tid in os.listdir(task):
        with open(os.path.join(task, tid, 'comm')) as f:
            names.add(f.read().strip())
    assert {'CPU 0/KVM', 'CPU 1/KVM'} <= names, names
    assert vm.terminate() == 0
