/* SPDX-License-Identifier: MIT */
/*
 * json-stream.c: the bounded streaming splitter described in json-stream.h.
 * One pass per byte, no recursion, no allocation beyond the message buffer
 * (capped at max_size).
 */
#include "util/common.h"
#include "qapi/json-stream.h"
#include "qapi/json-value.h"

/*
 * Lexer states.  The token rules are QEMU's (qobject/json-lexer.c in 7.2,
 * observed through its QMP replies): a byte that cannot continue or start
 * a token is a lexical error, reported as "stray" with the token so far;
 * the partial message is dropped and the lexer skips to a byte where a
 * new message may start (see JS_RECOVERY).
 */
enum js_state {
    JS_START = 0,
    JS_STRING,    /* inside a string, quote in `quote` */
    JS_ESCAPE,    /* after a backslash inside a string */
    JS_KEYWORD,   /* [a-z]+: true, false, null (the parser checks which) */
    JS_NUM_NEG,   /* "-" */
    JS_NUM_ZERO,  /* "0", "-0": no more digits may follow */
    JS_NUM_INT,   /* integer digits */
    JS_NUM_DOT,   /* "1.": a digit must follow */
    JS_NUM_FRAC,  /* fraction digits */
    JS_NUM_E,     /* "1e": sign or digit must follow */
    JS_NUM_ESIGN, /* "1e+": digit must follow */
    JS_NUM_EXP,   /* exponent digits */
    JS_RECOVERY,  /* after a lexical error */
};

struct json_stream {
    size_t max_size;
    unsigned max_depth;
    struct json_stream_ops ops;
    void *opaque;

    GString *buf;
    enum js_state state;
    char quote;
    unsigned depth;   /* '{' and '[' open */
    unsigned braces;  /* of which '{' (QEMU counts them apart) */
    size_t tok_start; /* offset in buf of the current token */
    bool discard;     /* message rejected: skip to its end */
    bool stop;        /* json_stream_stop(): return from the feed */
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

/* Drops the message in progress (not the lexer's recovery state). */
static void js_drop_message(struct json_stream *s)
{
    g_string_truncate(s->buf, 0);
    if (s->buf->allocated_len > 64 * 1024) {
        g_string_free(s->buf, TRUE);
        s->buf = g_string_sized_new(256);
    }
    s->depth = 0;
    s->braces = 0;
    s->tok_start = 0;
    s->discard = false;
}

void json_stream_reset(struct json_stream *s)
{
    js_drop_message(s);
    s->state = JS_START;
}

void json_stream_stop(struct json_stream *s)
{
    s->stop = true;
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
        if (!json_utf8_valid(s->buf->str, s->buf->len)) {
            js_error(s, "JSON parse error, invalid UTF-8 sequence in string");
        } else {
            s->ops.message(s->opaque, s->buf->str, s->buf->len);
        }
    }
    json_stream_reset(s);
}

/*
 * A lexical error at byte c: report the token so far and c as QEMU does
 * ("stray '<token>'", the text ending at a NUL byte as QEMU's %s does),
 * drop the message and skip to a resynchronisation point.
 */
static void js_lex_error(struct json_stream *s, uint8_t c)
{
    GString *tok = g_string_new(NULL);
    char *msg;

    if (!s->discard && s->state != JS_START && s->tok_start < s->buf->len) {
        const char *t = s->buf->str + s->tok_start;
        size_t n = s->buf->len - s->tok_start;
        bool sq = (s->state == JS_STRING || s->state == JS_ESCAPE) &&
                  s->quote == '\'';
        if (sq) {
            /* the buffer holds a single-quoted string as "..." with \"
             * for a bare ": show what the client sent (a \" it typed
             * shows as " too: the buffer cannot tell them apart) */
            g_string_append_c(tok, '\'');
            t++;
            n--;
        }
        for (size_t i = 0; i < n; i++) {
            if (sq && t[i] == '\\' && i + 1 < n && t[i + 1] == '"') {
                i++;
            }
            g_string_append_c(tok, t[i]);
        }
    }
    g_string_append_c(tok, (char)c);
    msg = g_strdup_printf("JSON parse error, stray '%s'", tok->str);
    js_error(s, msg);
    g_free(msg);
    g_string_free(tok, TRUE);
    js_drop_message(s);
    s->state = JS_RECOVERY;
}

/*
 * After an error QEMU's lexer skips bytes until one where a client can
 * resynchronise: a structural character, a control character other than
 * tab (QMP clients send 0x1b or 0xff to reset the parser on purpose), or
 * 0xfe/0xff, which never occur in UTF-8.  That byte is then lexed anew.
 */
static bool ends_recovery(uint8_t c)
{
    return (c < 0x20 && c != '\t') || c >= 0xfe || c == '{' || c == '}' ||
           c == '[' || c == ']' || c == ',' || c == ':';
}

/* A bare token (number, keyword) ended before byte c. */
static void js_token_end(struct json_stream *s)
{
    s->state = JS_START;
    if (s->depth == 0) {
        js_complete(s);
    }
}

/* Returns false when c ends the current number (c is then lexed anew). */
static bool js_number(struct json_stream *s, uint8_t c)
{
    bool digit = c >= '0' && c <= '9';
    enum js_state next;

    switch (s->state) {
    case JS_NUM_NEG:
        next = c == '0' ? JS_NUM_ZERO : digit ? JS_NUM_INT : JS_RECOVERY;
        break;
    case JS_NUM_ZERO:
    case JS_NUM_INT:
        if (digit) {
            next = s->state == JS_NUM_INT ? JS_NUM_INT : JS_RECOVERY;
        } else if (c == '.') {
            next = JS_NUM_DOT;
        } else if ((c == 'e' || c == 'E') && s->state == JS_NUM_INT) {
            /* QEMU 7.2 lexes "0e1" as 0 and a keyword, so do we */
            next = JS_NUM_E;
        } else {
            return false;
        }
        break;
    case JS_NUM_DOT:
        next = digit ? JS_NUM_FRAC : JS_RECOVERY;
        break;
    case JS_NUM_FRAC:
        if (c == 'e' || c == 'E') {
            next = JS_NUM_E;
        } else if (digit) {
            next = JS_NUM_FRAC;
        } else {
            return false;
        }
        break;
    case JS_NUM_E:
        next = c == '+' || c == '-' ? JS_NUM_ESIGN
               : digit              ? JS_NUM_EXP
                                    : JS_RECOVERY;
        break;
    case JS_NUM_ESIGN:
        next = digit ? JS_NUM_EXP : JS_RECOVERY;
        break;
    default: /* JS_NUM_EXP */
        if (!digit) {
            return false;
        }
        next = JS_NUM_EXP;
        break;
    }
    if (next == JS_RECOVERY) {
        js_lex_error(s, c);
    } else {
        js_put(s, (char)c);
        s->state = next;
    }
    return true;
}

static void js_start_token(struct json_stream *s, enum js_state st, char c)
{
    s->tok_start = s->buf->len;
    s->state = st;
    js_put(s, c);
}

/* Returns false when c was not consumed: it ended a bare token whose
 * message callback stopped the feed, and is lexed on the next one. */
static bool js_byte(struct json_stream *s, uint8_t c)
{
    switch (s->state) {
    case JS_RECOVERY:
        if (!ends_recovery(c)) {
            return true;
        }
        s->state = JS_START;
        break;
    case JS_STRING:
        if (c < 0x20 || c >= 0xfe) {
            js_lex_error(s, c);
        } else if (c == '\\') {
            s->state = JS_ESCAPE;
            js_put(s, (char)c);
        } else if (c == (uint8_t)s->quote) {
            js_put(s, '"');
            s->state = JS_START;
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
        return true;
    case JS_ESCAPE:
        /* any printable byte: the parser judges the escape */
        if (c < 0x20 || c >= 0xfe) {
            js_lex_error(s, c);
            return true;
        }
        s->state = JS_STRING;
        if (c == '\'') {
            /* \' is valid only in QEMU's dialect: drop the backslash */
            if (!s->discard && s->buf->len) {
                g_string_truncate(s->buf, s->buf->len - 1);
            }
        }
        js_put(s, (char)c);
        return true;
    case JS_KEYWORD:
        if (c >= 'a' && c <= 'z') {
            js_put(s, (char)c);
            return true;
        }
        js_token_end(s);
        if (s->stop) {
            return false;
        }
        break; /* c is lexed anew below */
    case JS_START:
        break;
    default: /* numbers */
        if (js_number(s, c)) {
            return true;
        }
        js_token_end(s);
        if (s->stop) {
            return false;
        }
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
        return true;
    case '"':
    case '\'':
        s->quote = (char)c;
        js_start_token(s, JS_STRING, '"');
        return true;
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
        s->braces += c == '{';
        js_put(s, (char)c);
        return true;
    case '}':
    case ']':
        if (s->depth == 0) {
            js_error(s, "JSON parse error, expecting value");
            return true;
        }
        js_put(s, (char)c);
        if (c == '}' ? s->braces == 0 : s->depth == s->braces) {
            /* no such bracket open: QEMU's count of that kind goes
             * negative, which ends the message (the parser rejects it) */
            js_complete(s);
            return true;
        }
        s->braces -= c == '}';
        if (--s->depth == 0) {
            js_complete(s);
        }
        return true;
    case ':':
    case ',':
        if (s->depth == 0) {
            js_error(s, "JSON parse error, expecting value");
            return true;
        }
        js_put(s, (char)c);
        return true;
    case '-':
        js_start_token(s, JS_NUM_NEG, (char)c);
        return true;
    case '0':
        js_start_token(s, JS_NUM_ZERO, (char)c);
        return true;
    default:
        if (c >= '1' && c <= '9') {
            js_start_token(s, JS_NUM_INT, (char)c);
        } else if (c >= 'a' && c <= 'z') {
            js_start_token(s, JS_KEYWORD, (char)c);
        } else {
            js_lex_error(s, c);
        }
        return true;
    }
}

/* Bytes that js_byte() appends unchanged inside a string. */
static bool is_plain_in_string(uint8_t c)
{
    return c >= 0x20 && c < 0xfe && c != '"' && c != '\'' && c != '\\';
}

size_t json_stream_feed(struct json_stream *s, const uint8_t *buf, size_t len)
{
    size_t i = 0;

    s->stop = false;
    while (i < len && !s->stop) {
        /* Fast path: a run of plain string bytes in one go, appended (or
         * skipped while an oversized message is discarded). */
        if (s->state == JS_STRING) {
            size_t j = i;

            while (j < len && is_plain_in_string(buf[j])) {
                j++;
            }
            if (!s->discard) {
                /* up to the size limit; the byte beyond fails in js_put */
                j = MIN(j, i + (s->max_size - s->buf->len));
                g_string_append_len(s->buf, (const char *)buf + i,
                                    (gssize)(j - i));
            }
            if (j > i) {
                i = j;
                continue;
            }
        }
        if (js_byte(s, buf[i])) {
            i++;
        }
    }
    s->stop = false;
    return i;
}
