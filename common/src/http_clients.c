/* Open connections counted per client address (the port aside), so that
 * one client cannot take every connection of a server: a chained hash of
 * the addresses that have a connection open now. */
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http_internal.h"

#define BUCKETS 4096 /* a power of two */

struct hb_http_client_s {
    unsigned char addr[16];
    size_t addrlen;
    unsigned count;
    size_t bucket;
    hb_http_client_t *next;
};

struct hb_http_clients_s {
    hb_http_client_t *buckets[BUCKETS];
};

hb_http_clients_t *hb_http_clients_new(void)
{
    return calloc(1, sizeof(hb_http_clients_t));
}

void hb_http_clients_destroy(hb_http_clients_t **selfp)
{
    hb_http_clients_t *self = *selfp;
    if (!self)
        return;
    *selfp = NULL;
    for (size_t b = 0; b < BUCKETS; b++)
        for (hb_http_client_t *c = self->buckets[b], *next; c; c = next) {
            next = c->next;
            free(c);
        }
    free(self);
}

static size_t address_of(const struct sockaddr *sa, unsigned char out[16])
{
    if (sa->sa_family == AF_INET) {
        memcpy(out, &((const struct sockaddr_in *)sa)->sin_addr, 4);
        return 4;
    }
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a)) { /* the same client as over IPv4 */
            memcpy(out, a->s6_addr + 12, 4);
            return 4;
        }
        memcpy(out, a->s6_addr, 16);
        return 16;
    }
    return 0; /* all others count as one client */
}

static size_t hash(const unsigned char *addr, size_t len)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        h = (h ^ addr[i]) * 16777619u;
    return h & (BUCKETS - 1);
}

hb_http_client_t *hb_http_clients_acquire(hb_http_clients_t *self, const struct sockaddr *sa,
                                          unsigned max)
{
    unsigned char addr[16];
    size_t len = address_of(sa, addr);
    size_t b = hash(addr, len);
    hb_http_client_t *c = self->buckets[b];
    while (c && (c->addrlen != len || memcmp(c->addr, addr, len) != 0))
        c = c->next;
    if (!c) {
        if (max == 0 || !(c = calloc(1, sizeof *c)))
            return NULL;
        memcpy(c->addr, addr, len);
        c->addrlen = len;
        c->bucket = b;
        c->next = self->buckets[b];
        self->buckets[b] = c;
    }
    if (c->count >= max)
        return NULL;
    c->count++;
    return c;
}

void hb_http_clients_release(hb_http_clients_t *self, hb_http_client_t *client)
{
    if (!client || --client->count > 0)
        return;
    hb_http_client_t **p = &self->buckets[client->bucket];
    while (*p != client)
        p = &(*p)->next;
    *p = client->next;
    free(client);
}
