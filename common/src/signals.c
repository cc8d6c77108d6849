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

int hb_signals_start(hb_signals_t *self, uv_loop_t *loop, void (*on_stop)(void *arg), void *arg)
{
    signal(SIGPIPE, SIG_IGN);
    self->on_stop = on_stop;
    self->arg = arg;
    self->received = 0;
    uv_signal_init(loop, &self->sigint);
    uv_signal_init(loop, &self->sigterm);
    self->sigint.data = self->sigterm.data = self;
    if (uv_signal_start(&self->sigint, on_signal, SIGINT) != 0 ||
        uv_signal_start(&self->sigterm, on_signal, SIGTERM) != 0)
        return -1;
    /* a pending signal must not keep the loop alive on its own */
    uv_unref((uv_handle_t *)&self->sigint);
    uv_unref((uv_handle_t *)&self->sigterm);
    return 0;
}

void hb_signals_close(hb_signals_t *self)
{
    uv_close((uv_handle_t *)&self->sigint, NULL);
    uv_close((uv_handle_t *)&self->sigterm, NULL);
}
