// SPDX-License-Identifier: Apache-2.0
// Argument parsing for shell commands (cv/shell.h), in a file of its own so host tests of a
// command need not link the whole shell.
#include <cv/shell.h>

/* Decimal or 0x-prefixed hex, the whole string, no overflow. (strtoull would touch errno.) */
bool shell_parse_u64(const char *s, uint64_t *out)
{
    unsigned base = 10;
    uint64_t v = 0;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    }
    if (!*s) {
        return false;
    }
    for (; *s; s++) {
        unsigned dig;
        if (*s >= '0' && *s <= '9') {
            dig = (unsigned)(*s - '0');
        } else if (base == 16 && *s >= 'a' && *s <= 'f') {
            dig = (unsigned)(*s - 'a' + 10);
        } else if (base == 16 && *s >= 'A' && *s <= 'F') {
            dig = (unsigned)(*s - 'A' + 10);
        } else {
            return false;
        }
        if (v > (UINT64_MAX - dig) / base) {
            return false;
        }
        v = v * base + dig;
    }
    *out = v;
    return true;
}
