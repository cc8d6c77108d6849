/* Staff accounts: who may sign on at a window, with what password.
 *
 * The list lives in one JSON file that the hall file names
 * (security.accounts, default var/keys/staff.json), mode 0600, replaced
 * atomically (a temp file, then rename) on every change:
 *
 *   {"staff": [{"id": "S023", "name": "王芳", "unit": "社保科",
 *               "role": "staff", "hash": "$argon2id$v=19$...",
 *               "disabled": false,
 *               "created": "2026-03-02T10:30:00Z", "changed": "..."}]}
 *
 * Passwords are kept only as libsodium crypto_pwhash_str hashes (Argon2id,
 * OPSLIMIT/MEMLIMIT_INTERACTIVE). A hash or a check costs about 0.1 s and
 * 64 MiB: a daemon runs them off its loop (uv_queue_work) through
 * hb_password_check_run, a pure function that touches no shared state.
 *
 * Signing on, in a daemon:
 *   on the loop:  hb_accounts_reload_if_changed(...);
 *                 o = hb_accounts_prepare_check(accounts, id, password, job);
 *                 (DISABLED or UNKNOWN still run the job, so that time says nothing)
 *   in a worker:  hb_password_check_run(job);
 *   on the loop:  o = hb_accounts_finish_check(accounts, id, o, job, now, ...);
 * with hallbus/lockout.h asked before and told after.
 *
 * Not thread-safe: one thread owns an hb_accounts_t. */
#ifndef HALLBUS_ACCOUNTS_H
#define HALLBUS_ACCOUNTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HB_STAFF_ID_MAX 33       /* [A-Za-z0-9_-]{1,32} + NUL */
#define HB_STAFF_TEXT_MAX 128    /* name and unit, in bytes of UTF-8 */
#define HB_PASSWORD_HASH_MAX 128 /* crypto_pwhash_STRBYTES */
#define HB_PASSWORD_MIN 8        /* characters (UTF-8 code points) */
#define HB_PASSWORD_MAX 256      /* bytes */
#define HB_ACCOUNTS_ERR_MAX 512

typedef enum {
    HB_STAFF_ROLE_STAFF = 0,  /* serves at a window */
    HB_STAFF_ROLE_SUPERVISOR, /* also complaints, follow-ups, approvals */
    HB_STAFF_ROLE_OPERATOR,   /* everything */
} hb_staff_role_t;

typedef struct {
    char id[HB_STAFF_ID_MAX];
    char name[HB_STAFF_TEXT_MAX];
    char unit[HB_STAFF_TEXT_MAX]; /* may be "" */
    hb_staff_role_t role;
    char hash[HB_PASSWORD_HASH_MAX]; /* crypto_pwhash_str output; never printed */
    bool disabled;
    int64_t created_us; /* microseconds since the epoch; whole seconds in the file */
    int64_t changed_us;
} hb_staff_t;

typedef struct hb_accounts_s hb_accounts_t;

/* ── roles and policy ───────────────────────────────────────────────────── */

/* "staff", "supervisor", "operator". */
const char *hb_staff_role_name(hb_staff_role_t role);
/* 0 and *OUT set, or -1 when TEXT is no role. */
int hb_staff_role_parse(const char *text, hb_staff_role_t *out);
/* 1 if ID is [A-Za-z0-9_-]{1,32}, else 0. */
int hb_staff_id_valid(const char *id);
/* 0 if PASSWORD may be the password of ID: at least HB_PASSWORD_MIN
 * characters, at most HB_PASSWORD_MAX bytes, not the id itself (in any
 * case). Else -1 with ERR saying why. */
int hb_password_policy(const char *id, const char *password, char *err, size_t errlen);

/* ── hashing: pure, any thread, slow (about 0.1 s, 64 MiB) ─────────────── */

/* 0 with OUT the Argon2id hash of PASSWORD, or -1 (out of memory). */
int hb_password_hash(const char *password, char out[HB_PASSWORD_HASH_MAX]);

typedef enum {
    HB_PASSWORD_WRONG = 0,
    HB_PASSWORD_RIGHT,
} hb_password_verdict_t;

/* One password check, as a job for a worker thread: the loop fills HASH
 * and PASSWORD, the worker runs hb_password_check_run, the loop reads the
 * rest. No pointers, so it may be copied into a uv_work_t's owner. */
typedef struct {
    char hash[HB_PASSWORD_HASH_MAX];
    char password[HB_PASSWORD_MAX + 1]; /* wiped by hb_password_check_run */
    hb_password_verdict_t verdict;
    bool rehashed; /* RIGHT, and HASH was made with older parameters:
                      NEW_HASH is the password hashed with today's */
    char new_hash[HB_PASSWORD_HASH_MAX];
} hb_password_check_t;

/* Verifies JOB's password against its hash (crypto_pwhash_str_verify) and,
 * when right and crypto_pwhash_str_needs_rehash says so, hashes it anew.
 * Wipes the password. Pure: any thread. */
void hb_password_check_run(hb_password_check_t *job);

/* ── the list ───────────────────────────────────────────────────────────── */

/* An empty list for the file PATH (copied); nothing is read yet. NULL on
 * out of memory. Caller owns it. */
hb_accounts_t *hb_accounts_new(const char *path);
/* NULL-safe; sets *self to NULL. */
void hb_accounts_destroy(hb_accounts_t **self);
const char *hb_accounts_path(const hb_accounts_t *self);

/* Reads the file. A missing file is an empty list (0). -1 with ERR
 * "FILE: reason" (with the line and column for bad JSON, the entry and key
 * for a bad value, and when the file is readable by others than its owner);
 * the list in memory is then left as it was, so a daemon keeps the last
 * good one. */
int hb_accounts_load(hb_accounts_t *self, char *err, size_t errlen);

/* Loads again if the file changed (inode, size or mtime) since it was last
 * loaded or saved. 1 reloaded, 0 unchanged, -1 as hb_accounts_load (the
 * file is not retried until it changes again). */
int hb_accounts_reload_if_changed(hb_accounts_t *self, char *err, size_t errlen);

/* Writes the list: a temp file (0600) in the same folder, fsync, rename
 * over the file; creates the folder (0700) if missing. 0, or -1 with ERR
 * naming the file; the old file is then untouched. */
int hb_accounts_save(hb_accounts_t *self, char *err, size_t errlen);

size_t hb_accounts_count(const hb_accounts_t *self);
/* The I-th account (by id order of addition) or NULL; belongs to SELF,
 * valid until the next change or load. */
const hb_staff_t *hb_accounts_at(const hb_accounts_t *self, size_t i);
const hb_staff_t *hb_accounts_find(const hb_accounts_t *self, const char *id);

/* Changes in memory (save to keep them). Each returns 0, or -1 with ERR
 * saying why, changing nothing. add and set_password hash PASSWORD (slow)
 * after checking it with hb_password_policy. NOW: microseconds. */
int hb_accounts_add(hb_accounts_t *self, const char *id, const char *name, const char *unit,
                    hb_staff_role_t role, const char *password, int64_t now, char *err,
                    size_t errlen);
int hb_accounts_set_password(hb_accounts_t *self, const char *id, const char *password, int64_t now,
                             char *err, size_t errlen);
int hb_accounts_set_disabled(hb_accounts_t *self, const char *id, bool disabled, int64_t now,
                             char *err, size_t errlen);

/* ── signing on ─────────────────────────────────────────────────────────── */

/* The outcomes of a sign-on, as RecordSignOn says them on the wire. */
typedef enum {
    HB_SIGNON_OK = 0,
    HB_SIGNON_WRONG_PASSWORD,
    HB_SIGNON_LOCKED, /* hallbus/lockout.h said no: decided by the caller */
    HB_SIGNON_DISABLED,
    HB_SIGNON_UNKNOWN,
} hb_signon_outcome_t;

/* "ok", "wrong-password", "locked", "disabled", "unknown". */
const char *hb_signon_outcome_name(hb_signon_outcome_t outcome);

/* On the loop: fills JOB for ID and PASSWORD. Returns OK when the job
 * decides, or DISABLED / UNKNOWN, which stand whatever the job says; the
 * job is filled then too (with a hash no password matches for UNKNOWN), so
 * that running it takes as long and the answer's time tells nothing. */
hb_signon_outcome_t hb_accounts_prepare_check(const hb_accounts_t *self, const char *id,
                                              const char *password, hb_password_check_t *job);

/* On the loop, after the job ran: the final outcome (PREPARED, or
 * WRONG_PASSWORD, or OK). On OK with a rehashed password whose account
 * still has the hash the job checked, stores the new hash and saves the
 * file; a save that fails is said in ERR (the sign-on stands). */
hb_signon_outcome_t hb_accounts_finish_check(hb_accounts_t *self, const char *id,
                                             hb_signon_outcome_t prepared,
                                             const hb_password_check_t *job, int64_t now, char *err,
                                             size_t errlen);

#endif
