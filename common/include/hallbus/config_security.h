/* The "security:" section of the hall file: where the hall's secrets live.
 * Secrets themselves (private keys, password hashes) never sit in the hall
 * file, only the names of the files that hold them.
 *
 *   security:
 *     accounts: "var/keys/staff.json"   # staff accounts (hallbus/accounts.h), mode 0600
 */
#ifndef HALLBUS_CONFIG_SECURITY_H
#define HALLBUS_CONFIG_SECURITY_H

#define HB_ACCOUNTS_DEFAULT_PATH "var/keys/staff.json"

typedef struct {
    char *accounts; /* the staff accounts file; default "var/keys/staff.json" */
} hb_security_conf_t;

#endif
