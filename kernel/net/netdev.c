// SPDX-License-Identifier: Apache-2.0
// The registry of board NICs (struct netdev), filled by the drivers at boot. Polling and the
// interrupt path go through here so that nothing above needs to know which driver a NIC has.
#include <string.h>

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

void netdev_poll_all(void)
{
    for (unsigned i = 0; i < netdev_count; i++) {
        netdevs[i]->ops->poll(netdevs[i]);
    }
}

bool netdev_irq(uint32_t intid)
{
    bool claimed = false;
    for (unsigned i = 0; i < netdev_count; i++) {
        if (netdevs[i]->irq == intid && intid != 0) {
            /* Acknowledges the device's interrupt status and processes its rings. */
            netdevs[i]->ops->poll(netdevs[i]);
            claimed = true;
        }
    }
    return claimed;
}
