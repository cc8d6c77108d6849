/* hallctl: what its files share. One invocation runs one command; the
 * context below carries the global options and what was resolved from them
 * (the hall file, the endpoints, the command connection). */
#ifndef HALLCTL_H
#define HALLCTL_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "hallbus.pb-c.h"
#include "hallbus/config.h"
#include "hallbus/rpc_client.h"

/* Exit statuses, part of hallctl's contract with scripts. */
#define HC_EXIT_OK 0
#define HC_EXIT_REFUSED 1     /* the hall answered with a code other than OK */
#define HC_EXIT_USAGE 2       /* bad command line or hall file */
#define HC_EXIT_UNREACHABLE 3 /* no reply within the timeout */

#define HC_DEFAULT_COMMAND "tcp://127.0.0.1:5550"
#define HC_DEFAULT_BUS_SUB "tcp://127.0.0.1:5552"
#define HC_DEFAULT_TIMEOUT_MS 3000
#define HC_DEFAULT_ACTOR "hallctl"

typedef struct command_s command_t;

typedef struct {
    /* global options, as given */
    const char *config_path;  /* -c, else $HALLBUS_CONFIG */
    const char *cmd_endpoint; /* -e */
    const char *sub_endpoint; /* -b */
    bool json;
    int timeout_ms;
    const char *actor;
    const char *staff; /* --staff: the person acting at a window (counter_route.c) */
    const char *key;   /* --key, else $HALLBUS_KEY, else "hallctl": <keys_dir>/KEY.key */

    /* resolved by hc_resolve */
    hb_config_t *config; /* NULL when no hall file was named */
    const char *hall_id; /* NULL when unknown: requests then name no hall */
    const char *command_endpoint;
    const char *bus_sub_endpoint;

    const command_t *cmd;    /* the command being run */
    hb_rpc_t *rpc;           /* connected on first use */
    hb_security_t *security; /* CURVE key pair, loaded on first use (hc_security) */
    Hallbus__Reply *status;  /* a GetStatus reply kept for service names */
    bool status_tried;
} hallctl_t;

/* A command's entry point: ARGV[0] is the command word ("take", "open"),
 * the rest its arguments. Returns an HC_EXIT_ status. */
typedef int (*command_fn)(hallctl_t *ctl, int argc, char **argv);

struct command_s {
    const char *group; /* "window" for "window open", else NULL */
    const char *name;
    const char *args; /* usage after the name */
    const char *help; /* one line */
    command_fn run;
};

/* ── cli.c: options and arguments ────────────────────────────────────────── */

/* A command's own option; all are long-only, ids from HC_OPT_FIRST on. */
typedef struct {
    const char *name;
    bool has_arg;
    int id;
} hc_opt_t;
#define HC_OPT_FIRST 256

#define HC_OPTS_MAX 16

typedef struct {
    hallctl_t *ctl;
    int argc;
    char **argv;
    int npos; /* when done: the positional arguments, in order */
    char **pos;
    int status; /* when hc_getopt returned -1: the exit status to return */
    struct option longopts[HC_OPTS_MAX + 8]; /* the command's, then the global ones */
    const char *shortopts;
} hc_getopt_t;

/* Iterates over the options of ARGV (ARGV[0] is skipped): the global ones,
 * which may also follow the command word, are applied to CTL as they come;
 * each of OPTS (at most HC_OPTS_MAX, ended by a NULL name) is returned by id
 * with its argument in *ARG. Returns 0 when done, the positional arguments
 * then in G->pos; or -1 with G->status the exit status: a usage error was
 * reported, or --help was answered. STOP_AT_WORD: stop at the first
 * positional argument (the global part, before the command word). */
void hc_getopt_init(hc_getopt_t *g, hallctl_t *ctl, int argc, char **argv, const hc_opt_t *opts,
                    bool stop_at_word);
int hc_getopt(hc_getopt_t *g, const char **arg);

/* Reports a usage error of the current command (or of hallctl when none)
 * with its usage line, on stderr. Returns HC_EXIT_USAGE. */
int hc_usage_error(hallctl_t *ctl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Requires exactly N positional arguments; otherwise reports and returns HC_EXIT_USAGE. */
int hc_want_args(hc_getopt_t *g, int n, const char *what);

/* Argument parsers: 0, or a usage error reported and HC_EXIT_USAGE. */
int hc_parse_window(hallctl_t *ctl, const char *text, uint32_t *out);
int hc_parse_count(hallctl_t *ctl, const char *what, const char *text, long min, long max,
                   long *out);
int hc_parse_text(hallctl_t *ctl, const char *what, const char *text, bool required);
int hc_parse_green(hallctl_t *ctl, const char *text, Hallbus__GreenReason *out);
int hc_parse_result(hallctl_t *ctl, const char *text, Hallbus__Result *out);
int hc_parse_rating(hallctl_t *ctl, const char *text, uint32_t *out);
int hc_parse_date(hallctl_t *ctl, const char *what, const char *text);
/* For commands whose only argument is a window: parses ARGV. Returns 0 to
 * go on with *W set, or -1 to stop with *STATUS (usage error, or --help). */
int hc_only_window(hallctl_t *ctl, int argc, char **argv, uint32_t *w, int *status);
/* Splits "A,B" into a NULL-terminated array the caller frees with hc_list_free. */
int hc_parse_list(hallctl_t *ctl, const char *what, const char *text, char ***out, size_t *n);
void hc_list_free(char **list);

/* Words for enum values, as hallctl spells them ("with-infant"). */
const char *hc_green_word(Hallbus__GreenReason r);
const char *hc_rating_word(uint32_t rating);
const char *hc_state_word(Hallbus__TicketState s);
const char *hc_window_state_word(Hallbus__WindowState s);

/* ── main.c ──────────────────────────────────────────────────────────────── */

/* The usage of COMMAND, or of hallctl and all its commands when NULL. */
void hc_print_usage(FILE *f, const command_t *command);
/* The usage line and the command names, for a usage error without a command. */
void hc_print_short_usage(FILE *f);

/* ── rpc.c: talking to the hall ──────────────────────────────────────────── */

/* Loads the hall file (if any) and settles the endpoints. 0 or HC_EXIT_USAGE. */
int hc_resolve(hallctl_t *ctl);

/* hallctl's CURVE key (--key, $HALLBUS_KEY, else "hallctl") from the hall
 * file's keys_dir, loaded on first use. NULL with *STATUS 0 when plain (no
 * hall file, or security.curve off); NULL with *STATUS an exit status after
 * saying why when the key cannot be read. */
const hb_security_t *hc_security(hallctl_t *ctl, int *status);
/* A blocking client to ENDPOINT, the server whose key is SERVER
 * ("hall-audit"), with hallctl's key. NULL with *STATUS, said why. */
hb_rpc_t *hc_rpc_new(hallctl_t *ctl, const char *endpoint, const char *server, int *status);
/* Makes SOCK (not yet connected) a CURVE client of SERVER. 0, or an exit
 * status after saying why. */
int hc_secure_socket(hallctl_t *ctl, void *sock, const char *server);

/* Prints a successful reply for people. */
typedef void (*hc_printer)(hallctl_t *ctl, const Hallbus__Reply *reply);

/* Sends REQ, waits for the reply and prints it: as JSON with --json (with
 * "ahead" and "estimated_wait_s" when WITH_AHEAD), else with PRINT.
 * Returns the exit status. */
int hc_run(hallctl_t *ctl, Hallbus__Request *req, hc_printer print, bool with_ahead);

/* The name of service PREFIX, from the hall file or else from the hall
 * itself (asked once); NULL if neither knows. Belongs to CTL. */
const char *hc_service_name(hallctl_t *ctl, const char *prefix);

/* The hall's id, from the hall file or else from the hall itself (a
 * GetStatus, asked once); NULL if neither knows. Belongs to CTL. */
const char *hc_hall_id(hallctl_t *ctl);

void hc_close(hallctl_t *ctl);

/* Runs a command whose only argument is a window (call, recall, no-show,
 * start, window resume, window close). */
int hc_run_window_command(hallctl_t *ctl, int argc, char **argv,
                          Hallbus__Request__CommandCase which, hc_printer print);

/* ── counter_route.c: window commands through the hall's counters ──────── */

/* Sets REQ's staff (--staff, or the one opening the window) and, when the
 * hall file lists counters and one serves REQ's window, points *ENDPOINT at
 * it. Returns 0, or HC_EXIT_USAGE after saying why (no --staff for a
 * counter). */
int hc_counter_route(hallctl_t *ctl, Hallbus__Request *req, const char **endpoint);
/* The file that keeps the session token of WINDOW (see counter_route.c). */
int hc_session_path(hallctl_t *ctl, uint32_t window, char *out, size_t len);
/* Stores TOKEN for WINDOW (mode 0600). 0 or -1. */
int hc_session_save(hallctl_t *ctl, uint32_t window, const char *token);
void hc_session_forget(hallctl_t *ctl, uint32_t window);

/* cmd_signon.c */
int cmd_signon(hallctl_t *ctl, int argc, char **argv);
int cmd_signoff(hallctl_t *ctl, int argc, char **argv);

/* ── the commands ────────────────────────────────────────────────────────── */

int cmd_take(hallctl_t *ctl, int argc, char **argv);
int cmd_ticket(hallctl_t *ctl, int argc, char **argv);
int cmd_requeue(hallctl_t *ctl, int argc, char **argv);
int cmd_evaluate(hallctl_t *ctl, int argc, char **argv);
int cmd_call(hallctl_t *ctl, int argc, char **argv);
int cmd_recall(hallctl_t *ctl, int argc, char **argv);
int cmd_no_show(hallctl_t *ctl, int argc, char **argv);
int cmd_transfer(hallctl_t *ctl, int argc, char **argv);
int cmd_start(hallctl_t *ctl, int argc, char **argv);
int cmd_finish(hallctl_t *ctl, int argc, char **argv);
int cmd_window_open(hallctl_t *ctl, int argc, char **argv);
int cmd_window_pause(hallctl_t *ctl, int argc, char **argv);
int cmd_window_resume(hallctl_t *ctl, int argc, char **argv);
int cmd_window_close(hallctl_t *ctl, int argc, char **argv);
int cmd_status(hallctl_t *ctl, int argc, char **argv);
int cmd_snapshot(hallctl_t *ctl, int argc, char **argv);
int cmd_events(hallctl_t *ctl, int argc, char **argv);
int cmd_board(hallctl_t *ctl, int argc, char **argv);         /* cmd_board.c */
int cmd_ticket_notice(hallctl_t *ctl, int argc, char **argv); /* cmd_notice.c */
int cmd_call_ticket(hallctl_t *ctl, int argc, char **argv);   /* cmd_call_ticket.c */
/* cmd_appointments.c */
int cmd_book(hallctl_t *ctl, int argc, char **argv);
int cmd_cancel(hallctl_t *ctl, int argc, char **argv);
int cmd_check_in(hallctl_t *ctl, int argc, char **argv);
int cmd_appointments(hallctl_t *ctl, int argc, char **argv);
/* cmd_complaints.c */
int cmd_complain(hallctl_t *ctl, int argc, char **argv);
int cmd_complaint_handle(hallctl_t *ctl, int argc, char **argv);
int cmd_complaint_reply(hallctl_t *ctl, int argc, char **argv);
int cmd_complaints(hallctl_t *ctl, int argc, char **argv);
int cmd_ready(hallctl_t *ctl, int argc, char **argv); /* cmd_ready.c */
/* cmd_staff.c: the staff accounts file, no daemon needed */
int cmd_staff_add(hallctl_t *ctl, int argc, char **argv);
int cmd_staff_passwd(hallctl_t *ctl, int argc, char **argv);
int cmd_staff_disable(hallctl_t *ctl, int argc, char **argv);
int cmd_staff_enable(hallctl_t *ctl, int argc, char **argv);
int cmd_staff_list(hallctl_t *ctl, int argc, char **argv);

#endif
