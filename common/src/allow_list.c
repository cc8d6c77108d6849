/* The allow-list file (JSON, jansson): read strictly, written atomically. */
#include "hallbus/allow_list.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <time.h>

#include "file_atomic.h"

#define ALLOW_MAX_ENTRIES 100000

struct hb_allow_s {
    hb_allow_entry_t *entries;
    size_t count, size;
};

hb_allow_t *hb_allow_new(void)
{
    return calloc(1, sizeof(hb_allow_t));
}

void hb_allow_destroy(hb_allow_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free((*self_p)->entries);
    free(*self_p);
    *self_p = NULL;
}

size_t hb_allow_count(const hb_allow_t *self)
{
    return self->count;
}

const hb_allow_entry_t *hb_allow_at(const hb_allow_t *self, size_t i)
{
    return i < self->count ? &self->entries[i] : NULL;
}

const hb_allow_entry_t *hb_allow_find_name(const hb_allow_t *self, const char *name)
{
    for (size_t i = 0; name && i < self->count; i++)
        if (strcmp(self->entries[i].name, name) == 0)
            return &self->entries[i];
    return NULL;
}

const hb_allow_entry_t *hb_allow_find_key(const hb_allow_t *self, const char *public_z85)
{
    for (size_t i = 0; public_z85 && i < self->count; i++)
        if (strcmp(self->entries[i].public_z85, public_z85) == 0)
            return &self->entries[i];
    return NULL;
}

static int fail(char err[HB_KEYS_ERR_MAX], const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int fail(char err[HB_KEYS_ERR_MAX], const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, HB_KEYS_ERR_MAX, fmt, ap);
    va_end(ap);
    return -1;
}

/* Checks an entry and appends it; -1 with ERR (without the file name). */
static int append(hb_allow_t *self, const hb_allow_entry_t *e, char err[HB_KEYS_ERR_MAX])
{
    if (!hb_key_name_valid(e->name))
        return fail(err, "\"%s\" is not a key name ([A-Za-z0-9_.-], 1 to 64)", e->name);
    if (e->role == HB_ROLE_NONE)
        return fail(err, "no role (one of %s)", hb_role_names());
    if (!hb_key_z85_valid(e->public_z85))
        return fail(err, "\"%.60s\" is not a public key (40 characters of z85)", e->public_z85);
    if (hb_allow_find_name(self, e->name))
        return fail(err, "the name \"%s\" is listed twice", e->name);
    const hb_allow_entry_t *other = hb_allow_find_key(self, e->public_z85);
    if (other)
        return fail(err, "the key of \"%s\" is already \"%s\"'s", e->name, other->name);
    if (self->count == self->size) {
        size_t size = self->size ? self->size * 2 : 16;
        hb_allow_entry_t *grown = realloc(self->entries, size * sizeof *grown);
        if (!grown)
            return fail(err, "out of memory");
        self->entries = grown;
        self->size = size;
    }
    self->entries[self->count++] = *e;
    return 0;
}

static int copy_text(char *out, size_t size, json_t *value)
{
    if (!json_is_string(value) || json_string_length(value) >= size ||
        strlen(json_string_value(value)) != json_string_length(value))
        return -1;
    memcpy(out, json_string_value(value), json_string_length(value) + 1);
    return 0;
}

/* One entry of "keys"; -1 with ERR "keys[I].KEY: reason". */
static int read_entry(hb_allow_t *self, size_t i, json_t *item, char err[HB_KEYS_ERR_MAX])
{
    if (!json_is_object(item))
        return fail(err, "keys[%zu]: not an object", i);
    hb_allow_entry_t e = {.role = HB_ROLE_NONE};
    const char *key;
    json_t *value;
    json_object_foreach(item, key, value)
    {
        if (strcmp(key, "name") == 0) {
            if (copy_text(e.name, sizeof e.name, value) != 0)
                return fail(err, "keys[%zu].name: not a name of at most %d characters", i,
                            HB_KEY_NAME_MAX);
        } else if (strcmp(key, "role") == 0) {
            e.role = json_is_string(value) ? hb_role_parse(json_string_value(value)) : HB_ROLE_NONE;
            if (e.role == HB_ROLE_NONE)
                return fail(err, "keys[%zu].role: unknown role (one of %s)", i, hb_role_names());
        } else if (strcmp(key, "public") == 0) {
            if (copy_text(e.public_z85, sizeof e.public_z85, value) != 0 ||
                !hb_key_z85_valid(e.public_z85))
                return fail(err, "keys[%zu].public: not a public key (40 characters of z85)", i);
        } else if (strcmp(key, "created") == 0) {
            if (copy_text(e.created, sizeof e.created, value) != 0)
                return fail(err, "keys[%zu].created: not a short text", i);
        } else if (strcmp(key, "revoked") == 0) {
            if (!json_is_boolean(value))
                return fail(err, "keys[%zu].revoked: not true or false", i);
            e.revoked = json_is_true(value);
        } else {
            /* a misspelt "revoked" must not pass for an active key */
            return fail(err, "keys[%zu].%.40s: unknown field", i, key);
        }
    }
    if (!e.name[0])
        return fail(err, "keys[%zu].name: missing", i);
    if (e.role == HB_ROLE_NONE)
        return fail(err, "keys[%zu].role: missing", i);
    if (!e.public_z85[0])
        return fail(err, "keys[%zu].public: missing", i);
    char why[HB_KEYS_ERR_MAX];
    if (append(self, &e, why) != 0)
        return fail(err, "keys[%zu]: %s", i, why);
    return 0;
}

hb_allow_t *hb_allow_load(const char *path, bool *missing, char err[HB_KEYS_ERR_MAX])
{
    if (missing)
        *missing = false;
    struct stat st;
    if (stat(path, &st) != 0 && errno == ENOENT) {
        if (missing)
            *missing = true;
        hb_allow_t *empty = hb_allow_new();
        if (!empty)
            fail(err, "%s: out of memory", path);
        return empty;
    }
    json_error_t jerr;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        fail(err, "%s:%d: not valid JSON: %s", path, jerr.line, jerr.text);
        return NULL;
    }
    hb_allow_t *self = hb_allow_new();
    char why[HB_KEYS_ERR_MAX] = "out of memory";
    json_t *keys = json_object_get(root, "keys");
    if (!self)
        goto bad;
    if (!json_is_object(root) || !json_is_array(keys)) {
        snprintf(why, sizeof why, "keys: missing (the file is {\"keys\": [...]})");
        goto bad;
    }
    if (json_object_size(root) != 1) {
        snprintf(why, sizeof why, "only \"keys\" may be at the top");
        goto bad;
    }
    if (json_array_size(keys) > ALLOW_MAX_ENTRIES) {
        snprintf(why, sizeof why, "keys: more than %d entries", ALLOW_MAX_ENTRIES);
        goto bad;
    }
    for (size_t i = 0; i < json_array_size(keys); i++)
        if (read_entry(self, i, json_array_get(keys, i), why) != 0)
            goto bad;
    json_decref(root);
    return self;

bad:
    fail(err, "%s: %s", path, why);
    json_decref(root);
    hb_allow_destroy(&self);
    return NULL;
}

static int make_parent(const char *path, char err[HB_KEYS_ERR_MAX])
{
    char parent[4096];
    snprintf(parent, sizeof parent, "%s", path);
    char *slash = strrchr(parent, '/');
    if (!slash || slash == parent)
        return 0;
    *slash = '\0';
    return hb_mkdirs(parent, 0700, err, HB_KEYS_ERR_MAX);
}

int hb_allow_lock(const char *path, char err[HB_KEYS_ERR_MAX])
{
    char lock[4096];
    if (snprintf(lock, sizeof lock, "%s.lock", path) >= (int)sizeof lock)
        return fail(err, "%s: path too long", path);
    if (make_parent(path, err) != 0)
        return -1;
    int fd = open(lock, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0)
        return fail(err, "%s: cannot open: %s", lock, strerror(errno));
    while (flock(fd, LOCK_EX) != 0) {
        if (errno == EINTR)
            continue;
        int saved = errno;
        close(fd);
        return fail(err, "%s: cannot lock: %s", lock, strerror(saved));
    }
    return fd;
}

void hb_allow_unlock(int fd)
{
    if (fd >= 0)
        close(fd); /* closing the descriptor releases the flock */
}

int hb_allow_save(const hb_allow_t *self, const char *path, char err[HB_KEYS_ERR_MAX])
{
    json_t *keys = json_array();
    json_t *root = json_pack("{s:o}", "keys", keys);
    if (!root)
        return fail(err, "%s: out of memory", path);
    for (size_t i = 0; i < self->count; i++) {
        const hb_allow_entry_t *e = &self->entries[i];
        json_t *item =
            json_pack("{s:s, s:s, s:s, s:s, s:b}", "name", e->name, "role", hb_role_name(e->role),
                      "public", e->public_z85, "created", e->created, "revoked", e->revoked);
        if (!item || json_array_append_new(keys, item) != 0) {
            json_decref(root);
            return fail(err, "%s: out of memory", path);
        }
    }
    char *text = json_dumps(root, JSON_INDENT(2));
    json_decref(root);
    if (!text)
        return fail(err, "%s: out of memory", path);
    if (make_parent(path, err) != 0) {
        free(text);
        return -1;
    }
    size_t len = strlen(text);
    char *with_newline = realloc(text, len + 2);
    if (!with_newline) {
        free(text);
        return fail(err, "%s: out of memory", path);
    }
    with_newline[len] = '\n';
    int rc = hb_file_write_atomic(path, with_newline, len + 1, 0644, err, HB_KEYS_ERR_MAX);
    free(with_newline);
    return rc;
}

int hb_allow_add(hb_allow_t *self, const char *name, hb_role_t role, const char *public_z85,
                 bool replace, char err[HB_KEYS_ERR_MAX])
{
    hb_allow_entry_t e = {.role = role};
    if (!name || strlen(name) > HB_KEY_NAME_MAX || !hb_key_name_valid(name))
        return fail(err, "\"%.80s\" is not a key name ([A-Za-z0-9_.-], 1 to 64)", name ? name : "");
    if (!public_z85 || !hb_key_z85_valid(public_z85))
        return fail(err, "not a public key (40 characters of z85)");
    snprintf(e.name, sizeof e.name, "%s", name);
    snprintf(e.public_z85, sizeof e.public_z85, "%s", public_z85);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(e.created, sizeof e.created, "%Y-%m-%dT%H:%M:%SZ", &tm);

    const hb_allow_entry_t *old = hb_allow_find_name(self, name);
    if (old && !replace)
        return fail(err, "\"%s\" is already in the allow-list (--force replaces its key)", name);
    if (old) {
        const hb_allow_entry_t *other = hb_allow_find_key(self, public_z85);
        if (other && other != old)
            return fail(err, "that key is already \"%s\"'s", other->name);
        size_t at = (size_t)(old - self->entries);
        if (role == HB_ROLE_NONE)
            return fail(err, "no role (one of %s)", hb_role_names());
        self->entries[at] = e;
        return 0;
    }
    return append(self, &e, err);
}

int hb_allow_revoke(hb_allow_t *self, const char *name)
{
    for (size_t i = 0; name && i < self->count; i++)
        if (strcmp(self->entries[i].name, name) == 0) {
            if (self->entries[i].revoked)
                return 1;
            self->entries[i].revoked = true;
            return 0;
        }
    return -1;
}
