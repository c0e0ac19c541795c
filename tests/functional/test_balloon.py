# SPDX-License-Identifier: MIT
"""test_balloon.py: the memory balloon as QEMU 7.2 users see it.  Without
KVM: the balloon commands' errors on a machine with no balloon (compared
with QEMU's -machine none under TCG, reply for reply), `-device
virtio-balloon-device,help` against QEMU's, and the refusal on a machine
with no virtio bus.  With KVM: a microvm with the device answers
query-balloon, balloon and qom-get guest-stats as QEMU's does.
"""
import subprocess

import pytest

from conftest import run
from qmp_client import VM

NO_BALLOON = [
    ('query-balloon', None),
    ('balloon', {'value': 0}),
    ('balloon', {'value': -5}),
    ('balloon', {'value': 1 << 20}),
    ('balloon', {'value': 'x'}),
    ('balloon', None),
]


def test_no_balloon_errors_as_qemu(none_vm, qemu_none_vm):
    v = none_vm().qmp()
    q = qemu_none_vm().qmp()
    for name, args in NO_BALLOON:
        a, b = v.cmd(name, args), q.cmd(name, args)
        assert 'error' in a and 'error' in b, (name, args, a, b)
        assert a['error'] == b['error'], (name, args, a, b)
    assert v.cmd('query-balloon')['error'] == {
        'class': 'DeviceNotActive',
        'desc': 'No balloon device has been activated'}
    for line in ('info balloon', 'balloon 64'):
        args = {'command-line': line}
        assert v.ok('human-monitor-command', args) == \
            q.ok('human-monitor-command', args), line
    assert v.ok('qom-list', {'path': '/machine/peripheral-anon'}) == \
        q.ok('qom-list', {'path': '/machine/peripheral-anon'})
    # qom-set reaches nothing on an empty machine, as in QEMU
    args = {'path': '/machine/peripheral/b0',
            'property': 'guest-stats-polling-interval', 'value': 2}
    assert v.cmd('qom-set', args)['error'] == q.cmd('qom-set', args)['error']


def test_balloon_schema(none_vm):
    q = none_vm().qmp()
    schema = q.ok('query-qmp-schema')
    names = {e['name'] for e in schema}
    for n in ('balloon', 'query-balloon', 'BALLOON_CHANGE', 'qom-set'):
        assert n in names, n


def _help_props(text):
    return {line.split('=')[0].strip() for line in text.splitlines()
            if '=' in line}


def test_device_help(vireo, qemu):
    r = run([vireo, '-device', 'virtio-balloon-device,help'], timeout=10)
    assert r.returncode == 0, r
    props = _help_props(r.stdout)
    assert {'deflate-on-oom', 'free-page-reporting', 'page-poison'} <= props
    q = subprocess.run([qemu, '-device', 'virtio-balloon-device,help'],
                       capture_output=True, text=True, timeout=30)
    # every property vireo offers is QEMU's, with QEMU's default
    assert props <= _help_props(q.stdout), (props, q.stdout)
    for name, default in (('deflate-on-oom', 'false'),
                          ('free-page-reporting', 'false'),
                          ('page-poison', 'true')):
        assert 'default: %s' % default in \
            [l for l in q.stdout.splitlines() if l.strip().startswith(name + '=')][0]
        want = {'false': 'off', 'true': 'on'}[default]
        assert 'default: %s' % want in \
            [l for l in r.stdout.splitlines() if l.strip().startswith(name + '=')][0]
    r = run([vireo, '-device', 'help'], timeout=10)
    assert 'name "virtio-balloon-device"' in r.stdout, r
    # QEMU's free-page-hint is not offered: refused, not ignored
    r = run([vireo, '-device', 'virtio-balloon-device,free-page-hint=on,help'],
            timeout=10)
    assert r.returncode != 0 or 'free-page-hint' not in r.stdout


def test_balloon_needs_a_virtio_bus(vireo):
    r = subprocess.run([str(vireo), '-machine', 'none,accel=kvm:tcg',
                        '-nodefaults', '-nographic', '-device',
                        'virtio-balloon-device'],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 1, r
    assert '-device' in r.stderr and 'bus' in r.stderr, r.stderr


def _microvm_balloon(binary, guest, qemu=False, dev='virtio-balloon-device'):
    return VM(binary, guest('hello'), qemu=qemu,
              extra=['-device', dev + ',id=balloon0'])


@pytest.mark.parametrize('which', ['vireo', 'qemu'])
def test_balloon_on_microvm(which, vireo, qemu, guest, kvm):
    vm = _microvm_balloon(qemu if which == 'qemu' else vireo, guest,
                          qemu=which == 'qemu')
    try:
        q = vm.qmp()
        assert q.ok('query-balloon') == {'actual': 16 << 20}
        err = q.cmd('balloon', {'value': 0})['error']
        assert err['desc'] == "Parameter 'target' expects a size"
        assert q.ok('balloon', {'value': 8 << 20}) == {}
        path = '/machine/peripheral/balloon0'
        stats = q.ok('qom-get', {'path': path, 'property': 'guest-stats'})
        assert stats['last-update'] == 0
        assert stats['stats']['stat-free-memory'] == (1 << 64) - 1
        assert len(stats['stats']) == 10
        assert q.ok('qom-set', {'path': path,
                                'property': 'guest-stats-polling-interval',
                                'value': 2}) == {}
        assert q.ok('qom-get', {'path': path, 'property':
                                'guest-stats-polling-interval'}) == 2
        err = q.cmd('qom-set', {'path': path,
                                'property': 'guest-stats-polling-interval',
                                'value': -1})['error']
        assert err['desc'] == 'timer value must be greater than zero'
        assert q.ok('human-monitor-command',
                    {'command-line': 'info balloon'}) == \
            'balloon: actual=16\r\n'
    finally:
        vm.stop()
