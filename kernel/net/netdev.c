// SPDX-License-Identifier: Apache-2.0
// The registry of board NICs (struct netdev), filled by the drivers at boot. Polling, sending
// and the interrupt path go through here so that nothing above needs to know which driver a NIC
// has, and so that the urgent interrupt can send without tripping over a driver in use.
#include <string.h>

#include <cv/hv.h>
#include <cv/log.h>
#include <cv/net.h>

struct netdev *netdevs[NETDEV_MAX];
unsigned netdev_count;

struct netdev *netdev_find(const char *name)
{
    for (unsigned i = 0; i < netdev_count; i++) {
        if (strcmp(netdevs[i]->name, name) == 0) {
            return netdevs[i];
        }
    }
    return NULL;
}

bool netdev_register(struct netdev *dev)
{
    if (netdev_count >= NETDEV_MAX) {
        log_err("net: cannot register %s: already %u NICs", dev->name, netdev_count);
        return false;
    }
    if (netdev_find(dev->name)) {
        log_err("net: cannot register %s twice", dev->name);
        return false;
    }
    netdevs[netdev_count++] = dev;
    return true;
}

/*
 * The urgent interrupt may preempt main-context code anywhere, including inside a driver's
 * transmit ring. Main-context transmit work is therefore bracketed by netdev_tx_begin/end(),
 * which count themselves in dev->busy; an urgent frame that finds the transmit side busy is
 * parked in the netdev and sent by the netdev_tx_end() that makes it idle. The signal fences
 * (compiler barriers: one CPU, an interrupt is a signal handler to it) keep ring accesses from
 * moving across the count.
 */
void netdev_tx_begin(struct netdev *dev)
{
    dev->busy++;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
}

/* An urgent frame out at once, the transmit side idle: queued, handed to the device, counted.
 * Marked busy meanwhile, without netdev_tx_end()'s flush of parked frames. */
static bool urgent_now(struct netdev *dev, const uint8_t *frame, size_t len)
{
    netdev_tx_begin(dev);
    bool ok = dev->ops->tx(dev, frame, len);
    if (ok && dev->ops->tx_flush) {
        dev->ops->tx_flush(dev);
    }
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    dev->busy--;
    if (ok) {
        dev->urgent_tx++;
    } else {
        dev->urgent_drops++;
    }
    return ok;
}

static void send_parked(struct netdev *dev)
{
    while (dev->urgent_pending) {
        static uint8_t f[ETH_MAX_FRAME];
        unsigned long s = cpu_arch_irq_save();
        uint16_t len = dev->urgent_len;
        memcpy(f, dev->urgent, len);
        dev->urgent_pending = false;
        cpu_arch_irq_restore(s);
        urgent_now(dev, f, len);
    }
}

void netdev_tx_end(struct netdev *dev)
{
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    if (--dev->busy == 0) {
        send_parked(dev);
    }
}

bool netdev_tx(struct netdev *dev, const uint8_t *frame, size_t len)
{
    netdev_tx_begin(dev);
    bool ok = dev->ops->tx(dev, frame, len);
    netdev_tx_end(dev);
    return ok;
}

void netdev_poll(struct netdev *dev)
{
    /* Not a transmit section as a whole: its receive callbacks run the engine, for as long as
     * a checkpoint takes. The driver brackets its own transmit-ring work. */
    dev->ops->poll(dev);
}

bool netdev_tx_urgent(struct netdev *dev, const uint8_t *frame, size_t len)
{
    if (len < ETH_MIN_FRAME || len > ETH_MAX_FRAME) {
        return false;
    }
    unsigned long s = cpu_arch_irq_save();
    if (dev->busy) {
        memcpy(dev->urgent, frame, len);
        dev->urgent_len = (uint16_t)len;
        dev->urgent_pending = true;
        dev->urgent_deferred++;
        cpu_arch_irq_restore(s);
        return true;
    }
    bool ok = urgent_now(dev, frame, len);
    cpu_arch_irq_restore(s);
    return ok;
}

void netdev_poll_all(void)
{
    for (unsigned i = 0; i < netdev_count; i++) {
        netdev_poll(netdevs[i]);
    }
}

bool netdev_irq(uint32_t intid)
{
    bool claimed = false;
    for (unsigned i = 0; i < netdev_count; i++) {
        if (netdevs[i]->irq == intid && intid != 0) {
            if (netdevs[i]->ops->irq_ack) {
                netdevs[i]->ops->irq_ack(netdevs[i]);
            } else {
                netdev_poll(netdevs[i]);
            }
            claimed = true;
        }
    }
    return claimed;
}
