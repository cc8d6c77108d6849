/* Which key roles may run each command of hall-queue: the one table.
 *
 * The roles are those of the hall's allow-list (SECURITY-PLAN.md): kiosk,
 * counter, display, audit, notifier, supervisor, operator, plus queue and
 * bus (daemons' own keys, which run no commands). hall-queue asks
 * queue_role_may with the role of the key a request came from, never with
 * anything the client wrote in the request. */
#ifndef HALLBUS_QUEUE_COMMAND_ROLES_H
#define HALLBUS_QUEUE_COMMAND_ROLES_H

#include <stdbool.h>
#include <stddef.h>

#include "hallbus.pb-c.h"

/* Whether a key of ROLE may run COMMAND. An unknown role, or a command
 * missing from the table, may run nothing. */
bool queue_role_may(const char *role, Hallbus__Request__CommandCase command);

/* The roles that may run COMMAND, comma-separated ("counter, operator"),
 * in OUT, for the PERMISSION_DENIED message; returns OUT. */
const char *queue_command_roles(Hallbus__Request__CommandCase command, char *out, size_t outlen);

/* The daemon COMMAND goes to when it is not hall-queue's ("the hall-counter
 * serving the window"), for the refusal; NULL for hall-queue's own. */
const char *queue_command_elsewhere(Hallbus__Request__CommandCase command);

#endif
