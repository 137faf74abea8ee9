/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Console output and logging. Our own formatter, not picolibc's stdio: picolibc's printf uses
 * SIMD registers, which hold the guest's state while the hypervisor runs (docs/design.md).
 * All functions may be called from any hypervisor context (exit handlers included); output is
 * synchronous on the board UART.
 */
#ifndef CV_LOG_H
#define CV_LOG_H

#include <stdarg.h>

#include <cv/types.h>

enum log_level {
    LOG_ERR,
    LOG_WARN,
    LOG_INFO,
    LOG_DEBUG,
};

/** Formats into buf (always NUL-terminated when n > 0); returns the length it wanted. */
int cv_vsnprintf(char *buf, size_t n, const char *fmt, va_list ap);
int cv_snprintf(char *buf, size_t n, const char *fmt, ...) PRINTF_LIKE(3, 4);

/** Raw formatted output to the console, no prefix, no newline added. */
void cv_printf(const char *fmt, ...) PRINTF_LIKE(1, 2);
void cv_puts(const char *s);

/** One log line: "[   12.345678] W: text\n". Lines above the current level are dropped. */
void log_msg(enum log_level lvl, const char *fmt, ...) PRINTF_LIKE(2, 3);
/** log_msg() for callers that have a va_list (the COLO library's port). */
void log_vmsg(enum log_level lvl, const char *fmt, va_list ap);
void log_set_level(enum log_level lvl);
enum log_level log_get_level(void);

/**
 * Like log_msg(), but for lines a misbehaving guest can cause at will: a burst of 10, then one a
 * second, and a count of what was dropped. Keeps a guest stuck in a fault loop from drowning the
 * console (and the hypervisor's time) in warnings.
 */
void log_guest(enum log_level lvl, const char *fmt, ...) PRINTF_LIKE(2, 3);

#define log_err(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

/** Prints the message and an architecture dump, then stops the board. Never returns. */
NORETURN void panic(const char *fmt, ...) PRINTF_LIKE(1, 2);
/** Prints one formatted line (a trailing \n is added) through console_write_line(). */
void cv_print_line(const char *fmt, ...) PRINTF_LIKE(1, 2);

/*
 * Hooks the log layer needs from below. Implemented by the console module on the board and by
 * the test support code on the host.
 */
/** Writes bytes to the console device. Any context; may busy-wait on the UART FIFO. */
void console_write(const char *s, size_t n);
/**
 * Writes one whole line (s ends in \n) that comes in on its own, not as a command's answer: a
 * log message, an event. On the board it takes the place of the shell's prompt line and the
 * prompt with the half-typed command is drawn again below it, so a script's typed command is
 * never split by it. Hypervisor context.
 */
void console_write_line(const char *s, size_t n);
/** Microseconds since boot, for log timestamps. Any context. */
uint64_t time_now_us(void);

#endif
