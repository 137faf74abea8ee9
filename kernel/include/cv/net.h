/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Networking inside the hypervisor. Two kinds of endpoints move Ethernet frames:
 *  - board NICs (struct netdev), driven by kernel/drivers/ (virtio-net today): one carries the
 *    replication link and is spoken on by the hypervisor's own lwIP stack; the other is the
 *    service LAN port, bridged at L2 to the guest's emulated NIC;
 *  - the guest's emulated NIC (kernel/dev/vnet.c).
 * Frames from the guest pass a small pipeline of stages (struct net_stage) before they reach
 * the service LAN: today a plain forwarder; the COLO buffer filter and mirror slot in as stages.
 * All of it runs in hypervisor context (between guest exits); nothing here blocks.
 */
#ifndef CV_NET_H
#define CV_NET_H

#include <cv/types.h>

#define ETH_ALEN 6
#define ETH_HLEN 14
#define ETH_MIN_FRAME 14   /**< an Ethernet header and nothing else is the smallest we pass */
#define ETH_MAX_FRAME 1514 /**< without FCS; no jumbo frames */

struct net_stats {
    uint64_t rx_frames, rx_bytes, rx_drops, rx_errors;
    uint64_t tx_frames, tx_bytes, tx_drops, tx_errors;
};

struct netdev;

/** Receive callback: a frame arrived on dev. The buffer is only valid during the call. */
typedef void (*netdev_rx_fn)(struct netdev *dev, const uint8_t *frame, size_t len, void *ctx);

struct netdev_ops {
    /** Queues one frame for transmission; false (counted as a drop) when the ring is full. */
    bool (*tx)(struct netdev *dev, const uint8_t *frame, size_t len);
    /** Reaps completed transmissions and delivers received frames to the rx callback. */
    void (*poll)(struct netdev *dev);
    /** Link state as the device reports it. */
    bool (*link_up)(struct netdev *dev);
    /** Hands what tx() queued to the device now (reaps and notifies; no receive work). */
    void (*tx_flush)(struct netdev *dev);
    /** From the interrupt path: acknowledges the device's interrupt (its line drops) and
     *  leaves the work to the next poll. NULL: the interrupt path polls. */
    void (*irq_ack)(struct netdev *dev);
};

struct netdev {
    const char *name; /**< "net0", ... */
    uint8_t mac[ETH_ALEN];
    const struct netdev_ops *ops;
    void *priv;
    netdev_rx_fn rx; /**< set by whoever owns the port (lwIP netif or the bridge) */
    void *rx_ctx;
    struct net_stats stats;
    uint32_t irq; /**< physical INTID, 0 if polled only */
    /* netdev_tx_urgent(): a frame from the urgent interrupt that found the driver in use */
    volatile unsigned busy; /**< main-context calls into the driver under way */
    bool urgent_pending;
    uint16_t urgent_len;
    uint8_t urgent[ETH_MAX_FRAME];
    uint64_t urgent_tx, urgent_deferred, urgent_drops;
};

/** Board NICs found at boot, in probe order. */
#define NETDEV_MAX 4
extern struct netdev *netdevs[NETDEV_MAX];
extern unsigned netdev_count;

/** Finds a board NIC by name; NULL if absent. */
struct netdev *netdev_find(const char *name);
/** Registers a probed NIC. Boot context. */
bool netdev_register(struct netdev *dev);
/** Polls every board NIC (main loop, and from the interrupt path for its IRQ). */
void netdev_poll_all(void);
/** Queues one frame on dev (ops->tx); false when the ring is full. Hypervisor context. */
bool netdev_tx(struct netdev *dev, const uint8_t *frame, size_t len);
/** Reaps and receives on dev (ops->poll). Hypervisor context. */
void netdev_poll(struct netdev *dev);
/**
 * Bracket a driver's own transmit-ring work outside ops->tx (in its poll: reaping, notifying,
 * a reset), so that netdev_tx_urgent() waits for it. Nest. Hypervisor context.
 */
void netdev_tx_begin(struct netdev *dev);
void netdev_tx_end(struct netdev *dev);
/**
 * Sends one frame at once from the urgent interrupt (hv_urgent_start), which may have
 * preempted the main context inside this very driver: then the frame waits in the netdev
 * (one slot, a newer frame replaces it) until that call returns, microseconds later. Returns
 * false only when the device refused it. Any context.
 */
bool netdev_tx_urgent(struct netdev *dev, const uint8_t *frame, size_t len);
/** Called by the interrupt path for a physical INTID; true if a NIC claimed it. Only
 *  acknowledges it where the driver can: the main loop's netdev_poll_all() does the work, with
 *  the urgent interrupt let in. */
bool netdev_irq(uint32_t intid);

/* ---- the guest's transmit pipeline ---- */

enum net_verdict {
    NET_PASS,  /**< hand the frame to the next stage */
    NET_TAKEN, /**< the stage owns it now (e.g. held until a checkpoint commits) */
    NET_DROP,  /**< drop it, counted by the stage */
};

struct net_stage {
    const char *name;
    /** Looks at (may copy) one frame from the guest. Hypervisor context. */
    enum net_verdict (*process)(struct net_stage *st, const uint8_t *frame, size_t len);
    /**
     * Optional: false when the stage could not take a frame of len bytes now (the COLO buffer
     * filter is full). The guest's NIC then leaves the frame in its ring until
     * net_guest_tx_kick(): backpressure instead of a silent drop. Hypervisor context.
     */
    bool (*room)(struct net_stage *st, size_t len);
    struct net_stage *next;
};

/**
 * Sends a guest frame through the stages, then (if every stage passed it) out of the service
 * LAN NIC. Stages that took a frame release it later with net_guest_emit().
 */
void net_guest_tx(const uint8_t *frame, size_t len);
/** Sends a frame out of the service LAN NIC directly (end of the pipeline). */
void net_guest_emit(const uint8_t *frame, size_t len);
/** True if every stage can take a frame of len bytes now. */
bool net_guest_tx_room(size_t len);
/** A stage has room again: the guest's NIC retries the frames it left in its ring. */
void net_guest_tx_kick(void);
/**
 * tap(ctx, frame, len) sees each frame the guest's NIC has put into guest RAM, after it is
 * there (so a frame that waited for a receive buffer counts when it lands); held(ctx, ...)
 * each frame dropped because the guest was not running (a secondary's held replica). Boot
 * context.
 */
void net_guest_set_rx_tap(void (*tap)(void *ctx, const uint8_t *frame, size_t len),
                          void (*held)(void *ctx, const uint8_t *frame, size_t len), void *ctx);
/** Hands one frame to the guest's NIC as if it had come from the service LAN. */
void net_guest_deliver(const uint8_t *frame, size_t len);
/** Adds a stage at the head of the pipeline. Boot context. */
void net_pipeline_add(struct net_stage *st);

#endif
