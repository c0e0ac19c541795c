# SPDX-License-Identifier: MIT
"""test_migration.py: save/restore and migration between two vireo
processes (issue 10), through QMP.  Needs /dev/kvm (the vireo_bin fixture
skips without it); the stream itself is tested without KVM by the unit
tests test-savevm and test-migration.

The guest is tests/guest/hlt.bin (prints a line, then halts): the vCPU
state after a restore must equal the state saved, compared through
`info registers` (every register group goes through KVM on both sides).

The `-machine none` tests at the end need no KVM: they run the QMP,
fd-passing and stream paths libvirt's `virsh save`/`restore` use.
"""
import json
import os
import socket
import struct
import time

import pytest

from qmp_fixtures import *  # noqa: F401,F403


def registers(qmp):
    out = qmp.ok('human-monitor-command',
                 {'command-line': 'info registers'})
    return out


def wait_status(qmp, want, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        st = qmp.ok('query-status')['status']
        if st == want:
            return
        time.sleep(0.05)
    raise AssertionError('status %r, wanted %r' % (st, want))


def test_file_snapshot_restore(make_vm, tmp_path):
    snap = tmp_path / 'snap'
    a = make_vm(paused=False)
    qa = a.qmp()
    time.sleep(0.5)  # the guest prints and halts
    qa.ok('stop')
    before = registers(qa)
    qa.ok('migrate-set-capabilities',
          {'capabilities': [{'capability': 'events', 'state': True}]})
    qa.ok('migrate', {'uri': 'file:%s' % snap})
    assert qa.wait_event('MIGRATION')['data']['status'] == 'setup'
    info = qa.ok('query-migrate')
    assert info['status'] == 'completed'
    assert info['ram']['total'] == 16 << 20
    assert qa.ok('query-status')['status'] == 'postmigrate'
    # the file restores any number of times
    for _ in range(2):
        b = make_vm(paused=True, extra=['-incoming', 'file:%s' % snap])
        qb = b.qmp()
        wait_status(qb, 'paused')  # -S: loaded, not started
        assert registers(qb) == before
        qb.ok('cont')
        wait_status(qb, 'running')
        b.stop()


def test_unix_migration(make_vm, tmp_path):
    sock = str(tmp_path / 'mig.sock')
    b = make_vm(paused=False, extra=['-incoming', 'unix:%s' % sock])
    qb = b.qmp()
    assert qb.ok('query-status')['status'] == 'inmigrate'
    a = make_vm(paused=False)
    qa = a.qmp()
    time.sleep(0.5)
    qa.ok('migrate', {'uri': 'unix:%s' % sock})
    assert qa.ok('query-migrate')['status'] == 'completed'
    wait_status(qb, 'running')
    assert qb.ok('query-migrate')['status'] == 'completed'


def test_incoming_defer_refuses_other_config(make_vm, tmp_path):
    snap = tmp_path / 'snap'
    a = make_vm(paused=True)
    qa = a.qmp()
    qa.ok('migrate', {'uri': 'file:%s' % snap})
    # another CPU model: the fingerprint differs, the load is refused and
    # the destination exits, as QEMU does after a failed incoming load
    b = make_vm(paused=True, extra=['-incoming', 'defer', '-cpu', 'kvm64'])
    qb = b.qmp()
    assert qb.ok('query-status')['status'] == 'inmigrate'
    qb.cmd('migrate-incoming', {'uri': 'file:%s' % snap})
    assert b.wait(10) == 1
    assert 'different machine configuration' in b.stderr()
    assert "cpu=" in b.stderr()


def test_smm_option(make_vm):
    off = make_vm(paused=True, extra=['-machine', 'smm=off'])
    assert off.qmp().ok('query-status')['status'] == 'prelaunch'
    on = make_vm(paused=True, extra=['-machine', 'smm=on'])
    time.sleep(0.5)
    if not on.alive():
        # KVM without KVM_CAP_X86_SMM (the test machine's)
        assert 'SMM not supported by this KVM' in on.stderr()
    else:
        assert on.qmp().ok('query-status')['status'] == 'prelaunch'


def send_fd(q, fd, cmd, args, id):
    """A command sent in the same sendmsg as an fd (SCM_RIGHTS), as
    libvirt sends getfd."""
    msg = (json.dumps({'execute': cmd, 'arguments': args, 'id': id}) +
           '\r\n').encode()
    q.sock.sendmsg([msg], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                            struct.pack('i', fd))])
    return q.reply(id)


def test_none_save_restore_libvirt_way(none_vm, tmp_path):
    """virsh save: getfd fdname=migrate, migrate fd:migrate (the fd is an
    open file libvirt already wrote its header to); virsh restore:
    -incoming defer, migrate-incoming fd:N on an inherited fd positioned
    after that header."""
    path = tmp_path / 'save.img'
    header = b'LibvirtQemudSave' + b'\0' * 48
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
    os.write(fd, header)
    a = none_vm()
    qa = a.qmp()
    qa.ok('migrate-set-capabilities',
          {'capabilities': [{'capability': 'events', 'state': True}]})
    assert send_fd(qa, fd, 'getfd', {'fdname': 'migrate'},
                   'libvirt-1') == {'return': {}, 'id': 'libvirt-1'}
    os.close(fd)
    qa.ok('migrate', {'uri': 'fd:migrate'})
    st = [qa.wait_event('MIGRATION')['data']['status'] for _ in range(3)]
    assert st == ['setup', 'active', 'completed']
    assert qa.ok('query-migrate')['status'] == 'completed'
    assert qa.ok('query-status')['status'] == 'postmigrate'
    # the name was used up: a second migrate cannot write to a closed fd
    e = qa.cmd('migrate', {'uri': 'fd:migrate'})['error']
    assert e['desc'] == ("fd:migrate: File descriptor named 'migrate' "
                         "not found")
    data = path.read_bytes()
    assert data.startswith(header) and len(data) > len(header)

    fd = os.open(path, os.O_RDONLY)
    os.lseek(fd, len(header), os.SEEK_SET)
    try:
        b = none_vm(paused=True, extra=['-incoming', 'defer'],
                    pass_fds=(fd,))
        qb = b.qmp()
        assert qb.ok('query-status')['status'] == 'inmigrate'
        qb.ok('migrate-incoming', {'uri': 'fd:%d' % fd})
        deadline = time.monotonic() + 10
        while qb.ok('query-migrate').get('status') != 'completed':
            assert time.monotonic() < deadline and b.alive()
            time.sleep(0.05)
        assert qb.ok('query-status')['status'] == 'paused'  # -S
        qb.ok('cont')
        assert qb.ok('query-status')['status'] == 'running'
    finally:
        os.close(fd)


def test_none_restore_refuses_garbage(none_vm, tmp_path):
    """A stream that is not vireo's is refused with the reason, and the
    destination exits (QEMU's behaviour after a failed incoming load)."""
    bad = tmp_path / 'bad'
    bad.write_bytes(b'QEVM' + b'\xff' * 60)
    b = none_vm(extra=['-incoming', 'defer'])
    qb = b.qmp()
    qb.cmd('migrate-incoming', {'uri': 'file:%s' % bad})
    assert b.wait(10) == 1
    assert 'load of migration failed' in b.stderr()
    assert 'magic' in b.stderr()
