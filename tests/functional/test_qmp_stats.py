# SPDX-License-Identifier: MIT
"""test_qmp_stats.py: the commands libvirt's `virsh domstats` sends, on
`-machine none` without KVM, against QEMU's answers on the same machine:
query-stats and query-stats-schemas (no provider without KVM: []),
query-iothreads, query-dirty-rate (before any measurement), and
query-blockstats with a drive and a -blockdev node (the counters QEMU
reports, zero before any I/O; documented differences aside).  The
counters themselves are checked with guest requests in
tests/unit/test-virtio-blk.c (stats) and the KVM statistics with the
fake KVM in tests/unit/test-kvm-stats.c.

calc-dirty-rate (libvirt's `virsh domdirtyrate-calc`) on the same
machine: QEMU's refusals and, without RAM, its page-sampling result
(measured at once, dirty-rate -1), over QMP and HMP; the measurement
itself is tested in tests/unit/test-dirtyrate.c.  QEMU 7.2 under TCG
crashes on the dirty-ring and dirty-bitmap modes (it asks KVM whether a
ring is on), so those are checked on vireo alone.
"""
import time

import pytest

from qmp_fixtures import *  # noqa: F401,F403

DOMSTATS = ['query-stats', 'query-stats-schemas', 'query-blockstats',
            'query-named-block-nodes', 'query-iothreads', 'query-dirty-rate',
            'query-balloon', 'qom-list', 'qom-get']


def drives(tmp_path, tag):
    """A -drive and a -blockdev on images of their own (each process
    locks its images, as QEMU does)."""
    out = []
    for name in ('d', 'n'):
        p = tmp_path / ('%s-%s.raw' % (tag, name))
        p.write_bytes(b'\0' * (1 << 20))
        out.append(p)
    return ('-drive', 'file=%s,if=none,id=d0,format=raw' % out[0],
            '-blockdev', 'driver=file,node-name=n1,filename=%s' % out[1])


def test_domstats_commands_listed(none_vm):
    names = {c['name'] for c in none_vm().qmp().ok('query-commands')}
    assert set(DOMSTATS) <= names


def test_answers_as_qemu_without_kvm(none_vm, qemu_none_vm):
    v = none_vm().qmp()
    q = qemu_none_vm().qmp()
    for name, args in [
            ('query-stats', {'target': 'vm'}),
            ('query-stats', {'target': 'vcpu'}),
            ('query-stats', {'target': 'vcpu', 'vcpus': ['/machine'],
                             'providers': [{'provider': 'kvm',
                                            'names': ['halt_poll_fail_ns']}]}),
            ('query-stats-schemas', None),
            ('query-stats-schemas', {'provider': 'kvm'}),
            ('query-iothreads', None),
            ('query-dirty-rate', None),
            ('query-blockstats', None),
            ('query-blockstats', {'query-nodes': True})]:
        assert v.ok(name, args) == q.ok(name, args), (name, args)
    # bad filters are refused by both
    for args in [{'target': 'nosuch'}, {},
                 {'target': 'vm', 'providers': [{'provider': 'nosuch'}]}]:
        a, b = v.cmd('query-stats', args), q.cmd('query-stats', args)
        assert 'error' in a and 'error' in b, (args, a, b)


# QEMU members vireo leaves out (docs/qemu-compat.md, query-blockstats)
NOT_IN_VIREO = {'parent', 'driver-specific'}


def test_blockstats_shape(none_vm, qemu_none_vm, tmp_path):
    vm = none_vm(extra=drives(tmp_path, 'v')).qmp()
    v = vm.ok('query-blockstats')
    q = qemu_none_vm(extra=drives(tmp_path, 'q')).qmp().ok('query-blockstats')
    # the unused -blockdev node has no block backend: not listed
    assert [b['device'] for b in v] == ['d0'] == [b['device'] for b in q]
    assert v[0]['stats'] == q[0]['stats']
    # the -drive's format node, auto-named by both ("#blockN")
    assert v[0]['node-name'].startswith('#block')
    assert q[0]['node-name'].startswith('#block')
    assert set(q[0]) - set(v[0]) <= NOT_IN_VIREO
    nodes = vm.ok('query-blockstats', {'query-nodes': True})
    assert [n['node-name'] for n in nodes] == ['n1']
    assert nodes[0]['stats']['account_invalid'] is False
    assert all(v == 0 for k, v in nodes[0]['stats'].items()
               if isinstance(v, int) and not isinstance(v, bool))


# QEMU 7.2's refusals, in its order (each breaks one rule first)
CALC_REFUSED = [
    {'calc-time': 0}, {'calc-time': 61}, {'calc-time': -1},
    {'calc-time': 2 ** 63 - 1},
    {'calc-time': 1, 'sample-pages': 127},
    {'calc-time': 1, 'sample-pages': 16385},
    {'calc-time': 1, 'sample-pages': -(2 ** 63)},
    {'calc-time': 1, 'sample-pages': 512, 'mode': 'dirty-ring'},
    {'calc-time': 0, 'sample-pages': 5, 'mode': 'dirty-ring'},
    {'calc-time': 1, 'mode': 'nosuch'}, {'sample-pages': 512},
    {'calc-time': 1.5}, {'calc-time': '1'}, {'calc-time': 1, 'x': 1},
]


def settled(q):
    """query-dirty-rate once QEMU's measuring thread is done (without
    RAM it ends at once, but on a thread of its own, which also moves
    the status from "unstarted" to "measuring": only a calc started
    before this is waited for)."""
    deadline = time.monotonic() + 30
    while True:
        r = q.ok('query-dirty-rate')
        if r['status'] == 'measured' or time.monotonic() > deadline:
            return r
        time.sleep(0.05)


def test_calc_dirty_rate_as_qemu(none_vm, qemu_none_vm):
    v = none_vm().qmp()
    q = qemu_none_vm().qmp()
    assert 'calc-dirty-rate' in {c['name'] for c in v.ok('query-commands')}
    for args in CALC_REFUSED:
        a, b = v.cmd('calc-dirty-rate', args), q.cmd('calc-dirty-rate', args)
        assert a.get('error') == b.get('error'), (args, a, b)
        assert 'error' in a, args
    assert v.ok('query-dirty-rate') == q.ok('query-dirty-rate')
    for args in [{'calc-time': 1, 'sample-pages': 128},
                 {'calc-time': 60},
                 {'calc-time': 3, 'sample-pages': 16384,
                  'mode': 'page-sampling'}]:
        before = time.monotonic()
        assert v.ok('calc-dirty-rate', args) == {}
        after = time.monotonic()
        assert q.ok('calc-dirty-rate', args) == {}
        a, b = v.ok('query-dirty-rate'), settled(q)
        # both read the monotonic clock, in whole seconds
        assert int(before) <= a.pop('start-time') <= after
        b.pop('start-time')
        assert a == b, args
        assert a['status'] == 'measured' and a['dirty-rate'] == -1


def hmp(vm, line):
    return vm.ok('human-monitor-command', {'command-line': line})


def test_hmp_dirty_rate_as_qemu(none_vm, qemu_none_vm):
    v = none_vm().qmp()
    q = qemu_none_vm().qmp()
    for line in ['calc_dirty_rate 0', 'calc_dirty_rate -r -b 1',
                 'calc_dirty_rate 1 100', 'calc_dirty_rate',
                 'calc_dirty_rate x', 'calc_dirty_rate 70',
                 'calc_dirty_rate -1', 'calc_dirty_rate 1 x',
                 'calc_dirty_rate 1 200 3', 'calc_dirty_rate 2 200']:
        assert hmp(v, line) == hmp(q, line), line
    settled(q)
    a, b = hmp(v, 'info dirty_rate'), hmp(q, 'info dirty_rate')
    assert a.startswith('Status: measured\r\nStart Time: ')
    strip = [ln for ln in a.split('\r\n') if not ln.startswith('Start')]
    assert strip == [ln for ln in b.split('\r\n')
                     if not ln.startswith('Start')]
    assert 'Sample Pages: 200 (per GB)' in strip
    assert 'Dirty rate: -1 (MB/s)' in strip


def test_logging_modes_without_ram(none_vm):
    """No KVM, no ring: dirty-ring is refused with QEMU's text (what it
    says under KVM without a ring); dirty-bitmap measures, and no RAM
    is written."""
    v = none_vm().qmp()
    r = v.cmd('calc-dirty-rate', {'calc-time': 1, 'mode': 'dirty-ring'})
    assert r['error']['desc'] == ('mode dirty-ring is not enabled, use '
                                  'other method instead.')
    assert v.ok('calc-dirty-rate', {'calc-time': 1, 'mode': 'dirty-bitmap',
                                    'sample-pages': 256}) == {}
    r = v.ok('query-dirty-rate')
    assert r['status'] == 'measuring' and r['sample-pages'] == 256
    assert 'dirty-rate' not in r
    r = v.cmd('calc-dirty-rate', {'calc-time': 1})
    assert r['error']['desc'] == 'the dirty rate is already being measured.'
    assert 'Dirty rate: (not ready)' in hmp(v, 'info dirty_rate')
    r = settled(v)
    assert r['status'] == 'measured'
    assert (r['dirty-rate'], r['sample-pages'], r['mode']) == \
        (0, 0, 'dirty-bitmap')
    assert 'vcpu-dirty-rate' not in r
