#include "audit_ask.h"

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
