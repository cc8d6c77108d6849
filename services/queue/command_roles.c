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

/* OPERATOR is added to every row that names no ELSEWHERE: a command that
 * belongs to another daemon is run here by no one, and the refusal says
 * where it goes. */
static const struct {
    Hallbus__Request__CommandCase command;
    unsigned roles;
    const char *elsewhere;
} TABLE[] = {
    {C(TAKE_TICKET), KIOSK, NULL},
    {C(EVALUATE), KIOSK, NULL},
    {C(GET_MY_TICKET), KIOSK, NULL},
    {C(BOOK_APPOINTMENT), KIOSK, NULL},
    {C(CANCEL_APPOINTMENT), KIOSK | SUPERVISOR, NULL},
    {C(CHECK_IN), KIOSK, NULL},
    {C(FILE_COMPLAINT), KIOSK | SUPERVISOR, NULL}, /* a citizen's, at a kiosk or told to staff */

    {C(OPEN_WINDOW), COUNTER, NULL},
    {C(PAUSE_WINDOW), COUNTER, NULL},
    {C(RESUME_WINDOW), COUNTER, NULL},
    {C(CLOSE_WINDOW), COUNTER, NULL},
    {C(CALL_NEXT), COUNTER, NULL},
    {C(CALL_TICKET), COUNTER, NULL},
    {C(RECALL), COUNTER, NULL},
    {C(NO_SHOW), COUNTER, NULL},
    {C(REQUEUE), STAFF, NULL},
    {C(TRANSFER), COUNTER, NULL},
    {C(START_SERVICE), COUNTER, NULL},
    {C(FINISH_SERVICE), COUNTER, NULL},
    {C(REPORT_OVERTIME), COUNTER, NULL},
    {C(RECORD_SIGN_ON), COUNTER, NULL},
    {C(GET_TICKET), STAFF, NULL},

    {C(UPDATE_COMPLAINT), SUPERVISOR, NULL},
    {C(GET_COMPLAINT), SUPERVISOR, NULL},
    {C(LIST_COMPLAINTS), SUPERVISOR, NULL},
    {C(LIST_EVALUATIONS), SUPERVISOR, NULL},
    {C(LIST_APPOINTMENTS), SUPERVISOR, NULL},
    {C(MARK_READY), SUPERVISOR, NULL},

    {C(GET_STATUS), ANYONE, NULL},
    {C(GET_SNAPSHOT), FOLLOWERS | STAFF, NULL},
    {C(FETCH_EVENTS), FOLLOWERS, NULL},
    {C(RESOLVE_CONTACT), NOTIFIER, NULL},

    /* a password never belongs here: hall-counter checks it and only tells
     * the outcome (RecordSignOn) */
    {C(SIGN_ON), 0, "the hall-counter serving the window"},
    {C(SIGN_OFF), 0, "the hall-counter serving the window"},
};

static unsigned roles_of(Hallbus__Request__CommandCase command)
{
    for (size_t i = 0; i < sizeof TABLE / sizeof TABLE[0]; i++)
        if (TABLE[i].command == command)
            return TABLE[i].elsewhere ? 0 : TABLE[i].roles | OPERATOR;
    return 0;
}

const char *queue_command_elsewhere(Hallbus__Request__CommandCase command)
{
    for (size_t i = 0; i < sizeof TABLE / sizeof TABLE[0]; i++)
        if (TABLE[i].command == command)
            return TABLE[i].elsewhere;
    return NULL;
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
