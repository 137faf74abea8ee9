/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Small helpers private to the library's sources. The library's public headers stay free of them so
 * that a host that includes both its own headers and <colo/...> sees no clashing MIN/MAX.
 */
#ifndef COLO_UTIL_H
#define COLO_UTIL_H

#include <colo/port.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

#endif
