/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The board's COLO keys (docs/security.md): the one copy of the pair's pre-shared key (cv.key)
 * and of the keys derived from it and from the witnesses' key (cv.witness_key), taken out of the
 * configuration once at COLO init (config_take_key), so nothing else holds them.
 *
 * - colo_keys_pair(): the pair PSK itself, for the replication link's handshakes.
 * - colo_keys_hb(): the heartbeat key, HKDF-SHA-256(salt none, ikm the pair PSK, info
 *   "colovisor heartbeat"): heartbeats are sealed with a key of their own, so that nothing the
 *   link's handshake computes from the PSK can be confused with a heartbeat tag.
 * - colo_keys_witness(): the witness MAC key, colo_witness_mac_key() of cv.witness_key (the
 *   witness PSK itself is wiped once derived: nothing else needs it).
 *
 * Each getter returns NULL when its key was not configured (or was malformed).
 */
#ifndef CV_COLO_KEYS_H
#define CV_COLO_KEYS_H

#include <cv/types.h>

/** Takes both keys from the configuration and derives the others. Once, at COLO init (boot
 *  context, after config_init()). */
void colo_keys_init(void);
/** The pair PSK (COLO_KEY_LEN bytes) or NULL. Any context. */
const uint8_t *colo_keys_pair(void);
/** The heartbeat key (COLO_KEY_LEN bytes) or NULL when there is no pair key. Any context, the
 *  urgent interrupt included. */
const uint8_t *colo_keys_hb(void);
/** The witness MAC key (COLO_KEY_LEN bytes) or NULL when there is no witness key. Any context. */
const uint8_t *colo_keys_witness(void);

#endif
