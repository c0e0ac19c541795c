# SPDX-License-Identifier: MIT
"""test_qmp_every_command.py: every command vireo's schema lists, driven
with argument sets built from that schema (each member in turn over
awkward values of its type, plus real names for the members that take
names: types, paths, URIs), on `-machine none` without KVM.  vireo must
answer each with a return or an error that has a class and a text, and
stay alive: a QMP client can never crash it.  (This is how a migrate on
a machine without an accelerator was found to crash vireo.)
"""
import os

from qmp_fixtures import *  # noqa: F401,F403

INTS = [0, 1, -1, 4096, 2 ** 31, -(2 ** 63), 2 ** 63 - 1]
STRS = ['', 'x', 'a' * 5000, '\u00e9\u0000', '/', '..', '%s%n']


def names_for(member, ctx):
    """Meaningful strings for a member, by its name."""
    tmp = ctx['tmp']
    table = {
        'uri': ['file:%s/mig' % tmp, 'unix:%s/mig.sock' % tmp, 'fd:3',
                'fd:nosuch', 'tcp:127.0.0.1:1', 'exec:true', 'defer',
                'file:/nonexistent/dir/x', 'rdma:1'],
        'typename': ctx['types'],
        'implements': ['device', 'object', 'x86_64-cpu', 'nosuch'],
        'driver': ctx['devices'],
        'path': ['/', '/machine', '/machine/peripheral',
                 '/machine/unattached', '/machine/unattached/device[0]',
                 '/objects', '/nosuch', 'relative', '//'],
        'property': ['type', 'realized', 'guest-stats', 'nosuch'],
        'command-line': ['info status', 'info registers', 'info migrate',
                         'info dirty_rate', 'calc_dirty_rate -b 1 128',
                         'migrate file:%s/hmp-mig' % tmp, 'migrate',
                         'help', 'info', 'stop', 'cont', 'system_reset',
                         'nosuch', ''],
        'option': ['machine', 'chardev', 'nosuch'],
        'fdname': ['migrate', '3x', ''],
        'id': ['nosuch', ''],
    }
    return table.get(member, [])


def values(typ, member, types, ctx, depth=0):
    if typ == 'str':
        return names_for(member, ctx) + STRS
    if typ == 'int':
        return INTS
    if typ == 'bool':
        return [True, False]
    if typ == 'any':
        return [None, 0, 'x', [], {}]
    t = types.get(typ)
    if t is None or depth > 3:
        return [None]
    mt = t['meta-type']
    if mt == 'enum':
        return list(t['values']) + ['nosuch']
    if mt == 'array':
        inner = values(t['element-type'], member, types, ctx, depth + 1)
        return [[], inner[:1], inner[:3]]
    if mt == 'object':
        obj = {}
        for m in t.get('members', []):
            obj[m['name']] = values(m['type'], m['name'], types, ctx,
                                    depth + 1)[0]
        return [obj, {}]
    if mt == 'builtin':
        return values(t['json-type'] if t['json-type'] in ('int', 'bool')
                      else 'str', member, types, ctx, depth + 1)
    if mt == 'alternate':
        return [v for m in t['members']
                for v in values(m['type'], member, types, ctx,
                                depth + 1)[:2]]
    return [None]


def argument_sets(cmd, types, ctx):
    members = types[cmd['arg-type']].get('members', [])
    base = {}
    for m in members:
        if 'default' not in m:
            base[m['name']] = values(m['type'], m['name'], types, ctx)[0]
    yield dict(base)
    for m in members:
        for v in values(m['type'], m['name'], types, ctx):
            args = dict(base)
            args[m['name']] = v
            yield args
    yield {'nosuch-member': 1}


def test_every_command_survives(none_vm, tmp_path):
    vm = none_vm()
    q = vm.qmp()
    schema = q.ok('query-qmp-schema')
    types = {e['name']: e for e in schema}
    ctx = {
        'tmp': str(tmp_path),
        'types': [t['name'] for t in q.ok('qom-list-types',
                                          {'abstract': True})],
        'devices': [t['name'] for t in q.ok('qom-list-types',
                                            {'implements': 'device'})],
    }
    cmds = [e for e in schema if e['meta-type'] == 'command' and
            e['name'] != 'quit']
    assert len(cmds) > 40
    sent = 0
    for cmd in cmds:
        for args in argument_sets(cmd, types, ctx):
            r = q.cmd(cmd['name'], args)
            sent += 1
            assert 'return' in r or (
                r['error']['class'] and r['error']['desc']), (cmd, args, r)
            assert vm.alive(), (cmd['name'], args, vm.stderr())
    # still serving after all of it
    assert q.ok('query-version')['qemu']['major'] == 7
    assert sent > 400
    # nothing written outside the test's directory by the URIs above
    assert not os.path.exists('/nonexistent')
