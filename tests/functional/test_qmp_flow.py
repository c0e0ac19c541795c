# SPDX-License-Identifier: MIT
"""test_qmp_flow.py: QMP flow control and recovery (issue 13), each case
run against vireo (needs /dev/kvm) and against QEMU 7.2 itself
(`-machine none`, TCG: runs wherever QEMU is installed), so the expected
behaviour is QEMU's: a client pipelining 30000 commands gets every reply,
a reply with a 1 MiB id arrives whole, a client that floods and goes away
does not take the next client with it, and stray bytes get QEMU's errors
while the commands after them run.  QEMU reads QMP input a byte per main
loop iteration (about 30 s for 1 MiB here), so its reference runs use
smaller sizes."""
import os
import socket
import subprocess
import tempfile
import threading
import time

import pytest

from qmp_client import QMPClient, find_qemu
from qmp_fixtures import make_vm, vireo_bin, idle_bios  # noqa: F401

QUERY = b'{"execute":"query-status"}'


class QemuNone:
    """QEMU with no machine: QMP only, no KVM needed."""

    def __init__(self, qemu):
        self.dir = tempfile.mkdtemp(prefix='vireo-qmp-flow-')
        self.path = os.path.join(self.dir, 'qmp.sock')
        self.proc = subprocess.Popen(
            [qemu, '-machine', 'none', '-accel', 'tcg', '-display', 'none',
             '-nodefaults', '-qmp', 'unix:%s,server=on,wait=off' % self.path],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)
        for f in os.listdir(self.dir):
            os.unlink(os.path.join(self.dir, f))
        os.rmdir(self.dir)


@pytest.fixture(params=['vireo', 'qemu'])
def server(request):
    """(QMP socket, is_qemu) of a fresh vireo or QEMU."""
    if request.param == 'vireo':
        vm = request.getfixturevalue('make_vm')(monitors=('qmp',))
        yield vm.socks['qmp'], False
        assert vm.alive(), vm.stderr()
        return
    qemu = find_qemu()
    if not qemu:
        pytest.skip('qemu-system-x86_64 not installed')
    q = QemuNone(qemu)
    try:
        yield q.path, True
        assert q.proc.poll() is None
    finally:
        q.stop()


def client(path):
    return QMPClient(path, timeout=30)


@pytest.fixture
def sock_path(server):
    return server[0]


def test_pipelining_30000(server):
    sock_path, qemu = server
    n = 1000 if qemu else 30000
    c = client(sock_path)
    sender = threading.Thread(target=c.sock.sendall, args=(QUERY * n,))
    sender.start()
    got = 0
    try:
        while got < n:
            r = c.recv()
            assert 'return' in r, r
            got += 1
    finally:
        sender.join(60)
    assert got == n
    assert 'return' in c.cmd('query-status')
    c.close()


def test_reply_with_1mib_id(server):
    sock_path, qemu = server
    c = client(sock_path)
    ident = 'x' * (1 << (15 if qemu else 20))
    c.send({'execute': 'query-status', 'id': ident})
    r = c.recv()
    assert 'return' in r and r['id'] == ident
    assert 'return' in c.cmd('query-status')
    c.close()


def test_next_client_after_flood(sock_path):
    """10 times: a client floods commands without reading and hangs up;
    the next client keeps its connection."""
    for _ in range(10):
        c = client(sock_path)
        c.sock.setblocking(False)
        try:
            for _ in range(200):
                c.sock.send(QUERY * 2000)
        except (BlockingIOError, BrokenPipeError, ConnectionResetError):
            pass
        c.close()
        c2 = client(sock_path)
        for _ in range(5):
            assert 'return' in c2.cmd('query-status')
            time.sleep(0.05)
        c2.close()


STRAY = [
    # an arrow key typed into socat
    (b'\x1b[A', ["JSON parse error, stray '\x1b'",
                 "JSON parse error, stray 'A'"]),
    (b'[A', ["JSON parse error, stray 'A'"]),
    (b'{"execute":"query-status\x00"}',
     ["JSON parse error, stray '\"query-status'",
      'JSON parse error, expecting value']),
    (b'{"execute": @}', ["JSON parse error, stray '@'",
                         'JSON parse error, expecting value']),
    (b'{"execute": 1.}', ["JSON parse error, stray '1.}'"]),
    (b'\xff', ["JSON parse error, stray '\ufffd'"]),
]


def test_escaped_nul(sock_path):
    """\\u0000 is valid JSON: QEMU looks the name up, with its NUL."""
    c = client(sock_path)
    c.send_raw(b'{"execute":"query-status\\u0000"}' + QUERY)
    assert c.recv() == {'error': {
        'class': 'CommandNotFound',
        'desc': 'The command query-status\x00 has not been found'}}
    assert 'return' in c.recv()
    c.close()


@pytest.mark.parametrize('data,errors', STRAY,
                         ids=[repr(d) for d, _ in STRAY])
def test_stray_bytes(sock_path, data, errors):
    c = client(sock_path)
    c.send_raw(data + QUERY)
    for desc in errors:
        r = c.recv()
        assert r == {'error': {'class': 'GenericError', 'desc': desc}}, r
    assert 'return' in c.recv()
    c.close()
