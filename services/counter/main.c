/* hall-counter: the window side of a hall.
 *
 * Serves a set of windows: their terminals' commands are checked and
 * forwarded to hall-queue, and the services in progress there are timed
 * against their target times. See README.md in this directory. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>
#include <zmq.h>

#include "counter.h"
#include "hallbus/clock.h"
#include "hallbus/daemon.h"
#include "hallbus/log.h"

#define TICK_MS 100

counter_window_t *counter_window(counter_t *c, uint32_t number)
{
    unsigned lo = 0, hi = c->self.windows_count;
    while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 2;
        if (c->windows[mid].number == number)
            return &c->windows[mid];
        if (c->windows[mid].number < number)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static void on_tick(uv_timer_t *t)
{
    counter_t *c = t->data;
    timers_check(c, hb_now_us());
    signon_tick(c, hb_now_us(), false);
}

static void on_stats(uv_timer_t *t)
{
    counter_t *c = t->data;
    const counter_stats_t *s = &c->stats;
    hb_server_counters_t none = {0};
    const hb_server_counters_t *in = c->terminals ? hb_server_counters(c->terminals) : &none;
    unsigned long late = c->queue ? hb_client_counters(c->queue)->late : 0;
    hb_follow_sub_counters_t f = {0};
    if (c->follow)
        f = hb_follow_sub_counters(c->follow);
    hb_info("forwarded %lu command(s), answered %lu, refused %lu (malformed %lu, badly framed "
            "%lu, not for a counter %lu), timed out %lu, late replies %lu; %lu overtime "
            "warning(s); %lu snapshot(s), %lu undecodable event(s); seq %llu",
            s->forwarded, s->answered, s->refused, in->malformed + in->too_large, in->bad_framing,
            s->unknown, s->timeouts, late, s->overtime, f.follower.snapshots, f.malformed,
            (unsigned long long)c->last_seq);
}

static void on_stop(void *arg)
{
    counter_t *c = arg;
    /* the client first: the terminals still waiting are answered (its
     * callbacks, cancelled) through the server, which closes after */
    hb_client_close(&c->queue);
    c->stopping = true;
    hb_server_close(&c->terminals);
    hb_follow_sub_close(&c->follow);
    uv_close((uv_handle_t *)&c->tick, NULL);
    uv_close((uv_handle_t *)&c->stats_timer, NULL);
    hb_signals_close(&c->signals);
}

static const char USAGE[] =
    "usage: hall-counter -c HALL.yaml [--id ID] [--windows 1-6,9] [--endpoint tcp://...]\n"
    "                    [--log-level debug|info|warn|error]\n"
    "  The window side of a hall: window terminals connect to its endpoint; their\n"
    "  commands go on to hall-queue; services past their target time are reported.\n"
    "  --id picks one of counter.instances (needed when the hall lists several);\n"
    "  --windows and --endpoint override what the hall file says for it.\n";

typedef struct {
    const char *id, *windows, *endpoint;
} counter_options_t;

static int on_option(int opt, const char *arg, void *ctx)
{
    counter_options_t *o = ctx;
    if (opt == 'i')
        o->id = arg;
    else if (opt == 'w')
        o->windows = arg;
    else
        o->endpoint = arg;
    return 0;
}

/* Settles which counter this is and what it serves. 0, or -1 after saying why. */
static int pick_instance(counter_t *c, const char *id, const char *windows, const char *endpoint)
{
    const hb_counter_conf_t *conf = &c->config->counter;
    const hb_counter_instance_t *inst = NULL;
    if (id) {
        inst = hb_counter_instance(conf, id);
        if (!inst && conf->instances_count > 1) {
            hb_error("%s: the hall lists no counter \"%s\" in counter.instances", c->config->path,
                     id);
            return -1;
        }
        if (!inst) /* a hall with one counter: that one, under the name given */
            inst = &conf->instances[0];
    } else if (conf->instances_count == 1) {
        inst = &conf->instances[0];
    } else {
        char ids[256] = "";
        for (unsigned i = 0; i < conf->instances_count; i++)
            snprintf(ids + strlen(ids), sizeof ids - strlen(ids), "%s%s", i ? ", " : "",
                     conf->instances[i].id);
        hb_error("%s lists %u counters (%s): pick one with --id", c->config->path,
                 conf->instances_count, ids);
        return -1;
    }
    c->self.id = strdup(id ? id : inst->id);
    c->self.endpoint = strdup(endpoint ? endpoint : inst->endpoint);
    if (!c->self.id || !c->self.endpoint)
        return -1;
    if (!windows) {
        c->self.windows =
            malloc((inst->windows_count ? inst->windows_count : 1) * sizeof(uint32_t));
        if (!c->self.windows)
            return -1;
        memcpy(c->self.windows, inst->windows, inst->windows_count * sizeof(uint32_t));
        c->self.windows_count = inst->windows_count;
        return 0;
    }
    char why[160];
    if (hb_window_set_parse(windows, &c->self.windows, &c->self.windows_count, why, sizeof why) !=
        0) {
        hb_error("--windows %s: %s", windows, why);
        return -1;
    }
    for (unsigned i = 0; i < c->self.windows_count; i++) {
        uint32_t w = c->self.windows[i];
        const hb_counter_instance_t *other = hb_counter_for_window(conf, w);
        if (!hb_config_window(c->config, w)) {
            hb_error("--windows %s: hall %s has no window %u", windows, c->config->hall.id, w);
            return -1;
        }
        if (conf->instances_count > 1 && other && other != inst) {
            hb_error("--windows %s: window %u is served by counter %s in %s", windows, w, other->id,
                     c->config->path);
            return -1;
        }
    }
    return 0;
}

static void destroy(counter_t *c)
{
    signon_close(c);
    ot_free(&c->overtime);
    free(c->windows);
    free(c->self.id);
    free(c->self.endpoint);
    free(c->self.windows);
    hb_config_destroy(&c->config);
}

int main(int argc, char **argv)
{
    counter_options_t o = {0};
    static const struct option extra[] = {{"id", required_argument, NULL, 'i'},
                                          {"windows", required_argument, NULL, 'w'},
                                          {"endpoint", required_argument, NULL, 'e'},
                                          {0}};
    hb_daemon_spec_t spec = {"hall-counter", USAGE, extra, "i:w:e:", on_option, &o, 0, NULL};
    /* large (the sockets' state lives elsewhere); static keeps it off the stack */
    static counter_t c;
    hb_daemon_start_t start = hb_daemon_start(&spec, argc, argv, &c.config);
    if (start != HB_DAEMON_RUN)
        return hb_daemon_exit_status(start);
    const char *id = o.id, *windows = o.windows, *endpoint = o.endpoint;
    if (pick_instance(&c, id, windows, endpoint) != 0) {
        destroy(&c);
        return 2;
    }
    c.route = (route_table_t){.config = c.config, .self = &c.self};
    snprintf(c.actor, sizeof c.actor, "hall-counter/%s", c.self.id);
    c.windows = calloc(c.self.windows_count ? c.self.windows_count : 1, sizeof *c.windows);
    if (!c.windows || ot_init(&c.overtime, c.self.windows, c.self.windows_count,
                              c.config->counter.overtime_unit_ms) != 0) {
        hb_error("out of memory");
        destroy(&c);
        return 1;
    }
    for (unsigned i = 0; i < c.self.windows_count; i++)
        c.windows[i].number = c.self.windows[i];

    c.ctx = zmq_ctx_new();
    /* the first counter of the hall's list is "hall-counter", the others
     * "hall-counter-ID" (as hallctl keys init names them) */
    const hb_counter_conf_t *cc = &c.config->counter;
    char key[HB_KEY_NAME_MAX + 1] = "hall-counter", err[HB_KEYS_ERR_MAX];
    if (cc->instances_count > 1 && strcmp(c.self.id, cc->instances[0].id) != 0)
        snprintf(key, sizeof key, "hall-counter-%s", c.self.id);
    c.security = hb_security_start(c.ctx, &c.config->security, key, true, err);
    if (!c.security) {
        hb_error("refusing to start: %s (make the hall's keys: hallctl keys init)", err);
        zmq_ctx_term(c.ctx);
        destroy(&c);
        return 2;
    }
    c.loop = uv_default_loop();
    if (signon_open(&c) != 0 || terminals_open(&c) != 0 || forward_open(&c) != 0 ||
        watch_open(&c) != 0)
        return 1; /* said why; exiting closes what was opened */
    uv_timer_init(c.loop, &c.tick);
    uv_timer_init(c.loop, &c.stats_timer);
    c.tick.data = c.stats_timer.data = &c;
    uv_timer_start(&c.tick, on_tick, 0, TICK_MS);
    uv_timer_start(&c.stats_timer, on_stats, 60000, 60000);
    hb_signals_start(&c.signals, c.loop, on_stop, &c);
    hb_signals_on_reload(&c.signals, hb_security_on_sighup, c.security);

    char served[256];
    hb_window_set_format(c.self.windows, c.self.windows_count, served, sizeof served);
    hb_info("counter %s of hall %s ready: windows %s; terminals on %s; hall-queue at %s; events "
            "from %s",
            c.self.id, c.config->hall.id, served, c.self.endpoint, c.config->endpoints.command,
            c.config->endpoints.bus_sub);

    uv_run(c.loop, UV_RUN_DEFAULT);

    on_stats(&c.stats_timer);
    hb_security_stop(&c.security);
    zmq_ctx_term(c.ctx);
    int rc = uv_loop_close(c.loop);
    if (rc != 0)
        hb_warn("loop closed with handles still open: %s", uv_strerror(rc));
    destroy(&c);
    hb_info("stopped");
    return rc == 0 ? 0 : 1;
}
