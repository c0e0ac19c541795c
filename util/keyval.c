/* SPDX-License-Identifier: MIT */
/*
 * keyval.c: parser for QEMU's "a=b,c=d" option syntax; see keyval.h.
 */
#include "util/common.h"
#include "util/keyval.h"

struct kv_pair {
    char *key;
    char *val;
    bool used;
};

struct keyval {
    GArray *pairs; /* struct kv_pair */
};

/* Reads up to an unescaped stop char; ",," yields ",". */
static char *take_token(const char **p, const char *stops)
{
    GString *s = g_string_new(NULL);

    while (**p) {
        if (**p == ',' && (*p)[1] == ',') {
            g_string_append_c(s, ',');
            *p += 2;
            continue;
        }
        if (strchr(stops, **p)) {
            break;
        }
        g_string_append_c(s, **p);
        (*p)++;
    }
    return g_string_free(s, FALSE);
}

struct keyval *keyval_parse(const char *str, const char *implied_key,
                            Error **errp)
{
    struct keyval *kv = g_new0(struct keyval, 1);
    const char *p = str;
    bool first = true;

    kv->pairs = g_array_new(FALSE, TRUE, sizeof(struct kv_pair));
    while (true) {
        const char *start = p;
        char *key = take_token(&p, "=,");
        struct kv_pair pair = {0};

        if (*p == '=') {
            p++;
            pair.key = key;
            pair.val = take_token(&p, ",");
        } else if (first && implied_key) {
            pair.key = g_strdup(implied_key);
            pair.val = key;
        } else if (*key == '\0' && *start == '\0' && !first) {
            g_free(key);
            error_setg(errp, "trailing ',' in '%s'", str);
            goto fail;
        } else {
            error_setg(errp, "expected 'key=value' but found '%s' in '%s'", key,
                       str);
            g_free(key);
            goto fail;
        }
        if (*pair.key == '\0') {
            error_setg(errp, "empty parameter name in '%s'", str);
            g_free(pair.key);
            g_free(pair.val);
            goto fail;
        }
        if (keyval_has(kv, pair.key)) {
            error_setg(errp, "parameter '%s' given twice in '%s'", pair.key,
                       str);
            g_free(pair.key);
            g_free(pair.val);
            goto fail;
        }
        g_array_append_val(kv->pairs, pair);
        first = false;
        if (*p == '\0') {
            break;
        }
        p++; /* the ',' */
        if (*p == '\0') {
            error_setg(errp, "trailing ',' in '%s'", str);
            goto fail;
        }
    }
    return kv;
fail:
    keyval_free(kv);
    return NULL;
}

void keyval_free(struct keyval *kv)
{
    if (!kv) {
        return;
    }
    for (guint i = 0; i < kv->pairs->len; i++) {
        struct kv_pair *pr = &g_array_index(kv->pairs, struct kv_pair, i);
        g_free(pr->key);
        g_free(pr->val);
    }
    g_array_free(kv->pairs, TRUE);
    g_free(kv);
}

static struct kv_pair *find(const struct keyval *kv, const char *key)
{
    for (guint i = 0; i < kv->pairs->len; i++) {
        struct kv_pair *pr = &g_array_index(kv->pairs, struct kv_pair, i);
        if (!strcmp(pr->key, key)) {
            return pr;
        }
    }
    return NULL;
}

bool keyval_has(const struct keyval *kv, const char *key)
{
    return find(kv, key) != NULL;
}

const char *keyval_get(struct keyval *kv, const char *key)
{
    struct kv_pair *pr = find(kv, key);

    if (!pr) {
        return NULL;
    }
    pr->used = true;
    return pr->val;
}

bool keyval_get_bool(struct keyval *kv, const char *key, bool def, bool *out,
                     Error **errp)
{
    const char *v = keyval_get(kv, key);

    if (!v) {
        *out = def;
        return true;
    }
    if (!parse_bool(v, out)) {
        error_setg(errp, "parameter '%s' expects 'on' or 'off', not '%s'", key,
                   v);
        return false;
    }
    return true;
}

bool keyval_get_u64(struct keyval *kv, const char *key, uint64_t def,
                    uint64_t *out, Error **errp)
{
    const char *v = keyval_get(kv, key);

    if (!v) {
        *out = def;
        return true;
    }
    if (!parse_u64(v, out)) {
        error_setg(errp, "parameter '%s' expects a number, not '%s'", key, v);
        return false;
    }
    return true;
}

bool keyval_get_size(struct keyval *kv, const char *key, uint64_t def,
                     uint64_t *out, Error **errp)
{
    const char *v = keyval_get(kv, key);

    if (!v) {
        *out = def;
        return true;
    }
    if (!parse_size(v, 1, out)) {
        error_setg(errp, "parameter '%s' expects a size, not '%s'", key, v);
        return false;
    }
    return true;
}

bool keyval_check_all_used(const struct keyval *kv, const char *what,
                           Error **errp)
{
    for (guint i = 0; i < kv->pairs->len; i++) {
        struct kv_pair *pr = &g_array_index(kv->pairs, struct kv_pair, i);
        if (!pr->used) {
            error_setg(errp, "%s: invalid parameter '%s'", what, pr->key);
            return false;
        }
    }
    return true;
}

size_t keyval_count(const struct keyval *kv)
{
    return kv->pairs->len;
}

const char *keyval_key_at(const struct keyval *kv, size_t i)
{
    return g_array_index(kv->pairs, struct kv_pair, i).key;
}

const char *keyval_value_at(struct keyval *kv, size_t i)
{
    struct kv_pair *pr = &g_array_index(kv->pairs, struct kv_pair, i);

    pr->used = true;
    return pr->val;
}

bool parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"on", "yes", "true", "y"};
    static const char *const no[] = {"off", "no", "false", "n"};

    for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
        if (!strcmp(s, yes[i])) {
            *out = true;
            return true;
        }
        if (!strcmp(s, no[i])) {
            *out = false;
            return true;
        }
    }
    return false;
}

bool parse_u64(const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v;

    if (!*s || *s == '-' || g_ascii_isspace(*s)) {
        return false;
    }
    errno = 0;
    v = strtoull(s, &end, 0);
    if (errno || *end) {
        return false;
    }
    *out = v;
    return true;
}

bool parse_size(const char *s, uint64_t default_unit, uint64_t *out)
{
    char *end;
    double d;
    uint64_t unit = default_unit, v;
    unsigned long long iv;

    if (!*s || *s == '-' || g_ascii_isspace(*s)) {
        return false;
    }
    errno = 0;
    iv = strtoull(s, &end, 0);
    if (errno) {
        return false;
    }
    if (*end == '.') {
        /* fractional sizes such as 1.5G */
        d = g_ascii_strtod(s, &end);
        if (d < 0) {
            return false;
        }
    } else {
        d = -1;
    }
    switch (g_ascii_tolower(*end)) {
    case '\0':
        break;
    case 'b':
        unit = 1;
        end++;
        break;
    case 'k':
        unit = KiB;
        end++;
        break;
    case 'm':
        unit = MiB;
        end++;
        break;
    case 'g':
        unit = GiB;
        end++;
        break;
    case 't':
        unit = 1024 * GiB;
        end++;
        break;
    default:
        return false;
    }
    if (*end) {
        return false;
    }
    if (d >= 0) {
        if (d * (double)unit >= 18446744073709551615.0) {
            return false;
        }
        v = (uint64_t)(d * (double)unit);
    } else {
        if (iv && unit > UINT64_MAX / iv) {
            return false;
        }
        v = iv * unit;
    }
    *out = v;
    return true;
}
