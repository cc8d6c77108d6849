/* The ZAP handler thread: a REP socket on inproc://zeromq.zap.01 answering
 * libzmq's requests from the allow-list, and a PAIR socket on which
 * hb_zap_stop tells it to end. Both sockets are made and bound by
 * hb_zap_start in the caller's thread (so that a failure is reported there)
 * and used only by the handler thread afterwards. */
#include "hallbus/zap.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "hallbus/log.h"

#define FRAMES_MAX 8  /* version .. mechanism and one credential, and a spare */
#define FRAME_MAX 256 /* longer frames are malformed (a domain is a short word) */
#define CREDENTIAL 32 /* a CURVE public key */

struct hb_zap_s {
    void *handler; /* REP, HB_ZAP_ENDPOINT */
    void *control; /* PAIR, the thread's end */
    void *stopper; /* PAIR, the owner's end */
    hb_keys_t *keys;
    char control_endpoint[64];
    pthread_t thread;
    atomic_uint_fast64_t allowed, refused;
    time_t last_log;   /* refusals are logged at most once a second... */
    unsigned unlogged; /* ...with a count of those not logged */
};

static atomic_int running = 0;

bool hb_zap_running(void)
{
    return atomic_load(&running) > 0;
}

bool hb_zap_domain_allows(const char *domain, hb_role_t role)
{
    if (role <= HB_ROLE_NONE || role >= HB_ROLES)
        return false;
    /* only hall-queue and the counters may publish on the bus */
    if (domain && strcmp(domain, "bus-pub") == 0)
        return role == HB_ROLE_QUEUE || role == HB_ROLE_COUNTER;
    return true;
}

typedef struct {
    char data[FRAMES_MAX][FRAME_MAX + 1]; /* each NUL-terminated, for the text ones */
    size_t size[FRAMES_MAX];
    int count;
    bool malformed; /* too many or too long frames */
} request_t;

/* Receives one whole multipart request; -1 when the context is ending. */
static int receive(void *handler, request_t *req)
{
    memset(req, 0, sizeof *req);
    int more = 1;
    for (int i = 0; more; i++) {
        char scratch[FRAME_MAX + 1];
        char *into = i < FRAMES_MAX ? req->data[i] : scratch;
        int n = zmq_recv(handler, into, FRAME_MAX, 0);
        if (n < 0)
            return -1;
        if (n > FRAME_MAX) {
            req->malformed = true;
            n = FRAME_MAX;
        }
        into[n] = '\0';
        if (i < FRAMES_MAX) {
            req->size[i] = (size_t)n;
            req->count = i + 1;
        } else {
            req->malformed = true;
        }
        size_t len = sizeof more;
        if (zmq_getsockopt(handler, ZMQ_RCVMORE, &more, &len) != 0)
            return -1;
    }
    return 0;
}

/* The ZMTP property list of the metadata frame: one "Hallbus-Role". */
static size_t metadata(hb_role_t role, unsigned char *out, size_t size)
{
    static const char name[] = "Hallbus-Role";
    const char *value = hb_role_name(role);
    size_t nlen = sizeof name - 1, vlen = strlen(value);
    if (1 + nlen + 4 + vlen > size)
        return 0;
    unsigned char *p = out;
    *p++ = (unsigned char)nlen;
    memcpy(p, name, nlen);
    p += nlen;
    *p++ = (unsigned char)(vlen >> 24);
    *p++ = (unsigned char)(vlen >> 16);
    *p++ = (unsigned char)(vlen >> 8);
    *p++ = (unsigned char)vlen;
    memcpy(p, value, vlen);
    return (size_t)(p + vlen - out);
}

static void reply(void *handler, const request_t *req, const char *status, const char *text,
                  const char *user, const unsigned char *meta, size_t meta_len)
{
    zmq_send(handler, "1.0", 3, ZMQ_SNDMORE);
    zmq_send(handler, req->count > 1 ? req->data[1] : "", req->count > 1 ? req->size[1] : 0,
             ZMQ_SNDMORE);
    zmq_send(handler, status, strlen(status), ZMQ_SNDMORE);
    zmq_send(handler, text, strlen(text), ZMQ_SNDMORE);
    zmq_send(handler, user, strlen(user), ZMQ_SNDMORE);
    zmq_send(handler, meta, meta_len, 0);
}

static void refuse(hb_zap_t *self, const request_t *req, const char *why, const char *who)
{
    atomic_fetch_add(&self->refused, 1);
    reply(self->handler, req, "400", why, "", NULL, 0);
    time_t now = time(NULL);
    if (now == self->last_log) {
        self->unlogged++;
        return;
    }
    const char *domain = req->count > 2 ? req->data[2] : "";
    const char *address = req->count > 3 ? req->data[3] : "";
    hb_warn("zap: refused %s from %s on domain \"%s\": %s%s", who, address, domain, why,
            self->unlogged ? " (and earlier refusals not logged)" : "");
    self->last_log = now;
    self->unlogged = 0;
}

static void answer(hb_zap_t *self, const request_t *req)
{
    if (req->malformed || req->count < 6)
        return refuse(self, req, "malformed ZAP request", "a request");
    if (strcmp(req->data[0], "1.0") != 0)
        return refuse(self, req, "ZAP version 1.0 only", "a request");
    if (strcmp(req->data[5], "CURVE") != 0)
        return refuse(self, req, "CURVE only", "a client without a key");
    if (req->count != 7 || req->size[6] != CREDENTIAL)
        return refuse(self, req, "malformed CURVE credentials", "a client");
    char key[HB_KEY_Z85_LEN + 1];
    if (!zmq_z85_encode(key, (const uint8_t *)req->data[6], CREDENTIAL))
        return refuse(self, req, "malformed CURVE credentials", "a client");
    char name[HB_KEY_NAME_MAX + 1];
    hb_role_t role = hb_keys_lookup(self->keys, key, name, sizeof name);
    char who[HB_KEY_NAME_MAX + HB_KEY_Z85_LEN + 16];
    if (role == HB_ROLE_NONE) {
        snprintf(who, sizeof who, "key %s", key);
        return refuse(self, req, "unknown or revoked key", who);
    }
    if (!hb_zap_domain_allows(req->data[2], role)) {
        char why[96];
        snprintf(why, sizeof why, "role %s may not connect here", hb_role_name(role));
        snprintf(who, sizeof who, "key \"%s\"", name);
        return refuse(self, req, why, who);
    }
    unsigned char meta[64];
    size_t meta_len = metadata(role, meta, sizeof meta);
    atomic_fetch_add(&self->allowed, 1);
    hb_debug("zap: allowed \"%s\" (%s) on domain \"%s\"", name, hb_role_name(role), req->data[2]);
    reply(self->handler, req, "200", "OK", key, meta, meta_len);
}

static void *run(void *arg)
{
    hb_zap_t *self = arg;
    zmq_pollitem_t items[2] = {{self->handler, 0, ZMQ_POLLIN, 0},
                               {self->control, 0, ZMQ_POLLIN, 0}};
    request_t *req = malloc(sizeof *req);
    while (req) {
        if (zmq_poll(items, 2, -1) < 0) {
            if (zmq_errno() == EINTR)
                continue;
            break; /* ETERM: the context is ending */
        }
        if (items[1].revents & ZMQ_POLLIN)
            break;
        if ((items[0].revents & ZMQ_POLLIN) && receive(self->handler, req) == 0)
            answer(self, req);
    }
    free(req);
    /* unbound at once, not when the reaper gets to the sockets: a handler
     * started right after this one finds the endpoint free */
    zmq_unbind(self->handler, HB_ZAP_ENDPOINT);
    zmq_unbind(self->control, self->control_endpoint);
    int zero = 0;
    zmq_setsockopt(self->handler, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(self->control, ZMQ_LINGER, &zero, sizeof zero);
    zmq_close(self->handler);
    zmq_close(self->control);
    return NULL;
}

hb_zap_t *hb_zap_start(void *ctx, hb_keys_t *keys)
{
    hb_zap_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->keys = keys;
    char *control = self->control_endpoint;
    snprintf(control, sizeof self->control_endpoint, "inproc://hallbus-zap-control-%p",
             (void *)self);
    int zero = 0;
    self->handler = zmq_socket(ctx, ZMQ_REP);
    self->control = zmq_socket(ctx, ZMQ_PAIR);
    self->stopper = zmq_socket(ctx, ZMQ_PAIR);
    if (!self->handler || !self->control || !self->stopper)
        goto failed;
    if (zmq_bind(self->handler, HB_ZAP_ENDPOINT) != 0) {
        hb_error("zap: cannot bind %s: %s (one handler per context)", HB_ZAP_ENDPOINT,
                 zmq_strerror(zmq_errno()));
        goto failed;
    }
    if (zmq_bind(self->control, control) != 0 || zmq_connect(self->stopper, control) != 0)
        goto failed;
    if (pthread_create(&self->thread, NULL, run, self) != 0)
        goto failed;
    atomic_fetch_add(&running, 1);
    return self;

failed:
    hb_error("zap: cannot start the handler: %s", zmq_strerror(zmq_errno()));
    void *socks[3] = {self->handler, self->control, self->stopper};
    for (int i = 0; i < 3; i++)
        if (socks[i]) {
            zmq_setsockopt(socks[i], ZMQ_LINGER, &zero, sizeof zero);
            zmq_close(socks[i]);
        }
    free(self);
    return NULL;
}

void hb_zap_stop(hb_zap_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    hb_zap_t *self = *self_p;
    /* PAIR over inproc: the message is queued even if the thread is busy
     * answering; if the context is ending, the thread has left already */
    zmq_send(self->stopper, "", 0, ZMQ_DONTWAIT);
    pthread_join(self->thread, NULL);
    int zero = 0;
    zmq_setsockopt(self->stopper, ZMQ_LINGER, &zero, sizeof zero);
    zmq_close(self->stopper);
    atomic_fetch_sub(&running, 1);
    free(self);
    *self_p = NULL;
}

hb_zap_stats_t hb_zap_stats(hb_zap_t *self)
{
    return (hb_zap_stats_t){atomic_load(&self->allowed), atomic_load(&self->refused)};
}
