// SPDX-License-Identifier: Apache-2.0
// The board's COLO keys: taken once from the configuration, derived, handed out (cv/colo_keys.h).
#include <string.h>

#include <cv/colo_keys.h>
#include <cv/config.h>

#include <colo/port.h>
#include <colo/witness.h>

#define HB_INFO "colovisor heartbeat"

_Static_assert(CV_KEY_LEN == COLO_KEY_LEN, "config keys are the library's keys");

static struct {
    bool pair_set, witness_set;
    uint8_t pair[COLO_KEY_LEN];
    uint8_t hb[COLO_KEY_LEN];
    uint8_t witness[COLO_KEY_LEN];
} keys;

void colo_keys_init(void)
{
    struct cv_key k;
    config_take_key(CV_KEY_PAIR, &k);
    if (k.set) {
        memcpy(keys.pair, k.k, COLO_KEY_LEN);
        colo_port_hkdf_sha256(NULL, 0, keys.pair, COLO_KEY_LEN, HB_INFO, sizeof(HB_INFO) - 1,
                              keys.hb, COLO_KEY_LEN);
        keys.pair_set = true;
    }
    config_take_key(CV_KEY_WITNESS, &k);
    if (k.set) {
        colo_witness_mac_key(k.k, keys.witness);
        keys.witness_set = true;
    }
    /* The stack copy is the last one outside this file. */
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
