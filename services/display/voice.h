/* Announcements rendered to audio files with espeak-ng, for a hall's own
 * loudspeakers: one espeak-ng process at a time, in announcement order, on
 * the loop (uv_spawn), so the daemon never waits for it. Each announcement
 * gives DIR/<id>-zh.wav and/or DIR/<id>-en.wav (by the board's language),
 * written under a temporary name and renamed when complete; the last
 * DV_VOICE_KEEP announcements' files are kept, older ones removed. */
#ifndef DISPLAY_VOICE_H
#define DISPLAY_VOICE_H

#include <uv.h>

#include "hallbus/config_display.h"
#include "view.h"

#define DV_VOICE_QUEUE_MAX 256 /* waiting to be rendered; beyond, the oldest are dropped */
#define DV_VOICE_KEEP 200

typedef struct dv_voice_s dv_voice_t;

/* PROGRAM is "espeak-ng" (found on PATH) or a path. Returns NULL when
 * memory runs out or DIR cannot be made. */
dv_voice_t *dv_voice_new(uv_loop_t *loop, const char *dir, const char *program,
                         hb_display_lang_t lang);
void dv_voice_add(dv_voice_t *self, const dv_announce_t *a);

unsigned long dv_voice_rendered(const dv_voice_t *self);
unsigned long dv_voice_failed(const dv_voice_t *self);

/* Stops (a running espeak-ng is killed) and frees SELF once its handle is
 * closed; *SELF is set to NULL. NULL-safe. */
void dv_voice_close(dv_voice_t **self);

#endif
