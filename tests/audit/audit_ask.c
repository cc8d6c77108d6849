#include "audit_ask.h"

#include "hallbus/rpc_client.h"

Hallbus__AuditReply *audit_ask(void *ctx, const char *endpoint, Hallbus__AuditRequest *req)
{
    hb_rpc_t *rpc = hb_rpc_new(ctx, endpoint, 1000);
    if (!rpc)
        return NULL;
    char err[256];
    ProtobufCMessage *r =
        hb_rpc_call_msg(rpc, &req->base, &hallbus__audit_reply__descriptor, err, sizeof err);
    hb_rpc_destroy(&rpc);
    return (Hallbus__AuditReply *)r;
}
