/* The ZAP handler (zap.h) and the CURVE socket helpers (curve.h) with real
 * CURVE sockets over ipc:// in a temporary directory: who gets an answer,
 * who gets nothing, and that the allow-list's changes count at once.
 *
 * "Gets nothing" is proved, not slept on: the server's socket monitor
 * reports the failed handshake, after which nothing from that client can
 * reach the server. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "hallbus/allow_list.h"
#include "hallbus/curve.h"
#include "hallbus/keys.h"
#include "hallbus/zap.h"

#define DEADLINE_MS 5000
#define QUIET_MS 300 /* after a refusal: nothing arrives in this long either */

static void *ctx;
static char dir[64], allow[128];
static char err[HB_KEYS_ERR_MAX];
static hb_keys_t *keys;
static hb_zap_t *zap;
static hb_keypair_t server_key, kiosk, counter, stranger;
static void *socks[16];
static int nsocks, nmonitors;

static void track(void *sock)
{
    cr_assert_not_null(sock);
    cr_assert_lt(nsocks, 16);
    int zero = 0;
    zmq_setsockopt(sock, ZMQ_LINGER, &zero, sizeof zero);
    socks[nsocks++] = sock;
}

static void save_allow(bool kiosk_revoked)
{
    hb_allow_t *list = hb_allow_new();
    cr_assert_eq(hb_allow_add(list, "hall-kiosk", HB_ROLE_KIOSK, kiosk.public_z85, false, err), 0);
    cr_assert_eq(hb_allow_add(list, "c1", HB_ROLE_COUNTER, counter.public_z85, false, err), 0);
    if (kiosk_revoked)
        hb_allow_revoke(list, "hall-kiosk");
    cr_assert_eq(hb_allow_save(list, allow, err), 0, "%s", err);
    hb_allow_destroy(&list);
}

static void setup(void)
{
    ctx = zmq_ctx_new();
    snprintf(dir, sizeof dir, "/tmp/hb_zap_XXXXXX");
    cr_assert(mkdtemp(dir));
    snprintf(allow, sizeof allow, "%s/allow.json", dir);
    hb_keypair_new(&server_key);
    hb_keypair_new(&kiosk);
    hb_keypair_new(&counter);
    hb_keypair_new(&stranger);
    save_allow(false);
    keys = hb_keys_new(allow, 0);
    cr_assert_not_null(keys);
    zap = hb_zap_start(ctx, keys);
    cr_assert_not_null(zap);
    nsocks = nmonitors = 0;
}

static void teardown(void)
{
    for (int i = 0; i < nsocks; i++)
        zmq_close(socks[i]);
    hb_zap_stop(&zap);
    cr_assert_null(zap);
    hb_keys_destroy(&keys);
    cr_assert_eq(zmq_ctx_term(ctx), 0, "every socket closed");
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(zap, .init = setup, .fini = teardown);

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void endpoint_of(const char *name, char *out, size_t size)
{
    snprintf(out, size, "ipc://%s/%s", dir, name);
}

/* A CURVE server socket of TYPE on DOMAIN, bound at NAME. */
static void *curve_server(int type, const char *domain, const char *name)
{
    void *s = zmq_socket(ctx, type);
    track(s);
    cr_assert_eq(hb_curve_server(s, &server_key, domain), 0);
    char ep[160];
    endpoint_of(name, ep, sizeof ep);
    cr_assert_eq(zmq_bind(s, ep), 0, "%s: %s", ep, zmq_strerror(zmq_errno()));
    return s;
}

/* A client socket of TYPE with OWN's key (NULL: no key at all) at NAME. */
static void *client(int type, const hb_keypair_t *own, const char *name)
{
    void *s = zmq_socket(ctx, type);
    track(s);
    if (own)
        cr_assert_eq(hb_curve_client(s, own, server_key.public_z85), 0);
    char ep[160];
    endpoint_of(name, ep, sizeof ep);
    cr_assert_eq(zmq_connect(s, ep), 0);
    return s;
}

#define HANDSHAKE_FAILED                                                                           \
    (ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |                  \
     ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)

/* The handshakes of SOCK as they happen. */
static void *monitor(void *sock)
{
    char ep[64];
    snprintf(ep, sizeof ep, "inproc://zap-test-monitor-%d", nmonitors++);
    cr_assert_eq(zmq_socket_monitor(sock, ep, HANDSHAKE_FAILED | ZMQ_EVENT_HANDSHAKE_SUCCEEDED), 0);
    void *m = zmq_socket(ctx, ZMQ_PAIR);
    track(m);
    cr_assert_eq(zmq_connect(m, ep), 0);
    return m;
}

/* Waits for an event in WANTED on MON; returns it, or 0 at the deadline. */
static int wait_event(void *mon, int wanted, int timeout_ms)
{
    long until = now_ms() + timeout_ms;
    for (long left; (left = until - now_ms()) > 0;) {
        zmq_pollitem_t item = {mon, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, left) <= 0)
            continue;
        unsigned char head[6];
        char ep[256];
        int n = zmq_recv(mon, head, sizeof head, 0);
        zmq_recv(mon, ep, sizeof ep, 0);
        cr_assert_eq(n, 6);
        int event = head[0] | head[1] << 8;
        if (event & wanted)
            return event;
    }
    return 0;
}

/* Receives one frame on SOCK within TIMEOUT_MS into MSG; false if none. */
static bool recv_within(void *sock, zmq_msg_t *msg, int timeout_ms)
{
    zmq_pollitem_t item = {sock, 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&item, 1, timeout_ms) <= 0)
        return false;
    return zmq_msg_recv(msg, sock, 0) >= 0;
}

typedef struct {
    bool answered;
    char key[HB_KEY_Z85_LEN + 1];
    char role[16];
    hb_role_t live_role;
} exchange_t;

/* DEALER sends "ping"; the ROUTER, if it gets it within TIMEOUT_MS, notes
 * the peer's key and role and answers "pong"; was it answered? */
static exchange_t ping(void *router, void *dealer, int timeout_ms)
{
    exchange_t x = {.answered = false};
    cr_assert_eq(zmq_send(dealer, "ping", 4, 0), 4);
    zmq_msg_t id, body;
    zmq_msg_init(&id);
    zmq_msg_init(&body);
    if (recv_within(router, &id, timeout_ms)) {
        cr_assert(zmq_msg_more(&id));
        cr_assert_eq(zmq_msg_recv(&body, router, 0), 4);
        hb_peer_key(&body, x.key);
        const char *role = zmq_msg_gets(&body, "Hallbus-Role");
        snprintf(x.role, sizeof x.role, "%s", role ? role : "");
        x.live_role = hb_peer_role(&body, keys);
        zmq_msg_send(&id, router, ZMQ_SNDMORE);
        zmq_send(router, "pong", 4, 0);
        char reply[8];
        zmq_pollitem_t item = {dealer, 0, ZMQ_POLLIN, 0};
        x.answered = zmq_poll(&item, 1, DEADLINE_MS) == 1 && zmq_recv(dealer, reply, 8, 0) == 4 &&
                     memcmp(reply, "pong", 4) == 0;
    }
    zmq_msg_close(&id);
    zmq_msg_close(&body);
    return x;
}

/* The client's handshake fails, and then its message never arrives. */
static void assert_refused(void *router, void *mon, void *dealer, int how)
{
    cr_assert_eq(zmq_send(dealer, "ping", 4, ZMQ_DONTWAIT), 4);
    int event = wait_event(mon, HANDSHAKE_FAILED, DEADLINE_MS);
    cr_assert(event & how, "handshake refused as expected (event 0x%x, wanted 0x%x)", event, how);
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    cr_assert_not(recv_within(router, &msg, QUIET_MS), "a refused client's message arrived");
    zmq_msg_close(&msg);
    char reply[8];
    cr_assert_eq(zmq_recv(dealer, reply, sizeof reply, ZMQ_DONTWAIT), -1, "and it got no reply");
}

/* ── who gets an answer ── */

Test(zap, an_allowed_key_is_answered_and_known_by_its_key_and_role)
{
    void *router = curve_server(ZMQ_ROUTER, "queue", "q");
    void *dealer = client(ZMQ_DEALER, &kiosk, "q");
    exchange_t x = ping(router, dealer, DEADLINE_MS);
    cr_assert(x.answered);
    cr_assert_str_eq(x.key, kiosk.public_z85, "User-Id is the client's public key");
    cr_assert_str_eq(x.role, "kiosk", "the role comes as metadata");
    cr_assert_eq(x.live_role, HB_ROLE_KIOSK);
    cr_assert_geq(hb_zap_stats(zap).allowed, 1);
}

Test(zap, a_client_without_a_key_gets_no_reply_at_all)
{
    void *router = curve_server(ZMQ_ROUTER, "queue", "q");
    void *mon = monitor(router);
    void *plain = client(ZMQ_DEALER, NULL, "q");
    assert_refused(router, mon, plain, ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL);
    /* while a client with a key, on the same server, is answered */
    void *dealer = client(ZMQ_DEALER, &counter, "q");
    cr_assert(ping(router, dealer, DEADLINE_MS).answered);
}

Test(zap, an_unknown_key_gets_nothing)
{
    void *router = curve_server(ZMQ_ROUTER, "queue", "q");
    void *mon = monitor(router);
    void *dealer = client(ZMQ_DEALER, &stranger, "q");
    assert_refused(router, mon, dealer, ZMQ_EVENT_HANDSHAKE_FAILED_AUTH);
    cr_assert_geq(hb_zap_stats(zap).refused, 1);
}

Test(zap, a_key_revoked_in_the_file_is_refused_at_its_next_connection_without_a_restart)
{
    void *router = curve_server(ZMQ_ROUTER, "queue", "q");
    void *mon = monitor(router);
    void *before = client(ZMQ_DEALER, &kiosk, "q");
    cr_assert(ping(router, before, DEADLINE_MS).answered);

    save_allow(true); /* as `hallctl keys revoke hall-kiosk` does */

    /* the connection made before: its messages now carry a revoked key */
    exchange_t x = ping(router, before, DEADLINE_MS);
    cr_assert_str_eq(x.key, kiosk.public_z85);
    cr_assert_eq(x.live_role, HB_ROLE_NONE, "the daemon's per-message check refuses it");
    /* a new connection with that key is refused at the handshake */
    void *after = client(ZMQ_DEALER, &kiosk, "q");
    assert_refused(router, mon, after, ZMQ_EVENT_HANDSHAKE_FAILED_AUTH);
}

/* ── the bus ── */

Test(zap, only_queue_and_counter_keys_may_publish_on_the_bus)
{
    void *xsub = curve_server(ZMQ_XSUB, "bus-pub", "pub");
    void *mon = monitor(xsub);
    cr_assert_eq(zmq_send(xsub, "\x01", 1, 0), 1); /* subscribe to everything */
    void *forger = client(ZMQ_PUB, &kiosk, "pub");
    void *honest = client(ZMQ_PUB, &counter, "pub");

    bool got_counter = false, refused = false;
    int kiosk_arrived = 0;
    char counter_key[HB_KEY_Z85_LEN + 1] = "";
    long until = now_ms() + DEADLINE_MS, quiet_until = 0;
    while (now_ms() < until && (!quiet_until || now_ms() < quiet_until)) {
        zmq_send(forger, "hall.h01.ticket.called kiosk", 28, ZMQ_DONTWAIT);
        zmq_send(honest, "hall.h01.ticket.called counter", 30, ZMQ_DONTWAIT);
        zmq_msg_t msg;
        zmq_msg_init(&msg);
        while (recv_within(xsub, &msg, 10)) {
            const char *text = zmq_msg_data(&msg);
            if (zmq_msg_size(&msg) == 28 && memcmp(text + 23, "kiosk", 5) == 0)
                kiosk_arrived++;
            if (zmq_msg_size(&msg) == 30 && memcmp(text + 23, "counter", 7) == 0) {
                got_counter = true;
                hb_peer_key(&msg, counter_key);
            }
        }
        zmq_msg_close(&msg);
        if (!refused && wait_event(mon, ZMQ_EVENT_HANDSHAKE_FAILED_AUTH, 1))
            refused = true;
        if (got_counter && refused && !quiet_until)
            quiet_until = now_ms() + QUIET_MS; /* and keep trying a little longer */
    }
    cr_assert(refused, "the kiosk's publisher was refused at the handshake");
    cr_assert(got_counter, "the counter's events arrive");
    cr_assert_str_eq(counter_key, counter.public_z85);
    cr_assert_eq(kiosk_arrived, 0, "a kiosk's forged event arrived %d times", kiosk_arrived);
}

Test(zap, the_domain_rules_by_role)
{
    cr_assert(hb_zap_domain_allows("bus-pub", HB_ROLE_QUEUE));
    cr_assert(hb_zap_domain_allows("bus-pub", HB_ROLE_COUNTER));
    for (int r = HB_ROLE_NONE; r < HB_ROLES; r++) {
        if (r != HB_ROLE_QUEUE && r != HB_ROLE_COUNTER)
            cr_assert_not(hb_zap_domain_allows("bus-pub", (hb_role_t)r), "%d", r);
        cr_assert_eq(hb_zap_domain_allows("bus-sub", (hb_role_t)r), r != HB_ROLE_NONE);
        cr_assert_eq(hb_zap_domain_allows("queue", (hb_role_t)r), r != HB_ROLE_NONE);
    }
}

/* ── the handler's life ── */

Test(zap, a_curve_server_without_a_handler_is_refused)
{
    hb_zap_stop(&zap);
    cr_assert_not(hb_zap_running());
    void *s = zmq_socket(ctx, ZMQ_ROUTER);
    track(s);
    cr_assert_eq(hb_curve_server(s, &server_key, "queue"), -1);
    zap = hb_zap_start(ctx, keys);
    cr_assert(hb_zap_running());
    cr_assert_eq(hb_curve_server(s, &server_key, "queue"), 0);
}

Test(zap, one_handler_per_context_and_stop_returns_even_while_clients_knock)
{
    cr_assert_null(hb_zap_start(ctx, keys), "the endpoint is taken");
    void *router = curve_server(ZMQ_ROUTER, "queue", "q");
    void *knocker = client(ZMQ_DEALER, &stranger, "q"); /* reconnects and is refused, again */
    (void)router;
    (void)knocker;
    for (int i = 0; i < 20; i++) {
        long start = now_ms();
        hb_zap_stop(&zap);
        cr_assert_lt(now_ms() - start, 1000, "stop returned at once");
        zap = hb_zap_start(ctx, keys);
        cr_assert_not_null(zap);
    }
}
