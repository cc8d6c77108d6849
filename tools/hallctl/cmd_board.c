/* `hallctl board`: the hall board in a terminal, kept live.
 *
 * The Clone pattern at its simplest: subscribe to the hall's events first,
 * then take a snapshot and draw it; each event (or a heartbeat whose seq is
 * ahead of the board) means the hall moved on, so a new snapshot is taken
 * and drawn, at most every REFETCH_MIN_US. Every frame is one snapshot, so
 * the board never shows a state the hall was not in, and a gap cannot
 * mislead it. With no word from the hall for SILENCE_US the board says it
 * is reconnecting instead of showing old data as current. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "hallbus/clock.h"
#include "hallbus/envelope.h"
#include "hallbus/socket.h"
#include "hallctl.h"
#include "table.h"
#include "text.h"

#define REFETCH_MIN_US 150000 /* snapshots at most this often */
#define SILENCE_US 3000000    /* no event nor heartbeat for this long: not live */
#define RETRY_US 1000000      /* while not live, try a snapshot this often */
#define CALLS_DEFAULT 6

typedef struct {
    hallctl_t *ctl;
    bool once;
    long calls;
    bool tty;
    void *ctx;
    void *sub;
    hb_rpc_t *rpc;
    Hallbus__Reply *shown; /* the snapshot on screen */
    uint64_t seq;          /* its seq */
    bool live;
    int64_t last_heard, last_fetch;
    char hall[40];
} board_t;

static volatile sig_atomic_t board_stop;

static void on_board_signal(int sig)
{
    (void)sig;
    board_stop = 1;
}

static const char *window_words(Hallbus__WindowState s)
{
    return s == HALLBUS__WINDOW_STATE__OPEN     ? "open"
           : s == HALLBUS__WINDOW_STATE__PAUSED ? "paused"
                                                : "closed";
}

/* ── drawing ── */

static void draw(board_t *b)
{
    FILE *f = stdout;
    if (b->tty)
        fputs("\033[H\033[2J", f);
    const Hallbus__Snapshot *snap = b->shown ? b->shown->snapshot : NULL;
    const Hallbus__HallStatus *st = snap ? snap->status : NULL;
    char now[32];
    tx_clock(hb_now_us(), now, sizeof now);
    if (b->tty)
        fputs("\033[1m", f);
    tx_line(f, "%s  %s  %s", st && st->hall_name ? st->hall_name : b->hall,
            st && st->business_date ? st->business_date : "", now);
    if (b->tty)
        fputs("\033[0m", f);
    if (!b->live) {
        tx_line(f, "%s*** reconnecting / 正在重新连接 … (nothing from the hall)%s",
                b->tty ? "\033[1;33m" : "", b->tty ? "\033[0m" : "");
        fflush(f);
        return; /* never old data as if it were current */
    }
    fputc('\n', f);
    tx_line(f, "Now calling 叫号");
    long shown = 0;
    for (size_t i = 0; snap && i < snap->n_recent_calls && shown < b->calls; i++) {
        const Hallbus__Ticket *t = snap->recent_calls[i];
        bool dup = false;
        for (size_t j = 0; j < i; j++)
            dup = dup || strcmp(snap->recent_calls[j]->number, t->number) == 0;
        if (dup)
            continue;
        bool newest = shown == 0 && b->tty;
        if (newest) /* escapes go out as they are; tx_line cleans what comes off the wire */
            fputs("\033[1;30;43m", f);
        tx_line(f, "  %s %-6s -> window %-3u%s", shown == 0 ? ">" : " ", t->number, t->window,
                t->priority == HALLBUS__PRIORITY__GREEN ? "  [green channel]" : "");
        if (newest)
            fputs("\033[0m", f);
        shown++;
    }
    if (shown == 0)
        tx_line(f, "  (no call yet)");

    fputc('\n', f);
    static const char *const wh[] = {">WINDOW", "STATE", "STAFF", "TICKET"};
    table_t *tw = tb_new(4, wh);
    for (size_t i = 0; st && i < st->n_windows; i++) {
        const Hallbus__Window *w = st->windows[i];
        char num[16], state[96];
        snprintf(num, sizeof num, "%u", w->number);
        if (w->state == HALLBUS__WINDOW_STATE__PAUSED && w->pause_reason && *w->pause_reason)
            snprintf(state, sizeof state, "paused — %s", w->pause_reason);
        else
            snprintf(state, sizeof state, "%s", window_words(w->state));
        const char *row[] = {num, state, w->staff && *w->staff ? w->staff : NULL,
                             w->serving_number && *w->serving_number ? w->serving_number : NULL};
        tb_row(tw, row);
    }
    tb_print(tw, f, "  ");
    tb_destroy(&tw);

    fputc('\n', f);
    static const char *const sh[] = {"SERVICE", "NAME", ">WAITING", ">GREEN", ">EST. WAIT"};
    table_t *ts = tb_new(5, sh);
    for (size_t i = 0; st && i < st->n_services; i++) {
        const Hallbus__ServiceSummary *s = st->services[i];
        char waiting[16], green[16], wait[32];
        snprintf(waiting, sizeof waiting, "%u", s->waiting);
        snprintf(green, sizeof green, "%u", s->waiting_green);
        tx_duration(s->estimated_wait_s, wait, sizeof wait);
        const char *row[] = {s->prefix, s->name, waiting, green, wait};
        tb_row(ts, row);
    }
    tb_print(ts, f, "  ");
    tb_destroy(&ts);
    fputc('\n', f);
    tx_line(f, "event #%llu%s", (unsigned long long)b->seq, b->once ? "" : "   (Ctrl-C to quit)");
    fflush(f);
}

/* ── the hall ── */

/* Takes a snapshot; true if it came. */
static bool fetch(board_t *b)
{
    b->last_fetch = hb_mono_us();
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    Hallbus__GetSnapshot gs = HALLBUS__GET_SNAPSHOT__INIT;
    req.actor = (char *)(b->ctl->actor ? b->ctl->actor : HC_DEFAULT_ACTOR);
    req.hall_id = (char *)b->ctl->hall_id;
    req.command_case = HALLBUS__REQUEST__COMMAND_GET_SNAPSHOT;
    req.get_snapshot = &gs;
    char err[128];
    Hallbus__Reply *r = hb_rpc_call(b->rpc, &req, err, sizeof err);
    if (!r || r->code != HALLBUS__STATUS_CODE__OK ||
        r->result_case != HALLBUS__REPLY__RESULT_SNAPSHOT || !r->snapshot) {
        if (r) {
            if (b->once)
                tx_line(stderr, "hallctl: %s: %s", hb_status_name(r->code), r->message);
            hallbus__reply__free_unpacked(r, NULL);
        }
        /* a REQ-like client after a timeout: start afresh */
        hb_rpc_destroy(&b->rpc);
        b->rpc = hb_rpc_new(b->ctx, b->ctl->command_endpoint, b->ctl->timeout_ms);
        return false;
    }
    if (b->shown)
        hallbus__reply__free_unpacked(b->shown, NULL);
    b->shown = r;
    b->seq = r->snapshot->seq;
    if (r->snapshot->status && r->snapshot->status->hall_id)
        snprintf(b->hall, sizeof b->hall, "%s", r->snapshot->status->hall_id);
    return true;
}

/* Reads what the SUB has; true when the hall moved past the board. */
static bool read_events(board_t *b)
{
    bool moved = false;
    for (int n = 0; n < 10000; n++) {
        zmq_msg_t topic, body;
        zmq_msg_init(&topic);
        if (zmq_msg_recv(&topic, b->sub, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&topic);
            break;
        }
        bool two = zmq_msg_more(&topic);
        zmq_msg_init(&body);
        if (two && zmq_msg_recv(&body, b->sub, 0) >= 0) {
            while (zmq_msg_more(&body)) { /* drop extra frames */
                zmq_msg_close(&body);
                zmq_msg_init(&body);
                if (zmq_msg_recv(&body, b->sub, 0) < 0)
                    break;
            }
            Hallbus__Envelope *env = NULL;
            if (hb_envelope_decode(zmq_msg_data(&body), zmq_msg_size(&body), &env, NULL) ==
                    HB_DECODE_OK &&
                (!b->hall[0] || strcmp(env->hall_id, b->hall) == 0)) {
                b->last_heard = hb_mono_us();
                if (env->seq != b->seq)
                    moved = true; /* ahead, or a hall that went back: look again */
            }
            if (env)
                hallbus__envelope__free_unpacked(env, NULL);
        }
        zmq_msg_close(&body);
        zmq_msg_close(&topic);
    }
    return moved;
}

static int run(board_t *b)
{
    b->ctx = zmq_ctx_new();
    b->sub = zmq_socket(b->ctx, ZMQ_SUB);
    int linger = 0;
    zmq_setsockopt(b->sub, ZMQ_LINGER, &linger, sizeof linger);
    char prefix[HB_TOPIC_MAX];
    hb_topic_prefix(b->ctl->hall_id, prefix);
    zmq_setsockopt(b->sub, ZMQ_SUBSCRIBE, prefix, strlen(prefix));
    if (zmq_connect(b->sub, b->ctl->bus_sub_endpoint) != 0) {
        tx_line(stderr, "hallctl: cannot connect to %s: %s", b->ctl->bus_sub_endpoint,
                zmq_strerror(errno));
        return HC_EXIT_USAGE;
    }
    b->rpc = hb_rpc_new(b->ctx, b->ctl->command_endpoint, b->ctl->timeout_ms);
    if (!b->rpc)
        return HC_EXIT_USAGE;

    /* subscribed first, then the snapshot */
    b->live = fetch(b);
    b->last_heard = hb_mono_us();
    if (b->once) {
        if (!b->live) {
            tx_line(stderr, "hallctl: no answer from %s", b->ctl->command_endpoint);
            return HC_EXIT_UNREACHABLE;
        }
        draw(b);
        return HC_EXIT_OK;
    }
    if (b->tty)
        fputs("\033[?25l", stdout); /* hide the cursor */
    draw(b);
    bool dirty = false;
    int64_t last_draw = hb_mono_us();
    while (!board_stop) {
        zmq_pollitem_t item = {b->sub, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, 100) < 0 && errno != EINTR)
            break;
        dirty |= read_events(b);
        int64_t now = hb_mono_us();
        bool silent = now - b->last_heard > SILENCE_US;
        bool redraw = false;
        if (silent) {
            if (b->live) {
                b->live = false;
                redraw = true;
            }
            if (now - b->last_fetch > RETRY_US && fetch(b))
                b->last_heard = now; /* the queue answers; its heartbeats will tell */
        } else if ((dirty || !b->live) && now - b->last_fetch >= REFETCH_MIN_US) {
            if (fetch(b)) {
                dirty = false;
                b->live = true;
                redraw = true;
            }
        }
        if (redraw || now - last_draw >= 1000000) { /* the clock moves too */
            draw(b);
            last_draw = now;
        }
    }
    if (b->tty)
        fputs("\033[?25h\n", stdout);
    return HC_EXIT_OK;
}

int cmd_board(hallctl_t *ctl, int argc, char **argv)
{
    enum { O_ONCE = HC_OPT_FIRST, O_CALLS };
    static const hc_opt_t opts[] = {{"once", false, O_ONCE}, {"calls", true, O_CALLS}, {0}};
    board_t b = {.ctl = ctl, .calls = CALLS_DEFAULT};
    hc_getopt_t g;
    hc_getopt_init(&g, ctl, argc, argv, opts, false);
    const char *arg;
    int id;
    while ((id = hc_getopt(&g, &arg)) > 0) {
        if (id == O_ONCE)
            b.once = true;
        else if (id == O_CALLS && hc_parse_count(ctl, "--calls", arg, 1, 10, &b.calls) != 0)
            return HC_EXIT_USAGE;
    }
    if (id < 0)
        return g.status;
    int rc = hc_want_args(&g, 0, "");
    if (rc != 0)
        return rc;
    rc = hc_resolve(ctl);
    if (rc != 0)
        return rc;
    if (ctl->hall_id)
        snprintf(b.hall, sizeof b.hall, "%s", ctl->hall_id);
    b.tty = isatty(STDOUT_FILENO);
    struct sigaction sa = {0};
    sa.sa_handler = on_board_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    rc = run(&b);
    if (b.shown)
        hallbus__reply__free_unpacked(b.shown, NULL);
    hb_rpc_destroy(&b.rpc);
    if (b.sub)
        zmq_close(b.sub);
    if (b.ctx)
        zmq_ctx_term(b.ctx);
    return rc;
}
