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
"""
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
