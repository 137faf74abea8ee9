/* SPDX-License-Identifier: Apache-2.0 */
/* Symbols the linker script (kernel/arch/<arch>/hyp.ld) defines around the image's sections. */
#ifndef CV_SECTIONS_H
#define CV_SECTIONS_H

#include <cv/types.h>

/** The guest bundle (.guest_image, cv/image.h), read-only. */
extern const uint8_t __guest_image_start[], __guest_image_end[];
/** The end of the hypervisor image including bss and stack: free RAM starts above it. */
extern uint8_t __image_end[];

#endif
