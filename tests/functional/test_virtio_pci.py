# SPDX-License-Identifier: MIT
"""test_virtio_pci.py: -device virtio-blk-pci on the real binary.  Help
texts, the errors named before KVM is opened, and the properties against
QEMU 7.2's need no KVM; errors found at realize and query-pci of a q35
machine next to QEMU's (TCG) need the kvm fixture.  The register-level
behaviour is tests/unit/test-virtio-pci.c's."""
import os

import pytest

from conftest import run
from qmp_client import VM

SEABIOS = '/usr/share/seabios/bios.bin'


@pytest.fixture
def image(tmp_path):
    p = tmp_path / 'disk.raw'
    p.write_bytes(b'\0' * (1 << 20))
    return p


def test_help(vireo):
    r = run([vireo, '-device', 'help'], timeout=10)
    assert r.returncode == 0, r
    assert 'name "virtio-blk-pci"' in r.stdout, r
    r = run([vireo, '-device', 'virtio-blk-pci,help'], timeout=10)
    assert r.returncode == 0, r
    for prop in ('bus=', 'addr=', 'multifunction=', 'vectors=',
                 'disable-legacy=', 'disable-modern=', 'drive=',
                 'num-queues=', 'serial='):
        assert prop in r.stdout, (prop, r)


def test_unknown_drive(vireo, image):
    r = run([vireo, '-M', 'q35', '-drive',
             'file=%s,format=raw,if=none,id=d0' % image, '-device',
             'virtio-blk-pci,drive=d1'], timeout=10)
    assert r.returncode == 1, r
    assert ("-device virtio-blk-pci,drive=d1: Property "
            "'virtio-blk-pci.drive' can't find value 'd1'") in r.stderr, r


def test_bad_values(vireo, image):
    for text, why in (('virtio-blk-pci,drive=d0,vectors=x',
                       "property 'vectors' does not accept 'x'"),
                      ('virtio-blk-pci,drive=d0,nope=1', 'nope')):
        r = run([vireo, '-M', 'q35', '-drive',
                 'file=%s,format=raw,if=none,id=d0' % image, '-device',
                 text], timeout=10)
        assert r.returncode == 1, r
        assert why in r.stderr, r


@pytest.mark.parametrize('text,why', [
    ('virtio-blk-pci', 'drive property not set'),
    ('virtio-blk-pci,drive=d0,addr=zz', 'is not SLOT[.FN]'),
    ('virtio-blk-pci,drive=d0,addr=0', 'in use by mch'),
    ('virtio-blk-pci,drive=d0,disable-legacy=off', 'modern virtio-pci'),
    ('virtio-blk-pci,drive=d0,disable-modern=on', 'modern virtio-pci'),
])
def test_realize_errors(vireo, kvm, image, text, why):
    r = run([vireo, '-M', 'q35', '-nodefaults', '-nographic', '-bios',
             SEABIOS, '-drive', 'file=%s,format=raw,if=none,id=d0' % image,
             '-device', text], timeout=10)
    assert r.returncode == 1, r
    assert why in r.stderr, r


def test_properties_like_qemu(none_vm, qemu_none_vm):
    """Every property vireo offers exists in QEMU 7.2's virtio-blk-pci,
    with the transport's defaults QEMU has."""
    a = {p['name']: p for p in none_vm().qmp().ok(
        'device-list-properties', {'typename': 'virtio-blk-pci'})}
    b = {p['name']: p for p in qemu_none_vm().qmp().ok(
        'device-list-properties', {'typename': 'virtio-blk-pci'})}
    # bus= is a generic -device option in QEMU, not a listed property
    assert set(a) - {'bus'} <= set(b), set(a) - set(b)
    for name in ('vectors', 'drive', 'multifunction', 'disable-modern'):
        assert a[name]['type'] == b[name]['type'], name
    assert a['vectors'].get('default-value') == \
        b['vectors'].get('default-value')


def _pci_function(vm, slot):
    buses = vm.qmp().ok('query-pci')
    return [d for d in buses[0]['devices'] if d['slot'] == slot][0]


def test_query_pci_like_qemu(vireo, qemu, kvm, image):
    """The same command line under QEMU (TCG) and vireo: ids, class and
    BARs of the function agree (QEMU modern-only: disable-legacy=on)."""
    if not os.path.exists(SEABIOS):
        pytest.skip('seabios not installed')
    extra = ['-M', 'q35', '-bios', SEABIOS, '-drive',
             'file=%s,format=raw,if=none,id=d0,readonly=on' % image,
             '-device', 'virtio-blk-pci,drive=d0,addr=3,disable-legacy=on']
    v = VM(vireo, None, extra=extra, paused=True)
    q = VM(qemu, None, extra=extra, qemu=True, paused=True)
    try:
        a, b = _pci_function(v, 3), _pci_function(q, 3)
    finally:
        v.stop()
        q.stop()
    assert a['id'] == b['id']
    assert a['class_info'] == b['class_info']
    assert a['irq_pin'] == b['irq_pin']

    def bars(d):
        return [(r['bar'], r['type'], r['size'], r.get('prefetch'),
                 r.get('mem_type_64')) for r in d['regions']]
    assert bars(a) == bars(b)
