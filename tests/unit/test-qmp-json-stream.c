/* SPDX-License-Identifier: MIT */
/*
 * test-qmp-json-stream.c: the bounded JSON splitter in front of the QMP
 * parser: messages split across reads, several per read, depth bombs,
 * oversized input and resync, invalid UTF-8, recovery from stray bytes
 * as QEMU 7.2 recovers (the expected texts are QEMU's replies to the same
 * bytes), stopping a feed part-way, single-quoted strings, top-level
 * scalars.
 */
#include "util/common.h"
#include "qapi/json-stream.h"

struct sink {
    GPtrArray *msgs; /* "M:text" or "E:error" */
    struct json_stream *js;
};

static void on_msg(void *opaque, const char *text, size_t len)
{
    struct sink *s = opaque;

    g_assert_cmpuint(strlen(text), ==, len);
    g_ptr_array_add(s->msgs, g_strdup_printf("M:%s", text));
}

static void on_err(void *opaque, const char *msg)
{
    struct sink *s = opaque;

    g_ptr_array_add(s->msgs, g_strdup_printf("E:%s", msg));
}

static const struct json_stream_ops ops = {.message = on_msg, .error = on_err};

static struct json_stream *mk(struct sink *s, size_t max, unsigned depth)
{
    s->msgs = g_ptr_array_new_with_free_func(g_free);
    return json_stream_new(max, depth, &ops, s);
}

static void feed(struct json_stream *js, const char *text)
{
    json_stream_feed(js, (const uint8_t *)text, strlen(text));
}

static void expect(struct sink *s, guint i, const char *what)
{
    g_assert_cmpuint(s->msgs->len, >, i);
    g_assert_cmpstr(g_ptr_array_index(s->msgs, i), ==, what);
}

static void done(struct json_stream *js, struct sink *s)
{
    json_stream_free(js);
    g_ptr_array_free(s->msgs, TRUE);
}

static void test_split_reads(void)
{
    struct sink s;
    struct json_stream *js = mk(&s, 1024, 16);
    const char *msg = "{\"execute\": \"a}b\\\"{\", \"x\": [1, {}]}";

    for (const char *p = msg; *p; p++) {
        json_stream_feed(js, (const uint8_t *)p, 1);
        if (p[1]) {
            g_assert_cmpuint(s.msgs->len, ==, 0);
        }
    }
    g_assert_cmpuint(s.msgs->len, ==, 1);
    expect(&s, 0, "M:{\"execute\": \"a}b\\\"{\", \"x\": [1, {}]}");
    done(js, &s);
}

static void test_many_per_read(void)
{
    struct sink s;
    struct json_stream *js = mk(&s, 1024, 16);

    feed(js, "{\"a\":1}\r\n{\"b\":2}[3] 4 \"five\" ");
    g_assert_cmpuint(s.msgs->len, ==, 5);
    expect(&s, 0, "M:{\"a\":1}");
    expect(&s, 1, "M:{\"b\":2}");
    expect(&s, 2, "M:[3]");
    expect(&s, 3, "M:4");
    expect(&s, 4, "M:\"five\"");
    done(js, &s);
}

static void test_depth_bomb(void)
{
    struct sink s;
    struct json_stream *js = mk(&s, 1 << 20, 8);
    GString *bomb = g_string_new(NULL);

    for (int i = 0; i < 100000; i++) {
        g_string_append_c(bomb, '[');
    }
    feed(js, bomb->str);
    g_assert_cmpuint(s.msgs->len, ==, 1);
    expect(&s, 0, "E:JSON nesting depth limit exceeded");
    /* nothing is kept while discarding */
    g_assert_cmpuint(json_stream_pending(js), ==, 0);
    g_string_assign(bomb, "");
    for (int i = 0; i < 100000; i++) {
        g_string_append_c(bomb, ']');
    }
    feed(js, bomb->str);
    feed(js, "{\"ok\":[[[[[[[1]]]]]]]}");
    g_assert_cmpuint(s.msgs->len, ==, 2);
    expect(&s, 1, "M:{\"ok\":[[[[[[[1]]]]]]]}");
    /* exactly at the limit is fine, one more is not */
    feed(js, "[[[[[[[[]]]]]]]]");
    expect(&s, 2, "M:[[[[[[[[]]]]]]]]");
    feed(js, "[[[[[[[[[]]]]]]]]]");
    expect(&s, 3, "E:JSON nesting depth limit exceeded");
    g_assert_cmpuint(s.msgs->len, ==, 4);
    g_string_free(bomb, TRUE);
    done(js, &s);
}

static void test_huge(void)
{
    struct sink s;
    struct json_stream *js = mk(&s, 4096, 16);
    GString *big = g_string_new("{\"execute\": \"");

    for (int i = 0; i < 1000000; i++) {
        g_string_append_c(big, 'x');
    }
    feed(js, big->str);
    g_assert_cmpuint(s.msgs->len, ==, 1);
    expect(&s, 0, "E:JSON message exceeds the size limit of 4096 bytes");
    g_assert_cmpuint(json_stream_pending(js), <=, 4096);
    feed(js, big->str + 13); /* more of the same string, no new error */
    g_assert_cmpuint(s.msgs->len, ==, 1);
    feed(js, "\"}{\"next\": true}");
    g_assert_cmpuint(s.msgs->len, ==, 2);
    expect(&s, 1, "M:{\"next\": true}");
    g_string_free(big, TRUE);
    done(js, &s);
}

static void test_utf8(void)
{
    struct sink s;
    struct json_stream *js = mk(&s, 1024, 16);

    /* the lexer takes any byte but 0xfe/0xff in a string; the message is
     * checked when it completes */
    feed(js, "{\"a\": \"\xc3\x28\"}");
    expect(&s, 0, "E:JSON parse error, invalid UTF-8 sequence in string");
    feed(js, "{\"a\": \"\xc3\xa9\"}");
    expect(&s, 1, "M:{\"a\": \"\xc3\xa9\"}");
    feed(js, "{\"a\": \"\xc3\"}"); /* truncated sequence */
    expect(&s, 2, "E:JSON parse error, invalid UTF-8 sequence in string");
    feed(js, "\xff");
    expect(&s, 3, "E:JSON parse error, stray '\xff'");
    /* 0xff in a string is stray too, with the string so far */
    feed(js, "{\"a\": \"x\xff\"}{}");
    expect(&s, 4, "E:JSON parse error, stray '\"x\xff'");
    expect(&s, 5, "E:JSON parse error, expecting value");
    expect(&s, 6, "M:{}");
    g_assert_cmpuint(s.msgs->len, ==, 7);
    done(js, &s);
}

static void test_recovery(void)
{
    struct sink s;
    struct json_stream *js = mk(&s, 1024, 16);

    /* a half message, then a control character: the half is dropped with
     * an error, and the next message runs */
    feed(js, "{\"execute\": \"x\", \"arguments\": {");
    feed(js, "\x01");
    expect(&s, 0, "E:JSON parse error, stray '\x01'");
    g_assert_cmpuint(json_stream_pending(js), ==, 0);
    feed(js, "{\"b\":1}");
    expect(&s, 1, "M:{\"b\":1}");
    feed(js, "}");
    expect(&s, 2, "E:JSON parse error, expecting value");
    feed(js, "@");
    expect(&s, 3, "E:JSON parse error, stray '@'");
    /* reset drops a partial message */
    feed(js, "{\"partial\": ");
    json_stream_reset(js);
    feed(js, "{}");
    expect(&s, 4, "M:{}");
    g_assert_cmpuint(s.msgs->len, ==, 5);
    done(js, &s);
}

/* Each input, then a valid command: what QEMU 7.2 replied, in order. */
static void test_stray(void)
{
    static const struct {
        const char *in;
        size_t len; /* 0: strlen */
        const char *want[4];
    } cases[] = {
        /* an arrow key typed into socat: ESC [ A */
        {"\x1b[A",
         0,
         {"E:JSON parse error, stray '\x1b'", "E:JSON parse error, stray 'A'"}},
        {"[A", 0, {"E:JSON parse error, stray 'A'"}},
        {"[[A", 0, {"E:JSON parse error, stray 'A'"}},
        /* a NUL byte in a string ends QEMU's %s */
        {"{\"execute\":\"query-status\0\"}",
         27,
         {"E:JSON parse error, stray '\"query-status'",
          "E:JSON parse error, expecting value"}},
        {"\0", 1, {"E:JSON parse error, stray ''"}},
        {"{\"execute\": @}",
         0,
         {"E:JSON parse error, stray '@'",
          "E:JSON parse error, expecting value"}},
        {"{\"a\":[1,@]}",
         0,
         {"E:JSON parse error, stray '@'",
          "E:JSON parse error, expecting value",
          "E:JSON parse error, expecting value"}},
        {"{\"execute\": \"a\nb\"}",
         0,
         {"E:JSON parse error, stray '\"a\n'",
          "E:JSON parse error, expecting value"}},
        {"\"a\\\x01\"", 0, {"E:JSON parse error, stray '\"a\\\x01'"}},
        {"'x\"y\x01", 0, {"E:JSON parse error, stray ''x\"y\x01'"}},
        /* numbers and keywords lexed as QEMU does */
        {"{\"execute\": 1.}", 0, {"E:JSON parse error, stray '1.}'"}},
        {"-x", 0, {"E:JSON parse error, stray '-x'"}},
        {"01", 0, {"E:JSON parse error, stray '01'"}},
        {"True", 0, {"E:JSON parse error, stray 'T'"}},
        /* "0e1" is not a number to QEMU 7.2 */
        {"0e1 ", 0, {"M:0", "M:e", "M:1"}},
        /* braces and brackets are counted apart, as QEMU does: a close
         * with none of its kind open ends the message */
        {"[[}", 0, {"M:[[}"}},
        {"{[}]", 0, {"M:{[}]"}},
        {"]", 0, {"E:JSON parse error, expecting value"}},
        {"{\"a\": 1e5, \"b\": -0.5E-3, \"c\": tru}",
         0,
         {"M:{\"a\": 1e5, \"b\": -0.5E-3, \"c\": tru}"}},
        /* where recovery ends: not at a tab, space or quote; at a line
         * end, another control character or , : { } [ ] */
        {"@\t@ @\"x\"@", 0, {"E:JSON parse error, stray '@'"}},
        {"@\n@",
         0,
         {"E:JSON parse error, stray '@'", "E:JSON parse error, stray '@'"}},
        {"@,@",
         0,
         {"E:JSON parse error, stray '@'",
          "E:JSON parse error, expecting value",
          "E:JSON parse error, stray '@'"}},
        {"@\x1b@",
         0,
         {"E:JSON parse error, stray '@'", "E:JSON parse error, stray '\x1b'"}},
        {"{\"execute\": \x01 \"query-status\"}",
         0,
         {"E:JSON parse error, stray '\x01'",
          "E:JSON parse error, expecting value"}},
    };

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct sink s;
        struct json_stream *js = mk(&s, 1024, 16);
        size_t n = 0;

        json_stream_feed(js, (const uint8_t *)cases[i].in,
                         cases[i].len ? cases[i].len : strlen(cases[i].in));
        feed(js, "{\"execute\":\"query-status\"}");
        for (; n < ARRAY_SIZE(cases[i].want) && cases[i].want[n]; n++) {
            g_test_message("case %zu, reply %zu", i, n);
            expect(&s, (guint)n, cases[i].want[n]);
        }
        expect(&s, (guint)n, "M:{\"execute\":\"query-status\"}");
        g_assert_cmpuint(s.msgs->len, ==, n + 1);
        done(js, &s);
    }
}

/* A message callback stops the feed: the rest is consumed later. */
static void on_msg_stop(void *opaque, const char *text, size_t len)
{
    struct sink *s = opaque;

    on_msg(opaque, text, len);
    json_stream_stop(s->js);
}

static void test_stop(void)
{
    static const struct json_stream_ops stop_ops = {.message = on_msg_stop,
                                                    .error = on_err};
    const char *in = "{\"a\":1} [2]3 {\"b\"";
    struct sink s = {.msgs = g_ptr_array_new_with_free_func(g_free)};
    struct json_stream *js = json_stream_new(1024, 16, &stop_ops, &s);
    size_t n, off = 0;

    s.js = js;
    n = json_stream_feed(js, (const uint8_t *)in, strlen(in));
    g_assert_cmpuint(n, ==, 7);
    g_assert_cmpuint(s.msgs->len, ==, 1);
    off += n;
    n = json_stream_feed(js, (const uint8_t *)in + off, strlen(in) - off);
    g_assert_cmpuint(n, ==, 4); /* " [2]" */
    expect(&s, 1, "M:[2]");
    off += n;
    /* a bare number ends at the byte after it, which is left for the
     * next feed: it could be a message of its own ("3{}") */
    n = json_stream_feed(js, (const uint8_t *)in + off, strlen(in) - off);
    g_assert_cmpuint(n, ==, 1);
    expect(&s, 2, "M:3");
    off += n;
    n = json_stream_feed(js, (const uint8_t *)in + off, strlen(in) - off);
    g_assert_cmpuint(off + n, ==, strlen(in));
    feed(js, ":1}");
    expect(&s, 3, "M:{\"b\":1}");
    g_assert_cmpuint(s.msgs->len, ==, 4);
    done(js, &s);
}

static void test_single_quotes(void)
{
    struct sink s;
    struct json_stream *js = mk(&s, 1024, 16);

    feed(js, "{'execute': 'say \"hi\" it\\'s'}");
    expect(&s, 0, "M:{\"execute\": \"say \\\"hi\\\" it's\"}");
    done(js, &s);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/json-stream/split-reads", test_split_reads);
    g_test_add_func("/json-stream/many-per-read", test_many_per_read);
    g_test_add_func("/json-stream/depth-bomb", test_depth_bomb);
    g_test_add_func("/json-stream/huge", test_huge);
    g_test_add_func("/json-stream/utf8", test_utf8);
    g_test_add_func("/json-stream/recovery", test_recovery);
    g_test_add_func("/json-stream/stray", test_stray);
    g_test_add_func("/json-stream/stop", test_stop);
    g_test_add_func("/json-stream/single-quotes", test_single_quotes);
    return g_test_run();
}
