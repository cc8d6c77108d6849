/* SIGINT/SIGTERM on the loop: the first asks the daemon to stop (the
 * callback runs in the loop, never in a signal handler); a second exits at
 * once. SIGPIPE is ignored. */
#ifndef HALLBUS_SIGNALS_H
#define HALLBUS_SIGNALS_H

#include <uv.h>

typedef struct {
    uv_signal_t sigint;
    uv_signal_t sigterm;
    void (*on_stop)(void *arg);
    void *arg;
    int received;
} hb_signals_t;

int hb_signals_start(hb_signals_t *self, uv_loop_t *loop, void (*on_stop)(void *arg), void *arg);
/* Closes both handles; SELF must live until the loop has run their close callbacks. */
void hb_signals_close(hb_signals_t *self);

#endif
