# SPDX-License-Identifier: MIT
"""test_block_nodes.py: query-named-block-nodes and query-block's
`inserted` against QEMU 7.2 on `-machine none` (no KVM needed), for the
block configurations vireo accepts: -drive (QEMU's implicit raw format
node over a file protocol node), read-only and the cache modes, -blockdev
in dotted and JSON form (libvirt 9.0's exact pair of nodes, a raw node
with an inline child, named or not) and a lone file node.

Each process opens images of its own (both lock them); the images have
the same size and the same allocated blocks, so every member compares
equal except what docs/qemu-compat.md lists: the names QEMU gives nodes
itself ("#blockNNN", a counter and two random digits; vireo's are
"#block<seq>"), and the file names (each process's own image).
"""
import json

import pytest

from qmp_fixtures import *  # noqa: F401,F403

MiB = 1 << 20


def image(path):
    """A 2 MiB sparse image whose first 40 KiB are written: actual-size
    (the allocated blocks) is not 0 and not the virtual size."""
    with open(path, 'wb') as f:
        f.write(bytes(range(256)) * 160)
        f.truncate(2 * MiB)
    return path


# each configuration: argv with {IMG} for the image path
CONFIGS = {
    'drive': ['-drive', 'file={IMG},format=raw,if=none,id=d0'],
    'drive-ro': ['-drive', 'file={IMG},format=raw,if=none,id=d0,'
                 'readonly=on'],
    'drive-none': ['-drive', 'file={IMG},format=raw,if=none,id=d0,'
                   'cache=none'],
    'drive-unsafe': ['-drive', 'file={IMG},format=raw,if=none,id=d0,'
                     'cache=unsafe'],
    'drive-writeback': ['-drive', 'file={IMG},format=raw,if=none,id=d0,'
                        'cache=writeback'],
    'drive-cache-direct': ['-drive', 'file={IMG},format=raw,if=none,id=d0,'
                           'cache.direct=on,cache.no-flush=off'],
    'drive-cache-no-flush': ['-drive', 'file={IMG},format=raw,if=none,'
                             'id=d0,cache.no-flush=on'],
    'drive-unsafe-flush-off': ['-drive', 'file={IMG},format=raw,if=none,'
                               'id=d0,cache=unsafe,cache.no-flush=off'],
    'blockdev-dotted': ['-blockdev', 'driver=file,node-name=s0,'
                        'filename={IMG}',
                        '-blockdev', 'driver=raw,node-name=f0,file=s0'],
    'blockdev-inline': ['-blockdev', 'driver=raw,node-name=f0,'
                        'file.driver=file,file.filename={IMG}'],
    'blockdev-inline-named': ['-blockdev', 'driver=raw,node-name=f0,'
                              'file.driver=file,file.filename={IMG},'
                              'file.node-name=p0,cache.direct=on,'
                              'read-only=on'],
    'blockdev-inline-json': ['-blockdev', json.dumps(
        {'driver': 'raw', 'node-name': 'f0', 'cache': {'no-flush': True},
         'file': {'driver': 'file', 'filename': '{IMG}'}})],
    'blockdev-ref-flags': ['-blockdev', 'driver=file,node-name=s0,'
                           'filename={IMG},cache.no-flush=on,read-only=on',
                           '-blockdev', 'driver=raw,node-name=f0,file=s0'],
    'blockdev-file-alone': ['-blockdev', 'driver=file,node-name=s0,'
                            'filename={IMG},read-only=on'],
    # libvirt 9.0's argv (tests/unit/test-vl.c /vl/libvirt-argv*)
    'libvirt': ['-blockdev', json.dumps(
        {'driver': 'file', 'filename': '{IMG}',
         'node-name': 'libvirt-1-storage', 'auto-read-only': True,
         'discard': 'unmap'}),
        '-blockdev', json.dumps(
        {'node-name': 'libvirt-1-format', 'read-only': False,
         'driver': 'raw', 'file': 'libvirt-1-storage'})],
    'libvirt-ro-direct': ['-blockdev', json.dumps(
        {'driver': 'file', 'filename': '{IMG}',
         'node-name': 'libvirt-1-storage', 'auto-read-only': True,
         'discard': 'unmap', 'cache': {'direct': True, 'no-flush': False}}),
        '-blockdev', json.dumps(
        {'node-name': 'libvirt-1-format', 'read-only': True,
         'cache': {'direct': True, 'no-flush': False},
         'driver': 'raw', 'file': 'libvirt-1-storage'})],
    # QEMU opens every -blockdev before any -drive, whatever the order
    'drive-then-blockdevs': [
        '-drive', 'file={IMG}.2,format=raw,if=none,id=d0,cache=none',
        '-blockdev', 'driver=file,node-name=s1,filename={IMG}.3',
        '-blockdev', 'driver=file,node-name=s0,filename={IMG}',
        '-blockdev', 'driver=raw,node-name=f0,file=s0',
        '-blockdev', 'driver=raw,node-name=f1,file.driver=file,'
        'file.filename={IMG}.4',
        '-drive', 'file={IMG}.5,format=raw,if=none,id=d1,readonly=on'],
}


def argv(tmp_path, tag, config):
    base = tmp_path / ('%s.raw' % tag)
    out = []
    for a in CONFIGS[config]:
        a = a.replace('{IMG}', str(base))
        out.append(a)
    for suffix in ('', '.2', '.3', '.4', '.5'):
        image('%s%s' % (base, suffix))
    return out, str(base)


def normalise(nodes, base):
    """Auto node names become their rank among auto names (both number
    them in creation order, newest first here), the image base name a
    placeholder."""
    auto = [n['node-name'] for n in nodes
            if n['node-name'].startswith('#block')]
    rank = {name: i for i, name in enumerate(auto)}

    def fix(n):
        n = json.loads(json.dumps(n).replace(base, 'IMG'))
        if n['node-name'] in rank:
            n['node-name'] = '#auto%d' % rank[n['node-name']]
        return n
    return [fix(n) for n in nodes]


@pytest.mark.parametrize('config', sorted(CONFIGS))
def test_named_block_nodes_as_qemu(none_vm, qemu_none_vm, tmp_path, config):
    va, vbase = argv(tmp_path, 'v', config)
    qa, qbase = argv(tmp_path, 'q', config)
    v = none_vm(extra=va).qmp()
    q = qemu_none_vm(extra=qa).qmp()
    for args in (None, {'flat': True}, {'flat': False}):
        vn = v.ok('query-named-block-nodes', args)
        qn = q.ok('query-named-block-nodes', args)
        assert normalise(vn, vbase) == normalise(qn, qbase), (config, args)
    # query-block: the same backends, `inserted` the same top node
    vb, qb = v.ok('query-block'), q.ok('query-block')
    assert len(vb) == len(qb)
    for x, y in zip(vb, qb):
        xi, yi = x.pop('inserted'), y.pop('inserted')
        assert x == y
        assert normalise([xi], vbase) == normalise([yi], qbase)


def test_auto_names(none_vm, tmp_path):
    """vireo's auto names: "#block" and a creation counter, never a name
    a user can give (QEMU's node names start with a letter)."""
    va, _ = argv(tmp_path, 'v', 'drive-then-blockdevs')
    v = none_vm(extra=va).qmp()
    names = [n['node-name'] for n in v.ok('query-named-block-nodes')]
    assert names == ['#block011', '#block010', '#block009', '#block008',
                     'f1', '#block006', 'f0', 's0', 's1']
    # the unused -blockdev nodes are no block backends
    assert [(b['device'], b['inserted']['node-name'])
            for b in v.ok('query-block')] == [('d0', '#block009'),
                                              ('d1', '#block011')]


def test_actual_size_follows_the_image(none_vm, tmp_path):
    """actual-size is read at each query (QEMU's fstat), virtual-size is
    the image size."""
    p = image(tmp_path / 'a.raw')
    v = none_vm(extra=['-drive',
                       'file=%s,format=raw,if=none,id=d0' % p]).qmp()
    nodes = v.ok('query-named-block-nodes')
    assert {n['image']['actual-size'] for n in nodes} == {40960}
    assert {n['image']['virtual-size'] for n in nodes} == {2 * MiB}
    with open(p, 'r+b') as f:
        f.seek(MiB)
        f.write(b'\1' * 8192)
        f.flush()
    nodes = v.ok('query-named-block-nodes')
    assert {n['image']['actual-size'] for n in nodes} == {40960 + 8192}
