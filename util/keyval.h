/* SPDX-License-Identifier: MIT */
/*
 * keyval.h: QEMU-style option strings "value,key=val,key2=val2".  A leading
 * bare word is stored under the caller's implied key (e.g. the chardev
 * backend or the -device driver).  ",," escapes a comma inside a value.
 * Every key is marked when read so that a consumer can refuse the keys it
 * did not understand (house rule: nothing accepted and then ignored).
 */
#ifndef UTIL_KEYVAL_H
#define UTIL_KEYVAL_H

#include "util/common.h"
#include "util/error.h"

struct keyval;

/* implied_key may be NULL: then a bare word is an error (or "key" -> "on"
 * when allow_bool_shorthand is set, as QEMU's -machine accel style
 * "usb" is not: we keep it strict). */
struct keyval *keyval_parse(const char *str, const char *implied_key,
                            Error **errp);
void keyval_free(struct keyval *kv);
/* Returns the value or NULL; marks the key used. */
const char *keyval_get(struct keyval *kv, const char *key);
bool keyval_has(const struct keyval *kv, const char *key);
/* Typed getters: return false with an error naming key and value. On absence
 * they store the default and return true. */
bool keyval_get_bool(struct keyval *kv, const char *key, bool def, bool *out,
                     Error **errp);
bool keyval_get_u64(struct keyval *kv, const char *key, uint64_t def,
                    uint64_t *out, Error **errp);
bool keyval_get_size(struct keyval *kv, const char *key, uint64_t def,
                     uint64_t *out, Error **errp);
/* Fails naming the first key nobody read: "what: invalid parameter 'k'". */
bool keyval_check_all_used(const struct keyval *kv, const char *what,
                           Error **errp);
/* Iteration in order of appearance. */
size_t keyval_count(const struct keyval *kv);
const char *keyval_key_at(const struct keyval *kv, size_t i);
const char *keyval_value_at(struct keyval *kv, size_t i);

/* Parsers shared by the CLI, props and QMP. */
bool parse_bool(const char *s, bool *out);    /* on/off/yes/no/true/false */
bool parse_u64(const char *s, uint64_t *out); /* dec, 0x hex, 0 octal */
/* Size with optional K/M/G/T suffix; default_unit applies to a bare number
 * (1 for bytes, MiB for -m). */
bool parse_size(const char *s, uint64_t default_unit, uint64_t *out);

#endif
