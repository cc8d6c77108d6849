#include "command_roles.h"

#include <stdio.h>
#include <string.h>

enum {
    KIOSK = 1u << 0,      /* take, book, cancel, check in, rate, a ticket's own view */
    COUNTER = 1u << 1,    /* the window's commands, overtime reports */
    DISPLAY = 1u << 2,    /* status, snapshots, journal */
    AUDIT = 1u << 3,      /* status, snapshots, journal */
    NOTIFIER = 1u << 4,   /* status, snapshots, journal, contacts */
    SUPERVISOR = 1u << 5, /* complaints, evaluations, appointments, mark ready */
    OPERATOR = 1u << 6,   /* everything */
};

static const char *const ROLE_NAMES[] = {"kiosk",    "counter",    "display", "audit",
                                         "notifier", "supervisor", "operator"};
#define ROLES_COUNT (sizeof ROLE_NAMES / sizeof ROLE_NAMES[0])

#define FOLLOWERS (DISPLAY | AUDIT | NOTIFIER) /* keep a copy of the hall: the Clone pattern */
#define STAFF (COUNTER | SUPERVISOR)
#define ANYONE (KIOSK | COUNTER | FOLLOWERS | SUPERVISOR)

#define C(name) HALLBUS__REQUEST__COMMAND_##name

/* OPERATOR is added to every row. */
static const struct {
    Hallbus__Request__CommandCase command;
    unsigned roles;
} TABLE[] = {
    {C(TAKE_TICKET), KIOSK},
    {C(EVALUATE), KIOSK},
    {C(GET_MY_TICKET), KIOSK},
    {C(BOOK_APPOINTMENT), KIOSK},
    {C(CANCEL_APPOINTMENT), KIOSK | SUPERVISOR},
    {C(CHECK_IN), KIOSK},
    {C(FILE_COMPLAINT), KIOSK | SUPERVISOR}, /* a citizen's, at a kiosk or told to staff */

    {C(OPEN_WINDOW), COUNTER},
    {C(PAUSE_WINDOW), COUNTER},
    {C(RESUME_WINDOW), COUNTER},
    {C(CLOSE_WINDOW), COUNTER},
    {C(CALL_NEXT), COUNTER},
    {C(CALL_TICKET), COUNTER},
    {C(RECALL), COUNTER},
    {C(NO_SHOW), COUNTER},
    {C(REQUEUE), STAFF},
    {C(TRANSFER), COUNTER},
    {C(START_SERVICE), COUNTER},
    {C(FINISH_SERVICE), COUNTER},
    {C(REPORT_OVERTIME), COUNTER},
    {C(RECORD_SIGN_ON), COUNTER},
    {C(GET_TICKET), STAFF},

    {C(UPDATE_COMPLAINT), SUPERVISOR},
    {C(GET_COMPLAINT), SUPERVISOR},
    {C(LIST_COMPLAINTS), SUPERVISOR},
    {C(LIST_EVALUATIONS), SUPERVISOR},
    {C(LIST_APPOINTMENTS), SUPERVISOR},
    {C(MARK_READY), SUPERVISOR},

    {C(GET_STATUS), ANYONE},
    {C(GET_SNAPSHOT), FOLLOWERS | STAFF},
    {C(FETCH_EVENTS), FOLLOWERS},
    {C(RESOLVE_CONTACT), NOTIFIER},
};

static unsigned roles_of(Hallbus__Request__CommandCase command)
{
    for (size_t i = 0; i < sizeof TABLE / sizeof TABLE[0]; i++)
        if (TABLE[i].command == command)
            return TABLE[i].roles | OPERATOR;
    return 0;
}

bool queue_role_may(const char *role, Hallbus__Request__CommandCase command)
{
    if (!role)
        return false;
    unsigned roles = roles_of(command);
    for (size_t i = 0; i < ROLES_COUNT; i++)
        if (strcmp(role, ROLE_NAMES[i]) == 0)
            return (roles & (1u << i)) != 0;
    return false;
}

const char *queue_command_roles(Hallbus__Request__CommandCase command, char *out, size_t outlen)
{
    unsigned roles = roles_of(command);
    size_t used = 0;
    if (outlen)
        out[0] = '\0';
    for (size_t i = 0; i < ROLES_COUNT && used < outlen; i++)
        if (roles & (1u << i)) {
            int n = snprintf(out + used, outlen - used, "%s%s", used ? ", " : "", ROLE_NAMES[i]);
            used += n > 0 ? (size_t)n : 0;
        }
    return out;
}
