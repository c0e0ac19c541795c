/* SPDX-License-Identifier: MIT */
/*
 * json-parse.c: recursive-descent JSON parser into json_value trees; see
 * json-parse.h.  Input is untrusted: every read is bounds-checked, depth
 * is limited, strings must be valid UTF-8 (U+0000 is stored as QEMU stores
 * it, see JSON_MODIFIED_NUL), and errors name
 * what was expected.
 */
#include "util/common.h"
#include "qapi/json-parse.h"

#include <math.h>

struct jp {
    const char *p, *end;
    unsigned depth;
    char *err;
};

static void fail(struct jp *j, const char *fmt, ...) PRINTF_FMT(2, 3);

static void fail(struct jp *j, const char *fmt, ...)
{
    va_list ap;

    if (j->err) {
        return;
    }
    va_start(ap, fmt);
    j->err = g_strdup_vprintf(fmt, ap);
    va_end(ap);
}

static void skip_ws(struct jp *j)
{
    while (j->p < j->end &&
           (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r')) {
        j->p++;
    }
}

static int hex4(struct jp *j)
{
    int v = 0;

    if (j->end - j->p < 4) {
        return -1;
    }
    for (int i = 0; i < 4; i++) {
        int c = j->p[i], d;
        if (c >= '0' && c <= '9') {
            d = c - '0';
        } else if (c >= 'a' && c <= 'f') {
            d = c - 'a' + 10;
        } else if (c >= 'A' && c <= 'F') {
            d = c - 'A' + 10;
        } else {
            return -1;
        }
        v = v * 16 + d;
    }
    j->p += 4;
    return v;
}

/* At the opening quote; returns the decoded string (a JSON_STRING) or
 * NULL.  Most strings have no escape: those are one allocation. */
static struct json_value *parse_string(struct jp *j)
{
    GString *s;
    const char *run;
    struct json_value *v;

    j->p++; /* the quote */
    run = j->p;
    while (j->p < j->end && *j->p != '"' && *j->p != '\\' &&
           (unsigned char)*j->p >= 0x20) {
        j->p++;
    }
    if (j->p < j->end && *j->p == '"') {
        if (!json_utf8_valid(run, (size_t)(j->p - run))) {
            fail(j, "invalid UTF-8 sequence in string");
            return NULL;
        }
        v = json_new_string_len(run, (size_t)(j->p - run));
        j->p++;
        return v;
    }
    s = g_string_new_len(run, j->p - run);
    for (;;) {
        run = j->p;
        while (j->p < j->end && *j->p != '"' && *j->p != '\\' &&
               (unsigned char)*j->p >= 0x20) {
            j->p++;
        }
        g_string_append_len(s, run, j->p - run);
        if (j->p >= j->end) {
            fail(j, "unterminated string");
            goto bad;
        }
        if (*j->p == '"') {
            j->p++;
            break;
        }
        if (*j->p != '\\') {
            fail(j, "control character in string");
            goto bad;
        }
        j->p++;
        if (j->p >= j->end) {
            fail(j, "unterminated string");
            goto bad;
        }
        switch (*j->p++) {
        case '"':
            g_string_append_c(s, '"');
            break;
        case '\\':
            g_string_append_c(s, '\\');
            break;
        case '/':
            g_string_append_c(s, '/');
            break;
        case 'b':
            g_string_append_c(s, '\b');
            break;
        case 'f':
            g_string_append_c(s, '\f');
            break;
        case 'n':
            g_string_append_c(s, '\n');
            break;
        case 'r':
            g_string_append_c(s, '\r');
            break;
        case 't':
            g_string_append_c(s, '\t');
            break;
        case 'u': {
            int cp = hex4(j);
            if (cp < 0) {
                fail(j, "invalid \\u escape");
                goto bad;
            }
            if (cp >= 0xd800 && cp <= 0xdbff) {
                int lo;
                if (j->end - j->p < 2 || j->p[0] != '\\' || j->p[1] != 'u') {
                    fail(j, "unpaired surrogate in \\u escape");
                    goto bad;
                }
                j->p += 2;
                lo = hex4(j);
                if (lo < 0xdc00 || lo > 0xdfff) {
                    fail(j, "unpaired surrogate in \\u escape");
                    goto bad;
                }
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            } else if (cp >= 0xdc00 && cp <= 0xdfff) {
                fail(j, "unpaired surrogate in \\u escape");
                goto bad;
            }
            if (cp == 0) {
                g_string_append(s, JSON_MODIFIED_NUL);
            } else {
                g_string_append_unichar(s, (gunichar)cp);
            }
            break;
        }
        default:
            fail(j, "invalid escape '\\%c'", j->p[-1]);
            goto bad;
        }
    }
    if (!json_utf8_valid(s->str, s->len)) {
        fail(j, "invalid UTF-8 sequence in string");
        goto bad;
    }
    v = json_new_string_len(s->str, s->len);
    g_string_free(s, TRUE);
    return v;
bad:
    g_string_free(s, TRUE);
    return NULL;
}

/*
 * QEMU's split: an integer that fits int64 is an int, one that fits only
 * uint64 a uint, any other number a double.
 */
static struct json_value *parse_number(struct jp *j)
{
    const char *start = j->p;
    bool is_int = true;
    char buf[64];
    char *text = buf;
    size_t n;
    struct json_value *v = NULL;

    if (j->p < j->end && *j->p == '-') {
        j->p++;
    }
    if (j->p >= j->end || !g_ascii_isdigit(*j->p)) {
        goto bad;
    }
    if (*j->p == '0') {
        j->p++;
        if (j->p < j->end && g_ascii_isdigit(*j->p)) {
            goto bad; /* leading zeros */
        }
    } else {
        while (j->p < j->end && g_ascii_isdigit(*j->p)) {
            j->p++;
        }
    }
    if (j->p < j->end && *j->p == '.') {
        is_int = false;
        j->p++;
        if (j->p >= j->end || !g_ascii_isdigit(*j->p)) {
            goto bad;
        }
        while (j->p < j->end && g_ascii_isdigit(*j->p)) {
            j->p++;
        }
    }
    if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
        is_int = false;
        j->p++;
        if (j->p < j->end && (*j->p == '+' || *j->p == '-')) {
            j->p++;
        }
        if (j->p >= j->end || !g_ascii_isdigit(*j->p)) {
            goto bad;
        }
        while (j->p < j->end && g_ascii_isdigit(*j->p)) {
            j->p++;
        }
    }
    n = (size_t)(j->p - start);
    if (n >= sizeof(buf)) {
        text = g_strndup(start, n); /* too long for any integer */
    } else {
        memcpy(buf, start, n);
        buf[n] = '\0';
    }
    if (is_int) {
        errno = 0;
        int64_t i = g_ascii_strtoll(text, NULL, 10);
        if (errno != ERANGE) {
            v = json_new_int(i);
        } else if (*text != '-') {
            errno = 0;
            uint64_t u = g_ascii_strtoull(text, NULL, 10);
            if (errno != ERANGE) {
                v = json_new_uint(u);
            }
        }
    }
    if (!v) {
        double d = g_ascii_strtod(text, NULL);
        /* QEMU takes 1e400 as inf and writes it back as "inf", which is
         * not JSON: refuse it here instead (underflow to 0 is fine) */
        if (isfinite(d)) {
            v = json_new_double(d);
        }
    }
    if (text != buf) {
        g_free(text);
    }
    if (!v) {
        fail(j, "number out of range");
    }
    return v;
bad:
    fail(j, "invalid number");
    return NULL;
}

static struct json_value *parse_value(struct jp *j);

/* A run of [a-z], which QEMU's lexer takes as one keyword token. */
static struct json_value *parse_keyword(struct jp *j)
{
    const char *start = j->p;
    size_t n;

    while (j->p < j->end && *j->p >= 'a' && *j->p <= 'z') {
        j->p++;
    }
    n = (size_t)(j->p - start);
    if (n == 4 && !memcmp(start, "true", 4)) {
        return json_new_bool(true);
    }
    if (n == 5 && !memcmp(start, "false", 5)) {
        return json_new_bool(false);
    }
    if (n == 4 && !memcmp(start, "null", 4)) {
        return json_new_null();
    }
    fail(j, "invalid keyword '%.*s'", (int)MIN(n, (size_t)INT_MAX), start);
    return NULL;
}

static struct json_value *parse_object(struct jp *j)
{
    struct json_value *o = json_new_object();

    j->p++; /* { */
    skip_ws(j);
    if (j->p < j->end && *j->p == '}') {
        j->p++;
        return o;
    }
    for (;;) {
        struct json_value *key, *v;

        skip_ws(j);
        if (j->p >= j->end || *j->p != '"') {
            /* QEMU's order: whatever stands there is parsed as a value
             * first (its errors win), then refused as a key */
            json_free(parse_value(j));
            fail(j, "key is not a string in object");
            goto bad;
        }
        key = parse_string(j);
        if (!key) {
            goto bad;
        }
        skip_ws(j);
        if (j->p >= j->end || *j->p != ':') {
            json_free(key);
            fail(j, "missing : in object pair");
            goto bad;
        }
        j->p++;
        v = parse_value(j);
        if (!v) {
            json_free(key);
            goto bad;
        }
        if (!json_object_add_keyval(o, key, v)) {
            /* QMP must refuse, not keep the first or the last */
            json_free(key);
            json_free(v);
            fail(j, "duplicate key");
            goto bad;
        }
        skip_ws(j);
        if (j->p < j->end && *j->p == ',') {
            j->p++;
            continue;
        }
        if (j->p < j->end && *j->p == '}') {
            j->p++;
            return o;
        }
        fail(j, "expected separator in dict");
        goto bad;
    }
bad:
    json_free(o);
    return NULL;
}

static struct json_value *parse_array(struct jp *j)
{
    struct json_value *a = json_new_array();

    j->p++; /* [ */
    skip_ws(j);
    if (j->p < j->end && *j->p == ']') {
        j->p++;
        return a;
    }
    for (;;) {
        struct json_value *v = parse_value(j);
        if (!v) {
            goto bad;
        }
        json_array_append(a, v);
        skip_ws(j);
        if (j->p < j->end && *j->p == ',') {
            j->p++;
            continue;
        }
        if (j->p < j->end && *j->p == ']') {
            j->p++;
            return a;
        }
        fail(j, "expected separator in list");
        goto bad;
    }
bad:
    json_free(a);
    return NULL;
}

static struct json_value *parse_value(struct jp *j)
{
    struct json_value *n = NULL;

    skip_ws(j);
    if (j->p >= j->end) {
        fail(j, "expecting value");
        return NULL;
    }
    switch (*j->p) {
    case '{':
    case '[':
        if (++j->depth > JSON_PARSE_MAX_DEPTH) {
            fail(j, "nesting too deep");
            return NULL;
        }
        n = *j->p == '{' ? parse_object(j) : parse_array(j);
        j->depth--;
        return n;
    case '"':
        return parse_string(j);
    default:
        if (*j->p == '-' || g_ascii_isdigit(*j->p)) {
            return parse_number(j);
        }
        if (*j->p >= 'a' && *j->p <= 'z') {
            return parse_keyword(j);
        }
        break;
    }
    fail(j, "expecting value");
    return NULL;
}

struct json_value *json_parse(const char *text, size_t len, char **err)
{
    struct jp j = {.p = text, .end = text + len};
    struct json_value *n = parse_value(&j);

    if (n) {
        skip_ws(&j);
        if (j.p != j.end) {
            json_free(n);
            n = NULL;
            fail(&j, "unexpected data after the value");
        }
    }
    if (!n) {
        *err = j.err ? j.err : g_strdup("expecting value");
    } else {
        g_free(j.err);
    }
    return n;
}
