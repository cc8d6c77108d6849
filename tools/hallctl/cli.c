/* The command line: options (global ones accepted before or after the
 * command word), and arguments checked before anything is sent, so that a
 * typo is a usage error here rather than a refusal from the hall. */
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "hallbus/clock.h"
#include "hallbus/daemon.h"
#include "hallctl.h"
#include "text.h"

/* Longest free text sent to the hall (reasons, comments, contacts): far
 * below the hall's request limit, so an overlong one is ours to refuse. */
#define HC_TEXT_MAX 1024
#define HC_LIST_MAX 32

enum { G_JSON = 200, G_TIMEOUT, G_ACTOR, G_STAFF, G_VERSION, G_KEY };

static const struct option global_opts[] = {
    {"config", required_argument, NULL, 'c'},        {"endpoint", required_argument, NULL, 'e'},
    {"bus", required_argument, NULL, 'b'},           {"json", no_argument, NULL, G_JSON},
    {"timeout", required_argument, NULL, G_TIMEOUT}, {"actor", required_argument, NULL, G_ACTOR},
    {"staff", required_argument, NULL, G_STAFF},     {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, G_VERSION},       {"key", required_argument, NULL, G_KEY},
};
#define N_GLOBAL (sizeof global_opts / sizeof global_opts[0])

void hc_getopt_init(hc_getopt_t *g, hallctl_t *ctl, int argc, char **argv, const hc_opt_t *opts,
                    bool stop_at_word)
{
    memset(g, 0, sizeof *g);
    g->ctl = ctl;
    g->argc = argc;
    g->argv = argv;
    size_t n = 0;
    for (; opts && opts[n].name; n++) {
        assert(n < HC_OPTS_MAX && opts[n].id >= HC_OPT_FIRST);
        g->longopts[n] = (struct option){
            opts[n].name, opts[n].has_arg ? required_argument : no_argument, NULL, opts[n].id};
    }
    memcpy(g->longopts + n, global_opts, sizeof global_opts);
    /* '+': stop at the command word; ':': report a missing value as ':' */
    g->shortopts = stop_at_word ? "+:c:e:b:h" : ":c:e:b:h";
    optind = 0; /* glibc: a full restart, including the '+' mode */
    opterr = 0; /* we say what is wrong, with the usage */
}

/* "--green" or "-c", for messages. */
static const char *option_name(const hc_getopt_t *g, int id, char *buf, size_t len)
{
    if (id > 0 && id < 128 && isalnum(id)) {
        snprintf(buf, len, "-%c", id);
        return buf;
    }
    for (const struct option *o = g->longopts; o->name; o++) {
        if (o->val == id) {
            snprintf(buf, len, "--%s", o->name);
            return buf;
        }
    }
    return optind > 0 && optind <= g->argc ? g->argv[optind - 1] : "?";
}

static int fail(hc_getopt_t *g, int status)
{
    g->status = status;
    return -1;
}

int hc_getopt(hc_getopt_t *g, const char **arg)
{
    hallctl_t *ctl = g->ctl;
    char name[64];
    for (;;) {
        int c = getopt_long(g->argc, g->argv, g->shortopts, g->longopts, NULL);
        switch (c) {
        case -1:
            g->pos = g->argv + optind;
            g->npos = g->argc - optind;
            return 0;
        case 'c':
            ctl->config_path = optarg;
            continue;
        case 'e':
            ctl->cmd_endpoint = optarg;
            continue;
        case 'b':
            ctl->sub_endpoint = optarg;
            continue;
        case G_JSON:
            ctl->json = true;
            continue;
        case G_TIMEOUT: {
            long ms;
            if (hc_parse_count(ctl, "--timeout", optarg, 1, 600000, &ms) != 0)
                return fail(g, HC_EXIT_USAGE);
            ctl->timeout_ms = (int)ms;
            continue;
        }
        case G_STAFF: /* a command's own --staff (window open, audit) comes first */
            if (hc_parse_text(ctl, "--staff", optarg, true) != 0)
                return fail(g, HC_EXIT_USAGE);
            ctl->staff = optarg;
            continue;
        case G_KEY:
            if (!hb_key_name_valid(optarg)) {
                hc_usage_error(ctl, "--key names a key file: letters, digits, '_', '.', '-'");
                return fail(g, HC_EXIT_USAGE);
            }
            ctl->key = optarg;
            continue;
        case G_ACTOR:
            if (hc_parse_text(ctl, "--actor", optarg, true) != 0)
                return fail(g, HC_EXIT_USAGE);
            ctl->actor = optarg;
            continue;
        case 'h':
            hc_print_usage(stdout, ctl->cmd);
            return fail(g, HC_EXIT_OK);
        case G_VERSION:
            printf("hallctl %s\n", hb_version());
            return fail(g, HC_EXIT_OK);
        case ':':
            hc_usage_error(ctl, "%s needs a value", option_name(g, optopt, name, sizeof name));
            return fail(g, HC_EXIT_USAGE);
        case '?':
            if (optopt > 0 && optopt < 128 && isdigit(optopt))
                hc_usage_error(ctl, "unknown option '-%c' (numbers here are positive)", optopt);
            else if (optopt > 0 && optopt < 128 && isprint(optopt))
                hc_usage_error(ctl, "unknown option '-%c'", optopt);
            else
                hc_usage_error(ctl, "unknown option '%s'", g->argv[optind - 1]);
            return fail(g, HC_EXIT_USAGE);
        default:
            *arg = optarg;
            return c;
        }
    }
}

int hc_usage_error(hallctl_t *ctl, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const command_t *cmd = ctl->cmd;
    if (cmd)
        tx_line(stderr, "hallctl %s%s%s: %s", cmd->group ? cmd->group : "", cmd->group ? " " : "",
                cmd->name, msg);
    else
        tx_line(stderr, "hallctl: %s", msg);
    if (cmd)
        hc_print_usage(stderr, cmd);
    else
        hc_print_short_usage(stderr);
    return HC_EXIT_USAGE;
}

int hc_want_args(hc_getopt_t *g, int n, const char *what)
{
    if (g->npos < n)
        return hc_usage_error(g->ctl, "missing %s", what);
    if (g->npos > n)
        return hc_usage_error(g->ctl, "unexpected argument '%s'", g->pos[n]);
    return 0;
}

/* Decimal digits only: no sign, no blanks, no "0x", no "3rd". */
static bool all_digits(const char *text)
{
    if (!*text)
        return false;
    for (const char *p = text; *p; p++)
        if (*p < '0' || *p > '9')
            return false;
    return true;
}

int hc_parse_count(hallctl_t *ctl, const char *what, const char *text, long min, long max,
                   long *out)
{
    errno = 0;
    long v = all_digits(text) ? strtol(text, NULL, 10) : -1;
    if (v < 0 || errno == ERANGE || v < min || v > max)
        return hc_usage_error(ctl, "%s must be a number from %ld to %ld, not '%s'", what, min, max,
                              text);
    *out = v;
    return 0;
}

int hc_parse_window(hallctl_t *ctl, const char *text, uint32_t *out)
{
    errno = 0;
    unsigned long long v = all_digits(text) ? strtoull(text, NULL, 10) : 0;
    if (v == 0 || errno == ERANGE || v > UINT32_MAX)
        return hc_usage_error(ctl, "a window is a positive number, not '%s'", text);
    *out = (uint32_t)v;
    return 0;
}

int hc_parse_text(hallctl_t *ctl, const char *what, const char *text, bool required)
{
    if (required && !*text)
        return hc_usage_error(ctl, "%s must not be empty", what);
    if (strlen(text) > HC_TEXT_MAX)
        return hc_usage_error(ctl, "%s is longer than %d bytes", what, HC_TEXT_MAX);
    /* proto3 strings are UTF-8; a client in another language would choke */
    if (!tx_utf8_valid(text))
        return hc_usage_error(ctl, "%s is not valid UTF-8", what);
    return 0;
}

/* "With_Infant" → "with-infant": the words are forgiving about case and '_'. */
static void normalise(const char *text, char *out, size_t len)
{
    size_t i = 0;
    for (; text[i] && i + 1 < len; i++)
        out[i] = text[i] == '_' ? '-' : (char)tolower((unsigned char)text[i]);
    out[i] = '\0';
}

static int word_index(const char *text, const char *const *words, int n)
{
    char norm[32];
    if (strlen(text) >= sizeof norm)
        return -1;
    normalise(text, norm, sizeof norm);
    for (int i = 0; i < n; i++)
        if (words[i] && strcmp(norm, words[i]) == 0)
            return i;
    return -1;
}

static const char *const green_words[] = {NULL,       "elderly",     "disabled",
                                          "pregnant", "with-infant", "urgent"};
static const char *const result_words[] = {NULL, "completed", "accepted", "rejected",
                                           "materials-missing"};
static const char *const rating_words[] = {NULL, "very-satisfied", "satisfied",
                                           "basically-satisfied", "dissatisfied"};
#define NWORDS(a) ((int)(sizeof a / sizeof a[0]))

int hc_parse_green(hallctl_t *ctl, const char *text, Hallbus__GreenReason *out)
{
    int i = word_index(text, green_words, NWORDS(green_words));
    if (i < 0)
        return hc_usage_error(ctl,
                              "--green is elderly, disabled, pregnant, with-infant or urgent, "
                              "not '%s'",
                              text);
    *out = (Hallbus__GreenReason)i;
    return 0;
}

int hc_parse_result(hallctl_t *ctl, const char *text, Hallbus__Result *out)
{
    int i = word_index(text, result_words, NWORDS(result_words));
    if (i < 0)
        return hc_usage_error(ctl,
                              "--result is completed, accepted, rejected or materials-missing, "
                              "not '%s'",
                              text);
    *out = (Hallbus__Result)i;
    return 0;
}

int hc_parse_rating(hallctl_t *ctl, const char *text, uint32_t *out)
{
    int i = word_index(text, rating_words, NWORDS(rating_words));
    if (i < 0 && strlen(text) == 1 && text[0] >= '1' && text[0] <= '4')
        i = text[0] - '0';
    if (i < 0)
        return hc_usage_error(ctl,
                              "a rating is 1-4 or very-satisfied, satisfied, "
                              "basically-satisfied, dissatisfied; not '%s'",
                              text);
    *out = (uint32_t)i;
    return 0;
}

int hc_parse_date(hallctl_t *ctl, const char *what, const char *text)
{
    if (!hb_date_valid(text))
        return hc_usage_error(ctl, "%s must be a date YYYY-MM-DD, not '%s'", what, text);
    return 0;
}

void hc_list_free(char **list)
{
    if (!list)
        return;
    for (char **p = list; *p; p++)
        free(*p);
    free(list);
}

int hc_parse_list(hallctl_t *ctl, const char *what, const char *text, char ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    char **list = calloc(HC_LIST_MAX + 1, sizeof *list);
    if (!list)
        abort();
    size_t count = 0;
    const char *p = text;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        while (len && isspace((unsigned char)*p)) {
            p++;
            len--;
        }
        while (len && isspace((unsigned char)p[len - 1]))
            len--;
        if (len == 0 || count == HC_LIST_MAX) {
            hc_list_free(list);
            if (len == 0)
                return hc_usage_error(ctl, "%s has an empty item: '%s'", what, text);
            return hc_usage_error(ctl, "%s has more than %d items", what, HC_LIST_MAX);
        }
        list[count] = strndup(p, len);
        if (!list[count])
            abort();
        int rc = hc_parse_text(ctl, what, list[count], true);
        count++;
        if (rc != 0) {
            hc_list_free(list);
            return rc;
        }
        if (!comma)
            break;
        p = comma + 1;
    }
    *out = list;
    *n = count;
    return 0;
}

const char *hc_green_word(Hallbus__GreenReason r)
{
    return (int)r > 0 && (int)r < NWORDS(green_words) ? green_words[r] : "green";
}

const char *hc_rating_word(uint32_t rating)
{
    return rating > 0 && rating < (uint32_t)NWORDS(rating_words) ? rating_words[rating]
                                                                 : "unknown rating";
}

const char *hc_state_word(Hallbus__TicketState s)
{
    switch (s) {
    case HALLBUS__TICKET_STATE__WAITING:
        return "waiting";
    case HALLBUS__TICKET_STATE__CALLED:
        return "called";
    case HALLBUS__TICKET_STATE__SERVING:
        return "serving";
    case HALLBUS__TICKET_STATE__NO_SHOW:
        return "no-show";
    case HALLBUS__TICKET_STATE__FINISHED:
        return "finished";
    case HALLBUS__TICKET_STATE__EXPIRED:
        return "expired";
    default:
        return "?";
    }
}

const char *hc_window_state_word(Hallbus__WindowState s)
{
    switch (s) {
    case HALLBUS__WINDOW_STATE__CLOSED:
        return "closed";
    case HALLBUS__WINDOW_STATE__OPEN:
        return "open";
    case HALLBUS__WINDOW_STATE__PAUSED:
        return "paused";
    default:
        return "?";
    }
}

int hc_only_window(hallctl_t *ctl, int argc, char **argv, uint32_t *w, int *status)
{
    hc_getopt_t g;
    hc_getopt_init(&g, ctl, argc, argv, NULL, false);
    const char *unused;
    if (hc_getopt(&g, &unused) < 0) {
        *status = g.status;
        return -1;
    }
    *status = hc_want_args(&g, 1, "window number W");
    if (*status == 0)
        *status = hc_parse_window(ctl, g.pos[0], w);
    return *status == 0 ? 0 : -1;
}
