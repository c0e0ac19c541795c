/* SPDX-License-Identifier: MIT */
/*
 * json-parse.h: a strict JSON (RFC 8259) parser that builds json-glib
 * JsonNode trees directly.  It replaces JsonParser on the QMP hot path:
 * JsonParser drives a GScanner and emits a GObject signal per element,
 * which cost more than the rest of a QMP round trip, and it silently keeps
 * the last of duplicate keys, which QMP must refuse.
 */
#ifndef QAPI_JSON_PARSE_H
#define QAPI_JSON_PARSE_H

#include "util/common.h"
#include <json-glib/json-glib.h>

/* Nesting deeper than this is refused (the QMP splitter allows 1024). */
#define JSON_PARSE_MAX_DEPTH 1100

/*
 * Parses exactly one JSON value from text[0..len) (whitespace around it is
 * allowed, anything else is not).  Returns a new node, or NULL with *err
 * set to a message such as "expecting value" or "duplicate key".
 * Integers that fit int64 become int nodes, other numbers doubles.
 */
JsonNode *json_parse(const char *text, size_t len, char **err);

#endif
