/* SPDX-License-Identifier: MIT */
/*
 * main.c: process entry: parse the command line, build the machine, run
 * the main loop, exit with QEMU's statuses.  The only place exit() is
 * called.
 */
#include "util/common.h"

int main(int argc, char **argv)
{
    fprintf(stderr, "vireo: not yet\n");
    return 1;
}
