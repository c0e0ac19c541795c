# SPDX-License-Identifier: MIT
"""test_qapi_gen.py: scripts/qapi-gen.py on bad schemas (each must be
refused with a message naming the problem) and its naming rules."""
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
GEN = ROOT / 'scripts' / 'qapi-gen.py'

spec = importlib.util.spec_from_file_location('qapi_gen', GEN)
qapi_gen = importlib.util.module_from_spec(spec)
spec.loader.exec_module(qapi_gen)


def run(tmp_path, text):
    schema = tmp_path / 's.json'
    schema.write_text(text)
    return subprocess.run([sys.executable, str(GEN), str(schema), '-o',
                           str(tmp_path / 'out'), '--doc',
                           str(tmp_path / 'doc.md')],
                          capture_output=True, text=True)


@pytest.mark.parametrize('text,msg', [
    ("{ 'struct': 'A', 'data': { 'x': 'Nope' } }", 'unknown type Nope'),
    ("{ 'struct': 'A', 'data': {} }\n{ 'enum': 'A', 'data': [] }",
     'duplicate type A'),
    ("{ 'struct': 'A', 'data': { 'x': [ 'int', 'str' ] } }",
     'list type needs one element'),
    ("{ 'struct': 'B', 'data': { 'k': 'str' } }\n"
     "{ 'union': 'U', 'base': { 'k': 'str' }, 'discriminator': 'k', "
     "'data': {} }", 'discriminator must be a mandatory enum member'),
    ("{ 'enum': 'E', 'data': [ 'a' ] }\n"
     "{ 'struct': 'B', 'data': {} }\n"
     "{ 'union': 'U', 'base': { 'k': 'E' }, 'discriminator': 'k', "
     "'data': { 'z': 'B' } }", 'z is not a value of E'),
    ("{ 'command': 'c', 'data': { 'a': 'int' }, 'if': 'X' }",
     "'if' is not supported"),
    ("{ 'command': 'c', 'data': 'Missing' }", 'bad data type'),
    ("{ 'struct': 'A', 'data': { 'x': 'int' }", 'unexpected end of input'),
    ("{ 'struct': 'A', 'data': { 'x': 'int' ] }", "expected ',' or '}'"),
    ("{ 'struct': 'A', 'data': { 'x': 'int', 'x': 'str' } }",
     "duplicate key 'x'"),
    ("{ 'frobnicate': 'A' }", 'unknown expression'),
])
def test_bad_schema(tmp_path, text, msg):
    r = run(tmp_path, text)
    assert r.returncode == 1, r
    assert msg in r.stderr, r.stderr


def test_good_schema(tmp_path):
    r = run(tmp_path, "##\n# @c:\n#\n# Does c.\n##\n"
                      "{ 'command': 'c', 'data': { '*n': 'uint8' }, "
                      "'returns': 'int' }")
    assert r.returncode == 0, r.stderr
    h = (tmp_path / 'out' / 'qapi-gen-types.h').read_text()
    assert 'int64_t qmp_c(struct machine *m, bool has_n, uint8_t n, ' \
        'Error **errp);' in h
    assert 'Does c.' in (tmp_path / 'doc.md').read_text()


@pytest.mark.parametrize('name,snake', [
    ('StatusInfo', 'status_info'), ('QMPCapability', 'qmp_capability'),
    ('CpuInfoFast', 'cpu_info_fast'), ('SysEmuTarget', 'sys_emu_target'),
    ('JSONType', 'json_type'), ('x86Thing', 'x86_thing'),
])
def test_camel_to_snake(name, snake):
    assert qapi_gen.camel_to_snake(name) == snake


def test_c_member_names():
    assert qapi_gen.c_member('default') == 'q_default'
    assert qapi_gen.c_member('cpu-index') == 'cpu_index'
    assert qapi_gen.c_member('static') == 'q_static'


def test_command_features_introspected(tmp_path):
    # libvirt reads device_add's json-cli-hotplug feature from
    # query-qmp-schema to decide that -device takes JSON
    r = run(tmp_path, "{ 'command': 'c', 'data': { 'd': 'str' }, "
                      "'gen': false, 'features': [ 'json-cli', 'x-y' ] }\n"
                      "{ 'command': 'e' }")
    assert r.returncode == 0, r.stderr
    c = (tmp_path / 'out' / 'qapi-gen.c').read_text()
    lit = c[c.index('qapi_schema_json[] ='):]
    lit = lit[:lit.index(';')]
    # the C literal is split over lines: join the pieces, unescape
    text = ''.join(ln.strip()[1:-1] for ln in lit.splitlines()[1:])
    schema = json.loads(text.replace('\\"', '"'))
    c_info = [e for e in schema if e['name'] == 'c'][0]
    assert c_info['features'] == ['json-cli', 'x-y']
    assert 'features' not in [e for e in schema if e['name'] == 'e'][0]
