/* The allow-list file: which public key has which role.
 *
 *   {"keys": [{"name": "kiosk-1", "role": "kiosk", "public": "<z85>",
 *              "created": "2024-05-01T09:00:00Z", "revoked": false}]}
 *
 * This is the file itself, edited by `hallctl keys` and read by
 * hb_keys_t (keys.h); not thread-safe. Names are unique, and so are public
 * keys (one key, one role). Saving writes a temporary file next to it and
 * renames it over the old one, so a reader sees the old list or the new
 * one, never half of one. */
#ifndef HALLBUS_ALLOW_LIST_H
#define HALLBUS_ALLOW_LIST_H

#include <stdbool.h>
#include <stddef.h>

#include "hallbus/keys.h"

typedef struct {
    char name[HB_KEY_NAME_MAX + 1];
    hb_role_t role;
    char public_z85[HB_KEY_Z85_LEN + 1];
    char created[32]; /* ISO 8601 UTC, "" if unknown */
    bool revoked;
} hb_allow_entry_t;

typedef struct hb_allow_s hb_allow_t;

/* An empty list. NULL when out of memory. Caller owns (hb_allow_destroy). */
hb_allow_t *hb_allow_new(void);
void hb_allow_destroy(hb_allow_t **self);

/* Reads PATH. A missing file is an empty list (*MISSING set, may be NULL).
 * NULL on anything else, with ERR "PATH: keys[2].role: unknown role ...". */
hb_allow_t *hb_allow_load(const char *path, bool *missing, char err[HB_KEYS_ERR_MAX]);
/* Writes the list to PATH atomically (temporary file, fsync, rename), mode
 * 0644, creating its directory (0700) if missing. 0, or -1 with ERR naming the file. */
int hb_allow_save(const hb_allow_t *self, const char *path, char err[HB_KEYS_ERR_MAX]);

/* Holds PATH's edit lock (flock on <PATH>.lock, creating the directory)
 * for a load-change-save, so that two editors at once do not lose one's
 * change; readers need no lock (saves are atomic). A descriptor for
 * hb_allow_unlock, or -1 with ERR. */
int hb_allow_lock(const char *path, char err[HB_KEYS_ERR_MAX]);
void hb_allow_unlock(int fd);

/* Adds NAME with ROLE and PUBLIC_Z85, created now. An entry of that name is
 * replaced only with REPLACE (a new key for the same name: the old key is
 * gone from the list). 0, or -1 with ERR (bad name, role or key; the name is
 * taken; the key is already another entry's). */
int hb_allow_add(hb_allow_t *self, const char *name, hb_role_t role, const char *public_z85,
                 bool replace, char err[HB_KEYS_ERR_MAX]);
/* Marks NAME revoked (it stays listed, so the name is not reused by
 * mistake). 0 revoked, 1 it already was, -1 no such name. */
int hb_allow_revoke(hb_allow_t *self, const char *name);

size_t hb_allow_count(const hb_allow_t *self);
/* The I-th entry, in the order of the file; NULL past the end. Valid until
 * the list is changed. */
const hb_allow_entry_t *hb_allow_at(const hb_allow_t *self, size_t i);
const hb_allow_entry_t *hb_allow_find_name(const hb_allow_t *self, const char *name);
const hb_allow_entry_t *hb_allow_find_key(const hb_allow_t *self, const char *public_z85);

#endif
