/* Talking to the hall: where it is, one request and its reply, and what the
 * reply means for the exit status and for stdout. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hallbus/envelope.h"
#include "hallbus/pb_json.h"
#include "hallctl.h"
#include "text.h"

int hc_resolve(hallctl_t *ctl)
{
    if (ctl->command_endpoint)
        return 0;
    const char *path = ctl->config_path;
    if (!path) {
        path = getenv("HALLBUS_CONFIG");
        if (path && !*path)
            path = NULL;
    }
    if (path) {
        char err[HB_CONFIG_ERR_MAX];
        ctl->config = hb_config_load(path, err);
        if (!ctl->config) {
            tx_line(stderr, "hallctl: %s", err);
            return HC_EXIT_USAGE;
        }
        ctl->hall_id = ctl->config->hall.id;
    }
    const hb_endpoints_conf_t *ep = ctl->config ? &ctl->config->endpoints : NULL;
    ctl->command_endpoint = ctl->cmd_endpoint   ? ctl->cmd_endpoint
                            : ep && ep->command ? ep->command
                                                : HC_DEFAULT_COMMAND;
    ctl->bus_sub_endpoint = ctl->sub_endpoint   ? ctl->sub_endpoint
                            : ep && ep->bus_sub ? ep->bus_sub
                                                : HC_DEFAULT_BUS_SUB;
    return 0;
}

const hb_security_t *hc_security(hallctl_t *ctl, int *status)
{
    *status = hc_resolve(ctl);
    if (*status != 0 || !ctl->config || !ctl->config->security.curve)
        return NULL;
    if (ctl->security)
        return ctl->security;
    const char *key = ctl->key;
    if (!key || !*key)
        key = getenv("HALLBUS_KEY");
    if (!key || !*key)
        key = "hallctl";
    if (!hb_key_name_valid(key)) {
        tx_line(stderr, "hallctl: $HALLBUS_KEY '%s' is not a key name", key);
        *status = HC_EXIT_USAGE;
        return NULL;
    }
    char err[HB_KEYS_ERR_MAX];
    ctl->security = hb_security_start(NULL, &ctl->config->security, key, false, err);
    if (!ctl->security) {
        tx_line(stderr, "hallctl: %s (hallctl keys init makes the hall's keys)", err);
        *status = HC_EXIT_USAGE;
    }
    return ctl->security;
}

hb_rpc_t *hc_rpc_new(hallctl_t *ctl, const char *endpoint, const char *server, int *status)
{
    const hb_security_t *sec = hc_security(ctl, status);
    if (*status != 0)
        return NULL;
    hb_rpc_t *rpc = hb_rpc_new_secure(NULL, endpoint, ctl->timeout_ms, sec, server);
    if (!rpc) {
        /* zmq_connect refuses only what is not an endpoint at all */
        tx_line(stderr, "hallctl: cannot connect to %s at '%s'", server, endpoint);
        *status = HC_EXIT_USAGE;
    }
    return rpc;
}

int hc_secure_socket(hallctl_t *ctl, void *sock, const char *server)
{
    int status;
    const hb_security_t *sec = hc_security(ctl, &status);
    if (status != 0)
        return status;
    if (hb_security_connect(sec, sock, server) != 0) {
        tx_line(stderr, "hallctl: cannot use the public key of %s", server);
        return HC_EXIT_USAGE;
    }
    return 0;
}

/* The key name of the server at ENDPOINT: hall-queue, or the hall-counter
 * instance bound there ("hall-counter", "hall-counter-c2"). */
static const char *server_of(hallctl_t *ctl, const char *endpoint, char *buf, size_t len)
{
    if (endpoint == ctl->command_endpoint || !ctl->config)
        return "hall-queue";
    /* the instance is the one at ENDPOINT: every counter command (a window's,
     * a sign-on, a sign-off) was routed there by its window */
    const hb_counter_conf_t *cc = &ctl->config->counter;
    const hb_counter_instance_t *c = NULL;
    for (unsigned i = 0; i < cc->instances_count && !c; i++)
        if (strcmp(cc->instances[i].endpoint, endpoint) == 0)
            c = &cc->instances[i];
    if (!c || c == &cc->instances[0])
        return "hall-counter";
    snprintf(buf, len, "hall-counter-%s", c->id);
    return buf;
}

/* Sends REQ; returns the reply (caller frees), or NULL with *STATUS the exit
 * status that fits, after saying why on stderr unless QUIET. */
static Hallbus__Reply *call(hallctl_t *ctl, Hallbus__Request *req, bool quiet, int *status)
{
    *status = hc_resolve(ctl);
    if (*status != 0)
        return NULL;
    const char *endpoint = ctl->command_endpoint;
    *status = hc_counter_route(ctl, req, &endpoint);
    if (*status != 0)
        return NULL;
    if (!ctl->rpc) {
        char name[HB_KEY_NAME_MAX + 1];
        const hb_security_t *sec = hc_security(ctl, status);
        if (*status != 0)
            return NULL;
        ctl->rpc = hb_rpc_new_secure(NULL, endpoint, ctl->timeout_ms, sec,
                                     server_of(ctl, endpoint, name, sizeof name));
        if (!ctl->rpc) {
            /* zmq_connect refuses only what is not an endpoint at all (or a
             * server's public key is missing: logged) */
            if (!quiet)
                tx_line(stderr, "hallctl: '%s' is not an endpoint ZeroMQ can connect to",
                        ctl->command_endpoint);
            *status = HC_EXIT_USAGE;
            return NULL;
        }
    }
    req->hall_id = (char *)(ctl->hall_id ? ctl->hall_id : "");
    req->actor = (char *)ctl->actor;
    char why[256];
    Hallbus__Reply *reply = hb_rpc_call(ctl->rpc, req, why, sizeof why);
    if (!reply) {
        if (!quiet)
            tx_line(stderr, "hallctl: %s at %s did not answer: %s",
                    endpoint == ctl->command_endpoint ? "hall-queue" : "hall-counter", endpoint,
                    why);
        *status = HC_EXIT_UNREACHABLE;
    }
    return reply;
}

static void print_refusal(hallctl_t *ctl, const Hallbus__Reply *reply)
{
    const char *code = hb_status_name(reply->code);
    const char *msg = reply->message && *reply->message ? reply->message : code;
    tx_line(stderr, "hallctl: %s", msg);
    if (!ctl->json)
        return;
    json_t *doc = json_object();
    json_object_set_new(doc, "code", json_string(code));
    json_t *jmsg = json_string(msg);
    if (!jmsg) { /* not UTF-8: let the converter repair it */
        json_t *r = hb_pb_to_json(&reply->base);
        jmsg = json_incref(json_object_get(r, "message"));
        json_decref(r);
    }
    json_object_set_new(doc, "message", jmsg ? jmsg : json_string(code));
    json_dumpf(doc, stdout, JSON_INDENT(2));
    fputc('\n', stdout);
    json_decref(doc);
}

static int print_json(const Hallbus__Reply *reply, bool with_ahead)
{
    const ProtobufCMessage *result = NULL;
    switch (reply->result_case) {
    case HALLBUS__REPLY__RESULT_TICKET:
        result = &reply->ticket->base;
        break;
    case HALLBUS__REPLY__RESULT_STATUS:
        result = &reply->status->base;
        break;
    case HALLBUS__REPLY__RESULT_SNAPSHOT:
        result = &reply->snapshot->base;
        break;
    case HALLBUS__REPLY__RESULT_WINDOW:
        result = &reply->window->base;
        break;
    default:
        break;
    }
    json_t *doc = result ? hb_pb_to_json(result) : json_object();
    if (!doc) {
        tx_line(stderr, "hallctl: out of memory");
        return HC_EXIT_REFUSED;
    }
    if (with_ahead) {
        /* always present, zero included: scripts test them without guessing */
        json_object_set_new(doc, "ahead", json_integer(reply->ahead));
        json_object_set_new(doc, "estimated_wait_s", json_integer(reply->estimated_wait_s));
    }
    json_dumpf(doc, stdout, JSON_INDENT(2));
    fputc('\n', stdout);
    json_decref(doc);
    return HC_EXIT_OK;
}

int hc_run(hallctl_t *ctl, Hallbus__Request *req, hc_printer print, bool with_ahead)
{
    int status;
    Hallbus__Reply *reply = call(ctl, req, false, &status);
    if (!reply)
        return status;
    if (reply->code != HALLBUS__STATUS_CODE__OK) {
        print_refusal(ctl, reply);
        status = HC_EXIT_REFUSED;
    } else if (ctl->json) {
        status = print_json(reply, with_ahead);
    } else {
        print(ctl, reply);
        /* a counter's notice for the window: "overtime ..." */
        if (reply->window_notice && *reply->window_notice)
            tx_line(stdout, "%s", reply->window_notice);
        status = HC_EXIT_OK;
    }
    hallbus__reply__free_unpacked(reply, NULL);
    return status;
}

/* The hall's status, asked once (quietly); NULL if it did not answer. */
static const Hallbus__HallStatus *hall_status(hallctl_t *ctl)
{
    if (!ctl->status_tried) {
        /* one more round trip, for people only: the names are not in a Ticket */
        ctl->status_tried = true;
        Hallbus__GetStatus get = HALLBUS__GET_STATUS__INIT;
        Hallbus__Request req = HALLBUS__REQUEST__INIT;
        req.command_case = HALLBUS__REQUEST__COMMAND_GET_STATUS;
        req.get_status = &get;
        int status;
        ctl->status = call(ctl, &req, true, &status);
        if (ctl->status &&
            (ctl->status->code != HALLBUS__STATUS_CODE__OK ||
             ctl->status->result_case != HALLBUS__REPLY__RESULT_STATUS || !ctl->status->status)) {
            hallbus__reply__free_unpacked(ctl->status, NULL);
            ctl->status = NULL;
        }
    }
    return ctl->status ? ctl->status->status : NULL;
}

const char *hc_service_name(hallctl_t *ctl, const char *prefix)
{
    if (!prefix || !*prefix)
        return NULL;
    if (ctl->config) {
        const hb_service_conf_t *s = hb_config_service(ctl->config, prefix);
        return s ? s->name : NULL;
    }
    const Hallbus__HallStatus *st = hall_status(ctl);
    for (size_t i = 0; st && i < st->n_services; i++)
        if (st->services[i]->prefix && strcmp(st->services[i]->prefix, prefix) == 0)
            return st->services[i]->name;
    return NULL;
}

const char *hc_hall_id(hallctl_t *ctl)
{
    if (ctl->hall_id)
        return ctl->hall_id;
    if (hc_resolve(ctl) != 0)
        return NULL;
    if (ctl->hall_id)
        return ctl->hall_id;
    const Hallbus__HallStatus *st = hall_status(ctl);
    return st && st->hall_id && *st->hall_id ? st->hall_id : NULL;
}

void hc_close(hallctl_t *ctl)
{
    hb_rpc_destroy(&ctl->rpc);
    hb_security_stop(&ctl->security);
    if (ctl->status)
        hallbus__reply__free_unpacked(ctl->status, NULL);
    ctl->status = NULL;
    hb_config_destroy(&ctl->config);
}
