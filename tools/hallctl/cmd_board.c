/* `hallctl board`: the hall board in a terminal, kept live.
 *
 * The common follower (hallbus/follow_sub.h, clone mode) subscribes to the
 * hall's events first, then takes a snapshot; the board draws that
 * snapshot. Each event the follower applies means the hall moved past the
 * board, so the board asks the follower for a new snapshot (a resync, at
 * most every REFETCH_MIN_US) and draws it when it comes. Every frame is one
 * snapshot, so the board never shows a state the hall was not in; gaps,
 * heartbeats ahead and silences are the follower's business. With no word
 * from the hall for SILENCE_US the board says it is reconnecting instead of
 * showing old data as current. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>
#include <zmq.h>

#include "hallbus/alloc.h"
#include "hallbus/clock.h"
#include "hallbus/envelope.h"
#include "hallbus/follow_sub.h"
#include "hallbus/log.h"
#include "hallbus/signals.h"
#include "hallctl.h"
#include "table.h"
#include "text.h"

#define REFETCH_MIN_US 150000 /* snapshots at most this often */
#define SILENCE_US 3000000    /* no event nor heartbeat for this long: not live */
#define CLOCK_MS 1000         /* the clock on the board moves too */
#define CALLS_DEFAULT 6

typedef struct {
    hallctl_t *ctl;
    bool once;
    long calls;
    bool tty;
    uv_loop_t loop;
    void *ctx;
    hb_follow_sub_t *follow;
    hb_signals_t signals;
    uv_timer_t clock;         /* redraws; with --once, the time-out */
    Hallbus__Snapshot *shown; /* a copy of the snapshot on screen (owned) */
    uint64_t seq;             /* its seq */
    bool loaded;              /* a snapshot came since the last draw */
    bool moved;               /* the follower applied an event: the board is behind */
    int64_t started_us;
    char hall[40];
} board_t;

static const char *window_words(Hallbus__WindowState s)
{
    return s == HALLBUS__WINDOW_STATE__OPEN     ? "open"
           : s == HALLBUS__WINDOW_STATE__PAUSED ? "paused"
                                                : "closed";
}

/* ── drawing ── */

static void draw(board_t *b, bool live)
{
    FILE *f = stdout;
    if (b->tty)
        fputs("\033[H\033[2J", f);
    const Hallbus__Snapshot *snap = b->shown;
    const Hallbus__HallStatus *st = snap ? snap->status : NULL;
    char now[32];
    tx_clock(hb_now_us(), now, sizeof now);
    if (b->tty)
        fputs("\033[1m", f);
    tx_line(f, "%s  %s  %s", st && st->hall_name ? st->hall_name : b->hall,
            st && st->business_date ? st->business_date : "", now);
    if (b->tty)
        fputs("\033[0m", f);
    if (!live) {
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

/* ── the follower's callbacks ── */

/* Synced; or waiting for the snapshot the board asked for while the hall is
 * still heard (a frame is one snapshot: the board is live between two). */
static bool board_live(board_t *b)
{
    if (!b->follow || !b->shown)
        return false;
    if (hb_follow_sub_synced(b->follow))
        return true;
    const hb_follower_t *f = hb_follow_sub_follower(b->follow);
    return f->state == HB_FOLLOW_WAITING && hb_mono_us() - f->last_heard_us <= SILENCE_US;
}

/* The snapshot, copied: the follower's is borrowed for the call only. */
static void on_load(void *arg, const Hallbus__Snapshot *snap)
{
    board_t *b = arg;
    size_t len = hallbus__snapshot__get_packed_size(snap);
    uint8_t *buf = hb_xmalloc(len ? len : 1, "the board's snapshot");
    hallbus__snapshot__pack(snap, buf);
    Hallbus__Snapshot *copy = hallbus__snapshot__unpack(NULL, len, buf);
    free(buf);
    if (!copy) { /* what was just packed unpacks, unless memory ran out */
        tx_line(stderr, "hallctl: out of memory: the board's snapshot");
        abort();
    }
    if (b->shown)
        hallbus__snapshot__free_unpacked(b->shown, NULL);
    b->shown = copy;
    b->seq = copy->seq;
    if (copy->status && copy->status->hall_id && *copy->status->hall_id)
        snprintf(b->hall, sizeof b->hall, "%s", copy->status->hall_id);
    b->loaded = true;
    b->moved = false; /* the events that follow it are applied after this */
    if (b->once)
        uv_stop(&b->loop); /* one frame: drawn once the loop has stopped */
}

static int on_apply(void *arg, const Hallbus__Envelope *env, const uint8_t *bytes, size_t len,
                    int64_t received_at)
{
    board_t *b = arg;
    b->moved = true; /* acted on in on_batch, not in the follower's midst */
    return 0;
}

static void on_batch(void *arg)
{
    board_t *b = arg;
    if (b->once)
        return;
    if (b->loaded) {
        b->loaded = false;
        draw(b, board_live(b));
    }
    hb_follower_t *f = hb_follow_sub_follower(b->follow);
    if (b->moved && f->state == HB_FOLLOW_LIVE) {
        b->moved = false;
        hb_follower_resync(f, "the hall moved on", hb_mono_us());
    }
}

static void on_synced(void *arg, bool synced)
{
    board_t *b = arg;
    if (!synced && !b->once && !board_live(b))
        draw(b, false);
}

/* --once: hall-queue said no; say so as hallctl does, and stop there */
static void on_refused(void *arg, Hallbus__StatusCode code, const char *message)
{
    board_t *b = arg;
    if (!b->once)
        return;
    tx_line(stderr, "hallctl: %s: %s", hb_status_name(code), message);
    uv_stop(&b->loop);
}

/* ── time and signals ── */

static void on_clock(uv_timer_t *t)
{
    board_t *b = t->data;
    if (b->once) {
        uv_stop(&b->loop); /* no snapshot within the time-out */
        return;
    }
    /* the first frame waits for the snapshot, or for the time-out */
    if (b->shown || hb_mono_us() - b->started_us >= (int64_t)b->ctl->timeout_ms * 1000)
        draw(b, board_live(b));
}

static void on_stop(void *arg)
{
    board_t *b = arg;
    uv_stop(&b->loop);
}

static int run(board_t *b)
{
    int sec_status;
    const hb_security_t *security = hc_security(b->ctl, &sec_status);
    if (sec_status != 0)
        return sec_status;
    uv_loop_init(&b->loop);
    b->ctx = zmq_ctx_new();
    hb_follow_sub_config_t fc = {.hall = b->hall,
                                 .bus_sub = b->ctl->bus_sub_endpoint,
                                 .command = b->ctl->command_endpoint,
                                 .actor = b->ctl->actor ? b->ctl->actor : HC_DEFAULT_ACTOR,
                                 .security = security,
                                 .mode = HB_FOLLOW_CLONE,
                                 .ttl_us = SILENCE_US,
                                 .snapshot_timeout_us = (int64_t)b->ctl->timeout_ms * 1000,
                                 .resync_min_us = REFETCH_MIN_US,
                                 .resync_max_us = REFETCH_MIN_US,
                                 .cb = {.load = on_load,
                                        .apply = on_apply,
                                        .synced = on_synced,
                                        .refused = on_refused,
                                        .batch = on_batch,
                                        .arg = b}};
    b->follow = b->ctx ? hb_follow_sub_new(&b->loop, b->ctx, &fc, 0) : NULL;
    int rc = HC_EXIT_OK;
    if (!b->follow) {
        tx_line(stderr, "hallctl: cannot connect to %s and %s", b->ctl->bus_sub_endpoint,
                b->ctl->command_endpoint);
        rc = HC_EXIT_USAGE;
    } else {
        uv_timer_init(&b->loop, &b->clock);
        b->clock.data = b;
        hb_signals_start(&b->signals, &b->loop, on_stop, b);
        b->started_us = hb_mono_us();
        uv_timer_start(&b->clock, on_clock, b->once ? (uint64_t)b->ctl->timeout_ms : CLOCK_MS,
                       b->once ? 0 : CLOCK_MS);
        if (b->tty && !b->once)
            fputs("\033[?25l", stdout);   /* hide the cursor */
        hb_follow_sub_start(b->follow);   /* subscribed first, then the snapshot */
        uv_run(&b->loop, UV_RUN_DEFAULT); /* until stopped */
        if (b->once) {
            if (b->shown) {
                draw(b, true);
            } else {
                tx_line(stderr, "hallctl: no answer from %s", b->ctl->command_endpoint);
                rc = HC_EXIT_UNREACHABLE;
            }
        } else if (b->tty) {
            fputs("\033[?25h\n", stdout);
        }
        uv_close((uv_handle_t *)&b->clock, NULL);
        hb_signals_close(&b->signals);
    }
    hb_follow_sub_close(&b->follow);
    uv_run(&b->loop, UV_RUN_DEFAULT); /* the handles' close callbacks */
    uv_loop_close(&b->loop);
    if (b->ctx)
        zmq_ctx_term(b->ctx);
    return rc;
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
    /* the follower follows one hall: without a hall file, the hall says which */
    const char *hall = hc_hall_id(ctl);
    if (!hall) {
        tx_line(stderr, "hallctl: no answer from %s", ctl->command_endpoint);
        return HC_EXIT_UNREACHABLE;
    }
    snprintf(b.hall, sizeof b.hall, "%s", hall);
    b.tty = isatty(STDOUT_FILENO);
    /* the follower's log lines would tear the board (and --once's output):
     * only what stops hallctl is said */
    hb_log_level_t level = hb_log_level;
    hb_log_level = HB_LOG_ERROR;
    rc = run(&b);
    hb_log_level = level;
    if (b.shown)
        hallbus__snapshot__free_unpacked(b.shown, NULL);
    return rc;
}
