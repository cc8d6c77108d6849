/* The window terminals' side: frames in, checks, forward; replies out.
 *
 * A terminal speaks to the counter exactly as to hall-queue: REQ framing
 * (an empty delimiter, then one Request), one Reply back. The framing,
 * size limit and decoding are the shared server's (hallbus/server.h);
 * whatever is wrong with what a terminal sends is answered with a reply
 * that says so, counted, logged the first time, and the counter goes on. */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "counter.h"
#include "hallbus/envelope.h"
#include "hallbus/log.h"

void terminals_send(counter_t *c, const hb_route_t *route, const Hallbus__Reply *reply)
{
    if (c->terminals && hb_server_reply(c->terminals, route, &reply->base) != 0)
        hb_debug("reply not delivered to a terminal: %s", zmq_strerror(errno));
}

void terminals_refuse(counter_t *c, const hb_route_t *route, uint64_t request_id,
                      Hallbus__StatusCode code, const char *msg)
{
    Hallbus__Reply reply = HALLBUS__REPLY__INIT;
    reply.request_id = request_id;
    reply.code = code;
    reply.message = (char *)msg;
    reply.seq = c->last_seq;
    terminals_send(c, route, &reply);
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

/* A decoded command: checked here, then forwarded. */
static void on_request(hb_server_t *server, const hb_route_t *route, ProtobufCMessage *msg,
                       void *arg)
{
    counter_t *c = arg;
    Hallbus__Request *req = (Hallbus__Request *)msg;
    char msg_text[512];
    if (route->role != HB_ROLE_COUNTER && route->role != HB_ROLE_OPERATOR) {
        /* terminals have counter keys; the operator may do anything */
        snprintf(msg_text, sizeof msg_text,
                 "a counter's terminals need a key of role counter or operator; this key's "
                 "role is %s",
                 hb_role_name(route->role));
        terminals_refuse(c, route, req->request_id, HALLBUS__STATUS_CODE__PERMISSION_DENIED,
                         msg_text);
        return;
    }
    Hallbus__StatusCode code = route_check(&c->route, req, msg_text, sizeof msg_text);
    uint32_t window = 0;
    bool is_window = route_window_command(req, &window);
    /* a sign-on or sign-off stays here: its password is never forwarded */
    if (code == HALLBUS__STATUS_CODE__OK &&
        req->command_case == HALLBUS__REQUEST__COMMAND_SIGN_ON) {
        signon_start(c, route, req);
        return;
    }
    if (code == HALLBUS__STATUS_CODE__OK &&
        req->command_case == HALLBUS__REQUEST__COMMAND_SIGN_OFF) {
        signon_off(c, route, req);
        return;
    }
    if (req->command_case == HALLBUS__REQUEST__COMMAND_SIGN_ON && req->sign_on->password)
        sodium_memzero(req->sign_on->password, strlen(req->sign_on->password));
    /* who acts: the session's person, whatever the request says */
    if (code == HALLBUS__STATUS_CODE__OK && is_window)
        code = signon_apply(c, req, window, msg_text, sizeof msg_text);
    if (code == HALLBUS__STATUS_CODE__OK && is_window)
        code = check_staff(c, req, window, msg_text, sizeof msg_text);
    if (code == HALLBUS__STATUS_CODE__OK) {
        char reason[256];
        if (forward_command(c, route, req, is_window ? window : 0, reason, sizeof reason) == 0) {
            c->stats.forwarded++;
            hb_debug("%s at window %u by %s forwarded", hb_command_name(req), window,
                     req->staff && *req->staff ? req->staff : "?");
        } else {
            code = HALLBUS__STATUS_CODE__INTERNAL;
            snprintf(msg_text, sizeof msg_text, "%s", reason);
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
                     req->staff && *req->staff ? req->staff : "?", msg_text);
        terminals_refuse(c, route, req->request_id, code, msg_text);
    }
}

/* A command whose strings a standard reader would refuse (not UTF-8, or a
 * NUL): answered INVALID_ARGUMENT naming the field, and not forwarded. */
static void on_invalid(hb_server_t *server, const hb_route_t *route, ProtobufCMessage *msg,
                       const char *why, void *arg)
{
    counter_t *c = arg;
    c->stats.refused++;
    terminals_refuse(c, route, ((Hallbus__Request *)msg)->request_id,
                     HALLBUS__STATUS_CODE__INVALID_ARGUMENT, why);
}

/* What could not be read: answered with request_id 0 (its id is unknown). */
static void on_refused(hb_server_t *server, const hb_route_t *route, hb_server_refusal_t kind,
                       const char *why, size_t len, void *arg)
{
    counter_t *c = arg;
    const hb_server_counters_t *n = hb_server_counters(server);
    char msg[256];
    if (kind == HB_SERVER_BAD_FRAMING) {
        if (worth_logging(n->bad_framing))
            hb_warn("refused %lu badly framed command(s) from terminals; latest: %s",
                    n->bad_framing, why);
        terminals_refuse(c, route, 0, HALLBUS__STATUS_CODE__MALFORMED, why);
        return;
    }
    unsigned long bad = n->malformed + n->too_large;
    if (worth_logging(bad))
        hb_warn("refused %lu malformed request(s) from terminals; latest: %s (%zu bytes)", bad, why,
                len);
    snprintf(msg, sizeof msg, "%s (%zu bytes)", why, len);
    terminals_refuse(c, route, 0,
                     kind == HB_SERVER_TOO_LARGE ? HALLBUS__STATUS_CODE__TOO_LARGE
                                                 : HALLBUS__STATUS_CODE__MALFORMED,
                     msg);
}

static int decode_request(const void *data, size_t len, ProtobufCMessage **out, const char **why)
{
    return hb_request_decode(data, len, (Hallbus__Request **)out, why);
}

int terminals_open(counter_t *c)
{
    hb_server_config_t sc = {.endpoint = c->self.endpoint,
                             .security = c->security,
                             .zap_domain = "counter",
                             .request_desc = &hallbus__request__descriptor,
                             .request_max = HB_REQUEST_MAX,
                             .decode = decode_request,
                             .hwm = 100000,
                             .linger = 500,
                             .on_request = on_request,
                             .on_refused = on_refused,
                             .on_invalid = on_invalid,
                             .arg = c};
    c->terminals = hb_server_new(c->loop, c->ctx, &sc);
    return c->terminals ? 0 : -1;
}
