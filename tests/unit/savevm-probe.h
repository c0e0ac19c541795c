/* SPDX-License-Identifier: MIT */
/*
 * savevm-probe.h: a one-field test section whose post_load refuses one
 * value (0xdeadbeef), shared by the stream loader's unit test and its
 * fuzz target so both exercise the same refusal and rollback path.
 */
#ifndef TESTS_UNIT_SAVEVM_PROBE_H
#define TESTS_UNIT_SAVEVM_PROBE_H

#include "util/common.h"
#include "migration/vmstate.h"

struct probe {
    uint32_t v;
};

static bool probe_post_load(void *opaque, Error **errp)
{
    if (((struct probe *)opaque)->v == 0xdeadbeef) {
        error_setg(errp, "value 0xdeadbeef refused");
        return false;
    }
    return true;
}

static const struct vmstate_field probe_fields[] = {
    VMS_U32(struct probe, v),
    VMS_END,
};

static const struct vmstate_desc probe_vmsd = {
    .name = "probe",
    .version = 1,
    .fields = probe_fields,
    .post_load = probe_post_load,
};

#endif
