/* SPDX-License-Identifier: MIT */
/*
 * json-stream.c: the bounded streaming splitter described in json-stream.h.
 * One pass per byte, no recursion, no allocation beyond the message buffer
 * (capped at max_size).
 */
#include "util/common.h"
#include "qapi/json-stream.h"

enum js_state {
    JS_NORMAL = 0,
    JS_STRING, /* inside a string, quote in `quote` */
    JS_ESCAPE, /* after a backslash inside a string */
    JS_SCALAR, /* inside a bare top-level token (number, literal) */
};

struct json_stream {
    size_t max_size;
    unsigned max_depth;
    struct json_stream_ops ops;
    void *opaque;

    GString *buf;
    enum js_state state;
    char quote;
    unsigned depth;
    bool discard; /* message rejected: skip to its end */
};

struct json_stream *json_stream_new(size_t max_size, unsigned max_depth,
                                    const struct json_stream_ops *ops,
                                    void *opaque)
{
    struct json_stream *s = g_new0(struct json_stream, 1);

    s->max_size = max_size;
    s->max_depth = max_depth;
    s->ops = *ops;
    s->opaque = opaque;
    s->buf = g_string_sized_new(256);
    return s;
}

void json_stream_free(struct json_stream *s)
{
    if (s) {
        g_string_free(s->buf, TRUE);
        g_free(s);
    }
}

void json_stream_reset(struct json_stream *s)
{
    g_string_truncate(s->buf, 0);
    if (s->buf->allocated_len > 64 * 1024) {
        g_string_free(s->buf, TRUE);
        s->buf = g_string_sized_new(256);
    }
    s->state = JS_NORMAL;
    s->depth = 0;
    s->discard = false;
}

size_t json_stream_pending(const struct json_stream *s)
{
    return s->buf->len;
}

static void js_error(struct json_stream *s, const char *msg)
{
    s->ops.error(s->opaque, msg);
}

static void js_put(struct json_stream *s, char c)
{
    if (s->discard) {
        return;
    }
    if (s->buf->len >= s->max_size) {
        char *msg = g_strdup_printf(
            "JSON message exceeds the size limit of %zu bytes", s->max_size);
        js_error(s, msg);
        g_free(msg);
        s->discard = true;
        g_string_truncate(s->buf, 0);
        return;
    }
    g_string_append_c(s->buf, c);
}

/* A top-level value ended: hand it over (or drop it if rejected). */
static void js_complete(struct json_stream *s)
{
    if (!s->discard && s->buf->len) {
        const char *end;
        if (!g_utf8_validate(s->buf->str, s->buf->len, &end)) {
            js_error(s, "JSON parse error, invalid UTF-8 sequence");
        } else {
            s->ops.message(s->opaque, s->buf->str, s->buf->len);
        }
    }
    json_stream_reset(s);
}

static bool is_scalar_char(uint8_t c)
{
    return g_ascii_isalnum(c) || c == '+' || c == '-' || c == '.';
}

static void js_stray(struct json_stream *s, uint8_t c)
{
    char *msg;

    if (c >= 0x20 && c < 0x7f) {
        msg = g_strdup_printf("JSON parse error, stray '%c'", c);
    } else {
        msg = g_strdup_printf("JSON parse error, stray '\\u%04X'", c);
    }
    js_error(s, msg);
    g_free(msg);
}

static void js_byte(struct json_stream *s, uint8_t c)
{
    /* Recovery: any control character but whitespace resets the lexer. */
    if (c < 0x20 && c != '\t' && c != '\r' && c != '\n') {
        bool had = s->buf->len || s->depth || s->state != JS_NORMAL;
        json_stream_reset(s);
        if (!had) {
            js_stray(s, c);
        }
        return;
    }
    switch (s->state) {
    case JS_STRING:
        if (c == '\\') {
            s->state = JS_ESCAPE;
            js_put(s, (char)c);
        } else if (c == (uint8_t)s->quote) {
            js_put(s, '"');
            s->state = JS_NORMAL;
            if (s->depth == 0) {
                js_complete(s);
            }
        } else if (c == '"') {
            /* a double quote inside a 'single-quoted' string */
            js_put(s, '\\');
            js_put(s, '"');
        } else {
            js_put(s, (char)c);
        }
        return;
    case JS_ESCAPE:
        s->state = JS_STRING;
        if (c == '\'') {
            /* \' is valid only in QEMU's dialect: drop the backslash */
            if (!s->discard && s->buf->len) {
                g_string_truncate(s->buf, s->buf->len - 1);
            }
        }
        js_put(s, (char)c);
        return;
    case JS_SCALAR:
        if (is_scalar_char(c)) {
            js_put(s, (char)c);
            return;
        }
        s->state = JS_NORMAL;
        if (s->depth == 0) {
            js_complete(s);
        }
        break; /* the terminator is handled below */
    case JS_NORMAL:
        break;
    }

    switch (c) {
    case ' ':
    case '\t':
    case '\r':
    case '\n':
        if (s->depth) {
            js_put(s, (char)c);
        }
        return;
    case '"':
    case '\'':
        s->quote = (char)c;
        s->state = JS_STRING;
        js_put(s, '"');
        return;
    case '{':
    case '[':
        if (s->depth >= s->max_depth) {
            if (!s->discard) {
                js_error(s, "JSON nesting depth limit exceeded");
                s->discard = true;
                g_string_truncate(s->buf, 0);
            }
        }
        s->depth++;
        js_put(s, (char)c);
        return;
    case '}':
    case ']':
        if (s->depth == 0) {
            js_error(s, "JSON parse error, expecting value");
            return;
        }
        js_put(s, (char)c);
        if (--s->depth == 0) {
            js_complete(s);
        }
        return;
    case ':':
    case ',':
        if (s->depth == 0) {
            js_error(s, "JSON parse error, expecting value");
            return;
        }
        js_put(s, (char)c);
        return;
    default:
        if (is_scalar_char(c)) {
            js_put(s, (char)c);
            s->state = JS_SCALAR;
            return;
        }
        if (s->depth == 0) {
            js_stray(s, c);
            return;
        }
        /* inside a value: let the parser report it, unless too big */
        js_put(s, (char)c);
        return;
    }
}

/*
 * Bytes that js_byte() would append unchanged and that change no state:
 * inside a value (depth > 0), anything but brackets, quotes and control
 * characters other than whitespace; inside a string, anything but quotes,
 * the backslash and those control characters.  (A bare token inside a
 * value needs no tracking: only a top-level one ends a message.)
 */
static bool is_plain(uint8_t c, bool in_string)
{
    if (c < 0x20) {
        return c == '\t' || c == '\r' || c == '\n';
    }
    switch (c) {
    case '"':
    case '\'':
        return false;
    case '\\':
        return !in_string;
    case '{':
    case '}':
    case '[':
    case ']':
        return in_string;
    default:
        return true;
    }
}

void json_stream_feed(struct json_stream *s, const uint8_t *buf, size_t len)
{
    size_t i = 0;

    while (i < len) {
        /* Fast path: append a run of plain bytes in one go. */
        if (s->depth && !s->discard && s->state != JS_ESCAPE) {
            bool in_string = s->state == JS_STRING;
            size_t j = i;

            while (j < len && is_plain(buf[j], in_string)) {
                j++;
            }
            /* up to the size limit; the byte beyond it fails in js_put */
            j = MIN(j, i + (s->max_size - s->buf->len));
            if (j > i) {
                if (!in_string) {
                    s->state = JS_NORMAL;
                }
                g_string_append_len(s->buf, (const char *)buf + i,
                                    (gssize)(j - i));
                i = j;
                continue;
            }
        }
        js_byte(s, buf[i++]);
    }
}
