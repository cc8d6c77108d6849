#include "voice.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hallbus/log.h"

typedef struct {
    int64_t id;
    char text[DV_TEXT_MAX];
    char lang[4]; /* "zh" or "en" */
} job_t;

struct dv_voice_s {
    uv_loop_t *loop;
    char *dir;
    char *program;
    hb_display_lang_t lang;
    job_t queue[DV_VOICE_QUEUE_MAX];
    size_t head, count;
    uv_process_t proc;
    bool running, closing, disabled;
    job_t current;
    char tmp[512], final[512];
    int64_t kept[DV_VOICE_KEEP];
    size_t kept_next, kept_count;
    unsigned long rendered, failed, dropped;
};

dv_voice_t *dv_voice_new(uv_loop_t *loop, const char *dir, const char *program,
                         hb_display_lang_t lang)
{
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        hb_error("voice: cannot make %s: %s", dir, strerror(errno));
        return NULL;
    }
    dv_voice_t *v = calloc(1, sizeof *v);
    if (!v)
        return NULL;
    v->loop = loop;
    v->dir = strdup(dir);
    v->program = strdup(program);
    v->lang = lang;
    if (!v->dir || !v->program) {
        free(v->dir);
        free(v->program);
        free(v);
        return NULL;
    }
    return v;
}

static void path_of(const dv_voice_t *v, int64_t id, const char *lang, const char *suffix,
                    char *out, size_t len)
{
    snprintf(out, len, "%s/%lld-%s.wav%s", v->dir, (long long)id, lang, suffix);
}

/* Keeps the files of the last DV_VOICE_KEEP announcements. */
static void keep(dv_voice_t *v, int64_t id)
{
    if (v->kept_count > 0 && v->kept[(v->kept_next + DV_VOICE_KEEP - 1) % DV_VOICE_KEEP] == id)
        return; /* the other language of the same announcement */
    if (v->kept_count == DV_VOICE_KEEP) {
        int64_t old = v->kept[v->kept_next];
        char p[512];
        path_of(v, old, "zh", "", p, sizeof p);
        unlink(p);
        path_of(v, old, "en", "", p, sizeof p);
        unlink(p);
    } else {
        v->kept_count++;
    }
    v->kept[v->kept_next] = id;
    v->kept_next = (v->kept_next + 1) % DV_VOICE_KEEP;
}

static void next(dv_voice_t *v);

static void on_closed(uv_handle_t *h)
{
    dv_voice_t *v = h->data;
    v->running = false;
    if (v->closing) {
        free(v->dir);
        free(v->program);
        free(v);
        return;
    }
    next(v);
}

static void on_process_exit(uv_process_t *p, int64_t status, int sig)
{
    dv_voice_t *v = p->data;
    if (status == 0 && sig == 0 && rename(v->tmp, v->final) == 0) {
        v->rendered++;
        keep(v, v->current.id);
    } else {
        v->failed++;
        unlink(v->tmp);
        if (v->failed == 1 || v->failed % 100 == 0)
            hb_warn("voice: %s failed (status %lld, signal %d); %lu so far", v->program,
                    (long long)status, sig, v->failed);
    }
    uv_close((uv_handle_t *)p, on_closed);
}

static void next(dv_voice_t *v)
{
    if (v->running || v->closing || v->disabled || v->count == 0)
        return;
    v->current = v->queue[v->head];
    v->head = (v->head + 1) % DV_VOICE_QUEUE_MAX;
    v->count--;
    path_of(v, v->current.id, v->current.lang, ".tmp", v->tmp, sizeof v->tmp);
    path_of(v, v->current.id, v->current.lang, "", v->final, sizeof v->final);
    /* cmn: Mandarin; the text goes as one argument, never through a shell */
    char *args[] = {v->program,
                    "-v",
                    strcmp(v->current.lang, "zh") == 0 ? "cmn" : "en",
                    "-s",
                    "150",
                    "-w",
                    v->tmp,
                    v->current.text,
                    NULL};
    uv_process_options_t o = {0};
    o.file = v->program;
    o.args = args;
    o.exit_cb = on_process_exit;
    uv_stdio_container_t stdio[3] = {
        {.flags = UV_IGNORE}, {.flags = UV_IGNORE}, {.flags = UV_INHERIT_FD, .data.fd = 2}};
    o.stdio = stdio;
    o.stdio_count = 3;
    v->proc.data = v;
    int rc = uv_spawn(v->loop, &v->proc, &o);
    v->running = true;
    if (rc != 0) {
        hb_error("voice: cannot run %s: %s; no more audio files", v->program, uv_strerror(rc));
        v->disabled = true;
        v->failed++;
        uv_close((uv_handle_t *)&v->proc, on_closed);
    }
}

static void push(dv_voice_t *v, int64_t id, const char *text, const char *lang)
{
    if (v->count == DV_VOICE_QUEUE_MAX) { /* far behind: the oldest is no news any more */
        v->head = (v->head + 1) % DV_VOICE_QUEUE_MAX;
        v->count--;
        v->dropped++;
    }
    job_t *j = &v->queue[(v->head + v->count) % DV_VOICE_QUEUE_MAX];
    j->id = id;
    snprintf(j->text, sizeof j->text, "%s", text);
    snprintf(j->lang, sizeof j->lang, "%s", lang);
    v->count++;
}

void dv_voice_add(dv_voice_t *v, const dv_announce_t *a)
{
    if (v->closing || v->disabled)
        return;
    if (v->lang != HB_DISPLAY_LANG_EN)
        push(v, a->id, a->zh, "zh");
    if (v->lang != HB_DISPLAY_LANG_ZH)
        push(v, a->id, a->en, "en");
    next(v);
}

unsigned long dv_voice_rendered(const dv_voice_t *v)
{
    return v->rendered;
}

unsigned long dv_voice_failed(const dv_voice_t *v)
{
    return v->failed;
}

void dv_voice_close(dv_voice_t **vp)
{
    dv_voice_t *v = *vp;
    if (!v)
        return;
    *vp = NULL;
    v->closing = true;
    if (v->running) {
        /* its exit closes the handle, whose close frees */
        if (!uv_is_closing((uv_handle_t *)&v->proc))
            uv_process_kill(&v->proc, SIGTERM);
        return;
    }
    free(v->dir);
    free(v->program);
    free(v);
}
