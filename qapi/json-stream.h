/* SPDX-License-Identifier: MIT */
/*
 * json-stream.h: splits a byte stream from a QMP client into complete
 * top-level JSON texts before anything parses them, so that memory and
 * parser recursion are bounded whatever the client sends.
 *
 * The splitter lexes tokens as QEMU 7.2's JSON lexer does, to know where
 * a message ends and to recover from garbage the way QEMU clients expect:
 * a byte that cannot start or continue a token ("@", a NUL in a string,
 * the "A" of an arrow key's ESC [ A) is reported as "JSON parse error,
 * stray '<token>'", the partial message is dropped and input is skipped
 * up to a structural character, a control character other than tab or
 * 0xfe/0xff, so the next command runs.  (That is why a client can reset
 * the parser with 0x1b or 0xff, as QEMU's QMP specification says.)  A
 * message over max_size or nested deeper than max_depth is reported once
 * and then skipped up to its end.  'single-quoted' strings (accepted by
 * QEMU) are rewritten to double quotes for the parser.  Invalid UTF-8
 * inside a message is reported when the message completes.
 */
#ifndef QAPI_JSON_STREAM_H
#define QAPI_JSON_STREAM_H

#include "util/common.h"

struct json_stream_ops {
    /* A complete text (NUL-terminated, valid UTF-8). */
    void (*message)(void *opaque, const char *text, size_t len);
    /* A message was rejected; msg is the QMP error description. */
    void (*error)(void *opaque, const char *msg);
};

struct json_stream;

struct json_stream *json_stream_new(size_t max_size, unsigned max_depth,
                                    const struct json_stream_ops *ops,
                                    void *opaque);
void json_stream_free(struct json_stream *s);
/* Lexes buf; returns the bytes consumed: all of them unless a callback
 * called json_stream_stop() (the caller feeds the rest later). */
size_t json_stream_feed(struct json_stream *s, const uint8_t *buf, size_t len);
/* From a message or error callback: makes json_stream_feed() return
 * after the current byte (a QMP session whose client is behind on reading
 * stops running commands). */
void json_stream_stop(struct json_stream *s);
/* Drops any partial message and lexer state (client reconnected). */
void json_stream_reset(struct json_stream *s);
/* Bytes held for the current partial message. */
size_t json_stream_pending(const struct json_stream *s);

#endif
