/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The pair's keys on the board (docs/security.md): the one place they live once the boot
 * arguments were parsed. colo_keys_init() takes them out of the configuration (which then holds
 * none) and derives the per-purpose keys; the getters return NULL when there is no key
 * (cv.insecure=1 or a board that was given none).
 */
#ifndef CV_COLO_KEYS_H
#define CV_COLO_KEYS_H

#include <cv/types.h>

/** Takes the keys from the configuration and derives the others. Boot context, once. */
void colo_keys_init(void);
/** The pair's pre-shared key (the link's handshakes), COLO_KEY_LEN bytes. Hypervisor context. */
const uint8_t *colo_keys_pair(void);
/** The heartbeat key, HKDF of the pair key ("colovisor heartbeat"). Hypervisor context. */
const uint8_t *colo_keys_hb(void);
/** The witnesses' key as configured (cv.witness_key). Hypervisor context. */
const uint8_t *colo_keys_witness(void);

#endif
