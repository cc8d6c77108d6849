/* The async client (client.h) against the REQ-framed server (server.h), on
 * one libuv loop over ipc:// in a temporary directory: replies matched by
 * id, deadlines, malformed replies, refusals, replies given later, close. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "hallbus/client.h"
#include "hallbus/clock.h"
#include "hallbus/server.h"
#include "hallbus/socket.h"

typedef struct {
    hb_client_outcome_t outcome;
    uint64_t reply_id;
    char message[128];
    int calls;
} result_t;

static uv_loop_t loop;
static void *ctx;
static char dir[64], endpoint[128];
static hb_server_t *server;
static hb_client_t *client;
static int requests, refusals;
static bool hold_replies; /* the server keeps routes and answers at the batch's end */
static hb_route_t held[16];
static uint64_t held_ids[16];
static int nheld;
static bool answer_garbage;

static void setup(void)
{
    uv_loop_init(&loop);
    ctx = zmq_ctx_new();
    snprintf(dir, sizeof dir, "/tmp/hb_cs_XXXXXX");
    cr_assert(mkdtemp(dir));
    snprintf(endpoint, sizeof endpoint, "ipc://%s/cmd", dir);
    requests = refusals = nheld = 0;
    hold_replies = answer_garbage = false;
}

static void teardown(void)
{
    hb_client_close(&client);
    hb_server_close(&server);
    uv_run(&loop, UV_RUN_DEFAULT);
    cr_assert_eq(uv_loop_close(&loop), 0, "every handle closed");
    zmq_ctx_term(ctx);
    char path[160];
    snprintf(path, sizeof path, "%s/cmd", dir);
    unlink(path);
    rmdir(dir);
}

TestSuite(client_server, .init = setup, .fini = teardown);

static void reply_to(hb_server_t *s, const hb_route_t *route, uint64_t id, const char *msg)
{
    Hallbus__Reply r = HALLBUS__REPLY__INIT;
    r.request_id = id;
    r.message = (char *)msg;
    hb_server_reply(s, route, &r.base);
}

static void on_request(hb_server_t *s, const hb_route_t *route, ProtobufCMessage *msg, void *arg)
{
    Hallbus__Request *req = (Hallbus__Request *)msg;
    requests++;
    if (req->actor && strcmp(req->actor, "silent") == 0)
        return;
    if (answer_garbage) {
        /* our id, then a field that does not decode as a Reply */
        uint8_t bad[16] = {0x08};
        size_t n = 1;
        uint64_t id = req->request_id;
        do {
            bad[n++] = (uint8_t)((id & 0x7f) | (id > 0x7f ? 0x80 : 0));
            id >>= 7;
        } while (id);
        bad[n++] = 0x22; /* field 4, length-delimited... */
        bad[n++] = 0x7f; /* ...longer than what is left */
        hb_server_reply_packed(s, route, bad, n);
        return;
    }
    if (hold_replies) {
        held[nheld] = *route;
        held_ids[nheld++] = req->request_id;
        return;
    }
    reply_to(s, route, req->request_id, req->actor);
}

static void on_refused(hb_server_t *s, const hb_route_t *route, hb_server_refusal_t kind,
                       const char *why, size_t len, void *arg)
{
    refusals++;
    reply_to(s, route, 0, why);
}

static void on_batch(hb_server_t *s, void *arg)
{
    for (int i = 0; i < nheld; i++)
        reply_to(s, &held[i], held_ids[i], "later");
    nheld = 0;
}

static void start_server(size_t request_max)
{
    hb_server_config_t c = {.endpoint = endpoint,
                            .request_desc = &hallbus__request__descriptor,
                            .request_max = request_max,
                            .on_request = on_request,
                            .on_refused = on_refused,
                            .on_batch = on_batch};
    server = hb_server_new(&loop, ctx, &c);
    cr_assert(server);
}

static void start_client(bool pirate)
{
    hb_client_config_t c = {.endpoint = endpoint,
                            .reply_desc = &hallbus__reply__descriptor,
                            .fresh_socket_after_timeout = pirate};
    client = hb_client_new(&loop, ctx, &c);
    cr_assert(client);
}

static void on_result(hb_client_t *c, hb_client_outcome_t outcome, ProtobufCMessage *reply,
                      void *arg)
{
    result_t *r = arg;
    r->calls++;
    r->outcome = outcome;
    if (reply) {
        Hallbus__Reply *rep = (Hallbus__Reply *)reply;
        r->reply_id = rep->request_id;
        snprintf(r->message, sizeof r->message, "%s", rep->message ? rep->message : "");
    }
}

static uint64_t send_as(const char *actor, uint32_t timeout_ms, result_t *r)
{
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    Hallbus__GetStatus gs = HALLBUS__GET_STATUS__INIT;
    req.request_id = 77;
    req.actor = (char *)actor;
    req.command_case = HALLBUS__REQUEST__COMMAND_GET_STATUS;
    req.get_status = &gs;
    uint64_t id = hb_client_send(client, &req.base, timeout_ms, on_result, r);
    cr_assert_neq(id, 0, "sent");
    cr_assert_eq(req.request_id, 77, "the caller's message is given back as it was");
    return id;
}

/* Runs the loop until every result has its callback, or 5 s. */
static void run_until(result_t *r, int n)
{
    int64_t deadline = hb_mono_us() + 5000000;
    for (;;) {
        int done = 0;
        for (int i = 0; i < n; i++)
            done += r[i].calls > 0;
        if (done == n || hb_mono_us() > deadline)
            break;
        uv_run(&loop, UV_RUN_ONCE);
    }
}

Test(client_server, each_request_gets_its_own_reply_through_its_own_callback)
{
    start_server(0);
    start_client(false);
    result_t r[3] = {{0}};
    const char *names[3] = {"one", "two", "three"};
    uint64_t ids[3];
    for (int i = 0; i < 3; i++)
        ids[i] = send_as(names[i], 3000, &r[i]);
    run_until(r, 3);
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(r[i].calls, 1);
        cr_assert_eq(r[i].outcome, HB_CLIENT_REPLY);
        cr_assert_eq(r[i].reply_id, ids[i]);
        cr_assert_str_eq(r[i].message, names[i]);
    }
    cr_assert_eq(hb_client_pending(client), 0);
    cr_assert_eq(hb_server_counters(server)->replied, 3);
}

Test(client_server, a_reply_given_after_the_batch_reaches_its_request)
{
    start_server(0);
    start_client(false);
    hold_replies = true;
    result_t r = {0};
    send_as("x", 3000, &r);
    run_until(&r, 1);
    cr_assert_eq(r.outcome, HB_CLIENT_REPLY);
    cr_assert_str_eq(r.message, "later");
}

Test(client_server, an_unanswered_request_times_out_once_and_a_late_reply_is_dropped)
{
    start_server(0);
    start_client(true);
    result_t r = {0}, ok = {0};
    int64_t t0 = hb_mono_us();
    send_as("silent", 200, &r);
    run_until(&r, 1);
    cr_assert_eq(r.outcome, HB_CLIENT_TIMEOUT);
    cr_assert_geq(hb_mono_us() - t0, 190000, "not before its deadline");
    cr_assert_eq(hb_client_counters(client)->resets, 1, "the lazy pirate: a fresh socket");
    send_as("after", 3000, &ok);
    run_until(&ok, 1);
    cr_assert_eq(ok.outcome, HB_CLIENT_REPLY, "the fresh socket works");
    cr_assert_eq(r.calls, 1);
}

Test(client_server, a_reply_with_our_id_that_does_not_decode_is_malformed)
{
    start_server(0);
    start_client(false);
    answer_garbage = true;
    result_t r = {0};
    send_as("x", 3000, &r);
    run_until(&r, 1);
    cr_assert_eq(r.outcome, HB_CLIENT_MALFORMED);
    cr_assert_eq(hb_client_counters(client)->malformed, 1);
}

Test(client_server, an_oversized_request_is_refused_by_the_daemons_callback)
{
    start_server(16);
    start_client(false);
    result_t r = {0};
    send_as("a name long enough to pass sixteen bytes", 300, &r);
    run_until(&r, 1);
    cr_assert_eq(refusals, 1);
    cr_assert_eq(requests, 0, "never handed to the handler");
    cr_assert_eq(hb_server_counters(server)->too_large, 1);
    cr_assert_eq(r.outcome, HB_CLIENT_TIMEOUT, "the refusal has id 0: no request is its");
    cr_assert_eq(hb_client_counters(client)->late, 1);
}

Test(client_server, bad_framing_and_undecodable_requests_are_refused_and_counted)
{
    start_server(0);
    hb_socket_opts_t o = {.hwm = 100, .queue_while_disconnected = true};
    void *dealer = hb_socket_open_opts(ctx, ZMQ_DEALER, endpoint, 0, &o);
    zmq_send(dealer, "no delimiter", 12, 0);
    zmq_send(dealer, "", 0, ZMQ_SNDMORE);
    zmq_send(dealer, "\xff\xff\xff", 3, 0);
    char buf[512];
    int64_t deadline = hb_mono_us() + 5000000;
    while (refusals < 2 && hb_mono_us() < deadline)
        uv_run(&loop, UV_RUN_NOWAIT);
    cr_assert_eq(hb_server_counters(server)->bad_framing, 1);
    cr_assert_eq(hb_server_counters(server)->malformed, 1);
    /* both answered: [empty][Reply] twice, the first saying what was expected */
    for (int i = 0; i < 2; i++) {
        zmq_pollitem_t it = {dealer, 0, ZMQ_POLLIN, 0};
        cr_assert_eq(zmq_poll(&it, 1, 2000), 1);
        cr_assert_eq(zmq_recv(dealer, buf, sizeof buf, 0), 0);
        int n = zmq_recv(dealer, buf, sizeof buf, 0);
        Hallbus__Reply *r = hallbus__reply__unpack(NULL, (size_t)n, (uint8_t *)buf);
        cr_assert(r);
        if (i == 0)
            cr_assert(strstr(r->message, "empty delimiter frame then one Request frame"), "%s",
                      r->message);
        hallbus__reply__free_unpacked(r, NULL);
    }
    zmq_close(dealer);
}

Test(client_server, closing_cancels_what_is_pending_and_a_send_fails_without_a_callback)
{
    start_server(0);
    start_client(false);
    result_t r[2] = {{0}};
    send_as("silent", 3000, &r[0]);
    send_as("silent", 3000, &r[1]);
    cr_assert_eq(hb_client_pending(client), 2);
    hb_client_close(&client);
    cr_assert_null(client);
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(r[i].calls, 1);
        cr_assert_eq(r[i].outcome, HB_CLIENT_CANCELLED);
    }
}

Test(client_server, a_request_type_without_request_id_is_refused_at_send)
{
    start_server(0);
    start_client(false);
    Hallbus__GetStatus gs = HALLBUS__GET_STATUS__INIT;
    result_t r = {0};
    cr_assert_eq(hb_client_send(client, &gs.base, 100, on_result, &r), 0);
    cr_assert_eq(r.calls, 0);
}
