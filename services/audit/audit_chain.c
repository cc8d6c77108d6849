/* The hash chain: a record's hash, and each hall's head (the hash the next
 * record chains from and the seq it covers) kept in the store's memory. */
#include "audit_chain.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_store_internal.h"
#include "hallbus/db.h"

#define HASH_DOMAIN "hallbus-audit-v1"

static void put_u64(crypto_hash_sha256_state *st, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (56 - 8 * i));
    crypto_hash_sha256_update(st, b, 8);
}

static void put_str(crypto_hash_sha256_state *st, const char *s)
{
    crypto_hash_sha256_update(st, (const uint8_t *)s, strlen(s) + 1);
}

void audit_record_hash(const uint8_t prev[AUDIT_HASH_LEN], const char *hall, uint64_t seq,
                       uint64_t seq_to, int type, int64_t received_at, const char *kind,
                       const char *reason, const uint8_t *bytes, size_t len,
                       uint8_t out[AUDIT_HASH_LEN])
{
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, prev, AUDIT_HASH_LEN);
    put_str(&st, HASH_DOMAIN);
    put_str(&st, hall);
    put_u64(&st, seq);
    put_u64(&st, seq_to);
    uint8_t t = (uint8_t)type;
    crypto_hash_sha256_update(&st, &t, 1);
    put_u64(&st, (uint64_t)received_at);
    put_str(&st, kind);
    put_str(&st, reason ? reason : "");
    put_u64(&st, len);
    if (len)
        crypto_hash_sha256_update(&st, bytes, len);
    crypto_hash_sha256_final(&st, out);
}

chain_t *audit_chain_find(audit_store_t *self, const char *hall, bool create)
{
    for (size_t i = 0; i < self->nchains; i++)
        if (strcmp(self->chains[i].hall, hall) == 0)
            return &self->chains[i];
    if (!create)
        return NULL;
    if (self->nchains == self->capchains) {
        size_t cap = self->capchains ? self->capchains * 2 : 8;
        chain_t *c = realloc(self->chains, cap * sizeof *c);
        if (!c)
            return NULL;
        self->chains = c;
        self->capchains = cap;
    }
    chain_t *c = &self->chains[self->nchains++];
    memset(c, 0, sizeof *c);
    snprintf(c->hall, sizeof c->hall, "%s", hall);
    /* an anchor, if retention or an export left one */
    sqlite3_stmt *st = hb_db_prepare(self->db, "SELECT prev_hash FROM anchors WHERE hall = ?");
    if (st) {
        sqlite3_bind_text(st, 1, hall, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) == AUDIT_HASH_LEN)
            memcpy(c->last_hash, sqlite3_column_blob(st, 0), AUDIT_HASH_LEN);
        sqlite3_finalize(st);
    }
    return c;
}

/* Each hall's head: the hash of its latest record and the seq it covers. */
int audit_chain_load(audit_store_t *self)
{
    self->nchains = 0;
    sqlite3_stmt *st = hb_db_prepare(
        self->db, "SELECT r.hall, r.hash, r.type, r.seq, r.seq_to FROM records r"
                  " JOIN (SELECT hall, max(id) AS id FROM records GROUP BY hall) m ON r.id = m.id");
    if (!st)
        return -1;
    while (sqlite3_step(st) == SQLITE_ROW) {
        chain_t *c = audit_chain_find(self, hb_db_column_text(st, 0), true);
        if (!c)
            break;
        if (sqlite3_column_bytes(st, 1) == AUDIT_HASH_LEN)
            memcpy(c->last_hash, sqlite3_column_blob(st, 1), AUDIT_HASH_LEN);
    }
    sqlite3_finalize(st);
    /* the seq covered: the highest event seq or gap end */
    st = hb_db_prepare(self->db, "SELECT hall, max(CASE type WHEN 1 THEN seq_to ELSE seq END)"
                                 " FROM records WHERE type IN (0, 1) GROUP BY hall");
    if (!st)
        return -1;
    while (sqlite3_step(st) == SQLITE_ROW) {
        chain_t *c = audit_chain_find(self, hb_db_column_text(st, 0), true);
        if (c)
            c->last_seq = (uint64_t)sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    st = hb_db_prepare(self->db, "SELECT coalesce(max(id), 0) FROM records");
    if (!st)
        return -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        self->last_id = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return 0;
}
