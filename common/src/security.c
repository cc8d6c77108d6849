#include "hallbus/security.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hallbus/curve.h"
#include "hallbus/log.h"
#include "hallbus/zap.h"

/* check the allow-list file for changes at most this often (ms) */
#define KEYS_CHECK_MS 200

struct hb_security_s {
    bool curve;
    char *keys_dir;
    hb_keypair_t own;
    hb_keys_t *keys; /* serving processes only */
    hb_zap_t *zap;
};

hb_security_t *hb_security_start(void *ctx, const hb_security_conf_t *conf, const char *name,
                                 bool serve, char err[HB_KEYS_ERR_MAX])
{
    err[0] = '\0';
    hb_security_t *self = calloc(1, sizeof *self);
    if (!self || !(self->keys_dir = strdup(conf->keys_dir ? conf->keys_dir : "var/keys"))) {
        snprintf(err, HB_KEYS_ERR_MAX, "out of memory");
        free(self);
        return NULL;
    }
    self->curve = conf->curve;
    if (!self->curve)
        return self;
    if (hb_keypair_load(self->keys_dir, name, &self->own, err) != 0)
        goto fail;
    if (serve) {
        if (!(self->keys = hb_keys_new(conf->allow, KEYS_CHECK_MS))) {
            snprintf(err, HB_KEYS_ERR_MAX, "out of memory");
            goto fail;
        }
        if (!(self->zap = hb_zap_start(ctx, self->keys))) {
            snprintf(err, HB_KEYS_ERR_MAX, "cannot start the ZAP handler (see the log)");
            goto fail;
        }
    }
    return self;
fail:
    hb_security_stop(&self);
    return NULL;
}

void hb_security_stop(hb_security_t **pself)
{
    if (!pself || !*pself)
        return;
    hb_security_t *self = *pself;
    *pself = NULL;
    hb_zap_stop(&self->zap);
    hb_keys_destroy(&self->keys);
    free(self->keys_dir);
    memset(&self->own, 0, sizeof self->own); /* no secret left in freed memory */
    free(self);
}

bool hb_security_on(const hb_security_t *self)
{
    return self && self->curve;
}

hb_keys_t *hb_security_keys(const hb_security_t *self)
{
    return self ? self->keys : NULL;
}

int hb_security_reload(hb_security_t *self)
{
    return self && self->keys ? hb_keys_reload(self->keys) : 0;
}

void hb_security_on_sighup(void *arg)
{
    hb_security_t *self = arg;
    if (!self || !self->keys) {
        hb_info("SIGHUP: no allow-list in this process, nothing to re-read");
        return;
    }
    int rc = hb_security_reload(self);
    if (rc > 0)
        hb_info("SIGHUP: allow-list re-read, %zu keys", hb_keys_count(self->keys));
    else if (rc == 0)
        hb_info("SIGHUP: allow-list unchanged, %zu keys", hb_keys_count(self->keys));
    else
        hb_warn("SIGHUP: the allow-list is bad; the last good one (%zu keys) stays",
                hb_keys_count(self->keys));
}

const hb_keypair_t *hb_security_own(const hb_security_t *self)
{
    return hb_security_on(self) ? &self->own : NULL;
}

int hb_security_bind(const hb_security_t *self, void *sock, const char *domain)
{
    if (!hb_security_on(self))
        return 0;
    return hb_curve_server(sock, &self->own, domain);
}

int hb_security_connect(const hb_security_t *self, void *sock, const char *server)
{
    if (!hb_security_on(self))
        return 0;
    char pub[HB_KEY_Z85_LEN + 1], err[HB_KEYS_ERR_MAX];
    if (hb_public_key_load(self->keys_dir, server, pub, err) != 0) {
        hb_error("%s", err);
        errno = ENOENT;
        return -1;
    }
    return hb_curve_client(sock, &self->own, pub);
}

hb_role_t hb_security_peer(const hb_security_t *self, zmq_msg_t *frame, char *name, size_t namelen)
{
    if (name && namelen)
        name[0] = '\0';
    if (!hb_security_on(self)) {
        if (name && namelen)
            snprintf(name, namelen, "plain");
        return HB_ROLE_OPERATOR;
    }
    if (!self->keys)
        return HB_ROLE_NONE;
    char key[HB_KEY_Z85_LEN + 1];
    if (hb_peer_key(frame, key) != 0)
        return HB_ROLE_NONE;
    return hb_keys_lookup(self->keys, key, name, namelen);
}
