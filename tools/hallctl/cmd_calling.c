/* The window side of a ticket (叫号 to 办结): call, recall, no-show,
 * transfer, start, finish. Each names the window; the hall knows its ticket. */
#include <stdlib.h>

#include "hallctl.h"
#include "print.h"

/* The commands whose only argument is a window share one shape: their
 * messages hold just the window. */
int hc_run_window_command(hallctl_t *ctl, int argc, char **argv,
                          Hallbus__Request__CommandCase which, hc_printer print)
{
    uint32_t window;
    int status;
    if (hc_only_window(ctl, argc, argv, &window, &status) != 0)
        return status;
    Hallbus__CallNext call = HALLBUS__CALL_NEXT__INIT;
    Hallbus__Recall recall = HALLBUS__RECALL__INIT;
    Hallbus__MarkNoShow no_show = HALLBUS__MARK_NO_SHOW__INIT;
    Hallbus__StartService start = HALLBUS__START_SERVICE__INIT;
    Hallbus__ResumeWindow resume = HALLBUS__RESUME_WINDOW__INIT;
    Hallbus__CloseWindow close = HALLBUS__CLOSE_WINDOW__INIT;
    call.window = recall.window = no_show.window = window;
    start.window = resume.window = close.window = window;
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    req.command_case = which;
    switch (which) {
    case HALLBUS__REQUEST__COMMAND_CALL_NEXT:
        req.call_next = &call;
        break;
    case HALLBUS__REQUEST__COMMAND_RECALL:
        req.recall = &recall;
        break;
    case HALLBUS__REQUEST__COMMAND_NO_SHOW:
        req.no_show = &no_show;
        break;
    case HALLBUS__REQUEST__COMMAND_START_SERVICE:
        req.start_service = &start;
        break;
    case HALLBUS__REQUEST__COMMAND_RESUME_WINDOW:
        req.resume_window = &resume;
        break;
    case HALLBUS__REQUEST__COMMAND_CLOSE_WINDOW:
        req.close_window = &close;
        break;
    default:
        return hc_usage_error(ctl, "not a command of one window");
    }
    return hc_run(ctl, &req, print, false);
}

int cmd_call(hallctl_t *ctl, int argc, char **argv)
{
    return hc_run_window_command(ctl, argc, argv, HALLBUS__REQUEST__COMMAND_CALL_NEXT, pr_called);
}

int cmd_recall(hallctl_t *ctl, int argc, char **argv)
{
    return hc_run_window_command(ctl, argc, argv, HALLBUS__REQUEST__COMMAND_RECALL, pr_recalled);
}

int cmd_no_show(hallctl_t *ctl, int argc, char **argv)
{
    return hc_run_window_command(ctl, argc, argv, HALLBUS__REQUEST__COMMAND_NO_SHOW, pr_no_show);
}

int cmd_start(hallctl_t *ctl, int argc, char **argv)
{
    return hc_run_window_command(ctl, argc, argv, HALLBUS__REQUEST__COMMAND_START_SERVICE,
                                 pr_started);
}

int cmd_transfer(hallctl_t *ctl, int argc, char **argv)
{
    enum { O_REASON = HC_OPT_FIRST };
    static const hc_opt_t opts[] = {{"reason", true, O_REASON}, {0}};
    Hallbus__Transfer transfer = HALLBUS__TRANSFER__INIT;
    hc_getopt_t g;
    hc_getopt_init(&g, ctl, argc, argv, opts, false);
    const char *arg;
    int id;
    while ((id = hc_getopt(&g, &arg)) > 0) {
        if (hc_parse_text(ctl, "--reason", arg, false) != 0)
            return HC_EXIT_USAGE;
        transfer.reason = (char *)arg;
    }
    if (id < 0)
        return g.status;
    if (g.npos < 2)
        return hc_usage_error(ctl, "missing %s", g.npos == 0 ? "window W and SERVICE" : "SERVICE");
    if (hc_want_args(&g, 2, "SERVICE") != 0 || hc_parse_window(ctl, g.pos[0], &transfer.window) ||
        hc_parse_text(ctl, "SERVICE", g.pos[1], true) != 0)
        return HC_EXIT_USAGE;
    transfer.to_service = g.pos[1];

    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    req.command_case = HALLBUS__REQUEST__COMMAND_TRANSFER;
    req.transfer = &transfer;
    return hc_run(ctl, &req, pr_transferred, true);
}

#define MISSING_MAX 64

int cmd_finish(hallctl_t *ctl, int argc, char **argv)
{
    enum { O_RESULT = HC_OPT_FIRST, O_REASON, O_MISSING, O_PROMISED };
    static const hc_opt_t opts[] = {{"result", true, O_RESULT},
                                    {"reason", true, O_REASON},
                                    {"missing", true, O_MISSING},
                                    {"promised", true, O_PROMISED},
                                    {0}};
    Hallbus__FinishService finish = HALLBUS__FINISH_SERVICE__INIT;
    char *missing[MISSING_MAX]; /* point into argv */
    bool have_result = false;
    hc_getopt_t g;
    hc_getopt_init(&g, ctl, argc, argv, opts, false);
    const char *arg;
    int id;
    while ((id = hc_getopt(&g, &arg)) > 0) {
        int rc = 0;
        switch (id) {
        case O_RESULT:
            rc = hc_parse_result(ctl, arg, &finish.result);
            have_result = true;
            break;
        case O_REASON:
            rc = hc_parse_text(ctl, "--reason", arg, false);
            finish.reason = (char *)arg;
            break;
        case O_MISSING:
            if (finish.n_missing_materials == MISSING_MAX)
                return hc_usage_error(ctl, "more than %d --missing items", MISSING_MAX);
            rc = hc_parse_text(ctl, "--missing", arg, true);
            missing[finish.n_missing_materials++] = (char *)arg;
            break;
        case O_PROMISED:
            rc = hc_parse_date(ctl, "--promised", arg);
            finish.promised_date = (char *)arg;
            break;
        }
        if (rc != 0)
            return rc;
    }
    if (id < 0)
        return g.status;
    if (hc_want_args(&g, 1, "window number W") != 0 ||
        hc_parse_window(ctl, g.pos[0], &finish.window) != 0)
        return HC_EXIT_USAGE;
    /* the one rule checked here: without a result the request means nothing;
     * which details each result needs is the hall's to say */
    if (!have_result)
        return hc_usage_error(ctl, "--result is required");
    finish.missing_materials = missing;

    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    req.command_case = HALLBUS__REQUEST__COMMAND_FINISH_SERVICE;
    req.finish_service = &finish;
    return hc_run(ctl, &req, pr_finished, false);
}
