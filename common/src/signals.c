#include "hallbus/signals.h"

#include <signal.h>
#include <unistd.h>

#include "hallbus/log.h"

static void on_signal(uv_signal_t *h, int signum)
{
    hb_signals_t *self = h->data;
    if (self->received++ > 0) {
        hb_warn("second signal %d: exiting at once", signum);
        _exit(128 + signum);
    }
    hb_info("signal %d: stopping", signum);
    self->on_stop(self->arg);
}

static void on_hangup(uv_signal_t *h, int signum)
{
    hb_signals_t *self = h->data;
    if (!self->on_reload) {
        hb_info("signal %d (SIGHUP): nothing to reload", signum);
        return;
    }
    hb_info("signal %d (SIGHUP): reloading", signum);
    self->on_reload(self->reload_arg);
}

void hb_signals_on_reload(hb_signals_t *self, void (*on_reload)(void *reload_arg), void *reload_arg)
{
    self->on_reload = on_reload;
    self->reload_arg = reload_arg;
}

int hb_signals_start(hb_signals_t *self, uv_loop_t *loop, void (*on_stop)(void *arg), void *arg)
{
    signal(SIGPIPE, SIG_IGN);
    self->on_stop = on_stop;
    self->arg = arg;
    self->received = 0;
    self->on_reload = NULL;
    self->reload_arg = NULL;
    uv_signal_init(loop, &self->sigint);
    uv_signal_init(loop, &self->sigterm);
    uv_signal_init(loop, &self->sighup);
    self->sigint.data = self->sigterm.data = self->sighup.data = self;
    if (uv_signal_start(&self->sigint, on_signal, SIGINT) != 0 ||
        uv_signal_start(&self->sigterm, on_signal, SIGTERM) != 0 ||
        uv_signal_start(&self->sighup, on_hangup, SIGHUP) != 0)
        return -1;
    /* a pending signal must not keep the loop alive on its own */
    uv_unref((uv_handle_t *)&self->sigint);
    uv_unref((uv_handle_t *)&self->sigterm);
    uv_unref((uv_handle_t *)&self->sighup);
    return 0;
}

void hb_signals_close(hb_signals_t *self)
{
    uv_close((uv_handle_t *)&self->sigint, NULL);
    uv_close((uv_handle_t *)&self->sigterm, NULL);
    uv_close((uv_handle_t *)&self->sighup, NULL);
}
