/* SPDX-License-Identifier: MIT */
/*
 * netdev.c: the backend interface (see netdev.h) and the machine's netdev
 * table: -netdev and -nic options, parsed by netdev-opts.c, become open
 * backends keyed by id before the accelerator is opened (so a tap that
 * cannot be opened is named on any host); a NIC takes one through its
 * netdev= property, as QEMU's NetClientState peers.  A backend serves at
 * most one NIC (QEMU refuses a second peer the same way).
 */
#include "util/common.h"
#include "net/netdev.h"
#include "hw/core/device.h"
#include "system/machine.h"
#include "qapi/json-value.h"
#include "qapi/qapi-gen-types.h"

struct netdev *netdev_open(const struct netdev_opts *o, Error **errp)
{
    switch (o->type) {
    case NETDEV_TAP:
        return netdev_tap_open(o, errp);
    case NETDEV_USER:
        return netdev_slirp_open(o, errp);
    }
    error_setg(errp, "unknown netdev type");
    return NULL;
}

void netdev_free(struct netdev *nd)
{
    char *id;

    if (!nd) {
        return;
    }
    id = nd->id;
    nd->ops->free(nd);
    g_free(id);
}

void netdev_attach_peer(struct netdev *nd, const struct netdev_peer_ops *ops,
                        void *opaque)
{
    nd->peer = ops;
    nd->peer_opaque = opaque;
}

void netdev_start(struct netdev *nd, GMainContext *ctx)
{
    nd->ops->start(nd, ctx);
}

bool netdev_send(struct netdev *nd, const struct iovec *iov, unsigned n)
{
    if (!nd->ops->send(nd, iov, n)) {
        nd->tx_dropped++;
        return false;
    }
    return true;
}

bool netdev_set_offload(struct netdev *nd, unsigned offloads, Error **errp)
{
    return nd->ops->set_offload(nd, offloads & nd->offload_caps, errp);
}

void netdev_resume(struct netdev *nd)
{
    nd->ops->resume(nd);
}

void netdev_poll(struct netdev *nd)
{
    nd->ops->poll(nd);
}

static bool peer_can_receive(struct netdev *nd)
{
    return !nd->peer || !nd->peer->can_receive ||
           nd->peer->can_receive(nd->peer_opaque);
}

bool netdev_input_held(struct netdev *nd, int *resume)
{
    if (peer_can_receive(nd)) {
        return false;
    }
    /* the peer sets its state before it calls netdev_resume(): either
     * the second question sees it, or the flag does */
    __atomic_store_n(resume, 0, __ATOMIC_SEQ_CST);
    if (peer_can_receive(nd)) {
        return false;
    }
    return !__atomic_load_n(resume, __ATOMIC_SEQ_CST);
}

/* ---- options -------------------------------------------------------- */

void netdev_opts_free(gpointer p)
{
    netdev_opts_clear(p);
    g_free(p);
}

void nic_opts_free(gpointer p)
{
    struct nic_opts *n = p;

    netdev_opts_clear(&n->nd);
    g_free(n->model);
    g_free(n->mac);
    g_free(n);
}

bool machine_config_add_netdev(struct machine_config *cfg, const char *text,
                               Error **errp)
{
    struct netdev_opts *o = g_new0(struct netdev_opts, 1);

    if (!netdev_opts_parse(text, "-netdev", o, errp)) {
        g_free(o);
        return false;
    }
    g_ptr_array_add(cfg->netdevs, o);
    return true;
}

bool machine_config_add_nic(struct machine_config *cfg, const char *text,
                            Error **errp)
{
    struct nic_opts *n = g_new0(struct nic_opts, 1);
    bool none;

    if (!netdev_opts_parse_nic(text, &n->nd, &n->model, &n->mac, &none, errp)) {
        g_free(n);
        return false;
    }
    if (none) {
        g_free(n); /* -nic none: no NIC (vireo adds none by default) */
        return true;
    }
    n->nd.id = g_strdup_printf("__org.qemu.nic%u", cfg->nics->len);
    g_ptr_array_add(cfg->nics, n);
    return true;
}

/* ---- the table ------------------------------------------------------ */

static struct netdev *netdev_find(struct machine *m, const char *id)
{
    for (guint i = 0; m->netdevs && i < m->netdevs->len; i++) {
        struct netdev *nd = g_ptr_array_index(m->netdevs, i);

        if (!strcmp(nd->id, id)) {
            return nd;
        }
    }
    return NULL;
}

static bool netdev_add(struct machine *m, const struct netdev_opts *o,
                       const char *what, Error **errp)
{
    struct netdev *nd;

    if (netdev_find(m, o->id)) {
        error_setg(errp, "%s %s: Duplicate ID '%s' for netdev", what, o->text,
                   o->id);
        return false;
    }
    nd = netdev_open(o, errp);
    if (!nd) {
        error_prepend(errp, "%s %s: ", what, o->text);
        return false;
    }
    g_ptr_array_add(m->netdevs, nd);
    return true;
}

/* The netdev= value of a device's options, or NULL. */
static const char *opts_netdev(const struct device_opts *o)
{
    for (size_t i = 0; i < o->n; i++) {
        if (!strcmp(o->values[i].name, "netdev") &&
            o->values[i].type == PROP_STR) {
            return o->values[i].s;
        }
    }
    return NULL;
}

bool machine_open_netdevs(struct machine *m, Error **errp)
{
    const struct machine_config *cfg = m->cfg;
    GHashTable *users;

    m->netdevs = g_ptr_array_new_with_free_func((GDestroyNotify)netdev_free);
    for (guint i = 0; cfg->netdevs && i < cfg->netdevs->len; i++) {
        if (!netdev_add(m, g_ptr_array_index(cfg->netdevs, i), "-netdev",
                        errp)) {
            return false;
        }
    }
    for (guint i = 0; cfg->nics && i < cfg->nics->len; i++) {
        const struct nic_opts *n = g_ptr_array_index(cfg->nics, i);

        if (!n->model && !m->type->default_nic) {
            error_setg(errp,
                       "-nic %s: machine type '%s' has no default NIC "
                       "(give model=)",
                       n->nd.text, m->type->name);
            return false;
        }
        if (!netdev_add(m, &n->nd, "-nic", errp)) {
            return false;
        }
    }
    /* every netdev= names a backend, and no backend serves two NICs */
    users = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint i = 0; i < cfg->devices->len; i++) {
        const struct device_opts *o = g_ptr_array_index(cfg->devices, i);
        const char *id = opts_netdev(o);

        if (!id) {
            continue;
        }
        if (!netdev_find(m, id)) {
            error_setg(errp,
                       "-device %s: Property '%s.netdev' can't find value "
                       "'%s'",
                       o->text, o->cls->name, id);
            g_hash_table_destroy(users);
            return false;
        }
        if (!g_hash_table_add(users, (gpointer)id)) {
            error_setg(errp,
                       "-device %s: Property '%s.netdev' can't take value "
                       "'%s', it's in use",
                       o->text, o->cls->name, id);
            g_hash_table_destroy(users);
            return false;
        }
    }
    g_hash_table_destroy(users);
    return true;
}

bool machine_create_nic_devices(struct machine *m, Error **errp)
{
    for (guint i = 0; m->cfg->nics && i < m->cfg->nics->len; i++) {
        const struct nic_opts *n = g_ptr_array_index(m->cfg->nics, i);
        const char *model = n->model ? n->model : m->type->default_nic;
        struct prop_value v[] = {PROP_VAL_STR("netdev", n->nd.id),
                                 PROP_VAL_STR("mac", n->mac)};

        /* QEMU's model=virtio: the board's virtio-net */
        if (!strcmp(model, "virtio") || !strcmp(model, "virtio-net")) {
            model = m->type->default_nic;
        }
        if (!model || !device_class_find(model)) {
            error_setg(errp, "-nic %s: unsupported NIC model '%s'", n->nd.text,
                       n->model);
            return false;
        }
        if (!device_create(m, model, v, n->mac ? 2 : 1, errp)) {
            error_prepend(errp, "-nic %s: ", n->nd.text);
            return false;
        }
    }
    return true;
}

struct netdev *netdev_attach(struct machine *m, const char *id,
                             struct device *dev, Error **errp)
{
    struct netdev *nd;

    if (!id) {
        error_setg(errp, "netdev property not set");
        return NULL;
    }
    nd = netdev_find(m, id);
    if (!nd) {
        error_setg(errp, "Property '%s.netdev' can't find value '%s'",
                   dev->cls->name, id);
        return NULL;
    }
    if (nd->user) {
        error_setg(errp,
                   "Property '%s.netdev' can't take value '%s', it's in "
                   "use",
                   dev->cls->name, id);
        return NULL;
    }
    nd->user = dev;
    return nd;
}

void netdev_detach(struct netdev *nd)
{
    if (nd) {
        nd->user = NULL;
        nd->peer = NULL;
        nd->peer_opaque = NULL;
    }
}

void machine_close_netdevs(struct machine *m)
{
    if (m->netdevs) {
        g_ptr_array_free(m->netdevs, TRUE);
        m->netdevs = NULL;
    }
}

void machine_default_mac(struct machine *m, uint8_t mac[6])
{
    static const uint8_t base[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

    memcpy(mac, base, 6);
    mac[5] = (uint8_t)(base[5] + m->nic_macs++);
}

/* ---- QMP ------------------------------------------------------------ */

/* netdev_add: checked like -netdev (the same parser), then refused. */
struct json_value *qmp_marshal_netdev_add(struct machine *m,
                                          const struct json_value *args,
                                          Error **errp)
{
    struct netdev_opts o;
    char *text;
    bool ok;

    if (!args || !json_is(args, JSON_OBJECT)) {
        error_setg(errp, "Parameter 'type' is missing");
        return NULL;
    }
    text = json_to_string(args);
    ok = netdev_opts_parse(text, "netdev_add", &o, errp);
    g_free(text);
    if (!ok) {
        return NULL;
    }
    if (netdev_find(m, o.id)) {
        error_setg(errp, "Duplicate ID '%s' for netdev", o.id);
    } else {
        error_setg(errp, "netdev_add is not supported: vireo has no network "
                         "hot-plug (give -netdev on the command line)");
    }
    netdev_opts_clear(&o);
    return NULL;
}

void qmp_netdev_del(struct machine *m, char *id, Error **errp)
{
    if (!netdev_find(m, id)) {
        error_setg(errp, "Device '%s' not found", id);
        return;
    }
    error_setg(errp, "netdev_del is not supported: vireo has no network "
                     "hot-unplug");
}
