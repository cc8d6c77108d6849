/* The window terminals' side: frames in, checks, forward; replies out.
 *
 * A terminal speaks to the counter exactly as to hall-queue: REQ framing
 * (an empty delimiter, then one Request), one Reply back. Whatever is
 * wrong with what it sends is answered with a reply that says so, counted,
 * logged the first time, and the counter goes on. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "counter.h"
#include "hallbus/envelope.h"
#include "hallbus/log.h"

void terminals_send(counter_t *c, const uint8_t *identity, size_t identity_len,
                    const Hallbus__Reply *reply)
{
    if (!c->terminals)
        return;
    size_t len = hallbus__reply__get_packed_size(reply);
    uint8_t stackbuf[4096];
    uint8_t *buf = len <= sizeof stackbuf ? stackbuf : malloc(len);
    if (!buf)
        return;
    hallbus__reply__pack(reply, buf);
    const void *bufs[3] = {identity, "", buf};
    size_t lens[3] = {identity_len, 0, len};
    if (hb_zsock_sendv(hb_zsock_socket(c->terminals), bufs, lens, 3) != 0)
        hb_debug("reply not delivered to a terminal: %s", zmq_strerror(errno));
    if (buf != stackbuf)
        free(buf);
}

void terminals_refuse(counter_t *c, const uint8_t *identity, size_t identity_len,
                      uint64_t request_id, Hallbus__StatusCode code, const char *msg)
{
    Hallbus__Reply reply = HALLBUS__REPLY__INIT;
    reply.request_id = request_id;
    reply.code = code;
    reply.message = (char *)msg;
    reply.seq = c->last_seq;
    terminals_send(c, identity, identity_len, &reply);
}

/* First of a kind logged, then every 10000th, so a flood cannot fill the disk. */
static bool worth_logging(unsigned long count)
{
    return count == 1 || count % 10000 == 0;
}

/* What the counter knows of who is signed on: a second line of defence
 * before hall-queue, which decides. Returns OK or the refusal. */
static Hallbus__StatusCode check_staff(counter_t *c, const Hallbus__Request *req, uint32_t window,
                                       char *msg, size_t msglen)
{
    counter_window_t *w = counter_window(c, window);
    if (!w)
        return HALLBUS__STATUS_CODE__OK;
    if (req->command_case == HALLBUS__REQUEST__COMMAND_OPEN_WINDOW) {
        for (unsigned i = 0; i < c->self.windows_count; i++) {
            counter_window_t *other = &c->windows[i];
            if (other->number != window && other->state != HALLBUS__WINDOW_STATE__CLOSED &&
                other->state != HALLBUS__WINDOW_STATE__WINDOW_STATE_UNSPECIFIED &&
                strcmp(other->staff, req->staff) == 0) {
                snprintf(msg, msglen,
                         "%.63s is already signed on at window %u: one person, one window; "
                         "sign off there first",
                         req->staff, other->number);
                return HALLBUS__STATUS_CODE__INVALID_STATE;
            }
        }
        return HALLBUS__STATUS_CODE__OK; /* a second sign-on: hall-queue says who is there */
    }
    /* a window whose state is not known yet: hall-queue will tell */
    if ((w->state == HALLBUS__WINDOW_STATE__OPEN || w->state == HALLBUS__WINDOW_STATE__PAUSED) &&
        strcmp(w->staff, req->staff) != 0) {
        snprintf(msg, msglen, "window %u is signed on by %s, not by %.63s", window, w->staff,
                 req->staff);
        return HALLBUS__STATUS_CODE__PERMISSION_DENIED;
    }
    return HALLBUS__STATUS_CODE__OK;
}

static void handle(counter_t *c, const uint8_t *identity, size_t identity_len, const void *data,
                   size_t len)
{
    Hallbus__Request *req = NULL;
    const char *why = NULL;
    int drc = hb_request_decode(data, len, &req, &why);
    if (drc == HB_DECODE_INVALID) {
        terminals_refuse(c, identity, identity_len, req->request_id,
                         HALLBUS__STATUS_CODE__INVALID_ARGUMENT, why);
        hallbus__request__free_unpacked(req, NULL);
        return;
    }
    if (drc != HB_DECODE_OK) {
        if (worth_logging(++c->stats.malformed))
            hb_warn("refused %lu malformed request(s) from terminals; latest: %s (%zu bytes)",
                    c->stats.malformed, why, len);
        char msg[128];
        snprintf(msg, sizeof msg, "%s (%zu bytes)", why, len);
        terminals_refuse(c, identity, identity_len, 0,
                         drc == HB_DECODE_TOO_LARGE ? HALLBUS__STATUS_CODE__TOO_LARGE
                                                    : HALLBUS__STATUS_CODE__MALFORMED,
                         msg);
        return;
    }

    const uint64_t client_id = req->request_id; /* forwarding replaces it */
    char msg[512];
    Hallbus__StatusCode code = route_check(&c->route, req, msg, sizeof msg);
    uint32_t window = 0;
    bool is_window = route_window_command(req, &window);
    if (code == HALLBUS__STATUS_CODE__OK && is_window)
        code = check_staff(c, req, window, msg, sizeof msg);
    if (code == HALLBUS__STATUS_CODE__OK &&
        req->command_case == HALLBUS__REQUEST__COMMAND_OPEN_WINDOW &&
        (!req->open_window->staff || !*req->open_window->staff)) {
        /* the person signing on is the one sending: fill it in */
        req->open_window->staff = strdup(req->staff);
        if (!req->open_window->staff) {
            code = HALLBUS__STATUS_CODE__INTERNAL;
            snprintf(msg, sizeof msg, "out of memory");
        }
    }
    if (code == HALLBUS__STATUS_CODE__OK) {
        inflight_t entry = {.client_id = client_id,
                            .kind = INFLIGHT_TERMINAL,
                            .window = window,
                            .command = (int)req->command_case,
                            .identity_len = identity_len};
        memcpy(entry.identity, identity, identity_len);
        char reason[256];
        if (forward_request(c, req, &entry, reason, sizeof reason) == 0) {
            c->stats.forwarded++;
            hb_debug("%s at window %u by %s forwarded", hb_command_name(req), window,
                     req->staff && *req->staff ? req->staff : "?");
        } else {
            code = HALLBUS__STATUS_CODE__INTERNAL;
            snprintf(msg, sizeof msg, "%s", reason);
        }
    }
    if (code != HALLBUS__STATUS_CODE__OK) {
        c->stats.refused++;
        if (code == HALLBUS__STATUS_CODE__UNKNOWN_COMMAND && worth_logging(++c->stats.unknown))
            hb_warn("refused %lu command(s) a counter does not take; latest: %s from %s",
                    c->stats.unknown, hb_command_name(req),
                    req->actor && *req->actor ? req->actor : "?");
        else
            hb_debug("%s from %s refused: %s", hb_command_name(req),
                     req->staff && *req->staff ? req->staff : "?", msg);
        terminals_refuse(c, identity, identity_len, client_id, code, msg);
    }
    hallbus__request__free_unpacked(req, NULL);
}

void terminals_on_msg(hb_zsock_t *zs, zmq_msg_t *frames, int n, bool overflow, void *arg)
{
    counter_t *c = arg;
    const uint8_t *identity = zmq_msg_data(&frames[0]);
    size_t identity_len = zmq_msg_size(&frames[0]);
    if (identity_len > INFLIGHT_IDENTITY_MAX)
        return; /* not a ROUTER identity: cannot happen */
    /* [identity][empty][request], as a REQ socket frames it */
    if (n != 3 || overflow || zmq_msg_size(&frames[1]) != 0) {
        if (worth_logging(++c->stats.bad_frames))
            hb_warn("refused %lu badly framed command(s) from terminals; latest: %d frame(s)",
                    c->stats.bad_frames, overflow ? n + 1 : n);
        char msg[160];
        snprintf(msg, sizeof msg,
                 "expected an empty delimiter frame then one Request frame, got %d frame(s)%s",
                 n - 1, overflow ? " or more" : "");
        terminals_refuse(c, identity, identity_len, 0, HALLBUS__STATUS_CODE__MALFORMED, msg);
        return;
    }
    handle(c, identity, identity_len, zmq_msg_data(&frames[2]), zmq_msg_size(&frames[2]));
}
