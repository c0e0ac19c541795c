# SPDX-License-Identifier: MIT
"""qmp_fixtures.py: pytest fixtures shared by the test_qmp*.py files
(imported by them with `from qmp_fixtures import *`), so they do not
depend on another area's conftest.py."""
import os

import pytest

from qmp_client import VM, find_guest, find_qemu, find_vireo


@pytest.fixture(scope='session')
def vireo_bin():
    b = find_vireo()
    if not b or not b.exists():
        pytest.fail('vireo binary not found (set VIREO_BINARY)')
    if not os.access('/dev/kvm', os.R_OK | os.W_OK):
        pytest.skip('/dev/kvm not usable')
    return b


@pytest.fixture(scope='session')
def idle_bios():
    """tests/guest/hlt.bin: prints a line, then cli; hlt forever."""
    p = find_guest('hlt')
    if not p:
        pytest.fail('tests/guest/hlt.bin not built (set VIREO_GUEST_DIR)')
    return p


@pytest.fixture
def make_vm(vireo_bin, idle_bios):
    vms = []

    def make(**kw):
        vm = VM(vireo_bin, idle_bios, **kw)
        vms.append(vm)
        return vm
    yield make
    for vm in vms:
        vm.stop()


@pytest.fixture
def make_qemu_vm(idle_bios):
    q = find_qemu()
    if not q:
        pytest.skip('qemu-system-x86_64 not installed')
    vms = []

    def make(**kw):
        vm = VM(q, idle_bios, qemu=True, **kw)
        vms.append(vm)
        return vm
    yield make
    for vm in vms:
        vm.stop()
