// SPDX-License-Identifier: Apache-2.0
// Unused virtio-mmio transports of the guest's layout answer as QEMU's do: a valid transport
// header with DeviceID 0 ("no device"), everything else reads as zero and ignores writes. A
// driver that probes every slot of the board's virtio window finds them empty, not faulting.
#include <cv/mmio.h>
#include <cv/virtio_empty.h>

#define SLOT 0x200u

static enum mmio_result empty_read(void *ctx, struct mmio_access *a)
{
    (void)ctx;
    if (a->size != 4 || (a->offset & 3)) {
        return MMIO_BAD_ACCESS;
    }
    switch (a->offset % SLOT) {
    case 0x000:
        a->value = 0x74726976u; /* "virt" */
        break;
    case 0x004:
        a->value = 2;
        break;
    case 0x00c:
        a->value = 0x52535643u; /* "CVSR" */
        break;
    default:
        a->value = 0;
        break;
    }
    return MMIO_OK;
}

static enum mmio_result empty_write(void *ctx, const struct mmio_access *a)
{
    (void)ctx;
    return (a->size == 4 && !(a->offset & 3)) ? MMIO_OK : MMIO_BAD_ACCESS;
}

static const struct mmio_ops empty_ops = {empty_read, empty_write};

bool virtio_empty_register(struct mmio_bus *bus, gpa_t first, unsigned count)
{
    if (count == 0) {
        return true;
    }
    struct mmio_dev dev = {"virtio-empty", first, (uint64_t)count * SLOT, &empty_ops, NULL};
    return mmio_bus_add(bus, &dev);
}
