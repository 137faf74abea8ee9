/* SPDX-License-Identifier: Apache-2.0 */
/* Empty virtio-mmio transports for the guest (kernel/dev/virtio_empty.c). */
#ifndef CV_VIRTIO_EMPTY_H
#define CV_VIRTIO_EMPTY_H

#include <cv/bus.h>

/** Registers count empty 0x200-byte transports from first. Boot context. */
bool virtio_empty_register(struct bus *bus, gpa_t first, unsigned count);

#endif
