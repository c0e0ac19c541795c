/* SPDX-License-Identifier: MIT */
/*
 * error.h: the Error ** convention (QEMU's rules, our code).  A function that
 * can fail takes `Error **errp` last and also returns bool/pointer/negative.
 * On failure it sets *errp exactly once; on success it never touches it.
 * errp may be NULL (caller does not care).  Never both report and return.
 */
#ifndef UTIL_ERROR_H
#define UTIL_ERROR_H

#include "util/common.h"

typedef struct Error Error;

enum error_class {
    ERROR_CLASS_GENERIC = 0,
    ERROR_CLASS_COMMAND_NOT_FOUND,
    ERROR_CLASS_DEVICE_NOT_ACTIVE,
    ERROR_CLASS_DEVICE_NOT_FOUND,
    ERROR_CLASS_KVM_MISSING_CAP,
};

void error_setg_internal(Error **errp, enum error_class cls, int err,
                         const char *fmt, ...) PRINTF_FMT(4, 5);
#define error_setg(errp, ...)                                                  \
    error_setg_internal(errp, ERROR_CLASS_GENERIC, 0, __VA_ARGS__)
/* Appends ": strerror(err)"; err is a positive errno value. */
#define error_setg_errno(errp, err, ...)                                       \
    error_setg_internal(errp, ERROR_CLASS_GENERIC, err, __VA_ARGS__)
#define error_set(errp, cls, ...) error_setg_internal(errp, cls, 0, __VA_ARGS__)

const char *error_get_pretty(const Error *err);
enum error_class error_get_class(const Error *err);
/* Moves local_err into *dst (frees it when dst is NULL). */
void error_propagate(Error **dst, Error *local_err);
/* Prefixes the message: "prefix: old message". */
void error_prepend(Error **errp, const char *fmt, ...) PRINTF_FMT(2, 3);
void error_free(Error *err);
/* Prints "vireo: <msg>" to stderr and frees it. */
void error_report_err(Error *err);
void error_report(const char *fmt, ...) PRINTF_FMT(1, 2);
void warn_report(const char *fmt, ...) PRINTF_FMT(1, 2);
/* -msg timestamp=on: prefix reports with the UTC time (call before any
 * thread starts). */
void error_set_timestamps(bool on);

#endif
