/* What the hall keeps from everyone but the citizen it belongs to: each
 * ticket's own token (for GetMyTicket, never its guessable number), and the
 * retention of contacts, deleted a small batch at a time off the hot path. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hall.h"
#include "hall_events.h"
#include "hallbus/log.h"

#define TOKEN_BYTES 32
#define US_PER_DAY (86400LL * 1000000)

/* A token is 4 bytes of its business day (days since 1970, big-endian) and
 * 28 random ones (224 bits: not guessable), so that a token of another day
 * is told apart without keeping an index of every token ever issued. */
static uint32_t day_number(const char *date)
{
    struct tm tm = {0};
    if (!date || !strptime(date, "%Y-%m-%d", &tm))
        return 0;
    return (uint32_t)(timegm(&tm) / 86400);
}

void hall_new_token(const char *business_date, char out[HALL_TOKEN_LEN])
{
    if (sodium_init() < 0) { /* no entropy source: no safe token can be made */
        hb_error("libsodium cannot start; stopping rather than issue guessable tokens");
        abort();
    }
    unsigned char raw[TOKEN_BYTES];
    uint32_t day = day_number(business_date);
    for (int i = 0; i < 4; i++)
        raw[i] = (unsigned char)(day >> (24 - 8 * i));
    randombytes_buf(raw + 4, sizeof raw - 4);
    sodium_bin2base64(out, HALL_TOKEN_LEN, raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
}

/* The business day TOKEN was issued on, into DATE; -1 if it is no token. */
static int token_day(const char *token, size_t len, char date[HB_DATE_LEN])
{
    unsigned char raw[TOKEN_BYTES];
    size_t n = 0;
    if (sodium_base642bin(raw, sizeof raw, token, len, NULL, &n, NULL,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        n != TOKEN_BYTES)
        return -1;
    time_t at = (time_t)(((uint32_t)raw[0] << 24 | (uint32_t)raw[1] << 16 | (uint32_t)raw[2] << 8 |
                          raw[3])) *
                86400;
    struct tm tm;
    gmtime_r(&at, &tm);
    strftime(date, HB_DATE_LEN, "%Y-%m-%d", &tm);
    return 0;
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
    if (len < HALL_TOKEN_LEN && token_day(token, len, date) == 0 &&
        strcmp(date, self->business_date) != 0)
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
