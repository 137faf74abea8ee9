// SPDX-License-Identifier: Apache-2.0
// The guest's path to the service LAN: a pipeline of stages for the frames it sends (where the
// COLO buffer filter and mirror will sit), and an L2 bridge for frames arriving on the board's
// service NIC: frames for the guest's MAC go to its emulated NIC, frames for the board's own
// service MAC to the hypervisor's lwIP stack, broadcast and multicast to both.
#include <string.h>

#include <cv/hv.h>
#include <cv/hvnet.h>
#include <cv/log.h>
#include <cv/net.h>
#include <cv/net_bridge.h>
#include <cv/timer.h>
#include <cv/vnet.h>

static struct net_stage *pipeline;
static struct vnet *guest_nic;

#define EMIT_WAIT_US 5000
static struct netdev *service;
static struct net_bridge_stats bstats;

void net_pipeline_add(struct net_stage *st)
{
    st->next = pipeline;
    pipeline = st;
}

void net_guest_emit(const uint8_t *frame, size_t len)
{
    if (!service) {
        bstats.to_lan_drops++;
        return;
    }
    /*
     * A full transmit ring is waited out briefly (the device drains it on its own): a burst
     * of output released at a checkpoint commit must not lose frames to a momentarily full
     * ring. Each attempt reaps what the device finished (no rx processing here: this may run
     * inside an lwIP callback). Only a NIC stuck for EMIT_WAIT_US drops, counted; the NIC's own
     * tx_drops also counts the refused attempts.
     */
    uint64_t deadline = 0;
    while (!netdev_tx(service, frame, len)) {
        uint64_t now = time_now_us();
        if (deadline == 0) {
            deadline = now + EMIT_WAIT_US;
        } else if (now >= deadline) {
            bstats.to_lan_drops++;
            return;
        }
    }
    bstats.to_lan++;
}

bool net_guest_tx_room(size_t len)
{
    for (struct net_stage *st = pipeline; st; st = st->next) {
        if (st->room && !st->room(st, len)) {
            return false;
        }
    }
    return true;
}

void net_guest_tx_kick(void)
{
    if (guest_nic) {
        vnet_tx_kick(guest_nic);
    }
}

void net_guest_tx(const uint8_t *frame, size_t len)
{
    for (struct net_stage *st = pipeline; st; st = st->next) {
        enum net_verdict v = st->process(st, frame, len);
        if (v != NET_PASS) {
            return; /* taken (released later through net_guest_emit) or dropped */
        }
    }
    net_guest_emit(frame, len);
}

static bool mac_eq(const uint8_t *a, const uint8_t *b)
{
    return memcmp(a, b, ETH_ALEN) == 0;
}

static void service_rx(struct netdev *dev, const uint8_t *frame, size_t len, void *ctx)
{
    (void)ctx;
    if (len < ETH_MIN_FRAME || len > ETH_MAX_FRAME) {
        dev->stats.rx_errors++;
        return;
    }
    bool group = frame[0] & 1;
    bool taken = false;
    if (guest_nic && (group || mac_eq(frame, guest_nic->mac))) {
        vnet_rx(guest_nic, frame, len);
        bstats.to_guest++;
        taken = true;
    }
    if (group || mac_eq(frame, dev->mac)) {
        hvnet_service_input(frame, len);
        taken = true;
    }
    if (!taken) {
        bstats.not_ours++;
    }
}

static void poll_link_cb(void *ctx)
{
    (void)ctx;
    net_bridge_poll_link();
}

void net_bridge_init(struct vnet *guest)
{
    guest_nic = guest;
    service = hvnet_service_dev();
    if (!service) {
        log_warn("net: no service LAN NIC; the guest's network is disconnected");
        if (guest) {
            vnet_set_link(guest, false);
        }
        return;
    }
    service->rx = service_rx;
    service->rx_ctx = NULL;
    hv_periodic_start(HV_PERIODIC_BRIDGE, 100000, poll_link_cb, NULL);
}

void net_bridge_poll_link(void)
{
    if (guest_nic && service) {
        vnet_set_link(guest_nic, service->ops->link_up(service));
    }
}

void net_guest_set_rx_tap(void (*tap)(void *ctx, const uint8_t *frame, size_t len),
                          void (*held)(void *ctx, const uint8_t *frame, size_t len), void *ctx)
{
    if (guest_nic) {
        guest_nic->rx_tap = tap;
        guest_nic->held_tap = held;
        guest_nic->rx_tap_ctx = ctx;
    }
}

void net_guest_deliver(const uint8_t *frame, size_t len)
{
    if (guest_nic) {
        vnet_rx(guest_nic, frame, len);
    }
}

const struct vnet *net_bridge_guest_nic(void)
{
    return guest_nic;
}

const struct net_bridge_stats *net_bridge_stats(void)
{
    return &bstats;
}

/* Builds one Ethernet frame from the guest's MAC: broadcast destination, the given type. */
static size_t announce_frame(uint8_t *f, const uint8_t mac[ETH_ALEN], uint16_t type, uint16_t op,
                             uint32_t ip)
{
    memset(f, 0xff, ETH_ALEN);
    memcpy(f + 6, mac, ETH_ALEN);
    f[12] = (uint8_t)(type >> 8);
    f[13] = (uint8_t)type;
    uint8_t *a = f + ETH_HLEN;
    static const uint8_t hdr[6] = {0, 1, 8, 0, 6, 4}; /* Ethernet, IPv4, 6-byte MAC, 4-byte IP */
    memcpy(a, hdr, sizeof(hdr));
    a[6] = (uint8_t)(op >> 8);
    a[7] = (uint8_t)op;
    const uint8_t ipb[4] = {(uint8_t)(ip >> 24), (uint8_t)(ip >> 16), (uint8_t)(ip >> 8),
                            (uint8_t)ip};
    memcpy(a + 8, mac, ETH_ALEN); /* sender */
    memcpy(a + 14, ipb, 4);
    memcpy(a + 18, type == 0x0806 ? (const uint8_t *)"\0\0\0\0\0\0" : mac, ETH_ALEN);
    memcpy(a + 24, ipb, 4);
    memset(a + 28, 0, 60 - ETH_HLEN - 28); /* pad to the 60-byte minimum */
    return 60;
}

void net_announce(const uint8_t mac[ETH_ALEN], uint32_t ip)
{
    uint8_t f[60];
    /* A gratuitous ARP request (who-has ip tell ip) updates neighbours' caches (there is none
     * to update without a configured guest address); a RARP request, as QEMU's live migration
     * sends, makes switches learn the MAC's new port. */
    if (ip) {
        net_guest_emit(f, announce_frame(f, mac, 0x0806, 1, ip));
    }
    net_guest_emit(f, announce_frame(f, mac, 0x8035, 3, ip));
}
