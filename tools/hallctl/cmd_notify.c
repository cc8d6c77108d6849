/* hallctl notify: hall-notifier's outbox, asked of hall-notifier on its
 * query endpoint (notifier.query); hallctl never opens the outbox file. */
#include "cmd_notify.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hallbus/envelope.h"
#include "hallbus/pb_json.h"
#include "hallbus/rpc_client.h"
#include "notifier.pb-c.h"

/* Sends REQ to hall-notifier's query endpoint. The reply (the caller frees
 * it), or NULL with *STATUS set and the reason said. */
static Hallbus__NotifyReply *ask_notifier(hallctl_t *ctl, Hallbus__NotifyRequest *req, int *status)
{
    *status = hc_resolve(ctl);
    if (*status != 0)
        return NULL;
    if (!ctl->config) {
        *status = hc_usage_error(ctl, "notify needs the hall file (-c or $HALLBUS_CONFIG)");
        return NULL;
    }
    const char *endpoint = ctl->config->notifier.query;
    hb_rpc_t *rpc = hc_rpc_new(ctl, endpoint, "hall-notifier", status);
    if (!rpc)
        return NULL;
    char err[256];
    ProtobufCMessage *r =
        hb_rpc_call_msg(rpc, &req->base, &hallbus__notify_reply__descriptor, err, sizeof err);
    hb_rpc_destroy(&rpc);
    if (!r) {
        fprintf(stderr, "hallctl: hall-notifier at %s: %s\n", endpoint, err);
        *status = HC_EXIT_UNREACHABLE;
        return NULL;
    }
    Hallbus__NotifyReply *reply = (Hallbus__NotifyReply *)r;
    if (reply->code != HALLBUS__STATUS_CODE__OK) {
        fprintf(stderr, "hallctl: %s: %s\n", hb_status_name(reply->code),
                reply->message ? reply->message : "");
        hallbus__notify_reply__free_unpacked(reply, NULL);
        *status = HC_EXIT_REFUSED;
        return NULL;
    }
    return reply;
}

static void fmt_time(int64_t us, char *out, size_t len)
{
    if (us <= 0) {
        snprintf(out, len, "-");
        return;
    }
    time_t t = (time_t)(us / 1000000);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(out, len, "%H:%M:%S", &tm);
}

int cmd_notify_status(hallctl_t *ctl, int argc, char **argv)
{
    static const hc_opt_t opts[] = {
        {"all", false, HC_OPT_FIRST}, {"limit", true, HC_OPT_FIRST + 1}, {NULL, false, 0}};
    hc_getopt_t g;
    hc_getopt_init(&g, ctl, argc, argv, opts, false);
    bool all = false;
    long limit = 20;
    const char *arg;
    int id, status;
    while ((id = hc_getopt(&g, &arg)) > 0) {
        if (id == HC_OPT_FIRST)
            all = true;
        else if (hc_parse_count(ctl, "--limit", arg, 1, 100000, &limit) != 0)
            return HC_EXIT_USAGE;
    }
    if (id < 0)
        return g.status;
    if ((status = hc_want_args(&g, 0, "")) != 0)
        return status;
    Hallbus__NotifyRequest req = HALLBUS__NOTIFY_REQUEST__INIT;
    Hallbus__NotifyStatusQuery q = HALLBUS__NOTIFY_STATUS_QUERY__INIT;
    q.all = all;
    q.limit = (uint32_t)limit;
    req.query_case = HALLBUS__NOTIFY_REQUEST__QUERY_STATUS;
    req.status = &q;
    Hallbus__NotifyReply *reply = ask_notifier(ctl, &req, &status);
    if (!reply)
        return status;
    Hallbus__NotifyStatus empty = HALLBUS__NOTIFY_STATUS__INIT;
    Hallbus__NotifyStatus st = reply->status ? *reply->status : empty;
    size_t n = st.n_entries;
    Hallbus__NotifyOutboxEntry **ptrs = st.entries;
    if (ctl->json) {
        json_t *doc = hb_pb_to_json(&st.base);
        char *text = json_dumps(doc, JSON_COMPACT);
        printf("%s\n", text ? text : "{}");
        free(text);
        json_decref(doc);
    } else {
        printf("outbox of hall-notifier at %s: %u pending, %u sent, %u failed, %u expired; at hall "
               "event %llu\n",
               ctl->config->notifier.query, st.pending, st.sent, st.failed, st.expired,
               (unsigned long long)st.cursor_seq);
        if (n)
            printf("%-6s %-9s %-6s %-8s %-8s %-8s %-8s %s\n", "ID", "KIND", "TICKET", "STATE",
                   "TRIES", "EVENT", "NEXT", "LAST ERROR");
        for (size_t i = 0; i < n; i++) {
            Hallbus__NotifyOutboxEntry *e = ptrs[i];
            char ev[16], next[16];
            fmt_time(e->event_ts, ev, sizeof ev);
            fmt_time(strcmp(e->state, "pending") == 0 ? e->next_at : 0, next, sizeof next);
            printf("%-6lld %-9s %-6s %-8s %-8u %-8s %-8s %s\n", (long long)e->id, e->kind,
                   e->ticket, e->state, e->attempts, ev, next, e->last_error);
        }
    }
    hallbus__notify_reply__free_unpacked(reply, NULL);
    return HC_EXIT_OK;
}

int cmd_notify_retry(hallctl_t *ctl, int argc, char **argv)
{
    static const hc_opt_t opts[] = {{"all-failed", false, HC_OPT_FIRST}, {NULL, false, 0}};
    hc_getopt_t g;
    hc_getopt_init(&g, ctl, argc, argv, opts, false);
    const char *arg;
    bool all_failed = false;
    int opt, status;
    while ((opt = hc_getopt(&g, &arg)) > 0)
        all_failed = true;
    if (opt < 0)
        return g.status;
    if (all_failed && g.npos != 0)
        return hc_usage_error(ctl, "either ID... or --all-failed, not both");
    if (!all_failed && g.npos == 0)
        return hc_usage_error(ctl, "which message? (ID..., or --all-failed)");
    int64_t *ids = calloc((size_t)g.npos + 1, sizeof *ids);
    if (!ids)
        return HC_EXIT_UNREACHABLE;
    for (int i = 0; i < g.npos; i++) {
        long id;
        if (hc_parse_count(ctl, "ID", g.pos[i], 1, 0x7fffffffL, &id) != 0) {
            free(ids);
            return HC_EXIT_USAGE;
        }
        ids[i] = id;
    }
    Hallbus__NotifyRequest req = HALLBUS__NOTIFY_REQUEST__INIT;
    Hallbus__NotifyRetryQuery q = HALLBUS__NOTIFY_RETRY_QUERY__INIT;
    q.all_failed = all_failed;
    q.n_ids = (size_t)g.npos;
    q.ids = ids;
    req.query_case = HALLBUS__NOTIFY_REQUEST__QUERY_RETRY;
    req.retry = &q;
    Hallbus__NotifyReply *reply = ask_notifier(ctl, &req, &status);
    free(ids);
    if (!reply)
        return status;
    if (ctl->json)
        printf("{\"retried\":%u}\n", reply->retried);
    else if (reply->retried)
        printf("%u message(s) pending again; hall-notifier sends them at its next scan\n",
               reply->retried);
    else
        printf("no message to retry\n");
    hallbus__notify_reply__free_unpacked(reply, NULL);
    return HC_EXIT_OK;
}
