# SPDX-License-Identifier: MIT
"""test_qmp_bad_input.py: hostile QMP clients against the real binary.
Each case must get a QMP error or a clean disconnect while the VM keeps
running, other monitors keep answering and memory stays bounded."""
import socket
import time

import pytest

from qmp_client import QMPClient
from qmp_fixtures import make_vm, vireo_bin, idle_bios  # noqa: F401


def healthy(vm, c):
    """The VM runs and the client still gets answers."""
    assert vm.alive(), vm.stderr()
    assert c.ok('query-status')['status'] == 'running'


def running_vm(make_vm, **kw):
    vm = make_vm(monitors=('qmp', 'mon2'), **kw)
    c = vm.qmp()
    c.ok('cont')
    c.wait_event('RESUME')
    return vm, c


def errors(c):
    r = c.recv()
    assert 'error' in r, r
    return r['error']


def test_malformed_json(make_vm):
    vm, c = running_vm(make_vm)
    c.send_raw('{"execute": }\r\n')
    e = errors(c)
    assert e['class'] == 'GenericError'
    assert e['desc'].startswith('JSON parse error'), e
    c.send_raw('{"execute": "query-status", "arguments": {,}}\r\n')
    assert errors(c)['desc'].startswith('JSON parse error')
    c.send_raw('}\r\n')
    assert errors(c)['desc'] == 'JSON parse error, expecting value'
    healthy(vm, c)


@pytest.mark.parametrize('text', ['[1, 2]', '123 ', '"str"', 'null ',
                                  'true '])
def test_not_an_object(make_vm, text):
    vm, c = running_vm(make_vm)
    c.send_raw(text + '\r\n')
    assert errors(c) == {'class': 'GenericError',
                         'desc': 'QMP input must be a JSON object'}
    healthy(vm, c)


def test_unknown_keys(make_vm):
    vm, c = running_vm(make_vm)
    c.send({'execute': 'query-status', 'bogus': 1, 'id': 5})
    r = c.recv()
    assert r['id'] == 5
    assert r['error']['desc'] == "QMP input member 'bogus' is unexpected"
    c.send({'id': 6})
    r = c.recv()
    assert r['error']['desc'] == "QMP input lacks member 'execute'"
    c.send({'execute': 'query-status', 'arguments': 'x'})
    assert errors(c)['desc'] == \
        "QMP input member 'arguments' must be an object"
    healthy(vm, c)


def test_depth_bomb(make_vm):
    vm, c = running_vm(make_vm)
    c.send_raw('[' * 1000000)
    assert errors(c)['desc'] == 'JSON nesting depth limit exceeded'
    c.send_raw(']' * 1000000)
    c.send_raw('{"execute": "query-status", "arguments": ' +
               '{"a":' * 2000 + '1' + '}' * 2000 + '}')
    assert errors(c)['desc'] == 'JSON nesting depth limit exceeded'
    healthy(vm, c)


def test_100mib_line(make_vm):
    vm, c = running_vm(make_vm)
    other = vm.qmp('mon2')
    rss0 = vm.rss_kib()
    chunk = b'x' * (1 << 20)
    c.send_raw(b'{"execute": "query-status", "id": "')
    for i in range(100):
        c.send_raw(chunk)
        if i == 50:
            # the other monitor is not held up meanwhile
            assert other.ok('query-status')['running'] is True
    c.send_raw(b'"}\r\n')
    e = errors(c)
    assert 'size limit' in e['desc'], e
    healthy(vm, c)
    grown = vm.rss_kib() - rss0
    assert grown < 40 * 1024, 'RSS grew by %d KiB' % grown


def test_invalid_utf8(make_vm):
    vm, c = running_vm(make_vm)
    c.send_raw(b'{"execute": "query-\xc3\x28"}\r\n')
    assert 'UTF-8' in errors(c)['desc']
    # 0xff and 0xfe never occur in UTF-8: stray bytes, as in QEMU
    c.send_raw(b'{"execute": "query-\xff\xfe"}\r\n')
    assert errors(c)['desc'] == 'JSON parse error, stray \'"query-\ufffd\''
    assert errors(c)['desc'] == 'JSON parse error, stray \'\ufffd\''
    assert errors(c)['desc'] == 'JSON parse error, expecting value'
    healthy(vm, c)


def test_control_char_resets_parser(make_vm):
    vm, c = running_vm(make_vm)
    c.send_raw('{"execute": "query-status", "arguments": {')
    c.send_raw(b'\x1b')  # QMP's documented way to resync
    assert errors(c)['desc'] == "JSON parse error, stray '\x1b'"
    healthy(vm, c)


def test_disconnect_mid_message(make_vm):
    vm, c = running_vm(make_vm)
    other = vm.qmp('mon2')
    c.send_raw('{"execute": "stop", "argu')
    c.close()
    time.sleep(0.2)
    assert other.ok('query-status')['running'] is True
    # the same socket accepts a new client, which starts from scratch
    c2 = vm.qmp()
    assert c2.ok('query-status')['running'] is True
    healthy(vm, c2)


def test_client_never_reads(make_vm):
    vm, c = running_vm(make_vm)
    other = vm.qmp('mon2')
    rss0 = vm.rss_kib()
    # the first monitor's client floods commands and never reads a reply
    c.sock.setblocking(False)
    msg = b'{"execute": "query-qmp-schema"}' * 64
    sent = 0
    blocked_since = None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            sent += c.sock.send(msg)
            blocked_since = None
        except BlockingIOError:
            blocked_since = blocked_since or time.monotonic()
            if time.monotonic() - blocked_since > 2:
                break
            time.sleep(0.001)
    # back-pressure: vireo stopped reading its input once the replies
    # stopped being read (QEMU would keep queueing them)
    assert blocked_since, 'vireo read %d bytes without replying' % sent
    # meanwhile the VM and the other monitor are fine (a stalled monitor
    # would make the client's receive time out and fail here)
    assert other.ok('query-status')['running'] is True
    assert vm.alive()
    grown = vm.rss_kib() - rss0
    assert grown < 40 * 1024, 'RSS grew by %d KiB' % grown
    # a client that reads nothing for 30 s is cut off
    cut = False
    deadline = time.monotonic() + 75
    c.sock.setblocking(True)
    c.sock.settimeout(5)
    while not cut and time.monotonic() < deadline:
        time.sleep(1)
        try:
            c.sock.send(b' ')
        except (BrokenPipeError, ConnectionResetError):
            cut = True
        except (BlockingIOError, socket.timeout):
            pass
    assert cut, 'a client that never reads was never disconnected'
    # and the monitor serves a new client normally
    c.close()
    c2 = vm.qmp()
    healthy(vm, c2)


def test_duplicate_key(make_vm):
    vm, c = running_vm(make_vm)
    c.send_raw('{"execute": "query-status", "execute": "stop"}\r\n')
    assert errors(c) == {'class': 'GenericError',
                         'desc': 'JSON parse error, duplicate key'}
    healthy(vm, c)  # and it did not stop
