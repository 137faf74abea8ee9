/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The checkpoint engine on the board: binds colo/ (the protocol and both state machines) to this
 * board's VM (struct vm, the dirty log, the vmstate stream) and to the replication link
 * (cv/colo_link.h), and gives the operator the `colo` shell command. The board's role comes from
 * its configuration (cv/config.h): a secondary listens for its primary from boot; a primary
 * enters protection on `colo start`, or at boot with cv.colo_auto=1.
 *
 * Every state change prints one event line `colo: event=<what> role=... state=... epoch=...`
 * (docs/console.md) for scripts to follow.
 */
#ifndef CV_COLO_BOARD_H
#define CV_COLO_BOARD_H

#include <cv/types.h>

struct vm;

/** Allocates staging and starts listening (secondary) or auto-start (primary). Boot context,
 * after hvnet_init() and the guest's set-up. */
void colo_board_init(struct vm *vm);
/** Drives the engine: streaming, due checkpoints, retries, event lines. Main loop, every pass
 * (also from hv_wait_until), after hvnet_poll(). Cheap when idle. */
void colo_board_poll(void);

/**
 * Whether the COLO layer owns this board's guest, so that the operator must not run it by hand
 * (`guest resume`): a secondary holding a replica, replicating, or fenced; a primary in a
 * session. If so writes the reason (one line, no trailing newline) to why and returns true.
 */
bool colo_board_guest_held(char *why, size_t len);

/** Prints the output buffer's counters as key=value lines (for `net`). Hypervisor context. */
void colo_board_net_report(void);

#endif
