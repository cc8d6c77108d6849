/* Opening, pausing, resuming and closing a window. */
#include "hallctl.h"
#include "print.h"

int cmd_window_open(hallctl_t *ctl, int argc, char **argv)
{
    enum { O_STAFF = HC_OPT_FIRST, O_SERVICES };
    static const hc_opt_t opts[] = {{"staff", true, O_STAFF}, {"services", true, O_SERVICES}, {0}};
    Hallbus__OpenWindow open = HALLBUS__OPEN_WINDOW__INIT;
    char **services = NULL; /* owned: freed on every way out */
    hc_getopt_t g;
    hc_getopt_init(&g, ctl, argc, argv, opts, false);
    const char *arg;
    int id, rc = 0;
    while ((id = hc_getopt(&g, &arg)) > 0) {
        switch (id) {
        case O_STAFF:
            rc = hc_parse_text(ctl, "--staff", arg, true);
            open.staff = (char *)arg;
            break;
        case O_SERVICES:
            hc_list_free(services); /* the last --services wins */
            rc = hc_parse_list(ctl, "--services", arg, &services, &open.n_services);
            break;
        }
        if (rc != 0)
            goto done;
    }
    if (id < 0) {
        rc = g.status;
        goto done;
    }
    rc = hc_want_args(&g, 1, "window number W");
    if (rc == 0)
        rc = hc_parse_window(ctl, g.pos[0], &open.window);
    if (rc == 0 && (!open.staff || !*open.staff))
        rc = hc_usage_error(ctl, "--staff is required: who opens the window");
    if (rc == 0) {
        open.services = services;
        Hallbus__Request req = HALLBUS__REQUEST__INIT;
        req.command_case = HALLBUS__REQUEST__COMMAND_OPEN_WINDOW;
        req.open_window = &open;
        rc = hc_run(ctl, &req, pr_window, false);
    }
done:
    hc_list_free(services);
    return rc;
}

int cmd_window_pause(hallctl_t *ctl, int argc, char **argv)
{
    enum { O_REASON = HC_OPT_FIRST };
    static const hc_opt_t opts[] = {{"reason", true, O_REASON}, {0}};
    Hallbus__PauseWindow pause = HALLBUS__PAUSE_WINDOW__INIT;
    hc_getopt_t g;
    hc_getopt_init(&g, ctl, argc, argv, opts, false);
    const char *arg;
    int id;
    while ((id = hc_getopt(&g, &arg)) > 0) {
        if (hc_parse_text(ctl, "--reason", arg, false) != 0)
            return HC_EXIT_USAGE;
        pause.reason = (char *)arg;
    }
    if (id < 0)
        return g.status;
    if (hc_want_args(&g, 1, "window number W") != 0 ||
        hc_parse_window(ctl, g.pos[0], &pause.window) != 0)
        return HC_EXIT_USAGE;
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    req.command_case = HALLBUS__REQUEST__COMMAND_PAUSE_WINDOW;
    req.pause_window = &pause;
    return hc_run(ctl, &req, pr_window, false);
}

int cmd_window_resume(hallctl_t *ctl, int argc, char **argv)
{
    return hc_run_window_command(ctl, argc, argv, HALLBUS__REQUEST__COMMAND_RESUME_WINDOW,
                                 pr_window);
}

int cmd_window_close(hallctl_t *ctl, int argc, char **argv)
{
    return hc_run_window_command(ctl, argc, argv, HALLBUS__REQUEST__COMMAND_CLOSE_WINDOW,
                                 pr_window);
}
