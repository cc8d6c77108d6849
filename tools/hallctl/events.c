/* `hallctl events`: follow the bus. One line per event, flushed at once so
 * that a pipe sees it; the sequence watched for gaps, since a SUB socket
 * drops silently at its high-water mark and a restarted bus loses what was
 * in flight. Blocking zmq_poll is enough here: one socket, nothing else to
 * wait for but a signal. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "event_line.h"
#include "hallbus/clock.h"
#include "hallbus/envelope.h"
#include "hallbus/pb_json.h"
#include "hallctl.h"
#include "text.h"

#define KINDS_MAX 16
#define HALLS_MAX 1024     /* halls whose sequence we follow at once */
#define SILENCE_US 5000000 /* no heartbeat for this long: say so, once */
#define RCVHWM 100000

typedef struct {
    char *hall;
    uint64_t seq;
} last_seq_t;

typedef struct {
    hallctl_t *ctl;
    const char *hall; /* NULL: every hall on the bus */
    char *kinds[KINDS_MAX];
    int nkinds;
    long count; /* 0: until stopped */
    bool heartbeats;
    bool track_gaps;   /* we receive every event of the halls we follow */
    bool filter_kinds; /* the subscription lets through kinds we drop */
    last_seq_t *last;
    size_t nlast;
    long shown;
    unsigned long malformed;
} events_t;

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* ── options ─────────────────────────────────────────────────────────────── */

/* Whether some kind this build knows starts with KIND. The kinds are asked
 * of hb_event_kind, one per member of the Envelope's oneof, so that this
 * stays true as the contract grows. */
static bool known_prefix(const char *kind)
{
    const ProtobufCMessageDescriptor *d = &hallbus__envelope__descriptor;
    for (unsigned i = 0; i < d->n_fields; i++) {
        if (!(d->fields[i].flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
            continue;
        Hallbus__Envelope probe = HALLBUS__ENVELOPE__INIT;
        probe.event_case = (Hallbus__Envelope__EventCase)d->fields[i].id;
        if (strncmp(hb_event_kind(&probe), kind, strlen(kind)) == 0)
            return true;
    }
    return false;
}

static int add_kinds(events_t *ev, const char *text)
{
    char **items;
    size_t n;
    if (hc_parse_list(ev->ctl, "--kind", text, &items, &n) != 0)
        return HC_EXIT_USAGE;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (strspn(items[i], "abcdefghijklmnopqrstuvwxyz0123456789._-") != strlen(items[i]))
            rc = hc_usage_error(ev->ctl, "--kind '%s': kinds are like ticket.called or window.",
                                items[i]);
        else if (ev->nkinds == KINDS_MAX)
            rc = hc_usage_error(ev->ctl, "more than %d kinds", KINDS_MAX);
        else {
            /* a newer hall may publish kinds we do not know: warn, not refuse */
            if (!known_prefix(items[i]))
                tx_line(stderr, "hallctl: warning: no event kind known to hallctl starts with '%s'",
                        items[i]);
            ev->kinds[ev->nkinds++] = items[i];
            items[i] = NULL;
        }
    }
    for (size_t i = 0; i < n; i++)
        free(items[i]);
    free(items);
    return rc;
}

static int parse_args(events_t *ev, int argc, char **argv)
{
    enum { O_KIND = HC_OPT_FIRST, O_HALL, O_COUNT, O_HEARTBEATS };
    static const hc_opt_t opts[] = {{"kind", true, O_KIND},
                                    {"hall", true, O_HALL},
                                    {"count", true, O_COUNT},
                                    {"heartbeats", false, O_HEARTBEATS},
                                    {0}};
    hallctl_t *ctl = ev->ctl;
    hc_getopt_t g;
    hc_getopt_init(&g, ctl, argc, argv, opts, false);
    const char *arg;
    int id;
    while ((id = hc_getopt(&g, &arg)) > 0) {
        int rc = 0;
        switch (id) {
        case O_KIND:
            rc = add_kinds(ev, arg);
            break;
        case O_HALL:
            if (!*arg || strlen(arg) > 32 ||
                strspn(arg, "abcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(arg))
                rc = hc_usage_error(ctl,
                                    "--hall is a hall id like h01 ([a-z0-9_-], 1-32), "
                                    "not '%s'",
                                    arg);
            ev->hall = arg;
            break;
        case O_COUNT:
            rc = hc_parse_count(ctl, "--count", arg, 1, 1000000000, &ev->count);
            break;
        case O_HEARTBEATS:
            ev->heartbeats = true;
            break;
        }
        if (rc != 0)
            return rc;
    }
    if (id < 0)
        return g.status == HC_EXIT_OK ? -1 : g.status;
    return hc_want_args(&g, 0, "");
}

/* ── the sequence ────────────────────────────────────────────────────────── */

static last_seq_t *last_of(events_t *ev, const char *hall)
{
    for (size_t i = 0; i < ev->nlast; i++)
        if (strcmp(ev->last[i].hall, hall) == 0)
            return &ev->last[i];
    if (ev->nlast == HALLS_MAX)
        return NULL;
    last_seq_t *grown = realloc(ev->last, (ev->nlast + 1) * sizeof *grown);
    if (!grown)
        abort();
    ev->last = grown;
    last_seq_t *l = &ev->last[ev->nlast++];
    l->hall = strdup(hall);
    if (!l->hall)
        abort();
    l->seq = UINT64_MAX; /* nothing seen yet */
    return l;
}

/* Says on stderr when ENV does not follow the last event of its hall. */
static void check_sequence(events_t *ev, const Hallbus__Envelope *env)
{
    last_seq_t *l = last_of(ev, env->hall_id);
    if (!l)
        return;
    bool heartbeat = env->event_case == HALLBUS__ENVELOPE__EVENT_HEARTBEAT;
    const char *who = ev->hall ? "" : env->hall_id;
    const char *sep = ev->hall ? "" : ": ";
    if (l->seq == UINT64_MAX) {
        /* the first we see: where we start, not a gap */
    } else if (heartbeat) {
        /* a heartbeat repeats the last number: more than ours means loss at the tail */
        if (env->seq > l->seq)
            tx_line(stderr, "hallctl: %s%sgap: expected #%llu, the hall's heartbeat says #%llu",
                    who, sep, (unsigned long long)l->seq + 1, (unsigned long long)env->seq);
        else if (env->seq < l->seq)
            tx_line(stderr, "hallctl: %s%ssequence went back: heartbeat at #%llu after #%llu", who,
                    sep, (unsigned long long)env->seq, (unsigned long long)l->seq);
    } else if (env->seq != l->seq + 1) {
        if (env->seq > l->seq)
            tx_line(stderr, "hallctl: %s%sgap: expected #%llu, got #%llu", who, sep,
                    (unsigned long long)l->seq + 1, (unsigned long long)env->seq);
        else
            tx_line(stderr, "hallctl: %s%ssequence went back: #%llu after #%llu", who, sep,
                    (unsigned long long)env->seq, (unsigned long long)l->seq);
    }
    l->seq = env->seq;
}

/* ── one event ───────────────────────────────────────────────────────────── */

/* The kind part of "hall.<id>.<kind>", or NULL if TOPIC is not of that form. */
static const char *topic_kind(const char *topic)
{
    if (strncmp(topic, "hall.", 5) != 0)
        return NULL;
    const char *dot = strchr(topic + 5, '.');
    return dot && dot > topic + 5 && dot[1] ? dot + 1 : NULL;
}

static bool kind_wanted(const events_t *ev, const char *kind)
{
    if (!ev->filter_kinds)
        return true;
    for (int i = 0; i < ev->nkinds; i++)
        if (strncmp(kind, ev->kinds[i], strlen(ev->kinds[i])) == 0)
            return true;
    return false;
}

static void malformed(events_t *ev, const char *topic, const char *why)
{
    ev->malformed++;
    tx_line(stderr, "hallctl: warning: malformed event%s%s%s skipped: %s (%lu so far)",
            topic ? " on '" : "", topic ? topic : "", topic ? "'" : "", why, ev->malformed);
}

/* Prints one event. Returns false when stdout is gone. */
static bool print_event(events_t *ev, const char *topic, const char *kind,
                        const Hallbus__Envelope *env)
{
    if (ev->ctl->json) {
        json_t *doc = json_object();
        json_t *jt = json_string(topic);
        if (!jt) { /* not UTF-8; the cleaned form says as much */
            char *clean = tx_clean(topic);
            jt = json_string(clean);
            free(clean);
        }
        json_object_set_new(doc, "topic", jt);
        json_object_set_new(doc, "envelope", hb_pb_to_json(&env->base));
        json_dumpf(doc, stdout, JSON_COMPACT);
        fputc('\n', stdout);
        json_decref(doc);
    } else {
        char when[32];
        tx_clock(env->ts, when, sizeof when);
        char *what = ev_describe(env);
        tx_line(stdout, "%s%s#%llu %s %s %s", ev->hall ? "" : env->hall_id, ev->hall ? "" : " ",
                (unsigned long long)env->seq, when, kind, what);
        free(what);
    }
    return fflush(stdout) == 0 && !ferror(stdout);
}

/* Receives one message (all its frames) and handles it. Returns false when
 * we are to stop. */
static bool handle_message(events_t *ev, void *sub)
{
    zmq_msg_t frames[2], junk;
    int n = 0;
    bool more = true;
    size_t extra = 0;
    while (more) {
        zmq_msg_t *m = n < 2 ? &frames[n] : &junk;
        zmq_msg_init(m);
        if (zmq_msg_recv(m, sub, n == 0 && extra == 0 ? ZMQ_DONTWAIT : 0) < 0) {
            zmq_msg_close(m);
            if (errno == EINTR && (n > 0 || extra > 0))
                continue; /* the rest of a message is there: get it */
            for (int i = 0; i < n; i++)
                zmq_msg_close(&frames[i]);
            return true; /* EAGAIN: a spurious wakeup; EINTR: the loop looks */
        }
        more = zmq_msg_more(m);
        if (m == &junk) {
            extra++;
            zmq_msg_close(&junk);
        } else {
            n++;
        }
    }

    bool go_on = true;
    char topic[HB_TOPIC_MAX];
    size_t tlen = zmq_msg_size(&frames[0]);
    if (n != 2 || extra) {
        malformed(ev, NULL, "an event is two frames, topic and envelope");
    } else if (tlen >= sizeof topic || memchr(zmq_msg_data(&frames[0]), '\0', tlen)) {
        malformed(ev, NULL, "topic too long or not text");
    } else {
        memcpy(topic, zmq_msg_data(&frames[0]), tlen);
        topic[tlen] = '\0';
        const char *kind = topic_kind(topic);
        Hallbus__Envelope *env = NULL;
        const char *why = NULL;
        if (!kind)
            malformed(ev, topic, "topic is not hall.<hall>.<kind>");
        else if (hb_envelope_decode(zmq_msg_data(&frames[1]), zmq_msg_size(&frames[1]), &env,
                                    &why) != HB_DECODE_OK)
            malformed(ev, topic, why);
        if (env) {
            bool heartbeat = env->event_case == HALLBUS__ENVELOPE__EVENT_HEARTBEAT;
            if (ev->track_gaps)
                check_sequence(ev, env);
            if (heartbeat ? ev->heartbeats : kind_wanted(ev, kind)) {
                go_on = print_event(ev, topic, kind, env);
                if (!heartbeat && ++ev->shown == ev->count)
                    go_on = false;
            }
            hallbus__envelope__free_unpacked(env, NULL);
        }
    }
    for (int i = 0; i < n; i++)
        zmq_msg_close(&frames[i]);
    return go_on;
}

/* ── the loop ────────────────────────────────────────────────────────────── */

static int subscribe(events_t *ev, void *sub)
{
    char prefix[HB_TOPIC_MAX];
    bool one_kind = ev->hall && ev->nkinds == 1;
    if (!ev->hall)
        snprintf(prefix, sizeof prefix, "hall.");
    else
        snprintf(prefix, sizeof prefix, "hall.%s.%s", ev->hall, one_kind ? ev->kinds[0] : "");
    if (strlen(prefix) >= sizeof prefix - 1)
        return hc_usage_error(ev->ctl, "--kind '%s' is too long", ev->kinds[0]);
    zmq_setsockopt(sub, ZMQ_SUBSCRIBE, prefix, strlen(prefix));
    if (one_kind && ev->heartbeats) {
        char hb[HB_TOPIC_MAX];
        if (hb_topic(ev->hall, "heartbeat", hb) > 0)
            zmq_setsockopt(sub, ZMQ_SUBSCRIBE, hb, strlen(hb));
    }
    /* one kind of one hall: the bus filters, and the numbers of the other
     * kinds are missing on purpose; otherwise we see every event */
    ev->track_gaps = !one_kind;
    ev->filter_kinds = ev->nkinds > 0 && !one_kind;
    return 0;
}

static void follow(events_t *ev, void *sub)
{
    int64_t last_rx = hb_mono_us();
    bool silence_told = false;
    while (!stop_requested) {
        zmq_pollitem_t item = {sub, 0, ZMQ_POLLIN, 0};
        int rc = zmq_poll(&item, 1, 250);
        if (rc < 0) {
            if (errno == EINTR)
                continue;
            tx_line(stderr, "hallctl: %s", zmq_strerror(errno));
            return;
        }
        if (rc == 0) {
            /* with the whole stream of a hall, heartbeats should come */
            if (ev->track_gaps && !silence_told && hb_mono_us() - last_rx > SILENCE_US) {
                tx_line(stderr,
                        "hallctl: nothing from %s for %d s (is hall-bus running, and the hall "
                        "publishing?)",
                        ev->ctl->bus_sub_endpoint, SILENCE_US / 1000000);
                silence_told = true;
            }
            continue;
        }
        last_rx = hb_mono_us();
        silence_told = false;
        if (!handle_message(ev, sub))
            return;
    }
}

int cmd_events(hallctl_t *ctl, int argc, char **argv)
{
    events_t ev = {.ctl = ctl};
    int rc = parse_args(&ev, argc, argv);
    if (rc == 0)
        rc = hc_resolve(ctl);
    if (rc != 0) {
        for (int i = 0; i < ev.nkinds; i++)
            free(ev.kinds[i]);
        return rc < 0 ? HC_EXIT_OK : rc;
    }
    if (!ev.hall)
        ev.hall = ctl->hall_id;

    void *zctx = zmq_ctx_new();
    void *sub = zmq_socket(zctx, ZMQ_SUB);
    int linger = 0, hwm = RCVHWM;
    zmq_setsockopt(sub, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(sub, ZMQ_RCVHWM, &hwm, sizeof hwm);
    if ((rc = hc_secure_socket(ctl, sub, "hall-bus")) != 0) {
        /* said why */
    } else if (zmq_connect(sub, ctl->bus_sub_endpoint) != 0) {
        tx_line(stderr, "hallctl: cannot connect to '%s': %s", ctl->bus_sub_endpoint,
                zmq_strerror(errno));
        rc = HC_EXIT_USAGE;
    } else {
        rc = subscribe(&ev, sub);
    }
    if (rc == 0) {
        /* flags only: the loop sees them at its next turn (zmq_poll returns
         * EINTR); SA_RESETHAND makes a second ^C end us at once */
        struct sigaction sa = {.sa_handler = on_signal, .sa_flags = SA_RESETHAND};
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        follow(&ev, sub);
        if (ev.malformed)
            tx_line(stderr, "hallctl: %lu malformed event(s) skipped", ev.malformed);
    }

    zmq_close(sub);
    zmq_ctx_term(zctx);
    for (int i = 0; i < ev.nkinds; i++)
        free(ev.kinds[i]);
    for (size_t i = 0; i < ev.nlast; i++)
        free(ev.last[i].hall);
    free(ev.last);
    return rc;
}
