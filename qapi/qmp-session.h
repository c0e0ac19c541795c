/* SPDX-License-Identifier: MIT */
/*
 * qmp-session.h: one QMP conversation, independent of the transport:
 * bytes in (through the bounded JSON splitter), CRLF-terminated replies
 * and events out through a write callback.  qmp-server.c puts it on a
 * chardev; unit tests and the fuzzer feed it directly.
 */
#ifndef QAPI_QMP_SESSION_H
#define QAPI_QMP_SESSION_H

#include "util/common.h"
#include "qapi/qmp-dispatch.h"

/* Limits on one incoming message (QEMU: 64 MiB / 1024 levels). */
#define QMP_MAX_MESSAGE (16u * 1024 * 1024)
#define QMP_MAX_DEPTH 1024u

/*
 * The transport under a session (qmp-server.c puts it on a chardev).
 * Flow control: a client gets every reply it asked for, so replies are
 * always taken whole; instead, while busy() says the client is behind on
 * reading, the session runs no more commands and holds the rest of its
 * input until qmp_session_resume().  This is what lets a client pipeline
 * thousands of commands, as QEMU allows.
 */
struct qmp_transport {
    /* Sends one whole message (CRLF included).  Replies are never refused;
     * an event may be (false) when the client is too far behind. */
    bool (*write)(void *opaque, const char *data, size_t len, bool event);
    /* True while the client has unread output the session should wait
     * for.  May be NULL (never busy). */
    bool (*busy)(void *opaque);
};

struct qmp_session;

struct qmp_session *qmp_session_new(struct machine *m,
                                    const struct qmp_command_def *cmds,
                                    size_t nr_cmds, bool pretty,
                                    const struct qmp_transport *t,
                                    void *opaque);
void qmp_session_free(struct qmp_session *s);
/* New client: back to negotiation mode, drops held input, sends the
 * greeting. */
void qmp_session_greet(struct qmp_session *s);
/* Runs the commands in buf until the transport is busy; the rest is held
 * (the caller should stop reading while qmp_session_held() is non-zero:
 * held input is bounded by what it passes in). */
void qmp_session_input(struct qmp_session *s, const uint8_t *buf, size_t len);
/* The transport is no longer busy: runs held input.  True when none is
 * left. */
bool qmp_session_resume(struct qmp_session *s);
/* Input bytes waiting for the client to catch up on its replies. */
size_t qmp_session_held(const struct qmp_session *s);
/* Sends an event if the session is negotiated; false if the transport
 * refused it.  data_json may be NULL. */
bool qmp_session_event(struct qmp_session *s, const char *name,
                       const char *data_json, gint64 now_us);
bool qmp_session_negotiated(const struct qmp_session *s);

#endif
