/* The window side of a ticket (叫号 to 办结): call, recall, no-show,
 * transfer, start, finish. Each names the window; the hall knows its ticket. */
#include <stdlib.h>

#include "hallctl.h"
#include "print.h"
#include "request_cmd.h"

/* The commands whose only argument is a window share one shape: their
 * messages hold just the window, found by its name in the proto. */
int hc_run_window_command(hallctl_t *ctl, int argc, char **argv,
                          Hallbus__Request__CommandCase which, hc_printer print)
{
    const ProtobufCFieldDescriptor *member =
        protobuf_c_message_descriptor_get_field(&hallbus__request__descriptor, which);
    const ProtobufCFieldDescriptor *window =
        member && member->type == PROTOBUF_C_TYPE_MESSAGE
            ? protobuf_c_message_descriptor_get_field_by_name(member->descriptor, "window")
            : NULL;
    if (!window || window->type != PROTOBUF_C_TYPE_UINT32)
        return hc_usage_error(ctl, "not a command of one window");
    const hc_field_t args[] = {{"W", "window number W", HC_WINDOW, window->offset}, {0}};
    const hc_request_cmd_t cmd = {.which = which, .args = args, .print = print};
    return hc_run_request(ctl, argc, argv, &cmd);
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
    static const hc_field_t opts[] = {HC_FIELD("reason", HC_TEXT_ANY, Hallbus__Transfer, reason),
                                      {0}};
    static const hc_field_t args[] = {
        HC_ARG("W", "window W", HC_WINDOW, Hallbus__Transfer, window),
        HC_ARG("SERVICE", "SERVICE", HC_TEXT, Hallbus__Transfer, to_service),
        {0}};
    static const hc_request_cmd_t cmd = {.which = HALLBUS__REQUEST__COMMAND_TRANSFER,
                                         .options = opts,
                                         .args = args,
                                         .print = pr_transferred,
                                         .with_ahead = true};
    return hc_run_request(ctl, argc, argv, &cmd);
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
