# SPDX-License-Identifier: MIT
"""test_none_machine_qmp.py: guest-facing commands on -machine none answer
as QEMU 7.2's: inject-nmi is an error (no CPU to take an NMI), while
system_powerdown succeeds and sends POWERDOWN (nothing to press)."""


def test_inject_nmi_refused_as_qemu(none_vm, qemu_none_vm):
    v = none_vm().qmp()
    q = qemu_none_vm().qmp()
    a, b = v.cmd('inject-nmi'), q.cmd('inject-nmi')
    assert 'error' in a and a['error'] == b['error'], (a, b)
    assert a['error'] == {
        'class': 'GenericError',
        'desc': 'this feature or command is not currently supported'}


def test_system_powerdown_event_as_qemu(none_vm, qemu_none_vm):
    for vm in (none_vm(), qemu_none_vm()):
        c = vm.qmp()
        assert c.ok('system_powerdown') == {}
        c.wait_event('POWERDOWN')
