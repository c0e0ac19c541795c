# SPDX-License-Identifier: MIT
"""test_qmp_conformance.py: the same scripted QMP session against QEMU and
vireo (same idle guest, both paused with -S on microvm), comparing the
shapes of greetings, replies and events: keys and JSON types, not values.
Members QEMU has and vireo leaves out (or the reverse) fail the test unless
listed in ALLOWED_DIFFS with the reason."""
import pytest

from qmp_client import shape
from qmp_fixtures import (make_vm, make_qemu_vm, vireo_bin,  # noqa: F401
                          idle_bios)

# (command, arguments, events expected after it)
SESSION = [
    ('query-version', None, []),
    ('query-status', None, []),
    ('query-name', None, []),
    ('query-uuid', None, []),
    ('query-kvm', None, []),
    ('query-target', None, []),
    ('query-cpus-fast', None, []),
    ('query-chardev', None, []),
    ('query-commands', None, []),
    ('query-machines', None, []),
    ('query-cpu-definitions', None, []),
    ('query-command-line-options', {'option': 'name'}, []),
    ('query-command-line-options', {'option': 'nope'}, []),
    ('human-monitor-command', {'command-line': 'info status'}, []),
    ('human-monitor-command', {'command-line': 'info cpus'}, []),
    ('human-monitor-command', {}, []),
    ('human-monitor-command', {'command-line': 5}, []),
    ('query-status', {'x': 1}, []),
    ('no-such-command', None, []),
    ('inject-nmi', None, []),
    ('cont', None, ['RESUME']),
    ('stop', None, ['STOP']),
    ('system_reset', None, ['RESET']),
    ('system_powerdown', None, ['POWERDOWN']),
    ('cont', None, ['RESUME']),
    ('quit', None, ['SHUTDOWN']),
]

# Paths (command/key/...) whose shape may legitimately differ.
ALLOWED_DIFFS = {
    'query-machines/return[]/is-default':
        'QEMU 7.2 lists pc-q35-5.2 first, without is-default; vireo lists '
        'microvm (its default) first',
    'query-machines/return[]/alias': 'vireo has no alias for microvm',
    'query-cpu-definitions/return[]/alias-of': 'vireo models have no '
                                               'versions',
    'query-cpu-definitions/return[]/unavailable-features':
        'vireo does not filter features per model, so it cannot say',
}


def run_session(vm):
    c = vm.qmp(negotiate=False)
    out = {'greeting': c.greeting}
    out['negotiate'] = c.cmd('qmp_capabilities')
    for i, (cmd, args, events) in enumerate(SESSION):
        r = c.cmd(cmd, args)
        r.pop('id')
        out['%d:%s' % (i, cmd)] = r
        for e in events:
            ev = c.wait_event(e)
            out['%d:%s:event:%s' % (i, cmd, e)] = ev
    vm.wait(10)
    return out


def diff_shapes(a, b, path, diffs):
    if isinstance(a, dict) and isinstance(b, dict):
        for k in set(a) | set(b):
            p = '%s/%s' % (path, k)
            if k not in a or k not in b:
                diffs.append('%s: only in %s' % (p, 'qemu' if k in a
                                                else 'vireo'))
            else:
                diff_shapes(a[k], b[k], p, diffs)
    elif isinstance(a, list) and isinstance(b, list):
        if a and b:
            diff_shapes(a[0], b[0], path + '[]', diffs)
    elif a != b:
        diffs.append('%s: qemu %r, vireo %r' % (path, a, b))


def allowed(d):
    path = d.split(':')[1] if d.count(':') >= 2 else d
    return any(path.startswith(k) for k in ALLOWED_DIFFS)


def test_same_session_same_shapes(make_vm, make_qemu_vm):
    q = run_session(make_qemu_vm())
    v = run_session(make_vm())
    assert q.keys() == v.keys()
    diffs = []
    for k in q:
        diff_shapes(shape(q[k]), shape(v[k]), k, diffs)
    real = [d for d in diffs if not allowed(d)]
    assert not real, '\n'.join(real)


def test_error_classes_match(make_vm, make_qemu_vm):
    q = run_session(make_qemu_vm())
    v = run_session(make_vm())
    for k in q:
        if 'error' in q[k]:
            assert 'error' in v[k], (k, v[k])
            assert q[k]['error']['class'] == v[k]['error']['class'], k
    # argument errors read the same
    for k in q:
        if 'error' in q[k] and 'Parameter' in q[k]['error']['desc']:
            assert q[k]['error']['desc'] == v[k]['error']['desc']
