/* hallctl notify status | notify retry ID: hall-notifier's outbox, read
 * and changed in its SQLite file (the daemon picks a retried message up at
 * its next scan of the outbox). */
#ifndef HALLCTL_CMD_NOTIFY_H
#define HALLCTL_CMD_NOTIFY_H

#include "hallctl.h"

int cmd_notify_status(hallctl_t *ctl, int argc, char **argv);
int cmd_notify_retry(hallctl_t *ctl, int argc, char **argv);

#endif
