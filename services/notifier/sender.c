/* Attempts: for each due message, resolve its contact at hall-queue (kept
 * in memory for the attempt only, never stored), wait for a token of the
 * contact's channel, send, and record the outcome in the outbox. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hallbus/clock.h"
#include "hallbus/envelope.h"
#include "hallbus/log.h"
#include "notifier.h"

struct attempt_s {
    notifier_t *n;
    nt_msg_t msg;
    char *contact;
    char masked[64];
    nt_channel_t ch;
    bool queued;
    uint64_t resolve_id;    /* the ResolveContact request in flight, 0 if none */
    attempt_t *prev, *next; /* in its channel's queue */
    UT_hash_handle hh;      /* in n->inflight, by msg.id */
    /* the command channel */
    uv_process_t proc;
    uv_pipe_t in;
    uv_timer_t kill_timer;
    uv_write_t write;
    char *body;
    int handles;
    int64_t exit_status;
    int term_signal;
    bool killed;
};

static double rnd(void)
{
    return (double)rand() / ((double)RAND_MAX + 1.0);
}

static void attempt_free(attempt_t *a)
{
    if (a->contact) {
        /* the contact lived only for this attempt */
        memset(a->contact, 0, strlen(a->contact));
        free(a->contact);
    }
    nt_msg_free(&a->msg);
    free(a->body);
    free(a);
}

static void attempt_release(attempt_t *a)
{
    notifier_t *n = a->n;
    HASH_DEL(n->inflight, a);
    n->inflight_count--;
    /* a ResolveContact still in flight finds no attempt when it ends */
    if (a->handles == 0)
        attempt_free(a);
}

static void finish(attempt_t *a, nt_outcome_t outcome, const char *error)
{
    notifier_t *n = a->n;
    const hb_note_kind_conf_t *k = &n->conf->kinds[a->msg.kind < HB_NOTE_KINDS ? a->msg.kind : 0];
    int64_t now = hb_now_us();
    uint32_t attempts = a->msg.attempts + 1;
    int64_t next_at = 0;
    nt_state_t state = nt_after_attempt(outcome, now, a->msg.deadline, attempts, k->first_retry_ms,
                                        k->max_retry_ms, rnd(), &next_at);
    const char *ch = a->contact ? nt_channel_name(a->ch) : NULL;
    nt_outbox_record(n->outbox, a->msg.id, state, attempts, next_at, ch,
                     state == NT_SENT ? NULL : error, now);
    nt_commit_soon(n);
    const char *kind = hb_note_kind_name(a->msg.kind);
    switch (state) {
    case NT_SENT:
        n->count.sent++;
        hb_info("sent %s for %s to %s by %s (id %lld, attempt %u, key %s)", kind, a->msg.ticket,
                a->masked, ch, (long long)a->msg.id, attempts, a->msg.key);
        break;
    case NT_PENDING:
        n->count.retried++;
        hb_warn("%s for %s to %s not delivered (attempt %u): %s; next try in %lld ms", kind,
                a->msg.ticket, a->masked, attempts, error, (long long)((next_at - now) / 1000));
        break;
    case NT_FAILED:
        n->count.failed++;
        hb_warn("%s for %s to %s failed for good (attempt %u): %s", kind, a->msg.ticket, a->masked,
                attempts, error);
        break;
    case NT_EXPIRED:
        n->count.expired++;
        hb_warn("%s for %s to %s expired after %u attempt(s): %s; its deadline has passed", kind,
                a->msg.ticket, a->masked, attempts, error);
        break;
    }
    attempt_release(a);
}

/* ── the channels ── */

static const hb_notify_channel_conf_t *chan_conf(notifier_t *n, nt_channel_t ch)
{
    return ch == NT_CH_WEBHOOK ? &n->conf->webhook
           : ch == NT_CH_SMS   ? &n->conf->sms
                               : &n->conf->command;
}

static void on_http_done(const nt_http_result_t *r, void *arg)
{
    attempt_t *a = arg;
    notifier_t *n = a->n;
    char why[300];
    if (r->curl_code != 0) {
        snprintf(why, sizeof why, "%s (curl %d after %.1f s)", r->error, r->curl_code, r->seconds);
        if (r->curl_code == 28)
            n->count.timeouts++;
        else if (r->curl_code == 7)
            n->count.unreachable++;
        else
            n->count.http_other++;
        finish(a, NT_TRANSIENT, why);
        return;
    }
    if (r->status >= 200 && r->status < 300) {
        finish(a, NT_DELIVERED, NULL);
        return;
    }
    snprintf(why, sizeof why, "the receiver answered HTTP %ld: %.80s", r->status, r->body);
    for (char *p = why; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    if (r->status >= 500 || r->status == 408 || r->status == 429) {
        n->count.http_5xx += r->status >= 500;
        n->count.http_other += r->status < 500;
        finish(a, NT_TRANSIENT, why);
    } else if (r->status >= 400) {
        n->count.http_4xx++;
        finish(a, NT_PERMANENT, why);
    } else {
        n->count.http_other++;
        finish(a, NT_TRANSIENT, why);
    }
}

static void send_http(attempt_t *a, const char *url, const char *to, const char *secret)
{
    notifier_t *n = a->n;
    int64_t now = hb_now_us();
    char *body = nt_payload_body(&a->msg, n->conf->language, to, a->msg.attempts + 1, now);
    if (!body) {
        finish(a, NT_TRANSIENT, "out of memory building the body");
        return;
    }
    char sig[128], id[NT_KEY_MAX + 32], idem[NT_KEY_MAX + 32], attempt[48];
    nt_sign(secret ? secret : "", body, strlen(body), sig, sizeof sig);
    char sig_header[160];
    snprintf(sig_header, sizeof sig_header, "X-Hallbus-Signature: %s", sig);
    snprintf(id, sizeof id, "X-Hallbus-Id: %s", a->msg.key);
    snprintf(idem, sizeof idem, "Idempotency-Key: %s", a->msg.key);
    snprintf(attempt, sizeof attempt, "X-Hallbus-Attempt: %u", a->msg.attempts + 1);
    const char *headers[] = {
        "Content-Type: application/json; charset=utf-8", sig_header, id, idem, attempt, NULL};
    int rc = nt_http_post(n->http, url, headers, body, strlen(body),
                          (long)n->conf->attempt_timeout_ms, on_http_done, a);
    free(body);
    if (rc != 0)
        finish(a, NT_TRANSIENT, "could not start the HTTP request");
}

static void on_cmd_closed(uv_handle_t *h)
{
    attempt_t *a = h->data;
    if (--a->handles == 0 && !a->n) /* released already */
        attempt_free(a);
}

static void cmd_close_all(attempt_t *a)
{
    uv_close((uv_handle_t *)&a->kill_timer, on_cmd_closed);
    uv_close((uv_handle_t *)&a->proc, on_cmd_closed);
    if (!uv_is_closing((uv_handle_t *)&a->in))
        uv_close((uv_handle_t *)&a->in, on_cmd_closed);
}

static void on_cmd_exit(uv_process_t *p, int64_t status, int term_signal)
{
    attempt_t *a = p->data;
    notifier_t *n = a->n;
    char why[160];
    uv_timer_stop(&a->kill_timer);
    if (status == 0 && term_signal == 0) {
        cmd_close_all(a);
        finish(a, NT_DELIVERED, NULL);
    } else {
        n->count.command_failed++;
        if (a->killed)
            snprintf(why, sizeof why, "the command took longer than %u ms and was killed",
                     n->conf->attempt_timeout_ms);
        else if (term_signal)
            snprintf(why, sizeof why, "the command died of signal %d", term_signal);
        else
            snprintf(why, sizeof why, "the command exited with status %lld", (long long)status);
        cmd_close_all(a);
        finish(a, NT_TRANSIENT, why);
    }
    a->n = NULL; /* from here only the close callbacks touch it */
}

static void on_cmd_timeout(uv_timer_t *t)
{
    attempt_t *a = t->data;
    a->killed = true;
    uv_process_kill(&a->proc, SIGKILL);
}

static void on_cmd_written(uv_write_t *w, int status)
{
    attempt_t *a = w->data;
    if (!uv_is_closing((uv_handle_t *)&a->in))
        uv_close((uv_handle_t *)&a->in, on_cmd_closed);
}

static void send_command(attempt_t *a)
{
    notifier_t *n = a->n;
    a->body = nt_payload_body(&a->msg, n->conf->language, NULL, a->msg.attempts + 1, hb_now_us());
    char env_contact[320], env_id[NT_KEY_MAX + 32], env_kind[48], env_path[1024];
    snprintf(env_contact, sizeof env_contact, "HALLBUS_CONTACT=%s", a->contact);
    snprintf(env_id, sizeof env_id, "HALLBUS_MESSAGE_ID=%s", a->msg.key);
    snprintf(env_kind, sizeof env_kind, "HALLBUS_KIND=%s", hb_note_kind_name(a->msg.kind));
    const char *path = getenv("PATH");
    snprintf(env_path, sizeof env_path, "PATH=%s", path ? path : "/usr/bin:/bin");
    char *env[] = {env_contact, env_id, env_kind, env_path, NULL};
    char *args[] = {n->conf->command.target, NULL};

    uv_pipe_init(n->loop, &a->in, 0);
    uv_timer_init(n->loop, &a->kill_timer);
    a->in.data = a->kill_timer.data = a->proc.data = a->write.data = a;
    a->handles = 3;
    uv_stdio_container_t stdio[3];
    stdio[0].flags = UV_CREATE_PIPE | UV_READABLE_PIPE;
    stdio[0].data.stream = (uv_stream_t *)&a->in;
    stdio[1].flags = UV_IGNORE;
    stdio[2].flags = UV_INHERIT_FD;
    stdio[2].data.fd = 2;
    uv_process_options_t o = {0};
    o.file = args[0];
    o.args = args;
    o.env = env;
    o.exit_cb = on_cmd_exit;
    o.stdio_count = 3;
    o.stdio = stdio;
    int rc = a->body ? uv_spawn(n->loop, &a->proc, &o) : UV_ENOMEM;
    if (rc != 0) {
        char why[300];
        snprintf(why, sizeof why, "cannot run %s: %s", args[0], uv_strerror(rc));
        n->count.command_failed++;
        cmd_close_all(a);
        finish(a, NT_TRANSIENT, why);
        a->n = NULL;
        return;
    }
    uv_timer_start(&a->kill_timer, on_cmd_timeout, n->conf->attempt_timeout_ms, 0);
    uv_buf_t buf = uv_buf_init(a->body, (unsigned)strlen(a->body));
    if (uv_write(&a->write, (uv_stream_t *)&a->in, &buf, 1, on_cmd_written) != 0)
        uv_close((uv_handle_t *)&a->in, on_cmd_closed);
}

static void start_send(attempt_t *a)
{
    notifier_t *n = a->n;
    n->count.attempts++;
    if (hb_now_us() >= a->msg.deadline) {
        finish(a, NT_TRANSIENT, "its deadline passed while it waited for the rate limit");
        return;
    }
    const hb_notify_channel_conf_t *c = chan_conf(n, a->ch);
    switch (a->ch) {
    case NT_CH_WEBHOOK:
        send_http(a, a->contact, NULL, c->secret);
        break;
    case NT_CH_SMS:
        send_http(a, c->target, a->contact, c->secret);
        break;
    default:
        send_command(a);
        break;
    }
}

static void pump(notifier_t *n, nt_channel_t ch);

static void on_chan_timer(uv_timer_t *t)
{
    notifier_t *n = t->loop->data;
    pump(n, (nt_channel_t)(uintptr_t)t->data);
}

static void pump(notifier_t *n, nt_channel_t ch)
{
    nt_chan_state_t *s = &n->chans[ch];
    while (s->head && !n->stopping) {
        int64_t now = hb_now_us();
        if (!nt_bucket_take(&s->bucket, now)) {
            int64_t wait = nt_bucket_wait_us(&s->bucket, now);
            uv_timer_start(&s->timer, on_chan_timer, (uint64_t)(wait + 999) / 1000, 0);
            return;
        }
        attempt_t *a = s->head;
        s->head = a->next;
        if (s->head)
            s->head->prev = NULL;
        else
            s->tail = NULL;
        a->next = NULL;
        a->queued = false;
        s->queued--;
        start_send(a);
    }
}

static void enqueue(notifier_t *n, attempt_t *a)
{
    nt_chan_state_t *s = &n->chans[a->ch];
    a->queued = true;
    a->prev = s->tail;
    if (s->tail)
        s->tail->next = a;
    else
        s->head = a;
    s->tail = a;
    if (++s->queued > 1)
        n->count.rate_delayed++;
    pump(n, a->ch);
}

static void sender_resolved(notifier_t *n, attempt_t *a, const Hallbus__Reply *reply,
                            const char *error)
{
    char why[300];
    if (!reply) {
        n->count.resolve_failed++;
        snprintf(why, sizeof why, "contact %s not resolved: %s", a->msg.contact_ref, error);
        finish(a, NT_TRANSIENT, why);
        return;
    }
    if (reply->code != HALLBUS__STATUS_CODE__OK ||
        reply->result_case != HALLBUS__REPLY__RESULT_CONTACT || !reply->contact->contact ||
        !*reply->contact->contact) {
        n->count.resolve_failed++;
        snprintf(why, sizeof why, "hall-queue cannot resolve contact %s: %s %s", a->msg.contact_ref,
                 hb_status_name(reply->code), reply->message ? reply->message : "");
        bool hopeless = reply->code == HALLBUS__STATUS_CODE__NOT_FOUND ||
                        reply->code == HALLBUS__STATUS_CODE__PERMISSION_DENIED ||
                        reply->code == HALLBUS__STATUS_CODE__OK;
        finish(a, hopeless ? NT_PERMANENT : NT_TRANSIENT, why);
        return;
    }
    a->contact = strdup(reply->contact->contact);
    if (!a->contact) {
        finish(a, NT_TRANSIENT, "out of memory");
        return;
    }
    a->ch = nt_contact_channel(a->contact);
    nt_mask_contact(a->contact, a->masked, sizeof a->masked);
    const hb_notify_channel_conf_t *c = chan_conf(n, a->ch);
    if (!c->enabled) {
        snprintf(why, sizeof why, "no %s channel is configured (notifier.%s) for contact %s",
                 nt_channel_name(a->ch), nt_channel_name(a->ch), a->masked);
        finish(a, NT_PERMANENT, why);
        return;
    }
    if (a->ch == NT_CH_WEBHOOK && strncmp(a->contact, c->target, strlen(c->target)) != 0) {
        snprintf(why, sizeof why, "webhook %s is not under notifier.webhook.allow", a->masked);
        finish(a, NT_PERMANENT, why);
        return;
    }
    enqueue(n, a);
}

/* What a ResolveContact request needs to find its attempt again: the
 * attempt may be gone (released, or the daemon stopping) when it ends. */
typedef struct {
    notifier_t *n;
    int64_t msg_id;
    uint64_t request_id;
} resolve_ctx_t;

static void on_resolved(hb_client_t *c, hb_client_outcome_t outcome, ProtobufCMessage *reply,
                        void *arg)
{
    resolve_ctx_t ctx = *(resolve_ctx_t *)arg;
    free(arg);
    if (outcome == HB_CLIENT_CANCELLED)
        return;
    attempt_t *a;
    HASH_FIND(hh, ctx.n->inflight, &ctx.msg_id, sizeof ctx.msg_id, a);
    if (!a || a->resolve_id != ctx.request_id)
        return; /* given up on; perhaps a later attempt of the same message is under way */
    a->resolve_id = 0;
    if (outcome == HB_CLIENT_REPLY)
        sender_resolved(ctx.n, a, (const Hallbus__Reply *)reply, NULL);
    else
        sender_resolved(ctx.n, a, NULL,
                        outcome == HB_CLIENT_TIMEOUT ? "hall-queue did not answer in time"
                                                     : "hall-queue's reply does not decode");
}

static void resolve(notifier_t *n, attempt_t *a)
{
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    Hallbus__ResolveContact rc = HALLBUS__RESOLVE_CONTACT__INIT;
    rc.contact_ref = a->msg.contact_ref;
    req.command_case = HALLBUS__REQUEST__COMMAND_RESOLVE_CONTACT;
    req.resolve_contact = &rc;
    req.hall_id = n->config->hall.id;
    req.actor = "hall-notifier";
    resolve_ctx_t *ctx = malloc(sizeof *ctx);
    if (ctx) {
        *ctx = (resolve_ctx_t){n, a->msg.id, 0};
        a->resolve_id =
            hb_client_send(n->queue, &req.base, n->conf->resolve_timeout_ms, on_resolved, ctx);
        ctx->request_id = a->resolve_id;
        if (a->resolve_id)
            return;
        free(ctx);
    }
    sender_resolved(n, a, NULL, "hall-queue is not reachable");
}

static bool in_flight(void *arg, int64_t id)
{
    notifier_t *n = arg;
    attempt_t *a;
    HASH_FIND(hh, n->inflight, &id, sizeof id, a);
    return a != NULL;
}

void nt_sender_scan(notifier_t *n)
{
    if (n->stopping)
        return;
    int64_t now = hb_now_us();
    int expired = nt_outbox_expire(n->outbox, now);
    if (expired > 0) {
        n->count.expired += (unsigned long)expired;
        hb_warn("%d message(s) expired before they could be sent (their deadline passed)", expired);
    }
    /* committed before any attempt */
    if (nt_commit(n) != 0)
        return;
    int room = NT_INFLIGHT_MAX - (int)n->inflight_count;
    if (room <= 0)
        return;
    static nt_msg_t due[NT_INFLIGHT_MAX];
    int count = nt_outbox_due(n->outbox, now, due, room, in_flight, n);
    for (int i = 0; i < count; i++) {
        attempt_t *a = calloc(1, sizeof *a);
        if (!a) {
            nt_msg_free(&due[i]);
            continue;
        }
        a->n = n;
        a->msg = due[i];
        snprintf(a->masked, sizeof a->masked, "contact %s", a->msg.contact_ref);
        HASH_ADD(hh, n->inflight, msg.id, sizeof a->msg.id, a);
        n->inflight_count++;
        resolve(n, a);
    }
}

void nt_sender_init(notifier_t *n)
{
    int64_t now = hb_now_us();
    for (int ch = 0; ch < NT_CHANNELS; ch++) {
        const hb_notify_channel_conf_t *c = chan_conf(n, (nt_channel_t)ch);
        nt_bucket_init(&n->chans[ch].bucket, c->rate, c->burst, now);
        uv_timer_init(n->loop, &n->chans[ch].timer);
        n->chans[ch].timer.data = (void *)(uintptr_t)ch;
    }
}

void nt_sender_stop(notifier_t *n)
{
    for (int ch = 0; ch < NT_CHANNELS; ch++)
        uv_close((uv_handle_t *)&n->chans[ch].timer, NULL);
    attempt_t *a, *tmp;
    HASH_ITER(hh, n->inflight, a, tmp)
    {
        HASH_DEL(n->inflight, a);
        n->inflight_count--;
        if (a->handles > 0) {
            /* a command still running: it is killed; its message stays pending */
            if (!a->killed && !uv_is_closing((uv_handle_t *)&a->proc))
                uv_process_kill(&a->proc, SIGKILL);
            if (a->n) {
                cmd_close_all(a);
                a->n = NULL;
            }
            continue;
        }
        attempt_free(a);
    }
}
