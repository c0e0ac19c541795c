# SPDX-License-Identifier: MIT
"""test_boot.py: direct kernel boot (-kernel/-initrd/-append), issue 3.

The fake kernels of tests/guest/kernels (a bzImage, a PVH ELF and a
multiboot ELF) check what their loader handed them -- e820 RAM against
expect_mem, the command line, the initrd bytes, the ACPI tables and the CPU
count in the MADT -- and print one PASS/FAIL line per check on COM1, then
exit through isa-debug-exit (status 33 when all passed, 35 otherwise).

Each is run under vireo and, where installed, under qemu-system-x86_64
(microvm) with the same arguments: every check must pass under both.  vireo
enters the bzImage's 64-bit entry with the zero page filled; QEMU runs its
real-mode setup code under qboot (INT 15h/E820 for the memory map), which
then enters the 32-bit entry: both paths are checked.

Also: every loader error exits 1 with a precise message, and the guest's
ACPI poweroff ends vireo with status 0.
"""
import re
import struct
from pathlib import Path

import pytest

from conftest import DEBUG_EXIT, run

PASS_RC = (0x10 << 1) | 1
FAIL_RC = (0x11 << 1) | 1

KERNELS = {
    'bzimage': 'fake-bzimage',
    'pvh': 'fake-pvh.elf',
    'multiboot': 'fake-multiboot.elf',
}
# Every check the fake kernels make (cmdline, e820, initrd, ACPI, CPUs).
CHECKS = {'cmdline', 'e820-sane', 'e820-ram', 'kernel-in-ram', 'initrd',
          'rsdp', 'fadt', 'dsdt', 'madt', 'cpus'}


@pytest.fixture(scope='session')
def kernel(guest_dir):
    def get(fmt):
        p = guest_dir / 'kernels' / KERNELS[fmt]
        if not p.exists():
            pytest.fail('fake kernel %s not built' % p)
        return p
    return get


def checksum(data):
    s = 0
    for b in data:
        s = (s * 31 + b) & 0xffffffff
    return s


@pytest.fixture
def initrd(tmp_path):
    # Not a multiple of the page size, not all zeros: catches truncation
    # and misplacement.
    data = bytes((i * 7 + (i >> 8)) & 0xff for i in range(100 * 1024 + 123))
    p = tmp_path / 'initrd.img'
    p.write_bytes(data)
    return p, len(data), checksum(data)


def boot_args(k, initrd, mem, cpus, extra='', machine='microvm'):
    path, size, csum = initrd
    append = ('magic=vireo-boot-ok expect_mem=%d expect_cpus=%d '
              'expect_initrd=%d,%x%s' % (mem, cpus, size, csum, extra))
    return ['-M', machine, '-m', '%dM' % mem, '-smp', str(cpus),
            '-nodefaults', '-nographic', '-serial', 'stdio'] + DEBUG_EXIT + \
        ['-kernel', k, '-initrd', path, '-append', append]


def results(serial):
    passed = set(re.findall(r'^PASS (\S+)', serial, re.M))
    failed = set(re.findall(r'^FAIL (\S+)', serial, re.M))
    return passed, failed


def assert_all_pass(r, what):
    passed, failed = results(r.serial)
    assert not failed, '%s: checks failed: %s\n%r' % (what, failed, r)
    # xsdt or rsdt: the root table the RSDP points to
    assert CHECKS <= passed, '%s: checks missing: %s\n%r' % (
        what, CHECKS - passed, r)
    assert passed & {'xsdt', 'rsdt'}, r
    assert 'DONE pass=' in r.serial and ' fail=0' in r.serial, r
    assert r.returncode == PASS_RC, r
    return passed


CONFIGS = [(128, 2), (48, 1), (3300, 4)]  # the last one splits RAM at 3 GiB


@pytest.mark.parametrize('fmt', sorted(KERNELS))
@pytest.mark.parametrize('mem,cpus', CONFIGS)
def test_boot_vireo(vireo, kvm, kernel, initrd, fmt, mem, cpus):
    r = run([vireo] + boot_args(kernel(fmt), initrd, mem, cpus))
    passed = assert_all_pass(r, 'vireo %s' % fmt)
    # vireo hands the RSDP over where the protocol can (zero page 2.14+,
    # PVH start_info); multiboot kernels find it by scanning.
    assert passed >= {'xsdt'}
    if fmt == 'bzimage':
        assert '64-bit entry' in r.serial, r


@pytest.mark.parametrize('fmt', sorted(KERNELS))
def test_boot_qemu_reference(qemu, kvm, kernel, initrd, fmt):
    argv = [qemu, '-accel', 'kvm'] + boot_args(kernel(fmt), initrd, 128, 2)
    r = run(argv)
    assert_all_pass(r, 'qemu %s' % fmt)
    if fmt == 'bzimage':
        # the fake's real-mode setup ran (firmware e820) and handed over
        # to the 32-bit entry
        assert '32-bit entry' in r.serial, r


@pytest.mark.parametrize('fmt', sorted(KERNELS))
def test_checker_can_fail(vireo, kvm, kernel, initrd, fmt):
    """Wrong expectations must produce FAIL lines and the failure status."""
    argv = [vireo] + boot_args(kernel(fmt), initrd, 128, 2)
    i = argv.index('-append') + 1
    argv[i] = argv[i].replace('expect_cpus=2', 'expect_cpus=3') \
                     .replace('expect_mem=128', 'expect_mem=256') \
                     .replace('magic=vireo-boot-ok', 'magic=wrong')
    r = run(argv)
    passed, failed = results(r.serial)
    assert {'cpus', 'e820-ram', 'cmdline'} <= failed, r
    assert r.returncode == FAIL_RC, r


@pytest.mark.parametrize('fmt', sorted(KERNELS))
def test_acpi_poweroff(vireo, kvm, kernel, initrd, fmt):
    """The guest powers off through \\_S5 and the FADT sleep control
    register: vireo exits 0."""
    r = run([vireo] + boot_args(kernel(fmt), initrd, 64, 1, ' poweroff=1'))
    assert 'poweroff: S5 SLP_TYP=5' in r.serial, r
    assert 'still running' not in r.serial, r
    assert r.returncode == 0, r


@pytest.mark.parametrize('fmt', sorted(KERNELS))
def test_boot_q35(vireo, kvm, kernel, initrd, fmt):
    """The same loaders on q35: e820 around the PCI hole, the full FADT, a
    root port on the command line; poweroff through PM1a_CNT (\\_S5 = 0)."""
    argv = [vireo] + boot_args(kernel(fmt), initrd, 128, 2, machine='q35')
    argv += ['-device', 'pcie-root-port,id=rp1,chassis=1,addr=2']
    assert_all_pass(run(argv), 'vireo q35 %s' % fmt)
    r = run([vireo] + boot_args(kernel(fmt), initrd, 64, 1, ' poweroff=1',
                                machine='q35'))
    assert 'poweroff: S5 SLP_TYP=0' in r.serial, r
    assert r.returncode == 0, r


# ---- loader errors: exit 1, precise message, no guest started ----

def vireo_kernel(vireo, k, *extra, mem='64M'):
    return [vireo, '-M', 'microvm', '-m', mem, '-nodefaults', '-nographic',
            '-serial', 'none', '-kernel', k] + list(extra)


def assert_error(r, *needles):
    assert r.returncode == 1, r
    for n in needles:
        assert n in r.stderr, r


def test_error_truncated_bzimage(vireo, kvm, kernel, tmp_path):
    data = kernel('bzimage').read_bytes()
    for size in (0x100, 0x260, 5 * 512):
        p = tmp_path / ('bz-%d' % size)
        p.write_bytes(data[:size])
        r = run(vireo_kernel(vireo, p))
        assert_error(r, str(p), 'truncated')


def test_error_old_protocol(vireo, kvm, kernel, tmp_path):
    data = bytearray(kernel('bzimage').read_bytes())
    struct.pack_into('<H', data, 0x206, 0x205)
    p = tmp_path / 'bz-old'
    p.write_bytes(data)
    assert_error(run(vireo_kernel(vireo, p)),
                 'unsupported Linux boot protocol 2.05')


def test_error_no_64bit_entry(vireo, kvm, kernel, tmp_path):
    data = bytearray(kernel('bzimage').read_bytes())
    struct.pack_into('<H', data, 0x236, 0)
    p = tmp_path / 'bz-no64'
    p.write_bytes(data)
    assert_error(run(vireo_kernel(vireo, p)), 'XLF_KERNEL_64')


def test_error_cmdline_too_long(vireo, kvm, kernel):
    r = run(vireo_kernel(vireo, kernel('bzimage'), '-append', 'x' * 2048))
    assert_error(r, "2048 bytes, over the kernel's limit of 2047")
    # at the limit it boots (and the checker reports the bad magic)
    r = run(vireo_kernel(vireo, kernel('bzimage'), '-append', 'x' * 2047)
            + DEBUG_EXIT)
    assert r.returncode == FAIL_RC, r


def test_error_initrd_too_large(vireo, kvm, kernel, tmp_path):
    big = tmp_path / 'big.img'
    with open(big, 'wb') as f:
        f.truncate(40 * 1024 * 1024)
    for fmt in KERNELS:
        r = run(vireo_kernel(vireo, kernel(fmt), '-initrd', big, mem='32M'))
        assert_error(r, 'too large')


def test_error_kernel_does_not_fit(vireo, kvm, kernel):
    # 1 MiB of RAM: the kernels want to live at 1 MiB
    for fmt in KERNELS:
        r = run(vireo_kernel(vireo, kernel(fmt), mem='1M'))
        assert_error(r, 'does not fit in RAM')


def test_error_not_a_kernel(vireo, kvm, tmp_path):
    p = tmp_path / 'junk'
    p.write_bytes(b'\0' * 4096)
    assert_error(run(vireo_kernel(vireo, p)),
                 'not a bzImage, multiboot or PVH ELF image')
    assert_error(run(vireo_kernel(vireo, tmp_path / 'missing')),
                 'cannot read')


def test_error_bad_elf(vireo, kvm, kernel, tmp_path):
    data = bytearray(kernel('pvh').read_bytes())
    # program header table pointing past the end of the file
    struct.pack_into('<I', data, 28, len(data) + 100)
    p = tmp_path / 'pvh-badph'
    p.write_bytes(data)
    assert_error(run(vireo_kernel(vireo, p)), 'truncated')


def test_error_bad_multiboot_checksum(vireo, kvm, kernel, tmp_path):
    data = bytearray(kernel('multiboot').read_bytes())
    off = data.find(struct.pack('<I', 0x1BADB002))
    assert 0 <= off < 8192
    struct.pack_into('<I', data, off + 8, 0)
    p = tmp_path / 'mb-badsum'
    p.write_bytes(data)
    assert_error(run(vireo_kernel(vireo, p)), 'bad checksum')


def fdt_empty():
    """A minimal valid flattened device tree (v17): an empty root node."""
    rsv = b'\0' * 16
    struct_blk = struct.pack('>II', 1, 0) + struct.pack('>II', 2, 9)
    off_rsv, off_struct = 40, 56
    off_strings = off_struct + len(struct_blk)
    total = off_strings
    hdr = struct.pack('>10I', 0xd00dfeed, total, off_struct, off_strings,
                      off_rsv, 17, 16, 0, 0, len(struct_blk))
    return hdr + rsv + struct_blk


def test_dtb_setup_data(vireo, kvm, kernel, initrd, tmp_path):
    """-dtb: a valid blob is passed as SETUP_DTB (type 2) in the
    setup_data chain next to the RNG seed (type 9); garbage is refused."""
    bad = tmp_path / 'bad.dtb'
    bad.write_bytes(b'not a device tree')
    assert_error(run(vireo_kernel(vireo, kernel('bzimage'), '-dtb', bad)),
                 'not a valid device tree blob')
    good = tmp_path / 'good.dtb'
    good.write_bytes(fdt_empty())
    r = run([vireo] + boot_args(kernel('bzimage'), initrd, 64, 1) +
            ['-dtb', good])
    assert_all_pass(r, 'vireo bzimage -dtb')
    assert 'setup_data type 2 len %d first 0xedfe0dd0' % len(fdt_empty()) \
        in r.serial, r
    assert 'setup_data type 9 len 32' in r.serial, r


@pytest.mark.parametrize('base,year', [('utc', None), ('2006-06-17', 2006),
                                       ('2031-01-02T03:04:05', 2031)])
def test_rtc_year(vireo, qemu, kvm, kernel, initrd, base, year):
    """The CMOS RTC reports the host's year or the -rtc base= date, the
    same under vireo and QEMU."""
    import datetime
    if year is None:
        year = datetime.datetime.now(datetime.timezone.utc).year
    args = boot_args(kernel('pvh'), initrd, 64, 1,
                     ' expect_year=%d' % year) + ['-rtc', 'base=' + base]
    # QEMU's microvm leaves the RTC out under -nodefaults unless asked
    qargs = ['microvm,rtc=on' if a == 'microvm' else a for a in args]
    for argv in ([vireo] + args, [qemu, '-accel', 'kvm'] + qargs):
        r = run(argv)
        assert 'PASS rtc-year %d' % year in r.serial, r
        assert_all_pass(r, argv[0])


@pytest.mark.parametrize('fmt', sorted(KERNELS))
def test_reboot_reloads_kernel(vireo, kvm, kernel, initrd, fmt):
    """The guest spoils its command line and initrd, then resets through
    the i8042: vireo loads everything again, the second boot passes."""
    r = run([vireo] + boot_args(kernel(fmt), initrd, 64, 1, ' reboot=1'))
    assert 'boot count 0, rebooting' in r.serial, r
    assert 'boot count 1' in r.serial, r
    assert_all_pass(r, 'vireo %s after reboot' % fmt)


def test_no_reboot(vireo, kvm, kernel, initrd):
    """-no-reboot: the guest's reset ends vireo (status 0), no second
    boot."""
    r = run([vireo] + boot_args(kernel('pvh'), initrd, 64, 1, ' reboot=1') +
            ['-no-reboot'])
    assert 'boot count 0, rebooting' in r.serial, r
    assert 'boot count 1' not in r.serial, r
    assert r.returncode == 0, r


@pytest.mark.parametrize('fmt', sorted(KERNELS))
def test_smp_aps_report_apic_ids(vireo, kvm, qemu, kernel, initrd, fmt):
    """-smp 4: the fake kernel starts the APs with INIT/SIPI/SIPI through
    the in-kernel LAPIC; each reports its APIC id (1, 2, 3 in any order).
    Same under QEMU where it can boot the format."""
    args = boot_args(kernel(fmt), initrd, 64, 4, ' smp=1')
    runs = [[vireo] + args]
    if fmt != 'bzimage':
        runs.append([qemu, '-accel', 'kvm'] + args)
    for argv in runs:
        r = run(argv)
        ids = sorted(int(x) for x in re.findall(r'AP apic id (\d+)',
                                                r.serial))
        assert ids == [1, 2, 3], r
        assert 'PASS smp-aps 3 APs of 3' in r.serial, r
        assert_all_pass(r, argv[0])
    # one CPU fewer than expected: the check fails
    argv = [vireo] + boot_args(kernel(fmt), initrd, 64, 3, ' smp=1')
    i = argv.index('-append') + 1
    argv[i] = argv[i].replace('expect_cpus=3', 'expect_cpus=4')
    r = run(argv)
    assert 'FAIL smp-aps 2 APs of 3' in r.serial, r
    assert r.returncode == FAIL_RC, r
