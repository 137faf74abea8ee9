/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The host-test arch's half of a board description (embedded as struct board.arch by
 * cv/board.h). Generic code never looks inside it.
 */
#ifndef ARCH_BOARD_H
#define ARCH_BOARD_H

#include <cv/types.h>

/* ISO C wants a member; nothing reads it. */
struct board_arch {
    uint64_t unused;
};

#endif
