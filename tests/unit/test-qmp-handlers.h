/* SPDX-License-Identifier: MIT */
/*
 * test-qmp-handlers.h: handlers and the event sink for the unit-test
 * schema (qapi-schema-test.json), shared by the QMP unit tests.  The
 * "machine" the tests pass is a struct tq_machine in disguise.
 */
#ifndef TESTS_UNIT_TEST_QMP_HANDLERS_H
#define TESTS_UNIT_TEST_QMP_HANDLERS_H

#include "util/common.h"
#include "tests/unit/test-qapi-gen-types.h"

struct tq_machine {
    GPtrArray *events; /* char *: "NAME data" */
    unsigned calls;
};

#define TQ_M(m) ((struct tq_machine *)(void *)(m))

#endif
