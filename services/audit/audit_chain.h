/* The hash chain of the audit store: the layout of a record's hash (see
 * audit_store.h for the words). Pure: no storage, no allocation. */
#ifndef HALLBUS_AUDIT_CHAIN_H
#define HALLBUS_AUDIT_CHAIN_H

#include <stddef.h>
#include <stdint.h>

#define AUDIT_HASH_LEN 32

/* The hash of a record from its fields into OUT (exposed for tests and for
 * verify). REASON may be NULL (""). */
void audit_record_hash(const uint8_t prev[AUDIT_HASH_LEN], const char *hall, uint64_t seq,
                       uint64_t seq_to, int type, int64_t received_at, const char *kind,
                       const char *reason, const uint8_t *bytes, size_t len,
                       uint8_t out[AUDIT_HASH_LEN]);

#endif
