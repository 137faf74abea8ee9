// SPDX-License-Identifier: Apache-2.0
// console_write() into a buffer (and to stdout when HOST_CONSOLE_ECHO is set, for debugging a
// failing test); time_now_us() is a counter so log lines are deterministic.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cv/log.h>

#include "host_console.h"

static char text[65536];
static size_t len;
static uint64_t now;

void console_write(const char *s, size_t n)
{
    if (getenv("HOST_CONSOLE_ECHO")) {
        fwrite(s, 1, n, stdout);
    }
    size_t room = sizeof(text) - 1 - len;
    n = n < room ? n : room;
    memcpy(text + len, s, n);
    len += n;
    text[len] = '\0';
}

uint64_t time_now_us(void)
{
    return now += 1000;
}

const char *host_console_text(void)
{
    return text;
}

void host_console_clear(void)
{
    len = 0;
    text[0] = '\0';
}

size_t host_console_count(const char *needle)
{
    size_t c = 0;
    size_t nl = strlen(needle);
    for (const char *p = strstr(text, needle); p; p = strstr(p + nl, needle)) {
        c++;
    }
    return c;
}

void console_write_line(const char *s, size_t n)
{
    console_write(s, n);
}
