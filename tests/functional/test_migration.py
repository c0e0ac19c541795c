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


def test_file_snapshot_rng_balloon(make_vm, tmp_path):
    """virtio-rng and virtio-balloon (libvirt adds a balloon to every
    domain) no longer block a save; the balloon's polling interval comes
    along (the idle guest has no driver: actual stays all of RAM)."""
    devs = ['-device', 'virtio-balloon-device,id=balloon0',
            '-device', 'virtio-rng-device']
    path = '/machine/peripheral/balloon0'
    snap = tmp_path / 'snap'
    a = make_vm(paused=False, extra=devs)
    qa = a.qmp()
    qa.ok('qom-set', {'path': path,
                      'property': 'guest-stats-polling-interval',
                      'value': 5})
    qa.ok('balloon', {'value': 8 << 20})
    qa.ok('stop')
    qa.ok('migrate', {'uri': 'file:%s' % snap})
    assert qa.ok('query-migrate')['status'] == 'completed'
    b = make_vm(paused=True, extra=devs + ['-incoming', 'file:%s' % snap])
    qb = b.qmp()
    wait_status(qb, 'paused')
    assert qb.ok('qom-get', {
        'path': path, 'property': 'guest-stats-polling-interval'}) == 5
    assert qb.ok('query-balloon')['actual'] == 16 << 20
    assert qb.ok('qom-get', {'path': path,
                             'property': 'guest-stats'})['last-update'] == 0
    qb.ok('cont')
    wait_status(qb, 'running')


def wait_migration(qmp, want=('completed', 'failed', 'cancelled'),
                   timeout=30):
    """migrate to a socket is live: it returns at once; poll its end."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = qmp.ok('query-migrate')
        if info.get('status') in want:
            return info
        time.sleep(0.05)
    raise AssertionError('migration still %r' % info)


@pytest.mark.parametrize('proto', ['unix', 'tcp'])
def test_live_migration(make_vm, tmp_path, proto):
    uri = ('unix:%s' % (tmp_path / 'mig.sock') if proto == 'unix'
           else 'tcp:127.0.0.1:%d' % (49152 + os.getpid() % 10000))
    b = make_vm(paused=True, extra=['-incoming', uri])
    qb = b.qmp()
    assert qb.ok('query-status')['status'] == 'inmigrate'
    a = make_vm(paused=False)
    qa = a.qmp()
    time.sleep(0.5)
    qa.ok('migrate-set-capabilities',
          {'capabilities': [{'capability': 'events', 'state': True}]})
    # the idle guest's RAM is mostly zero pages (a few bytes each in the
    # stream): 1000 bytes/s keeps the first pass long enough to watch
    qa.ok('migrate-set-parameters', {'max-bandwidth': 1000})
    qa.ok('migrate', {'uri': uri})
    info = qa.ok('query-migrate')
    assert info['status'] == 'active'
    assert qa.ok('query-status')['status'] == 'running'  # live
    assert info['ram']['total'] == 16 << 20
    assert 'expected-downtime' in info and 'setup-time' in info
    assert qa.wait_event('MIGRATION_PASS')['data']['pass'] == 1
    qa.ok('migrate-set-parameters', {'max-bandwidth': 0})
    info = wait_migration(qa)
    assert info['status'] == 'completed', info
    assert info['ram']['remaining'] == 0
    assert 'downtime' in info and 'total-time' in info
    assert qa.ok('query-status')['status'] == 'postmigrate'
    wait_status(qb, 'paused')  # -S: loaded, not started
    assert registers(qb) == registers(qa)
    qb.ok('cont')
    wait_status(qb, 'running')


def test_live_migration_cancel(make_vm, tmp_path):
    """Cancel mid-pass: the source runs on, the destination refuses the
    partial stream (and exits, as QEMU)."""
    sock = str(tmp_path / 'mig.sock')
    b = make_vm(paused=True, extra=['-incoming', 'unix:%s' % sock])
    b.qmp()  # up, so listening (a slow host may take a while)
    a = make_vm(paused=False)
    qa = a.qmp()
    qa.ok('migrate-set-parameters', {'max-bandwidth': 1000})
    qa.ok('migrate', {'uri': 'unix:%s' % sock})
    time.sleep(0.3)
    assert qa.ok('query-migrate')['status'] == 'active'
    qa.ok('migrate_cancel')
    assert wait_migration(qa)['status'] == 'cancelled'
    assert qa.ok('query-status')['status'] == 'running'
    assert b.wait(10) == 1
    assert 'truncated' in b.stderr() or 'load of migration failed' in \
        b.stderr()
    # a second migration works after the cancel
    b2 = make_vm(paused=True, extra=['-incoming', 'unix:%s.2' % sock])
    qb2 = b2.qmp()
    qa.ok('migrate-set-parameters', {'max-bandwidth': 0})
    qa.ok('migrate', {'uri': 'unix:%s.2' % sock})
    assert wait_migration(qa)['status'] == 'completed'
    wait_status(qb2, 'paused')


def test_live_migration_dead_destination(make_vm, tmp_path):
    """The destination dies mid-stream: the source fails the migration
    and runs on."""
    sock = str(tmp_path / 'mig.sock')
    b = make_vm(paused=True, extra=['-incoming', 'unix:%s' % sock])
    b.qmp()
    a = make_vm(paused=False)
    qa = a.qmp()
    # slow enough that the destination dies mid-stream, fast enough
    # (a 4 KiB data page every few seconds) that the next write sees it
    qa.ok('migrate-set-parameters', {'max-bandwidth': 2000})
    qa.ok('migrate', {'uri': 'unix:%s' % sock})
    time.sleep(0.3)
    b.stop()
    info = wait_migration(qa)
    assert info['status'] == 'failed'
    assert qa.ok('query-status')['status'] == 'running'


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


def test_none_machine_migration(none_vm, tmp_path):
    """Without KVM: the none machine (no RAM, no vCPU) migrates between
    two vireo processes over a unix socket, through the migration thread,
    the main loop's completion and QEMU's events and run states."""
    sock = str(tmp_path / 'none.sock')
    b = none_vm(extra=['-incoming', 'unix:%s' % sock])
    qb = b.qmp()
    assert qb.ok('query-status')['status'] == 'inmigrate'
    a = none_vm()
    qa = a.qmp()
    qa.ok('migrate-set-capabilities',
          {'capabilities': [{'capability': 'events', 'state': True}]})
    qa.ok('migrate', {'uri': 'unix:%s' % sock})
    seen = [qa.wait_event('MIGRATION')['data']['status'] for _ in range(3)]
    assert seen == ['setup', 'active', 'completed']
    assert qa.wait_event('MIGRATION_PASS')['data']['pass'] == 1
    info = wait_migration(qa)
    assert info['status'] == 'completed'
    assert info['ram']['total'] == 0 and info['ram']['remaining'] == 0
    assert info['ram']['transferred'] > 0
    assert 'downtime' in info and 'total-time' in info
    assert qa.ok('query-status')['status'] == 'postmigrate'
    wait_status(qb, 'running')
    assert qb.ok('query-migrate')['status'] == 'completed'
    # nothing in flight: cancel is a no-op, as QEMU
    qa.ok('migrate_cancel')
    assert qa.ok('query-migrate')['status'] == 'completed'


def test_none_machine_migration_refused_destination(none_vm, tmp_path):
    """A destination that closes the connection at once: the source's
    migration fails and the machine goes on as before."""
    import socket
    path = str(tmp_path / 'dead.sock')
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(1)
    a = none_vm()
    qa = a.qmp()
    qa.ok('migrate', {'uri': 'unix:%s' % path})
    conn, _ = srv.accept()
    conn.close()
    srv.close()
    info = wait_migration(qa)
    # the stream may fit in the socket buffer before the close is seen
    assert info['status'] in ('completed', 'failed')
    if info['status'] == 'failed':
        assert qa.ok('query-status')['status'] == 'running'


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
    # QEMU refuses to migrate again from postmigrate; once running again
    # the name was used up: a second migrate cannot write to a closed fd
    e = qa.cmd('migrate', {'uri': 'fd:migrate'})['error']
    assert e['desc'] == ("Can't migrate the vm that was paused due to "
                         "previous migration")
    qa.ok('cont')
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


def none_stream(none_vm, tmp_path):
    """A whole migration stream of the none machine, as bytes."""
    path = tmp_path / 'none.state'
    a = none_vm()
    qa = a.qmp()
    qa.ok('migrate', {'uri': 'file:%s' % path})
    assert wait_migration(qa)['status'] == 'completed'
    a.stop()
    return path.read_bytes()


def wait_received(qmp, n):
    """Polls query-migrate until the destination read n bytes: it must
    answer all along (the stream is read on a thread of its own)."""
    while True:
        info = qmp.ok('query-migrate')
        # setup until the main loop accepted the connection
        assert info['status'] in ('setup', 'active')
        if info['status'] == 'active' and info['ram']['transferred'] >= n:
            return info
        time.sleep(0.02)


def test_none_incoming_answers_meanwhile(none_vm, tmp_path):
    """While the stream arrives (here: half of it, the rest held back),
    the destination answers QMP: query-status inmigrate, query-migrate
    active with the bytes received; a second migrate-incoming and a
    migrate are refused.  With the rest it completes and runs, with
    QEMU's events on the destination."""
    data = none_stream(none_vm, tmp_path)
    half = len(data) // 2
    sock = str(tmp_path / 'in.sock')
    b = none_vm(extra=['-incoming', 'defer'])
    qb = b.qmp()
    qb.ok('migrate-set-capabilities',
          {'capabilities': [{'capability': 'events', 'state': True}]})
    qb.ok('migrate-incoming', {'uri': 'unix:%s' % sock})
    assert qb.wait_event('MIGRATION')['data']['status'] == 'setup'
    assert qb.ok('query-migrate')['status'] == 'setup'
    src = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    src.connect(sock)
    src.sendall(data[:half])
    info = wait_received(qb, half)
    assert info['ram']['transferred'] == half
    assert qb.wait_event('MIGRATION')['data']['status'] == 'active'
    assert qb.ok('query-status') == {'status': 'inmigrate',
                                     'running': False, 'singlestep': False}
    e = qb.cmd('migrate-incoming', {'uri': 'unix:%s' % sock})['error']
    assert e['desc'] == 'The incoming migration has already been started'
    e = qb.cmd('migrate', {'uri': 'file:%s' % (tmp_path / 'x')})['error']
    assert e['desc'] == 'Guest is waiting for an incoming migration'
    src.sendall(data[half:])
    src.close()
    assert qb.wait_event('MIGRATION')['data']['status'] == 'completed'
    # the VM ran before "completed" was said (QEMU's order)
    assert [ev['event'] for ev in qb.events] == ['RESUME']
    info = qb.ok('query-migrate')
    assert info['status'] == 'completed'
    assert info['ram']['transferred'] == len(data)
    assert qb.ok('query-status')['status'] == 'running'


def test_none_incoming_cut(none_vm, tmp_path):
    """A stream cut mid-way: the destination answered until then, and
    exits with the reason (QEMU's behaviour after a failed load)."""
    data = none_stream(none_vm, tmp_path)
    sock = str(tmp_path / 'in.sock')
    b = none_vm(extra=['-incoming', 'unix:%s' % sock])
    qb = b.qmp()
    src = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    src.connect(sock)
    src.sendall(data[:len(data) // 2])
    wait_received(qb, len(data) // 2)
    assert qb.ok('query-status')['status'] == 'inmigrate'
    # -incoming URI started it (QEMU 7.2's message)
    e = qb.cmd('migrate-incoming', {'uri': 'unix:%s' % sock})['error']
    assert e['desc'] == 'The incoming migration has already been started'
    src.close()
    assert b.wait(10) == 1
    err = b.stderr()
    assert 'load of migration failed' in err
    assert 'truncated stream' in err


# The source's run state travels (QEMU's "globalstate" section): each case
# is (id, source -S, source commands before migrate, destination -S,
# destination commands while inmigrate, destination status once loaded).
# Run under vireo and under QEMU 7.2, which these are taken from.
GLOBALSTATE_CASES = [
    ('running', False, [], False, [], 'running'),
    ('paused', False, ['stop'], False, [], 'paused'),
    ('running-dest-S', False, [], True, [], 'paused'),
    ('paused-dest-S', False, ['stop'], True, [], 'paused'),
    # cont while inmigrate does not start what the source had stopped
    ('paused-dest-cont', False, ['stop'], False, ['cont'], 'paused'),
    ('paused-dest-S-cont', False, ['stop'], True, ['cont'], 'paused'),
    ('running-dest-stop', False, [], False, ['stop'], 'paused'),
    ('running-dest-S-cont', False, [], True, ['cont'], 'running'),
    # a source that never ran (-S, stop there keeps prelaunch)
    ('prelaunch', True, [], False, [], 'prelaunch'),
    ('prelaunch-stop-dest-S', True, ['stop'], True, [], 'prelaunch'),
]


def events_on(qmp):
    qmp.ok('migrate-set-capabilities',
           {'capabilities': [{'capability': 'events', 'state': True}]})


def globalstate_run(make, tmp_path, proto, src_S, src_cmds, dst_S,
                    dst_cmds):
    """Migrates a none machine by proto (exec: through a file, or a unix:
    socket: live) after src_cmds, into a destination that got dst_cmds
    while inmigrate; returns the destination's QMP once completed."""
    sandbox = ['-sandbox', 'off']  # exec: runs a command (both accept it)
    a = make(paused=src_S, extra=sandbox)
    qa = a.qmp()
    for c in src_cmds:
        qa.ok(c)
    b = make(paused=dst_S, extra=sandbox + ['-incoming', 'defer'])
    qb = b.qmp()
    events_on(qb)
    for c in dst_cmds:
        qb.ok(c)
    assert qb.ok('query-status')['status'] == 'inmigrate'
    if proto == 'exec':
        path = tmp_path / 'state'
        qa.ok('migrate', {'uri': 'exec:cat > %s' % path})
        assert wait_migration(qa)['status'] == 'completed'
        qb.ok('migrate-incoming', {'uri': 'exec:cat %s' % path})
    else:
        sock = str(tmp_path / 'gs.sock')
        qb.ok('migrate-incoming', {'uri': 'unix:%s' % sock})
        assert qb.wait_event('MIGRATION')['data']['status'] == 'setup'
        qa.ok('migrate', {'uri': 'unix:%s' % sock})
        assert wait_migration(qa)['status'] == 'completed'
    assert qa.ok('query-status')['status'] == 'postmigrate'
    deadline = time.monotonic() + 10
    while qb.ok('query-migrate').get('status') != 'completed':
        assert time.monotonic() < deadline and b.alive()
        time.sleep(0.05)
    return qb


@pytest.mark.parametrize('impl', ['vireo', 'qemu'])
@pytest.mark.parametrize('case', GLOBALSTATE_CASES,
                         ids=[c[0] for c in GLOBALSTATE_CASES])
def test_none_globalstate(request, tmp_path, impl, case):
    """The destination's run state once loaded, as QEMU 7.2: the source's
    (paused, prelaunch) if it was not running, else -S / stop / cont while
    inmigrate decide.  Only a destination that runs says RESUME; cont
    then runs any of them."""
    make = request.getfixturevalue('none_vm' if impl == 'vireo'
                                   else 'qemu_none_vm')
    _, src_S, src_cmds, dst_S, dst_cmds, want = case
    qb = globalstate_run(make, tmp_path, 'exec', src_S, src_cmds, dst_S,
                         dst_cmds)
    st = qb.ok('query-status')
    assert (st['status'], st['running']) == (want, want == 'running')
    seen = [e['event'] for e in qb.events if e['event'] != 'MIGRATION']
    assert seen == (['RESUME'] if want == 'running' else [])
    qb.ok('cont')
    assert qb.ok('query-status')['status'] == 'running'


@pytest.mark.parametrize('impl', ['vireo', 'qemu'])
def test_none_globalstate_live(request, tmp_path, impl):
    """A live migration (unix:) of a paused source: paused at the
    destination too, as QEMU 7.2."""
    make = request.getfixturevalue('none_vm' if impl == 'vireo'
                                   else 'qemu_none_vm')
    qb = globalstate_run(make, tmp_path, 'unix', False, ['stop'], False, [])
    assert qb.ok('query-status')['status'] == 'paused'
    (tmp_path / 'again').mkdir()
    qb = globalstate_run(make, tmp_path / 'again', 'unix', False, [], False,
                         [])
    assert qb.ok('query-status')['status'] == 'running'


def test_none_globalstate_file_snapshot(none_vm, tmp_path):
    """A file: snapshot of a running source (vireo's; QEMU 7.2 has no
    file:) says "running": the restore runs; of a paused one: paused."""
    for src_cmds, want in (([], 'running'), (['stop'], 'paused')):
        path = tmp_path / ('snap-%s' % want)
        a = none_vm()
        qa = a.qmp()
        for c in src_cmds:
            qa.ok(c)
        qa.ok('migrate', {'uri': 'file:%s' % path})
        assert wait_migration(qa)['status'] == 'completed'
        e = qa.cmd('migrate', {'uri': 'file:%s' % path})['error']
        assert e['desc'] == ("Can't migrate the vm that was paused due to "
                             "previous migration")
        b = none_vm(extra=['-incoming', 'file:%s' % path])
        qb = b.qmp()
        wait_status(qb, want)
