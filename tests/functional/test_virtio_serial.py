# SPDX-License-Identifier: MIT
"""test_virtio_serial.py: -device virtio-serial-device with virtconsole and
virtserialport on the real binary.  The options libvirt writes (text and
JSON forms) and their mistakes (a port without a virtio-serial device, an
unknown bus or chardev, port numbers taken or out of range) are refused
before the accelerator opens, so none of these needs /dev/kvm; the data
paths are covered by tests/unit/test-virtio-serial*.c."""
import json
import os

import pytest

from conftest import BANNER_TEXT, run


def _bad(vireo, guest, extra):
    argv = [vireo, '-nodefaults', '-nographic', '-M', 'microvm', '-m', '16M',
            '-bios', guest('hello')] + extra
    r = run(argv, timeout=10)
    assert r.returncode == 1, r
    assert BANNER_TEXT not in r.stdout, r
    return r.stderr.strip()


def test_help(vireo):
    r = run([vireo, '-device', 'help'], timeout=10)
    assert r.returncode == 0, r
    for name in ('virtio-serial-device', 'virtconsole', 'virtserialport'):
        assert 'name "%s"' % name in r.stdout, r
    for dev in ('virtconsole', 'virtserialport'):
        r = run([vireo, '-device', dev + ',help'], timeout=10)
        assert r.returncode == 0, r
        assert r.stdout.startswith('%s options:' % dev), r
        for prop in ('chardev=', 'nr=', 'name=', 'bus='):
            assert prop in r.stdout, r
    r = run([vireo, '-device', 'virtio-serial-device,help'], timeout=10)
    assert r.returncode == 0, r
    assert 'max_ports=<uint32>' in r.stdout and '(default: 31)' in r.stdout, r


@pytest.mark.parametrize('devices,msg', [
    (['virtconsole,chardev=c0'],
     "-device virtconsole,chardev=c0: No 'virtio-serial-bus' bus found for "
     "device 'virtconsole'"),
    (['virtio-serial-device', 'virtconsole,chardev=nope'],
     "-device virtconsole,chardev=nope: Property 'virtconsole.chardev' "
     "can't find value 'nope'"),
    (['virtio-serial-device,max_ports=2', 'virtserialport,chardev=c0,nr=2'],
     '-device virtserialport,chardev=c0,nr=2: virtio-serial-bus: '
     'Out-of-range port id specified, max. allowed: 1'),
    (['virtio-serial-device', 'virtserialport,nr=3', 'virtserialport,nr=3'],
     '-device virtserialport,nr=3: virtio-serial-bus: A port already exists '
     'at id 3'),
    (['virtio-serial-device', 'virtserialport,nr=0,chardev=c0'],
     '-device virtserialport,nr=0,chardev=c0: Port number 0 on '
     'virtio-serial devices reserved for virtconsole devices'),
    (['virtio-serial-device,id=virtio-serial0',
      'virtserialport,bus=virtio-serial1.0'],
     "-device virtserialport,bus=virtio-serial1.0: Bus 'virtio-serial1.0' "
     'not found'),
    (['virtio-serial-device', 'virtserialport,nr=x'],
     "property 'nr' does not accept 'x'"),
])
def test_option_errors(vireo, guest, devices, msg):
    extra = ['-chardev', 'null,id=c0']
    for d in devices:
        extra += ['-device', d]
    err = _bad(vireo, guest, extra)
    assert msg in err, err
    assert len(err.splitlines()) <= 2, err


def test_libvirt_json_forms(vireo, guest):
    """libvirt's channel for the guest agent, in its JSON -device form: a
    bus that is not there is named as QEMU names it."""
    port = {'driver': 'virtserialport', 'bus': 'virtio-serial0.0', 'nr': 1,
            'chardev': 'charchannel0', 'id': 'channel0',
            'name': 'org.qemu.guest_agent.0'}
    err = _bad(vireo, guest, [
        '-chardev', 'null,id=charchannel0',
        '-device', json.dumps(port)])
    assert "Bus 'virtio-serial0.0' not found" in err, err
    # a JSON string where nr is an integer
    port['nr'] = '1'
    err = _bad(vireo, guest, [
        '-chardev', 'null,id=charchannel0',
        '-device', '{"driver":"virtio-serial-device","id":"virtio-serial0"}',
        '-device', json.dumps(port)])
    assert "Invalid parameter type for 'nr', expected: integer" in err, err


def test_good_ports_pass_the_check(vireo, guest):
    """A correct set passes the command-line check: whatever stops the run
    on this host (no /dev/kvm) is not about the devices."""
    if os.access('/dev/kvm', os.R_OK | os.W_OK):
        pytest.skip('with /dev/kvm the guest would run: this checks the '
                    'refusal path of a host without it')
    r = run([vireo, '-nodefaults', '-nographic', '-M', 'microvm', '-m', '16M',
             '-bios', guest('hello'),
             '-chardev', 'null,id=charconsole0',
             '-chardev', 'null,id=charchannel0',
             '-device', 'virtio-serial-device,id=virtio-serial0',
             '-device', 'virtconsole,chardev=charconsole0,id=console0',
             '-device', 'virtserialport,bus=virtio-serial0.0,nr=1,'
             'chardev=charchannel0,id=channel0,'
             'name=org.qemu.guest_agent.0',
             '-device', 'virtserialport,bus=virtio-serial0.0'],
            timeout=10)
    assert '-device' not in r.stderr, r
    assert 'virtio-serial' not in r.stderr, r
