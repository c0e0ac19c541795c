/* SPDX-License-Identifier: MIT */
/*
 * vmstate-dump.c: `vireo --dump-vmstate FILE` (QEMU's -dump-vmstate):
 * every state description a stream can carry, as JSON: the device classes
 * (by -device name; null for a class with no state), the vCPU, the KVM
 * clock and the in-kernel irqchip.  tests/data/vmstate.json is the
 * reference a test compares it with, so a layout change is seen in review.
 */
#include "util/common.h"
#include "hw/core/device.h"
#include "migration/savevm.h"
#include "migration/vmstate.h"
#include "target-i386/cpu.h"
#include "target-i386/machine.h"

static const char *type_name(enum vmstate_type t)
{
    switch (t) {
    case VMS_T_U8:
        return "u8";
    case VMS_T_U16:
        return "u16";
    case VMS_T_U32:
        return "u32";
    case VMS_T_U64:
        return "u64";
    case VMS_T_BOOL:
        return "bool";
    case VMS_T_BUFFER:
        return "buffer";
    case VMS_T_STRUCT:
    case VMS_T_STRUCT_PTR: /* the same on the wire */
        return "struct";
    case VMS_T_VARRAY:
        return "varray"; /* u32 count, then the structs */
    default:
        return "?";
    }
}

static void indent(GString *o, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        g_string_append(o, "  ");
    }
}

/* Names in the tables are C identifiers and dots: no escaping needed, but
 * quotes and backslashes are escaped anyway. */
static void str(GString *o, const char *s)
{
    g_string_append_c(o, '"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') {
            g_string_append_c(o, '\\');
        }
        g_string_append_c(o, *s);
    }
    g_string_append_c(o, '"');
}

static void dump_desc(GString *o, const struct vmstate_desc *d, unsigned lvl)
{
    bool first = true;

    g_string_append(o, "{\n");
    indent(o, lvl + 1);
    g_string_append(o, "\"name\": ");
    str(o, d->name);
    g_string_append_printf(o, ",\n");
    indent(o, lvl + 1);
    g_string_append_printf(o, "\"version\": %u,\n", d->version);
    indent(o, lvl + 1);
    g_string_append(o, "\"fields\": [");
    for (const struct vmstate_field *f = d->fields; f && f->type != VMS_T_END;
         f++) {
        const struct vmstate_desc *sd = f->vmsd_ref ? *f->vmsd_ref : f->vmsd;
        bool is_struct = f->type == VMS_T_STRUCT ||
                         f->type == VMS_T_STRUCT_PTR || f->type == VMS_T_VARRAY;

        if (is_struct && !sd) {
            continue; /* a model without state: nothing on the wire */
        }
        g_string_append(o, first ? "\n" : ",\n");
        first = false;
        indent(o, lvl + 2);
        g_string_append(o, "{\"field\": ");
        str(o, f->name);
        g_string_append_printf(o, ", \"type\": \"%s\"", type_name(f->type));
        /* a struct's wire size is its description's, not its C size */
        if (!is_struct) {
            g_string_append_printf(o, ", \"size\": %zu", f->size);
        }
        if (f->count != 1) {
            g_string_append_printf(o, ", \"count\": %zu", f->count);
        }
        if (is_struct) {
            g_string_append(o, ", \"struct\": ");
            dump_desc(o, sd, lvl + 2);
        }
        g_string_append_c(o, '}');
    }
    if (!first) {
        g_string_append_c(o, '\n');
        indent(o, lvl + 1);
    }
    g_string_append(o, "]");
    if (d->subsections && d->subsections[0]) {
        g_string_append(o, ",\n");
        indent(o, lvl + 1);
        g_string_append(o, "\"subsections\": [\n");
        for (const struct vmstate_desc *const *s = d->subsections; *s; s++) {
            indent(o, lvl + 2);
            dump_desc(o, *s, lvl + 2);
            g_string_append(o, s[1] ? ",\n" : "\n");
        }
        indent(o, lvl + 1);
        g_string_append(o, "]");
    }
    g_string_append_c(o, '\n');
    indent(o, lvl);
    g_string_append_c(o, '}');
}

static void section(GString *o, const char *name, const struct vmstate_desc *d,
                    bool last)
{
    indent(o, 2);
    str(o, name);
    g_string_append(o, ": ");
    if (d) {
        dump_desc(o, d, 2);
    } else {
        g_string_append(o, "null");
    }
    g_string_append(o, last ? "\n" : ",\n");
}

char *vmstate_dump_json(void)
{
    GString *o = g_string_new(NULL);

    g_string_append_printf(o,
                           "{\n  \"format\": {\"magic\": \"VIREOVM\", "
                           "\"major\": %d, \"minor\": %d},\n"
                           "  \"sections\": {\n",
                           SAVEVM_MAJOR, SAVEVM_MINOR);
    for (const struct device_class *const *c = device_classes; *c; c++) {
        section(o, (*c)->name, (*c)->vmsd, false);
    }
    section(o, "cpu", &x86_cpu_vmsd, false);
    section(o, "kvmclock", &x86_kvmclock_vmsd, false);
    section(o, "kvm-irqchip", &x86_kvm_irqchip_vmsd, true);
    g_string_append(o, "  }\n}\n");
    return g_string_free(o, FALSE);
}

bool vmstate_dump_file(const char *path, Error **errp)
{
    g_autofree char *json = vmstate_dump_json();
    GError *gerr = NULL;

    if (!g_file_set_contents(path, json, -1, &gerr)) {
        error_setg(errp, "--dump-vmstate: %s", gerr->message);
        g_error_free(gerr);
        return false;
    }
    return true;
}
