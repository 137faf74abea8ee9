// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the guest image bundle parser, cv_image_parse() (kernel/core/image.c). On
// success it checks what the loader relies on: every entry found lies in the entry table, its
// payload lies inside the bundle after the table, has the right type and checksum, and a kernel is
// present. Seeds: bundles packed by tools/pack-image (tests/fuzz/run makes them).
#include <stdlib.h>
#include <string.h>

#include <cv/image.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

void fuzz_make_seeds(void)
{
    /* tests/fuzz/run packs real bundles with tools/pack-image instead. */
}

static void check_entry(const uint8_t *data, size_t size, const struct cv_image_entry *e,
                        uint32_t type)
{
    if (!e) {
        return;
    }
    struct cv_image_header h;
    memcpy(&h, data, sizeof(h));
    const uint8_t *table = data + sizeof(h);
    size_t table_end = sizeof(h) + (size_t)h.count * sizeof(*e);
    const uint8_t *p = (const uint8_t *)e;
    FZ_CHECK(p >= table && p + sizeof(*e) <= data + table_end, "entry outside the table");
    FZ_CHECK((size_t)(p - table) % sizeof(*e) == 0, "entry pointer not on an entry boundary");
    FZ_CHECK(e->type == type, "entry of type %u in slot %u", e->type, type);
    FZ_CHECK(memchr(e->name, 0, sizeof(e->name)) != NULL, "name not terminated");
    FZ_CHECK(e->offset >= table_end && e->offset <= size && e->size <= size - e->offset,
             "payload [%llu, +%llu) outside the bundle of %zu bytes (table ends at %zu)",
             (unsigned long long)e->offset, (unsigned long long)e->size, size, table_end);
    FZ_CHECK(crc32c(0, data + e->offset, e->size) == e->crc, "payload checksum not verified");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cv_image_info info;
    char err[128];
    memset(err, 0x55, sizeof(err));
    bool ok = cv_image_parse(data, size, &info, err, sizeof(err));
    if (ok) {
        struct cv_image_header h;
        FZ_CHECK(size >= sizeof(h), "accepted %zu bytes", size);
        memcpy(&h, data, sizeof(h));
        FZ_CHECK(memcmp(h.magic, CV_IMAGE_MAGIC, 8) == 0 && h.version == CV_IMAGE_VERSION,
                 "bad magic or version accepted");
        FZ_CHECK(h.count >= 1 && h.count <= CV_IMAGE_MAX_ENTRIES, "count %u accepted", h.count);
        FZ_CHECK(info.kernel != NULL, "no kernel");
        check_entry(data, size, info.kernel, CV_IMG_KERNEL);
        check_entry(data, size, info.initrd, CV_IMG_INITRD);
        check_entry(data, size, info.dtb, CV_IMG_DTB);
        check_entry(data, size, info.cmdline, CV_IMG_CMDLINE);
    } else {
        FZ_CHECK(memchr(err, 0, sizeof(err)) != NULL && err[0] != '\0', "no error message");
    }

    /* Error buffers of every small size, allocated exactly so ASan sees any overrun. */
    size_t errlen = size % 17;
    char *small = malloc(errlen ? errlen : 1);
    struct cv_image_info info2;
    bool ok2 = cv_image_parse(data, size, &info2, errlen ? small : NULL, errlen);
    FZ_CHECK(ok2 == ok, "result depends on the error buffer");
    FZ_CHECK(!ok || memcmp(&info, &info2, sizeof(info)) == 0, "result not deterministic");
    if (!ok && errlen) {
        FZ_CHECK(memchr(small, 0, errlen) != NULL, "error message not terminated");
    }
    free(small);
    return 0;
}
