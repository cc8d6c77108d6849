#include "receiver.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hallbus/clock.h"

#define CONNS 256
#define BUF 65536

typedef struct {
    int fd;
    char buf[BUF];
    size_t len;
} conn_t;

static void header(const char *head, const char *name, char *out, size_t outlen)
{
    out[0] = '\0';
    size_t nlen = strlen(name);
    for (const char *p = head; (p = strstr(p, "\r\n")); p += 2) {
        if (strncasecmp(p + 2, name, nlen) == 0 && p[2 + nlen] == ':') {
            const char *v = p + 3 + nlen;
            while (*v == ' ')
                v++;
            size_t len = strcspn(v, "\r\n");
            if (len >= outlen)
                len = outlen - 1;
            memcpy(out, v, len);
            out[len] = '\0';
            return;
        }
    }
}

static void send_all(int fd, const char *data)
{
    size_t len = strlen(data), off = 0;
    while (off < len) {
        ssize_t n = send(fd, data + off, len - off, MSG_NOSIGNAL);
        if (n <= 0)
            return;
        off += (size_t)n;
    }
}

/* Handles every whole request in C's buffer. Returns -1 to close. */
static int serve(rx_t *rx, conn_t *c)
{
    for (;;) {
        c->buf[c->len] = '\0';
        char *end = strstr(c->buf, "\r\n\r\n");
        if (!end)
            return 0;
        size_t head_len = (size_t)(end - c->buf) + 4;
        char cl[32];
        *end = '\0';
        header(c->buf, "Content-Length", cl, sizeof cl);
        size_t body_len = (size_t)atol(cl);
        if (head_len + body_len > c->len) {
            *end = '\r';
            return 0;
        }
        rx_mode_t mode = rx->mode;
        /* "/baseline": a benchmark's plain loop, answered and not recorded */
        bool record = strncmp(c->buf, "POST /baseline", 14) != 0;
        pthread_mutex_lock(&rx->mu);
        if (record && rx->count < RX_MAX) {
            rx_request_t *r = &rx->req[rx->count++];
            memset(r, 0, sizeof *r);
            sscanf(c->buf, "%*s %63s", r->path);
            header(c->buf, "X-Hallbus-Id", r->id, sizeof r->id);
            header(c->buf, "Idempotency-Key", r->idem, sizeof r->idem);
            header(c->buf, "X-Hallbus-Signature", r->signature, sizeof r->signature);
            r->body = strndup(c->buf + head_len, body_len);
            r->at_us = hb_now_us();
            r->answered = mode == RX_OK ? 200 : mode == RX_500 ? 500 : mode == RX_404 ? 404 : 0;
        }
        pthread_mutex_unlock(&rx->mu);
        memmove(c->buf, c->buf + head_len + body_len, c->len - head_len - body_len);
        c->len -= head_len + body_len;
        switch (mode) {
        case RX_OK:
            send_all(c->fd, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                            "Content-Length: 11\r\n\r\n{\"ok\":true}");
            break;
        case RX_500:
            send_all(c->fd, "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\n\r\noops");
            break;
        case RX_404:
            send_all(c->fd, "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nno such x");
            break;
        case RX_GARBAGE:
            send_all(c->fd, "\x01\x02 this is not HTTP at all\r\n\r\n");
            return -1;
        case RX_STALL:
            return 0; /* the client gives up and closes */
        }
    }
}

static void *run(void *arg)
{
    rx_t *rx = arg;
    conn_t *conns = calloc(CONNS, sizeof *conns);
    int nconns = 0;
    if (!conns)
        return NULL;
    while (!rx->stop) {
        struct pollfd fds[CONNS + 1];
        fds[0] = (struct pollfd){.fd = rx->listen_fd, .events = POLLIN};
        for (int i = 0; i < nconns; i++)
            fds[i + 1] = (struct pollfd){.fd = conns[i].fd, .events = POLLIN};
        if (poll(fds, (nfds_t)nconns + 1, 20) <= 0)
            continue;
        if ((fds[0].revents & POLLIN) && nconns < CONNS) {
            int fd = accept(rx->listen_fd, NULL, NULL);
            if (fd >= 0) {
                conns[nconns].fd = fd;
                conns[nconns].len = 0;
                nconns++;
            }
        }
        for (int i = nconns - 1; i >= 0; i--) {
            if (!(fds[i + 1].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            conn_t *c = &conns[i];
            ssize_t n = recv(c->fd, c->buf + c->len, BUF - 1 - c->len, 0);
            if (n <= 0 || serve(rx, (c->len += (size_t)n, c)) != 0) {
                close(c->fd);
                conns[i] = conns[--nconns];
            }
        }
    }
    for (int i = 0; i < nconns; i++)
        close(conns[i].fd);
    free(conns);
    return NULL;
}

int rx_start(rx_t *rx, int port)
{
    if (!rx->running && rx->count == 0)
        pthread_mutex_init(&rx->mu, NULL);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 128) != 0) {
        close(fd);
        return -1;
    }
    socklen_t len = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &len);
    rx->port = ntohs(a.sin_port);
    rx->listen_fd = fd;
    rx->stop = 0;
    rx->running = true;
    return pthread_create(&rx->thread, NULL, run, rx) == 0 ? 0 : -1;
}

void rx_stop(rx_t *rx)
{
    if (!rx->running)
        return;
    rx->stop = 1;
    pthread_join(rx->thread, NULL);
    close(rx->listen_fd);
    rx->running = false;
}

void rx_free(rx_t *rx)
{
    rx_stop(rx);
    for (int i = 0; i < rx->count; i++)
        free(rx->req[i].body);
    rx->count = 0;
}

int rx_delivered(rx_t *rx, int *distinct)
{
    pthread_mutex_lock(&rx->mu);
    int n = 0, d = 0;
    for (int i = 0; i < rx->count; i++) {
        if (rx->req[i].answered < 200 || rx->req[i].answered >= 300)
            continue;
        n++;
        if (!distinct)
            continue;
        bool seen = false;
        for (int j = 0; j < i && !seen; j++)
            seen = rx->req[j].answered >= 200 && rx->req[j].answered < 300 &&
                   strcmp(rx->req[j].id, rx->req[i].id) == 0;
        d += !seen;
    }
    pthread_mutex_unlock(&rx->mu);
    if (distinct)
        *distinct = d;
    return n;
}

int rx_seen(rx_t *rx)
{
    pthread_mutex_lock(&rx->mu);
    int n = rx->count;
    pthread_mutex_unlock(&rx->mu);
    return n;
}
