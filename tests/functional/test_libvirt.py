# SPDX-License-Identifier: MIT
"""test_libvirt.py: what libvirt needs of vireo, without KVM: the probe
machine (-machine none), the commands libvirt sends at probe and start
(shared/reference/libvirt-qmp.md), and the run-state rules of its reboot.
"""


def test_none_machine_serves_qmp(none_vm):
    vm = none_vm()
    q = vm.qmp()
    assert q.ok('query-status')['status'] == 'running'
    kvm = q.ok('query-kvm')
    # the truth: KVM is reported only if the machine really has it
    import os
    have = os.access('/dev/kvm', os.R_OK | os.W_OK)
    assert kvm == {'enabled': have, 'present': have}
    assert q.ok('query-cpus-fast') == []
    names = [m['name'] for m in q.ok('query-machines')]
    assert 'none' in names and 'microvm' in names


def test_none_machine_needs_fallback_without_kvm(vireo, tmp_path):
    import os
    import subprocess
    if os.access('/dev/kvm', os.R_OK | os.W_OK):
        import pytest
        pytest.skip('KVM is usable here')
    r = subprocess.run([str(vireo), '-machine', 'none', '-nodefaults',
                        '-display', 'none'], capture_output=True, timeout=10)
    assert r.returncode == 1
    assert b'/dev/kvm' in r.stderr


def test_reset_after_shutdown_goes_to_prelaunch(none_vm):
    """libvirt's reboot: after the guest powered off (-no-shutdown), it
    sends system_reset then cont.  The reset must leave 'shutdown' before
    its reply, with the RESET event already sent."""
    vm = none_vm(paused=True)
    q = vm.qmp()
    assert q.ok('query-status')['status'] == 'prelaunch'
    q.ok('cont')
    q.ok('stop')
    assert q.ok('query-status')['status'] == 'paused'
    q.cmd('system_reset')
    # the event came before the reply (cmd() queued it on the way)
    assert [e['event'] for e in q.events] .count('RESET') == 1
    assert q.ok('query-status')['status'] == 'prelaunch'
    q.ok('cont')
    assert q.ok('query-status')['status'] == 'running'
    # a reset while running stays running
    q.events.clear()
    q.ok('system_reset')
    assert [e['event'] for e in q.events] == ['RESET']
    assert q.ok('query-status')['status'] == 'running'
