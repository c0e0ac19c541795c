/* SPDX-License-Identifier: MIT */
/*
 * slirp-stub.c: -netdev user in a build without libslirp (meson found no
 * libslirp): refused with the reason, so the option fails loudly.
 */
#include "util/common.h"
#include "net/netdev.h"

struct netdev *netdev_slirp_open(const struct netdev_opts *o, Error **errp)
{
    error_setg(errp, "this vireo was built without libslirp: -netdev user "
                     "is not available (use tap)");
    return NULL;
}
