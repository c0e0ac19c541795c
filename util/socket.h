/* SPDX-License-Identifier: MIT */
/*
 * socket.h: the unix-domain stream socket both chardevs (unix:) and
 * migration (unix:) open: a listening one (a stale socket file from an
 * earlier run removed first) or a connected one.
 */
#ifndef UTIL_SOCKET_H
#define UTIL_SOCKET_H

#include "util/common.h"
#include "util/error.h"

/* Returns the fd (CLOEXEC) or -1 with errp naming the path. */
int unix_stream_socket(const char *path, bool server, Error **errp);

#endif
