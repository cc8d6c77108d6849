/* A blocking client of hall-audit's query endpoint: a DEALER with REQ
 * framing, replies matched by request_id. */
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "cmd_audit.h"
#include "hallbus/clock.h"
#include "hallbus/envelope.h"
#include "text.h"

struct ac_s {
    void *ctx, *sock;
    const char *endpoint;
    int timeout_ms;
    uint64_t next_id;
};

ac_t *ac_new(hallctl_t *ctl, const char *endpoint)
{
    if (hc_resolve(ctl) != 0)
        return NULL;
    ac_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->endpoint = endpoint      ? endpoint
                     : ctl->config ? ctl->config->audit.query
                                   : HC_DEFAULT_AUDIT_QUERY;
    self->timeout_ms = ctl->timeout_ms;
    self->next_id = (uint64_t)hb_now_us();
    self->ctx = zmq_ctx_new();
    self->sock = zmq_socket(self->ctx, ZMQ_DEALER);
    int linger = 0;
    zmq_setsockopt(self->sock, ZMQ_LINGER, &linger, sizeof linger);
    if (zmq_connect(self->sock, self->endpoint) != 0) {
        tx_line(stderr, "hallctl: '%s' is not an endpoint ZeroMQ can connect to", self->endpoint);
        ac_destroy(&self);
    }
    return self;
}

void ac_destroy(ac_t **pself)
{
    if (!pself || !*pself)
        return;
    ac_t *self = *pself;
    *pself = NULL;
    zmq_close(self->sock);
    zmq_ctx_term(self->ctx);
    free(self);
}

Hallbus__AuditReply *ac_call(ac_t *self, Hallbus__AuditRequest *req, int *status)
{
    req->request_id = ++self->next_id;
    size_t len = hallbus__audit_request__get_packed_size(req);
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf)
        return NULL;
    hallbus__audit_request__pack(req, buf);
    zmq_send(self->sock, "", 0, ZMQ_SNDMORE);
    zmq_send(self->sock, buf, len, 0);
    free(buf);
    int64_t deadline = hb_mono_us() + (int64_t)self->timeout_ms * 1000;
    for (;;) {
        long left = (long)((deadline - hb_mono_us()) / 1000);
        zmq_pollitem_t item = {self->sock, 0, ZMQ_POLLIN, 0};
        if (left <= 0 || zmq_poll(&item, 1, left) <= 0) {
            if (hb_mono_us() < deadline)
                continue;
            tx_line(stderr, "hallctl: hall-audit at %s did not answer within %d ms", self->endpoint,
                    self->timeout_ms);
            *status = HC_EXIT_UNREACHABLE;
            return NULL;
        }
        zmq_msg_t frames[2];
        int n = 0, more = 1;
        while (more) {
            zmq_msg_t m;
            zmq_msg_init(&m);
            zmq_msg_recv(&m, self->sock, 0);
            more = zmq_msg_more(&m);
            if (n < 2)
                frames[n++] = m;
            else
                zmq_msg_close(&m);
        }
        Hallbus__AuditReply *r = n == 2
                                     ? hallbus__audit_reply__unpack(NULL, zmq_msg_size(&frames[1]),
                                                                    zmq_msg_data(&frames[1]))
                                     : NULL;
        for (int i = 0; i < n; i++)
            zmq_msg_close(&frames[i]);
        if (!r || r->request_id != req->request_id) {
            if (r)
                hallbus__audit_reply__free_unpacked(r, NULL);
            continue; /* a stale answer */
        }
        if (r->code != HALLBUS__STATUS_CODE__OK) {
            tx_line(stderr, "hallctl: hall-audit: %s",
                    r->message && *r->message ? r->message : hb_status_name(r->code));
            hallbus__audit_reply__free_unpacked(r, NULL);
            *status = HC_EXIT_REFUSED;
            return NULL;
        }
        *status = HC_EXIT_OK;
        return r;
    }
}

void ac_today(hallctl_t *ctl, char out[11])
{
    hb_business_date(hb_now_us(), ctl->config ? ctl->config->hall.rollover_minute : 0, out);
}
