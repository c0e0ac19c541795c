#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""qapi-gen.py: QAPI schema -> C for vireo (Python 3 stdlib only).

Reads a schema in QAPI's schema language (JSON with '#' comments and single
quotes; enum, struct, union, alternate, command, event, include) and writes:

  <out>/<stem>-types.h   C types, parse/serialise/free functions, handler
                         and event-emitter declarations
  <out>/<stem>.c         the implementations, the command table used by
                         qapi/qmp-dispatch.c and the query-qmp-schema data
  --doc FILE             a Markdown reference of commands, events and types

C naming: every generated symbol starts with --prefix (default "qapi_");
QAPI type "StatusInfo" becomes "struct qapi_status_info"; enum values are
QAPI_RUN_STATE_RUNNING.  Hand-written handlers are
"<handler-prefix><command>" (default qmp_query_status) taking
(struct machine *m, <arguments>, Error **errp).  Optional members carry a
has_<member> flag.  Lists are GPtrArray * (elements of pointer type, freed by
the generated free function, so create them with g_ptr_array_new()) or
GArray * (scalar elements).
"""

import argparse
import os
import re
import sys

BUILTINS = {
    # name: (c type, json-type for introspection, min, max, range name)
    'str': ('char *', 'string'),
    'int': ('int64_t', 'int'),
    'int8': ('int8_t', 'int'),
    'int16': ('int16_t', 'int'),
    'int32': ('int32_t', 'int'),
    'int64': ('int64_t', 'int'),
    'uint8': ('uint8_t', 'int'),
    'uint16': ('uint16_t', 'int'),
    'uint32': ('uint32_t', 'int'),
    'uint64': ('uint64_t', 'int'),
    'size': ('uint64_t', 'int'),
    'number': ('double', 'number'),
    'bool': ('bool', 'boolean'),
    'any': ('struct json_value *', 'value'),
    'null': ('bool', 'null'),
}
INT_RANGES = {
    'int': ('INT64_MIN', 'INT64_MAX', 'int64_t'),
    'int8': ('INT8_MIN', 'INT8_MAX', 'int8_t'),
    'int16': ('INT16_MIN', 'INT16_MAX', 'int16_t'),
    'int32': ('INT32_MIN', 'INT32_MAX', 'int32_t'),
    'int64': ('INT64_MIN', 'INT64_MAX', 'int64_t'),
    'uint8': ('0', 'UINT8_MAX', 'uint8_t'),
    'uint16': ('0', 'UINT16_MAX', 'uint16_t'),
    'uint32': ('0', 'UINT32_MAX', 'uint32_t'),
}
UNSIGNED64 = ('uint64', 'size')
C_KEYWORDS = set('''auto break case char const continue default do double else
enum extern float for goto if inline int long register restrict return short
signed sizeof static struct switch typedef union unsigned void volatile while
bool errno'''.split())


class SchemaError(Exception):
    pass


# ---------------------------------------------------------------- parsing

def tokenize(text, fname):
    """Yields Python values of the QAPI JSON dialect, one top-level
    expression at a time, with the doc comment block preceding it."""
    pos = 0
    n = len(text)
    state = {'block': None, 'last': []}

    def err(msg):
        line = text.count('\n', 0, pos) + 1
        raise SchemaError('%s:%d: %s' % (fname, line, msg))

    def skip_ws():
        nonlocal pos
        while pos < n:
            c = text[pos]
            if c in ' \t\r\n':
                pos += 1
            elif c == '#':
                end = text.find('\n', pos)
                if end < 0:
                    end = n
                line = text[pos:end]
                if line.startswith('##'):
                    if state['block'] is None:
                        state['block'] = []
                    else:
                        state['last'] = state['block']
                        state['block'] = None
                elif state['block'] is not None:
                    state['block'].append(line[2:] if line.startswith('# ')
                                          else line[1:])
                pos = end
            else:
                break

    def cur():
        if pos >= n:
            err('unexpected end of input')
        return text[pos]

    def value():
        nonlocal pos
        skip_ws()
        if pos >= n:
            err('unexpected end of input')
        c = cur()
        if c == '{':
            pos += 1
            obj = {}
            skip_ws()
            if cur() == '}':
                pos += 1
                return obj
            while True:
                k = value()
                if not isinstance(k, str):
                    err('expected string key')
                skip_ws()
                if cur() != ':':
                    err("expected ':'")
                pos += 1
                if k in obj:
                    err("duplicate key '%s'" % k)
                obj[k] = value()
                skip_ws()
                if cur() == ',':
                    pos += 1
                    continue
                if cur() == '}':
                    pos += 1
                    return obj
                err("expected ',' or '}'")
        if c == '[':
            pos += 1
            arr = []
            skip_ws()
            if cur() == ']':
                pos += 1
                return arr
            while True:
                arr.append(value())
                skip_ws()
                if cur() == ',':
                    pos += 1
                    continue
                if cur() == ']':
                    pos += 1
                    return arr
                err("expected ',' or ']'")
        if c in '\'"':
            end = text.find(c, pos + 1)
            if end < 0:
                err('unterminated string')
            s = text[pos + 1:end]
            pos = end + 1
            return s
        for lit, v in (('true', True), ('false', False)):
            if text.startswith(lit, pos):
                pos += len(lit)
                return v
        err("stray '%s'" % c)

    while True:
        skip_ws()
        if pos >= n:
            return
        doc = state['last']
        state['last'] = []
        yield value(), doc


def camel_to_snake(name):
    s = re.sub(r'([A-Z]+)([A-Z][a-z])', r'\1_\2', name)
    s = re.sub(r'([a-z0-9])([A-Z])', r'\1_\2', s)
    return re.sub(r'[^A-Za-z0-9]', '_', s).lower()


def c_member(name):
    n = re.sub(r'[^A-Za-z0-9_]', '_', name)
    if n in C_KEYWORDS:
        n = 'q_' + n
    return n


class Member:
    def __init__(self, name, typ, optional):
        self.name = name
        self.typ = typ          # str or [str]
        self.optional = optional
        self.c = c_member(name)

    @property
    def is_list(self):
        return isinstance(self.typ, list)

    @property
    def elem(self):
        return self.typ[0] if self.is_list else self.typ


def parse_members(data, where):
    out = []
    if not isinstance(data, dict):
        raise SchemaError('%s: members must be an object' % where)
    for k, v in data.items():
        opt = k.startswith('*')
        name = k[1:] if opt else k
        if isinstance(v, dict):
            v = v['type']
        if isinstance(v, list) and len(v) != 1:
            raise SchemaError('%s: list type needs one element' % where)
        out.append(Member(name, v, opt))
    return out


class Schema:
    def __init__(self):
        self.entities = []    # in definition order
        self.types = {}       # name -> dict
        self.commands = []
        self.events = []

    def load(self, path, seen=None):
        seen = seen if seen is not None else set()
        path = os.path.abspath(path)
        if path in seen:
            return
        seen.add(path)
        with open(path, encoding='utf-8') as f:
            text = f.read()
        for expr, doc in tokenize(text, path):
            if not isinstance(expr, dict):
                raise SchemaError('%s: expression must be an object' % path)
            if 'include' in expr:
                self.load(os.path.join(os.path.dirname(path),
                                       expr['include']), seen)
                continue
            if 'pragma' in expr:
                continue
            if 'if' in expr:
                raise SchemaError("%s: 'if' is not supported" % path)
            expr['doc'] = doc
            expr['file'] = os.path.basename(path)
            for meta in ('enum', 'struct', 'union', 'alternate'):
                if meta in expr:
                    expr['meta'] = meta
                    expr['name'] = expr[meta]
                    if expr['name'] in self.types or \
                            expr['name'] in BUILTINS:
                        raise SchemaError('%s: duplicate type %s' %
                                          (path, expr['name']))
                    self.types[expr['name']] = expr
                    break
            else:
                if 'command' in expr:
                    expr['meta'] = 'command'
                    expr['name'] = expr['command']
                    self.commands.append(expr)
                elif 'event' in expr:
                    expr['meta'] = 'event'
                    expr['name'] = expr['event']
                    self.events.append(expr)
                else:
                    raise SchemaError('%s: unknown expression %r' %
                                      (path, list(expr)))
            self.entities.append(expr)

    def check(self):
        for t in self.types.values():
            meta = t['meta']
            if meta == 'enum':
                t['values'] = [v['name'] if isinstance(v, dict) else v
                               for v in t['data']]
            elif meta == 'struct':
                t['members'] = parse_members(t.get('data', {}), t['name'])
                if 'base' in t:
                    base = self.types.get(t['base'])
                    if not base or base['meta'] != 'struct':
                        raise SchemaError('%s: bad base' % t['name'])
            elif meta == 'union':
                b = t['base']
                if isinstance(b, dict):
                    t['own_base'] = parse_members(b, t['name'])
                else:
                    t['base_name'] = b
                t['variants'] = dict(t['data'])
            elif meta == 'alternate':
                t['variants'] = dict(t['data'])
        for t in self.types.values():
            if t['meta'] == 'union':
                t['members'] = t.get('own_base') or \
                    self.all_members(self.types[t['base_name']])
                tag = [m for m in t['members']
                       if m.name == t['discriminator']]
                if not tag or self.types.get(tag[0].typ, {}).get('meta') \
                        != 'enum' or tag[0].optional:
                    raise SchemaError('%s: discriminator must be a '
                                      'mandatory enum member' % t['name'])
                t['tag'] = tag[0]
                values = self.types[tag[0].typ]['values']
                for v, bt in t['variants'].items():
                    if v not in values:
                        raise SchemaError('%s: %s is not a value of %s' %
                                          (t['name'], v, tag[0].typ))
                    if self.types.get(bt, {}).get('meta') != 'struct':
                        raise SchemaError('%s: branch %s must be a struct' %
                                          (t['name'], v))
        for c in self.commands + self.events:
            data = c.get('data')
            if isinstance(data, dict):
                c['arg_members'] = parse_members(data, c['name'])
                c['arg_type'] = None
            elif isinstance(data, str):
                at = self.types.get(data)
                if not at or at['meta'] not in ('struct', 'union'):
                    raise SchemaError('%s: bad data type' % c['name'])
                c['arg_type'] = data
                c['arg_members'] = self.all_members(at) \
                    if not c.get('boxed') else None
                if at['meta'] == 'union' and not c.get('boxed'):
                    raise SchemaError('%s: union data needs boxed' %
                                      c['name'])
            else:
                c['arg_members'] = []
                c['arg_type'] = None
        for name in self.referenced_names():
            if name not in BUILTINS and name not in self.types:
                raise SchemaError('unknown type %s' % name)

    def referenced_names(self):
        for t in self.types.values():
            for m in t.get('members', []):
                yield m.elem
            for v in t.get('variants', {}).values():
                yield v[0] if isinstance(v, list) else v
        for c in self.commands + self.events:
            for m in c.get('arg_members') or []:
                yield m.elem
            r = c.get('returns')
            if r is not None:
                yield r[0] if isinstance(r, list) else r

    def all_members(self, t):
        if t['meta'] == 'struct':
            base = self.all_members(self.types[t['base']]) \
                if 'base' in t else []
            return base + t['members']
        return t.get('members', [])


# ---------------------------------------------------------------- C output

class Gen:
    def __init__(self, schema, prefix, handler_prefix, event_sink, stem):
        self.s = schema
        self.p = prefix
        self.hp = handler_prefix
        self.sink = event_sink
        self.stem = stem
        self.h = []
        self.c = []
        self.lists = {}  # elem type name -> True, for list helpers

    def meta(self, name):
        if name in BUILTINS:
            return 'builtin'
        return self.s.types[name]['meta']

    def cname(self, name):
        return self.p + camel_to_snake(name)

    def is_ptr(self, name):
        if name in BUILTINS:
            return name in ('str', 'any')
        return self.meta(name) != 'enum'

    def ctype(self, typ):
        """C type of a member/argument/return of QAPI type typ."""
        if isinstance(typ, list):
            self.lists[typ[0]] = True
            return 'GPtrArray *' if self.is_ptr(typ[0]) else 'GArray *'
        if typ in BUILTINS:
            return BUILTINS[typ][0]
        if self.meta(typ) == 'enum':
            return 'enum %s ' % self.cname(typ)
        return 'struct %s *' % self.cname(typ)

    def decl(self, typ, name):
        t = self.ctype(typ)
        return t + name if t.endswith('*') or t.endswith(' ') \
            else t + ' ' + name

    # --- per-type-ref helpers (names of C functions)

    def parse_fn(self, typ):
        if isinstance(typ, list):
            return '%slist_%s_parse' % (self.p, camel_to_snake(typ[0]))
        if typ in BUILTINS:
            return None
        return self.cname(typ) + '_parse'

    def free_fn(self, typ):
        if isinstance(typ, list):
            return '%slist_%s_free' % (self.p, camel_to_snake(typ[0]))
        if typ == 'str':
            return 'g_free'
        if typ == 'any':
            return 'json_free'
        if typ in BUILTINS or self.meta(typ) == 'enum':
            return None
        return self.cname(typ) + '_free'

    def to_json_fn(self, typ):
        if isinstance(typ, list):
            return '%slist_%s_to_json' % (self.p, camel_to_snake(typ[0]))
        return self.cname(typ) + '_to_json'

    def parse_value(self, typ, node, path, out):
        """C statement list parsing the JSON value node into lvalue out;
        evaluates to false on error (errp)."""
        if isinstance(typ, list) or typ not in BUILTINS:
            return '%s(%s, %s, &%s, errp)' % (self.parse_fn(typ), node,
                                              path, out)
        if typ == 'str':
            return 'qapi_parse_str(%s, %s, &%s, errp)' % (node, path, out)
        if typ == 'bool':
            return 'qapi_parse_bool(%s, %s, &%s, errp)' % (node, path, out)
        if typ == 'number':
            return 'qapi_parse_number(%s, %s, &%s, errp)' % (node, path, out)
        if typ == 'any':
            return 'qapi_parse_any(%s, %s, &%s, errp)' % (node, path, out)
        if typ == 'null':
            return 'qapi_parse_null(%s, %s, &%s, errp)' % (node, path, out)
        if typ in UNSIGNED64:
            return 'qapi_parse_uint64(%s, %s, &%s, errp)' % (node, path, out)
        lo, hi, tn = INT_RANGES[typ]
        if typ in ('int', 'int64'):
            return 'qapi_parse_int(%s, %s, %s, %s, "%s", &%s, errp)' % (
                node, path, lo, hi, tn, out)
        return ('qapi_parse_int_into(%s, %s, %s, %s, "%s", &%s, '
                'sizeof(%s), errp)' % (node, path, lo, hi, tn, out, out))

    def value_to_json(self, typ, val):
        if isinstance(typ, list) or typ not in BUILTINS:
            if not isinstance(typ, list) and self.meta(typ) == 'enum':
                return 'qapi_str_node(%s_str(%s))' % (self.cname(typ), val)
            return '%s(%s)' % (self.to_json_fn(typ), val)
        if typ == 'str':
            return 'qapi_str_node(%s)' % val
        if typ == 'bool':
            return 'qapi_bool_node(%s)' % val
        if typ == 'number':
            return 'qapi_double_node(%s)' % val
        if typ == 'any':
            return 'qapi_any_node(%s)' % val
        if typ == 'null':
            return 'qapi_null_node()'
        if typ in UNSIGNED64:
            return 'qapi_uint_node(%s)' % val
        return 'qapi_int_node(%s)' % val

    def free_value(self, typ, val):
        fn = self.free_fn(typ)
        return '%s(%s);' % (fn, val) if fn else None

    # --- emitters

    def gen_enum(self, t):
        cn = self.cname(t['name'])
        up = cn.upper()
        self.h.append('enum %s {' % cn)
        for v in t['values']:
            self.h.append('    %s_%s,' % (up, c_member(v).upper()))
        self.h.append('    %s__MAX,' % up)
        self.h.append('};')
        self.h.append('const char *%s_str(enum %s v);' % (cn, cn))
        self.h.append('bool %s_parse(const struct json_value *node, const char *path, '
                      'enum %s *out, Error **errp);' % (cn, cn))
        self.h.append('')
        self.c.append('static const char *const %s_names[] = {' % cn)
        for v in t['values']:
            self.c.append('    "%s",' % v)
        self.c.append('};')
        self.c.append('''
const char *%(cn)s_str(enum %(cn)s v)
{
    return (unsigned)v < %(up)s__MAX ? %(cn)s_names[v] : "";
}

bool %(cn)s_parse(const struct json_value *node, const char *path,
                  enum %(cn)s *out, Error **errp)
{
    int i = qapi_parse_enum(node, path, %(cn)s_names, %(up)s__MAX, errp);

    if (i < 0) {
        return false;
    }
    *out = (enum %(cn)s)i;
    return true;
}
''' % {'cn': cn, 'up': up})

    def struct_fields(self, members):
        out = []
        for m in members:
            if m.optional:
                out.append('    bool has_%s;' % m.c)
            out.append('    %s;' % self.decl(m.typ, m.c))
        return out

    def gen_struct_decl(self, t):
        cn = self.cname(t['name'])
        self.h.append('struct %s {' % cn)
        members = self.s.all_members(t)
        self.h.extend(self.struct_fields(members))
        if t['meta'] == 'union':
            if t['variants']:
                self.h.append('    union {')
                for v, bt in t['variants'].items():
                    self.h.append('        struct %s %s;' %
                                  (self.cname(bt), c_member(v)))
                self.h.append('    } u;')
        if t['meta'] == 'alternate':
            self.h.append('    enum qapi_alt_kind kind;')
            self.h.append('    union {')
            for v, bt in t['variants'].items():
                self.h.append('        %s;' % self.decl(bt, c_member(v)))
            self.h.append('    } u;')
        if not members and t['meta'] == 'struct':
            self.h.append('    char qapi_empty_; /* C needs a member */')
        self.h.append('};')
        self.h.append('')

    def gen_struct_fns_decl(self, t):
        cn = self.cname(t['name'])
        self.h.append('void %s_free(struct %s *obj);' % (cn, cn))
        self.h.append('struct json_value *%s_to_json(const struct %s *obj);' %
                      (cn, cn))
        self.h.append('bool %s_parse(const struct json_value *node, const char *path, '
                      'struct %s **out, Error **errp);' % (cn, cn))
        if t['meta'] == 'struct':
            self.h.append('bool %s_parse_members(const struct json_value *o, '
                          'const char *path, struct %s *obj, '
                          'Error **errp);' % (cn, cn))
            self.h.append('void %s_free_members(struct %s *obj);' %
                          (cn, cn))
            self.h.append('void %s_members_to_json(const struct %s *obj, '
                          'struct json_value *o);' % (cn, cn))
        self.h.append('')

    def members_parse_code(self, members, obj='obj'):
        out = []
        for m in members:
            out.append('    node = json_object_get(o, "%s");' % m.name)
            out.append('    sub = qapi_path(path, "%s");' % m.name)
            if m.optional:
                out.append('    if (node) {')
                out.append('        %s->has_%s = true;' % (obj, m.c))
                ind = '        '
            else:
                out.append('    if (!node) {')
                out.append('        qapi_error_missing(sub, errp);')
                out.append('        g_free(sub);')
                out.append('        return false;')
                out.append('    }')
                out.append('    {')
                ind = '        '
            out.append('%sif (!%s) {' % (ind, self.parse_value(
                m.typ, 'node', 'sub', '%s->%s' % (obj, m.c))))
            out.append('%s    g_free(sub);' % ind)
            out.append('%s    return false;' % ind)
            out.append('%s}' % ind)
            out.append('    }')
            out.append('    g_free(sub);')
        return out

    def members_free_code(self, members, obj='obj'):
        out = []
        for m in members:
            f = self.free_value(m.typ, '%s->%s' % (obj, m.c))
            if f:
                out.append('    ' + f)
        return out

    def members_to_json_code(self, members, obj='obj'):
        out = []
        for m in members:
            val = '%s->%s' % (obj, m.c)
            line = 'json_object_set_static(o, "%s", %s);' % (
                m.name, self.value_to_json(m.typ, val))
            if m.optional:
                out.append('    if (%s->has_%s) {' % (obj, m.c))
                out.append('        ' + line)
                out.append('    }')
            else:
                out.append('    ' + line)
        return out

    def keys_table(self, name, members, extra=()):
        keys = [m.name for m in members] + list(extra)
        self.c.append('static const char *const %s[] = {' % name)
        for k in keys:
            self.c.append('    "%s",' % k)
        self.c.append('    NULL,')
        self.c.append('};')

    def gen_struct_impl(self, t):
        cn = self.cname(t['name'])
        meta = t['meta']
        if meta == 'alternate':
            return self.gen_alternate_impl(t)
        members = self.s.all_members(t)
        d = {'cn': cn}
        if meta == 'struct':
            self.keys_table(cn + '_keys', members)
            self.c.append('')
            self.c.append('bool %(cn)s_parse_members(const struct json_value *o, '
                          'const char *path, struct %(cn)s *obj, '
                          'Error **errp)' % d)
            self.c.append('{')
            self.c.append('    const struct json_value *node;')
            self.c.append('    char *sub;')
            self.c.append('')
            self.c.extend(self.members_parse_code(members))
            self.c.append('    (void)node;')
            self.c.append('    (void)sub;')
            self.c.append('    return true;')
            self.c.append('}')
            self.c.append('')
            self.c.append('void %(cn)s_free_members(struct %(cn)s *obj)' % d)
            self.c.append('{')
            self.c.extend(self.members_free_code(members) or
                          ['    (void)obj;'])
            self.c.append('}')
            self.c.append('')
            self.c.append('void %(cn)s_members_to_json(const struct %(cn)s '
                          '*obj, struct json_value *o)' % d)
            self.c.append('{')
            self.c.extend(self.members_to_json_code(members) or
                          ['    (void)obj;', '    (void)o;'])
            self.c.append('}')
            self.c.append('''
bool %(cn)s_parse(const struct json_value *node, const char *path,
                  struct %(cn)s **out, Error **errp)
{
    struct %(cn)s *obj;
    const struct json_value *o = qapi_expect_object(node, path, errp);

    if (!o || !qapi_check_keys(o, path, %(cn)s_keys, NULL, errp)) {
        return false;
    }
    obj = g_new0(struct %(cn)s, 1);
    if (!%(cn)s_parse_members(o, path, obj, errp)) {
        %(cn)s_free(obj);
        return false;
    }
    *out = obj;
    return true;
}

void %(cn)s_free(struct %(cn)s *obj)
{
    if (obj) {
        %(cn)s_free_members(obj);
        g_free(obj);
    }
}

struct json_value *%(cn)s_to_json(const struct %(cn)s *obj)
{
    struct json_value *o = json_new_object();

    %(cn)s_members_to_json(obj, o);
    return o;
}
''' % d)
            return
        # union: base members + discriminator-selected branch, flat
        tag = t['tag']
        tcn = self.cname(tag.typ)
        d['tcn'] = tcn
        d['tag'] = tag.c
        self.keys_table(cn + '_keys', members)
        self.c.append('')
        self.c.append('bool %(cn)s_parse(const struct json_value *node, '
                      'const char *path, '
                      'struct %(cn)s **out, Error **errp)' % d)
        self.c.append('{')
        self.c.append('    struct %(cn)s *obj;' % d)
        self.c.append('    const char *const *branch_keys = NULL;')
        self.c.append('    char *sub;')
        self.c.append('    const struct json_value *o = qapi_expect_object(node, '
                      'path, errp);')
        self.c.append('')
        self.c.append('    if (!o) {')
        self.c.append('        return false;')
        self.c.append('    }')
        self.c.append('    obj = g_new0(struct %(cn)s, 1);' % d)
        self.c.append('    *out = obj;')
        self.c.append('    if (!%(cn)s_parse_members_(o, path, obj, errp)) {'
                      % d)
        self.c.append('        goto fail;')
        self.c.append('    }')
        self.c.append('    switch (obj->%(tag)s) {' % d)
        for v, bt in t['variants'].items():
            bcn = self.cname(bt)
            self.c.append('    case %s_%s:' % (tcn.upper(),
                                               c_member(v).upper()))
            self.c.append('        branch_keys = %s_keys;' % bcn)
            self.c.append('        if (!%s_parse_members(o, path, &obj->u.%s,'
                          ' errp)) {' % (bcn, c_member(v)))
            self.c.append('            goto fail;')
            self.c.append('        }')
            self.c.append('        break;')
        self.c.append('    default:')
        self.c.append('        break;')
        self.c.append('    }')
        self.c.append('    if (!qapi_check_keys(o, path, %(cn)s_keys, '
                      'branch_keys, errp)) {' % d)
        self.c.append('        goto fail;')
        self.c.append('    }')
        self.c.append('    (void)sub;')
        self.c.append('    return true;')
        self.c.append('fail:')
        self.c.append('    %(cn)s_free(obj);' % d)
        self.c.append('    *out = NULL;')
        self.c.append('    return false;')
        self.c.append('}')
        self.c.append('')
        # base member parsing as a static helper placed before use
        helper = ['static bool %(cn)s_parse_members_(const struct json_value *o, '
                  'const char *path, struct %(cn)s *obj, Error **errp)' % d,
                  '{', '    const struct json_value *node;', '    char *sub;', '']
        helper += self.members_parse_code(members)
        helper += ['    return true;', '}', '']
        idx = len(self.c) - 1
        while not self.c[idx].startswith('bool %s_parse(' % cn):
            idx -= 1
        self.c[idx:idx] = helper
        self.c.append('void %(cn)s_free(struct %(cn)s *obj)' % d)
        self.c.append('{')
        self.c.append('    if (!obj) {')
        self.c.append('        return;')
        self.c.append('    }')
        self.c.append('    switch (obj->%(tag)s) {' % d)
        for v, bt in t['variants'].items():
            self.c.append('    case %s_%s:' % (tcn.upper(),
                                               c_member(v).upper()))
            self.c.append('        %s_free_members(&obj->u.%s);' %
                          (self.cname(bt), c_member(v)))
            self.c.append('        break;')
        self.c.append('    default:')
        self.c.append('        break;')
        self.c.append('    }')
        self.c.extend(self.members_free_code(members))
        self.c.append('    g_free(obj);')
        self.c.append('}')
        self.c.append('')
        self.c.append('struct json_value *%(cn)s_to_json(const struct %(cn)s *obj)'
                      % d)
        self.c.append('{')
        self.c.append('    struct json_value *o = json_new_object();')
        self.c.append('')
        self.c.extend(self.members_to_json_code(members))
        self.c.append('    switch (obj->%(tag)s) {' % d)
        for v, bt in t['variants'].items():
            self.c.append('    case %s_%s:' % (tcn.upper(),
                                               c_member(v).upper()))
            self.c.append('        %s_members_to_json(&obj->u.%s, o);' %
                          (self.cname(bt), c_member(v)))
            self.c.append('        break;')
        self.c.append('    default:')
        self.c.append('        break;')
        self.c.append('    }')
        self.c.append('    return o;')
        self.c.append('}')
        self.c.append('')

    def gen_alternate_impl(self, t):
        cn = self.cname(t['name'])
        d = {'cn': cn}
        self.c.append('bool %(cn)s_parse(const struct json_value *node, '
                      'const char *path, '
                      'struct %(cn)s **out, Error **errp)' % d)
        self.c.append('{')
        self.c.append('    struct %(cn)s *obj = g_new0(struct %(cn)s, 1);'
                      % d)
        self.c.append('    enum qapi_alt_kind k = qapi_node_kind(node);')
        self.c.append('')
        for v, bt in t['variants'].items():
            kind = self.alt_kind(bt)
            self.c.append('    if (k == %s) {' % kind)
            self.c.append('        obj->kind = k;')
            self.c.append('        if (!%s) {' % self.parse_value(
                bt, 'node', 'path', 'obj->u.%s' % c_member(v)))
            self.c.append('            g_free(obj);')
            self.c.append('            return false;')
            self.c.append('        }')
            self.c.append('        *out = obj;')
            self.c.append('        return true;')
            self.c.append('    }')
        self.c.append('    g_free(obj);')
        self.c.append('    qapi_error_type(path, "%s", errp);' % t['name'])
        self.c.append('    return false;')
        self.c.append('}')
        self.c.append('')
        self.c.append('void %(cn)s_free(struct %(cn)s *obj)' % d)
        self.c.append('{')
        self.c.append('    if (!obj) {')
        self.c.append('        return;')
        self.c.append('    }')
        for v, bt in t['variants'].items():
            f = self.free_value(bt, 'obj->u.%s' % c_member(v))
            if f:
                self.c.append('    if (obj->kind == %s) {' %
                              self.alt_kind(bt))
                self.c.append('        ' + f)
                self.c.append('    }')
        self.c.append('    g_free(obj);')
        self.c.append('}')
        self.c.append('')
        self.c.append('struct json_value *%(cn)s_to_json(const struct %(cn)s *obj)'
                      % d)
        self.c.append('{')
        for v, bt in t['variants'].items():
            self.c.append('    if (obj->kind == %s) {' % self.alt_kind(bt))
            self.c.append('        return %s;' % self.value_to_json(
                bt, 'obj->u.%s' % c_member(v)))
            self.c.append('    }')
        self.c.append('    return qapi_null_node();')
        self.c.append('}')
        self.c.append('')

    def alt_kind(self, typ):
        if isinstance(typ, list):
            return 'QAPI_ALT_ARRAY'
        if typ in BUILTINS:
            j = BUILTINS[typ][1]
            return {'string': 'QAPI_ALT_STRING', 'int': 'QAPI_ALT_INT',
                    'number': 'QAPI_ALT_NUMBER', 'boolean': 'QAPI_ALT_BOOL',
                    'null': 'QAPI_ALT_NULL'}[j]
        if self.meta(typ) == 'enum':
            return 'QAPI_ALT_STRING'
        return 'QAPI_ALT_OBJECT'

    def gen_list(self, elem):
        lt = [elem]
        name = camel_to_snake(elem)
        d = {'p': self.p, 'n': name}
        ptr = self.is_ptr(elem)
        atype = 'GPtrArray' if ptr else 'GArray'
        d['at'] = atype
        elem_c = self.ctype(elem).strip()
        self.h.append('bool %(p)slist_%(n)s_parse(const struct json_value *node, '
                      'const char *path, %(at)s **out, Error **errp);' % d)
        self.h.append('void %(p)slist_%(n)s_free(%(at)s *list);' % d)
        self.h.append('struct json_value *%(p)slist_%(n)s_to_json(const %(at)s '
                      '*list);' % d)
        self.c.append('bool %(p)slist_%(n)s_parse(const struct json_value *node, '
                      'const char *path, %(at)s **out, Error **errp)' % d)
        self.c.append('{')
        self.c.append('    const struct json_value *a = qapi_expect_array(node, path, '
                      'errp);')
        self.c.append('    %(at)s *list;' % d)
        self.c.append('    size_t i;')
        self.c.append('')
        self.c.append('    if (!a) {')
        self.c.append('        return false;')
        self.c.append('    }')
        if ptr:
            self.c.append('    list = g_ptr_array_new();')
        else:
            self.c.append('    list = g_array_new(FALSE, TRUE, sizeof(%s));'
                          % elem_c)
        self.c.append('    for (i = 0; i < json_array_len(a); i++) {')
        self.c.append('        char *sub = qapi_path_index(path, (unsigned)i);')
        self.c.append('        %s;' % self.decl(elem, 'v') +
                      ('' if True else ''))
        self.c.append('        bool ok;')
        self.c.append('')
        self.c.append('        memset(&v, 0, sizeof(v));')
        self.c.append('        ok = %s;' % self.parse_value(
            elem, 'json_array_get(a, i)', 'sub', 'v'))
        self.c.append('        g_free(sub);')
        self.c.append('        if (!ok) {')
        self.c.append('            %(p)slist_%(n)s_free(list);' % d)
        self.c.append('            return false;')
        self.c.append('        }')
        if ptr:
            self.c.append('        g_ptr_array_add(list, (void *)v);')
        else:
            self.c.append('        g_array_append_val(list, v);')
        self.c.append('    }')
        self.c.append('    *out = list;')
        self.c.append('    return true;')
        self.c.append('}')
        self.c.append('')
        self.c.append('void %(p)slist_%(n)s_free(%(at)s *list)' % d)
        self.c.append('{')
        self.c.append('    if (!list) {')
        self.c.append('        return;')
        self.c.append('    }')
        if ptr:
            f = self.free_fn(elem)
            self.c.append('    for (guint i = 0; i < list->len; i++) {')
            self.c.append('        %s(g_ptr_array_index(list, i));' % f)
            self.c.append('    }')
            self.c.append('    g_ptr_array_free(list, TRUE);')
        else:
            self.c.append('    g_array_free(list, TRUE);')
        self.c.append('}')
        self.c.append('')
        self.c.append('struct json_value *%(p)slist_%(n)s_to_json(const %(at)s *list)'
                      % d)
        self.c.append('{')
        self.c.append('    struct json_value *a = json_new_array();')
        self.c.append('')
        self.c.append('    for (guint i = 0; list && i < list->len; i++) {')
        if ptr:
            val = '(%s)g_ptr_array_index(list, i)' % elem_c
        else:
            val = 'g_array_index(list, %s, i)' % elem_c
        self.c.append('        json_array_append(a, %s);' %
                      self.value_to_json(elem, val))
        self.c.append('    }')
        self.c.append('    return a;')
        self.c.append('}')
        self.c.append('')
        del lt

    # --- commands

    def arg_struct_name(self, c):
        return 'q_obj_%s_arg' % c_member(c['name'])

    def handler_params(self, c):
        params = ['struct machine *m']
        if c.get('boxed') and c['arg_type']:
            params.append('struct %s *arg' % self.cname(c['arg_type']))
        else:
            for m in c['arg_members']:
                if m.optional:
                    params.append('bool has_%s' % m.c)
                params.append(self.decl(m.typ, m.c))
        return params

    def ret_ctype(self, c):
        r = c.get('returns')
        if r is None:
            return 'void'
        return self.ctype(r).strip()

    def gen_command_decl(self, c):
        if c.get('gen') is False:
            self.h.append('struct json_value *%smarshal_%s(struct machine *m, '
                          'const struct json_value *args, Error **errp);' %
                          (self.hp, c_member(c['name'])))
            return
        params = self.handler_params(c) + ['Error **errp']
        rt = self.ret_ctype(c)
        self.h.append('%s%s%s%s(%s);' % (
            rt, '' if rt.endswith('*') else ' ', self.hp,
            c_member(c['name']), ', '.join(params)))

    def gen_arg_struct(self, c):
        """Implicit struct for inline command/event data."""
        if c['arg_type'] or not c['arg_members']:
            return None
        name = self.arg_struct_name(c)
        t = {'meta': 'struct', 'name': name, 'members': c['arg_members']}
        self.s.types[name] = t
        return t

    def gen_marshaller(self, c):
        if c.get('gen') is False:
            return
        cm = c_member(c['name'])
        self.c.append('static struct json_value *marshal_%s(struct machine *m, '
                      'const struct json_value *args, Error **errp)' % cm)
        self.c.append('{')
        self.c.append('    Error *err = NULL;')
        self.c.append('    struct json_value *ret_node = NULL;')
        atype = c['arg_type'] or (self.arg_struct_name(c)
                                  if c['arg_members'] else None)
        r = c.get('returns')
        if r is not None:
            self.c.append('    %s;' % self.decl(r, 'ret'))
        if atype:
            acn = self.cname(atype)
            self.c.append('    struct %s *arg = NULL;' % acn)
            self.c.append('')
            self.c.append('    if (!%s_parse(args, NULL, &arg, errp)) {' %
                          acn)
            self.c.append('        return NULL;')
            self.c.append('    }')
        else:
            self.c.append('')
            self.c.append('    if (!qapi_check_keys(args, NULL, NULL, NULL, '
                          'errp)) {')
            self.c.append('        return NULL;')
            self.c.append('    }')
        call_args = ['m']
        if atype:
            if c.get('boxed'):
                call_args.append('arg')
            else:
                for mm in c['arg_members']:
                    if mm.optional:
                        call_args.append('arg->has_%s' % mm.c)
                    call_args.append('arg->%s' % mm.c)
        call_args.append('&err')
        call = '%s%s(%s)' % (self.hp, cm, ', '.join(call_args))
        if r is not None:
            self.c.append('    ret = %s;' % call)
        else:
            self.c.append('    %s;' % call)
        self.c.append('    if (err) {')
        self.c.append('        error_propagate(errp, err);')
        if r is not None:
            f = self.free_value(r, 'ret')
            if f:
                self.c.append('        ' + f)
        self.c.append('    } else {')
        if r is None:
            self.c.append('        ret_node = json_new_object();')
        else:
            self.c.append('        ret_node = %s;' %
                          self.value_to_json(r, 'ret'))
            f = self.free_value(r, 'ret')
            if f:
                self.c.append('        ' + f)
        self.c.append('    }')
        if atype:
            self.c.append('    %s_free(arg);' % acn)
        self.c.append('    return ret_node;')
        self.c.append('}')
        self.c.append('')

    def gen_command_table(self):
        self.h.append('extern const struct qmp_command_def %scommands[];' %
                      self.p)
        self.h.append('extern const size_t %snr_commands;' % self.p)
        self.h.append('extern const char *const %sevent_names[];' % self.p)
        self.h.append('extern const char %sschema_json[];' % self.p)
        self.c.append('const struct qmp_command_def %scommands[] = {' %
                      self.p)
        for c in self.s.commands:
            cm = c_member(c['name'])
            fn = ('%smarshal_%s' % (self.hp, cm)) if c.get('gen') is False \
                else 'marshal_%s' % cm
            flags = []
            if c.get('allow-oob'):
                flags.append('QMP_CMD_ALLOW_OOB')
            if c.get('allow-preconfig'):
                flags.append('QMP_CMD_ALLOW_PRECONFIG')
            if c.get('success-response') is False:
                flags.append('QMP_CMD_NO_SUCCESS_RESPONSE')
            self.c.append('    {"%s", %s, %s},' % (
                c['name'], fn, ' | '.join(flags) or '0'))
        self.c.append('};')
        self.c.append('const size_t %snr_commands = %d;' %
                      (self.p, len(self.s.commands)))
        self.c.append('const char *const %sevent_names[] = {' % self.p)
        for e in self.s.events:
            self.c.append('    "%s",' % e['name'])
        self.c.append('    NULL,')
        self.c.append('};')
        self.c.append('')

    def gen_event(self, e):
        cm = c_member(e['name']).lower()
        params = ['struct machine *m']
        atype = e['arg_type'] or (self.arg_struct_name(e)
                                  if e['arg_members'] else None)
        if e.get('boxed') and e['arg_type']:
            params.append('const struct %s *arg' % self.cname(e['arg_type']))
        else:
            for m in e['arg_members']:
                if m.optional:
                    params.append('bool has_%s' % m.c)
                params.append(self.decl(m.typ, m.c))
        sig = 'void %sevent_send_%s(%s)' % (self.p, cm, ', '.join(params))
        self.h.append(sig + ';')
        self.c.append(sig)
        self.c.append('{')
        if not atype:
            self.c.append('    %s(m, "%s", NULL);' % (self.sink, e['name']))
        else:
            acn = self.cname(atype)
            if e.get('boxed'):
                self.c.append('    struct json_value *node = %s_to_json(arg);' % acn)
            else:
                self.c.append('    struct %s arg = {' % acn)
                for m in e['arg_members']:
                    if m.optional:
                        self.c.append('        .has_%s = has_%s,' %
                                      (m.c, m.c))
                    self.c.append('        .%s = %s,' % (m.c, m.c))
                self.c.append('    };')
                self.c.append('    struct json_value *node = %s_to_json(&arg);' % acn)
            self.c.append('    char *text = json_to_string(node);')
            self.c.append('')
            self.c.append('    %s(m, "%s", text);' % (self.sink, e['name']))
            self.c.append('    g_free(text);')
            self.c.append('    json_free(node);')
        self.c.append('}')
        self.c.append('')

    # --- introspection

    def introspection(self):
        names = {}
        out = []
        queue = []

        arrays = set()

        def tname(t):
            if isinstance(t, list):
                en = tname(t[0])
                an = '[%s]' % en
                if an not in arrays:
                    arrays.add(an)
                    queue.append(('array', an, en))
                return an
            if t in BUILTINS:
                key = 'int' if BUILTINS[t][1] == 'int' else t
                if key not in names:
                    names[key] = key
                    queue.append(key)
                return key
            if t not in names:
                names[t] = str(len([n for n in names.values()
                                    if n.isdigit()]))
                queue.append(t)
            return names[t]

        def implicit(members, key):
            names[key] = str(len([n for n in names.values()
                                  if n.isdigit()]))
            queue.append(('object', key, members))
            return names[key]

        names['q_empty'] = '0'
        queue.append(('object', 'q_empty', []))
        for ent in self.s.entities:
            if ent['meta'] not in ('command', 'event'):
                continue
            e = {'name': ent['name'], 'meta-type': ent['meta']}
            if ent['arg_type']:
                e['arg-type'] = tname(ent['arg_type'])
            elif ent['arg_members']:
                e['arg-type'] = implicit(ent['arg_members'], ent['name'])
            else:
                e['arg-type'] = '0'
            if ent['meta'] == 'command':
                r = ent.get('returns')
                if r is None:
                    e['ret-type'] = '0'
                else:
                    e['ret-type'] = tname(r)
                if ent.get('allow-oob'):
                    e['allow-oob'] = True
            if ent.get('features'):
                e['features'] = list(ent['features'])
            out.append(e)

        def member_info(m):
            d = {'name': m.name, 'type': tname(m.typ)}
            if m.optional:
                d['default'] = None
            return d

        done = set()
        i = 0
        while i < len(queue):
            item = queue[i]
            i += 1
            if isinstance(item, tuple) and item[0] == 'array':
                out.append({'name': item[1], 'meta-type': 'array',
                            'element-type': item[2]})
                continue
            if isinstance(item, tuple):
                _, key, members = item
                out.append({'name': names[key], 'meta-type': 'object',
                            'members': [member_info(m) for m in members]})
                continue
            if item in done:
                continue
            done.add(item)
            if item in BUILTINS:
                out.append({'name': item, 'meta-type': 'builtin',
                            'json-type': BUILTINS[item][1]})
                continue
            t = self.s.types[item]
            e = {'name': names[item]}
            if t['meta'] == 'enum':
                e['meta-type'] = 'enum'
                e['values'] = list(t['values'])
                e['members'] = [{'name': v} for v in t['values']]
            elif t['meta'] in ('struct', 'union'):
                e['meta-type'] = 'object'
                e['members'] = [member_info(m)
                                for m in self.s.all_members(t)]
                if t['meta'] == 'union':
                    e['tag'] = t['discriminator']
                    e['variants'] = [{'case': v, 'type': tname(bt)}
                                     for v, bt in t['variants'].items()]
            else:
                e['meta-type'] = 'alternate'
                e['members'] = [{'type': tname(bt)}
                                for bt in t['variants'].values()]
            out.append(e)
        return out

    # --- driver

    def generate(self):
        import json
        guard = re.sub(r'[^A-Z0-9]', '_', self.stem.upper()) + '_TYPES_H'
        self.h += ['/* Generated by scripts/qapi-gen.py: do not edit. */',
                   '#ifndef ' + guard, '#define ' + guard, '',
                   '#include "util/common.h"',
                   '#include "util/error.h"',
                   '#include "qapi/qapi-runtime.h"', '',
                   'struct machine;', '']
        self.c += ['/* Generated by scripts/qapi-gen.py: do not edit. */',
                   '#include "util/common.h"',
                   '#include "%s-types.h"' % self.stem, '']
        for c in self.s.commands + self.s.events:
            self.gen_arg_struct(c)
        types = list(self.s.types.values())
        for t in types:
            if t['meta'] == 'enum':
                self.gen_enum(t)
        # struct declarations: forward-declare, then define in an order
        # where by-value union branches come first
        for t in types:
            if t['meta'] != 'enum':
                self.h.append('struct %s;' % self.cname(t['name']))
        self.h.append('')
        ordered = []

        def visit(t):
            if t in ordered:
                return
            for bt in t.get('variants', {}).values():
                if t['meta'] == 'union':
                    visit(self.s.types[bt])
            ordered.append(t)
        for t in types:
            if t['meta'] != 'enum':
                visit(t)
        for t in ordered:
            self.gen_struct_decl(t)
        for t in ordered:
            self.gen_struct_fns_decl(t)
        for t in ordered:
            self.gen_struct_impl(t)
        for c in self.s.commands:
            if c.get('returns') is not None:
                self.ctype(c['returns'])
        for elem in sorted(self.lists):
            self.gen_list(elem)
        self.h.append('/* Hand-written command handlers. */')
        for c in self.s.commands:
            self.gen_command_decl(c)
        self.h.append('')
        for c in self.s.commands:
            self.gen_marshaller(c)
        self.h.append('/* Event emitters: data goes to %s(). */' %
                      self.sink)
        self.h.append('void %s(struct machine *m, const char *name, '
                      'const char *data_json);' % self.sink)
        for e in self.s.events:
            self.gen_event(e)
        self.gen_command_table()
        intro = json.dumps(self.introspection(), separators=(',', ':'))
        self.c.append('const char %sschema_json[] =' % self.p)
        for i in range(0, len(intro), 70):
            chunk = intro[i:i + 70].replace('\\', '\\\\').replace('"', '\\"')
            self.c.append('    "%s"' % chunk)
        self.c.append('    ;')
        self.h += ['', '#endif']
        # list helper declarations were emitted after their users: move the
        # struct/list prototypes up by emitting a second header pass
        return '\n'.join(self.h) + '\n', '\n'.join(self.c) + '\n'


# ---------------------------------------------------------------- docs

def gen_doc(schema, intro=None):
    out = ['# QMP reference', '',
           'Generated from `qapi/schema/*.json` by `scripts/qapi-gen.py`; '
           'do not edit.', '']
    if intro:
        out += [intro.rstrip(), '']

    def tref(t):
        if isinstance(t, list):
            return '[%s]' % tref(t[0])
        return '`%s`' % t if t in BUILTINS else '[%s](#%s)' % (
            t, t.lower())

    def members_table(members):
        if not members:
            return ['(no members)', '']
        lines = ['| member | type | optional |', '|---|---|---|']
        for m in members:
            lines.append('| `%s` | %s | %s |' % (m.name, tref(m.typ),
                                                'yes' if m.optional
                                                else ''))
        return lines + ['']

    def doc_text(ent):
        lines = []
        for ln in ent.get('doc', []):
            ln = ln.rstrip()
            if ln.startswith('@%s:' % ent['name']):
                continue
            m = re.match(r'@([\w-]+):\s*(.*)', ln)
            if m:
                ln = '- `%s`: %s' % (m.group(1), m.group(2))
            elif lines and lines[-1].startswith('- ') and ln.startswith(' '):
                lines[-1] += ' ' + ln.strip()
                continue
            lines.append(ln)
        while lines and not lines[0]:
            lines.pop(0)
        while lines and not lines[-1]:
            lines.pop()
        return lines + [''] if lines else []

    def entry(e, label):
        # heading, doc text and the arguments (or event data) of e
        res = ['### %s' % e['name'], ''] + doc_text(e)
        if e['arg_type']:
            res += ['%s: %s' % (label, tref(e['arg_type'])), '']
        else:
            res += ['%s:' % label, ''] + members_table(e['arg_members'])
        return res

    out += ['## Commands', '']
    for c in schema.commands:
        out += entry(c, 'Arguments')
        r = c.get('returns')
        out.append('Returns: %s' % (tref(r) if r is not None else '`{}`'))
        flags = [f for f in ('allow-oob', 'allow-preconfig') if c.get(f)]
        if flags:
            out.append('')
            out.append('Flags: %s' % ', '.join(flags))
        out.append('')
    out += ['## Events', '']
    for e in schema.events:
        out += entry(e, 'Data')
    out += ['## Types', '']
    for t in schema.types.values():
        if t['name'].startswith('q_obj_'):
            continue
        out.append('### %s' % t['name'])
        out.append('')
        out += doc_text(t)
        if t['meta'] == 'enum':
            out.append('Enum: ' + ', '.join('`%s`' % v for v in t['values']))
            out.append('')
        elif t['meta'] == 'struct':
            if 'base' in t:
                out.append('Base: %s' % tref(t['base']))
                out.append('')
            out += members_table(t['members'])
        elif t['meta'] == 'union':
            out.append('Union on `%s`:' % t['discriminator'])
            out.append('')
            out += members_table(t['members'])
            for v, bt in t['variants'].items():
                out.append('- `%s`: %s' % (v, tref(bt)))
            out.append('')
        else:
            out.append('Alternate of: ' + ', '.join(
                tref(bt) for bt in t['variants'].values()))
            out.append('')
    return '\n'.join(out).rstrip() + '\n'


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('schema')
    ap.add_argument('-o', '--output-dir', default='.')
    ap.add_argument('--stem', default='qapi-gen')
    ap.add_argument('--prefix', default='qapi_')
    ap.add_argument('--handler-prefix', default='qmp_')
    ap.add_argument('--event-sink', default='machine_emit_event')
    ap.add_argument('--doc')
    ap.add_argument('--doc-intro', help='Markdown put before the reference')
    args = ap.parse_args()
    s = Schema()
    try:
        s.load(args.schema)
        s.check()
        intro = None
        if args.doc_intro:
            with open(args.doc_intro, encoding='utf-8') as f:
                intro = f.read()
        doc = gen_doc(s, intro) if args.doc else None
        g = Gen(s, args.prefix, args.handler_prefix, args.event_sink,
                args.stem)
        h, c = g.generate()
    except SchemaError as e:
        print('qapi-gen: %s' % e, file=sys.stderr)
        return 1
    # the list prototypes are needed before use: hoist them after the enum
    # and struct declarations (they were appended when first seen)
    os.makedirs(args.output_dir, exist_ok=True)
    with open(os.path.join(args.output_dir, args.stem + '-types.h'),
              'w') as f:
        f.write(h)
    with open(os.path.join(args.output_dir, args.stem + '.c'), 'w') as f:
        f.write(c)
    if doc is not None:
        with open(args.doc, 'w') as f:
            f.write(doc)
    return 0


if __name__ == '__main__':
    sys.exit(main())
