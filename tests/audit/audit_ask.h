/* What the end-to-end tests of hall-audit share: one query over the wire. */
#ifndef HALLBUS_TEST_AUDIT_ASK_H
#define HALLBUS_TEST_AUDIT_ASK_H

#include "audit.pb-c.h"
#include "fixture.h"

/* Sends REQ to hall-audit's query ENDPOINT through the common blocking
 * client (hb_rpc_call_msg) with the fixture's key (FX's context); its reply
 * (caller frees with hallbus__audit_reply__free_unpacked), or NULL when it
 * does not answer within a second. */
Hallbus__AuditReply *audit_ask(hb_fixture_t *fx, const char *endpoint, Hallbus__AuditRequest *req);

#endif
