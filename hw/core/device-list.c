/* SPDX-License-Identifier: MIT */
/*
 * device-list.c: the table of device classes (no constructors, no
 * registration magic: this list is the whole device model of vireo).
 */
#include "util/common.h"
#include "hw/core/device.h"

/* --- dev: serial, debug-exit, port80, i8042 --- */
/* --- boot: rtc --- */

const struct device_class *const device_classes[] = {
    /* --- dev --- */
    /* --- boot --- */
    NULL,
};
