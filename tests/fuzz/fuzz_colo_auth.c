// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the link's handshake (colo/colo_auth.c). Input: a mode byte, then bytes.
//   mode bit 0 clear: the bytes are a peer's stream to one side (bit 1: the initiator, else the
//     responder), fed in chunks whose sizes come from the bytes too;
//   mode bit 0 set: a genuine handshake runs between the two sides, and the bytes are XORed over
//     its three messages as they cross (bit 1: the harness then fixes each message's CRCs, so the
//     change reaches the handshake's own checks).
// Checked:
// - nothing is read or written out of bounds (ASan), used never exceeds what was given, an
//   answer never exceeds the buffer and is a well-formed plain message of the type due;
// - from a peer's bytes alone neither side ever reaches DONE (that takes the key);
// - in a tampered handshake both sides reach DONE only if no byte was changed, and then with
//   matching keys; a side that failed says why.
#include <string.h>

#include <cv/random.h>

#include <colo/auth.h>
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t psk[COLO_KEY_LEN] = {7, 7, 7};

/* The nonces come from the board's generator, seeded once (here from the host's). */
static void seeded(void)
{
    static bool done;
    if (!done) {
        random_init(NULL);
        done = true;
    }
}

static struct colo_auth_cfg cfg(bool initiator)
{
    seeded();
    return (struct colo_auth_cfg){.psk = psk,
                                  .initiator = initiator,
                                  .role = initiator ? COLO_ROLE_PRIMARY : COLO_ROLE_SECONDARY,
                                  .board = initiator ? 'a' : 'b',
                                  .peer_board = initiator ? 'b' : 'a',
                                  .boot_id = initiator ? 11 : 22};
}

static void check_answer(const uint8_t *out, size_t n, uint16_t type)
{
    if (!n) {
        return;
    }
    size_t need = 0;
    FZ_CHECK(n <= COLO_AUTH_MSG_MAX, "answer of %zu bytes", n);
    FZ_CHECK(colo_header_check(out, false, &need) == COLO_OK && need == n, "malformed answer");
    FZ_CHECK(colo_get16(out + 6) == type, "answer type %u, want %u", colo_get16(out + 6), type);
}

/* Feeds len bytes in chunks; returns the state. */
static enum colo_auth_state feed(struct colo_auth *a, const uint8_t *p, size_t len, struct fz *f,
                                 uint8_t *out, size_t *out_len, uint16_t answer_type)
{
    *out_len = 0;
    while (len && a->state != COLO_AUTH_DONE && a->state != COLO_AUTH_FAILED) {
        size_t c = f ? 1 + fz_u8(f) % 64 : len;
        c = c < len ? c : len;
        size_t used, n;
        colo_auth_feed(a, p, c, &used, out, COLO_AUTH_MSG_MAX, &n);
        FZ_CHECK(used <= c, "used %zu of %zu", used, c);
        check_answer(out, n, answer_type);
        if (n) {
            *out_len = n;
        }
        if (!used && a->state != COLO_AUTH_DONE && a->state != COLO_AUTH_FAILED) {
            FZ_CHECK(c == 0, "no progress");
        }
        p += used;
        len -= used;
    }
    FZ_CHECK(a->state != COLO_AUTH_FAILED || a->why, "failed without a reason");
    return a->state;
}

/* XORs the next len input bytes over m (and fixes its CRCs if asked); true if any changed. */
static bool tamper(uint8_t *m, size_t len, struct fz *f, bool fix)
{
    uint8_t orig[COLO_AUTH_MSG_MAX];
    memcpy(orig, m, len);
    for (size_t i = 0; i < len && f->n; i++) {
        m[i] ^= fz_u8(f);
    }
    if (fix && len >= COLO_HDR_SIZE + COLO_CRC_SIZE) {
        uint32_t plen = (uint32_t)(len - COLO_HDR_SIZE - COLO_CRC_SIZE);
        colo_put32(m + 20, 0);
        colo_put32(m + 20, colo_port_crc32c(0, m, COLO_HDR_SIZE));
        colo_put32(m + COLO_HDR_SIZE + plen, colo_port_crc32c(0, m + COLO_HDR_SIZE, plen));
    }
    /* a change the CRC fix-up overwrote is no change */
    return memcmp(orig, m, len) != 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz f = {data, size};
    uint8_t mode = fz_u8(&f);
    static struct colo_auth i, r;
    uint8_t out[COLO_AUTH_MSG_MAX];
    size_t n;
    if (!(mode & 1)) {
        bool initiator = mode & 2;
        struct colo_auth *a = initiator ? &i : &r;
        struct colo_auth_cfg c = cfg(initiator);
        colo_auth_start(a, &c, out, sizeof(out));
        struct fz body = f;
        const uint8_t *p = body.p;
        size_t len = body.n;
        enum colo_auth_state st =
            feed(a, p, len, &f, out, &n, initiator ? COLO_MSG_AUTH_FINISH : COLO_MSG_AUTH_REPLY);
        FZ_CHECK(st != COLO_AUTH_DONE, "a peer without the key got through");
        colo_auth_wipe(a);
        return 0;
    }
    bool fix = mode & 2;
    struct colo_auth_cfg ci = cfg(true), cr = cfg(false);
    uint8_t init[COLO_AUTH_MSG_MAX], reply[COLO_AUTH_MSG_MAX], fin[COLO_AUTH_MSG_MAX];
    size_t ni = colo_auth_start(&i, &ci, init, sizeof(init)), nr = 0, nf = 0;
    colo_auth_start(&r, &cr, NULL, 0);
    FZ_CHECK(ni > 0, "no INIT");
    bool changed = tamper(init, ni, &f, fix);
    feed(&r, init, ni, NULL, reply, &nr, COLO_MSG_AUTH_REPLY);
    if (r.state == COLO_AUTH_WAIT_FINISH) {
        changed = tamper(reply, nr, &f, fix) || changed;
        feed(&i, reply, nr, NULL, fin, &nf, COLO_MSG_AUTH_FINISH);
        if (i.state == COLO_AUTH_DONE) {
            changed = tamper(fin, nf, &f, fix) || changed;
            feed(&r, fin, nf, NULL, out, &n, 0);
        }
    }
    if (i.state == COLO_AUTH_DONE && r.state == COLO_AUTH_DONE) {
        FZ_CHECK(!changed, "a tampered handshake succeeded");
        struct colo_session_keys ki, kr;
        colo_auth_keys(&i, &ki);
        colo_auth_keys(&r, &kr);
        FZ_CHECK(memcmp(ki.tx, kr.rx, COLO_KEY_LEN) == 0 && memcmp(ki.rx, kr.tx, COLO_KEY_LEN) == 0,
                 "keys differ");
    } else {
        FZ_CHECK(changed, "an untouched handshake failed: %s / %s", i.why ? i.why : "-",
                 r.why ? r.why : "-");
    }
    colo_auth_wipe(&i);
    colo_auth_wipe(&r);
    return 0;
}

void fuzz_make_seeds(void)
{
    /* an untouched handshake (both modes), one flipped proof, and a responder's first INIT */
    static uint8_t b[1 + 3 * COLO_AUTH_MSG_MAX];
    memset(b, 0, sizeof(b));
    b[0] = 1;
    fuzz_write_seed("clean", b, 1);
    b[0] = 3;
    fuzz_write_seed("clean-fix", b, 1);
    b[1 + COLO_HDR_SIZE + 20] = 1;
    fuzz_write_seed("flip-nonce", b, 1 + COLO_HDR_SIZE + 21);
    struct colo_auth a;
    struct colo_auth_cfg c = cfg(true);
    b[0] = 0;
    size_t n = colo_auth_start(&a, &c, b + 1, sizeof(b) - 1);
    fuzz_write_seed("init-to-responder", b, 1 + n);
    colo_auth_wipe(&a);
}
