/* SPDX-License-Identifier: MIT */
/*
 * json-parse.h: a strict JSON (RFC 8259) parser that builds json_value
 * trees (json-value.h) directly.  It is strict where QMP needs it to be:
 * duplicate keys, trailing data, invalid UTF-8, NUL and excessive nesting
 * are refused with a reason, never silently resolved.
 */
#ifndef QAPI_JSON_PARSE_H
#define QAPI_JSON_PARSE_H

#include "util/common.h"
#include "qapi/json-value.h"

/* Nesting deeper than this is refused (the QMP splitter allows 1024). */
#define JSON_PARSE_MAX_DEPTH 1100

/*
 * Parses exactly one JSON value from text[0..len) (whitespace around it is
 * allowed, anything else is not).  Returns a new node, or NULL with *err
 * set to a message such as "expecting value" or "duplicate key".
 * Integers that fit int64 become JSON_INT, larger ones that fit uint64
 * JSON_UINT, other numbers JSON_DOUBLE.
 */
struct json_value *json_parse(const char *text, size_t len, char **err);

#endif
