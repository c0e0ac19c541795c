/* SPDX-License-Identifier: MIT */
/*
 * test-qmp-json-stream.c: the bounded JSON splitter in front of the QMP
 * parser: messages split across reads, several per read, depth bombs,
 * oversized input and resync, invalid UTF-8, control-character recovery,
 * single-quoted strings, top-level scalars.
 */
#include "util/common.h"
#include "qapi/json-stream.h"

struct sink {
    GPtrArray *msgs; /* "M:text" or "E:error" */
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

    feed(js, "{\"a\": \"\xff\xfe\"}");
    expect(&s, 0, "E:JSON parse error, invalid UTF-8 sequence");
    feed(js, "{\"a\": \"\xc3\xa9\"}");
    expect(&s, 1, "M:{\"a\": \"\xc3\xa9\"}");
    feed(js, "{\"a\": \"\xc3\"}"); /* truncated sequence */
    expect(&s, 2, "E:JSON parse error, invalid UTF-8 sequence");
    feed(js, "\xff");
    expect(&s, 3, "E:JSON parse error, stray '\\u00FF'");
    g_assert_cmpuint(s.msgs->len, ==, 4);
    done(js, &s);
}

static void test_recovery(void)
{
    struct sink s;
    struct json_stream *js = mk(&s, 1024, 16);

    /* a half message, then a control character: the half is dropped */
    feed(js, "{\"execute\": \"x\", \"arguments\": {");
    feed(js, "\x01");
    g_assert_cmpuint(s.msgs->len, ==, 0);
    g_assert_cmpuint(json_stream_pending(js), ==, 0);
    feed(js, "{\"b\":1}");
    expect(&s, 0, "M:{\"b\":1}");
    feed(js, "\x01");
    expect(&s, 1, "E:JSON parse error, stray '\\u0001'");
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
    g_test_add_func("/json-stream/single-quotes", test_single_quotes);
    return g_test_run();
}
