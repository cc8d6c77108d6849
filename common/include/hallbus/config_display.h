/* The "display:" section of the hall file: settings of hall-display. */
#ifndef HALLBUS_CONFIG_DISPLAY_H
#define HALLBUS_CONFIG_DISPLAY_H

typedef struct {
    char *http; /* address the boards are served on over HTTP, "HOST:PORT"; default "127.0.0.1:8080"
                 */
} hb_display_conf_t;

#endif
