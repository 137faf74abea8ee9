/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The COLO replication wire format (docs/colo-protocol.md): framed messages between the primary
 * and the secondary board, little-endian, independent of the host byte order. Two framings:
 *
 * Sealed (version 2; every session with a pair key, after the handshake of colo/auth.h):
 *   header (24 bytes): magic u32 'COLO' | version u16 (2) | type u16 | epoch u64 | length u32 |
 *                      zero u32
 *   payload (length bytes), encrypted in place by ChaCha20-Poly1305 under the direction's key
 *   with the header as associated data | tag (16 bytes, also when length is 0)
 *   The nonce is the message's number in its direction (0, 1, ...; never sent): a replayed,
 *   dropped, reordered or spliced message fails its tag, and the tag replaces every CRC.
 *
 * Plain (version 1; the handshake itself, and sessions of boards set cv.insecure=1):
 *   header (24 bytes): as above, version 1, the last field header_crc u32 (CRC32C of the header
 *                      with this field zero)
 *   payload (length bytes, at most COLO_MAX_PAYLOAD, per-type limits) | payload_crc u32
 *   (CRC32C of the payload; present only when length > 0)
 *
 * The decoder is incremental: it takes bytes in whatever chunks the transport delivers and
 * yields whole, validated messages. Its buffer is fixed (one maximal message), so a peer cannot
 * make it allocate or read out of bounds. Everything here is pure computation: any context.
 */
#ifndef COLO_PROTO_H
#define COLO_PROTO_H

#include <colo/port.h>

#define COLO_MAGIC 0x4f4c4f43u       /* the bytes "COLO" on the wire */
#define COLO_PROTO_VERSION 1u        /**< plain framing */
#define COLO_PROTO_VERSION_SEALED 2u /**< sealed framing */
#define COLO_HDR_SIZE 24u
#define COLO_CRC_SIZE 4u
#define COLO_TAG_SIZE 16u
/** What follows a payload at most (the tag): encode buffers are sized with it. */
#define COLO_TRAILER_MAX COLO_TAG_SIZE
/** Largest payload of any message: bounds the decoder's buffer. */
#define COLO_MAX_PAYLOAD (1024u * 1024u)
#define COLO_MAX_MSG (COLO_HDR_SIZE + COLO_MAX_PAYLOAD + COLO_TRAILER_MAX)

#define COLO_PAGE_SIZE 4096u
/** One RAM_PAGES entry: page number u64 + the page. */
#define COLO_PAGE_ENTRY (8u + COLO_PAGE_SIZE)
/** Pages per RAM_PAGES message: the most that fit in COLO_MAX_PAYLOAD after the count. */
#define COLO_PAGES_PER_MSG 255u

#define COLO_BOARD_LEN 32u
#define COLO_IMAGE_ID_LEN 32u
#define COLO_HELLO_LEN (2u + 2u + 4u + COLO_BOARD_LEN + 8u + 8u + COLO_IMAGE_ID_LEN)
#define COLO_HELLO_ACK_LEN 16u
#define COLO_VMSTATE_SIZE_LEN 20u
#define COLO_ABORT_TEXT_MAX 128u
#define COLO_HEARTBEAT_LEN 8u
#define COLO_AUTH_NONCE_LEN 32u
/** AUTH_INIT: suite u16 | role u8 | board u8 | reserved u32 | boot_id u64 | nonce[32] */
#define COLO_AUTH_INIT_LEN (16u + COLO_AUTH_NONCE_LEN)
/** AUTH_REPLY: the same fields for the responder, then its proof (HMAC-SHA-256) */
#define COLO_AUTH_REPLY_LEN (COLO_AUTH_INIT_LEN + COLO_SHA256_LEN)
/** AUTH_FINISH: the initiator's proof */
#define COLO_AUTH_FINISH_LEN COLO_SHA256_LEN
/** VERIFY: first page u64 + count u32 + count page hashes u32. */
#define COLO_VERIFY_HDR 12u
#define COLO_VERIFY_MAX ((COLO_MAX_PAYLOAD - COLO_VERIFY_HDR) / 4u)

/** Capability bits (HELLO caps, HELLO_ACK caps = the ones both sides use). */
#define COLO_CAP_VERIFY 1u /**< checkpoints carry VERIFY: both sides compare whole RAM + state */
/** The primary forwards the frames its guest receives (INPUT) for the secondary's input log. */
#define COLO_CAP_INPUT 2u

enum colo_msg_type {
    COLO_MSG_HELLO = 1,              /**< P->S: who I am (struct colo_hello) */
    COLO_MSG_HELLO_ACK = 2,          /**< S->P: accepted; agreed version and capabilities */
    COLO_MSG_CHECKPOINT_READY = 3,   /**< S->P: ready for checkpoints */
    COLO_MSG_CHECKPOINT_REQUEST = 4, /**< P->S: checkpoint <epoch> begins */
    COLO_MSG_CHECKPOINT_REPLY = 5,   /**< S->P: staging for <epoch> cleared */
    COLO_MSG_VMSTATE_SEND = 6,       /**< P->S: state of <epoch> follows */
    COLO_MSG_RAM_PAGES = 7,          /**< P->S: count u32 + count x (pfn u64, page) */
    COLO_MSG_DEVICE_STATE = 8,       /**< P->S: a piece of the vmstate stream (opaque) */
    COLO_MSG_VMSTATE_SIZE = 9,       /**< P->S: totals and whole-checkpoint CRC: end of state */
    COLO_MSG_VMSTATE_RECEIVED = 10,  /**< S->P: whole checkpoint received and verified */
    COLO_MSG_VMSTATE_LOADED = 11,    /**< S->P: applied: <epoch> is committed */
    COLO_MSG_GUEST_SHUTDOWN = 12,    /**< P->S: the guest powered off; session ends */
    COLO_MSG_ABORT = 13,             /**< either way: reason u32 + text; session ends */
    COLO_MSG_HEARTBEAT = 14,         /**< either way: sender's time in us (u64) */
    COLO_MSG_RAM_SYNC = 15,          /**< P->S: pre-copy pages, written at once (no replica yet) */
    COLO_MSG_VERIFY = 16,            /**< P->S: page hashes of the primary's RAM at the pause */
    COLO_MSG_INPUT = 17, /**< P->S: a frame the guest received; epoch: the checkpoint to hold it */
    COLO_MSG_AUTH_INIT = 18,   /**< P->S, plain: the handshake's first message (colo/auth.h) */
    COLO_MSG_AUTH_REPLY = 19,  /**< S->P, plain: the responder's nonce and proof */
    COLO_MSG_AUTH_FINISH = 20, /**< P->S, plain: the initiator's proof */
    COLO_MSG_TYPE_COUNT,
};

/** Decoder and payload-parse results. */
enum colo_err {
    COLO_OK = 0,
    COLO_E_MAGIC,
    COLO_E_VERSION,
    COLO_E_HDR_CRC,
    COLO_E_TYPE,
    COLO_E_LENGTH, /**< payload length outside the limits of its type */
    COLO_E_PAYLOAD_CRC,
    COLO_E_PAYLOAD, /**< CRCs good but the payload is malformed for its type */
    COLO_E_AUTH,    /**< sealed: the tag is wrong (forged, replayed, reordered or damaged) */
    COLO_E_FRAMING, /**< a plain message where sealed ones are due, or the other way round */
};

/** Reasons carried by ABORT. */
enum colo_abort_reason {
    COLO_ABORT_NONE = 0,
    COLO_ABORT_VERSION = 1,  /**< no common protocol version */
    COLO_ABORT_BOARD = 2,    /**< board types differ */
    COLO_ABORT_RAM_SIZE = 3, /**< guest RAM sizes differ */
    COLO_ABORT_DEVSET = 4,   /**< device sets differ */
    COLO_ABORT_IMAGE = 5,    /**< guest images differ */
    COLO_ABORT_PROTOCOL = 6, /**< message not allowed in this state, or malformed */
    COLO_ABORT_EPOCH = 7,    /**< message of the wrong epoch */
    COLO_ABORT_BAD_PAGE = 8, /**< page number outside guest RAM */
    COLO_ABORT_CHECKSUM = 9, /**< checkpoint totals or whole-checkpoint CRC mismatch */
    COLO_ABORT_STAGING = 10, /**< checkpoint larger than the staging area */
    COLO_ABORT_STATE = 11,   /**< device state rejected by the VM */
    COLO_ABORT_DECODE = 12,  /**< framing error in the byte stream */
    COLO_ABORT_PEER = 13,    /**< the peer sent ABORT */
    COLO_ABORT_CONN_LOST = 14,
    COLO_ABORT_SHUTDOWN = 15,   /**< not an error: the guest shut down */
    COLO_ABORT_DIVERGED = 16,   /**< verification: the replica differs from the primary */
    COLO_ABORT_STOPPED = 17,    /**< not an error: stopped by the operator */
    COLO_ABORT_SWITCHOVER = 18, /**< not an error: planned hand-over; the secondary takes over */
    COLO_ABORT_AUTH = 19, /**< the peer could not be authenticated, or a record's tag failed */
};

enum colo_role {
    COLO_ROLE_PRIMARY,
    COLO_ROLE_SECONDARY,
};

/** A decoded message; payload points into the decoder, valid until its next feed. */
struct colo_msg {
    uint16_t type;
    uint64_t epoch;
    uint32_t len;
    const uint8_t *payload;
};

struct colo_hello {
    uint16_t ver_min, ver_max;  /**< protocol versions the sender speaks */
    uint32_t caps;              /**< capability bits (none defined yet) */
    char board[COLO_BOARD_LEN]; /**< board type, NUL-terminated; decoded: printable ASCII */
    uint64_t ram_bytes;         /**< guest RAM size */
    uint64_t devset_id;         /**< identifies the emulated device set and its configuration */
    uint8_t image_id[COLO_IMAGE_ID_LEN]; /**< hash of the guest image */
};

struct colo_hello_ack {
    uint16_t version;
    uint32_t caps;
    uint32_t stage_pages; /**< most pages one checkpoint may carry (the secondary's staging) */
    uint32_t stage_state; /**< most device-state bytes one checkpoint may carry */
};

struct colo_vmstate_size {
    uint64_t state_bytes; /**< DEVICE_STATE bytes in the checkpoint */
    uint64_t page_count;  /**< RAM_PAGES entries in the checkpoint */
    uint32_t crc;         /**< CRC32C over the payloads of its RAM_PAGES and DEVICE_STATE */
};

struct colo_abort {
    uint32_t reason;
    char text[COLO_ABORT_TEXT_MAX + 1]; /**< NUL-terminated; decoded: printable ASCII only */
};

/**
 * One direction of a sealed session: its key and the number of the next message. Owned by the
 * engine (sending) and by its decoder (receiving); on == false means plain framing.
 */
struct colo_seal {
    bool on;
    uint64_t ctr;
    uint8_t key[COLO_KEY_LEN];
};

/** A session's two keys, as the handshake (colo/auth.h) derives them. */
struct colo_session_keys {
    uint8_t tx[COLO_KEY_LEN];
    uint8_t rx[COLO_KEY_LEN];
};

/** Turns sealing on for the next message on, with key (copied), numbering from 0. */
void colo_seal_init(struct colo_seal *s, const uint8_t key[COLO_KEY_LEN]);
/** Back to plain framing; the key is wiped. */
void colo_seal_off(struct colo_seal *s);

enum colo_dec_result {
    COLO_DEC_MORE,  /**< all bytes consumed, no whole message yet */
    COLO_DEC_MSG,   /**< a message is ready */
    COLO_DEC_ERROR, /**< stream broken (sticky until colo_dec_init) */
};

struct colo_decoder {
    struct colo_seal rx; /**< sealed messages expected (colo_dec_set_key) */
    size_t have;         /**< bytes of the current message buffered */
    size_t need;         /**< total bytes of the current message, once the header is known */
    enum colo_err err;
    uint8_t buf[COLO_MAX_MSG];
};

/* ---- little-endian access ---- */
static inline void colo_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static inline void colo_put32(uint8_t *p, uint32_t v)
{
    for (unsigned i = 0; i < 4; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}
static inline void colo_put64(uint8_t *p, uint64_t v)
{
    for (unsigned i = 0; i < 8; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}
static inline uint16_t colo_get16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}
static inline uint32_t colo_get32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline uint64_t colo_get64(const uint8_t *p)
{
    return (uint64_t)colo_get32(p) | ((uint64_t)colo_get32(p + 4) << 32);
}

/* Bit counting without the compiler's builtins: at EL2 they may become SIMD code (libgcc). */
static inline unsigned colo_popcount64(uint64_t x)
{
    x = x - ((x >> 1) & 0x5555555555555555ull);
    x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
    x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
    return (unsigned)((x * 0x0101010101010101ull) >> 56);
}
static inline unsigned colo_ctz64(uint64_t x) /* x != 0 */
{
    unsigned n = 0;
    while (!(x & 1)) {
        x >>= 1;
        n++;
    }
    return n;
}

const char *colo_err_name(enum colo_err e);
const char *colo_msg_name(uint16_t type);
const char *colo_abort_name(uint32_t reason);
/** True when len is an allowed payload length for type (false for unknown types). */
bool colo_len_ok(uint16_t type, uint32_t len);

/* ---- encoder: each returns the message size written to out, or 0 if it does not fit in cap
 * or the payload is not allowed for the type. tx NULL or off: plain framing; else the message is
 * sealed in place with tx's key and number, which then counts on. The payload is written into
 * out before it is sealed, so out must be writable past the payload by COLO_TRAILER_MAX. ---- */
size_t colo_encode(struct colo_seal *tx, void *out, size_t cap, uint16_t type, uint64_t epoch,
                   const void *payload, uint32_t len);
size_t colo_encode_hello(struct colo_seal *tx, void *out, size_t cap, uint64_t epoch,
                         const struct colo_hello *h);
size_t colo_encode_hello_ack(struct colo_seal *tx, void *out, size_t cap, uint64_t epoch,
                             const struct colo_hello_ack *a);
/** count pages (1..COLO_PAGES_PER_MSG): pfns[i] with data + i * COLO_PAGE_SIZE. */
size_t colo_encode_ram_pages(struct colo_seal *tx, void *out, size_t cap, uint64_t epoch,
                             const uint64_t *pfns, const uint8_t *data, uint32_t count);
/** The same payload as RAM_PAGES, as type RAM_PAGES or RAM_SYNC. */
size_t colo_encode_pages(struct colo_seal *tx, void *out, size_t cap, uint16_t type, uint64_t epoch,
                         const uint64_t *pfns, const uint8_t *data, uint32_t count);
/** count (1..COLO_VERIFY_MAX) hashes of pages first .. first + count - 1. */
size_t colo_encode_verify(struct colo_seal *tx, void *out, size_t cap, uint64_t epoch,
                          uint64_t first, const uint32_t *hashes, uint32_t count);
size_t colo_encode_vmstate_size(struct colo_seal *tx, void *out, size_t cap, uint64_t epoch,
                                const struct colo_vmstate_size *v);
/** text may be NULL; longer texts are cut at COLO_ABORT_TEXT_MAX. */
size_t colo_encode_abort(struct colo_seal *tx, void *out, size_t cap, uint64_t epoch,
                         uint32_t reason, const char *text);
size_t colo_encode_heartbeat(struct colo_seal *tx, void *out, size_t cap, uint64_t epoch,
                             uint64_t now_us);

/* ---- decoder ---- */
/**
 * Checks a message header (COLO_HDR_SIZE bytes) for the framing expected (sealed or plain: magic,
 * version, header CRC or zero field, type, length limits); COLO_OK and the whole message's size
 * in *need, or why not.
 */
enum colo_err colo_header_check(const uint8_t *h, bool sealed, size_t *need);
/** Starts a decoder expecting plain messages. */
void colo_dec_init(struct colo_decoder *d);
/** From the next message on, only messages sealed with key (numbered from 0) are accepted. */
void colo_dec_set_key(struct colo_decoder *d, const uint8_t key[COLO_KEY_LEN]);
/**
 * Consumes bytes from data (len) into the current message and stores in *used how many it took.
 * Returns COLO_DEC_MSG with *msg filled as soon as a message is complete (the rest of data is
 * for the next call), COLO_DEC_MORE when it took everything, COLO_DEC_ERROR (d->err says why)
 * when the stream is broken.
 */
enum colo_dec_result colo_dec_feed(struct colo_decoder *d, const void *data, size_t len,
                                   size_t *used, struct colo_msg *msg);

/* ---- payload parsers (the decoder already checked type, length limits and CRCs); strings
 * from the peer come back printable ASCII only (others replaced by '?'), safe to print ---- */
enum colo_err colo_parse_hello(const struct colo_msg *m, struct colo_hello *h);
enum colo_err colo_parse_hello_ack(const struct colo_msg *m, struct colo_hello_ack *a);
/** RAM_PAGES or RAM_SYNC: checks count against the length; entries then via colo_ram_page(). */
enum colo_err colo_parse_ram_pages(const struct colo_msg *m, uint32_t *count);
void colo_ram_page(const struct colo_msg *m, uint32_t i, uint64_t *pfn, const uint8_t **data);
enum colo_err colo_parse_vmstate_size(const struct colo_msg *m, struct colo_vmstate_size *v);
enum colo_err colo_parse_abort(const struct colo_msg *m, struct colo_abort *a);
/** The hashes are then read with colo_verify_hash(m, i), i < *count. */
enum colo_err colo_parse_verify(const struct colo_msg *m, uint64_t *first, uint32_t *count);
static inline uint32_t colo_verify_hash(const struct colo_msg *m, uint32_t i)
{
    return colo_get32(m->payload + COLO_VERIFY_HDR + 4 * i);
}

/**
 * The page digest that verification compares (not a MAC: it finds replication bugs, it does not
 * resist an attacker). Fast enough to run over the whole guest RAM at every checkpoint pause.
 */
uint32_t colo_page_hash(const void *page);

#endif
