/* SPDX-License-Identifier: MIT */
/*
 * netdev-opts.c: -netdev and -nic into struct netdev_opts (see
 * netdev-opts.h).  The dotted form becomes the JSON form first (a
 * repeated hostfwd= becomes QEMU's [{"str": ...}] list), so one parser
 * checks every key and type, as QEMU's QAPI visitor does for Netdev.
 */
#include "util/common.h"
#include "net/netdev-opts.h"
#include "qapi/json-parse.h"
#include "qapi/json-value.h"
#include "util/keyval.h"

#include <arpa/inet.h>

void netdev_opts_clear(struct netdev_opts *o)
{
    g_free(o->id);
    g_free(o->text);
    g_free(o->ifname);
    g_free(o->net);
    g_free(o->host);
    g_free(o->dhcpstart);
    if (o->hostfwd) {
        g_ptr_array_unref(o->hostfwd);
    }
    memset(o, 0, sizeof(*o));
    o->fd = -1;
}

static void hostfwd_free(gpointer p)
{
    struct netdev_hostfwd *f = p;

    g_free(f->host_addr);
    g_free(f->guest_addr);
    g_free(f);
}

/* "ADDR:PORT" with ADDR optional; a NULL *addr means any. */
static bool parse_addr_port(const char *s, char **addr, uint16_t *port,
                            bool port_zero_ok)
{
    const char *colon = strrchr(s, ':');
    uint64_t v;
    struct in_addr in;

    if (!colon || !parse_u64(colon + 1, &v) || v > 65535 ||
        (!port_zero_ok && v == 0)) {
        return false;
    }
    *port = (uint16_t)v;
    if (colon == s) {
        *addr = NULL;
        return true;
    }
    *addr = g_strndup(s, (size_t)(colon - s));
    if (inet_pton(AF_INET, *addr, &in) != 1) {
        g_free(*addr);
        *addr = NULL;
        return false;
    }
    return true;
}

bool netdev_hostfwd_parse(const char *s, struct netdev_hostfwd *f, Error **errp)
{
    const char *p = s, *dash;
    g_autofree char *host = NULL;

    memset(f, 0, sizeof(*f));
    if (g_str_has_prefix(p, "tcp:")) {
        p += 4;
    } else if (g_str_has_prefix(p, "udp:")) {
        f->udp = true;
        p += 4;
    } else if (*p == ':') {
        p++; /* tcp by default */
    } else {
        goto bad;
    }
    dash = strchr(p, '-');
    if (!dash) {
        goto bad;
    }
    host = g_strndup(p, (size_t)(dash - p));
    /* the host part may omit its address (":2222") */
    if (!strchr(host, ':')) {
        char *t = g_strconcat(":", host, NULL);

        g_free(host);
        host = t;
    }
    if (!parse_addr_port(host, &f->host_addr, &f->host_port, true) ||
        !parse_addr_port(dash + 1, &f->guest_addr, &f->guest_port, false)) {
        g_free(f->host_addr);
        g_free(f->guest_addr);
        memset(f, 0, sizeof(*f));
        goto bad;
    }
    return true;
bad:
    error_setg(errp,
               "Invalid host forwarding rule '%s' (expected "
               "[tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT)",
               s);
    return false;
}

/* Splits "a,b=c,,d" at single commas (",," is a literal comma). */
static GPtrArray *split_opts(const char *text)
{
    GPtrArray *parts = g_ptr_array_new_with_free_func(g_free);
    GString *cur = g_string_new(NULL);

    for (const char *p = text;; p++) {
        if (*p == ',' && p[1] == ',') {
            g_string_append_c(cur, ',');
            p++;
        } else if (*p == ',' || *p == '\0') {
            g_ptr_array_add(parts, g_string_free(cur, FALSE));
            if (!*p) {
                break;
            }
            cur = g_string_new(NULL);
        } else {
            g_string_append_c(cur, *p);
        }
    }
    return parts;
}

/* "TYPE,k=v,..." into {"type": TYPE, "k": "v", "hostfwd": [{"str":..}]}. */
static struct json_value *dotted_to_json(const char *text, const char *what,
                                         Error **errp)
{
    g_autoptr(GPtrArray) parts = split_opts(text);
    struct json_value *o = json_new_object();

    for (guint i = 0; i < parts->len; i++) {
        const char *part = g_ptr_array_index(parts, i);
        const char *eq = strchr(part, '=');
        g_autofree char *key = NULL;
        const char *val;

        if (!eq && i == 0) {
            key = g_strdup("type");
            val = part;
        } else if (!eq || eq == part) {
            error_setg(errp, "expected 'key=value' but found '%s'", part);
            goto fail;
        } else {
            key = g_strndup(part, (size_t)(eq - part));
            val = eq + 1;
        }
        if (!strcmp(key, "hostfwd") || !strcmp(key, "guestfwd")) {
            struct json_value *list = json_object_get(o, key);
            struct json_value *item = json_new_object();

            if (!list) {
                list = json_new_array();
                json_object_set(o, key, list);
            }
            json_object_set(item, "str", json_new_string(val));
            json_array_append(list, item);
            continue;
        }
        if (json_object_get(o, key)) {
            error_setg(errp, "parameter '%s' given twice", key);
            goto fail;
        }
        json_object_set(o, key, json_new_string(val));
    }
    return o;
fail:
    json_free(o);
    return NULL;
}

struct nctx {
    const struct json_value *obj;
    const char *what;
    bool dotted;
    GHashTable *used;
};

static const struct json_value *nget(struct nctx *c, const char *key)
{
    g_hash_table_add(c->used, (gpointer)key);
    return json_object_get(c->obj, key);
}

static bool get_str(struct nctx *c, const char *key, char **out, Error **errp)
{
    const struct json_value *v = nget(c, key);

    if (!v) {
        return true;
    }
    if (!json_is(v, JSON_STRING)) {
        error_setg(errp, "Invalid parameter type for '%s', expected: string",
                   key);
        return false;
    }
    g_free(*out);
    *out = g_strdup(json_string(v));
    return true;
}

/* Returns -1 absent, 0/1, or -2 after an error. */
static int get_bool(struct nctx *c, const char *key, Error **errp)
{
    const struct json_value *v = nget(c, key);
    bool b;

    if (!v) {
        return -1;
    }
    if (json_is(v, JSON_BOOL)) {
        return v->u.b;
    }
    if (c->dotted && json_is(v, JSON_STRING) &&
        parse_bool(json_string(v), &b)) {
        return b;
    }
    if (c->dotted) {
        error_setg(errp, "Parameter '%s' expects 'on' or 'off'", key);
    } else {
        error_setg(errp, "Invalid parameter type for '%s', expected: boolean",
                   key);
    }
    return -2;
}

/* Keys of QEMU's NetdevTapOptions / NetdevUserOptions vireo refuses, with
 * why. */
static const struct {
    const char *key;
    const char *why;
} refused_keys[] = {
    {"fds", "multiqueue tap is not supported (use one fd=)"},
    {"vhostfd", "vhost-net is not supported (use vhost=off)"},
    {"vhostfds", "vhost-net is not supported (use vhost=off)"},
    {"vhostforce", "vhost-net is not supported (use vhost=off)"},
    {"queues", "multiqueue tap is not supported"},
    {"helper", "vireo runs no helper programs (pass an open tap with fd=)"},
    {"br", "vireo runs no bridge helper (pass an open tap with fd=)"},
    {"sndbuf", "is not supported"},
    {"poll-us", "is not supported"},
    {"guestfwd", "is not supported (only hostfwd=)"},
    {"restrict", "is not supported"},
    {"ipv6", "is not supported"},
    {"ipv6-net", "is not supported"},
    {"ipv6-prefix", "is not supported"},
    {"ipv6-host", "is not supported"},
    {"hostname", "is not supported"},
    {"dns", "is not supported"},
    {"dnssearch", "is not supported"},
    {"domainname", "is not supported"},
    {"tftp", "is not supported"},
    {"bootfile", "is not supported"},
    {"smb", "is not supported"},
};

static bool check_script(struct nctx *c, const char *key, Error **errp)
{
    g_autofree char *v = NULL;

    if (!get_str(c, key, &v, errp)) {
        return false;
    }
    if (v && strcmp(v, "no") != 0 && *v) {
        error_setg(errp,
                   "%s=%s is not supported: vireo runs no network "
                   "scripts (configure the tap beforehand and use %s=no, or "
                   "pass an open tap with fd=)",
                   key, v, key);
        return false;
    }
    return true;
}

static bool parse_tap(struct nctx *c, struct netdev_opts *o, Error **errp)
{
    g_autofree char *fd = NULL;
    int vhost, vnet;
    uint64_t n;

    if (!get_str(c, "ifname", &o->ifname, errp) ||
        !get_str(c, "fd", &fd, errp) || !check_script(c, "script", errp) ||
        !check_script(c, "downscript", errp)) {
        return false;
    }
    vhost = get_bool(c, "vhost", errp);
    if (vhost == -2) {
        return false;
    }
    if (vhost == 1) {
        error_setg(errp, "vhost=on is not supported: vireo has no vhost-net "
                         "(use vhost=off)");
        return false;
    }
    vnet = get_bool(c, "vnet_hdr", errp);
    if (vnet == -2) {
        return false;
    }
    o->vnet_hdr = vnet < 0 ? NETDEV_VNET_HDR_AUTO
                  : vnet   ? NETDEV_VNET_HDR_ON
                           : NETDEV_VNET_HDR_OFF;
    if (fd) {
        if (!parse_u64(fd, &n) || n > INT32_MAX) {
            /* a getfd name only exists for netdev_add, which vireo refuses */
            error_setg(errp, "No file descriptor named %s found", fd);
            return false;
        }
        if (o->ifname) {
            error_setg(errp, "ifname=, script=, downscript=, vnet_hdr=, "
                             "helper=, queues=, and vhostfd= are invalid "
                             "with fds=");
            return false;
        }
        o->fd = (int)n;
    }
    return true;
}

static bool parse_user(struct nctx *c, struct netdev_opts *o, Error **errp)
{
    const struct json_value *fw;

    if (!get_str(c, "net", &o->net, errp) ||
        !get_str(c, "host", &o->host, errp) ||
        !get_str(c, "dhcpstart", &o->dhcpstart, errp)) {
        return false;
    }
    fw = nget(c, "hostfwd");
    if (!fw) {
        return true;
    }
    if (!json_is(fw, JSON_ARRAY)) {
        error_setg(errp, "Invalid parameter type for 'hostfwd', expected: "
                         "array");
        return false;
    }
    o->hostfwd = g_ptr_array_new_with_free_func(hostfwd_free);
    for (size_t i = 0; i < json_array_len(fw); i++) {
        const struct json_value *item = json_array_get(fw, i);
        const struct json_value *s =
            json_is(item, JSON_OBJECT) ? json_object_get(item, "str") : NULL;
        struct netdev_hostfwd *f = g_new0(struct netdev_hostfwd, 1);

        if (!s || !json_is(s, JSON_STRING) || json_object_len(item) != 1) {
            error_setg(errp, "hostfwd entries are {\"str\": RULE}");
            g_free(f);
            return false;
        }
        if (!netdev_hostfwd_parse(json_string(s), f, errp)) {
            g_free(f);
            return false;
        }
        g_ptr_array_add(o->hostfwd, f);
    }
    return true;
}

static bool id_ok(const char *id)
{
    if (!g_ascii_isalpha(*id)) {
        return false;
    }
    for (const char *p = id; *p; p++) {
        if (!g_ascii_isalnum(*p) && !strchr("-._", *p)) {
            return false;
        }
    }
    return true;
}

/* Parses obj (the netdev's keys) into o; `nic`: the NIC keys were taken
 * out already and id is not required. */
static bool parse_obj(const struct json_value *obj, bool dotted, bool nic,
                      const char *what, struct netdev_opts *o, Error **errp)
{
    struct nctx c = {obj, what, dotted,
                     g_hash_table_new(g_str_hash, g_str_equal)};
    g_autofree char *type = NULL;
    bool ok = false;

    if (nic) {
        /* the NIC's own keys, read by the caller */
        g_hash_table_add(c.used, (gpointer) "model");
        g_hash_table_add(c.used, (gpointer) "mac");
    }
    if (!get_str(&c, "type", &type, errp) || !get_str(&c, "id", &o->id, errp)) {
        goto out;
    }
    if (!type) {
        error_setg(errp, "Parameter 'type' is missing");
        goto out;
    }
    if (!nic && !o->id) {
        error_setg(errp, "Parameter 'id' is missing");
        goto out;
    }
    if (o->id && !id_ok(o->id)) {
        error_setg(errp, "Parameter 'id' expects an identifier (letters, "
                         "digits, '-', '.', '_', starting with a letter)");
        goto out;
    }
    if (!strcmp(type, "tap")) {
        o->type = NETDEV_TAP;
        ok = parse_tap(&c, o, errp);
    } else if (!strcmp(type, "user")) {
        o->type = NETDEV_USER;
        ok = parse_user(&c, o, errp);
    } else if (!strcmp(type, "socket") || !strcmp(type, "stream") ||
               !strcmp(type, "dgram") || !strcmp(type, "bridge") ||
               !strcmp(type, "l2tpv3") || !strcmp(type, "vde") ||
               !strcmp(type, "vhost-user") || !strcmp(type, "vhost-vdpa") ||
               !strcmp(type, "hubport") || !strcmp(type, "netmap") ||
               !strcmp(type, "af-xdp") || !strcmp(type, "vmnet-host") ||
               !strcmp(type, "vmnet-shared") ||
               !strcmp(type, "vmnet-bridged")) {
        error_setg(errp,
                   "netdev type '%s' is not supported by vireo (only "
                   "tap and user)",
                   type);
        goto out;
    } else {
        error_setg(errp, "Parameter 'type' does not accept value '%s'", type);
        goto out;
    }
    for (size_t i = 0; ok && i < json_object_len(obj); i++) {
        const char *k = json_object_member(obj, i)->key;

        if (g_hash_table_contains(c.used, k)) {
            continue;
        }
        ok = false;
        for (size_t j = 0; j < ARRAY_SIZE(refused_keys); j++) {
            if (!strcmp(refused_keys[j].key, k)) {
                error_setg(errp, "%s= %s", k, refused_keys[j].why);
                goto out;
            }
        }
        error_setg(errp, "Invalid parameter '%s'", k);
    }
out:
    g_hash_table_destroy(c.used);
    return ok;
}

static struct json_value *to_json(const char *text, const char *what,
                                  bool *dotted, Error **errp)
{
    struct json_value *tree;
    char *err = NULL;

    while (g_ascii_isspace(*text)) {
        text++;
    }
    *dotted = *text != '{';
    if (*dotted) {
        return dotted_to_json(text, what, errp);
    }
    tree = json_parse(text, strlen(text), &err);
    if (!tree) {
        error_setg(errp, "JSON: %s", err);
        g_free(err);
        return NULL;
    }
    if (!json_is(tree, JSON_OBJECT)) {
        error_setg(errp, "JSON must be an object");
        json_free(tree);
        return NULL;
    }
    return tree;
}

bool netdev_opts_parse(const char *text, const char *what,
                       struct netdev_opts *out, Error **errp)
{
    bool dotted;
    struct json_value *tree;
    bool ok;

    memset(out, 0, sizeof(*out));
    out->fd = -1;
    tree = to_json(text, what, &dotted, errp);
    if (!tree) {
        return false;
    }
    ok = parse_obj(tree, dotted, false, what, out, errp);
    json_free(tree);
    if (!ok) {
        netdev_opts_clear(out);
        return false;
    }
    out->text = g_strdup(text);
    return true;
}

/* The string value of key (NULL when absent). */
static bool nic_str(const struct json_value *o, const char *key, char **out,
                    Error **errp)
{
    const struct json_value *v = json_object_get(o, key);

    if (v && !json_is(v, JSON_STRING)) {
        error_setg(errp, "Invalid parameter type for '%s', expected: string",
                   key);
        return false;
    }
    *out = v ? g_strdup(json_string(v)) : NULL;
    return true;
}

bool netdev_opts_parse_nic(const char *text, struct netdev_opts *out,
                           char **model, char **mac, bool *none, Error **errp)
{
    bool dotted, ok;
    struct json_value *tree;
    const struct json_value *t;

    memset(out, 0, sizeof(*out));
    out->fd = -1;
    *model = *mac = NULL;
    *none = false;
    tree = to_json(text, "-nic", &dotted, errp);
    if (!tree) {
        return false;
    }
    t = json_object_get(tree, "type");
    if (t && json_is(t, JSON_STRING) && !strcmp(json_string(t), "none") &&
        json_object_len(tree) == 1) {
        *none = true;
        json_free(tree);
        return true;
    }
    ok = nic_str(tree, "model", model, errp) && nic_str(tree, "mac", mac, errp);
    if (ok && json_object_get(tree, "id")) {
        error_setg(errp, "Invalid parameter 'id'");
        ok = false;
    }
    ok = ok && parse_obj(tree, dotted, true, "-nic", out, errp);
    json_free(tree);
    if (!ok) {
        g_free(*model);
        g_free(*mac);
        *model = *mac = NULL;
        netdev_opts_clear(out);
        return false;
    }
    out->text = g_strdup(text);
    return true;
}
