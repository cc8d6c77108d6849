/* The "security:" section of the hall file: where this hall's keys and its
 * allow-list live, and whether its links use CURVE.
 *
 *   security:
 *     keys_dir: "var/keys"          # key files <name>.key / <name>.pub; default var/keys
 *     allow: "var/keys/allow.json"  # the allow-list; default <keys_dir>/allow.json
 *     accounts: "var/keys/staff.json"  # staff accounts (hallbus/accounts.h), mode 0600;
 *                                   # default <keys_dir>/staff.json
 *     curve: true                   # default true; false only for the plain reference
 *                                   # run of the benchmark (never in the demo)
 *
 * Private keys never sit in the hall file: only where to find them. */
#ifndef HALLBUS_CONFIG_SECURITY_H
#define HALLBUS_CONFIG_SECURITY_H

#include <stdbool.h>

typedef struct {
    char *keys_dir; /* owned; default "var/keys" */
    char *allow;    /* owned; default "<keys_dir>/allow.json" */
    char *accounts; /* owned; default "<keys_dir>/staff.json" */
    bool curve;     /* default true */
} hb_security_conf_t;

#endif
