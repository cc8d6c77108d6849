#include "fixture.h"
#include "hallbus/accounts.h"
#include "hallbus/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "hallbus/clock.h"
#include "hallbus/envelope.h"

extern char **environ;

static const char DEFAULT_HALL[] = "services:\n"
                                   "  - {prefix: A, name: General, target_minutes: 10}\n"
                                   "  - {prefix: B, name: Licences, quota: 5}\n"
                                   "  - {prefix: C, name: Enquiries}\n"
                                   "windows:\n"
                                   "  - {number: 1, services: [A, B]}\n"
                                   "  - {number: 2, services: [B]}\n"
                                   "  - {number: 3, services: [A, B, C]}\n";

static const char *bin_dir(void)
{
    const char *d = getenv("HALLBUS_BIN");
    return d ? d : "build/bin";
}

/* A loopback port the kernel says is free now. */
int hb_free_port(void)
{
    void *ctx = zmq_ctx_new();
    void *s = zmq_socket(ctx, ZMQ_PUB);
    int port = -1;
    if (zmq_bind(s, "tcp://127.0.0.1:*") == 0) {
        char ep[64];
        size_t len = sizeof ep;
        zmq_getsockopt(s, ZMQ_LAST_ENDPOINT, ep, &len);
        port = atoi(strrchr(ep, ':') + 1);
    }
    int linger = 0;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    zmq_close(s);
    zmq_ctx_term(ctx);
    return port;
}

pid_t hb_fixture_spawn(hb_fixture_t *fx, const char *name, const char *const *args)
{
    char path[512], log[512];
    snprintf(path, sizeof path, "%s/%s", bin_dir(), name);
    snprintf(log, sizeof log, "%s/%s.log", fx->dir, name);
    const char *argv[32] = {path};
    int n = 1;
    for (; args && args[n - 1] && n < 31; n++)
        argv[n] = args[n - 1];
    argv[n] = NULL;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    int rc = posix_spawn(&pid, path, &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        fprintf(stderr, "fixture: cannot start %s: %s\n", path, strerror(rc));
        return -1;
    }
    return pid;
}

int hb_fixture_start_bus(hb_fixture_t *fx)
{
    const char *args[] = {"-c", fx->config, NULL};
    fx->bus = hb_fixture_spawn(fx, "hall-bus", args);
    return fx->bus > 0 ? 0 : -1;
}

int hb_fixture_start_queue(hb_fixture_t *fx)
{
    const char *args[] = {"-c", fx->config, NULL};
    fx->queue = hb_fixture_spawn(fx, "hall-queue", args);
    return fx->queue > 0 ? 0 : -1;
}

bool hb_fixture_wait_ready(hb_fixture_t *fx, int timeout_ms)
{
    int64_t deadline = hb_mono_us() + (int64_t)timeout_ms * 1000;
    while (hb_mono_us() < deadline) {
        hb_rpc_t *probe = hb_rpc_new_secure(fx->ctx, fx->cmd_ep, 200, fx->sec, "hall-queue");
        Hallbus__Request req = HALLBUS__REQUEST__INIT;
        Hallbus__GetStatus gs = HALLBUS__GET_STATUS__INIT;
        req.command_case = HALLBUS__REQUEST__COMMAND_GET_STATUS;
        req.get_status = &gs;
        char err[128];
        Hallbus__Reply *r = hb_rpc_call(probe, &req, err, sizeof err);
        hb_rpc_destroy(&probe);
        if (r) {
            hallbus__reply__free_unpacked(r, NULL);
            return true;
        }
    }
    return false;
}

/* The hall's keys, as its operator makes them (hallctl keys init), and the
 * test's own: hallctl's. */
static int make_keys(hb_fixture_t *fx, bool curve)
{
    char out[4096];
    const char *args[] = {"keys", "init", NULL};
    int rc = hb_fixture_hallctl(fx, out, sizeof out, args);
    if (rc != 0) {
        fprintf(stderr, "fixture: hallctl keys init failed (%d): %s\n", rc, out);
        return -1;
    }
    hb_security_conf_t conf = {.keys_dir = fx->keys_dir, .curve = curve};
    char err[HB_KEYS_ERR_MAX];
    fx->sec = hb_security_start(fx->ctx, &conf, "hallctl", false, err);
    if (!fx->sec) {
        fprintf(stderr, "fixture: %s\n", err);
        return -1;
    }
    return 0;
}

int hb_fixture_secure(hb_fixture_t *fx, void *sock, const char *server, const char *key)
{
    if (!hb_security_on(fx->sec))
        return 0;
    hb_security_t *own = fx->sec;
    char err[HB_KEYS_ERR_MAX];
    if (key) {
        hb_security_conf_t conf = {.keys_dir = fx->keys_dir, .curve = true};
        if (!(own = hb_security_start(fx->ctx, &conf, key, false, err))) {
            fprintf(stderr, "fixture: %s\n", err);
            return -1;
        }
    }
    int rc = hb_security_connect(own, sock, server);
    if (own != fx->sec)
        hb_security_stop(&own);
    return rc;
}

hb_rpc_t *hb_fixture_rpc(hb_fixture_t *fx, const char *endpoint, const char *server,
                         const char *key, int timeout_ms)
{
    if (!key || !hb_security_on(fx->sec))
        return hb_rpc_new_secure(fx->ctx, endpoint, timeout_ms, fx->sec, server);
    hb_security_conf_t conf = {.keys_dir = fx->keys_dir, .curve = true};
    char err[HB_KEYS_ERR_MAX];
    hb_security_t *own = hb_security_start(fx->ctx, &conf, key, false, err);
    if (!own) {
        fprintf(stderr, "fixture: %s\n", err);
        return NULL;
    }
    hb_rpc_t *rpc = hb_rpc_new_secure(fx->ctx, endpoint, timeout_ms, own, server);
    hb_security_stop(&own); /* the socket has copied the keys */
    return rpc;
}

int hb_fixture_key_new(hb_fixture_t *fx, const char *name, const char *role)
{
    char out[2048];
    const char *args[] = {"keys", "new", name, "--role", role, NULL};
    int rc = hb_fixture_hallctl(fx, out, sizeof out, args);
    if (rc != 0)
        fprintf(stderr, "fixture: hallctl keys new %s failed (%d): %s\n", name, rc, out);
    return rc == 0 ? 0 : -1;
}

int hb_fixture_start(hb_fixture_t *fx, const hb_fixture_opts_t *opts)
{
    memset(fx, 0, sizeof *fx);
    snprintf(fx->dir, sizeof fx->dir, "/tmp/hallbus-test-XXXXXX");
    if (!mkdtemp(fx->dir))
        return -1;
    snprintf(fx->config, sizeof fx->config, "%s/hall.yaml", fx->dir);
    snprintf(fx->db, sizeof fx->db, "%s/queue.db", fx->dir);
    snprintf(fx->keys_dir, sizeof fx->keys_dir, "%s/keys", fx->dir);
    snprintf(fx->cmd_ep, sizeof fx->cmd_ep, "tcp://127.0.0.1:%d", hb_free_port());
    snprintf(fx->pub_ep, sizeof fx->pub_ep, "tcp://127.0.0.1:%d", hb_free_port());
    snprintf(fx->sub_ep, sizeof fx->sub_ep, "tcp://127.0.0.1:%d", hb_free_port());
    FILE *f = fopen(fx->config, "w");
    if (!f)
        return -1;
    fprintf(f,
            "hall:\n  id: t1\n  name: Test hall\n%s"
            "endpoints:\n  command: \"%s\"\n  bus_pub: \"%s\"\n  bus_sub: \"%s\"\n"
            "security:\n  keys_dir: \"%s\"\n  curve: %s\n"
            "queue:\n  db: \"%s\"\n  heartbeat_ms: %u\n%s%s",
            opts && opts->services_windows_yaml ? opts->services_windows_yaml : DEFAULT_HALL,
            fx->cmd_ep, fx->pub_ep, fx->sub_ep, fx->keys_dir,
            opts && opts->plain ? "false" : "true", fx->db,
            opts && opts->heartbeat_ms ? opts->heartbeat_ms : 100,
            opts && opts->queue_yaml ? opts->queue_yaml : "",
            opts && opts->extra_yaml ? opts->extra_yaml : "");
    fclose(f);
    fx->ctx = zmq_ctx_new();
    if (make_keys(fx, !(opts && opts->plain)) != 0)
        return -1;
    if (hb_fixture_start_bus(fx) != 0 || hb_fixture_start_queue(fx) != 0)
        return -1;
    if (!hb_fixture_wait_ready(fx, 10000)) {
        fprintf(stderr, "fixture: hall-queue did not answer within 10 s (see %s/hall-queue.log)\n",
                fx->dir);
        return -1;
    }
    fx->rpc = hb_rpc_new_secure(fx->ctx, fx->cmd_ep, 5000, fx->sec, "hall-queue");
    return 0;
}

int hb_fixture_kill(pid_t *pid, int sig)
{
    if (*pid <= 0)
        return 0;
    kill(*pid, sig);
    int status = 0;
    int64_t deadline = hb_mono_us() + 5000000;
    while (waitpid(*pid, &status, WNOHANG) == 0) {
        if (hb_mono_us() > deadline) {
            kill(*pid, SIGKILL);
            waitpid(*pid, &status, 0);
            break;
        }
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
    }
    *pid = 0;
    return status;
}

/* A daemon asked to stop must exit 0: anything else is a crash, a
 * sanitizer report or a leak, and its log says which. */
static int check_exit(hb_fixture_t *fx, const char *name, pid_t *pid)
{
    if (*pid <= 0)
        return 0;
    int status = hb_fixture_kill(pid, SIGTERM);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    fprintf(stderr, "fixture: %s did not stop cleanly (%s %d); its log:\n", name,
            WIFEXITED(status) ? "exit status" : "signal",
            WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
    char cmd[400];
    snprintf(cmd, sizeof cmd, "tail -n 60 '%s/%s.log' >&2", fx->dir, name);
    if (system(cmd) != 0)
        fprintf(stderr, "fixture: (no log)\n");
    return -1;
}

int hb_fixture_stop(hb_fixture_t *fx)
{
    hb_rpc_destroy(&fx->rpc);
    int rc = check_exit(fx, "hall-queue", &fx->queue);
    rc |= check_exit(fx, "hall-bus", &fx->bus);
    /* shutdown, not term: term waits for every socket to be closed, and a
     * test that failed half-way may still hold one; the process ends soon */
    hb_security_stop(&fx->sec);
    if (fx->ctx && !fx->ctx_shut) {
        zmq_ctx_shutdown(fx->ctx);
        fx->ctx_shut = true;
    }
    if (!getenv("HALLBUS_KEEP") && fx->dir[0]) {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", fx->dir);
        if (system(cmd) != 0)
            fprintf(stderr, "fixture: could not remove %s\n", fx->dir);
    }
    return rc;
}

Hallbus__Reply *hb_fixture_call(hb_fixture_t *fx, Hallbus__Request *req)
{
    char err[128];
    Hallbus__Reply *r = hb_rpc_call(fx->rpc, req, err, sizeof err);
    if (!r)
        fprintf(stderr, "fixture: %s\n", err);
    return r;
}

static int code_and_number(Hallbus__Reply *r, char *number)
{
    if (!r)
        return -1;
    int code = r->code;
    if (number) {
        number[0] = '\0';
        if (r->result_case == HALLBUS__REPLY__RESULT_TICKET)
            snprintf(number, 16, "%s", r->ticket->number);
    }
    hallbus__reply__free_unpacked(r, NULL);
    return code;
}

int hb_fx_take(hb_fixture_t *fx, const char *service, bool green, char *number)
{
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    Hallbus__TakeTicket c = HALLBUS__TAKE_TICKET__INIT;
    c.service = (char *)service;
    if (green) {
        c.priority = HALLBUS__PRIORITY__GREEN;
        c.green_reason = HALLBUS__GREEN_REASON__ELDERLY;
    }
    req.command_case = HALLBUS__REQUEST__COMMAND_TAKE_TICKET;
    req.take_ticket = &c;
    return code_and_number(hb_fixture_call(fx, &req), number);
}

int hb_fx_window(hb_fixture_t *fx, const char *verb, unsigned window, const char *staff)
{
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    Hallbus__OpenWindow o = HALLBUS__OPEN_WINDOW__INIT;
    Hallbus__PauseWindow p = HALLBUS__PAUSE_WINDOW__INIT;
    Hallbus__ResumeWindow r = HALLBUS__RESUME_WINDOW__INIT;
    Hallbus__CloseWindow c = HALLBUS__CLOSE_WINDOW__INIT;
    o.window = p.window = r.window = c.window = window;
    if (strcmp(verb, "open") == 0) {
        o.staff = (char *)staff;
        req.command_case = HALLBUS__REQUEST__COMMAND_OPEN_WINDOW;
        req.open_window = &o;
    } else if (strcmp(verb, "pause") == 0) {
        p.reason = (char *)staff;
        req.command_case = HALLBUS__REQUEST__COMMAND_PAUSE_WINDOW;
        req.pause_window = &p;
    } else if (strcmp(verb, "resume") == 0) {
        req.command_case = HALLBUS__REQUEST__COMMAND_RESUME_WINDOW;
        req.resume_window = &r;
    } else {
        req.command_case = HALLBUS__REQUEST__COMMAND_CLOSE_WINDOW;
        req.close_window = &c;
    }
    return code_and_number(hb_fixture_call(fx, &req), NULL);
}

int hb_fx_act(hb_fixture_t *fx, const char *verb, unsigned window, char *number)
{
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    Hallbus__CallNext cn = HALLBUS__CALL_NEXT__INIT;
    Hallbus__Recall rc = HALLBUS__RECALL__INIT;
    Hallbus__MarkNoShow ns = HALLBUS__MARK_NO_SHOW__INIT;
    Hallbus__StartService ss = HALLBUS__START_SERVICE__INIT;
    cn.window = rc.window = ns.window = ss.window = window;
    if (strcmp(verb, "call") == 0) {
        req.command_case = HALLBUS__REQUEST__COMMAND_CALL_NEXT;
        req.call_next = &cn;
    } else if (strcmp(verb, "recall") == 0) {
        req.command_case = HALLBUS__REQUEST__COMMAND_RECALL;
        req.recall = &rc;
    } else if (strcmp(verb, "no-show") == 0) {
        req.command_case = HALLBUS__REQUEST__COMMAND_NO_SHOW;
        req.no_show = &ns;
    } else {
        req.command_case = HALLBUS__REQUEST__COMMAND_START_SERVICE;
        req.start_service = &ss;
    }
    return code_and_number(hb_fixture_call(fx, &req), number);
}

int hb_fx_finish(hb_fixture_t *fx, unsigned window)
{
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    Hallbus__FinishService f = HALLBUS__FINISH_SERVICE__INIT;
    f.window = window;
    f.result = HALLBUS__RESULT__COMPLETED;
    req.command_case = HALLBUS__REQUEST__COMMAND_FINISH_SERVICE;
    req.finish_service = &f;
    return code_and_number(hb_fixture_call(fx, &req), NULL);
}

int hb_fixture_hallctl(hb_fixture_t *fx, char *out, size_t outlen, const char *const *args)
{
    char path[512];
    snprintf(path, sizeof path, "%s/hallctl", bin_dir());
    const char *argv[40] = {path, "-c", fx->config};
    int n = 3;
    for (int i = 0; args[i] && n < 39; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    int pipefd[2];
    if (pipe(pipefd) != 0)
        return -1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&fa, pipefd[0]);
    pid_t pid;
    int rc = posix_spawn(&pid, path, &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(pipefd[1]);
    if (rc != 0) {
        close(pipefd[0]);
        return -1;
    }
    size_t used = 0;
    ssize_t r;
    while ((r = read(pipefd[0], out + used, outlen - 1 - used)) > 0)
        used += (size_t)r;
    out[used] = '\0';
    close(pipefd[0]);
    int status;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

Hallbus__Envelope *hb_fixture_next_event(void *sub, int timeout_ms, bool want_heartbeats)
{
    int64_t deadline = hb_mono_us() + (int64_t)timeout_ms * 1000;
    for (;;) {
        long left = (long)((deadline - hb_mono_us()) / 1000);
        if (left < 0)
            return NULL;
        zmq_pollitem_t item = {sub, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, left) <= 0)
            continue;
        zmq_msg_t topic, body;
        zmq_msg_init(&topic);
        zmq_msg_init(&body);
        zmq_msg_recv(&topic, sub, 0);
        if (!zmq_msg_more(&topic)) {
            zmq_msg_close(&topic);
            zmq_msg_close(&body);
            continue;
        }
        zmq_msg_recv(&body, sub, 0);
        Hallbus__Envelope *env = NULL;
        hb_envelope_decode(zmq_msg_data(&body), zmq_msg_size(&body), &env, NULL);
        zmq_msg_close(&topic);
        zmq_msg_close(&body);
        if (!env)
            continue;
        if (env->event_case == HALLBUS__ENVELOPE__EVENT_HEARTBEAT && !want_heartbeats) {
            hallbus__envelope__free_unpacked(env, NULL);
            continue;
        }
        return env;
    }
}

void *hb_fixture_subscribe(hb_fixture_t *fx, const char *prefix)
{
    void *sub = zmq_socket(fx->ctx, ZMQ_SUB);
    int linger = 0;
    zmq_setsockopt(sub, ZMQ_LINGER, &linger, sizeof linger);
    int hwm = 1000000;
    zmq_setsockopt(sub, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt(sub, ZMQ_SUBSCRIBE, prefix, strlen(prefix));
    /* heartbeats prove the subscription has reached the publisher */
    zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "hall.t1.heartbeat", 17);
    if (hb_fixture_secure(fx, sub, "hall-bus", NULL) != 0) {
        zmq_close(sub);
        return NULL;
    }
    zmq_connect(sub, fx->sub_ep);
    Hallbus__Envelope *hb = hb_fixture_next_event(sub, 10000, true);
    if (!hb) {
        zmq_close(sub);
        return NULL;
    }
    hallbus__envelope__free_unpacked(hb, NULL);
    if (strncmp(prefix, "hall.t1.heartbeat", strlen(prefix)) != 0)
        zmq_setsockopt(sub, ZMQ_UNSUBSCRIBE, "hall.t1.heartbeat", 17);
    return sub;
}

bool hb_wait_until(bool (*cond)(void *arg), void *arg, int timeout_ms)
{
    int64_t deadline = hb_mono_us() + (int64_t)timeout_ms * 1000;
    for (;;) {
        if (cond(arg))
            return true;
        if (hb_mono_us() > deadline)
            return false;
        struct timespec ts = {0, 5000000};
        nanosleep(&ts, NULL);
    }
}

int hb_fixture_add_staff(hb_fixture_t *fx, const char *id, const char *password)
{
    char path[400], err[HB_ACCOUNTS_ERR_MAX];
    snprintf(path, sizeof path, "%s/keys/staff.json", fx->dir);
    hb_accounts_t *acc = hb_accounts_new(path);
    int rc = acc ? 0 : -1;
    if (rc == 0 && (hb_accounts_load(acc, err, sizeof err) != 0 ||
                    hb_accounts_add(acc, id, id, "", HB_STAFF_ROLE_STAFF, password, hb_now_us(),
                                    err, sizeof err) != 0 ||
                    hb_accounts_save(acc, err, sizeof err) != 0)) {
        fprintf(stderr, "fixture: staff %s: %s\n", id, err);
        rc = -1;
    }
    hb_accounts_destroy(&acc);
    return rc;
}

int hb_temp_file(char *template, const char *name, const char *text, char *path, size_t pathlen)
{
    if (!mkdtemp(template))
        return -1;
    snprintf(path, pathlen, "%s/%s", template, name);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    int rc = fputs(text, f) < 0 ? -1 : 0;
    return fclose(f) == 0 ? rc : -1;
}
