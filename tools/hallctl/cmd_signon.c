/* Signing on and off at a window through its counter. The password goes
 * to the counter only (which never forwards it); the session token it
 * answers with is kept for the window's next commands (counter_route.c). */
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hallbus/accounts.h"
#include "hallctl.h"
#include "text.h"

static uint32_t signed_window;

static void print_signed_on(hallctl_t *ctl, const Hallbus__Reply *reply)
{
    char path[700];
    if (!reply->session || !*reply->session ||
        hc_session_save(ctl, signed_window, reply->session) != 0 ||
        hc_session_path(ctl, signed_window, path, sizeof path) != 0) {
        tx_line(stderr, "hallctl: signed on, but the session could not be kept");
        return;
    }
    tx_line(stdout, "%s; session kept in %s", reply->message, path);
}

static void print_signed_off(hallctl_t *ctl, const Hallbus__Reply *reply)
{
    hc_session_forget(ctl, signed_window);
    tx_line(stdout, "%s", reply->message);
}

/* One line of stdin, without its end; -1 if none. */
static int read_stdin_line(char *buf, size_t len)
{
    if (!fgets(buf, (int)len, stdin))
        return -1;
    buf[strcspn(buf, "\r\n")] = '\0';
    return buf[0] ? 0 : -1;
}

int cmd_signon(hallctl_t *ctl, int argc, char **argv)
{
    enum { O_STAFF = HC_OPT_FIRST, O_PASSWORD_STDIN };
    static const hc_opt_t opts[] = {
        {"staff", true, O_STAFF}, {"password-stdin", false, O_PASSWORD_STDIN}, {0}};
    hc_getopt_t g;
    hc_getopt_init(&g, ctl, argc, argv, opts, false);
    const char *arg, *staff = NULL;
    bool from_stdin = false;
    int id;
    while ((id = hc_getopt(&g, &arg)) > 0) {
        if (id == O_STAFF)
            staff = arg;
        else
            from_stdin = true;
    }
    if (id < 0)
        return g.status;
    Hallbus__SignOn so = HALLBUS__SIGN_ON__INIT;
    int rc = hc_want_args(&g, 1, "window number W");
    if (rc == 0)
        rc = hc_parse_window(ctl, g.pos[0], &so.window);
    if (rc == 0 && (!staff || !*staff))
        staff = ctl->staff;
    if (rc == 0 && (!staff || !*staff))
        rc = hc_usage_error(ctl, "--staff is required: who signs on");
    if (rc != 0)
        return rc;
    char password[HB_PASSWORD_MAX + 2];
    if (from_stdin) {
        if (read_stdin_line(password, sizeof password) != 0) {
            tx_line(stderr, "hallctl: no password on stdin");
            return HC_EXIT_USAGE;
        }
    } else {
        if (!isatty(STDIN_FILENO))
            return hc_usage_error(ctl, "no terminal to ask the password on; give it with "
                                       "--password-stdin");
        char *typed = getpass("password: ");
        if (!typed || strlen(typed) >= sizeof password)
            return HC_EXIT_USAGE;
        snprintf(password, sizeof password, "%s", typed);
        sodium_memzero(typed, strlen(typed));
    }
    so.staff = (char *)staff;
    so.password = password;
    signed_window = so.window;
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    req.command_case = HALLBUS__REQUEST__COMMAND_SIGN_ON;
    req.sign_on = &so;
    rc = hc_run(ctl, &req, print_signed_on, false);
    sodium_memzero(password, sizeof password);
    return rc;
}

int cmd_signoff(hallctl_t *ctl, int argc, char **argv)
{
    Hallbus__SignOff so = HALLBUS__SIGN_OFF__INIT;
    int status;
    if (hc_only_window(ctl, argc, argv, &so.window, &status) != 0)
        return status;
    signed_window = so.window;
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    req.command_case = HALLBUS__REQUEST__COMMAND_SIGN_OFF;
    req.sign_off = &so;
    return hc_run(ctl, &req, print_signed_off, false);
}
