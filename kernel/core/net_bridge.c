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
#include <cv/vnet.h>

static struct net_stage *pipeline;
static struct vnet *guest_nic;
static struct netdev *service;
static struct net_bridge_stats bstats;

void net_pipeline_add(struct net_stage *st)
{
    st->next = pipeline;
    pipeline = st;
}

void net_guest_emit(const uint8_t *frame, size_t len)
{
    if (!service || !service->ops->tx(service, frame, len)) {
        bstats.to_lan_drops++;
        return;
    }
    bstats.to_lan++;
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

const struct vnet *net_bridge_guest_nic(void)
{
    return guest_nic;
}

const struct net_bridge_stats *net_bridge_stats(void)
{
    return &bstats;
}
