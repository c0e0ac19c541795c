/* SPDX-License-Identifier: MIT */
/*
 * virtio-model.c: what every (transport, model) pair shares whatever its
 * transport (hw/virtio/virtio-model.h): the run-time QOM properties of a
 * pair are its model's, so virtio-balloon-device and virtio-balloon-pci
 * answer qom-get guest-stats alike, as QEMU's aliases make them.
 */
#include "util/common.h"
#include "hw/virtio/virtio-model.h"

static const struct device_qom_ops *model_qom(struct device *dev)
{
    return virtio_binding_of(dev)->model->qom;
}

static const struct device_qom_prop *fwd_props(struct device *dev)
{
    const struct device_qom_ops *q = model_qom(dev);

    return q && q->props ? q->props(dev) : NULL;
}

static struct json_value *fwd_get(struct device *dev, const char *name,
                                  Error **errp)
{
    const struct device_qom_ops *q = model_qom(dev);

    if (!q || !q->get) {
        error_setg(errp, "Property '%s.%s' not found", dev->cls->name, name);
        return NULL;
    }
    return q->get(dev, name, errp);
}

static bool fwd_set(struct device *dev, const char *name,
                    const struct json_value *val, Error **errp)
{
    const struct device_qom_ops *q = model_qom(dev);

    if (!q || !q->set) {
        error_setg(errp, "Property '%s.%s' not found", dev->cls->name, name);
        return false;
    }
    return q->set(dev, name, val, errp);
}

const struct device_qom_ops virtio_model_qom_ops = {
    .props = fwd_props,
    .get = fwd_get,
    .set = fwd_set,
};

bool virtio_model_migration_blocked(const struct device *dev)
{
    return ((const struct virtio_binding *)dev->cls->class_data)
        ->model->unmigratable;
}

void virtio_model_run_state(struct device *dev, bool running)
{
    const struct virtio_model_class *mc = virtio_binding_of(dev)->model;

    if (mc->run_state) {
        mc->run_state(virtio_model_of(dev), running);
    }
}
