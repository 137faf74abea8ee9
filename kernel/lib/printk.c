// SPDX-License-Identifier: Apache-2.0
// A small printf for the hypervisor: integers, strings, chars and pointers; widths, zero and
// left padding, and the l/ll/z/h length modifiers. No floating point, by design (see log.h).
#include <cv/log.h>

struct out {
    char *buf;
    size_t cap;
    size_t len;
};

static void out_c(struct out *o, char c)
{
    if (o->len + 1 < o->cap) {
        o->buf[o->len] = c;
    }
    o->len++;
}

static void out_pad(struct out *o, char c, int n)
{
    while (n-- > 0) {
        out_c(o, c);
    }
}

static void out_str(struct out *o, const char *s, int width, int prec, bool left)
{
    int len = 0;
    if (!s) {
        s = "(null)";
    }
    while (s[len] && (prec < 0 || len < prec)) {
        len++;
    }
    if (!left) {
        out_pad(o, ' ', width - len);
    }
    for (int i = 0; i < len; i++) {
        out_c(o, s[i]);
    }
    if (left) {
        out_pad(o, ' ', width - len);
    }
}

static void out_num(struct out *o, uint64_t v, bool neg, unsigned base, bool upper, int width,
                    bool zero, bool left, bool plus, const char *prefix)
{
    char tmp[24];
    int n = 0;
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    do {
        tmp[n++] = digits[v % base];
        v /= base;
    } while (v);
    int signlen = (neg || plus) ? 1 : 0;
    int plen = 0;
    while (prefix && prefix[plen]) {
        plen++;
    }
    int total = n + signlen + plen;
    if (!left && !zero) {
        out_pad(o, ' ', width - total);
    }
    if (neg) {
        out_c(o, '-');
    } else if (plus) {
        out_c(o, '+');
    }
    for (int i = 0; i < plen; i++) {
        out_c(o, prefix[i]);
    }
    if (!left && zero) {
        out_pad(o, '0', width - total);
    }
    while (n) {
        out_c(o, tmp[--n]);
    }
    if (left) {
        out_pad(o, ' ', width - total);
    }
}

int cv_vsnprintf(char *buf, size_t n, const char *fmt, va_list ap)
{
    struct out o = {buf, n, 0};
    for (const char *p = fmt; *p; p++) {
        if (*p != '%') {
            out_c(&o, *p);
            continue;
        }
        p++;
        bool left = false, zero = false, plus = false, alt = false;
        for (;; p++) {
            if (*p == '-') {
                left = true;
            } else if (*p == '0') {
                zero = true;
            } else if (*p == '+') {
                plus = true;
            } else if (*p == '#') {
                alt = true;
            } else {
                break;
            }
        }
        int width = 0;
        if (*p == '*') {
            width = va_arg(ap, int);
            p++;
        } else {
            while (*p >= '0' && *p <= '9') {
                width = width * 10 + (*p++ - '0');
            }
        }
        int prec = -1;
        if (*p == '.') {
            p++;
            prec = 0;
            if (*p == '*') {
                prec = va_arg(ap, int);
                p++;
            } else {
                while (*p >= '0' && *p <= '9') {
                    prec = prec * 10 + (*p++ - '0');
                }
            }
        }
        int lng = 0;
        while (*p == 'l' || *p == 'z' || *p == 'h' || *p == 'j' || *p == 't') {
            if (*p == 'l' || *p == 'z' || *p == 'j' || *p == 't') {
                lng = 2;
            }
            p++;
        }
        switch (*p) {
        case 'd':
        case 'i': {
            int64_t v = lng ? va_arg(ap, int64_t) : va_arg(ap, int);
            uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
            out_num(&o, mag, v < 0, 10, false, width, zero, left, plus, NULL);
            break;
        }
        case 'u':
        case 'x':
        case 'X':
        case 'o': {
            uint64_t v = lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned int);
            unsigned base = (*p == 'u') ? 10 : (*p == 'o') ? 8 : 16;
            const char *pre = (alt && base == 16) ? (*p == 'X' ? "0X" : "0x") : NULL;
            out_num(&o, v, false, base, *p == 'X', width, zero, left, false, pre);
            break;
        }
        case 'p':
            out_num(&o, (uint64_t)(uintptr_t)va_arg(ap, void *), false, 16, false, width, zero,
                    left, false, "0x");
            break;
        case 's':
            out_str(&o, va_arg(ap, const char *), width, prec, left);
            break;
        case 'c': {
            char c[2] = {(char)va_arg(ap, int), 0};
            out_str(&o, c, width, -1, left);
            break;
        }
        case '%':
            out_c(&o, '%');
            break;
        case '\0':
            p--;
            break;
        default:
            out_c(&o, '%');
            out_c(&o, *p);
            break;
        }
    }
    if (n) {
        buf[o.len < n ? o.len : n - 1] = '\0';
    }
    return (int)o.len;
}

int cv_snprintf(char *buf, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = cv_vsnprintf(buf, n, fmt, ap);
    va_end(ap);
    return r;
}
