/* hallctl notify status | notify retry: hall-notifier's outbox, asked of
 * hall-notifier on its query endpoint (notifier.query); the daemon that
 * owns the outbox reads and changes it. */
#ifndef HALLCTL_CMD_NOTIFY_H
#define HALLCTL_CMD_NOTIFY_H

#include "hallctl.h"

int cmd_notify_status(hallctl_t *ctl, int argc, char **argv);
int cmd_notify_retry(hallctl_t *ctl, int argc, char **argv);

#endif
