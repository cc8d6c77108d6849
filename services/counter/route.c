#include "route.h"

#include <stdio.h>
#include <string.h>

#include "hallbus/envelope.h"

#define REFUSE(code, ...)                                                                          \
    do {                                                                                           \
        snprintf(msg, msglen, __VA_ARGS__);                                                        \
        return HALLBUS__STATUS_CODE__##code;                                                       \
    } while (0)

bool route_window_command(const Hallbus__Request *req, uint32_t *window)
{
    uint32_t w;
    switch (req->command_case) {
    case HALLBUS__REQUEST__COMMAND_OPEN_WINDOW:
        w = req->open_window->window;
        break;
    case HALLBUS__REQUEST__COMMAND_PAUSE_WINDOW:
        w = req->pause_window->window;
        break;
    case HALLBUS__REQUEST__COMMAND_RESUME_WINDOW:
        w = req->resume_window->window;
        break;
    case HALLBUS__REQUEST__COMMAND_CLOSE_WINDOW:
        w = req->close_window->window;
        break;
    case HALLBUS__REQUEST__COMMAND_CALL_NEXT:
        w = req->call_next->window;
        break;
    case HALLBUS__REQUEST__COMMAND_CALL_TICKET:
        w = req->call_ticket->window;
        break;
    case HALLBUS__REQUEST__COMMAND_RECALL:
        w = req->recall->window;
        break;
    case HALLBUS__REQUEST__COMMAND_NO_SHOW:
        w = req->no_show->window;
        break;
    case HALLBUS__REQUEST__COMMAND_TRANSFER:
        w = req->transfer->window;
        break;
    case HALLBUS__REQUEST__COMMAND_START_SERVICE:
        w = req->start_service->window;
        break;
    case HALLBUS__REQUEST__COMMAND_FINISH_SERVICE:
        w = req->finish_service->window;
        break;
    case HALLBUS__REQUEST__COMMAND_SIGN_ON:
        w = req->sign_on->window;
        break;
    case HALLBUS__REQUEST__COMMAND_SIGN_OFF:
        w = req->sign_off->window;
        break;
    default:
        return false;
    }
    if (window)
        *window = w;
    return true;
}

bool route_read_command(const Hallbus__Request *req)
{
    return req->command_case == HALLBUS__REQUEST__COMMAND_GET_STATUS ||
           req->command_case == HALLBUS__REQUEST__COMMAND_GET_TICKET ||
           req->command_case == HALLBUS__REQUEST__COMMAND_GET_SNAPSHOT;
}

Hallbus__StatusCode route_check(const route_table_t *table, const Hallbus__Request *req, char *msg,
                                size_t msglen)
{
    const hb_counter_instance_t *self = table->self;
    uint32_t window;
    msg[0] = '\0';
    if (req->command_case == HALLBUS__REQUEST__COMMAND__NOT_SET)
        REFUSE(UNKNOWN_COMMAND, "unknown command: the request carries no command this "
                                "hall-counter knows");
    if (route_read_command(req))
        return HALLBUS__STATUS_CODE__OK;
    if (req->command_case == HALLBUS__REQUEST__COMMAND_REPORT_OVERTIME)
        REFUSE(PERMISSION_DENIED,
               "report-overtime is sent by hall-counter itself, not by a window terminal");
    if (!route_window_command(req, &window))
        REFUSE(UNKNOWN_COMMAND,
               "hall-counter %s takes sign-on, sign-off and window commands only (window "
               "open|pause|resume|close, call, call-ticket, recall, no-show, transfer, start, "
               "finish) and status, "
               "ticket, snapshot; send %s to hall-queue at %s",
               self->id, hb_command_name(req), table->config->endpoints.command);
    if (window == 0)
        REFUSE(INVALID_ARGUMENT, "%s needs a window number", hb_command_name(req));

    char served[128];
    hb_window_set_format(self->windows, self->windows_count, served, sizeof served);
    if (!hb_config_window(table->config, window))
        REFUSE(NOT_FOUND, "there is no window %u in hall %s (counter %s serves %s)", window,
               table->config->hall.id, self->id, served);
    if (!hb_counter_serves(self, window)) {
        const hb_counter_instance_t *other = hb_counter_for_window(&table->config->counter, window);
        if (other)
            REFUSE(INVALID_STATE,
                   "window %u is not served by this counter (%s serves %s); counter %s at %s "
                   "serves it",
                   window, self->id, served, other->id, other->endpoint);
        REFUSE(INVALID_STATE,
               "window %u is not served by this counter (%s serves %s); no counter serves it",
               window, self->id, served);
    }

    /* who acts is the session's business (signon.c), not the request's */
    return HALLBUS__STATUS_CODE__OK;
}
