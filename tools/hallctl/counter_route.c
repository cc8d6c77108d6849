/* Window commands through the counters: when the hall file lists counters
 * (counter.instances), a window command for window W goes to the
 * hall-counter that serves W with the session token that `hallctl signon W`
 * stored (the counter acts as the person signed on there, whatever
 * --staff says). Without a list, or with -e, or for a window no counter
 * serves, it goes to hall-queue as before, with --staff as Request.staff.
 *
 * Session tokens live one per hall and window in $HALLBUS_SESSIONS, else
 * $XDG_RUNTIME_DIR/hallbus, else /tmp/hallbus-sessions-UID: a folder of
 * mode 0700, files of mode 0600. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hallbus/envelope.h"
#include "hallctl.h"
#include "text.h"

#define TOKEN_MAX 64

static uint32_t window_of(const Hallbus__Request *req)
{
    if (req->command_case == HALLBUS__REQUEST__COMMAND_SIGN_ON)
        return req->sign_on->window;
    if (req->command_case == HALLBUS__REQUEST__COMMAND_SIGN_OFF)
        return req->sign_off->window;
    return hb_request_window(req);
}

static void sessions_dir(char *out, size_t len)
{
    const char *env = getenv("HALLBUS_SESSIONS");
    const char *run = getenv("XDG_RUNTIME_DIR");
    if (env && *env)
        snprintf(out, len, "%s", env);
    else if (run && *run)
        snprintf(out, len, "%s/hallbus", run);
    else
        snprintf(out, len, "/tmp/hallbus-sessions-%u", (unsigned)getuid());
}

int hc_session_path(hallctl_t *ctl, uint32_t window, char *out, size_t len)
{
    char dir[512];
    sessions_dir(dir, sizeof dir);
    const char *hall = ctl->config ? ctl->config->hall.id : "hall";
    int n = snprintf(out, len, "%s/%s-w%u.session", dir, hall, window);
    return n > 0 && (size_t)n < len ? 0 : -1;
}

int hc_session_save(hallctl_t *ctl, uint32_t window, const char *token)
{
    char dir[512], path[700];
    sessions_dir(dir, sizeof dir);
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return -1;
    if (hc_session_path(ctl, window, path, sizeof path) != 0)
        return -1;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return -1;
    size_t n = strlen(token);
    int rc = write(fd, token, n) == (ssize_t)n ? 0 : -1;
    return close(fd) == 0 ? rc : -1;
}

void hc_session_forget(hallctl_t *ctl, uint32_t window)
{
    char path[700];
    if (hc_session_path(ctl, window, path, sizeof path) == 0)
        unlink(path);
}

/* The stored token for WINDOW into OUT; -1 if none. */
static int session_load(hallctl_t *ctl, uint32_t window, char *out, size_t len)
{
    char path[700];
    if (hc_session_path(ctl, window, path, sizeof path) != 0)
        return -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, out, len - 1);
    close(fd);
    if (n <= 0)
        return -1;
    out[n] = '\0';
    out[strcspn(out, "\r\n")] = '\0';
    return out[0] ? 0 : -1;
}

int hc_counter_route(hallctl_t *ctl, Hallbus__Request *req, const char **endpoint)
{
    static char token[TOKEN_MAX + 1]; /* lives as long as the one request hallctl sends */
    uint32_t window = window_of(req);
    if (window == 0)
        return HC_EXIT_OK;
    bool sign = req->command_case == HALLBUS__REQUEST__COMMAND_SIGN_ON ||
                req->command_case == HALLBUS__REQUEST__COMMAND_SIGN_OFF;
    const char *staff = ctl->staff;
    if ((!staff || !*staff) && req->command_case == HALLBUS__REQUEST__COMMAND_OPEN_WINDOW)
        staff = req->open_window->staff;
    if (!sign && staff && *staff)
        req->staff = (char *)staff; /* hall-queue checks it; a counter takes the session's */
    const hb_counter_instance_t *counter =
        ctl->cmd_endpoint || !ctl->config || !ctl->config->counter.listed
            ? NULL
            : hb_counter_for_window(&ctl->config->counter, window);
    if (!counter) {
        if (sign) {
            tx_line(stderr, "hallctl: no counter serves window %u: signing on is a counter's",
                    window);
            return HC_EXIT_USAGE;
        }
        return HC_EXIT_OK;
    }
    if (req->command_case != HALLBUS__REQUEST__COMMAND_SIGN_ON) {
        if (session_load(ctl, window, token, sizeof token) != 0) {
            tx_line(stderr,
                    "hallctl: window %u is served by counter %s: sign on there first "
                    "(hallctl signon %u --staff ID)",
                    window, counter->id, window);
            return HC_EXIT_USAGE;
        }
        req->session = token;
    }
    *endpoint = counter->endpoint;
    return HC_EXIT_OK;
}
