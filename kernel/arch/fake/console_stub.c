// SPDX-License-Identifier: Apache-2.0
// The log layer's hooks (cv/log.h) for host programs (the fake arch): console output goes to
// stdout and into a buffer tests can inspect; time is a counter that advances on every call.
#include <stdio.h>
#include <string.h>

#include <cv/log.h>
#include <cv/timer.h>

#include "console_stub.h"

static char text[65536];
static size_t len;

void console_write(const char *s, size_t n)
{
    fwrite(s, 1, n, stdout);
    fflush(stdout);
    if (n >= sizeof(text)) {
        s += n - (sizeof(text) - 1);
        n = sizeof(text) - 1;
    }
    if (len + n >= sizeof(text)) {
        size_t drop = len + n - (sizeof(text) - 1);
        memmove(text, text + drop, len - drop);
        len -= drop;
    }
    memcpy(text + len, s, n);
    len += n;
    text[len] = '\0';
}

uint64_t time_now_us(void)
{
    static uint64_t t;
    return t += 1000;
}

const char *console_stub_text(void)
{
    return text;
}

void console_stub_clear(void)
{
    len = 0;
    text[0] = '\0';
}

uint64_t time_now_ns(void)
{
    return time_now_us() * 1000;
}

void console_write_line(const char *s, size_t n)
{
    console_write(s, n);
}
