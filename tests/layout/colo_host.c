// SPDX-License-Identifier: Apache-2.0
// colo/ as a host program: the library, compiled with colo/include alone (tests/meson.build),
// linked whole with the hypervisor's port (kernel/colo/colo_port.c over kernel/lib) and the log's
// console hooks below. That it links is the check that the library needs nothing but its port; the
// round trip through the wire format shows the port's CRC and page hash are the ones the library
// uses.
#include <stdio.h>
#include <string.h>

#include <cv/hash.h>
#include <cv/log.h>

#include <colo/proto.h>

void console_write(const char *s, size_t n)
{
    fwrite(s, 1, n, stdout);
}

void console_write_line(const char *s, size_t n)
{
    console_write(s, n);
}

uint64_t time_now_us(void)
{
    return 0;
}

static uint64_t page[COLO_PAGE_SIZE / 8];
static uint8_t wire[COLO_HDR_SIZE + COLO_VERIFY_HDR + 4 + COLO_CRC_SIZE];
static struct colo_decoder dec;

int main(void)
{
    for (unsigned i = 0; i < COLO_PAGE_SIZE / 8; i++) {
        page[i] = i * 0x0101010101010101ull;
    }
    uint32_t h = colo_page_hash(page);
    size_t n = colo_encode_verify(NULL, wire, sizeof(wire), 7, 42, &h, 1);
    colo_dec_init(&dec);
    struct colo_msg m;
    size_t used;
    uint64_t first;
    uint32_t count;
    if (n == 0 || colo_dec_feed(&dec, wire, n, &used, &m) != COLO_DEC_MSG || used != n ||
        colo_parse_verify(&m, &first, &count) != COLO_OK || first != 42 || count != 1 ||
        colo_verify_hash(&m, 0) != (uint32_t)page_hash(page)) {
        printf("colo-standalone: VERIFY round trip failed\n");
        return 1;
    }
    wire[COLO_HDR_SIZE] ^= 1; /* the payload CRC (the port's crc32c) must catch this */
    colo_dec_init(&dec);
    if (colo_dec_feed(&dec, wire, n, &used, &m) != COLO_DEC_ERROR) {
        printf("colo-standalone: corrupted payload accepted\n");
        return 1;
    }
    log_msg(LOG_INFO, "colo-standalone: ok (%s)", colo_err_name(dec.err));
    return 0;
}
