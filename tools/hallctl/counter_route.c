/* Window commands through the counters: when the hall file lists counters
 * (counter.instances), a window command for window W goes to the
 * hall-counter that serves W, naming the person acting (--staff ID, or the
 * one opening the window), as a window terminal would send it. Without a
 * list, or with -e, or for a window no counter serves, it goes to
 * hall-queue as before. */
#include <string.h>

#include "hallbus/envelope.h"
#include "hallctl.h"
#include "text.h"

int hc_counter_route(hallctl_t *ctl, Hallbus__Request *req, const char **endpoint)
{
    uint32_t window = hb_request_window(req);
    if (window == 0)
        return HC_EXIT_OK;
    const char *staff = ctl->staff;
    if ((!staff || !*staff) && req->command_case == HALLBUS__REQUEST__COMMAND_OPEN_WINDOW)
        staff = req->open_window->staff;
    if (staff && *staff)
        req->staff = (char *)staff; /* hall-queue checks it too, counters or not */
    if (ctl->cmd_endpoint || !ctl->config || !ctl->config->counter.listed)
        return HC_EXIT_OK;
    const hb_counter_instance_t *counter = hb_counter_for_window(&ctl->config->counter, window);
    if (!counter)
        return HC_EXIT_OK;
    if (!staff || !*staff) {
        tx_line(stderr,
                "hallctl: window %u is served by counter %s: say who is acting there with "
                "--staff ID",
                window, counter->id);
        return HC_EXIT_USAGE;
    }
    *endpoint = counter->endpoint;
    return HC_EXIT_OK;
}
