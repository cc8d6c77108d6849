/* The index columns kept beside an event for queries: derived from the
 * envelope, not hashed; verify checks them against the envelope. */
#ifndef HALLBUS_AUDIT_INDEX_H
#define HALLBUS_AUDIT_INDEX_H

#include <stdint.h>

#include "hallbus.pb-c.h"

typedef struct {
    char bdate[11];
    char ticket[16];
    uint32_t window;
    char staff[64];
} audit_index_t;
/* Fills OUT from ENV; a record without a business date of its own gets the
 * one of its time stamp (ROLLOVER_MINUTE: see hb_business_date). */
void audit_index_of(const Hallbus__Envelope *env, uint32_t rollover_minute, audit_index_t *out);

#endif
