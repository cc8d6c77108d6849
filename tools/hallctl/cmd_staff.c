/* hallctl staff: the hall's staff accounts (hallbus/accounts.h), kept in
 * the file the hall file names (security.accounts). Works on the file
 * alone, like ssh-keygen: no daemon needed; a running hall-counter reads
 * the change when the file changes. Hashes are never printed. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "hallbus/accounts.h"
#include "hallbus/clock.h"
#include "hallctl.h"
#include "table.h"
#include "text.h"

enum { O_ACCOUNTS = HC_OPT_FIRST, O_NAME, O_UNIT, O_ROLE, O_PASSWORD_STDIN };

/* What every staff command reads from its command line. */
typedef struct {
    const char *accounts; /* --accounts FILE */
    const char *name, *unit, *role;
    bool password_stdin;
} staff_args_t;

/* Parses ARGV with OPTS, wanting NPOS positional arguments. 0, or -1 with *STATUS. */
static int parse(hallctl_t *ctl, int argc, char **argv, const hc_opt_t *opts, int npos,
                 const char *what, staff_args_t *a, hc_getopt_t *g, int *status)
{
    hc_getopt_init(g, ctl, argc, argv, opts, false);
    const char *arg;
    int id;
    while ((id = hc_getopt(g, &arg)) > 0) {
        switch (id) {
        case O_ACCOUNTS:
            a->accounts = arg;
            break;
        case O_NAME:
            a->name = arg;
            break;
        case O_UNIT:
            a->unit = arg;
            break;
        case O_ROLE:
            a->role = arg;
            break;
        case O_PASSWORD_STDIN:
            a->password_stdin = true;
            break;
        }
    }
    if (id < 0) {
        *status = g->status;
        return -1;
    }
    if (hc_want_args(g, npos, what) != 0) {
        *status = HC_EXIT_USAGE;
        return -1;
    }
    if (npos && !hb_staff_id_valid(g->pos[0])) {
        *status =
            hc_usage_error(ctl, "\"%s\" is not a staff id ([A-Za-z0-9_-], 1 to 32)", g->pos[0]);
        return -1;
    }
    return 0;
}

/* The accounts file: --accounts, else the hall file's security.accounts,
 * else the default. Loaded; NULL after saying why. */
static hb_accounts_t *open_accounts(hallctl_t *ctl, const staff_args_t *a, int *status)
{
    const char *path = a->accounts;
    if (!path) {
        if ((*status = hc_resolve(ctl)) != 0)
            return NULL;
        path = ctl->config ? ctl->config->security.accounts : "var/keys/staff.json";
    }
    hb_accounts_t *acc = hb_accounts_new(path);
    char err[HB_ACCOUNTS_ERR_MAX];
    if (!acc || hb_accounts_load(acc, err, sizeof err) != 0) {
        tx_line(stderr, "hallctl: %s", acc ? err : "out of memory");
        hb_accounts_destroy(&acc);
        *status = HC_EXIT_REFUSED;
        return NULL;
    }
    return acc;
}

static int save(hb_accounts_t *acc)
{
    char err[HB_ACCOUNTS_ERR_MAX];
    if (hb_accounts_save(acc, err, sizeof err) != 0) {
        tx_line(stderr, "hallctl: %s", err);
        return HC_EXIT_REFUSED;
    }
    return HC_EXIT_OK;
}

/* One line of F into BUF without its line end; -1 at end of input or when
 * it does not fit. */
static int read_line(FILE *f, char *buf, size_t len)
{
    if (!fgets(buf, (int)len, f))
        return -1;
    size_t n = strlen(buf);
    if (n && buf[n - 1] != '\n' && !feof(f))
        return -1;
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    return 0;
}

/* Asks on the terminal with echo off. */
static int ask(FILE *tty, const char *prompt, char *buf, size_t len)
{
    struct termios old, quiet;
    int fd = fileno(tty);
    if (tcgetattr(fd, &old) != 0)
        return -1;
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    quiet.c_lflag |= ECHONL;
    fputs(prompt, tty);
    fflush(tty);
    tcsetattr(fd, TCSAFLUSH, &quiet);
    int rc = read_line(tty, buf, len);
    tcsetattr(fd, TCSAFLUSH, &old);
    return rc;
}

/* The new password of ID: from stdin (--password-stdin, one line), or asked
 * twice on the terminal. 0, or -1 with *STATUS after saying why. */
static int read_password(hallctl_t *ctl, const staff_args_t *a, const char *id, char *buf,
                         size_t len, int *status)
{
    if (a->password_stdin) {
        if (read_line(stdin, buf, len) != 0) {
            tx_line(stderr, "hallctl: no password on stdin (one line, at most %d bytes)",
                    HB_PASSWORD_MAX);
            *status = HC_EXIT_USAGE;
            return -1;
        }
        return 0;
    }
    FILE *tty = fopen("/dev/tty", "r+e");
    if (!tty) {
        *status = hc_usage_error(ctl, "no terminal to ask the password on; give it with "
                                      "--password-stdin");
        return -1;
    }
    char prompt[96], again[HB_PASSWORD_MAX + 2];
    snprintf(prompt, sizeof prompt, "new password for %s: ", id);
    int rc = ask(tty, prompt, buf, len);
    if (rc == 0)
        rc = ask(tty, "the same again: ", again, sizeof again);
    fclose(tty);
    if (rc != 0) {
        tx_line(stderr, "hallctl: no password read");
        *status = HC_EXIT_USAGE;
    } else if (strcmp(buf, again) != 0) {
        tx_line(stderr, "hallctl: the two passwords differ; nothing changed");
        *status = HC_EXIT_USAGE;
        rc = -1;
    }
    memset(again, 0, sizeof again);
    return rc;
}

static const hc_opt_t file_opts[] = {{"accounts", true, O_ACCOUNTS}, {0}};

int cmd_staff_add(hallctl_t *ctl, int argc, char **argv)
{
    static const hc_opt_t opts[] = {{"accounts", true, O_ACCOUNTS},
                                    {"name", true, O_NAME},
                                    {"unit", true, O_UNIT},
                                    {"role", true, O_ROLE},
                                    {"password-stdin", false, O_PASSWORD_STDIN},
                                    {0}};
    staff_args_t a = {0};
    hc_getopt_t g;
    int status;
    if (parse(ctl, argc, argv, opts, 1, "staff ID", &a, &g, &status) != 0)
        return status;
    hb_staff_role_t role;
    if (!a.name || !*a.name)
        return hc_usage_error(ctl, "--name is required");
    if (hc_parse_text(ctl, "--name", a.name, true) != 0 ||
        (a.unit && hc_parse_text(ctl, "--unit", a.unit, false) != 0))
        return HC_EXIT_USAGE;
    if (!a.role || hb_staff_role_parse(a.role, &role) != 0)
        return hc_usage_error(ctl, "--role is one of staff, supervisor, operator");
    const char *id = g.pos[0];
    hb_accounts_t *acc = open_accounts(ctl, &a, &status);
    if (!acc)
        return status;
    if (hb_accounts_find(acc, id)) {
        tx_line(stderr, "hallctl: %s already has an account (staff passwd to change its password)",
                id);
        hb_accounts_destroy(&acc);
        return HC_EXIT_REFUSED;
    }
    char password[HB_PASSWORD_MAX + 2];
    char err[HB_ACCOUNTS_ERR_MAX];
    if (read_password(ctl, &a, id, password, sizeof password, &status) != 0) {
        hb_accounts_destroy(&acc);
        return status;
    }
    int rc = hb_accounts_add(acc, id, a.name, a.unit ? a.unit : "", role, password, hb_now_us(),
                             err, sizeof err);
    memset(password, 0, sizeof password);
    if (rc != 0) {
        tx_line(stderr, "hallctl: %s", err);
        hb_accounts_destroy(&acc);
        return HC_EXIT_REFUSED;
    }
    status = save(acc);
    if (status == HC_EXIT_OK)
        tx_line(stdout, "added %s (%s, %s) to %s", id, a.name, a.role, hb_accounts_path(acc));
    hb_accounts_destroy(&acc);
    return status;
}

int cmd_staff_passwd(hallctl_t *ctl, int argc, char **argv)
{
    static const hc_opt_t opts[] = {
        {"accounts", true, O_ACCOUNTS}, {"password-stdin", false, O_PASSWORD_STDIN}, {0}};
    staff_args_t a = {0};
    hc_getopt_t g;
    int status;
    if (parse(ctl, argc, argv, opts, 1, "staff ID", &a, &g, &status) != 0)
        return status;
    const char *id = g.pos[0];
    hb_accounts_t *acc = open_accounts(ctl, &a, &status);
    if (!acc)
        return status;
    if (!hb_accounts_find(acc, id)) {
        tx_line(stderr, "hallctl: no account %s in %s", id, hb_accounts_path(acc));
        hb_accounts_destroy(&acc);
        return HC_EXIT_REFUSED;
    }
    char password[HB_PASSWORD_MAX + 2];
    char err[HB_ACCOUNTS_ERR_MAX];
    if (read_password(ctl, &a, id, password, sizeof password, &status) != 0) {
        hb_accounts_destroy(&acc);
        return status;
    }
    int rc = hb_accounts_set_password(acc, id, password, hb_now_us(), err, sizeof err);
    memset(password, 0, sizeof password);
    if (rc != 0) {
        tx_line(stderr, "hallctl: %s", err);
        hb_accounts_destroy(&acc);
        return HC_EXIT_REFUSED;
    }
    status = save(acc);
    if (status == HC_EXIT_OK)
        tx_line(stdout, "changed the password of %s", id);
    hb_accounts_destroy(&acc);
    return status;
}

static int set_disabled(hallctl_t *ctl, int argc, char **argv, bool disabled)
{
    staff_args_t a = {0};
    hc_getopt_t g;
    int status;
    if (parse(ctl, argc, argv, file_opts, 1, "staff ID", &a, &g, &status) != 0)
        return status;
    const char *id = g.pos[0];
    hb_accounts_t *acc = open_accounts(ctl, &a, &status);
    if (!acc)
        return status;
    char err[HB_ACCOUNTS_ERR_MAX];
    if (hb_accounts_set_disabled(acc, id, disabled, hb_now_us(), err, sizeof err) != 0) {
        tx_line(stderr, "hallctl: %s in %s", err, hb_accounts_path(acc));
        hb_accounts_destroy(&acc);
        return HC_EXIT_REFUSED;
    }
    status = save(acc);
    if (status == HC_EXIT_OK)
        tx_line(stdout, "%s %s", disabled ? "disabled" : "enabled", id);
    hb_accounts_destroy(&acc);
    return status;
}

int cmd_staff_disable(hallctl_t *ctl, int argc, char **argv)
{
    return set_disabled(ctl, argc, argv, true);
}

int cmd_staff_enable(hallctl_t *ctl, int argc, char **argv)
{
    return set_disabled(ctl, argc, argv, false);
}

static void iso(int64_t us, char out[32])
{
    time_t t = (time_t)(us / 1000000);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%d %H:%M", &tm);
}

int cmd_staff_list(hallctl_t *ctl, int argc, char **argv)
{
    staff_args_t a = {0};
    hc_getopt_t g;
    int status;
    if (parse(ctl, argc, argv, file_opts, 0, "", &a, &g, &status) != 0)
        return status;
    hb_accounts_t *acc = open_accounts(ctl, &a, &status);
    if (!acc)
        return status;
    size_t n = hb_accounts_count(acc);
    if (ctl->json) {
        json_t *list = json_array();
        for (size_t i = 0; i < n; i++) {
            const hb_staff_t *s = hb_accounts_at(acc, i);
            /* never the hash: a list may be pasted anywhere */
            json_array_append_new(
                list, json_pack("{s:s, s:s, s:s, s:s, s:b, s:I, s:I}", "id", s->id, "name", s->name,
                                "unit", s->unit, "role", hb_staff_role_name(s->role), "disabled",
                                s->disabled, "created_us", (json_int_t)s->created_us, "changed_us",
                                (json_int_t)s->changed_us));
        }
        json_t *root = json_pack("{s:o}", "staff", list);
        json_dumpf(root, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        fputc('\n', stdout);
        json_decref(root);
    } else if (n == 0) {
        tx_line(stdout, "no staff accounts in %s", hb_accounts_path(acc));
    } else {
        static const char *const heads[] = {"ID", "NAME", "UNIT", "ROLE", "STATE", "CHANGED"};
        table_t *tb = tb_new(6, heads);
        for (size_t i = 0; tb && i < n; i++) {
            const hb_staff_t *s = hb_accounts_at(acc, i);
            char changed[32];
            iso(s->changed_us, changed);
            const char *cells[] = {s->id,
                                   s->name,
                                   s->unit[0] ? s->unit : NULL,
                                   hb_staff_role_name(s->role),
                                   s->disabled ? "disabled" : "active",
                                   changed};
            tb_row(tb, cells);
        }
        if (tb)
            tb_print(tb, stdout, "");
        tb_destroy(&tb);
    }
    hb_accounts_destroy(&acc);
    return HC_EXIT_OK;
}
