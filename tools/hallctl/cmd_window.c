/* Opening, pausing, resuming and closing a window. */
#include "hallctl.h"
#include "print.h"
#include "request_cmd.h"

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
    static const hc_field_t opts[] = {HC_FIELD("reason", HC_TEXT_ANY, Hallbus__PauseWindow, reason),
                                      {0}};
    static const hc_field_t args[] = {
        HC_ARG("W", "window number W", HC_WINDOW, Hallbus__PauseWindow, window), {0}};
    static const hc_request_cmd_t cmd = {.which = HALLBUS__REQUEST__COMMAND_PAUSE_WINDOW,
                                         .options = opts,
                                         .args = args,
                                         .print = pr_window};
    return hc_run_request(ctl, argc, argv, &cmd);
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
