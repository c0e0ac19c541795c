/* SPDX-License-Identifier: MIT */
/*
 * qmp-qom.h: the QOM commands' vCPU answers, exposed so unit tests can
 * check them against a CPU model built on the fake KVM (qmp-qom.c holds
 * the commands themselves).
 */
#ifndef QAPI_QMP_QOM_H
#define QAPI_QMP_QOM_H

#include "util/common.h"
#include "util/error.h"

struct json_value;
struct x86_cpu_model;

/* qom-get of one property of a vCPU of this model: a feature flag (bool),
 * "unavailable-features" (list of names), "family",
 * "model", "stepping" (int), "vendor", "model-id" (string). */
struct json_value *qom_cpu_get(const struct x86_cpu_model *model,
                               const char *prop, Error **errp);

#endif
