# SPDX-License-Identifier: MIT
"""test_libvirt_virsh.py: Debian's libvirt 9.0 (scripts/install-deps)
probing vireo for real: `virsh domcapabilities --emulatorbin vireo`.

libvirt runs in its embedded QEMU driver (qemu:///embed?root=DIR): every
config, state, run and cache directory lives under DIR, no daemon is left
behind and nothing system-wide changes.  It runs as 'nobody': as root the
driver insists on Debian's 'libvirt-qemu' user, which only
libvirt-daemon-system creates (a system change this test must not make).
Without /dev/kvm vireo's probe machine reports KVM absent, so libvirt
finishes the probe and then refuses virt type kvm: the test checks the
probe result libvirt cached instead.
"""
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

QEMU_DRIVER = Path('/usr/lib/x86_64-linux-gnu/libvirt/connection-driver/'
                   'libvirt_driver_qemu.so')


@pytest.fixture
def embed_root():
    if not shutil.which('virsh') or not QEMU_DRIVER.exists():
        pytest.skip('libvirt not installed (scripts/install-deps)')
    if os.geteuid() != 0:
        pytest.skip('needs root to run libvirt as nobody')
    d = tempfile.mkdtemp(prefix='vireo-libvirt-')
    shutil.chown(d, 'nobody', 'nogroup')
    yield Path(d)
    shutil.rmtree(d, ignore_errors=True)


def virsh(root, *args, timeout=120):
    argv = ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups',
            'env', 'HOME=%s' % root, 'LC_ALL=C', 'virsh', '-c',
            'qemu:///embed?root=%s' % root] + list(args)
    return subprocess.run(argv, capture_output=True, text=True,
                          timeout=timeout, cwd='/')


def test_domcapabilities_probe(vireo, embed_root):
    # vireo must be reachable by 'nobody' (it is started by libvirt)
    r = virsh(embed_root, 'domcapabilities', '--emulatorbin', str(vireo),
              '--arch', 'x86_64', '--virttype', 'kvm')
    out = r.stdout + r.stderr
    kvm = os.access('/dev/kvm', os.R_OK | os.W_OK)
    if kvm:
        assert r.returncode == 0, out
        assert '<domain>kvm</domain>' in r.stdout
        assert "<machine>microvm</machine>" in r.stdout
        return
    # no KVM here: the probe succeeded, then kvm was (rightly) refused
    assert "does not support virt type 'kvm'" in out, out
    caches = list((embed_root / 'cache' / 'qemu' / 'capabilities')
                  .glob('*.xml'))
    assert len(caches) == 1, out
    caps = caches[0].read_text()
    assert '<package>vireo-' in caps
    assert "<flag name='isa-serial'/>" in caps
    assert "name='microvm'" in caps and "defaultRAMid='microvm.ram'" in caps
    assert '<kvmVersion>0</kvmVersion>' in caps
