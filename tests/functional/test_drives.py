# SPDX-License-Identifier: MIT
"""test_drives.py: -drive / -blockdev on the real binary.  The errors a
user sees before the guest starts (missing image, image locked by another
process, unknown drive id, if=virtio on q35) need no KVM; query-block runs
on the none machine (no KVM needed either); a disk seen by a booted guest
needs the kvm fixture."""
import fcntl

import pytest

from conftest import run


@pytest.fixture
def image(tmp_path):
    p = tmp_path / 'disk.raw'
    p.write_bytes(b'\0' * (1 << 20))
    return p


def test_missing_image(vireo, tmp_path):
    r = run([vireo, '-M', 'microvm', '-drive',
             'file=%s,if=virtio' % (tmp_path / 'nope.raw')])
    assert r.returncode == 1
    assert "-drive: Could not open '%s'" % (tmp_path / 'nope.raw') in r.stderr


def test_locked_image(vireo, image):
    with open(image, 'r+b') as f:
        # a POSIX lock conflicts with the OFD locks QEMU and vireo take
        fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, 100)
        r = run([vireo, '-M', 'microvm', '-drive',
                 'file=%s,if=virtio' % image])
    assert r.returncode == 1
    assert 'Failed to lock byte' in r.stderr


def test_unknown_drive_id(vireo, image):
    r = run([vireo, '-M', 'microvm', '-drive',
             'file=%s,if=none,id=d0' % image, '-device',
             'virtio-blk-device,drive=d1'])
    assert r.returncode == 1
    assert ("-device virtio-blk-device,drive=d1: Property "
            "'virtio-blk-device.drive' can't find value 'd1'") in r.stderr


def test_duplicate_and_no_bus(vireo, image):
    r = run([vireo, '-M', 'microvm', '-drive', 'file=%s,if=virtio' % image,
             '-drive', 'file=%s,if=none,id=virtio0,readonly=on' % image])
    assert r.returncode == 1
    assert "Duplicate ID 'virtio0' for drive" in r.stderr
    r = run([vireo, '-M', 'none', '-drive', 'file=%s,if=virtio' % image])
    assert r.returncode == 1
    assert 'has no virtio bus' in r.stderr


def test_query_block(none_vm, image):
    vm = none_vm(extra=('-drive', 'file=%s,if=none,id=d0,readonly=on' % image,
                        '-blockdev', 'driver=file,node-name=f,filename=%s,'
                        'read-only=on' % image)).qmp()
    blocks = vm.ok('query-block')
    # a -blockdev node no device uses is no block backend (as QEMU)
    assert [b['device'] for b in blocks] == ['d0']
    assert blocks[0]['inserted']['file'] == str(image)
    assert blocks[0]['inserted']['ro'] is True
    assert blocks[0]['removable'] is True
    assert all('qdev' not in b for b in blocks)
    # it is a node all the same (tests/functional/test_block_nodes.py)
    nodes = vm.ok('query-named-block-nodes')
    assert [(n['node-name'], n['drv']) for n in nodes][-1] == ('f', 'file')
