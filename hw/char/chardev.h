/* SPDX-License-Identifier: MIT */
/*
 * chardev.h: character backends (-chardev, and what -serial/-qmp/-monitor
 * generate): stdio (raw mode, Ctrl-A x quits, optional mux with a monitor),
 * file, socket (unix/tcp, server or client), pty, null.
 *
 * A frontend (UART, monitor) attaches with callbacks; input is delivered on
 * the main loop.  chardev_write() never blocks a vCPU: output a backend
 * cannot take now is buffered up to a bound and then dropped (and counted).
 */
#ifndef HW_CHAR_CHARDEV_H
#define HW_CHAR_CHARDEV_H

#include "util/common.h"
#include "util/error.h"

struct machine;
struct chardev;

enum chardev_event {
    CHARDEV_OPENED, /* a client connected */
    CHARDEV_CLOSED, /* the client went away */
    CHARDEV_BREAK,  /* Ctrl-A b on a mux */
};

struct chardev_frontend {
    /* How many bytes the frontend can take now (0: stop reading). */
    size_t (*can_read)(void *opaque);
    void (*read)(void *opaque, const uint8_t *buf, size_t len);
    void (*event)(void *opaque, enum chardev_event ev);
    /* Optional, main loop: output the backend could not take at once has
     * all been written now (a frontend waiting for its reader, such as a
     * QMP monitor applying back-pressure, carries on). */
    void (*drained)(void *opaque);
    void *opaque;
};

/* Parses a -chardev text ("socket,id=x,path=...") and opens it. */
struct chardev *chardev_new(struct machine *m, const char *text, Error **errp);
void chardev_free(struct chardev *c);
const char *chardev_id(const struct chardev *c);
const char *chardev_backend_name(const struct chardev *c);
/* "filename" as query-chardev reports it (e.g. "unix:/path,server=on"). */
char *chardev_filename(const struct chardev *c);
bool chardev_is_connected(const struct chardev *c);
/* Fails if a frontend is attached already (unless the chardev is a mux). */
bool chardev_attach(struct chardev *c, const struct chardev_frontend *fe,
                    Error **errp);
void chardev_detach(struct chardev *c, void *opaque);
/* Any thread.  Returns bytes accepted (all of them unless dropped). */
size_t chardev_write(struct chardev *c, const uint8_t *buf, size_t len);
/* Any thread.  Takes all of buf, buffering beyond the bound if need be:
 * for framed output (QMP messages) that must never be cut short.  The
 * caller bounds its own backlog with chardev_out_pending(). */
void chardev_write_all(struct chardev *c, const uint8_t *buf, size_t len);
/* Any thread.  Output bytes buffered, waiting for the backend. */
size_t chardev_out_pending(const struct chardev *c);
/* Any thread.  Output bytes the backend has taken so far: tells a slow
 * reader (this grows) from one that stopped. */
uint64_t chardev_out_progress(const struct chardev *c);
/* Main loop only.  Drops the connected client of a socket chardev (a
 * server then accepts the next one); false if there is none. */
bool chardev_disconnect(struct chardev *c);
/* Nudges the backend to poll frontends' can_read again. */
void chardev_accept_input(struct chardev *c);
/* Puts stdio back to its original mode (at exit and on signals). */
void chardev_restore_terminals(struct machine *m);

/* Additions (cli area). */
/* Validates a -chardev text without opening anything: backend, id= and
 * every key.  Used by the command line so errors come before any guest
 * runs.  Each output may be NULL; the caller frees the strings. */
bool chardev_parse_check(const char *text, char **id, char **backend, bool *mux,
                         Error **errp);
/* Output bytes dropped because the backend could not keep up. */
uint64_t chardev_dropped(const struct chardev *c);
/* pty: the slave's path ("/dev/pts/N"); NULL for other backends. */
const char *chardev_pty_path(const struct chardev *c);
/* A frontend is attached: what query-chardev reports as "frontend-open"
 * (QEMU: false for a chardev nothing uses, whatever its connection). */
bool chardev_has_frontend(const struct chardev *c);
/* Main loop only.  The oldest fd a socket client passed with SCM_RIGHTS
 * and nobody took yet (ownership moves to the caller), or -1.  At most 16
 * wait; the rest are closed on arrival, and all on disconnect. */
int chardev_take_msgfd(struct chardev *c);
/* Most output bytes buffered while a backend cannot take them. */
#define CHARDEV_OUT_BOUND (64 * 1024)
/* Changes that bound for one chardev (e.g. a QMP monitor whose replies
 * are larger than a UART's bursts).  Any thread. */
void chardev_set_out_bound(struct chardev *c, size_t bytes);

#endif
