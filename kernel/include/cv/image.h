/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The guest image bundle packed into the hypervisor image by tools/pack-image: a header, a
 * table of entries (kernel, initrd, device tree, command line) and their payloads, each with
 * a CRC32C. All fields little-endian. docs/image-format.md describes it for tool writers.
 */
#ifndef CV_IMAGE_H
#define CV_IMAGE_H

#include <cv/hash.h>
#include <cv/types.h>

#define CV_IMAGE_MAGIC "CVIMAGE1"
#define CV_IMAGE_VERSION 1u
#define CV_IMAGE_MAX_ENTRIES 8u

enum cv_image_type {
    CV_IMG_KERNEL = 1, /**< arm64 Image (or a bare-metal binary with the same header) */
    CV_IMG_INITRD = 2,
    CV_IMG_DTB = 3,
    CV_IMG_CMDLINE = 4,
};

struct cv_image_header {
    char magic[8];
    uint32_t version;
    uint32_t count;
    uint32_t header_crc; /**< CRC32C of header+entries with this field zero */
    uint32_t reserved;
};

struct cv_image_entry {
    uint32_t type;
    uint32_t crc;    /**< CRC32C of the payload */
    uint64_t offset; /**< payload offset from the start of the bundle */
    uint64_t size;
    char name[32]; /**< NUL-terminated, for messages */
};

struct vm;

/** What the loader found; entries point into the bundle. */
struct cv_image_info {
    const struct cv_image_entry *kernel;
    const struct cv_image_entry *initrd;
    const struct cv_image_entry *dtb;
    const struct cv_image_entry *cmdline;
};

/**
 * Validates a bundle of len bytes: magic, version, counts, bounds and CRCs. On error writes a
 * one-line reason into err (errlen bytes) and returns false.
 */
bool cv_image_parse(const void *bundle, size_t len, struct cv_image_info *info, char *err,
                    size_t errlen);

#endif
