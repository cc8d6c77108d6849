/* The "display:" section of the hall file: settings of hall-display. */
#ifndef HALLBUS_CONFIG_DISPLAY_H
#define HALLBUS_CONFIG_DISPLAY_H

#include <stdint.h>

/* Which language the boards and the voice use. */
typedef enum {
    HB_DISPLAY_LANG_BOTH = 0, /* Chinese first, then English (the default) */
    HB_DISPLAY_LANG_ZH,
    HB_DISPLAY_LANG_EN,
} hb_display_lang_t;

typedef struct {
    char *http;                 /* "HOST:PORT" the boards are served on; default "127.0.0.1:8080" */
    hb_display_lang_t language; /* "zh", "en" or "both"; default both */
    uint32_t recent_calls;      /* calls shown on the hall board, 1..10; default 6 */
    uint32_t resync_ttl_ms;     /* no event nor heartbeat for this long: resynchronise;
                                   0 (the default) means 3 × queue.heartbeat_ms */
    uint32_t snapshot_timeout_ms; /* a snapshot request unanswered this long is sent again;
                                     default 1000 */
    uint32_t max_clients;         /* live HTTP streams at once; default 10000 */
    uint32_t max_per_client;      /* open HTTP connections from one address; default 32 */
    char *voice_dir; /* announcements rendered to WAV files here with espeak-ng; NULL: none */
    char *espeak;    /* the espeak-ng program; default "espeak-ng" (on PATH) */
} hb_display_conf_t;

#endif
