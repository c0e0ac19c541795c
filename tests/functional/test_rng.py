# SPDX-License-Identifier: MIT
"""test_rng.py: virtio-rng on the real binary, without KVM: the errors a
user sees before the guest starts (an rng= naming no object or the wrong
kind, an entropy file that cannot be opened), the help texts, and the QOM
view libvirt probes (qom-list-types, qom-list-properties,
device-list-properties) on the none machine.  QEMU 7.2's messages."""
import pytest

from conftest import run


def test_unknown_rng_id(vireo):
    r = run([vireo, '-M', 'microvm', '-device',
             'virtio-rng-device,rng=nosuch'])
    assert r.returncode == 1
    assert ("-device virtio-rng-device,rng=nosuch: Device 'nosuch' not "
            "found") in r.stderr
    # named before the accelerator: no word about /dev/kvm
    assert '/dev/kvm' not in r.stderr


def test_unknown_rng_id_json(vireo):
    """libvirt's -device JSON, with its typed max-bytes and period."""
    dev = ('{"driver":"virtio-rng-device","rng":"nosuch","max-bytes":1024,'
           '"period":1000,"id":"rng0"}')
    r = run([vireo, '-M', 'microvm', '-device', dev])
    assert r.returncode == 1
    assert "-device %s: Device 'nosuch' not found" % dev in r.stderr


def test_rng_names_another_kind_of_object(vireo):
    r = run([vireo, '-M', 'microvm', '-object', 'secret,id=s,data=x',
             '-device', 'virtio-rng-device,rng=s'])
    assert r.returncode == 1
    assert ("-device virtio-rng-device,rng=s: Invalid parameter type for "
            "'rng', expected: rng-backend") in r.stderr


@pytest.mark.parametrize('obj', [
    'rng-random,id=r0,filename=/nonexistent',
    # libvirt's form
    '{"qom-type":"rng-random","id":"r0","filename":"/nonexistent"}',
])
def test_missing_entropy_file(vireo, obj):
    r = run([vireo, '-M', 'microvm', '-object', obj,
             '-device', 'virtio-rng-device,rng=r0'])
    assert r.returncode == 1
    assert ("Could not open '/nonexistent': No such file or directory"
            in r.stderr)
    assert '/dev/kvm' not in r.stderr


def test_bad_object_property(vireo):
    r = run([vireo, '-M', 'microvm', '-object',
             'rng-builtin,id=b,filename=/dev/urandom'])
    assert r.returncode == 1
    assert 'filename' in r.stderr


def test_device_help(vireo):
    r = run([vireo, '-device', 'virtio-rng-device,help'])
    assert r.returncode == 0
    assert r.stdout.startswith('virtio-rng-device options:')
    assert 'rng=<' in r.stdout
    assert 'max-bytes=<uint64>' in r.stdout
    assert '(default: 9223372036854775807)' in r.stdout
    assert 'period=<uint32>' in r.stdout
    assert '(default: 65536)' in r.stdout
    r = run([vireo, '-device', 'help'])
    assert '"virtio-rng-device"' in r.stdout


def test_object_help(vireo):
    r = run([vireo, '-object', 'help'])
    assert r.returncode == 0
    assert 'rng-random' in r.stdout and 'rng-builtin' in r.stdout
    r = run([vireo, '-object', 'rng-random,help'])
    assert 'filename=<string>' in r.stdout
    r = run([vireo, '-object', 'rng-builtin,help'])
    assert r.stdout == 'There are no options for rng-builtin.\n'


def test_qom_view(none_vm):
    vm = none_vm(extra=['-object', '{"qom-type":"rng-random","id":"objrng0",'
                        '"filename":"/dev/urandom"}',
                        '-object', 'rng-builtin,id=b0'])
    q = vm.qmp()
    rng = q.ok('qom-list-types', {'implements': 'rng-backend'})
    assert sorted(t['name'] for t in rng) == ['rng-builtin', 'rng-random']
    assert all(t['parent'] == 'rng-backend' for t in rng)
    abstract = q.ok('qom-list-types', {'abstract': True})
    assert {'name': 'rng-backend', 'abstract': True,
            'parent': 'object'} in abstract
    props = {p['name']: p['type'] for p in
             q.ok('qom-list-properties', {'typename': 'rng-random'})}
    assert props['filename'] == 'string'
    props = {p['name']: p for p in
             q.ok('device-list-properties',
                  {'typename': 'virtio-rng-device'})}
    assert props['max-bytes']['default-value'] == 9223372036854775807
    assert props['max-bytes']['type'] == 'uint64'
    assert props['period']['default-value'] == 65536
    assert 'rng' in props
    objs = {o['name'] for o in q.ok('qom-list', {'path': '/objects'})}
    assert {'objrng0', 'b0'} <= objs
