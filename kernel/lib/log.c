// SPDX-License-Identifier: Apache-2.0
#include <string.h>

#include <cv/log.h>

static enum log_level cur_level = LOG_INFO;

void log_set_level(enum log_level lvl)
{
    cur_level = lvl;
}

enum log_level log_get_level(void)
{
    return cur_level;
}

void cv_puts(const char *s)
{
    console_write(s, strlen(s));
}

void cv_printf(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = cv_vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    console_write(buf, MIN((size_t)n, sizeof(buf) - 1));
}

void cv_print_line(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = cv_vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
    va_end(ap);
    size_t len = MIN((size_t)(n > 0 ? n : 0), sizeof(buf) - 2);
    buf[len++] = '\n';
    console_write_line(buf, len);
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vmsg(lvl, fmt, ap);
    va_end(ap);
}

#define GUEST_BURST 10u

void log_guest(enum log_level lvl, const char *fmt, ...)
{
    static uint64_t window_start;
    static unsigned in_window;
    static uint64_t suppressed;
    uint64_t now = time_now_us();
    if (now - window_start >= 1000000) {
        if (suppressed) {
            log_msg(LOG_WARN, "guest: %llu more messages suppressed",
                    (unsigned long long)suppressed);
            suppressed = 0;
        }
        window_start = now;
        in_window = 0;
    }
    if (in_window >= GUEST_BURST) {
        suppressed++;
        return;
    }
    in_window++;
    va_list ap;
    va_start(ap, fmt);
    log_vmsg(lvl, fmt, ap);
    va_end(ap);
}

void log_vmsg(enum log_level lvl, const char *fmt, va_list ap)
{
    static const char tag[] = {'E', 'W', 'I', 'D'};
    if (lvl > cur_level) {
        return;
    }
    char buf[512];
    uint64_t us = time_now_us();
    int n = cv_snprintf(buf, sizeof(buf), "[%5llu.%06llu] %c: ", (unsigned long long)(us / 1000000),
                        (unsigned long long)(us % 1000000), tag[lvl]);
    n += cv_vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fmt, ap);
    size_t len = MIN((size_t)n, sizeof(buf) - 2);
    buf[len++] = '\n';
    console_write_line(buf, len);
}
