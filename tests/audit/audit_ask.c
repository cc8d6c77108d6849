#include "audit_ask.h"

#include <criterion/criterion.h>

#include "hallbus/rpc_client.h"

Hallbus__AuditReply *audit_ask(hb_fixture_t *fx, const char *endpoint, Hallbus__AuditRequest *req)
{
    hb_rpc_t *rpc = hb_fixture_rpc(fx, endpoint, "hall-audit", NULL, 1000);
    if (!rpc)
        return NULL;
    char err[256];
    ProtobufCMessage *r =
        hb_rpc_call_msg(rpc, &req->base, &hallbus__audit_reply__descriptor, err, sizeof err);
    hb_rpc_destroy(&rpc);
    return (Hallbus__AuditReply *)r;
}

bool audit_stats(hb_fixture_t *fx, const char *endpoint, audit_stats_t *out)
{
    Hallbus__AuditRequest req = HALLBUS__AUDIT_REQUEST__INIT;
    Hallbus__AuditStatsQuery q = HALLBUS__AUDIT_STATS_QUERY__INIT;
    req.query_case = HALLBUS__AUDIT_REQUEST__QUERY_STATS;
    req.stats = &q;
    Hallbus__AuditReply *r = audit_ask(fx, endpoint, &req);
    bool ok = r && r->stats;
    if (ok) {
        out->last_seq = r->stats->n_last_seq ? r->stats->last_seq[0] : 0;
        out->last_id = r->stats->last_id;
        out->gaps = r->stats->gaps;
        out->rejected = r->stats->rejected;
    }
    if (r)
        hallbus__audit_reply__free_unpacked(r, NULL);
    return ok;
}

uint64_t audit_queue_seq(hb_fixture_t *fx)
{
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    Hallbus__GetStatus gs = HALLBUS__GET_STATUS__INIT;
    req.command_case = HALLBUS__REQUEST__COMMAND_GET_STATUS;
    req.get_status = &gs;
    Hallbus__Reply *r = hb_fixture_call(fx, &req);
    cr_assert_not_null(r);
    uint64_t seq = r->status->seq;
    hallbus__reply__free_unpacked(r, NULL);
    return seq;
}

Hallbus__AuditReply *audit_history(hb_fixture_t *fx, const char *endpoint, const char *hall,
                                   uint64_t after_id, uint32_t max)
{
    Hallbus__AuditRequest req = HALLBUS__AUDIT_REQUEST__INIT;
    Hallbus__AuditHistory q = HALLBUS__AUDIT_HISTORY__INIT;
    q.hall_id = (char *)hall;
    q.after_id = after_id;
    q.max = max;
    req.query_case = HALLBUS__AUDIT_REQUEST__QUERY_HISTORY;
    req.history = &q;
    return audit_ask(fx, endpoint, &req);
}
