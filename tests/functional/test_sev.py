# SPDX-License-Identifier: MIT
"""test_sev.py: confidential guests through the real binary, without KVM.
`vireo -measure-launch` must print the launch digests the community
sev-snp-measure tool computes for Debian 12's OVMF (issue 12's known
answers); bad -object sev-guest/sev-snp-guest values are refused with a
message naming the property; on a host without SEV, a guest that asks for
it is refused naming what is missing."""
import hashlib
import os

import pytest

from conftest import run

OVMF = '/usr/share/OVMF/OVMF_CODE.fd'
OVMF_SHA256 = 'd9b568def24088c92f34b5479e0ed7e44d0a4d4cea8a0f5716719180bba48106'

KNOWN = [
    ('sev', 'sev-guest,id=sev0,policy=0x1', 1,
     'd9b568def24088c92f34b5479e0ed7e44d0a4d4cea8a0f5716719180bba48106'),
    ('sev-es-1', 'sev-guest,id=sev0,policy=0x5', 1,
     '4c55bc8b9c7804ec80940258127e2aae37f818436a54c55cebe89542bd6dc63f'),
    ('sev-es-2', 'sev-guest,id=sev0,policy=0x5', 2,
     '02a0c4a5a76ee32cd799d5a26ffb2f2aff33fb3cc5d494e59b96b7e182add13f'),
    ('snp-1', 'sev-snp-guest,id=sev0,policy=0x30000', 1,
     'a479327cbb0b50e876024c2dac7412d4e5e95c7315c1f8b0446f6d3be69fefba'
     '50766285475926737e4a70b155252f88'),
    ('snp-2', 'sev-snp-guest,id=sev0,policy=0x30000', 2,
     '0d3d4c4fbdd21581bb6f16903c06d29c40d021902ffffab0d6d6b71f76229401'
     'f432b6d29e9de6d982851c6f9ebe1cbf'),
]


@pytest.fixture(scope='module')
def ovmf():
    try:
        with open(OVMF, 'rb') as f:
            data = f.read()
    except OSError:
        pytest.skip(OVMF + ' not installed (apt-get install ovmf)')
    if hashlib.sha256(data).hexdigest() != OVMF_SHA256:
        pytest.skip(OVMF + ' is not the Debian 12 build of the known answers')
    return OVMF


@pytest.mark.parametrize('name,obj,cpus,digest', KNOWN,
                         ids=[k[0] for k in KNOWN])
def test_measure_launch_known(vireo, ovmf, name, obj, cpus, digest):
    r = run([vireo, '-measure-launch', '-bios', ovmf, '-object', obj,
             '-machine', 'confidential-guest-support=sev0',
             '-cpu', 'EPYC-v4', '-smp', str(cpus)], timeout=30)
    assert r.returncode == 0, r
    assert r.stdout.strip() == digest, r


def test_measure_launch_needs_object(vireo, ovmf):
    r = run([vireo, '-measure-launch', '-bios', ovmf], timeout=10)
    assert r.returncode == 1, r
    assert 'needs -object sev-guest' in r.stderr, r


def test_measure_launch_cpu_host(vireo, ovmf):
    r = run([vireo, '-measure-launch', '-bios', ovmf, '-object',
             'sev-guest,id=s,policy=0x5', '-cpu', 'host'], timeout=10)
    assert r.returncode == 1, r
    assert '-cpu host' in r.stderr, r


def test_measure_launch_firmware_without_reset_block(vireo, tmp_path):
    fw = tmp_path / 'plain.fd'
    fw.write_bytes(bytes(64 * 1024))
    base = [vireo, '-measure-launch', '-bios', str(fw), '-cpu', 'EPYC']
    r = run(base + ['-object', 'sev-guest,id=s,policy=0x1'], timeout=10)
    assert r.returncode == 0, r
    assert r.stdout.strip() == hashlib.sha256(bytes(64 * 1024)).hexdigest()
    r = run(base + ['-object', 'sev-guest,id=s,policy=0x5'], timeout=10)
    assert r.returncode == 1, r
    assert 'no SEV-ES reset block' in r.stderr, r
    r = run(base + ['-object', 'sev-snp-guest,id=s'], timeout=10)
    assert r.returncode == 1, r
    assert 'no SEV-ES reset block' in r.stderr, r


@pytest.mark.parametrize('obj,msg', [
    ('sev-guest,policy=1', "'id' is missing"),
    ('sev-guest,id=s,policy=x', "'policy' expects uint32_t"),
    ('sev-guest,id=s,policy=0x100000000', "'policy' expects uint32_t"),
    ('sev-guest,id=s,cbitpos=5', 'cbitpos 5'),
    ('sev-guest,id=s,reduced-phys-bits=0', 'reduced-phys-bits 0'),
    ('sev-guest,id=s,kernel-hashes=maybe', "'kernel-hashes' expects"),
    ('sev-guest,id=s,handle=-1', "'handle' expects uint32_t"),
    ('sev-guest,id=s,frob=1', "invalid parameter 'frob'"),
    ('sev-snp-guest,id=s,policy=0x1', 'bit 17'),
    ('sev-snp-guest,id=s,policy=0x2030000', 'reserved bits'),
    ('sev-snp-guest,id=s,host-data=AAAA', 'decodes to 3 bytes, must be 32'),
    ('sev-snp-guest,id=s,id-block=!!!!', 'not valid base64'),
    ('sev-snp-guest,id=s,author-key-enabled=on', 'needs id-auth'),
    ('sev-snp-guest,id=s,handle=1', "invalid parameter 'handle'"),
    # the generic -object table (system/object.c) refuses other types
    ('iothread,id=io', 'invalid object type: iothread'),
    ('{"qom-type":"sev-guest","id":"s","frob":1}',
     "Parameter 'frob' is unexpected for sev-guest"),
    ('{"qom-type":"sev-guest","id":"s","policy":-1}',
     "'policy' expects uint32_t"),
])
def test_bad_object(vireo, obj, msg):
    r = run([vireo, '-object', obj], timeout=10)
    assert r.returncode == 1, r
    assert msg in r.stderr, r
    assert len(r.stderr.strip().splitlines()) == 1, r


def test_bad_cgs_reference(vireo):
    r = run([vireo, '-object', 'sev-guest,id=sev0', '-machine',
             'confidential-guest-support=other'], timeout=10)
    assert r.returncode == 1, r
    assert 'confidential-guest-support=other' in r.stderr, r


def test_sev_refused_on_this_host(vireo, guest):
    """The check runs before /dev/kvm is opened, so it needs no KVM."""
    if os.path.exists('/dev/sev'):
        pytest.skip('this host has /dev/sev')
    r = run([vireo, '-nodefaults', '-nographic', '-bios', guest('hello'),
             '-object', 'sev-guest,id=sev0,cbitpos=47,reduced-phys-bits=1',
             '-machine', 'memory-encryption=sev0'], timeout=10)
    assert r.returncode == 1, r
    assert '/dev/sev does not exist' in r.stderr, r


def test_measure_launch_kernel_hashes_need_table(vireo, ovmf, tmp_path):
    """Debian's OVMF_CODE.fd has no kernel-hashes area: refused by name."""
    kernel = tmp_path / 'kernel'
    kernel.write_bytes(b'not really a kernel')
    r = run([vireo, '-measure-launch', '-bios', ovmf, '-cpu', 'EPYC-v4',
             '-object', 'sev-guest,id=s,policy=0x5,kernel-hashes=on',
             '-kernel', str(kernel)], timeout=10)
    assert r.returncode == 1, r
    assert 'no room for the kernel hashes table' in r.stderr, r
    # without kernel-hashes=on the kernel is not measured (as QEMU)
    r = run([vireo, '-measure-launch', '-bios', ovmf, '-cpu', 'EPYC-v4',
             '-object', 'sev-guest,id=s,policy=0x5', '-kernel', str(kernel)],
            timeout=10)
    assert r.returncode == 0, r
    assert r.stdout.strip() == KNOWN[1][3], r
