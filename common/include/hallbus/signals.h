/* SIGINT/SIGTERM on the loop: the first asks the daemon to stop (the
 * callback runs in the loop, never in a signal handler); a second exits at
 * once. SIGHUP asks for a reload (hb_signals_on_reload) and never stops
 * the daemon. SIGPIPE is ignored. */
#ifndef HALLBUS_SIGNALS_H
#define HALLBUS_SIGNALS_H

#include <uv.h>

typedef struct {
    uv_signal_t sigint;
    uv_signal_t sigterm;
    uv_signal_t sighup;
    void (*on_stop)(void *arg);
    void *arg;
    void (*on_reload)(void *reload_arg); /* NULL: SIGHUP is logged and ignored */
    void *reload_arg;
    int received;
} hb_signals_t;

int hb_signals_start(hb_signals_t *self, uv_loop_t *loop, void (*on_stop)(void *arg), void *arg);
/* What SIGHUP runs, in the loop (after hb_signals_start). ON_RELOAD NULL:
 * nothing but a log line. RELOAD_ARG is borrowed; it must outlive SELF. */
void hb_signals_on_reload(hb_signals_t *self, void (*on_reload)(void *reload_arg),
                          void *reload_arg);
/* Closes the three handles; SELF must live until the loop has run their close callbacks. */
void hb_signals_close(hb_signals_t *self);

#endif
