#include "sessions.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sessions_init(sessions_t *self, const uint32_t *windows, unsigned count, int64_t ttl_us,
                  int64_t idle_us)
{
    memset(self, 0, sizeof *self);
    self->slots = calloc(count ? count : 1, sizeof *self->slots);
    if (!self->slots || sodium_init() < 0) {
        free(self->slots);
        self->slots = NULL;
        return -1;
    }
    for (unsigned i = 0; i < count; i++)
        self->slots[i].window = windows[i];
    self->count = count;
    self->ttl_us = ttl_us ? ttl_us : SESSIONS_TTL_US;
    self->idle_us = idle_us ? idle_us : SESSIONS_IDLE_US;
    return 0;
}

void sessions_free(sessions_t *self)
{
    if (self->slots)
        sodium_memzero(self->slots, self->count * sizeof *self->slots);
    free(self->slots);
    self->slots = NULL;
    self->count = 0;
}

static session_slot_t *slot_of(const sessions_t *self, uint32_t window)
{
    for (unsigned i = 0; i < self->count; i++)
        if (self->slots[i].window == window)
            return &self->slots[i];
    return NULL;
}

const session_t *sessions_at(const sessions_t *self, uint32_t window)
{
    session_slot_t *s = slot_of(self, window);
    return s && s->now.token[0] ? &s->now : NULL;
}

/* Tokens are compared in constant time: their length is public, their
 * bytes are not. */
static bool same_token(const char *a, const char *b)
{
    return a[0] && strlen(a) == SESSION_TOKEN_LEN && strlen(b) == SESSION_TOKEN_LEN &&
           sodium_memcmp(a, b, SESSION_TOKEN_LEN) == 0;
}

/* Ends the session of SLOT, remembering WHY for its terminal. */
static void end(session_slot_t *slot, const char *why, session_ended_t *out)
{
    if (out) {
        memset(out, 0, sizeof *out);
        snprintf(out->staff, sizeof out->staff, "%s", slot->now.staff);
        out->window = slot->window;
        snprintf(out->why, sizeof out->why, "%s", why);
    }
    memcpy(slot->ended_token, slot->now.token, sizeof slot->ended_token);
    snprintf(slot->ended_why, sizeof slot->ended_why, "%s", why);
    sodium_memzero(&slot->now, sizeof slot->now);
}

int sessions_open(sessions_t *self, const char *staff, uint32_t window, const char *terminal,
                  int64_t now, session_t *out, session_ended_t ended[2], unsigned *nended)
{
    *nended = 0;
    session_slot_t *slot = slot_of(self, window);
    if (!slot || !staff || !*staff)
        return -1;
    char why[SESSION_WHY_MAX];
    for (unsigned i = 0; i < self->count; i++) {
        session_slot_t *s = &self->slots[i];
        if (s != slot && s->now.token[0] && strcmp(s->now.staff, staff) == 0) {
            snprintf(why, sizeof why, "%.32s signed on at window %u", staff, window);
            end(s, why, &ended[(*nended)++]);
        }
    }
    if (slot->now.token[0]) {
        snprintf(why, sizeof why, "%.32s signed on at window %u", staff, window);
        end(slot, why, &ended[(*nended)++]);
    }
    unsigned char raw[32];
    randombytes_buf(raw, sizeof raw);
    session_t *s = &slot->now;
    memset(s, 0, sizeof *s);
    sodium_bin2base64(s->token, sizeof s->token, raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
    snprintf(s->staff, sizeof s->staff, "%s", staff);
    s->window = window;
    snprintf(s->terminal, sizeof s->terminal, "%s", terminal ? terminal : "");
    s->created = s->last_used = now;
    s->expires = now + self->ttl_us;
    *out = *s;
    return 0;
}

/* Why SESSION at NOW may no longer act, or NULL. */
static const char *stale(const sessions_t *self, const session_t *s, int64_t now, char *buf,
                         size_t len)
{
    if (now >= s->expires)
        return "session expired";
    if (now - s->last_used >= self->idle_us) {
        snprintf(buf, len, "session idle for %lld minutes",
                 (long long)(self->idle_us / (60 * 1000000LL)));
        return buf;
    }
    return NULL;
}

Hallbus__StatusCode sessions_check(sessions_t *self, const char *token, uint32_t window,
                                   int64_t now, const session_t **out, session_ended_t *ended,
                                   unsigned *nended, char *msg, size_t msglen)
{
    *nended = 0;
    *out = NULL;
    session_slot_t *slot = slot_of(self, window);
    if (!slot) {
        snprintf(msg, msglen, "window %u is not one of this counter's", window);
        return HALLBUS__STATUS_CODE__PERMISSION_DENIED;
    }
    if (!token || !*token) {
        snprintf(msg, msglen, "sign on at window %u first (no session in the request)", window);
        return HALLBUS__STATUS_CODE__PERMISSION_DENIED;
    }
    if (same_token(slot->now.token, token)) {
        char buf[SESSION_WHY_MAX];
        const char *why = stale(self, &slot->now, now, buf, sizeof buf);
        if (why) {
            end(slot, why, ended);
            *nended = 1;
            snprintf(msg, msglen, "%s; sign on again at window %u", why, window);
            return HALLBUS__STATUS_CODE__PERMISSION_DENIED;
        }
        slot->now.last_used = now;
        *out = &slot->now;
        return HALLBUS__STATUS_CODE__OK;
    }
    if (same_token(slot->ended_token, token)) {
        snprintf(msg, msglen, "this session has ended (%s); sign on again at window %u",
                 slot->ended_why, window);
        return HALLBUS__STATUS_CODE__PERMISSION_DENIED;
    }
    for (unsigned i = 0; i < self->count; i++)
        if (same_token(self->slots[i].now.token, token)) {
            snprintf(msg, msglen, "this session is for window %u, not %u: sign on at window %u",
                     self->slots[i].window, window, window);
            return HALLBUS__STATUS_CODE__PERMISSION_DENIED;
        }
    snprintf(msg, msglen,
             "no such session at this counter (ended, or never given); sign on at window %u "
             "first",
             window);
    return HALLBUS__STATUS_CODE__PERMISSION_DENIED;
}

int sessions_close(sessions_t *self, const char *token, uint32_t window, const char *why,
                   session_ended_t *ended, char *msg, size_t msglen)
{
    session_slot_t *slot = slot_of(self, window);
    if (!slot) {
        snprintf(msg, msglen, "window %u is not one of this counter's", window);
        return -1;
    }
    if (!token || !same_token(slot->now.token, token)) {
        snprintf(msg, msglen, "no session of yours at window %u: nothing to sign off", window);
        return -1;
    }
    end(slot, why, ended);
    return 0;
}

unsigned sessions_sweep(sessions_t *self, int64_t now, sessions_keep_fn keep, void *arg,
                        session_ended_t *ended, unsigned max)
{
    unsigned n = 0;
    char buf[SESSION_WHY_MAX];
    for (unsigned i = 0; i < self->count && n < max; i++) {
        session_slot_t *s = &self->slots[i];
        if (!s->now.token[0])
            continue;
        const char *why = stale(self, &s->now, now, buf, sizeof buf);
        if (!why && keep && !keep(s->now.staff, arg))
            why = "account disabled or removed";
        if (why)
            end(s, why, &ended[n++]);
    }
    return n;
}
