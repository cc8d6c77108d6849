/* hallctl: the command-line client of a hall, for people (aligned text) and
 * scripts (--json, and exit statuses that say who said no).
 *
 * This file reads the global options, finds the command and runs it; each
 * command checks its own arguments, builds its request (cmd_*.c) and prints
 * the reply (print.c); `events` follows the bus (events.c). */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_audit.h"
#include "cmd_keys.h"
#include "cmd_notify.h"
#include "hallctl.h"
#include "text.h"

static const command_t commands[] = {
    {NULL, "take",
     "SERVICE [--green elderly|disabled|pregnant|with-infant|urgent] [--contact C] "
     "[--channel CH]",
     "take a ticket for a service (by prefix: A)", cmd_take},
    {NULL, "status", "", "waiting per service, and the windows", cmd_status},
    {"ticket", "notice", "NUMBER", "print the one-time notice of missing materials",
     cmd_ticket_notice},
    {NULL, "ticket", "NUMBER", "one ticket of today (A012)", cmd_ticket},
    {NULL, "snapshot", "", "the whole state of the hall (mostly for --json)", cmd_snapshot},
    {"window", "open", "W --staff ID [--services A,B]", "open window W for a staff member",
     cmd_window_open},
    {"window", "pause", "W [--reason TEXT]", "pause window W", cmd_window_pause},
    {NULL, "signon", "W --staff ID [--password-stdin]",
     "sign on at window W through its counter; the session is kept for the window's commands",
     cmd_signon},
    {NULL, "signoff", "W", "sign off at window W (ends the session)", cmd_signoff},
    {"window", "resume", "W", "resume window W", cmd_window_resume},
    {"window", "close", "W", "close window W", cmd_window_close},
    {NULL, "call", "W", "call the next ticket at window W", cmd_call},
    {NULL, "recall", "W", "call window W's ticket again", cmd_recall},
    {NULL, "no-show", "W", "window W's ticket did not come", cmd_no_show},
    {NULL, "requeue", "NUMBER", "put a no-show ticket back in line", cmd_requeue},
    {NULL, "transfer", "W SERVICE [--reason TEXT]", "move window W's ticket to another service",
     cmd_transfer},
    {NULL, "start", "W", "start serving window W's ticket", cmd_start},
    {NULL, "finish",
     "W --result completed|accepted|rejected|materials-missing [--reason TEXT] "
     "[--missing ITEM]... [--promised YYYY-MM-DD]",
     "finish serving window W's ticket", cmd_finish},
    {NULL, "evaluate",
     "NUMBER RATING [--comment TEXT]  (RATING: 1-4 or very-satisfied|satisfied|"
     "basically-satisfied|dissatisfied)",
     "record the citizen's rating", cmd_evaluate},
    {NULL, "ready", "NUMBER [--date YYYY-MM-DD]", "an accepted matter is ready to collect",
     cmd_ready},
    {NULL, "call-ticket", "W NUMBER", "call one waiting ticket out of order", cmd_call_ticket},
    {NULL, "book", "SERVICE DATE SLOT [--contact C]", "book an appointment (SLOT: HH:MM)",
     cmd_book},
    {NULL, "cancel", "CODE", "cancel an appointment", cmd_cancel},
    {NULL, "check-in", "CODE", "check an appointment in: it becomes a ticket", cmd_check_in},
    {NULL, "appointments", "[--date YYYY-MM-DD] [--service S]", "the appointments of a day",
     cmd_appointments},
    {NULL, "complain", "TEXT [--ticket N] [--window W] [--staff ID] [--contact C]",
     "file a complaint", cmd_complain},
    {"complaint", "handle", "ID --handler ID --note TEXT", "record how a complaint is handled",
     cmd_complaint_handle},
    {"complaint", "reply", "ID --handler ID --reply TEXT", "record the reply; closes it",
     cmd_complaint_reply},
    {NULL, "complaints", "[--open]", "the complaints on record", cmd_complaints},
    {NULL, "events", "[--kind ticket.called,window.] [--hall H] [--count N] [--heartbeats]",
     "follow the hall's events", cmd_events},
    {NULL, "board", "[--once] [--calls N]", "the hall board in the terminal, kept live", cmd_board},
    {"audit", "tail",
     "[--hall H] [--kind K,..] [--window W] [--staff S] [--since TIME] [--follow] [--count N]",
     "the audit record, then live", cmd_audit_tail},
    {"audit", "ticket", "HALL NUMBER [--date YYYY-MM-DD]", "a ticket's whole life on a day",
     cmd_audit_ticket},
    {"audit", "day", "HALL --window W|--staff ID [--date YYYY-MM-DD]",
     "what a window or staff member did on a day", cmd_audit_day},
    {"audit", "verify", "[--hall H] [--file STORE_OR_EXPORT]",
     "walk the hash chain; exit 1 on a break", cmd_audit_verify},
    {"audit", "export", "--from D [--to D] --output FILE [--hall H]",
     "a hall's records of a range of days to a file", cmd_audit_export},
    {NULL, "report", "[--hall H] [--from D] [--to D] [--csv|--html] [--output FILE]",
     "performance review per service, window and staff", cmd_report},
    {"staff", "add",
     "ID --name NAME [--unit UNIT] --role staff|supervisor|operator [--password-stdin] "
     "[--accounts FILE]",
     "add a staff account (the password is asked on the terminal, or read from stdin)",
     cmd_staff_add},
    {"staff", "passwd", "ID [--password-stdin] [--accounts FILE]", "set a staff member's password",
     cmd_staff_passwd},
    {"staff", "disable", "ID [--accounts FILE]", "no more sign-ons for this account",
     cmd_staff_disable},
    {"staff", "enable", "ID [--accounts FILE]", "sign-ons allowed again", cmd_staff_enable},
    {"staff", "list", "[--accounts FILE]", "the staff accounts (never their password hashes)",
     cmd_staff_list},
    {"notify", "status", "[--all] [--limit N]",
     "hall-notifier's outbox: pending, sent, failed, expired", cmd_notify_status},
    {"notify", "retry", "ID... | --all-failed",
     "send outbox messages again by hand (failed or expired ones)", cmd_notify_retry},
    {"keys", "new", "NAME --role ROLE [--force]",
     "make a key pair in the hall's keys_dir and list it in the allow-list", cmd_keys_new},
    {"keys", "list", "", "the allow-list: names, roles, public keys", cmd_keys_list},
    {"keys", "revoke", "NAME", "revoke a key (no restart needed)", cmd_keys_revoke},
    {"keys", "init", "", "make the hall's missing keys (one per daemon, and hallctl's)",
     cmd_keys_init},
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void print_command(FILE *f, const command_t *c, bool with_help)
{
    char head[64];
    snprintf(head, sizeof head, "%s%s%s", c->group ? c->group : "", c->group ? " " : "", c->name);
    const char *sep = *c->args ? " " : "";
    if (with_help)
        fprintf(f, "  %s%s%s\n      %s\n", head, sep, c->args, c->help);
    else
        fprintf(f, "usage: hallctl [OPTIONS] %s%s%s\n", head, sep, c->args);
}

#define USAGE_LINE                                                                                 \
    "usage: hallctl [-c HALL.yaml] [-e CMD_ENDPOINT] [-b BUS_SUB_ENDPOINT] [--json]\n"             \
    "               [--timeout MS] [--actor NAME] [--key NAME] COMMAND ...\n"

void hc_print_short_usage(FILE *f)
{
    fputs(USAGE_LINE "commands:", f);
    const char *group = NULL;
    for (size_t i = 0; i < NCOMMANDS; i++) {
        const command_t *c = &commands[i];
        if (c->group && group && strcmp(c->group, group) == 0) {
            fprintf(f, "|%s", c->name);
            continue;
        }
        fprintf(f, "%s %s%s%s", i ? "," : "", c->group ? c->group : "", c->group ? " " : "",
                c->name);
        group = c->group;
    }
    fputs("\n(hallctl --help says more)\n", f);
}

void hc_print_usage(FILE *f, const command_t *command)
{
    if (command) {
        print_command(f, command, false);
        return;
    }
    fputs(USAGE_LINE
          "\n"
          "options (before or after the command):\n"
          "  -c, --config FILE    the hall file (default: $HALLBUS_CONFIG): endpoints, hall id\n"
          "  -e, --endpoint EP    hall-queue's command endpoint (default " HC_DEFAULT_COMMAND ")\n"
          "  -b, --bus EP         hall-bus's subscriber endpoint (default " HC_DEFAULT_BUS_SUB ")\n"
          "      --json           JSON on stdout, for scripts\n"
          "      --timeout MS     how long to wait for the hall (default 3000)\n"
          "      --actor NAME     who asks, for the hall's log (default hallctl)\n"
          "      --key NAME       the key to speak with: <keys_dir>/NAME.key\n"
          "                       (default $HALLBUS_KEY, else hallctl)\n"
          "      --staff ID       who acts at the window; with counters in the hall file,\n"
          "                       window commands go to the counter serving the window\n"
          "\n"
          "commands:\n",
          f);
    for (size_t i = 0; i < NCOMMANDS; i++)
        print_command(f, &commands[i], true);
    fputs("\nexit status: 0 done, 1 the hall refused, 2 usage error, 3 the hall did not answer\n",
          f);
}

/* The command named by WORDS[0] (and WORDS[1] for a group), or NULL after
 * saying what is wrong. *USED: how many words the name took. */
static const command_t *find_command(hallctl_t *ctl, int nwords, char **words, int *used)
{
    const char *first = words[0];
    bool is_group = false;
    for (size_t i = 0; i < NCOMMANDS; i++) {
        const command_t *c = &commands[i];
        if (!c->group && strcmp(c->name, first) == 0) {
            *used = 1;
            return c;
        }
        if (c->group && strcmp(c->group, first) == 0) {
            is_group = true;
            if (nwords > 1 && strcmp(c->name, words[1]) == 0) {
                *used = 2;
                return c;
            }
        }
    }
    if (is_group && nwords < 2) {
        char names[160] = "";
        for (size_t i = 0; i < NCOMMANDS; i++)
            if (commands[i].group && strcmp(commands[i].group, first) == 0 &&
                strlen(names) + strlen(commands[i].name) + 3 < sizeof names) {
                strcat(names, names[0] ? ", " : "");
                strcat(names, commands[i].name);
            }
        hc_usage_error(ctl, "'%s' needs one of: %s", first, names);
    } else if (is_group)
        hc_usage_error(ctl, "unknown command '%s %s'", first, words[1]);
    else
        hc_usage_error(ctl, "unknown command '%s'", first);
    return NULL;
}

/* --help anywhere after the command words (before a "--") is answered here,
 * before a command can open a socket: help never contacts anything. */
static bool asks_for_help(int nwords, char **words)
{
    for (int i = 0; i < nwords; i++) {
        if (strcmp(words[i], "--") == 0)
            return false;
        if (strcmp(words[i], "--help") == 0 || strcmp(words[i], "-h") == 0)
            return true;
    }
    return false;
}

/* The command WORDS name, or NULL (then the usage of every command). */
static const command_t *command_named(int nwords, char **words)
{
    for (size_t i = 0; i < NCOMMANDS; i++) {
        const command_t *c = &commands[i];
        if (!c->group && strcmp(c->name, words[0]) == 0)
            return c;
        if (c->group && nwords > 1 && strcmp(c->group, words[0]) == 0 &&
            strcmp(c->name, words[1]) == 0)
            return c;
    }
    return NULL;
}

int main(int argc, char **argv)
{
    tx_init();
    /* a reader that went away (hallctl events | head) ends us with a failed
     * write, which we notice, rather than with a signal */
    signal(SIGPIPE, SIG_IGN);

    hallctl_t ctl = {.timeout_ms = HC_DEFAULT_TIMEOUT_MS, .actor = HC_DEFAULT_ACTOR};
    hc_getopt_t g;
    hc_getopt_init(&g, &ctl, argc, argv, NULL, true);
    const char *unused;
    if (hc_getopt(&g, &unused) < 0)
        return g.status;
    if (g.npos == 0)
        return hc_usage_error(&ctl, "no command given");
    if (strcmp(g.pos[0], "help") == 0) {
        hc_print_usage(stdout, NULL);
        return HC_EXIT_OK;
    }
    if (asks_for_help(g.npos, g.pos)) {
        hc_print_usage(stdout, command_named(g.npos, g.pos));
        return HC_EXIT_OK;
    }
    int used;
    const command_t *cmd = find_command(&ctl, g.npos, g.pos, &used);
    if (!cmd)
        return HC_EXIT_USAGE;
    ctl.cmd = cmd;
    /* the command sees its own word as argv[0], then its arguments */
    int rc = cmd->run(&ctl, g.npos - used + 1, g.pos + used - 1);
    hc_close(&ctl);
    fflush(stdout);
    return rc;
}
