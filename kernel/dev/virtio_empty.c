// SPDX-License-Identifier: Apache-2.0
// Unused virtio-mmio transports of the guest's layout answer as QEMU's do: a valid transport
// header with DeviceID 0 ("no device"), everything else reads as zero and ignores writes. A
// driver that probes every slot of the board's virtio window finds them empty, not faulting.
#include <cv/bus.h>
#include <cv/virtio.h>
#include <cv/virtio_empty.h>

static enum bus_result empty_read(void *ctx, struct bus_access *a)
{
    (void)ctx;
    if (a->size != 4 || (a->offset & 3)) {
        return BUS_BAD_ACCESS;
    }
    if (!virtio_mmio_ident_read(a->offset % VIRTIO_MMIO_WINDOW, 0, &a->value)) {
        a->value = 0;
    }
    return BUS_OK;
}

static enum bus_result empty_write(void *ctx, const struct bus_access *a)
{
    (void)ctx;
    return (a->size == 4 && !(a->offset & 3)) ? BUS_OK : BUS_BAD_ACCESS;
}

static const struct bus_ops empty_ops = {empty_read, empty_write};

bool virtio_empty_register(struct bus *bus, gpa_t first, unsigned count)
{
    if (count == 0) {
        return true;
    }
    struct bus_dev dev = {"virtio-empty", gpa_raw(first), (uint64_t)count * VIRTIO_MMIO_WINDOW,
                          &empty_ops, NULL};
    return bus_add(bus, &dev);
}
