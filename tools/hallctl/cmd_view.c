/* Looking at the hall: status and snapshot. */
#include "hallctl.h"
#include "print.h"

/* Commands without arguments: 0 to go on, or -1 with *STATUS. */
static int no_args(hallctl_t *ctl, int argc, char **argv, int *status)
{
    hc_getopt_t g;
    hc_getopt_init(&g, ctl, argc, argv, NULL, false);
    const char *unused;
    if (hc_getopt(&g, &unused) < 0) {
        *status = g.status;
        return -1;
    }
    *status = hc_want_args(&g, 0, "");
    return *status == 0 ? 0 : -1;
}

int cmd_status(hallctl_t *ctl, int argc, char **argv)
{
    int status;
    if (no_args(ctl, argc, argv, &status) != 0)
        return status;
    Hallbus__GetStatus get = HALLBUS__GET_STATUS__INIT;
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    req.command_case = HALLBUS__REQUEST__COMMAND_GET_STATUS;
    req.get_status = &get;
    return hc_run(ctl, &req, pr_status, false);
}

int cmd_snapshot(hallctl_t *ctl, int argc, char **argv)
{
    int status;
    if (no_args(ctl, argc, argv, &status) != 0)
        return status;
    Hallbus__GetSnapshot get = HALLBUS__GET_SNAPSHOT__INIT;
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    req.command_case = HALLBUS__REQUEST__COMMAND_GET_SNAPSHOT;
    req.get_snapshot = &get;
    return hc_run(ctl, &req, pr_snapshot, false);
}
