// SPDX-License-Identifier: Apache-2.0
/*
 * counterd: the counter service of the Linux guest, the same protocol as the test guest's
 * (guests/test/README.md, "Counter service"): a request is a line `<id>\n`, the reply is
 * `<id> <n>\n` where n is a 64-bit counter kept in this process's memory (guest RAM), which is
 * then incremented. The first reply carries 1. One trailing `\r` is removed from the id; empty
 * lines get no reply; a line longer than 128 bytes including its `\n` closes the connection
 * (replies to earlier lines are still delivered); an unterminated last line is dropped when the
 * peer closes. Replies go out in order; while a connection's unsent replies exceed OUT_MAX the
 * server stops reading it (its TCP receive window closes). Up to MAX_CONNS connections at once;
 * more are accepted and closed at once with RST.
 *
 * One thread, poll(2). Built statically with aarch64-linux-gnu-gcc by guests/linux/build-image.
 * Usage: counterd [port]   (default 7000). SIGUSR1 prints `counterd: counter=<next> conns=<n>`.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_CONNS 256
#define LINE_MAX_BYTES 128
#define OUT_MAX 16384

struct conn {
    int fd;
    size_t inlen;
    char in[LINE_MAX_BYTES];
    size_t outlen, outoff;
    char *out;   /* OUT_MAX + room for one reply */
    int closing; /* send what is queued, then close */
};

static uint64_t counter = 1;
static struct conn conns[MAX_CONNS];
static int nconns;
static volatile sig_atomic_t want_status;

static void on_usr1(int sig)
{
    (void)sig;
    want_status = 1;
}

static void conn_close(struct conn *c, int rst)
{
    if (rst) {
        struct linger l = {1, 0};
        setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
    }
    close(c->fd);
    c->fd = -1;
    nconns--;
}

static void queue_reply(struct conn *c, const char *id, size_t idlen)
{
    char num[24];
    int n = snprintf(num, sizeof(num), " %llu\n", (unsigned long long)counter++);
    memcpy(c->out + c->outlen, id, idlen);
    memcpy(c->out + c->outlen + idlen, num, (size_t)n);
    c->outlen += idlen + (size_t)n;
}

/* Consumes complete lines from c->in. Returns -1 when the connection must close. */
static int process_lines(struct conn *c)
{
    size_t start = 0;
    for (size_t i = 0; i < c->inlen; i++) {
        if (c->in[i] != '\n')
            continue;
        size_t len = i - start;
        if (len > 0 && c->in[start + len - 1] == '\r')
            len--;
        if (len > 0)
            queue_reply(c, c->in + start, len);
        start = i + 1;
        if (c->outlen >= OUT_MAX)
            break; /* stop reading until the peer takes its replies */
    }
    memmove(c->in, c->in + start, c->inlen - start);
    c->inlen -= start;
    if (c->inlen >= LINE_MAX_BYTES && !memchr(c->in, '\n', c->inlen))
        return -1; /* no '\n' within 128 bytes */
    return 0;
}

static int flush_out(struct conn *c)
{
    while (c->outoff < c->outlen) {
        ssize_t n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return 0;
            if (errno == EINTR)
                continue;
            return -1;
        }
        c->outoff += (size_t)n;
    }
    c->outoff = c->outlen = 0;
    return 0;
}

int main(int argc, char **argv)
{
    int port = argc > 1 ? atoi(argv[1]) : 7000;
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    static struct pollfd pfd[MAX_CONNS + 1];
    static int idx[MAX_CONNS + 1];

    signal(SIGPIPE, SIG_IGN);
    signal(SIGUSR1, on_usr1);
    if (ls < 0 || setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        bind(ls, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(ls, 128) < 0) {
        fprintf(stderr, "counterd: cannot listen on port %d: %s\n", port, strerror(errno));
        return 1;
    }
    for (int i = 0; i < MAX_CONNS; i++) {
        conns[i].fd = -1;
        conns[i].out = malloc(OUT_MAX + LINE_MAX_BYTES + 32);
        if (!conns[i].out)
            return 1;
    }
    printf("counterd: listening on port %d (max %d connections)\n", port, MAX_CONNS);
    fflush(stdout);

    for (;;) {
        int n = 0;
        if (want_status) {
            want_status = 0;
            printf("counterd: counter=%llu conns=%d\n", (unsigned long long)counter, nconns);
            fflush(stdout);
        }
        pfd[n].fd = ls;
        pfd[n].events = POLLIN;
        idx[n++] = -1;
        for (int i = 0; i < MAX_CONNS; i++) {
            struct conn *c = &conns[i];
            if (c->fd < 0)
                continue;
            pfd[n].fd = c->fd;
            pfd[n].events = 0;
            if (!c->closing && c->outlen < OUT_MAX)
                pfd[n].events |= POLLIN;
            if (c->outlen > c->outoff)
                pfd[n].events |= POLLOUT;
            idx[n++] = i;
        }
        if (poll(pfd, (nfds_t)n, -1) < 0) {
            if (errno == EINTR)
                continue;
            perror("counterd: poll");
            return 1;
        }
        if (pfd[0].revents & POLLIN) {
            for (;;) {
                int fd = accept4(ls, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (fd < 0)
                    break;
                if (nconns >= MAX_CONNS) {
                    struct linger l = {1, 0};
                    setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
                    close(fd);
                    continue;
                }
                setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
                for (int i = 0; i < MAX_CONNS; i++) {
                    if (conns[i].fd < 0) {
                        conns[i] = (struct conn){.fd = fd, .out = conns[i].out};
                        nconns++;
                        break;
                    }
                }
            }
        }
        for (int k = 1; k < n; k++) {
            struct conn *c = &conns[idx[k]];
            short re = pfd[k].revents;
            if (c->fd < 0 || !re)
                continue;
            if ((re & POLLIN) && c->inlen < sizeof(c->in)) {
                ssize_t r = recv(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen, 0);
                if (r == 0) {
                    c->closing = 1; /* peer done: drop an unterminated line */
                    c->inlen = 0;
                } else if (r < 0 && errno != EAGAIN && errno != EINTR) {
                    conn_close(c, 0);
                    continue;
                } else if (r > 0) {
                    c->inlen += (size_t)r;
                    if (process_lines(c) < 0)
                        c->closing = 1;
                }
            } else if (re & (POLLERR | POLLHUP | POLLNVAL) && !(re & POLLOUT)) {
                conn_close(c, 0);
                continue;
            }
            if (flush_out(c) < 0) {
                conn_close(c, 0);
                continue;
            }
            /* Lines held back while the output was full. */
            if (!c->closing && c->outlen < OUT_MAX && memchr(c->in, '\n', c->inlen)) {
                if (process_lines(c) < 0)
                    c->closing = 1;
                if (flush_out(c) < 0) {
                    conn_close(c, 0);
                    continue;
                }
            }
            if (c->closing && c->outlen == c->outoff)
                conn_close(c, 0);
        }
    }
}
