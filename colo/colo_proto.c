// SPDX-License-Identifier: Apache-2.0
// The COLO wire format: encoder, incremental decoder, payload parsers (colo_proto.h).
#include <string.h>

#include <colo/input.h>
#include <colo/proto.h>

#include "colo_util.h"

static const char *const err_names[] = {
    [COLO_OK] = "ok",
    [COLO_E_MAGIC] = "bad magic",
    [COLO_E_VERSION] = "bad version",
    [COLO_E_HDR_CRC] = "header CRC mismatch",
    [COLO_E_TYPE] = "unknown message type",
    [COLO_E_LENGTH] = "length over the limit for the type",
    [COLO_E_PAYLOAD_CRC] = "payload CRC mismatch",
    [COLO_E_PAYLOAD] = "malformed payload",
    [COLO_E_AUTH] = "authentication tag mismatch",
    [COLO_E_FRAMING] = "plain and sealed framing mixed",
};

static const char *const msg_names[COLO_MSG_TYPE_COUNT] = {
    [COLO_MSG_HELLO] = "HELLO",
    [COLO_MSG_HELLO_ACK] = "HELLO_ACK",
    [COLO_MSG_CHECKPOINT_READY] = "CHECKPOINT_READY",
    [COLO_MSG_CHECKPOINT_REQUEST] = "CHECKPOINT_REQUEST",
    [COLO_MSG_CHECKPOINT_REPLY] = "CHECKPOINT_REPLY",
    [COLO_MSG_VMSTATE_SEND] = "VMSTATE_SEND",
    [COLO_MSG_RAM_PAGES] = "RAM_PAGES",
    [COLO_MSG_DEVICE_STATE] = "DEVICE_STATE",
    [COLO_MSG_VMSTATE_SIZE] = "VMSTATE_SIZE",
    [COLO_MSG_VMSTATE_RECEIVED] = "VMSTATE_RECEIVED",
    [COLO_MSG_VMSTATE_LOADED] = "VMSTATE_LOADED",
    [COLO_MSG_GUEST_SHUTDOWN] = "GUEST_SHUTDOWN",
    [COLO_MSG_ABORT] = "ABORT",
    [COLO_MSG_HEARTBEAT] = "HEARTBEAT",
    [COLO_MSG_RAM_SYNC] = "RAM_SYNC",
    [COLO_MSG_VERIFY] = "VERIFY",
    [COLO_MSG_INPUT] = "INPUT",
    [COLO_MSG_AUTH_INIT] = "AUTH_INIT",
    [COLO_MSG_AUTH_REPLY] = "AUTH_REPLY",
    [COLO_MSG_AUTH_FINISH] = "AUTH_FINISH",
};

static const char *const abort_names[] = {
    [COLO_ABORT_NONE] = "none",
    [COLO_ABORT_VERSION] = "no common protocol version",
    [COLO_ABORT_BOARD] = "board type mismatch",
    [COLO_ABORT_RAM_SIZE] = "guest RAM size mismatch",
    [COLO_ABORT_DEVSET] = "device set mismatch",
    [COLO_ABORT_IMAGE] = "guest image mismatch",
    [COLO_ABORT_PROTOCOL] = "protocol violation",
    [COLO_ABORT_EPOCH] = "wrong epoch",
    [COLO_ABORT_BAD_PAGE] = "page outside guest RAM",
    [COLO_ABORT_CHECKSUM] = "checkpoint totals or CRC mismatch",
    [COLO_ABORT_STAGING] = "checkpoint exceeds staging area",
    [COLO_ABORT_STATE] = "device state rejected",
    [COLO_ABORT_DECODE] = "framing error",
    [COLO_ABORT_PEER] = "aborted by peer",
    [COLO_ABORT_CONN_LOST] = "connection lost",
    [COLO_ABORT_SHUTDOWN] = "guest shut down",
    [COLO_ABORT_DIVERGED] = "replica diverged",
    [COLO_ABORT_STOPPED] = "stopped by the operator",
    [COLO_ABORT_SWITCHOVER] = "planned switchover",
    [COLO_ABORT_AUTH] = "authentication failed",
};

const char *colo_err_name(enum colo_err e)
{
    return (unsigned)e < ARRAY_SIZE(err_names) ? err_names[e] : "?";
}

const char *colo_msg_name(uint16_t type)
{
    return type < COLO_MSG_TYPE_COUNT && msg_names[type] ? msg_names[type] : "?";
}

const char *colo_abort_name(uint32_t reason)
{
    return reason < ARRAY_SIZE(abort_names) && abort_names[reason] ? abort_names[reason]
                                                                   : "unknown reason";
}

bool colo_len_ok(uint16_t type, uint32_t len)
{
    switch (type) {
    case COLO_MSG_HELLO:
        return len == COLO_HELLO_LEN;
    case COLO_MSG_HELLO_ACK:
        return len == COLO_HELLO_ACK_LEN;
    case COLO_MSG_CHECKPOINT_READY:
    case COLO_MSG_CHECKPOINT_REQUEST:
    case COLO_MSG_CHECKPOINT_REPLY:
    case COLO_MSG_VMSTATE_SEND:
    case COLO_MSG_VMSTATE_RECEIVED:
    case COLO_MSG_VMSTATE_LOADED:
    case COLO_MSG_GUEST_SHUTDOWN:
        return len == 0;
    case COLO_MSG_RAM_PAGES:
    case COLO_MSG_RAM_SYNC:
        return len >= 4 + COLO_PAGE_ENTRY && len <= 4 + COLO_PAGES_PER_MSG * COLO_PAGE_ENTRY;
    case COLO_MSG_DEVICE_STATE:
        return len >= 1 && len <= COLO_MAX_PAYLOAD;
    case COLO_MSG_VMSTATE_SIZE:
        return len == COLO_VMSTATE_SIZE_LEN;
    case COLO_MSG_ABORT:
        return len >= 4 && len <= 4 + COLO_ABORT_TEXT_MAX;
    case COLO_MSG_HEARTBEAT:
        return len == COLO_HEARTBEAT_LEN;
    case COLO_MSG_INPUT:
        return len >= COLO_INPUT_MIN && len <= COLO_INPUT_MAX;
    case COLO_MSG_AUTH_INIT:
        return len == COLO_AUTH_INIT_LEN;
    case COLO_MSG_AUTH_REPLY:
        return len == COLO_AUTH_REPLY_LEN;
    case COLO_MSG_AUTH_FINISH:
        return len == COLO_AUTH_FINISH_LEN;
    case COLO_MSG_VERIFY:
        return len >= COLO_VERIFY_HDR + 4 && len <= COLO_VERIFY_HDR + 4 * COLO_VERIFY_MAX &&
               (len - COLO_VERIFY_HDR) % 4 == 0;
    default:
        return false;
    }
}

static bool sealed(const struct colo_seal *tx)
{
    return tx && tx->on;
}

static size_t msg_size(bool seal, uint32_t len)
{
    return COLO_HDR_SIZE + len + (seal ? COLO_TAG_SIZE : len ? COLO_CRC_SIZE : 0);
}

void colo_seal_init(struct colo_seal *s, const uint8_t key[COLO_KEY_LEN])
{
    memcpy(s->key, key, COLO_KEY_LEN);
    s->ctr = 0;
    s->on = true;
}

void colo_seal_off(struct colo_seal *s)
{
    colo_port_wipe(s->key, sizeof(s->key));
    s->ctr = 0;
    s->on = false;
}

/* The message number as the AEAD's nonce: 4 zero bytes, then the number (64 bits never wrap). */
static void seal_nonce(uint64_t ctr, uint8_t nonce[COLO_AEAD_NONCE_LEN])
{
    colo_put32(nonce, 0);
    colo_put64(nonce + 4, ctr);
}

/*
 * Writes the header around a payload already at out + COLO_HDR_SIZE, then either seals the
 * payload in place (the tag after it) or appends the payload CRC.
 */
static size_t frame(struct colo_seal *tx, uint8_t *o, uint16_t type, uint64_t epoch, uint32_t len)
{
    bool seal = sealed(tx);
    colo_put32(o, COLO_MAGIC);
    colo_put16(o + 4, seal ? COLO_PROTO_VERSION_SEALED : COLO_PROTO_VERSION);
    colo_put16(o + 6, type);
    colo_put64(o + 8, epoch);
    colo_put32(o + 16, len);
    colo_put32(o + 20, 0);
    if (seal) {
        uint8_t nonce[COLO_AEAD_NONCE_LEN];
        seal_nonce(tx->ctr++, nonce);
        colo_port_aead_seal(tx->key, nonce, o, COLO_HDR_SIZE, o + COLO_HDR_SIZE, len,
                            o + COLO_HDR_SIZE + len);
        return msg_size(true, len);
    }
    colo_put32(o + 20, colo_port_crc32c(0, o, COLO_HDR_SIZE));
    if (len) {
        colo_put32(o + COLO_HDR_SIZE + len, colo_port_crc32c(0, o + COLO_HDR_SIZE, len));
    }
    return msg_size(false, len);
}

static bool fits(const struct colo_seal *tx, uint16_t type, uint32_t len, size_t cap)
{
    return colo_len_ok(type, len) && msg_size(sealed(tx), len) <= cap;
}

size_t colo_encode(struct colo_seal *tx, void *out, size_t cap, uint16_t type, uint64_t epoch,
                   const void *payload, uint32_t len)
{
    if (!fits(tx, type, len, cap) || (len && !payload)) {
        return 0;
    }
    uint8_t *o = out;
    if (len) {
        memmove(o + COLO_HDR_SIZE, payload, len);
    }
    return frame(tx, o, type, epoch, len);
}

size_t colo_encode_hello(struct colo_seal *tx, void *out, size_t cap, uint64_t epoch,
                         const struct colo_hello *h)
{
    if (!fits(tx, COLO_MSG_HELLO, COLO_HELLO_LEN, cap)) {
        return 0;
    }
    uint8_t *p = (uint8_t *)out + COLO_HDR_SIZE;
    colo_put16(p, h->ver_min);
    colo_put16(p + 2, h->ver_max);
    colo_put32(p + 4, h->caps);
    memset(p + 8, 0, COLO_BOARD_LEN);
    size_t blen = strnlen(h->board, COLO_BOARD_LEN - 1);
    memcpy(p + 8, h->board, blen);
    p += 8 + COLO_BOARD_LEN;
    colo_put64(p, h->ram_bytes);
    colo_put64(p + 8, h->devset_id);
    memcpy(p + 16, h->image_id, COLO_IMAGE_ID_LEN);
    return frame(tx, out, COLO_MSG_HELLO, epoch, COLO_HELLO_LEN);
}

size_t colo_encode_hello_ack(struct colo_seal *tx, void *out, size_t cap, uint64_t epoch,
                             const struct colo_hello_ack *a)
{
    if (!fits(tx, COLO_MSG_HELLO_ACK, COLO_HELLO_ACK_LEN, cap)) {
        return 0;
    }
    uint8_t *p = (uint8_t *)out + COLO_HDR_SIZE;
    colo_put16(p, a->version);
    colo_put16(p + 2, 0);
    colo_put32(p + 4, a->caps);
    colo_put32(p + 8, a->stage_pages);
    colo_put32(p + 12, a->stage_state);
    return frame(tx, out, COLO_MSG_HELLO_ACK, epoch, COLO_HELLO_ACK_LEN);
}

size_t colo_encode_ram_pages(struct colo_seal *tx, void *out, size_t cap, uint64_t epoch,
                             const uint64_t *pfns, const uint8_t *data, uint32_t count)
{
    return colo_encode_pages(tx, out, cap, COLO_MSG_RAM_PAGES, epoch, pfns, data, count);
}

size_t colo_encode_pages(struct colo_seal *tx, void *out, size_t cap, uint16_t type, uint64_t epoch,
                         const uint64_t *pfns, const uint8_t *data, uint32_t count)
{
    if ((type != COLO_MSG_RAM_PAGES && type != COLO_MSG_RAM_SYNC) || count == 0 ||
        count > COLO_PAGES_PER_MSG) {
        return 0;
    }
    uint32_t len = 4 + count * COLO_PAGE_ENTRY;
    if (!fits(tx, type, len, cap)) {
        return 0;
    }
    uint8_t *p = (uint8_t *)out + COLO_HDR_SIZE;
    colo_put32(p, count);
    p += 4;
    for (uint32_t i = 0; i < count; i++, p += COLO_PAGE_ENTRY) {
        colo_put64(p, pfns[i]);
        memcpy(p + 8, data + (size_t)i * COLO_PAGE_SIZE, COLO_PAGE_SIZE);
    }
    return frame(tx, out, type, epoch, len);
}

size_t colo_encode_verify(struct colo_seal *tx, void *out, size_t cap, uint64_t epoch,
                          uint64_t first, const uint32_t *hashes, uint32_t count)
{
    uint32_t len = COLO_VERIFY_HDR + 4 * count;
    if (count == 0 || count > COLO_VERIFY_MAX || !fits(tx, COLO_MSG_VERIFY, len, cap)) {
        return 0;
    }
    uint8_t *p = (uint8_t *)out + COLO_HDR_SIZE;
    colo_put64(p, first);
    colo_put32(p + 8, count);
    for (uint32_t i = 0; i < count; i++) {
        colo_put32(p + COLO_VERIFY_HDR + 4 * i, hashes[i]);
    }
    return frame(tx, out, COLO_MSG_VERIFY, epoch, len);
}

size_t colo_encode_vmstate_size(struct colo_seal *tx, void *out, size_t cap, uint64_t epoch,
                                const struct colo_vmstate_size *v)
{
    if (!fits(tx, COLO_MSG_VMSTATE_SIZE, COLO_VMSTATE_SIZE_LEN, cap)) {
        return 0;
    }
    uint8_t *p = (uint8_t *)out + COLO_HDR_SIZE;
    colo_put64(p, v->state_bytes);
    colo_put64(p + 8, v->page_count);
    colo_put32(p + 16, v->crc);
    return frame(tx, out, COLO_MSG_VMSTATE_SIZE, epoch, COLO_VMSTATE_SIZE_LEN);
}

size_t colo_encode_abort(struct colo_seal *tx, void *out, size_t cap, uint64_t epoch,
                         uint32_t reason, const char *text)
{
    uint32_t tlen = text ? (uint32_t)strnlen(text, COLO_ABORT_TEXT_MAX) : 0;
    if (!fits(tx, COLO_MSG_ABORT, 4 + tlen, cap)) {
        return 0;
    }
    uint8_t *p = (uint8_t *)out + COLO_HDR_SIZE;
    colo_put32(p, reason);
    if (tlen) {
        memcpy(p + 4, text, tlen);
    }
    return frame(tx, out, COLO_MSG_ABORT, epoch, 4 + tlen);
}

size_t colo_encode_heartbeat(struct colo_seal *tx, void *out, size_t cap, uint64_t epoch,
                             uint64_t now_us)
{
    if (!fits(tx, COLO_MSG_HEARTBEAT, COLO_HEARTBEAT_LEN, cap)) {
        return 0;
    }
    colo_put64((uint8_t *)out + COLO_HDR_SIZE, now_us);
    return frame(tx, out, COLO_MSG_HEARTBEAT, epoch, COLO_HEARTBEAT_LEN);
}

void colo_dec_init(struct colo_decoder *d)
{
    colo_seal_off(&d->rx);
    d->have = 0;
    d->need = COLO_HDR_SIZE;
    d->err = COLO_OK;
}

void colo_dec_set_key(struct colo_decoder *d, const uint8_t key[COLO_KEY_LEN])
{
    colo_seal_init(&d->rx, key);
}

enum colo_err colo_header_check(const uint8_t *h, bool seal, size_t *need)
{
    if (colo_get32(h) != COLO_MAGIC) {
        return COLO_E_MAGIC;
    }
    uint16_t ver = colo_get16(h + 4);
    if (ver != COLO_PROTO_VERSION && ver != COLO_PROTO_VERSION_SEALED) {
        return COLO_E_VERSION;
    }
    /* A plain message in a sealed session would be one anybody can write. */
    if ((ver == COLO_PROTO_VERSION_SEALED) != seal) {
        return COLO_E_FRAMING;
    }
    if (seal) {
        if (colo_get32(h + 20) != 0) {
            return COLO_E_FRAMING;
        }
    } else {
        uint8_t tmp[COLO_HDR_SIZE];
        memcpy(tmp, h, COLO_HDR_SIZE);
        colo_put32(tmp + 20, 0);
        if (colo_port_crc32c(0, tmp, COLO_HDR_SIZE) != colo_get32(h + 20)) {
            return COLO_E_HDR_CRC;
        }
    }
    uint16_t type = colo_get16(h + 6);
    if (type == 0 || type >= COLO_MSG_TYPE_COUNT) {
        return COLO_E_TYPE;
    }
    uint32_t len = colo_get32(h + 16);
    if (!colo_len_ok(type, len)) {
        return COLO_E_LENGTH;
    }
    *need = msg_size(seal, len);
    return COLO_OK;
}

enum colo_dec_result colo_dec_feed(struct colo_decoder *d, const void *data, size_t len,
                                   size_t *used, struct colo_msg *msg)
{
    const uint8_t *in = data;
    size_t taken = 0;
    *used = 0;
    if (d->err != COLO_OK) {
        return COLO_DEC_ERROR;
    }
    while (taken < len) {
        /* need <= sizeof(buf) always: check_header bounds it before it grows past the header. */
        size_t n = MIN(len - taken, d->need - d->have);
        memcpy(d->buf + d->have, in + taken, n);
        d->have += n;
        taken += n;
        *used = taken;
        if (d->have < d->need) {
            break;
        }
        if (d->need == COLO_HDR_SIZE) {
            d->err = colo_header_check(d->buf, d->rx.on, &d->need);
            if (d->err != COLO_OK) {
                return COLO_DEC_ERROR;
            }
        }
        if (d->have < d->need) {
            continue;
        }
        uint32_t plen = colo_get32(d->buf + 16);
        if (d->rx.on) {
            /* Opened in place, where it was framed: no copy. A failure is final (the stream is
             * no longer in step with the sender's numbering) and leaves nothing decrypted. */
            uint8_t nonce[COLO_AEAD_NONCE_LEN];
            seal_nonce(d->rx.ctr, nonce);
            if (!colo_port_aead_open(d->rx.key, nonce, d->buf, COLO_HDR_SIZE,
                                     d->buf + COLO_HDR_SIZE, plen, d->buf + COLO_HDR_SIZE + plen)) {
                d->err = COLO_E_AUTH;
                return COLO_DEC_ERROR;
            }
            d->rx.ctr++;
        } else if (plen && colo_port_crc32c(0, d->buf + COLO_HDR_SIZE, plen) !=
                               colo_get32(d->buf + COLO_HDR_SIZE + plen)) {
            d->err = COLO_E_PAYLOAD_CRC;
            return COLO_DEC_ERROR;
        }
        msg->type = colo_get16(d->buf + 6);
        msg->epoch = colo_get64(d->buf + 8);
        msg->len = plen;
        msg->payload = d->buf + COLO_HDR_SIZE;
        d->have = 0;
        d->need = COLO_HDR_SIZE;
        return COLO_DEC_MSG;
    }
    return COLO_DEC_MORE;
}

/*
 * Peer text ends up on the console, which scripts parse line by line ("colo: event=..."): a
 * newline or an escape sequence from the peer could forge such a line. Everything but printable
 * ASCII becomes '?', so every consumer of a decoded string gets one harmless line. The length is
 * bounded by the caller's buffer and kept, so nothing is silently cut.
 */
static void make_printable(char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        /* '"' too: these texts land inside reason="..." on event lines scripts parse. */
        if (c < 0x20 || c >= 0x7f || c == '"') {
            s[i] = '?';
        }
    }
}

static bool is(const struct colo_msg *m, uint16_t type)
{
    return m->type == type && colo_len_ok(type, m->len);
}

enum colo_err colo_parse_hello(const struct colo_msg *m, struct colo_hello *h)
{
    if (!is(m, COLO_MSG_HELLO)) {
        return COLO_E_PAYLOAD;
    }
    const uint8_t *p = m->payload;
    h->ver_min = colo_get16(p);
    h->ver_max = colo_get16(p + 2);
    h->caps = colo_get32(p + 4);
    memcpy(h->board, p + 8, COLO_BOARD_LEN);
    if (memchr(h->board, 0, COLO_BOARD_LEN) == NULL) {
        return COLO_E_PAYLOAD;
    }
    make_printable(h->board, strlen(h->board));
    p += 8 + COLO_BOARD_LEN;
    h->ram_bytes = colo_get64(p);
    h->devset_id = colo_get64(p + 8);
    memcpy(h->image_id, p + 16, COLO_IMAGE_ID_LEN);
    return h->ver_min <= h->ver_max ? COLO_OK : COLO_E_PAYLOAD;
}

enum colo_err colo_parse_hello_ack(const struct colo_msg *m, struct colo_hello_ack *a)
{
    if (!is(m, COLO_MSG_HELLO_ACK)) {
        return COLO_E_PAYLOAD;
    }
    a->version = colo_get16(m->payload);
    a->caps = colo_get32(m->payload + 4);
    a->stage_pages = colo_get32(m->payload + 8);
    a->stage_state = colo_get32(m->payload + 12);
    return colo_get16(m->payload + 2) == 0 ? COLO_OK : COLO_E_PAYLOAD;
}

enum colo_err colo_parse_ram_pages(const struct colo_msg *m, uint32_t *count)
{
    if (!is(m, COLO_MSG_RAM_PAGES) && !is(m, COLO_MSG_RAM_SYNC)) {
        return COLO_E_PAYLOAD;
    }
    uint32_t c = colo_get32(m->payload);
    if (c == 0 || c > COLO_PAGES_PER_MSG || m->len != 4 + c * COLO_PAGE_ENTRY) {
        return COLO_E_PAYLOAD;
    }
    *count = c;
    return COLO_OK;
}

void colo_ram_page(const struct colo_msg *m, uint32_t i, uint64_t *pfn, const uint8_t **data)
{
    const uint8_t *e = m->payload + 4 + (size_t)i * COLO_PAGE_ENTRY;
    *pfn = colo_get64(e);
    *data = e + 8;
}

enum colo_err colo_parse_vmstate_size(const struct colo_msg *m, struct colo_vmstate_size *v)
{
    if (!is(m, COLO_MSG_VMSTATE_SIZE)) {
        return COLO_E_PAYLOAD;
    }
    v->state_bytes = colo_get64(m->payload);
    v->page_count = colo_get64(m->payload + 8);
    v->crc = colo_get32(m->payload + 16);
    return COLO_OK;
}

enum colo_err colo_parse_abort(const struct colo_msg *m, struct colo_abort *a)
{
    if (!is(m, COLO_MSG_ABORT)) {
        return COLO_E_PAYLOAD;
    }
    a->reason = colo_get32(m->payload);
    size_t tlen = m->len - 4;
    memcpy(a->text, m->payload + 4, tlen);
    a->text[tlen] = '\0';
    /* an embedded NUL would end the text early: shown as '?' like any other control byte */
    make_printable(a->text, tlen);
    return COLO_OK;
}

enum colo_err colo_parse_verify(const struct colo_msg *m, uint64_t *first, uint32_t *count)
{
    if (!is(m, COLO_MSG_VERIFY)) {
        return COLO_E_PAYLOAD;
    }
    uint64_t f = colo_get64(m->payload);
    uint32_t c = colo_get32(m->payload + 8);
    if (m->len != COLO_VERIFY_HDR + 4ull * c || f + c < f) {
        return COLO_E_PAYLOAD;
    }
    *first = f;
    *count = c;
    return COLO_OK;
}

uint32_t colo_page_hash(const void *page)
{
    return (uint32_t)colo_port_page_hash(page);
}
