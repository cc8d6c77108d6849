/* Staff accounts (hallbus/accounts.h): the list in memory, its JSON file,
 * and the password checks. */
#include "hallbus/accounts.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libgen.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define FILE_MAX (16 * 1024 * 1024) /* far above 10,000 accounts */
#define OPSLIMIT crypto_pwhash_OPSLIMIT_INTERACTIVE
#define MEMLIMIT crypto_pwhash_MEMLIMIT_INTERACTIVE

/* The Argon2id hash of a random password that was thrown away: an unknown
 * id is checked against it, so that its answer takes as long as a real one. */
static const char NOBODY_HASH[] = "$argon2id$v=19$m=65536,t=2,p=1$ufQUrvkKzGQ/1u/gdu4vBQ$"
                                  "2dF04qhJry1kuavBKPK2VYEmZ8UrIku9qpwv20a7PMY";

typedef struct {
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
    bool exists;
} stamp_t;

struct hb_accounts_s {
    char *path;
    hb_staff_t *staff;
    size_t count, cap;
    stamp_t stamp; /* of the file as last loaded or saved */
    bool loaded;
};

static int say(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int say(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* ── roles and policy ───────────────────────────────────────────────────── */

static const char *const role_names[] = {"staff", "supervisor", "operator"};

const char *hb_staff_role_name(hb_staff_role_t role)
{
    return (unsigned)role < 3 ? role_names[role] : "?";
}

int hb_staff_role_parse(const char *text, hb_staff_role_t *out)
{
    for (unsigned i = 0; text && i < 3; i++)
        if (strcmp(text, role_names[i]) == 0) {
            *out = (hb_staff_role_t)i;
            return 0;
        }
    return -1;
}

int hb_staff_id_valid(const char *id)
{
    size_t n = id ? strlen(id) : 0;
    if (n == 0 || n >= HB_STAFF_ID_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

/* Code points in UTF-8 TEXT (continuation bytes not counted). */
static size_t characters(const char *text)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        n += (*p & 0xC0) != 0x80;
    return n;
}

int hb_password_policy(const char *id, const char *password, char *err, size_t errlen)
{
    if (!password || characters(password) < HB_PASSWORD_MIN)
        return say(err, errlen, "a password needs at least %d characters", HB_PASSWORD_MIN);
    if (strlen(password) > HB_PASSWORD_MAX)
        return say(err, errlen, "a password has at most %d bytes", HB_PASSWORD_MAX);
    if (id && strcasecmp(password, id) == 0)
        return say(err, errlen, "the password cannot be the staff id");
    return 0;
}

/* Text for a name or unit: at most the room, no control characters. */
static int text_valid(const char *text)
{
    if (!text || strlen(text) >= HB_STAFF_TEXT_MAX)
        return 0;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return 0;
    return 1;
}

/* ── hashing ────────────────────────────────────────────────────────────── */

static int sodium_ready(void)
{
    return sodium_init() >= 0 ? 0 : -1; /* thread-safe, and cheap after the first */
}

int hb_password_hash(const char *password, char out[HB_PASSWORD_HASH_MAX])
{
    if (sodium_ready() != 0)
        return -1;
    return crypto_pwhash_str(out, password, strlen(password), OPSLIMIT, MEMLIMIT) == 0 ? 0 : -1;
}

void hb_password_check_run(hb_password_check_t *job)
{
    job->verdict = HB_PASSWORD_WRONG;
    job->rehashed = false;
    job->new_hash[0] = '\0';
    job->password[HB_PASSWORD_MAX] = '\0';
    job->hash[HB_PASSWORD_HASH_MAX - 1] = '\0';
    if (sodium_ready() == 0 &&
        crypto_pwhash_str_verify(job->hash, job->password, strlen(job->password)) == 0) {
        job->verdict = HB_PASSWORD_RIGHT;
        if (crypto_pwhash_str_needs_rehash(job->hash, OPSLIMIT, MEMLIMIT) != 0 &&
            hb_password_hash(job->password, job->new_hash) == 0)
            job->rehashed = true;
    }
    sodium_memzero(job->password, sizeof job->password);
}

/* ── the list in memory ─────────────────────────────────────────────────── */

hb_accounts_t *hb_accounts_new(const char *path)
{
    assert(path);
    hb_accounts_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->path = strdup(path);
    if (!self->path) {
        free(self);
        return NULL;
    }
    return self;
}

void hb_accounts_destroy(hb_accounts_t **self)
{
    if (!self || !*self)
        return;
    if ((*self)->staff)
        sodium_memzero((*self)->staff, (*self)->cap * sizeof *(*self)->staff);
    free((*self)->staff);
    free((*self)->path);
    free(*self);
    *self = NULL;
}

const char *hb_accounts_path(const hb_accounts_t *self)
{
    assert(self);
    return self->path;
}

size_t hb_accounts_count(const hb_accounts_t *self)
{
    assert(self);
    return self->count;
}

const hb_staff_t *hb_accounts_at(const hb_accounts_t *self, size_t i)
{
    assert(self);
    return i < self->count ? &self->staff[i] : NULL;
}

static hb_staff_t *find(const hb_accounts_t *self, const char *id)
{
    for (size_t i = 0; id && i < self->count; i++)
        if (strcmp(self->staff[i].id, id) == 0)
            return &self->staff[i];
    return NULL;
}

const hb_staff_t *hb_accounts_find(const hb_accounts_t *self, const char *id)
{
    assert(self);
    return find(self, id);
}

static int grow(hb_staff_t **staff, size_t *cap, size_t want)
{
    if (want <= *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 16;
    while (ncap < want)
        ncap *= 2;
    hb_staff_t *n = realloc(*staff, ncap * sizeof *n);
    if (!n)
        return -1;
    *staff = n;
    *cap = ncap;
    return 0;
}

int hb_accounts_add(hb_accounts_t *self, const char *id, const char *name, const char *unit,
                    hb_staff_role_t role, const char *password, int64_t now, char *err,
                    size_t errlen)
{
    assert(self);
    if (!hb_staff_id_valid(id))
        return say(err, errlen, "\"%.40s\" is not a staff id ([A-Za-z0-9_-], 1 to 32)",
                   id ? id : "");
    if (find(self, id))
        return say(err, errlen, "%s already has an account", id);
    if (!name || !*name || !text_valid(name))
        return say(err, errlen, "a name is required: text of at most %d bytes, one line",
                   HB_STAFF_TEXT_MAX - 1);
    if (unit && !text_valid(unit))
        return say(err, errlen, "a unit is text of at most %d bytes, one line",
                   HB_STAFF_TEXT_MAX - 1);
    if ((unsigned)role > HB_STAFF_ROLE_OPERATOR)
        return say(err, errlen, "no such role");
    if (hb_password_policy(id, password, err, errlen) != 0)
        return -1;
    hb_staff_t s = {.role = role, .created_us = now, .changed_us = now};
    snprintf(s.id, sizeof s.id, "%s", id);
    snprintf(s.name, sizeof s.name, "%s", name);
    snprintf(s.unit, sizeof s.unit, "%s", unit ? unit : "");
    if (hb_password_hash(password, s.hash) != 0 || grow(&self->staff, &self->cap, self->count + 1))
        return say(err, errlen, "out of memory hashing the password");
    self->staff[self->count++] = s;
    return 0;
}

int hb_accounts_set_password(hb_accounts_t *self, const char *id, const char *password, int64_t now,
                             char *err, size_t errlen)
{
    assert(self);
    hb_staff_t *s = find(self, id);
    if (!s)
        return say(err, errlen, "no account %.40s", id ? id : "");
    if (hb_password_policy(id, password, err, errlen) != 0)
        return -1;
    char hash[HB_PASSWORD_HASH_MAX];
    if (hb_password_hash(password, hash) != 0)
        return say(err, errlen, "out of memory hashing the password");
    memcpy(s->hash, hash, sizeof hash);
    s->changed_us = now;
    return 0;
}

int hb_accounts_set_disabled(hb_accounts_t *self, const char *id, bool disabled, int64_t now,
                             char *err, size_t errlen)
{
    assert(self);
    hb_staff_t *s = find(self, id);
    if (!s)
        return say(err, errlen, "no account %.40s", id ? id : "");
    if (s->disabled != disabled)
        s->changed_us = now;
    s->disabled = disabled;
    return 0;
}

/* ── the file ───────────────────────────────────────────────────────────── */

static void stamp_of(const struct stat *st, stamp_t *out)
{
    out->dev = st->st_dev;
    out->ino = st->st_ino;
    out->size = st->st_size;
    out->mtime = st->st_mtim;
    out->exists = true;
}

static bool same_stamp(const stamp_t *a, const stamp_t *b)
{
    if (!a->exists || !b->exists)
        return a->exists == b->exists;
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec;
}

/* "2026-03-02T10:30:00Z" */
static void iso_time(int64_t us, char out[32])
{
    time_t t = (time_t)(us / 1000000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int parse_iso(const char *text, int64_t *us)
{
    struct tm tm = {0};
    const char *end = strptime(text, "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (!end || *end)
        return -1;
    *us = (int64_t)timegm(&tm) * 1000000;
    return 0;
}

/* One entry of the file into S, or -1 with ERR naming FILE, the entry and the key. */
static int read_entry(const char *file, size_t i, json_t *e, hb_staff_t *s, char *err,
                      size_t errlen)
{
    if (!json_is_object(e))
        return say(err, errlen, "%s: staff[%zu]: not an object", file, i);
    const char *id = json_string_value(json_object_get(e, "id"));
    if (!hb_staff_id_valid(id))
        return say(err, errlen, "%s: staff[%zu].id: %s", file, i,
                   id ? "not a staff id ([A-Za-z0-9_-], 1 to 32)" : "missing");
    snprintf(s->id, sizeof s->id, "%s", id);
    const char *name = json_string_value(json_object_get(e, "name"));
    if (!name || !*name || !text_valid(name))
        return say(err, errlen,
                   "%s: staff[%zu].name (%s): missing, or not one line of at most %d "
                   "bytes",
                   file, i, id, HB_STAFF_TEXT_MAX - 1);
    snprintf(s->name, sizeof s->name, "%s", name);
    json_t *unit = json_object_get(e, "unit");
    if (unit && (!json_is_string(unit) || !text_valid(json_string_value(unit))))
        return say(err, errlen, "%s: staff[%zu].unit (%s): not one line of at most %d bytes", file,
                   i, id, HB_STAFF_TEXT_MAX - 1);
    snprintf(s->unit, sizeof s->unit, "%s", unit ? json_string_value(unit) : "");
    const char *role = json_string_value(json_object_get(e, "role"));
    if (hb_staff_role_parse(role, &s->role) != 0)
        return say(err, errlen,
                   "%s: staff[%zu].role (%s): \"%.20s\" is not staff, supervisor "
                   "or operator",
                   file, i, id, role ? role : "");
    const char *hash = json_string_value(json_object_get(e, "hash"));
    if (!hash || strncmp(hash, "$argon2", 7) != 0 || strlen(hash) >= HB_PASSWORD_HASH_MAX)
        return say(err, errlen,
                   "%s: staff[%zu].hash (%s): not an Argon2 hash "
                   "(crypto_pwhash_str)",
                   file, i, id);
    snprintf(s->hash, sizeof s->hash, "%s", hash);
    json_t *disabled = json_object_get(e, "disabled");
    if (disabled && !json_is_boolean(disabled))
        return say(err, errlen, "%s: staff[%zu].disabled (%s): true or false", file, i, id);
    s->disabled = disabled && json_is_true(disabled);
    const char *keys[] = {"created", "changed"};
    int64_t *slots[] = {&s->created_us, &s->changed_us};
    for (int k = 0; k < 2; k++) {
        json_t *v = json_object_get(e, keys[k]);
        *slots[k] = 0;
        if (v && (!json_is_string(v) || parse_iso(json_string_value(v), slots[k]) != 0))
            return say(err, errlen, "%s: staff[%zu].%s (%s): not a time YYYY-MM-DDTHH:MM:SSZ", file,
                       i, keys[k], id);
    }
    return 0;
}

/* Parses the open file FD of PATH into a new array. */
static int read_file(const char *path, int fd, hb_staff_t **out, size_t *count, size_t *cap,
                     char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *root = json_loadfd(fd, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return say(err, errlen, "%s:%d:%d: not JSON: %s", path, jerr.line, jerr.column, jerr.text);
    json_t *list = json_object_get(root, "staff");
    int rc = 0;
    if (!json_is_object(root) || !json_is_array(list)) {
        rc = say(err, errlen, "%s: expected {\"staff\": [...]}", path);
        goto done;
    }
    size_t n = json_array_size(list);
    if (n && grow(out, cap, n) != 0) {
        rc = say(err, errlen, "%s: out of memory", path);
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        hb_staff_t s = {0};
        if (read_entry(path, i, json_array_get(list, i), &s, err, errlen) != 0) {
            rc = -1;
            goto done;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp((*out)[j].id, s.id) == 0) {
                rc = say(err, errlen, "%s: staff[%zu].id: %s is listed twice", path, i, s.id);
                goto done;
            }
        (*out)[i] = s;
        *count = i + 1;
    }
done:
    json_decref(root);
    return rc;
}

static void replace_list(hb_accounts_t *self, hb_staff_t *staff, size_t count, size_t cap)
{
    if (self->staff)
        sodium_memzero(self->staff, self->cap * sizeof *self->staff);
    free(self->staff);
    self->staff = staff;
    self->count = count;
    self->cap = cap;
}

int hb_accounts_load(hb_accounts_t *self, char *err, size_t errlen)
{
    assert(self);
    int fd = open(self->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        replace_list(self, NULL, 0, 0);
        self->stamp = (stamp_t){0};
        self->loaded = true;
        return 0;
    }
    if (fd < 0)
        return say(err, errlen, "%s: %s", self->path, strerror(errno));
    struct stat st;
    stamp_t stamp;
    int rc = -1;
    if (fstat(fd, &st) != 0) {
        say(err, errlen, "%s: %s", self->path, strerror(errno));
        goto out;
    }
    stamp_of(&st, &stamp);
    if (!S_ISREG(st.st_mode)) {
        say(err, errlen, "%s: not a regular file", self->path);
        goto out;
    }
    /* the hashes are secrets: as ssh does with keys, refuse a file that
     * others may read rather than use it */
    if (st.st_mode & 077) {
        say(err, errlen, "%s: readable or writable by others (mode %04o); chmod 600 it", self->path,
            (unsigned)(st.st_mode & 07777));
        goto out;
    }
    if (st.st_size > FILE_MAX) {
        say(err, errlen, "%s: larger than %d MiB", self->path, FILE_MAX >> 20);
        goto out;
    }
    hb_staff_t *staff = NULL;
    size_t count = 0, cap = 0;
    if (read_file(self->path, fd, &staff, &count, &cap, err, errlen) != 0) {
        free(staff);
        self->stamp = stamp; /* not retried until it changes again */
        goto out;
    }
    replace_list(self, staff, count, cap);
    self->stamp = stamp;
    self->loaded = true;
    rc = 0;
out:
    close(fd);
    return rc;
}

int hb_accounts_reload_if_changed(hb_accounts_t *self, char *err, size_t errlen)
{
    assert(self);
    struct stat st;
    stamp_t now = {0};
    if (stat(self->path, &st) == 0)
        stamp_of(&st, &now);
    else if (errno != ENOENT)
        return say(err, errlen, "%s: %s", self->path, strerror(errno));
    if (self->loaded && same_stamp(&now, &self->stamp))
        return 0;
    return hb_accounts_load(self, err, errlen) == 0 ? 1 : -1;
}

static json_t *entry_json(const hb_staff_t *s)
{
    char created[32], changed[32];
    iso_time(s->created_us, created);
    iso_time(s->changed_us, changed);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:s, s:s}", "id", s->id, "name", s->name,
                     "unit", s->unit, "role", hb_staff_role_name(s->role), "hash", s->hash,
                     "disabled", s->disabled, "created", created, "changed", changed);
}

/* Creates DIR (one level, 0700) when missing. */
static int ensure_dir(const char *path, char *err, size_t errlen)
{
    char *copy = strdup(path);
    if (!copy)
        return say(err, errlen, "out of memory");
    const char *dir = dirname(copy);
    int rc = 0;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        rc = say(err, errlen, "%s: cannot create its folder %s: %s", path, dir, strerror(errno));
    free(copy);
    return rc;
}

int hb_accounts_save(hb_accounts_t *self, char *err, size_t errlen)
{
    assert(self);
    json_t *list = json_array();
    json_t *root = json_pack("{s:o}", "staff", list);
    if (!root)
        return say(err, errlen, "%s: out of memory", self->path);
    for (size_t i = 0; i < self->count; i++)
        json_array_append_new(list, entry_json(&self->staff[i]));
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (!text)
        return say(err, errlen, "%s: out of memory", self->path);
    if (ensure_dir(self->path, err, errlen) != 0) {
        free(text);
        return -1;
    }
    size_t plen = strlen(self->path);
    char *tmp = malloc(plen + 16);
    if (!tmp) {
        free(text);
        return say(err, errlen, "%s: out of memory", self->path);
    }
    snprintf(tmp, plen + 16, "%s.tmp.XXXXXX", self->path);
    int rc = -1;
    int fd = mkostemp(tmp, O_CLOEXEC); /* mode 0600 */
    if (fd < 0) {
        say(err, errlen, "%s: cannot create a temp file beside it: %s", self->path,
            strerror(errno));
        goto out;
    }
    size_t len = strlen(text), done = 0;
    while (done < len) {
        ssize_t n = write(fd, text + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        done += (size_t)n;
    }
    bool ok = done == len && write(fd, "\n", 1) == 1 && fchmod(fd, 0600) == 0 && fsync(fd) == 0;
    int saved = errno;
    if (close(fd) != 0 && ok) {
        ok = false;
        saved = errno;
    }
    if (!ok || rename(tmp, self->path) != 0) {
        say(err, errlen, "%s: cannot write it: %s (the file is unchanged)", self->path,
            strerror(ok ? errno : saved));
        unlink(tmp);
        goto out;
    }
    /* the rename itself reaches the disk with its folder */
    char *copy = strdup(self->path);
    if (copy) {
        int dfd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
        free(copy);
    }
    struct stat st;
    if (stat(self->path, &st) == 0)
        stamp_of(&st, &self->stamp);
    self->loaded = true;
    rc = 0;
out:
    sodium_memzero(text, strlen(text)); /* the hashes */
    free(text);
    free(tmp);
    return rc;
}

/* ── signing on ─────────────────────────────────────────────────────────── */

const char *hb_signon_outcome_name(hb_signon_outcome_t outcome)
{
    static const char *const names[] = {"ok", "wrong-password", "locked", "disabled", "unknown"};
    return (unsigned)outcome < 5 ? names[outcome] : "?";
}

hb_signon_outcome_t hb_accounts_prepare_check(const hb_accounts_t *self, const char *id,
                                              const char *password, hb_password_check_t *job)
{
    assert(self && job);
    memset(job, 0, sizeof *job);
    snprintf(job->password, sizeof job->password, "%s", password ? password : "");
    const hb_staff_t *s = find(self, id);
    snprintf(job->hash, sizeof job->hash, "%s", s ? s->hash : NOBODY_HASH);
    if (!s)
        return HB_SIGNON_UNKNOWN;
    return s->disabled ? HB_SIGNON_DISABLED : HB_SIGNON_OK;
}

hb_signon_outcome_t hb_accounts_finish_check(hb_accounts_t *self, const char *id,
                                             hb_signon_outcome_t prepared,
                                             const hb_password_check_t *job, int64_t now, char *err,
                                             size_t errlen)
{
    assert(self && job);
    if (err && errlen)
        err[0] = '\0';
    if (prepared != HB_SIGNON_OK)
        return prepared;
    if (job->verdict != HB_PASSWORD_RIGHT)
        return HB_SIGNON_WRONG_PASSWORD;
    hb_staff_t *s = find(self, id);
    /* the file may have changed while the job ran: only the hash it checked
     * is replaced, and a disabled account stays out */
    if (!s)
        return HB_SIGNON_UNKNOWN;
    if (s->disabled)
        return HB_SIGNON_DISABLED;
    if (strcmp(s->hash, job->hash) != 0)
        return HB_SIGNON_WRONG_PASSWORD;
    if (job->rehashed) {
        memcpy(s->hash, job->new_hash, sizeof s->hash);
        s->changed_us = now;
        hb_accounts_save(self, err, errlen);
    }
    return HB_SIGNON_OK;
}
