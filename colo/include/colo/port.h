/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the COLO library needs from its host, and all it includes besides its own headers: the
 * standard C headers below, a log, a formatter, CRC32C and the page hash. colo/ includes nothing
 * else (tests/check-layout builds it for the host with colo/include alone), so it can be moved to
 * another hypervisor, or driven by host tests, by implementing this file. The hypervisor's port is
 * kernel/colo/colo_port.c over kernel/lib; host tests and fuzz targets link that same file with
 * kernel/lib and a console stub.
 *
 * Time is not a port function: the engine is handed it (colo_primary_cfg.now_us, the now_us
 * arguments of colo_hb_*), so tests run it on a clock of their own.
 *
 * All of these are called from the engine's context and must not call back into the library.
 */
#ifndef COLO_PORT_H
#define COLO_PORT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define COLO_PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))

/** The host's log levels, most severe first. */
enum colo_log_level {
    COLO_LOG_ERR,
    COLO_LOG_WARN,
    COLO_LOG_INFO,
    COLO_LOG_DEBUG,
};

/** One log line; the host adds its prefix (timestamp, level) and the newline. */
void colo_port_log(enum colo_log_level lvl, const char *fmt, ...) COLO_PRINTF_LIKE(2, 3);
/** vsnprintf: buf is NUL-terminated when n > 0; returns the length it wanted. */
int colo_port_vsnprintf(char *buf, size_t n, const char *fmt, va_list ap);
/** CRC32C (Castagnoli) of len bytes, continuing crc (0 to start). The wire format's checksum. */
uint32_t colo_port_crc32c(uint32_t crc, const void *data, size_t len);
/**
 * 64-bit hash of one COLO_PAGE_SIZE-byte page (8-byte aligned). colo_page_hash() sends its low 32
 * bits in VERIFY messages, so both boards of a pair must use the same function.
 */
uint64_t colo_port_page_hash(const void *page);

#define colo_log_err(...) colo_port_log(COLO_LOG_ERR, __VA_ARGS__)
#define colo_log_warn(...) colo_port_log(COLO_LOG_WARN, __VA_ARGS__)
#define colo_log_info(...) colo_port_log(COLO_LOG_INFO, __VA_ARGS__)
#define colo_log_debug(...) colo_port_log(COLO_LOG_DEBUG, __VA_ARGS__)

#endif
