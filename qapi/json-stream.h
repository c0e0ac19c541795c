/* SPDX-License-Identifier: MIT */
/*
 * json-stream.h: splits a byte stream from a QMP client into complete
 * top-level JSON texts before anything parses them, so that memory and
 * parser recursion are bounded whatever the client sends.
 *
 * The splitter lexes just enough (strings, escapes, brackets, bare
 * scalars) to know where a message ends.  A message over max_size or
 * nested deeper than max_depth is reported once and then skipped up to its
 * end (resync); a control character other than \t \r \n resets the lexer,
 * as QEMU's QMP specification promises clients.  'single-quoted' strings
 * (accepted by QEMU) are rewritten to double quotes for the parser.
 * Invalid UTF-8 inside a message is reported when the message completes.
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
void json_stream_feed(struct json_stream *s, const uint8_t *buf, size_t len);
/* Drops any partial message (client reconnected). */
void json_stream_reset(struct json_stream *s);
/* Bytes held for the current partial message. */
size_t json_stream_pending(const struct json_stream *s);

#endif
