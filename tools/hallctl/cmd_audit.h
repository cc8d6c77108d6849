/* hallctl's audit and report commands (cmd_audit.c, cmd_report.c), and
 * what they share to query hall-audit (cmd_audit.c, over the common
 * blocking client, hallbus/rpc_client.h). */
#ifndef HALLCTL_CMD_AUDIT_H
#define HALLCTL_CMD_AUDIT_H

#include "audit.pb-c.h"
#include "hallctl.h"

int cmd_audit_tail(hallctl_t *ctl, int argc, char **argv);
int cmd_audit_ticket(hallctl_t *ctl, int argc, char **argv);
int cmd_audit_day(hallctl_t *ctl, int argc, char **argv);
int cmd_audit_verify(hallctl_t *ctl, int argc, char **argv);
int cmd_audit_export(hallctl_t *ctl, int argc, char **argv);
int cmd_report(hallctl_t *ctl, int argc, char **argv);

#define HC_DEFAULT_AUDIT_QUERY "tcp://127.0.0.1:5560"
#define HC_DEFAULT_AUDIT_PUBLISH "tcp://127.0.0.1:5561"

typedef struct ac_s ac_t;

/* Connects to hall-audit's query endpoint: ENDPOINT, else the hall file's
 * audit.query, else the default. NULL with a message on stderr. */
ac_t *ac_new(hallctl_t *ctl, const char *endpoint);
void ac_destroy(ac_t **self);
/* Sends REQ (hb_rpc_call_msg) and waits; the reply is the caller's
 * (hallbus__audit_reply__free_unpacked). NULL after saying why on stderr (*STATUS:
 * HC_EXIT_UNREACHABLE). A reply whose code is not OK is reported and freed (*STATUS:
 * HC_EXIT_REFUSED). */
Hallbus__AuditReply *ac_call(ac_t *self, Hallbus__AuditRequest *req, int *status);

/* The business date today for the hall file's rollover (or midnight). */
void ac_today(hallctl_t *ctl, char out[11]);

#endif
