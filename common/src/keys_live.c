/* The live allow-list: the last good list of the file, re-read when the
 * file changes, shared under a mutex by the ZAP thread and the daemon. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "hallbus/allow_list.h"
#include "hallbus/keys.h"
#include "hallbus/log.h"

/* What tells that the file changed: an atomic save is a new inode, an edit
 * in place changes size or times. */
typedef struct {
    bool exists;
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime, ctime;
} file_sig_t;

struct hb_keys_s {
    pthread_mutex_t lock;
    char *path;
    unsigned check_ms;
    uint64_t next_check_ms; /* monotonic */
    hb_allow_t *list;       /* the last good list; never NULL */
    file_sig_t seen;        /* the file as last read, good or bad */
    bool read_once;
};

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static file_sig_t sig_of(const char *path)
{
    file_sig_t sig = {.exists = false};
    struct stat st;
    if (stat(path, &st) == 0)
        sig = (file_sig_t){true, st.st_dev, st.st_ino, st.st_size, st.st_mtim, st.st_ctim};
    return sig;
}

static bool same_sig(const file_sig_t *a, const file_sig_t *b)
{
    return a->exists == b->exists && a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec &&
           a->ctime.tv_sec == b->ctime.tv_sec && a->ctime.tv_nsec == b->ctime.tv_nsec;
}

/* With the lock held. 1 reloaded, 0 unchanged, -1 bad (kept the last good). */
static int check_locked(hb_keys_t *self)
{
    file_sig_t sig = sig_of(self->path);
    if (self->read_once && same_sig(&sig, &self->seen))
        return 0;
    self->seen = sig;
    self->read_once = true;
    char err[HB_KEYS_ERR_MAX];
    bool missing = false;
    hb_allow_t *fresh = hb_allow_load(self->path, &missing, err);
    if (fresh && missing) {
        hb_allow_destroy(&fresh);
        hb_error("%s: the allow-list is missing; keeping the %zu keys known before "
                 "(hallctl keys new makes it)",
                 self->path, hb_allow_count(self->list));
        return -1;
    }
    if (!fresh) {
        hb_error("%s; keeping the %zu keys known before", err, hb_allow_count(self->list));
        return -1;
    }
    hb_allow_destroy(&self->list);
    self->list = fresh;
    hb_info("%s: allow-list loaded, %zu keys", self->path, hb_allow_count(fresh));
    return 1;
}

hb_keys_t *hb_keys_new(const char *path, unsigned check_ms)
{
    hb_keys_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->path = strdup(path);
    self->list = hb_allow_new();
    self->check_ms = check_ms;
    if (!self->path || !self->list || pthread_mutex_init(&self->lock, NULL) != 0) {
        hb_allow_destroy(&self->list);
        free(self->path);
        free(self);
        return NULL;
    }
    check_locked(self);
    self->next_check_ms = now_ms() + check_ms;
    return self;
}

void hb_keys_destroy(hb_keys_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    hb_keys_t *self = *self_p;
    pthread_mutex_destroy(&self->lock);
    hb_allow_destroy(&self->list);
    free(self->path);
    free(self);
    *self_p = NULL;
}

hb_role_t hb_keys_lookup(hb_keys_t *self, const char *public_z85, char *name, size_t namelen)
{
    if (name && namelen)
        name[0] = '\0';
    pthread_mutex_lock(&self->lock);
    uint64_t now = now_ms();
    if (now >= self->next_check_ms) {
        check_locked(self);
        self->next_check_ms = now + self->check_ms;
    }
    hb_role_t role = HB_ROLE_NONE;
    const hb_allow_entry_t *e = hb_allow_find_key(self->list, public_z85);
    if (e && !e->revoked) {
        role = e->role;
        if (name && namelen)
            snprintf(name, namelen, "%s", e->name);
    }
    pthread_mutex_unlock(&self->lock);
    return role;
}

hb_role_t hb_keys_role(hb_keys_t *self, const char *public_z85)
{
    return hb_keys_lookup(self, public_z85, NULL, 0);
}

int hb_keys_reload(hb_keys_t *self)
{
    pthread_mutex_lock(&self->lock);
    int rc = check_locked(self);
    self->next_check_ms = now_ms() + self->check_ms;
    pthread_mutex_unlock(&self->lock);
    return rc;
}

size_t hb_keys_count(hb_keys_t *self)
{
    pthread_mutex_lock(&self->lock);
    size_t n = hb_allow_count(self->list);
    pthread_mutex_unlock(&self->lock);
    return n;
}
