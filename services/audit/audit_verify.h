/* Verifying the audit store (audit_verify.c): reads only. */
#ifndef HALLBUS_AUDIT_VERIFY_H
#define HALLBUS_AUDIT_VERIFY_H

#include <stddef.h>

#include "audit.pb-c.h"

typedef struct audit_store_s audit_store_t;

/* Walks the chain of HALL (NULL or "": every hall) and fills OUT; its
 * `problem` names the first record that was changed, removed or reordered.
 * Returns 0 when intact, 1 on a break, -1 on a storage error. */
int audit_store_verify(audit_store_t *self, const char *hall, Hallbus__AuditVerifyResult *out,
                       char *problem, size_t problem_len);

#endif
