// SPDX-License-Identifier: Apache-2.0
#include <cv/log.h>
#include <cv/mmio.h>

bool mmio_bus_add(struct mmio_bus *bus, const struct mmio_dev *dev)
{
    uint64_t b = gpa_raw(dev->base);
    if (dev->size == 0 || b + dev->size < b) {
        log_err("mmio: %s has an empty or wrapping window", dev->name);
        return false;
    }
    if (bus->count == MMIO_MAX_DEVS) {
        log_err("mmio: bus full, cannot add %s", dev->name);
        return false;
    }
    for (unsigned i = 0; i < bus->count; i++) {
        uint64_t ob = gpa_raw(bus->devs[i].base);
        if (b < ob + bus->devs[i].size && ob < b + dev->size) {
            log_err("mmio: %s overlaps %s", dev->name, bus->devs[i].name);
            return false;
        }
    }
    bus->devs[bus->count++] = *dev;
    return true;
}

const struct mmio_dev *mmio_bus_find(const struct mmio_bus *bus, gpa_t addr, unsigned size)
{
    uint64_t a = gpa_raw(addr);
    for (unsigned i = 0; i < bus->count; i++) {
        const struct mmio_dev *d = &bus->devs[i];
        uint64_t b = gpa_raw(d->base);
        if (a >= b && a - b < d->size && size <= d->size - (a - b)) {
            return d;
        }
    }
    return NULL;
}

enum mmio_result mmio_bus_dispatch(const struct mmio_bus *bus, struct mmio_access *a)
{
    const struct mmio_dev *d = mmio_bus_find(bus, a->addr, a->size);
    if (!d) {
        return MMIO_BAD_ACCESS;
    }
    a->offset = gpa_raw(a->addr) - gpa_raw(d->base);
    return a->write ? d->ops->write(d->ctx, a) : d->ops->read(d->ctx, a);
}
