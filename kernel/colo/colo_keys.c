// SPDX-License-Identifier: Apache-2.0
// The pair's keys on the board (cv/colo_keys.h).
#include <cv/colo_keys.h>
#include <cv/config.h>

#include <colo/port.h>

static struct {
    bool pair_set, witness_set;
    uint8_t pair[COLO_KEY_LEN];
    uint8_t hb[COLO_KEY_LEN];
    uint8_t witness[COLO_KEY_LEN];
} keys;

_Static_assert(CV_KEY_LEN == COLO_KEY_LEN, "one key size");

void colo_keys_init(void)
{
    struct cv_key k;
    config_take_key(CV_KEY_PAIR, &k);
    if (k.set) {
        static const char info[] = "colovisor heartbeat";
        memcpy(keys.pair, k.k, COLO_KEY_LEN);
        /* A key of its own per purpose: a heartbeat tag can never pass for a link proof. */
        colo_port_hkdf_sha256(NULL, 0, k.k, COLO_KEY_LEN, info, sizeof(info) - 1, keys.hb,
                              COLO_KEY_LEN);
        keys.pair_set = true;
    }
    config_take_key(CV_KEY_WITNESS, &k);
    if (k.set) {
        memcpy(keys.witness, k.k, COLO_KEY_LEN);
        keys.witness_set = true;
    }
    colo_port_wipe(&k, sizeof(k));
}

const uint8_t *colo_keys_pair(void)
{
    return keys.pair_set ? keys.pair : NULL;
}

const uint8_t *colo_keys_hb(void)
{
    return keys.pair_set ? keys.hb : NULL;
}

const uint8_t *colo_keys_witness(void)
{
    return keys.witness_set ? keys.witness : NULL;
}
