// SPDX-License-Identifier: Apache-2.0
// lwIP netifs over the board NICs, and lwIP's place in the main loop. Frames are copied between
// the NIC rings and pbufs in both directions: the rings' buffers go straight back to the device,
// and lwIP keeps its pbufs as long as it likes (retransmission, out-of-order queue).
#include <string.h>

#include <cv/config.h>
#include <cv/hv.h>
#include <cv/hvnet.h>
#include <cv/log.h>
#include <cv/net.h>

#include "lwip/etharp.h"
#include "lwip/init.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/stats.h"
#include "lwip/sys.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"

#define LINK_CHECK_MS 100
/* Makes the guest exit often enough for lwIP's timers (TCP: 250 ms) when nothing else does. */
#define TICK_US 100000

static struct netif repl_nif, svc_nif;
static struct netdev *repl_dev, *svc_dev;
static bool ready;
static u32_t link_checked;

static err_t hvnet_linkoutput(struct netif *nif, struct pbuf *p)
{
    struct netdev *dev = nif->state;
    static uint8_t frame[ETH_MAX_FRAME];
    if (p->tot_len > sizeof(frame)) {
        LINK_STATS_INC(link.lenerr);
        return ERR_BUF;
    }
    u16_t len = p->tot_len;
    const uint8_t *data = p->payload;
    if (p->len != p->tot_len) {
        pbuf_copy_partial(p, frame, len, 0);
        data = frame;
    }
    if (!netdev_tx(dev, data, len)) {
        LINK_STATS_INC(link.drop);
        return ERR_OK; /* dropped like on a wire; TCP retransmits */
    }
    LINK_STATS_INC(link.xmit);
    return ERR_OK;
}

static void input(struct netif *nif, const uint8_t *frame, size_t len)
{
    struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_POOL);
    if (!p) {
        LINK_STATS_INC(link.memerr);
        LINK_STATS_INC(link.drop);
        return;
    }
    pbuf_take(p, frame, (u16_t)len);
    LINK_STATS_INC(link.recv);
    if (nif->input(p, nif) != ERR_OK) {
        pbuf_free(p);
    }
}

static void repl_rx(struct netdev *dev, const uint8_t *frame, size_t len, void *ctx)
{
    (void)dev;
    input(ctx, frame, len);
}

void hvnet_service_input(const uint8_t *frame, size_t len)
{
    if (ready && svc_dev && len >= ETH_MIN_FRAME && len <= ETH_MAX_FRAME) {
        input(&svc_nif, frame, len);
    }
}

static err_t nif_init(struct netif *nif)
{
    struct netdev *dev = nif->state;
    nif->hwaddr_len = ETH_ALEN;
    memcpy(nif->hwaddr, dev->mac, ETH_ALEN);
    nif->mtu = ETH_MAX_FRAME - ETH_HLEN;
    nif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET;
    nif->output = etharp_output;
    nif->linkoutput = hvnet_linkoutput;
    return ERR_OK;
}

static ip4_addr_t ip4(uint32_t host_order)
{
    ip4_addr_t a;
    ip4_addr_set_u32(&a, lwip_htonl(host_order));
    return a;
}

static bool add_netif(struct netif *nif, struct netdev *dev, const struct cv_ip4_prefix *ip,
                      const char *name)
{
    uint32_t mask = ip->prefix_len >= 32 ? 0xffffffffu : ~(0xffffffffu >> ip->prefix_len);
    ip4_addr_t addr = ip4(ip->addr), nm = ip4(mask), gw = ip4(0);
    if (!netif_add(nif, &addr, &nm, &gw, dev, nif_init, ethernet_input)) {
        log_err("net: lwIP refused the %s netif on %s", name, dev->name);
        return false;
    }
    nif->name[0] = name[0];
    nif->name[1] = name[1];
    netif_set_up(nif);
    if (dev->ops->link_up(dev)) {
        netif_set_link_up(nif);
    }
    return true;
}

static void tick(void *ctx)
{
    (void)ctx; /* the exit is the point: hvnet_poll runs after it */
}

bool hvnet_init(void)
{
    const struct cv_config *c = config_get();
    lwip_init();
    if (netdev_count == 0) {
        log_warn("net: no NICs; the hypervisor has no network");
        return false;
    }
    repl_dev = netdevs[0];
    svc_dev = netdev_count > 1 ? netdevs[1] : NULL;
    if (!add_netif(&repl_nif, repl_dev, &c->repl_ip, "rp")) {
        repl_dev = NULL;
        return false;
    }
    repl_dev->rx = repl_rx;
    repl_dev->rx_ctx = &repl_nif;
    netif_set_default(&repl_nif);
    if (svc_dev && !add_netif(&svc_nif, svc_dev, &c->svc_ip, "sv")) {
        svc_dev = NULL;
    }
    if (!svc_dev) {
        log_warn("net: no service LAN NIC; only the replication link is up");
    }
    ready = true;
    link_checked = sys_now();
    hv_periodic_start(HV_PERIODIC_NET, TICK_US, tick, NULL);
    char a[16], s[16];
    log_info("net: replication %s %s/%u", repl_dev->name,
             config_fmt_ip4(c->repl_ip.addr, a, sizeof(a)), c->repl_ip.prefix_len);
    if (svc_dev) {
        log_info("net: service %s %s/%u", svc_dev->name,
                 config_fmt_ip4(c->svc_ip.addr, s, sizeof(s)), c->svc_ip.prefix_len);
    }
    return true;
}

static void link_sync(struct netif *nif, struct netdev *dev)
{
    bool up = dev->ops->link_up(dev);
    if (up != netif_is_link_up(nif)) {
        log_info("net: %s link %s", dev->name, up ? "up" : "down");
        if (up) {
            netif_set_link_up(nif);
        } else {
            netif_set_link_down(nif);
        }
    }
}

void hvnet_poll(void)
{
    if (!ready) {
        netdev_poll_all(); /* NICs without lwIP (the bridge's) still need their rings served */
        return;
    }
    netdev_poll_all();
    sys_check_timeouts();
    u32_t now = sys_now();
    if (now - link_checked >= LINK_CHECK_MS) {
        link_checked = now;
        link_sync(&repl_nif, repl_dev);
        if (svc_dev) {
            link_sync(&svc_nif, svc_dev);
        }
    }
}

struct netif *hvnet_repl_netif(void)
{
    return repl_dev ? &repl_nif : NULL;
}

struct netif *hvnet_service_netif(void)
{
    return svc_dev ? &svc_nif : NULL;
}

struct netdev *hvnet_repl_dev(void)
{
    return repl_dev;
}

struct netdev *hvnet_service_dev(void)
{
    return svc_dev;
}
