/* What the hall keeps from everyone but the citizen it belongs to: each
 * ticket's own token (for GetMyTicket, never its guessable number), and the
 * retention of contacts, deleted a small batch at a time off the hot path. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hall.h"
#include "hall_events.h"
#include "hallbus/log.h"

#define TOKEN_BYTES 32
#define US_PER_DAY (86400LL * 1000000)

void hall_new_token(char out[HALL_TOKEN_LEN])
{
    if (sodium_init() < 0) { /* no entropy source: no safe token can be made */
        hb_error("libsodium cannot start; stopping rather than issue guessable tokens");
        abort();
    }
    unsigned char raw[TOKEN_BYTES];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(out, HALL_TOKEN_LEN, raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
}

int hall_my_ticket(hall_t *self, const char *token, ticket_t **out, hall_err_t *err)
{
    *out = NULL;
    size_t len = token ? strlen(token) : 0;
    if (len == 0)
        return hall_refuse(err, HALLBUS__STATUS_CODE__INVALID_ARGUMENT,
                           "no token given: it is printed with the ticket (its QR code)");
    ticket_t *t = NULL;
    if (len < HALL_TOKEN_LEN)
        HASH_FIND(hh_token, self->by_token, token, len, t);
    if (t) {
        *out = t;
        return HALLBUS__STATUS_CODE__OK;
    }
    char date[HB_DATE_LEN];
    if (len < HALL_TOKEN_LEN && hall_store_token_date(self->store, token, date, sizeof date) == 0)
        return hall_refuse(err, HALLBUS__STATUS_CODE__NOT_FOUND,
                           "this ticket was for %s; a ticket is only valid on its day", date);
    return hall_refuse(err, HALLBUS__STATUS_CODE__NOT_FOUND,
                       "no ticket has this token; check that it was copied whole");
}

unsigned hall_purge_contacts(hall_t *self, int64_t now, unsigned batch)
{
    int64_t before = now - (int64_t)self->config->queue.contact_retention_days * US_PER_DAY;
    hall_events_begin(self);
    int n = hall_store_purge_contacts(self->store, before, batch);
    if (n < 0) {
        hall_store_failed(self, "the deletion of old contacts");
        return 0;
    }
    if (n > 0)
        hb_debug("deleted %d contact(s) older than %u days", n,
                 self->config->queue.contact_retention_days);
    return (unsigned)n;
}
