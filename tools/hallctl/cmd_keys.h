/* hallctl keys new|list|revoke|init: the hall's CURVE keys and its
 * allow-list, on files only (no daemon needed), like ssh-keygen. Where the
 * files are comes from the hall file's security: section. Daemons see a
 * change of the allow-list without a restart (keys.h). */
#ifndef HALLCTL_CMD_KEYS_H
#define HALLCTL_CMD_KEYS_H

#include "hallctl.h"

int cmd_keys_new(hallctl_t *ctl, int argc, char **argv);
int cmd_keys_list(hallctl_t *ctl, int argc, char **argv);
int cmd_keys_revoke(hallctl_t *ctl, int argc, char **argv);
int cmd_keys_init(hallctl_t *ctl, int argc, char **argv);

#endif
