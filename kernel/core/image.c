// SPDX-License-Identifier: Apache-2.0
// Parser for the guest image bundle. It sees bytes from the build (and, later, from the
// replication peer), so every field is checked before use; a libFuzzer target drives it.
#include <string.h>

#include <cv/image.h>
#include <cv/log.h>

#define FAIL(...)                                                                                  \
    do {                                                                                           \
        cv_snprintf(err, errlen, __VA_ARGS__);                                                     \
        return false;                                                                              \
    } while (0)

bool cv_image_parse(const void *bundle, size_t len, struct cv_image_info *info, char *err,
                    size_t errlen)
{
    struct cv_image_header h;
    memset(info, 0, sizeof(*info));
    if (len < sizeof(h)) {
        FAIL("guest image: %zu bytes, too short for a header", len);
    }
    memcpy(&h, bundle, sizeof(h));
    if (memcmp(h.magic, CV_IMAGE_MAGIC, 8) != 0) {
        FAIL("guest image: bad magic (not a colovisor guest bundle)");
    }
    if (h.version != CV_IMAGE_VERSION) {
        FAIL("guest image: version %u, this hypervisor reads version %u", h.version,
             CV_IMAGE_VERSION);
    }
    if (h.count == 0 || h.count > CV_IMAGE_MAX_ENTRIES) {
        FAIL("guest image: %u entries (1..%u allowed)", h.count, CV_IMAGE_MAX_ENTRIES);
    }
    size_t table_end = sizeof(h) + (size_t)h.count * sizeof(struct cv_image_entry);
    if (table_end > len) {
        FAIL("guest image: entry table runs past the end");
    }
    const uint8_t *base = bundle;
    uint32_t want = h.header_crc;
    struct cv_image_header hz = h;
    hz.header_crc = 0;
    uint32_t crc = crc32c(0, &hz, sizeof(hz));
    crc = crc32c(crc, base + sizeof(h), table_end - sizeof(h));
    if (crc != want) {
        FAIL("guest image: header checksum mismatch (0x%08x, expected 0x%08x)", crc, want);
    }
    const struct cv_image_entry *e =
        (const struct cv_image_entry *)(const void *)(base + sizeof(h));
    for (uint32_t i = 0; i < h.count; i++, e++) {
        if (memchr(e->name, 0, sizeof(e->name)) == NULL) {
            FAIL("guest image: entry %u has an unterminated name", i);
        }
        if (e->offset < table_end || e->offset > len || e->size > len - e->offset) {
            FAIL("guest image: entry '%s' lies outside the bundle", e->name);
        }
        if (crc32c(0, base + e->offset, e->size) != e->crc) {
            FAIL("guest image: entry '%s' is corrupt (checksum mismatch)", e->name);
        }
        const struct cv_image_entry **slot;
        switch (e->type) {
        case CV_IMG_KERNEL:
            slot = &info->kernel;
            break;
        case CV_IMG_INITRD:
            slot = &info->initrd;
            break;
        case CV_IMG_DTB:
            slot = &info->dtb;
            break;
        case CV_IMG_CMDLINE:
            slot = &info->cmdline;
            break;
        default:
            FAIL("guest image: entry '%s' has unknown type %u", e->name, e->type);
        }
        if (*slot) {
            FAIL("guest image: two entries of type %u", e->type);
        }
        *slot = e;
    }
    if (!info->kernel) {
        FAIL("guest image: no kernel entry");
    }
    return true;
}
