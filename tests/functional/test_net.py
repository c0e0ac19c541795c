# SPDX-License-Identifier: MIT
"""test_net.py: -netdev / -nic on the real binary.  The errors a user sees
before the guest starts (a tap that cannot be opened, unknown or busy
netdev ids, scripts, vhost) need no KVM; netdev_add / netdev_del refusals
run on the none machine.  A tap that fails to open is made with a user
namespace without privileges (unshare -U), where TUNSETIFF gets EPERM."""
import shutil
import subprocess

import pytest

from conftest import run


def test_unknown_netdev(vireo):
    r = run([vireo, '-M', 'microvm', '-device',
             'virtio-net-device,netdev=x'])
    assert r.returncode == 1
    assert ("-device virtio-net-device,netdev=x: Property "
            "'virtio-net-device.netdev' can't find value 'x'") in r.stderr


def test_netdev_used_twice(vireo):
    # fd 0 stands in for a tap (any packet fd is taken); the check comes
    # after the backends are open
    r = run([vireo, '-M', 'microvm', '-netdev', 'tap,id=n0,fd=0',
             '-device', 'virtio-net-device,netdev=n0',
             '-device', 'virtio-net-device,netdev=n0'])
    assert r.returncode == 1
    assert "'virtio-net-device.netdev' can't take value 'n0', it's in use" \
        in r.stderr


@pytest.mark.parametrize('opt,msg', [
    ('tap,id=n0,script=/etc/qemu-ifup', 'vireo runs no network scripts'),
    ('tap,id=n0,downscript=/etc/qemu-ifdown', 'vireo runs no network scripts'),
    ('tap,id=n0,vhost=on', 'vhost=on is not supported'),
    ('tap,ifname=t0', "Parameter 'id' is missing"),
    ('socket,id=s0,listen=:1234', "netdev type 'socket' is not supported"),
    ('{"type":"tap","id":"n0","fd":"notanfd"}', 'No file descriptor named'),
    ('tap,id=n0,fd=987', "Can't use file descriptor 987"),
])
def test_netdev_option_errors(vireo, opt, msg):
    r = run([vireo, '-M', 'microvm', '-netdev', opt])
    assert r.returncode == 1
    assert msg in r.stderr, r.stderr


def test_tap_not_permitted(vireo):
    if not shutil.which('unshare') or subprocess.run(
            ['unshare', '-U', 'true']).returncode != 0:
        pytest.skip('no unprivileged user namespaces')
    r = run(['unshare', '-U', vireo, '-M', 'microvm', '-netdev',
             'tap,id=n0,ifname=vireotap0,script=no,downscript=no'])
    assert r.returncode == 1
    # QEMU's words
    assert ('-netdev tap,id=n0,ifname=vireotap0,script=no,downscript=no: '
            'could not configure /dev/net/tun (vireotap0): Operation not '
            'permitted') in r.stderr


def test_nic_errors(vireo):
    r = run([vireo, '-M', 'microvm', '-nic', 'tap,id=x'])
    assert r.returncode == 1
    assert "Invalid parameter 'id'" in r.stderr
    r = run([vireo, '-M', 'microvm', '-nic', 'tap,fd=0,model=e1000'])
    assert r.returncode != 0


def test_netdev_add_refused(none_vm):
    vm = none_vm()
    q = vm.qmp()
    r = q.cmd('netdev_add', {'type': 'tap', 'id': 'n1', 'ifname': 't1'})
    assert 'no network hot-plug' in r['error']['desc']
    r = q.cmd('netdev_add', {'type': 'tap', 'id': 'n1', 'vhost': True})
    assert 'vhost=on is not supported' in r['error']['desc']
    r = q.cmd('netdev_del', {'id': 'nope'})
    assert r['error']['desc'] == "Device 'nope' not found"


def test_user_hostfwd_port_taken(vireo):
    import socket
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    s.listen(1)
    port = s.getsockname()[1]
    try:
        r = run([vireo, '-M', 'microvm', '-netdev',
                 'user,id=u0,hostfwd=tcp:127.0.0.1:%d-:22' % port])
    finally:
        s.close()
    assert r.returncode == 1
    if 'built without libslirp' in r.stderr:
        pytest.skip('built without libslirp')
    assert ("could not set up host forwarding rule 'tcp:127.0.0.1:%d-:22'"
            % port) in r.stderr
