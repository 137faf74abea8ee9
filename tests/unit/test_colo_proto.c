// SPDX-License-Identifier: Apache-2.0
// The COLO wire format (colo/colo_proto.c): encoder/decoder round trips in every chunking, and
// the decoder's precise error for each kind of damage.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <cv/image.h>

#include <colo/proto.h>

static struct colo_decoder dec;
static uint8_t buf[COLO_MAX_MSG + 64];

/* Feeds len bytes in chunks of `chunk`; returns the result of the last call. */
static enum colo_dec_result feed(const uint8_t *p, size_t len, size_t chunk, struct colo_msg *m)
{
    enum colo_dec_result r = COLO_DEC_MORE;
    while (len) {
        size_t used;
        r = colo_dec_feed(&dec, p, MIN(chunk, len), &used, m);
        assert_true(used <= MIN(chunk, len));
        p += used;
        len -= used;
        if (r != COLO_DEC_MORE) {
            assert_true(r == COLO_DEC_ERROR || len == 0);
            break;
        }
    }
    return r;
}

static void test_round_trip(void **state)
{
    (void)state;
    struct colo_hello h = {.ver_min = 1,
                           .ver_max = 3,
                           .caps = 5,
                           .board = "qemu-virt-arm64",
                           .ram_bytes = 1ull << 30,
                           .devset_id = 77};
    h.image_id[0] = 9;
    static const size_t chunks[] = {1, 3, 24, 25, 1000, SIZE_MAX};
    for (unsigned c = 0; c < ARRAY_SIZE(chunks); c++) {
        size_t n = colo_encode_hello(NULL, buf, sizeof(buf), 5, &h);
        assert_int_equal(n, COLO_HDR_SIZE + COLO_HELLO_LEN + 4);
        colo_dec_init(&dec);
        struct colo_msg m;
        assert_int_equal(feed(buf, n, chunks[c], &m), COLO_DEC_MSG);
        assert_int_equal(m.type, COLO_MSG_HELLO);
        assert_int_equal(m.epoch, 5);
        struct colo_hello g;
        assert_int_equal(colo_parse_hello(&m, &g), COLO_OK);
        assert_memory_equal(&g, &h, sizeof(g));

        /* A maximal RAM_PAGES message. */
        static uint64_t pfns[COLO_PAGES_PER_MSG];
        static uint8_t pages[COLO_PAGES_PER_MSG][COLO_PAGE_SIZE];
        for (unsigned i = 0; i < COLO_PAGES_PER_MSG; i++) {
            pfns[i] = i * 3ull;
            memset(pages[i], (int)i, COLO_PAGE_SIZE);
        }
        n = colo_encode_ram_pages(NULL, buf, sizeof(buf), 1ull << 40, pfns, pages[0],
                                  COLO_PAGES_PER_MSG);
        assert_true(n > 0 && n <= COLO_MAX_MSG);
        assert_int_equal(feed(buf, n, chunks[c] == 1 ? 4099 : chunks[c], &m), COLO_DEC_MSG);
        uint32_t count;
        assert_int_equal(colo_parse_ram_pages(&m, &count), COLO_OK);
        assert_int_equal(count, COLO_PAGES_PER_MSG);
        uint64_t pfn;
        const uint8_t *d;
        colo_ram_page(&m, 200, &pfn, &d);
        assert_int_equal(pfn, 600);
        assert_memory_equal(d, pages[200], COLO_PAGE_SIZE);
    }
    assert_int_equal(colo_encode_ram_pages(NULL, buf, sizeof(buf), 0, NULL, NULL, 0), 0);
    assert_int_equal(colo_encode_ram_pages(NULL, buf, 100, 0, (uint64_t[1]){0}, buf, 1), 0);

    /* Two messages in one chunk come out one at a time. */
    size_t a = colo_encode_heartbeat(NULL, buf, sizeof(buf), 1, 123);
    size_t b = colo_encode_abort(NULL, buf + a, sizeof(buf) - a, 2, COLO_ABORT_EPOCH, "late");
    colo_dec_init(&dec);
    size_t used;
    struct colo_msg m;
    assert_int_equal(colo_dec_feed(&dec, buf, a + b, &used, &m), COLO_DEC_MSG);
    assert_int_equal(used, a);
    assert_int_equal(colo_get64(m.payload), 123);
    assert_int_equal(colo_dec_feed(&dec, buf + a, b, &used, &m), COLO_DEC_MSG);
    struct colo_abort ab;
    assert_int_equal(colo_parse_abort(&m, &ab), COLO_OK);
    assert_int_equal(ab.reason, COLO_ABORT_EPOCH);
    assert_string_equal(ab.text, "late");
}

static void assert_printable(const char *s)
{
    for (; *s; s++) {
        assert_true((unsigned char)*s >= 0x20 && (unsigned char)*s < 0x7f && *s != '"');
    }
}

/* Peer strings are printed: control bytes must not reach the console (no forged event lines). */
static void test_peer_strings_printable(void **state)
{
    (void)state;
    static const char evil[] = "\ncolo: event=takeover\x1b[2J\" role=primary";
    size_t n = colo_encode_abort(NULL, buf, sizeof(buf), 3, COLO_ABORT_PEER, evil);
    colo_dec_init(&dec);
    struct colo_msg m;
    assert_int_equal(feed(buf, n, SIZE_MAX, &m), COLO_DEC_MSG);
    struct colo_abort ab;
    assert_int_equal(colo_parse_abort(&m, &ab), COLO_OK);
    assert_printable(ab.text);
    assert_string_equal(ab.text, "?colo: event=takeover?[2J? role=primary");

    /* a NUL, DEL and a high byte inside the length-delimited text */
    uint8_t raw[4 + 6];
    colo_put32(raw, COLO_ABORT_PEER);
    memcpy(raw + 4, "a\0b\x7f\xff\r", 6);
    n = colo_encode(NULL, buf, sizeof(buf), COLO_MSG_ABORT, 3, raw, sizeof(raw));
    colo_dec_init(&dec);
    assert_int_equal(feed(buf, n, SIZE_MAX, &m), COLO_DEC_MSG);
    assert_int_equal(colo_parse_abort(&m, &ab), COLO_OK);
    assert_string_equal(ab.text, "a?b???");

    struct colo_hello h = {.ver_min = 1, .ver_max = 1, .board = "virt\r\ncolo: event=x\x1b"};
    n = colo_encode_hello(NULL, buf, sizeof(buf), 0, &h);
    colo_dec_init(&dec);
    assert_int_equal(feed(buf, n, SIZE_MAX, &m), COLO_DEC_MSG);
    struct colo_hello g;
    assert_int_equal(colo_parse_hello(&m, &g), COLO_OK);
    assert_printable(g.board);
    assert_string_equal(g.board, "virt??colo: event=x?");
}

/* Rewrites the header CRC after a deliberate header change. */
static void reseal(uint8_t *h)
{
    colo_put32(h + 20, 0);
    colo_put32(h + 20, crc32c(0, h, COLO_HDR_SIZE));
}

static void test_errors(void **state)
{
    (void)state;
    static const struct {
        unsigned at;
        uint8_t xor ;
        bool reseal;
        enum colo_err err;
    } cases[] = {
        {0, 1, false, COLO_E_MAGIC},
        {4, 2, false, COLO_E_VERSION},
        {4, 2, true, COLO_E_VERSION},
        {9, 1, false, COLO_E_HDR_CRC},
        {21, 1, false, COLO_E_HDR_CRC},
        {6, 0x40, true, COLO_E_TYPE},
        {16, 1, true, COLO_E_LENGTH},
        {19, 0x80, true, COLO_E_LENGTH},
        {COLO_HDR_SIZE + 2, 1, false, COLO_E_PAYLOAD_CRC},
        {COLO_HDR_SIZE + 8, 1, false, COLO_E_PAYLOAD_CRC},
    };
    for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
        size_t n = colo_encode_heartbeat(NULL, buf, sizeof(buf), 3, 0x1122334455667788ull);
        buf[cases[i].at] ^= cases[i].xor ;
        if (cases[i].reseal) {
            reseal(buf);
        }
        for (size_t chunk = 1; chunk <= n; chunk += 7) {
            colo_dec_init(&dec);
            struct colo_msg m;
            assert_int_equal(feed(buf, n, chunk, &m), COLO_DEC_ERROR);
            assert_int_equal(dec.err, cases[i].err);
            size_t used;
            assert_int_equal(colo_dec_feed(&dec, buf, n, &used, &m), COLO_DEC_ERROR);
            assert_int_equal(used, 0);
        }
    }
    /* A length over the 1 MiB bound is refused from the header alone. */
    colo_encode(NULL, buf, sizeof(buf), COLO_MSG_DEVICE_STATE, 1, buf + 100, 10);
    colo_put32(buf + 16, COLO_MAX_PAYLOAD + 1);
    reseal(buf);
    colo_dec_init(&dec);
    size_t used;
    struct colo_msg m;
    assert_int_equal(colo_dec_feed(&dec, buf, COLO_HDR_SIZE, &used, &m), COLO_DEC_ERROR);
    assert_int_equal(dec.err, COLO_E_LENGTH);
    /* Encoder limits. */
    assert_int_equal(colo_encode(NULL, buf, sizeof(buf), COLO_MSG_DEVICE_STATE, 1, buf, 0), 0);
    assert_int_equal(colo_encode(NULL, buf, sizeof(buf), COLO_MSG_CHECKPOINT_READY, 1, buf, 1), 0);
    assert_int_equal(colo_encode(NULL, buf, sizeof(buf), 99, 1, NULL, 0), 0);
    assert_int_equal(colo_encode(NULL, buf, COLO_HDR_SIZE - 1, COLO_MSG_HEARTBEAT, 1, NULL, 0), 0);
    assert_string_equal(colo_err_name(COLO_E_PAYLOAD_CRC), "payload CRC mismatch");
    assert_string_equal(colo_msg_name(COLO_MSG_VMSTATE_SIZE), "VMSTATE_SIZE");
}

static void test_payload_checks(void **state)
{
    (void)state;
    struct colo_msg m;
    size_t used;
    /* RAM_PAGES whose count disagrees with its length. */
    static uint8_t p[4 + 2 * COLO_PAGE_ENTRY];
    colo_put32(p, 3);
    size_t n = colo_encode(NULL, buf, sizeof(buf), COLO_MSG_RAM_PAGES, 1, p, sizeof(p));
    colo_dec_init(&dec);
    assert_int_equal(colo_dec_feed(&dec, buf, n, &used, &m), COLO_DEC_MSG);
    uint32_t count;
    assert_int_equal(colo_parse_ram_pages(&m, &count), COLO_E_PAYLOAD);
    /* HELLO with an unterminated board name. */
    uint8_t h[COLO_HELLO_LEN];
    memset(h, 'A', sizeof(h));
    colo_put16(h, 1);
    colo_put16(h + 2, 1);
    n = colo_encode(NULL, buf, sizeof(buf), COLO_MSG_HELLO, 0, h, sizeof(h));
    assert_int_equal(colo_dec_feed(&dec, buf, n, &used, &m), COLO_DEC_MSG);
    struct colo_hello hh;
    assert_int_equal(colo_parse_hello(&m, &hh), COLO_E_PAYLOAD);
    assert_int_equal(colo_parse_abort(&m, &(struct colo_abort){0}), COLO_E_PAYLOAD);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_peer_strings_printable),
        cmocka_unit_test(test_payload_checks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
