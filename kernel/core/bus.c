// SPDX-License-Identifier: Apache-2.0
#include <cv/bus.h>
#include <cv/log.h>

static const char *space_name(const struct bus *bus)
{
    return bus->space == BUS_PIO ? "pio" : "mmio";
}

bool bus_add(struct bus *bus, const struct bus_dev *dev)
{
    uint64_t b = dev->base;
    if (dev->size == 0 || b + dev->size < b) {
        log_err("%s: %s has an empty or wrapping window", space_name(bus), dev->name);
        return false;
    }
    if (bus->count == BUS_MAX_DEVS) {
        log_err("%s: bus full, cannot add %s", space_name(bus), dev->name);
        return false;
    }
    for (unsigned i = 0; i < bus->count; i++) {
        uint64_t ob = bus->devs[i].base;
        if (b < ob + bus->devs[i].size && ob < b + dev->size) {
            log_err("%s: %s overlaps %s", space_name(bus), dev->name, bus->devs[i].name);
            return false;
        }
    }
    bus->devs[bus->count++] = *dev;
    return true;
}

const struct bus_dev *bus_find(const struct bus *bus, uint64_t addr, unsigned size)
{
    for (unsigned i = 0; i < bus->count; i++) {
        const struct bus_dev *d = &bus->devs[i];
        if (addr >= d->base && addr - d->base < d->size && size <= d->size - (addr - d->base)) {
            return d;
        }
    }
    return NULL;
}

enum bus_result bus_dispatch(const struct bus *bus, struct bus_access *a)
{
    const struct bus_dev *d = bus_find(bus, a->addr, a->size);
    if (!d) {
        return BUS_BAD_ACCESS;
    }
    a->offset = a->addr - d->base;
    return a->write ? d->ops->write(d->ctx, a) : d->ops->read(d->ctx, a);
}
