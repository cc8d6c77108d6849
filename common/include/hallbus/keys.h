/* CURVE keys: roles, key files, and the live view of the allow-list that
 * the ZAP handler and the daemons' per-message checks consult.
 *
 * Key files live in the hall's keys_dir (security.keys_dir):
 *   <dir>/<name>.key  the secret key, z85, one line, mode 0600
 *   <dir>/<name>.pub  the public key, z85, one line, mode 0644
 * A daemon uses the key named after itself ("hall-queue"); a client finds a
 * server's public key as <dir>/<server name>.pub. The allow-list (which
 * public key has which role) is allow_list.h. */
#ifndef HALLBUS_KEYS_H
#define HALLBUS_KEYS_H

#include <stdbool.h>
#include <stddef.h>

#define HB_KEY_Z85_LEN 40 /* a 32-byte CURVE key in z85 */
#define HB_KEY_NAME_MAX 64
#define HB_KEYS_ERR_MAX 512

/* What a key may do. The order is not stored anywhere (the allow-list
 * spells roles out), so it may change. */
typedef enum {
    HB_ROLE_NONE = 0, /* unknown or revoked: nothing */
    HB_ROLE_KIOSK,
    HB_ROLE_COUNTER,
    HB_ROLE_DISPLAY,
    HB_ROLE_AUDIT,
    HB_ROLE_NOTIFIER,
    HB_ROLE_SUPERVISOR,
    HB_ROLE_OPERATOR,
    HB_ROLE_QUEUE, /* hall-queue's own key: it publishes the hall's events */
    HB_ROLE_BUS,   /* hall-bus's own key, for its upstream links */
    HB_ROLES
} hb_role_t;

/* "kiosk", "counter", ...; "none" for HB_ROLE_NONE, NULL outside the range. */
const char *hb_role_name(hb_role_t role);
/* The role named TEXT, or HB_ROLE_NONE (which no text names). */
hb_role_t hb_role_parse(const char *text);
/* "kiosk, counter, ..., bus": for error messages. Static storage. */
const char *hb_role_names(void);

typedef struct {
    char public_z85[HB_KEY_Z85_LEN + 1];
    char secret_z85[HB_KEY_Z85_LEN + 1];
} hb_keypair_t;

/* TEXT is exactly 40 z85 characters that decode to 32 bytes. */
bool hb_key_z85_valid(const char *text);
/* NAME may name key files: [A-Za-z0-9_.-]{1,64}, not starting with a dot. */
bool hb_key_name_valid(const char *name);

/* A fresh key pair (zmq_curve_keypair). 0, or -1 (no CURVE in this libzmq). */
int hb_keypair_new(hb_keypair_t *out);

/* Writes <DIR>/<NAME>.key (0600) and <DIR>/<NAME>.pub (0644), creating DIR
 * (0700) if missing; each file through a temporary file and a rename, so a
 * reader never sees half a key. Without FORCE, an existing key file of that
 * name is refused. 0, or -1 with ERR naming the file. */
int hb_keypair_save(const char *dir, const char *name, const hb_keypair_t *pair, bool force,
                    char err[HB_KEYS_ERR_MAX]);

/* Reads <DIR>/<NAME>.key, refuses it if anyone but its owner may read it,
 * and derives the public key from the secret one; where <NAME>.pub exists
 * it must match. 0, or -1 with ERR naming the file and what is wrong. */
int hb_keypair_load(const char *dir, const char *name, hb_keypair_t *out,
                    char err[HB_KEYS_ERR_MAX]);

/* Reads the public key <DIR>/<NAME>.pub. 0, or -1 with ERR naming the file. */
int hb_public_key_load(const char *dir, const char *name, char out[HB_KEY_Z85_LEN + 1],
                       char err[HB_KEYS_ERR_MAX]);

/* Reads one z85 key (40 characters, then at most a newline) from PATH.
 * 0, or -1 with ERR naming PATH. */
int hb_key_file_read(const char *path, char out[HB_KEY_Z85_LEN + 1], char err[HB_KEYS_ERR_MAX]);

/* ── the live allow-list ──
 * Loaded from the allow-list file and re-read when the file changes (its
 * inode, size, mtime or ctime differ), checked at most every CHECK_MS at a
 * lookup. A file that cannot be read or is malformed never replaces the
 * last good list: the error is logged once, naming the file. Every call
 * is thread-safe (the ZAP thread and the daemon's loop share one). */
typedef struct hb_keys_s hb_keys_t;

/* Loads PATH now (copied). A missing or bad file gives an empty list (every
 * key refused) and an error in the log, not a failure: the file may be fixed
 * later without a restart. NULL only when out of memory. The caller owns
 * the result (hb_keys_destroy). CHECK_MS 0: stat the file at every lookup. */
hb_keys_t *hb_keys_new(const char *path, unsigned check_ms);
/* NULL-safe; sets *self to NULL. Nothing may use it any more (stop the ZAP
 * handler first). */
void hb_keys_destroy(hb_keys_t **self);

/* The role of the key PUBLIC_Z85; HB_ROLE_NONE when it is unknown, revoked
 * or not a key. NAME (may be NULL) gets the key's name, "" if none. */
hb_role_t hb_keys_lookup(hb_keys_t *self, const char *public_z85, char *name, size_t namelen);
hb_role_t hb_keys_role(hb_keys_t *self, const char *public_z85);

/* Re-reads the file now if it changed (on SIGHUP, say). 1 reloaded, 0
 * unchanged, -1 the file is bad (the last good list stays, error logged). */
int hb_keys_reload(hb_keys_t *self);
/* How many keys the list in use holds (revoked ones included). */
size_t hb_keys_count(hb_keys_t *self);

#endif
