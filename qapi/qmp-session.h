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

/* Returns false when the transport refused the bytes (client stalled). */
typedef bool (*qmp_write_fn)(void *opaque, const char *data, size_t len);

struct qmp_session;

struct qmp_session *qmp_session_new(struct machine *m,
                                    const struct qmp_command_def *cmds,
                                    size_t nr_cmds, bool pretty,
                                    qmp_write_fn write, void *opaque);
void qmp_session_free(struct qmp_session *s);
/* New client: back to negotiation mode, send the greeting. */
void qmp_session_greet(struct qmp_session *s);
void qmp_session_input(struct qmp_session *s, const uint8_t *buf, size_t len);
/* Sends an event if the session is negotiated.  data_json may be NULL. */
void qmp_session_event(struct qmp_session *s, const char *name,
                       const char *data_json, gint64 now_us);
bool qmp_session_negotiated(const struct qmp_session *s);
/* The write callback refused output since the last greeting. */
bool qmp_session_stalled(const struct qmp_session *s);

#endif
