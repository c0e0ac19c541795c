# SPDX-License-Identifier: MIT
"""test_qmp.py: QMP against the real vireo binary on an idle guest:
greeting and negotiation, every command with its error paths, the events
of stop/cont/reset/powerdown/quit, id echo, exec-oob, two monitors, and
the human monitor (human-monitor-command and a readline monitor)."""
import json
import re
import socket
import subprocess
import time

import pytest

from qmp_client import QMPClient
from qmp_fixtures import make_vm, vireo_bin, idle_bios  # noqa: F401

ALL_COMMANDS = [
    'qmp_capabilities', 'query-version', 'query-commands',
    'query-qmp-schema', 'query-status', 'stop', 'cont', 'system_reset',
    'system_powerdown', 'quit', 'query-name', 'query-uuid', 'query-kvm',
    'query-cpus-fast', 'query-machines', 'query-target',
    'query-cpu-definitions', 'query-chardev', 'query-command-line-options',
    'query-events', 'inject-nmi', 'human-monitor-command', 'query-pci']
NO_ARG_COMMANDS = [c for c in ALL_COMMANDS if c not in (
    'qmp_capabilities', 'query-command-line-options',
    'human-monitor-command', 'quit')]


def err(r, cls='GenericError', desc=None):
    assert 'error' in r, r
    assert r['error']['class'] == cls, r
    if desc is not None:
        assert r['error']['desc'] == desc, r
    return r['error']['desc']


def test_greeting_and_negotiation(make_vm):
    vm = make_vm()
    c = vm.qmp(negotiate=False)
    g = c.greeting['QMP']
    assert g['capabilities'] == ['oob']
    assert g['version']['qemu'] == {'major': 7, 'minor': 2, 'micro': 0}
    assert g['version']['package'].startswith('vireo-')
    err(c.cmd('query-status'), 'CommandNotFound',
        "Expecting capabilities negotiation with 'qmp_capabilities'")
    err(c.cmd('qmp_capabilities', {'enable': ['nope']}), 'GenericError',
        "Parameter 'enable[0]' does not accept value 'nope'")
    assert c.cmd('qmp_capabilities') == {'return': {}, 'id': 'c3'}
    err(c.cmd('qmp_capabilities'), 'CommandNotFound',
        'Capabilities negotiation is already complete, command ignored')
    assert c.ok('query-status')['status'] in ('prelaunch', 'paused')


def test_replies_are_crlf_terminated(make_vm):
    vm = make_vm()
    c = vm.qmp()
    c.send_raw('{"execute": "query-version"}\n')
    time.sleep(0.2)
    data = c.sock.recv(65536)
    assert data.endswith(b'\r\n') and data.count(b'\r\n') == 1, data


def test_id_echo(make_vm):
    vm = make_vm()
    c = vm.qmp()
    for id in ['libvirt-1', 7, 1.5, None, True, [1, {'a': None}],
               {'x': [2]}]:
        c.send({'execute': 'query-target', 'id': id})
        r = c.reply()
        assert r == {'return': {'arch': 'x86_64'}, 'id': id}, r
    c.send({'execute': 'nope', 'id': {'k': 'v'}})
    r = c.reply()
    assert r['id'] == {'k': 'v'}
    err(r, 'CommandNotFound', 'The command nope has not been found')
    c.send({'execute': 'query-target'})
    assert c.reply() == {'return': {'arch': 'x86_64'}}


def test_query_commands_and_schema(make_vm):
    vm = make_vm()
    c = vm.qmp()
    names = {x['name'] for x in c.ok('query-commands')}
    assert set(ALL_COMMANDS) <= names, set(ALL_COMMANDS) - names
    schema = c.ok('query-qmp-schema')
    by_name = {e['name']: e for e in schema}
    for cmd in ALL_COMMANDS:
        e = by_name[cmd]
        assert e['meta-type'] == 'command'
        assert e['arg-type'] in by_name and e['ret-type'] in by_name
    for ev in ('STOP', 'RESUME', 'RESET', 'POWERDOWN', 'SHUTDOWN'):
        assert by_name[ev]['meta-type'] == 'event'
    shut = by_name[by_name['SHUTDOWN']['arg-type']]
    assert [m['name'] for m in shut['members']] == ['guest', 'reason']
    hmc = by_name[by_name['human-monitor-command']['arg-type']]
    assert {'name': 'cpu-index', 'type': 'int', 'default': None} in \
        hmc['members']
    # every reference resolves; object type names are masked
    for e in schema:
        for k in ('arg-type', 'ret-type', 'element-type'):
            if k in e:
                assert e[k] in by_name, e
        if e['meta-type'] == 'object':
            assert e['name'].isdigit(), e
    assert by_name['query-status'].get('allow-oob') is True
    events = {x['name'] for x in c.ok('query-events')}
    assert {'STOP', 'RESUME', 'RESET', 'POWERDOWN', 'SHUTDOWN'} <= events


@pytest.mark.parametrize('cmd', NO_ARG_COMMANDS)
def test_unexpected_argument(make_vm, cmd):
    vm = make_vm()
    c = vm.qmp()
    err(c.cmd(cmd, {'bogus': 1}), 'GenericError',
        "Parameter 'bogus' is unexpected")
    # nothing happened: still paused
    assert c.ok('query-status')['running'] is False


def test_simple_queries(make_vm):
    vm = make_vm(extra=['-name', 'guest=vm1',
                        '-uuid', '12345678-9abc-def0-1234-56789abcdef0'])
    c = vm.qmp()
    v = c.ok('query-version')
    assert v['qemu'] == {'major': 7, 'minor': 2, 'micro': 0}
    assert v['package'].startswith('vireo-')
    assert c.ok('query-name') == {'name': 'vm1'}
    assert c.ok('query-uuid') == {
        'UUID': '12345678-9abc-def0-1234-56789abcdef0'}
    assert c.ok('query-kvm') == {'enabled': True, 'present': True}
    assert c.ok('query-target') == {'arch': 'x86_64'}
    machines = c.ok('query-machines')
    assert any(m['name'] == 'microvm' and m.get('is-default')
               for m in machines)
    for m in machines:
        assert isinstance(m['cpu-max'], int)
    defs = c.ok('query-cpu-definitions')
    assert defs and all(d['typename'].endswith('-x86_64-cpu') for d in defs)
    chardevs = c.ok('query-chardev')
    assert any(x['filename'].startswith('unix:') and x['frontend-open']
               for x in chardevs), chardevs


def test_query_pci(make_vm):
    """microvm has no PCI; q35 lists the MCH, a root port and the LPC in
    QEMU's shape (compare: qemu-system-x86_64 -M q35 -nodefaults)."""
    assert make_vm().qmp().ok('query-pci') == []
    vm = make_vm(extra=['-M', 'q35', '-device',
                        'pcie-root-port,id=rp1,chassis=1,slot=5,addr=2'])
    buses = vm.qmp().ok('query-pci')
    assert [b['bus'] for b in buses] == [0], buses
    devs = {(d['slot'], d['function']): d for d in buses[0]['devices']}
    assert devs[(0, 0)]['class_info'] == {'class': 1536,
                                          'desc': 'Host bridge'}
    assert devs[(0, 0)]['id'] == {'device': 0x29c0, 'vendor': 0x8086,
                                  'subsystem': 0x1100,
                                  'subsystem-vendor': 0x1af4}
    rp = devs[(2, 0)]
    assert rp['qdev_id'] == 'rp1' and rp['irq_pin'] == 1, rp
    assert rp['pci_bridge']['bus']['io_range'] == {'base': 0xf000,
                                                   'limit': 0xfff}
    assert rp['regions'] == [{'bar': 0, 'type': 'memory', 'address': -1,
                              'size': 4096, 'prefetch': False,
                              'mem_type_64': False}], rp
    assert devs[(31, 0)]['class_info']['desc'] == 'ISA bridge'


def test_query_name_absent(make_vm):
    c = make_vm().qmp()
    assert c.ok('query-name') == {}
    assert c.ok('query-uuid') == {
        'UUID': '00000000-0000-0000-0000-000000000000'}


def test_query_cpus_fast(make_vm):
    vm = make_vm(extra=['-smp', '2'])
    c = vm.qmp()
    cpus = c.ok('query-cpus-fast')
    assert [x['cpu-index'] for x in cpus] == [0, 1]
    for x in cpus:
        assert x['target'] == 'x86_64'
        assert x['qom-path'].startswith('/machine/')
        assert isinstance(x['thread-id'], int)
        assert set(x['props']) >= {'socket-id', 'core-id', 'thread-id'}


def test_command_line_options(make_vm):
    c = make_vm().qmp()
    all_opts = {o['option'] for o in c.ok('query-command-line-options')}
    assert {'machine', 'chardev', 'mon', 'sandbox'} <= all_opts
    one = c.ok('query-command-line-options', {'option': 'machine'})
    assert [o['option'] for o in one] == ['machine']
    assert all(p['type'] in ('string', 'boolean', 'number', 'size')
               for p in one[0]['parameters'])
    err(c.cmd('query-command-line-options', {'option': 'nope'}),
        'GenericError', 'invalid option name: nope')
    err(c.cmd('query-command-line-options', {'option': 5}), 'GenericError',
        "Invalid parameter type for 'option', expected: string")


def test_stop_cont_events(make_vm):
    vm = make_vm()
    c = vm.qmp()
    assert c.cmd('cont') == {'return': {}, 'id': 'c2'}
    e = c.wait_event('RESUME')
    assert set(e) == {'event', 'timestamp'}
    assert set(e['timestamp']) == {'seconds', 'microseconds'}
    assert abs(e['timestamp']['seconds'] - time.time()) < 60
    st = c.ok('query-status')
    assert st == {'running': True, 'singlestep': False, 'status': 'running'}
    c.ok('cont')  # already running: no-op, no event
    c.ok('stop')
    c.wait_event('STOP')
    assert c.ok('query-status')['status'] == 'paused'
    c.ok('stop')  # already stopped
    c.ok('cont')
    c.wait_event('RESUME')
    assert not [e for e in c.events if e['event'] in ('STOP', 'RESUME')]


def test_system_reset_event(make_vm):
    c = make_vm().qmp()
    c.ok('cont')
    c.wait_event('RESUME')
    c.ok('system_reset')
    e = c.wait_event('RESET')
    assert e['data'] == {'guest': False, 'reason': 'host-qmp-system-reset'}
    assert c.ok('query-status')['running'] is True


def test_system_powerdown_event(make_vm):
    vm = make_vm()
    c = vm.qmp()
    c.ok('cont')
    c.ok('system_powerdown')
    e = c.wait_event('POWERDOWN')
    assert 'data' not in e
    assert vm.alive()  # the idle guest ignores the button


def _hmp_regs(c):
    out = c.ok('human-monitor-command', {'command-line': 'info registers'})
    eip = re.search(r'\b[ER]IP=([0-9a-f]+)', out).group(1)
    hlt = re.search(r'HLT=(\d)', out).group(1)
    return int(eip, 16), hlt == '1'


def test_inject_nmi(make_vm):
    """The NMI really reaches the guest: the idle guest sits in `cli; hlt`
    (an NMI is not masked by IF), and after inject-nmi it has left the
    halt for its NMI handler (real-mode vector 2)."""
    vm = make_vm()
    c = vm.qmp()
    c.ok('cont')
    deadline = time.monotonic() + 20
    while True:
        eip, halted = _hmp_regs(c)
        if halted or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert halted, 'the idle guest never halted'
    r = c.cmd('inject-nmi')
    assert r['return'] == {}, r
    deadline = time.monotonic() + 20
    while True:
        eip2, halted2 = _hmp_regs(c)
        if not (halted2 and eip2 == eip) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert (eip2, halted2) != (eip, True), 'the NMI was not delivered'
    assert vm.alive()


def test_quit(make_vm):
    vm = make_vm()
    c = vm.qmp()
    assert c.cmd('quit') == {'return': {}, 'id': 'c2'}
    e = c.wait_event('SHUTDOWN')
    assert e['data'] == {'guest': False, 'reason': 'host-qmp-quit'}
    assert vm.wait(10) == 0


def test_human_monitor_command(make_vm):
    vm = make_vm()
    c = vm.qmp()
    hmp = lambda line, **kw: c.ok('human-monitor-command',  # noqa: E731
                                   dict({'command-line': line}, **kw))
    assert hmp('info status') in ('VM status: paused (prelaunch)\r\n',
                                  'VM status: paused\r\n')
    assert hmp('info cpus').startswith('* CPU #0: thread_id=')
    regs = hmp('info registers')
    assert 'RIP=' in regs or 'EIP=' in regs, regs
    assert 'CPU#0' in regs
    assert hmp('bogus') == "unknown command: 'bogus'\r\n"
    assert hmp('info bogus') == "unknown command: 'info bogus'\r\n"
    assert hmp('cont') == ''
    c.wait_event('RESUME')
    assert hmp('info status') == 'VM status: running\r\n'
    assert hmp('stop') == ''
    c.wait_event('STOP')
    assert hmp('system_reset') == ''
    c.wait_event('RESET')
    assert hmp('system_powerdown') == ''
    c.wait_event('POWERDOWN')
    err(c.cmd('human-monitor-command', {}), 'GenericError',
        "Parameter 'command-line' is missing")
    err(c.cmd('human-monitor-command', {'command-line': 1}), 'GenericError',
        "Invalid parameter type for 'command-line', expected: string")
    err(c.cmd('human-monitor-command',
              {'command-line': 'info cpus', 'cpu-index': 99}))
    err(c.cmd('human-monitor-command',
              {'command-line': 'info cpus', 'cpu-index': 'x'}), 'GenericError',
        "Invalid parameter type for 'cpu-index', expected: integer")
    assert hmp('quit') == ''
    c.wait_event('SHUTDOWN')
    assert vm.wait(10) == 0


def test_exec_oob(make_vm):
    vm = make_vm()
    c = vm.qmp(negotiate=False)
    err(c.cmd('query-status', oob=True), 'GenericError',
        "QMP input member 'exec-oob' is unexpected")
    assert c.cmd('qmp_capabilities', {'enable': ['oob']})['return'] == {}
    r = c.cmd('query-status', oob=True, id='oob-1')
    assert r['id'] == 'oob-1' and r['return']['running'] is False
    err(c.cmd('stop', oob=True), 'GenericError',
        'The command stop does not support OOB')


def test_two_monitors(make_vm):
    vm = make_vm(monitors=('qmp', 'mon2'))
    a = vm.qmp('qmp')
    b = vm.qmp('mon2')
    a.ok('cont')
    a.wait_event('RESUME')
    b.wait_event('RESUME')
    b.ok('stop')
    a.wait_event('STOP')
    b.wait_event('STOP')
    # a client still negotiating gets no events
    b.close()
    b2 = QMPClient(vm.socks['mon2'], negotiate=False)
    vm.clients.append(b2)
    a.ok('cont')
    a.wait_event('RESUME')
    b2.sock.settimeout(0.3)
    with pytest.raises(socket.timeout):
        b2.sock.recv(100)
    b2.cmd('qmp_capabilities')
    assert b2.ok('query-status')['running'] is True


def test_readline_monitor(make_vm):
    vm = make_vm(readline=('hmp',))
    s = socket.socket(socket.AF_UNIX)
    deadline = time.time() + 10
    while True:
        try:
            s.connect(vm.socks['hmp'])
            break
        except (FileNotFoundError, ConnectionRefusedError):
            assert time.time() < deadline
            time.sleep(0.05)
    s.settimeout(5)

    def read_until(token):
        data = b''
        while token not in data:
            d = s.recv(4096)
            assert d, data
            data += d
        return data.decode()
    banner = read_until(b'(qemu) ')
    assert 'QEMU 7.2.0 monitor' in banner
    s.sendall(b'info status\r\n')
    out = read_until(b'(qemu) ')
    assert 'VM status: paused' in out, out
    s.sendall(b'cont\r\ninfo status\r\n')
    out = read_until(b'running')
    s.sendall(b'nonsense\r\n')
    out = read_until(b"unknown command: 'nonsense'")
    s.sendall(b'quit\r\n')
    assert vm.wait(10) == 0
    s.close()


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_qmp_over_tcp(make_vm):
    port = free_port()
    vm = make_vm(monitors=('qmp',),
                 extra=['-chardev', 'socket,id=t,host=127.0.0.1,port=%d,'
                        'server=on,wait=off' % port,
                        '-mon', 'chardev=t,mode=control'])
    vm.qmp()  # the unix one is up, so the tcp one is too
    s = socket.create_connection(('127.0.0.1', port), timeout=5)
    f = s.makefile('rb')
    assert b'"QMP"' in f.readline()
    s.sendall(b'{"execute": "qmp_capabilities"}\r\n'
              b'{"execute": "query-target", "id": 1}\r\n')
    assert json.loads(f.readline()) == {'return': {}}
    assert json.loads(f.readline()) == {'return': {'arch': 'x86_64'},
                                        'id': 1}
    s.close()


def test_pretty_monitor(make_vm, tmp_path):
    path = str(tmp_path / 'pretty.sock')
    vm2 = make_vm(monitors=('qmp',),
                  extra=['-chardev', 'socket,id=p,path=%s,server=on,'
                         'wait=off' % path,
                         '-mon', 'chardev=p,mode=control,pretty=on'])
    vm2.qmp()
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    s.settimeout(5)
    data = b''
    s.sendall(b'{"execute": "qmp_capabilities"}\r\n'
              b'{"execute": "query-target"}\r\n')
    while data.count(b'\r\n') < 3:
        data += s.recv(4096)
    msgs = data.split(b'\r\n')
    assert msgs[2] == b'{\n    "return": {\n        "arch": "x86_64"\n' \
        b'    }\n}', msgs
    s.close()


def test_sigterm_sends_shutdown_event(make_vm):
    vm = make_vm()
    c = vm.qmp()
    vm.proc.send_signal(15)
    e = c.wait_event('SHUTDOWN')
    assert e['data'] == {'guest': False, 'reason': 'host-signal'}
    assert vm.wait(10) == 0


def test_monitor_stdio(vireo_bin, idle_bios):
    p = subprocess.run(
        [str(vireo_bin), '-S', '-nodefaults', '-nographic', '-m', '16M',
         '-serial', 'none', '-bios', str(idle_bios), '-monitor', 'stdio'],
        input=b'info status\ncont\ninfo status\nquit\n',
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=20)
    out = p.stdout.decode()
    assert p.returncode == 0, p
    assert 'QEMU 7.2.0 monitor' in out
    assert 'VM status: paused' in out
    assert 'VM status: running' in out, out


def test_inherited_listening_fd(vireo_bin, idle_bios, tmp_path):
    """libvirt's way: it binds and listens itself, passes the fd, connects
    by path, and reconnects after a hang-up.  (libvirt also passes
    id=monitor to -mon, which system/vl.c refuses so far.)"""
    path = str(tmp_path / 'monitor.sock')
    lsock = socket.socket(socket.AF_UNIX)
    lsock.bind(path)
    lsock.listen(1)
    fd = lsock.fileno()
    p = subprocess.Popen(
        [str(vireo_bin), '-S', '-nodefaults', '-nographic', '-m', '16M',
         '-serial', 'none', '-bios', str(idle_bios), '-chardev',
         'socket,id=charmonitor,fd=%d,server=on,wait=off' % fd, '-mon',
         'chardev=charmonitor,mode=control'],
        pass_fds=[fd], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE)
    lsock.close()
    try:
        for _ in range(2):
            c = QMPClient(path)
            c.send_raw('{"execute":"query-status","id":"libvirt-2"}\r\n')
            r = c.reply('libvirt-2')
            assert r['return']['running'] is False
            c.close()
        c = QMPClient(path)
        c.ok('quit')
        assert p.wait(10) == 0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
