# SPDX-License-Identifier: MIT
"""test_cli.py: command-line handling.  Bad options fail before anything
runs: a clear message on stderr naming the culprit, exit status 1, and
the guest (hello.bin, which would print its banner) never starts.
Informational options (-version, -h, -machine help, -cpu help) print and
exit 0 without needing /dev/kvm."""
import os

import pytest

from conftest import BANNER_TEXT, run


def _bad(vireo, guest, extra, expect_in_msg, tmp_path=None, bios=None):
    argv = [vireo, '-nodefaults', '-nographic', '-serial', 'stdio', '-m', '16M']
    argv += ['-bios', bios if bios is not None else guest('hello')]
    argv += extra
    r = run(argv, timeout=10)
    assert r.returncode == 1, r
    assert BANNER_TEXT not in r.stdout, r
    msg = r.stderr.strip()
    assert msg, 'no error message: %r' % r
    for word in expect_in_msg:
        assert word.lower() in msg.lower(), r
    # one clear message, not a dump
    assert len(msg.splitlines()) <= 4, r
    return r


def test_unknown_option(vireo, guest):
    _bad(vireo, guest, ['-frobnicate'], ['-frobnicate'])


@pytest.mark.parametrize('value', ['foo', '-5', '12Q'])
def test_bad_memory_size(vireo, guest, value):
    _bad(vireo, guest, ['-m', value], [value])


@pytest.mark.parametrize('value', ['foo', '9999', 'cpus=2,sockets=0x'])
def test_bad_smp(vireo, guest, value):
    _bad(vireo, guest, ['-smp', value], ['smp'])


@pytest.mark.parametrize('text,why', [
    ('nosuch', "'nosuch' is not a valid device model name"),
    ('isa-debug-exit,bogus=1', "invalid parameter 'bogus'"),
    ('isa-debug-exit,iobase=zz', "property 'iobase' does not accept 'zz'"),
    ('isa-debug-exit,iobase=0x1ffff', 'outside the 64 KiB I/O space'),
    ('isa-debug-exit,iosize=0x100000000', 'out of range'),
    ('port80', 'cannot be created with -device'),
    ('isa-serial,chardev=nope', 'nope'),
])
def test_bad_device(vireo, guest, kvm, text, why):
    """QEMU's form: '-device TEXT: reason', before the guest runs.  Devices
    are created after the accelerator (as in QEMU), so these need /dev/kvm."""
    r = _bad(vireo, guest, ['-device', text], [why])
    assert ('-device %s: ' % text) in r.stderr, r


@pytest.mark.parametrize('text,why', [
    ('nosuch', "'nosuch' is not a valid device model name"),
    ('isa-debug-exit,bogus=1', "invalid parameter 'bogus'"),
    ('isa-debug-exit,iobase=zz', "property 'iobase' does not accept 'zz'"),
    ('port80', 'cannot be created with -device'),
    ('{"driver": "nosuch"}', "'nosuch' is not a valid device model name"),
    ('{"driver": "isa-debug-exit", "iobase": "0xf4"}',
     "Invalid parameter type for 'iobase', expected: integer"),
    ('{"driver": "isa-debug-exit", "bogus": 1}',
     "Property 'isa-debug-exit.bogus' not found"),
    ('{"driver": "isa-debug-exit"', '-device {"driver"'),
    ('isa-serial,chardev=nope',
     "Property 'isa-serial.chardev' can't find value 'nope'"),
])
def test_bad_device_options(vireo, guest, text, why):
    """Options are parsed once, on the command line, for -device text and
    libvirt's JSON form alike: these fail before the accelerator is opened,
    so they need no /dev/kvm (an unknown chardev too: every -device's
    chardev property is checked against the -chardev list first)."""
    r = _bad(vireo, guest, ['-device', text], [why])
    assert ('-device %s: ' % text) in r.stderr, r


def test_missing_option_argument(vireo, guest):
    r = run([vireo, '-nodefaults', '-nographic', '-bios', guest('hello'), '-m'],
            timeout=10)
    assert r.returncode == 1, r
    assert '-m' in r.stderr, r
    assert BANNER_TEXT not in r.stdout, r


def test_missing_bios_file(vireo, guest, tmp_path):
    missing = tmp_path / 'no-such-bios.bin'
    _bad(vireo, guest, [], [str(missing)], bios=missing)


@pytest.mark.parametrize('size', [0, 1000, 4096, 64 * 1024 + 4096,
                                  16 * 1024 * 1024 + 64 * 1024])
def test_bad_bios_size(vireo, guest, tmp_path, size):
    """QEMU's rule: the -bios image size must be a non-zero multiple of
    64 KiB; vireo also caps it at 16 MiB (the flash window below 4 GiB)."""
    bios = tmp_path / ('bios-%d.bin' % size)
    with open(bios, 'wb') as f:
        f.truncate(size)
    _bad(vireo, guest, [], [bios.name], bios=bios)


def _boot_file_error(vireo, args, *needles):
    """Boot files are checked before /dev/kvm is opened: these errors are
    the same on a host without KVM."""
    r = run([vireo, '-nodefaults', '-nographic', '-m', '16M'] + args,
            timeout=10)
    assert r.returncode == 1, r
    for n in needles:
        assert n in r.stderr, r
    assert '/dev/kvm' not in r.stderr, r
    return r


def test_boot_file_not_regular(vireo, tmp_path):
    """Issue 13: -kernel /dev/zero was read until memory ran out, and a FIFO
    blocked start-up; both are refused before a byte is read."""
    fifo = tmp_path / 'fifo'
    os.mkfifo(fifo)
    _boot_file_error(vireo, ['-kernel', '/dev/zero'],
                     "-kernel: '/dev/zero' is not a regular file")
    _boot_file_error(vireo, ['-kernel', str(fifo)],
                     "-kernel: '%s' is not a regular file" % fifo)
    _boot_file_error(vireo, ['-bios', str(fifo)],
                     "-bios: '%s' is not a regular file" % fifo)


def test_boot_file_sizes(vireo, guest, tmp_path):
    """A 2 GiB sparse -initrd is refused from its size (it was read whole
    first); -initrd and -dtb errors name their option, not -kernel."""
    k = tmp_path / 'k'
    k.write_bytes(b'not a kernel')
    sparse = tmp_path / 'sparse'
    with open(sparse, 'wb') as f:
        f.truncate(2 << 30)
    _boot_file_error(vireo, ['-kernel', str(k), '-initrd', str(sparse)],
                     "-initrd: '%s' is too large: 2147483648 bytes, more than "
                     "the guest RAM" % sparse)
    _boot_file_error(vireo, ['-kernel', str(k), '-initrd', str(k) + '.no'],
                     "-initrd: cannot read '%s.no'" % k)
    _boot_file_error(vireo, ['-kernel', str(k), '-dtb', str(sparse)],
                     "-dtb: '%s' is too large: 2147483648 bytes" % sparse)
    _boot_file_error(vireo, ['-kernel', str(k) + '.no'],
                     "-kernel: cannot read '%s.no'" % k)


def test_memory_host_cannot_back(vireo, guest):
    """-m 4096G was accepted and took 10-20 s and 10 GB of kernel memory;
    QEMU fails with ENOMEM.  Refused before /dev/kvm is opened."""
    r = _bad(vireo, guest, ['-m', '4096G'], ['-m: cannot back 4096.0 GiB'])
    assert '/dev/kvm' not in r.stderr, r


def test_bios_with_kernel(vireo, guest, tmp_path):
    """QEMU hands -kernel to the firmware through fw_cfg; vireo says it does
    not (it failed with an ACPI message)."""
    k = tmp_path / 'k'
    k.write_bytes(b'not a kernel')
    r = _boot_file_error(vireo, ['-bios', str(guest('hello')), '-kernel',
                                 str(k)], '-kernel with -bios is not supported')
    assert 'ACPI' not in r.stderr, r


def test_version(vireo):
    r = run([vireo, '-version'], timeout=10)
    assert r.returncode == 0, r
    assert 'version' in r.stdout.lower(), r
    assert 'vireo' in r.stdout.lower(), r


def test_help(vireo):
    r = run([vireo, '-h'], timeout=10)
    assert r.returncode == 0, r
    out = r.stdout
    assert 'usage' in out.lower(), r
    for opt in ('-bios', '-m ', '-smp', '-serial', '-nographic', '-S',
                '-no-reboot', '-daemonize', '-pidfile', '-chardev', '-device'):
        assert opt in out, 'option %s missing from -h' % opt


def test_machine_help(vireo):
    r = run([vireo, '-machine', 'help'], timeout=10)
    assert r.returncode == 0, r
    assert 'microvm' in r.stdout, r


def test_machine_help_q35(vireo):
    """q35 is listed with QEMU's versioned name and its alias."""
    r = run([vireo, '-machine', 'help'], timeout=10)
    assert r.returncode == 0, r
    assert 'pc-q35-7.2' in r.stdout, r
    assert 'q35 ' in r.stdout and 'alias of pc-q35-7.2' in r.stdout, r


def test_device_help_pci(vireo):
    r = run([vireo, '-device', 'help'], timeout=10)
    assert r.returncode == 0, r
    assert 'name "pcie-root-port"' in r.stdout, r
    # the board's own functions are not user-creatable
    assert 'ICH9-LPC' not in r.stdout and '"mch"' not in r.stdout, r
    r = run([vireo, '-device', 'pcie-root-port,help'], timeout=10)
    assert r.returncode == 0, r
    for prop in ('bus=', 'addr=', 'multifunction=', 'chassis=', 'slot=',
                 'port='):
        assert prop in r.stdout, r


@pytest.mark.parametrize('text,why', [
    ('pcie-root-port,id=rp,addr=0', 'in use by mch'),
    ('pcie-root-port,id=rp,addr=0x20', 'slot must be'),
    ('pcie-root-port,id=rp,addr=zz', 'is not SLOT[.FN]'),
    ('pcie-root-port,id=rp,bus=nope', "Bus 'nope' not found"),
    ('pcie-root-port,addr=2', 'id='),
])
def test_bad_pci_device(vireo, guest, kvm, text, why):
    r = _bad(vireo, guest, ['-M', 'q35', '-device', text], [why])
    assert ('-device %s: ' % text) in r.stderr, r


def test_pci_device_on_microvm(vireo, guest, kvm):
    _bad(vireo, guest, ['-device', 'pcie-root-port,id=rp'],
         ['no PCI bus', '-M q35'])


def test_cpu_help(vireo):
    r = run([vireo, '-cpu', 'help'], timeout=10)
    assert r.returncode == 0, r
    assert 'host' in r.stdout or 'max' in r.stdout, r
