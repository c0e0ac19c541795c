/* SPDX-License-Identifier: MIT */
/*
 * object.c: the -object table (see object.h).  The classes and property
 * names are QEMU's (qapi/qom.json in QEMU 7.2: SecretProperties,
 * MemoryBackendProperties, MemoryBackendFileProperties); each accepted
 * property is honoured, and any other is refused with its name.
 *
 * secret:              data= or file=, format=raw|base64; the bytes are
 *                      read at start-up and kept (libvirt's master key).
 * memory-backend-ram:  size=, share=: guest RAM in a memfd.
 * memory-backend-file: size=, mem-path=, share=: guest RAM in that file
 *                      (a directory gets an unlinked temporary file),
 *                      mapped shared or private.
 * rng-random:          filename= (default /dev/urandom): an entropy
 *                      source for virtio-rng, opened (non-blocking) at
 *                      start-up, before the sandbox (QEMU's
 *                      RngRandomProperties).
 * rng-builtin:         no properties: getrandom(2), as QEMU's.
 * sev-guest, sev-snp-guest: SEV/SEV-ES/SNP launch parameters; the
 *                      properties are sev/sev-config.c's (QEMU's
 *                      SevGuestProperties, SevSnpGuestProperties).
 */
#include "util/common.h"
#include "system/object.h"
#include "qapi/json-parse.h"
#include "qapi/json-value.h"
#include "sev/sev-config.h"
#include "util/keyval.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* A secret larger than this is not a key: refuse rather than read it. */
#define SECRET_MAX (64 * KiB)

static const char *const secret_formats[] = {"raw", "base64", NULL};

static const struct object_prop secret_props[] = {
    {"data", OBJ_PROP_STR, false, NULL, "the secret, inline"},
    {"file", OBJ_PROP_STR, false, NULL, "file holding the secret"},
    /* the first value is the default */
    {"format", OBJ_PROP_ENUM, false, secret_formats,
     "encoding of the secret: raw (default) or base64"},
    {NULL, 0, false, NULL, NULL},
};

static const struct object_prop ram_props[] = {
    {"size", OBJ_PROP_SIZE, true, NULL, "size of the memory region"},
    {"share", OBJ_PROP_BOOL, false, NULL,
     "map the memory shared (on) or private (off, default)"},
    {NULL, 0, false, NULL, NULL},
};

static const struct object_prop file_props[] = {
    {"size", OBJ_PROP_SIZE, true, NULL, "size of the memory region"},
    {"mem-path", OBJ_PROP_STR, true, NULL,
     "file (or directory for a temporary file) backing the memory"},
    {"share", OBJ_PROP_BOOL, false, NULL,
     "map the file shared (on: writes reach the file) or private (off)"},
    {NULL, 0, false, NULL, NULL},
};

static bool secret_check(struct object *obj, Error **errp)
{
    bool data = object_get(obj, "data")->set;
    bool file = object_get(obj, "file")->set;

    if (data == file) {
        error_setg(errp,
                   "secret '%s': exactly one of 'data' and 'file' is "
                   "needed",
                   obj->id);
        return false;
    }
    return true;
}

static bool read_secret_file(struct object *obj, const char *path, GString *out,
                             Error **errp)
{
    char buf[4096];
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
        error_setg_errno(errp, errno, "secret '%s': cannot read '%s'", obj->id,
                         path);
        return false;
    }
    while (true) {
        ssize_t n = read(fd, buf, sizeof(buf));

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            error_setg_errno(errp, errno, "secret '%s': cannot read '%s'",
                             obj->id, path);
            close(fd);
            return false;
        }
        if (n == 0) {
            break;
        }
        if (out->len + (size_t)n > SECRET_MAX) {
            error_setg(errp, "secret '%s': '%s' is larger than %u bytes",
                       obj->id, path, (unsigned)SECRET_MAX);
            close(fd);
            return false;
        }
        g_string_append_len(out, buf, n);
    }
    close(fd);
    return true;
}

/* g_base64_decode() accepts garbage; QEMU refuses it, so do we. */
static bool valid_base64(const char *s, size_t len)
{
    size_t pad = 0;

    if (len % 4) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '=') {
            pad++;
        } else if (pad || !(g_ascii_isalnum(c) || c == '+' || c == '/')) {
            return false;
        }
    }
    return pad <= 2;
}

static bool secret_realize(struct object *obj, Error **errp)
{
    const char *data = object_get_str(obj, "data");
    const char *fmt = object_get_str(obj, "format");
    GString *raw = g_string_new(NULL);

    if (data) {
        g_string_append(raw, data);
    } else if (!read_secret_file(obj, object_get_str(obj, "file"), raw, errp)) {
        g_string_free(raw, TRUE);
        return false;
    }
    if (fmt && !strcmp(fmt, "base64")) {
        gsize len;

        if (!valid_base64(raw->str, raw->len)) {
            error_setg(errp, "secret '%s': the data is not valid base64",
                       obj->id);
            g_string_free(raw, TRUE);
            return false;
        }
        obj->data = g_base64_decode(raw->str, &len);
        obj->data_len = len;
        memset(raw->str, 0, raw->len);
        g_string_free(raw, TRUE);
        return true;
    }
    obj->data_len = raw->len;
    obj->data = (uint8_t *)g_string_free(raw, FALSE);
    return true;
}

static void secret_finalize(struct object *obj)
{
    if (obj->data) {
        memset(obj->data, 0, obj->data_len); /* do not leave keys around */
    }
}

static bool backend_check(struct object *obj, Error **errp)
{
    uint64_t size = object_get_size(obj, "size");

    if (size == 0) {
        error_setg(errp, "memory backend '%s': size must be greater than 0",
                   obj->id);
        return false;
    }
    return true;
}

static bool ram_realize(struct object *obj, Error **errp)
{
    uint64_t size = object_get_size(obj, "size");

    obj->fd = memfd_create(obj->id, MFD_CLOEXEC);
    if (obj->fd < 0) {
        error_setg_errno(errp, errno, "memory backend '%s': memfd_create",
                         obj->id);
        return false;
    }
    if (ftruncate(obj->fd, (off_t)size) < 0) {
        error_setg_errno(errp, errno,
                         "memory backend '%s': cannot allocate %" PRIu64
                         " bytes",
                         obj->id, size);
        return false;
    }
    return true;
}

static bool file_realize(struct object *obj, Error **errp)
{
    const char *path = object_get_str(obj, "mem-path");
    uint64_t size = object_get_size(obj, "size");
    struct stat st;

    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        /* QEMU's rule: a directory (hugetlbfs mount) gets a new file. */
        obj->fd = open(path, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    } else {
        obj->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    }
    if (obj->fd < 0 || fstat(obj->fd, &st) < 0) {
        error_setg_errno(errp, errno, "memory backend '%s': cannot open '%s'",
                         obj->id, path);
        return false;
    }
    if (S_ISREG(st.st_mode) && st.st_size == 0) {
        if (ftruncate(obj->fd, (off_t)size) < 0) {
            error_setg_errno(errp, errno,
                             "memory backend '%s': cannot size '%s' to "
                             "%" PRIu64 " bytes",
                             obj->id, path, size);
            return false;
        }
    } else if (S_ISREG(st.st_mode) && (uint64_t)st.st_size < size) {
        error_setg(errp,
                   "memory backend '%s': backing store '%s' size 0x%" PRIx64
                   " does not match 'size' option 0x%" PRIx64,
                   obj->id, path, (uint64_t)st.st_size, size);
        return false;
    }
    return true;
}

static void backend_finalize(struct object *obj)
{
}

static const struct object_class secret_class = {
    .name = "secret",
    .parent = "secret_common",
    .desc = "a secret (key) that other objects refer to by id",
    .props = secret_props,
    .check = secret_check,
    .realize = secret_realize,
    .finalize = secret_finalize,
};

static const struct object_class memory_backend_ram_class = {
    .name = "memory-backend-ram",
    .parent = "memory-backend",
    .desc = "guest RAM in anonymous host memory",
    .props = ram_props,
    .check = backend_check,
    .realize = ram_realize,
    .finalize = backend_finalize,
};

static const struct object_class memory_backend_file_class = {
    .name = "memory-backend-file",
    .parent = "memory-backend",
    .desc = "guest RAM in a host file",
    .props = file_props,
    .check = backend_check,
    .realize = file_realize,
    .finalize = backend_finalize,
};

static const struct object_prop rng_random_props[] = {
    {"filename", OBJ_PROP_STR, false, NULL,
     "file to read entropy from (default " OBJECT_RNG_DEFAULT_FILE ")"},
    {NULL, 0, false, NULL, NULL},
};

static const struct object_prop rng_builtin_props[] = {
    {NULL, 0, false, NULL, NULL},
};

/* Opened here, before the sandbox, so a missing file stops start-up
 * with QEMU's message; non-blocking because the main loop reads it (a
 * slow source such as /dev/hwrng is watched, not waited for). */
static bool rng_random_realize(struct object *obj, Error **errp)
{
    const char *path = object_get_str(obj, "filename");

    if (!path) {
        path = OBJECT_RNG_DEFAULT_FILE;
    }
    if (!*path) {
        error_setg(errp, "rng-random '%s': filename must not be empty",
                   obj->id);
        return false;
    }
    obj->fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (obj->fd < 0) {
        error_setg_errno(errp, errno, "Could not open '%s'", path);
        return false;
    }
    return true;
}

static bool rng_builtin_realize(struct object *obj, Error **errp)
{
    return true; /* getrandom(2) needs nothing opened */
}

static const struct object_class rng_random_class = {
    .name = "rng-random",
    .parent = "rng-backend",
    .desc = "entropy from a host file or device (virtio-rng rng=)",
    .props = rng_random_props,
    .realize = rng_random_realize,
};

static const struct object_class rng_builtin_class = {
    .name = "rng-builtin",
    .parent = "rng-backend",
    .desc = "entropy from the host's getrandom(2) (virtio-rng rng=)",
    .props = rng_builtin_props,
    .realize = rng_builtin_realize,
};

/* Property names and QOM types only: sev_config_parse() checks values. */
static const struct object_prop sev_guest_props[] = {
    {"cbitpos", OBJ_PROP_STR, false, NULL, "C-bit location in page tables",
     "uint32"},
    {"reduced-phys-bits", OBJ_PROP_STR, false, NULL,
     "physical address bits the C-bit costs", "uint32"},
    {"kernel-hashes", OBJ_PROP_BOOL, false, NULL,
     "add kernel hashes to the measured firmware"},
    {"policy", OBJ_PROP_STR, false, NULL, "guest policy", "uint32"},
    {"handle", OBJ_PROP_STR, false, NULL, "SEV firmware handle", "uint32"},
    {"dh-cert-file", OBJ_PROP_STR, false, NULL,
     "guest owner's Diffie-Hellman key (base64 file)"},
    {"session-file", OBJ_PROP_STR, false, NULL,
     "guest owner's session parameters (base64 file)"},
    {NULL, 0, false, NULL, NULL},
};

static const struct object_prop sev_snp_guest_props[] = {
    {"cbitpos", OBJ_PROP_STR, false, NULL, "C-bit location in page tables",
     "uint32"},
    {"reduced-phys-bits", OBJ_PROP_STR, false, NULL,
     "physical address bits the C-bit costs", "uint32"},
    {"kernel-hashes", OBJ_PROP_BOOL, false, NULL,
     "add kernel hashes to the measured firmware"},
    {"policy", OBJ_PROP_STR, false, NULL, "guest policy", "uint64"},
    {"guest-visible-workarounds", OBJ_PROP_STR, false, NULL,
     "16 bytes, base64"},
    {"id-block", OBJ_PROP_STR, false, NULL, "96 bytes, base64"},
    {"id-auth", OBJ_PROP_STR, false, NULL, "4096 bytes, base64"},
    {"author-key-enabled", OBJ_PROP_BOOL, false, NULL,
     "id-auth carries an author key"},
    {"host-data", OBJ_PROP_STR, false, NULL, "32 bytes, base64"},
    {NULL, 0, false, NULL, NULL},
};

static bool sev_parse(struct object *obj, struct keyval *kv, Error **errp)
{
    struct sev_config sc;

    if (!sev_config_parse(obj->cls->name, kv, &sc, errp)) {
        return false;
    }
    obj->sev = g_memdup2(&sc, sizeof(sc));
    return true;
}

/* The SEV context is opened by sev/ when the machine is built. */
static bool sev_realize(struct object *obj, Error **errp)
{
    return true;
}

static void sev_finalize(struct object *obj)
{
    if (obj->sev) {
        sev_config_free(obj->sev);
        g_free(obj->sev);
    }
}

static const struct object_class sev_guest_class = {
    .name = "sev-guest",
    .parent = "confidential-guest-support",
    .desc = "AMD SEV / SEV-ES guest (-machine confidential-guest-support)",
    .props = sev_guest_props,
    .parse = sev_parse,
    .realize = sev_realize,
    .finalize = sev_finalize,
};

static const struct object_class sev_snp_guest_class = {
    .name = "sev-snp-guest",
    .parent = "confidential-guest-support",
    .desc = "AMD SEV-SNP guest (-machine confidential-guest-support)",
    .props = sev_snp_guest_props,
    .parse = sev_parse,
    .realize = sev_realize,
    .finalize = sev_finalize,
};

const struct object_class *const object_classes[] = {
    &secret_class,
    &memory_backend_ram_class,
    &memory_backend_file_class,
    &sev_guest_class,
    &sev_snp_guest_class,
    /* --- virtio-rng --- */
    &rng_random_class,
    &rng_builtin_class,
    NULL,
};

struct sev_config *object_sev_config(const struct object *obj)
{
    return obj->sev;
}

const struct object_class *object_class_find(const char *name)
{
    for (size_t i = 0; object_classes[i]; i++) {
        if (!strcmp(object_classes[i]->name, name)) {
            return object_classes[i];
        }
    }
    return NULL;
}

static int prop_index(const struct object_class *cls, const char *name)
{
    for (int i = 0; cls->props[i].name; i++) {
        if (!strcmp(cls->props[i].name, name)) {
            return i;
        }
    }
    return -1;
}

const struct object_value *object_get(const struct object *obj,
                                      const char *name)
{
    int i = prop_index(obj->cls, name);

    g_assert(i >= 0); /* callers name their own class's properties */
    return &obj->v[i];
}

const char *object_get_str(const struct object *obj, const char *name)
{
    return object_get(obj, name)->s;
}

bool object_get_bool(const struct object *obj, const char *name)
{
    return object_get(obj, name)->b;
}

uint64_t object_get_size(const struct object *obj, const char *name)
{
    return object_get(obj, name)->u;
}

bool object_is_memory_backend(const struct object *obj)
{
    return !strcmp(obj->cls->parent, "memory-backend");
}

bool object_is_rng_backend(const struct object *obj)
{
    return !strcmp(obj->cls->parent, "rng-backend");
}

const char *object_prop_qom_type(const struct object_prop *p)
{
    if (p->qom_type) {
        return p->qom_type;
    }
    switch (p->type) {
    case OBJ_PROP_BOOL:
        return "bool";
    case OBJ_PROP_SIZE:
        return "int";
    case OBJ_PROP_STR:
    case OBJ_PROP_ENUM:
        break;
    }
    return "string";
}

/* One property from text (key=value form). */
static bool set_from_text(struct object *obj, const struct object_prop *p,
                          struct object_value *v, const char *text,
                          Error **errp)
{
    switch (p->type) {
    case OBJ_PROP_BOOL:
        if (!parse_bool(text, &v->b)) {
            error_setg(errp, "Parameter '%s' expects 'on' or 'off'", p->name);
            return false;
        }
        break;
    case OBJ_PROP_SIZE:
        if (!parse_size(text, 1, &v->u)) {
            error_setg(errp,
                       "Parameter '%s' expects a non-negative size "
                       "(suffixes k, M, G, T)",
                       p->name);
            return false;
        }
        break;
    case OBJ_PROP_ENUM:
        if (!g_strv_contains((const char *const *)p->values, text)) {
            g_autofree char *list =
                g_strjoinv(", ", (char **)(uintptr_t)p->values);
            error_setg(errp,
                       "Parameter '%s' does not accept value '%s' "
                       "(one of: %s)",
                       p->name, text, list);
            return false;
        }
        /* fall through */
    case OBJ_PROP_STR:
        g_free(v->s);
        v->s = g_strdup(text);
        break;
    }
    v->set = true;
    return true;
}

/* One property from a JSON value: QEMU's JSON -object is strictly typed. */
static bool set_from_json(struct object *obj, const struct object_prop *p,
                          struct object_value *v, const struct json_value *j,
                          Error **errp)
{
    switch (p->type) {
    case OBJ_PROP_BOOL:
        if (!json_is(j, JSON_BOOL)) {
            error_setg(errp,
                       "Invalid parameter type for '%s', expected: "
                       "boolean",
                       p->name);
            return false;
        }
        v->b = j->u.b;
        break;
    case OBJ_PROP_SIZE:
        if (json_is(j, JSON_INT) && j->u.i >= 0) {
            v->u = (uint64_t)j->u.i;
        } else if (json_is(j, JSON_UINT)) {
            v->u = j->u.u;
        } else {
            error_setg(errp,
                       "Invalid parameter type for '%s', expected: "
                       "integer",
                       p->name);
            return false;
        }
        break;
    case OBJ_PROP_STR:
    case OBJ_PROP_ENUM:
        if (!json_is(j, JSON_STRING)) {
            error_setg(errp,
                       "Invalid parameter type for '%s', expected: "
                       "string",
                       p->name);
            return false;
        }
        return set_from_text(obj, p, v, json_string(j), errp);
    }
    v->set = true;
    return true;
}

static struct object *object_alloc(const char *type, const char *id,
                                   Error **errp)
{
    const struct object_class *cls;
    struct object *obj;
    size_t n = 0;

    if (!type || !*type) {
        error_setg(errp, "Parameter 'qom-type' is missing");
        return NULL;
    }
    cls = object_class_find(type);
    if (!cls) {
        error_setg(errp, "invalid object type: %s (see -object help)", type);
        return NULL;
    }
    if (!id || !*id) {
        error_setg(errp, "Parameter 'id' is missing");
        return NULL;
    }
    /* QEMU's id rule: a letter, then letters, digits, '-', '.', '_' */
    if (!g_ascii_isalpha(id[0]) || strspn(id, "abcdefghijklmnopqrstuvwxyz"
                                              "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                              "0123456789-._") != strlen(id)) {
        error_setg(errp, "Parameter 'id' expects an identifier");
        return NULL;
    }
    while (cls->props[n].name) {
        n++;
    }
    obj = g_new0(struct object, 1);
    obj->cls = cls;
    obj->id = g_strdup(id);
    obj->v = g_new0(struct object_value, n);
    obj->fd = -1;
    return obj;
}

static bool object_finish_parse(struct object *obj, Error **errp)
{
    for (int i = 0; obj->cls->props[i].name; i++) {
        if (obj->cls->props[i].required && !obj->v[i].set) {
            error_setg(errp, "Parameter '%s' is missing",
                       obj->cls->props[i].name);
            return false;
        }
    }
    return !obj->cls->check || obj->cls->check(obj, errp);
}

/* Appends ",key=value" with QEMU's ",," escape for commas in the value. */
static void append_kv(GString *s, const char *key, const char *val)
{
    g_string_append_printf(s, ",%s=", key);
    for (const char *c = val; *c; c++) {
        g_string_append(s, *c == ',' ? ",," : (char[]){*c, 0});
    }
}

/* The classes' own parser takes key/values: their JSON form becomes
 * text, with each key checked against the class's property names first
 * (so no key can smuggle "=" or ","), and scalars only. */
static bool parse_json_by_hook(struct object *obj, const struct json_value *j,
                               Error **errp)
{
    g_autoptr(GString) text = g_string_new("id=");
    struct keyval *kv;
    bool ok;

    g_string_append(text, obj->id); /* an identifier: no comma */
    for (size_t i = 0; i < json_object_len(j); i++) {
        const struct json_member *mb = json_object_member(j, i);
        g_autofree char *num = NULL;
        const char *val;

        if (!strcmp(mb->key, "qom-type") || !strcmp(mb->key, "id")) {
            continue;
        }
        if (prop_index(obj->cls, mb->key) < 0) {
            error_setg(errp, "Parameter '%s' is unexpected for %s", mb->key,
                       obj->cls->name);
            return false;
        }
        if (json_is(mb->val, JSON_STRING)) {
            val = json_string(mb->val);
        } else if (json_is(mb->val, JSON_BOOL)) {
            val = mb->val->u.b ? "on" : "off";
        } else if (json_is(mb->val, JSON_INT)) {
            val = num = g_strdup_printf("%" PRId64, (int64_t)mb->val->u.i);
        } else if (json_is(mb->val, JSON_UINT)) {
            val = num = g_strdup_printf("%" PRIu64, (uint64_t)mb->val->u.u);
        } else {
            error_setg(errp,
                       "Invalid parameter type for '%s', expected: "
                       "a scalar",
                       mb->key);
            return false;
        }
        append_kv(text, mb->key, val);
    }
    kv = keyval_parse(text->str, NULL, errp);
    if (!kv) {
        return false;
    }
    ok = obj->cls->parse(obj, kv, errp) &&
         keyval_check_all_used(kv, obj->cls->name, errp);
    keyval_free(kv);
    return ok;
}

static struct object *parse_json(const char *text, Error **errp)
{
    char *perr = NULL;
    struct json_value *j = json_parse(text, strlen(text), &perr);
    struct object *obj = NULL;

    if (!j) {
        error_setg(errp, "invalid JSON: %s", perr ? perr : "parse error");
        g_free(perr);
        return NULL;
    }
    if (!json_is(j, JSON_OBJECT)) {
        error_setg(errp, "JSON form must be an object");
        goto out;
    }
    if (json_object_get(j, "qom-type") &&
        !json_string(json_object_get(j, "qom-type"))) {
        error_setg(errp, "Invalid parameter type for 'qom-type', expected: "
                         "string");
        goto out;
    }
    if (json_object_get(j, "id") && !json_string(json_object_get(j, "id"))) {
        error_setg(errp, "Invalid parameter type for 'id', expected: string");
        goto out;
    }
    obj = object_alloc(json_string(json_object_get(j, "qom-type")),
                       json_string(json_object_get(j, "id")), errp);
    if (!obj) {
        goto out;
    }
    if (obj->cls->parse) {
        if (parse_json_by_hook(obj, j, errp)) {
            goto out;
        }
        goto fail;
    }
    for (size_t i = 0; i < json_object_len(j); i++) {
        const struct json_member *mb = json_object_member(j, i);
        int k;

        if (!strcmp(mb->key, "qom-type") || !strcmp(mb->key, "id")) {
            continue;
        }
        k = prop_index(obj->cls, mb->key);
        if (k < 0) {
            error_setg(errp, "Parameter '%s' is unexpected for %s", mb->key,
                       obj->cls->name);
            goto fail;
        }
        if (!set_from_json(obj, &obj->cls->props[k], &obj->v[k], mb->val,
                           errp)) {
            goto fail;
        }
    }
    if (object_finish_parse(obj, errp)) {
        goto out;
    }
fail:
    object_free(obj);
    obj = NULL;
out:
    json_free(j);
    return obj;
}

static struct object *parse_keyval(const char *text, Error **errp)
{
    struct keyval *kv = keyval_parse(text, "qom-type", errp);
    struct object *obj;

    if (!kv) {
        return NULL;
    }
    obj = object_alloc(keyval_get(kv, "qom-type"), keyval_get(kv, "id"), errp);
    if (!obj) {
        goto out;
    }
    if (obj->cls->parse) {
        if (obj->cls->parse(obj, kv, errp) &&
            keyval_check_all_used(kv, obj->cls->name, errp)) {
            goto out;
        }
        goto fail;
    }
    for (size_t i = 0; i < keyval_count(kv); i++) {
        const char *key = keyval_key_at(kv, i);
        int k;

        if (!strcmp(key, "qom-type") || !strcmp(key, "id")) {
            continue;
        }
        k = prop_index(obj->cls, key);
        if (k < 0) {
            error_setg(errp, "Parameter '%s' is unexpected for %s", key,
                       obj->cls->name);
            goto fail;
        }
        if (!set_from_text(obj, &obj->cls->props[k], &obj->v[k],
                           keyval_value_at(kv, i), errp)) {
            goto fail;
        }
    }
    if (object_finish_parse(obj, errp)) {
        goto out;
    }
fail:
    object_free(obj);
    obj = NULL;
out:
    keyval_free(kv);
    return obj;
}

struct object *object_parse(const char *text, Error **errp)
{
    return text[0] == '{' ? parse_json(text, errp) : parse_keyval(text, errp);
}

bool object_realize(struct object *obj, Error **errp)
{
    if (obj->realized) {
        return true;
    }
    if (!obj->cls->realize(obj, errp)) {
        return false; /* the message names the object */
    }
    obj->realized = true;
    return true;
}

void object_free(struct object *obj)
{
    if (!obj) {
        return;
    }
    if (obj->cls->finalize) {
        obj->cls->finalize(obj);
    }
    for (int i = 0; obj->cls->props[i].name; i++) {
        g_free(obj->v[i].s);
    }
    if (obj->fd >= 0) {
        close(obj->fd);
    }
    g_free(obj->v);
    g_free(obj->data);
    g_free(obj->id);
    g_free(obj);
}

struct object *object_find(GPtrArray *objects, const char *id)
{
    for (guint i = 0; objects && i < objects->len; i++) {
        struct object *obj = g_ptr_array_index(objects, i);
        if (!strcmp(obj->id, id)) {
            return obj;
        }
    }
    return NULL;
}

char *object_help(const char *type)
{
    GString *s;
    const struct object_class *cls;

    if (!type) {
        s = g_string_new("List of user creatable objects:\n");
        for (size_t i = 0; object_classes[i]; i++) {
            g_string_append_printf(s, "  %s\n", object_classes[i]->name);
        }
        return g_string_free(s, FALSE);
    }
    cls = object_class_find(type);
    if (!cls) {
        return NULL;
    }
    s = g_string_new(NULL);
    if (!cls->props[0].name) {
        /* QEMU's words for a type without properties (rng-builtin) */
        g_string_append_printf(s, "There are no options for %s.\n", cls->name);
        return g_string_free(s, FALSE);
    }
    g_string_append_printf(s, "%s options:\n", cls->name);
    for (const struct object_prop *p = cls->props; p->name; p++) {
        g_autofree char *left = g_strdup_printf(
            "  %s=<%s>", p->name,
            p->type == OBJ_PROP_SIZE ? "size" : object_prop_qom_type(p));
        g_string_append_printf(s, "%-26s - %s%s\n", left, p->desc,
                               p->required ? " (required)" : "");
    }
    return g_string_free(s, FALSE);
}
