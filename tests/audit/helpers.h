/* What the unit tests of hall-audit share: envelopes built by hand. */
#ifndef HALLBUS_TEST_AUDIT_HELPERS_H
#define HALLBUS_TEST_AUDIT_HELPERS_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hallbus.pb-c.h"

typedef struct {
    uint8_t *data;
    size_t len;
} packed_t;

/* A ticket.issued of HALL with SEQ for ticket NUMBER, packed (caller frees data). */
static inline packed_t pack_issued(const char *hall, uint64_t seq, const char *number)
{
    Hallbus__Ticket t = HALLBUS__TICKET__INIT;
    t.number = (char *)number;
    t.service = (char[2]){number[0], 0};
    t.business_date = "2026-11-20";
    t.issued_at = 1795161600000000LL + (int64_t)seq * 1000000;
    Hallbus__TicketIssued ti = HALLBUS__TICKET_ISSUED__INIT;
    ti.ticket = &t;
    Hallbus__Envelope env = HALLBUS__ENVELOPE__INIT;
    env.hall_id = (char *)hall;
    env.seq = seq;
    env.source = "test";
    env.ts = t.issued_at;
    env.event_case = HALLBUS__ENVELOPE__EVENT_TICKET_ISSUED;
    env.ticket_issued = &ti;
    packed_t p;
    p.len = hallbus__envelope__get_packed_size(&env);
    p.data = malloc(p.len);
    hallbus__envelope__pack(&env, p.data);
    return p;
}

static inline Hallbus__Envelope *unpack(packed_t p)
{
    return hallbus__envelope__unpack(NULL, p.len, p.data);
}

#endif
