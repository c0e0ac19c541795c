/* SPDX-License-Identifier: MIT */
/*
 * netdev-opts.h: QEMU's -netdev option (and the netdev part of -nic) as a
 * typed struct, parsed once by a pure function from either form:
 *
 *   -netdev tap,id=ID[,ifname=NAME][,fd=N][,script=no][,downscript=no]
 *                   [,vhost=off][,vnet_hdr=on|off]
 *   -netdev user,id=ID[,net=ADDR/MASK][,host=ADDR][,dhcpstart=ADDR]
 *                    [,hostfwd=[tcp|udp]:[HADDR]:HPORT-[GADDR]:GPORT]...
 *   -netdev {"type":"tap","id":"hostnet0","fd":"27","vhost":false}
 *
 * Nothing is opened here (net/netdev.c does it).  Keys QEMU knows but
 * vireo does not implement (vhost=on, a script, queues...) are refused by
 * name with the reason (house rule 4).
 */
#ifndef NET_NETDEV_OPTS_H
#define NET_NETDEV_OPTS_H

#include "util/common.h"
#include "util/error.h"

enum netdev_type {
    NETDEV_TAP,
    NETDEV_USER,
};

/* hostfwd=tcp:HADDR:HPORT-GADDR:GPORT (QEMU's slirp redirection). */
struct netdev_hostfwd {
    bool udp;
    char *host_addr;  /* NULL: any */
    char *guest_addr; /* NULL: the DHCP client's address */
    uint16_t host_port, guest_port;
};

enum netdev_vnet_hdr {
    NETDEV_VNET_HDR_AUTO = 0, /* when the tap supports it (QEMU's default) */
    NETDEV_VNET_HDR_OFF,
    NETDEV_VNET_HDR_ON, /* required */
};

struct netdev_opts {
    char *id;
    enum netdev_type type;
    char *text; /* as given, for "-netdev TEXT: reason" */
    /* tap */
    char *ifname;
    int fd; /* -1: open /dev/net/tun */
    enum netdev_vnet_hdr vnet_hdr;
    /* user */
    char *net; /* "10.0.2.0/24" (QEMU's default when NULL) */
    char *host;
    char *dhcpstart;
    GPtrArray *hostfwd; /* struct netdev_hostfwd * */
};

/* -netdev TEXT (dotted keys, or JSON when it starts with '{').  `what`
 * names the option in messages ("-netdev", "-nic"). */
bool netdev_opts_parse(const char *text, const char *what,
                       struct netdev_opts *out, Error **errp);
/* -nic TEXT: the netdev part into `out` (id left NULL), and the NIC's
 * own keys: model= and mac= (NULL when absent), or *none for -nic none. */
bool netdev_opts_parse_nic(const char *text, struct netdev_opts *out,
                           char **model, char **mac, bool *none, Error **errp);
void netdev_opts_clear(struct netdev_opts *o);
/* hostfwd=... value into f. */
bool netdev_hostfwd_parse(const char *s, struct netdev_hostfwd *f,
                          Error **errp);

#endif
