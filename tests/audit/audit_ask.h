/* What the end-to-end tests of hall-audit share: one query over the wire. */
#ifndef HALLBUS_TEST_AUDIT_ASK_H
#define HALLBUS_TEST_AUDIT_ASK_H

#include <stdbool.h>
#include <stdint.h>

#include "audit.pb-c.h"
#include "fixture.h"

/* Sends REQ to hall-audit's query ENDPOINT through the common blocking
 * client (hb_rpc_call_msg) with the fixture's key (FX's context); its reply
 * (caller frees with hallbus__audit_reply__free_unpacked), or NULL when it
 * does not answer within a second. */
Hallbus__AuditReply *audit_ask(hb_fixture_t *fx, const char *endpoint, Hallbus__AuditRequest *req);

/* One page of hall HALL's history: up to MAX records after record
 * AFTER_ID. As audit_ask. */
Hallbus__AuditReply *audit_history(hb_fixture_t *fx, const char *endpoint, const char *hall,
                                   uint64_t after_id, uint32_t max);

/* What hall-audit's stats say: the last seq of the first hall, the last
 * record id, the gap and rejected records. */
typedef struct {
    uint64_t last_seq, last_id, gaps, rejected;
} audit_stats_t;

/* Asks hall-audit at ENDPOINT for its stats into *OUT; false when it does
 * not answer. */
bool audit_stats(hb_fixture_t *fx, const char *endpoint, audit_stats_t *out);

/* The hall's last sequence, from a GetStatus through FX; asserts it answers. */
uint64_t audit_queue_seq(hb_fixture_t *fx);

#endif
