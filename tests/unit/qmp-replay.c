/* SPDX-License-Identifier: MIT */
/*
 * qmp-replay.c: runs the bytes on stdin through a real QMP session (the
 * JSON splitter, parser, dispatcher and command table of the binary) on a
 * machine without KVM, after the greeting and qmp_capabilities, and
 * writes every reply to stdout.  qmp_vs_qemu.py compares that with what
 * QEMU 7.2 answers to the same bytes.
 */
#include "util/common.h"
#include <unistd.h>
#include "qapi/qmp-session.h"
#include "qapi/qapi-gen-types.h"
#include "system/machine.h"

static bool out_write(void *opaque, const char *data, size_t len, bool event)
{
    return fwrite(data, 1, len, stdout) == len;
}

static const struct qmp_transport out_transport = {.write = out_write};

int main(int argc, char **argv)
{
    static const char neg[] = "{\"execute\":\"qmp_capabilities\"}";
    struct machine m = {.state = RUN_STATE_RUNNING};
    struct qmp_session *s = qmp_session_new(&m, qapi_commands, qapi_nr_commands,
                                            false, &out_transport, NULL);
    uint8_t buf[4096];
    ssize_t n;

    qmp_session_greet(s);
    qmp_session_input(s, (const uint8_t *)neg, sizeof(neg) - 1);
    while ((n = read(STDIN_FILENO, buf, sizeof(buf))) > 0) {
        qmp_session_input(s, buf, (size_t)n);
    }
    qmp_session_free(s);
    return fflush(stdout) == 0 && n == 0 ? 0 : 1;
}
