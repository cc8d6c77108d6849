/* `hallctl report`: the performance review (考核) of a hall over a range of
 * business days, from hall-audit's record: a table for people, --csv for
 * spreadsheets, --html for a supervisor (one self-contained page: tables and
 * inline SVG charts, no script, nothing fetched from anywhere). */
#include <stdlib.h>
#include <string.h>

#include "cmd_audit.h"
#include "hallbus/pb_json.h"
#include "text.h"

enum { O_HALL = HC_OPT_FIRST, O_FROM, O_TO, O_CSV, O_HTML, O_OUTPUT, O_AUDIT };

static const char *const GROUPS[] = {"hall", "service", "window", "staff"};
static const char *const GROUP_TITLES[] = {"Hall", "Per service", "Per window", "Per staff member"};
static const char *const RATING_WORDS[] = {"very satisfied", "satisfied", "basically satisfied",
                                           "dissatisfied"};

static uint32_t rating(const Hallbus__AuditReportRow *r, int i)
{
    return r->n_ratings > (size_t)i ? r->ratings[i] : 0;
}

static uint32_t rated(const Hallbus__AuditReportRow *r)
{
    uint32_t n = 0;
    for (int i = 0; i < 4; i++)
        n += rating(r, i);
    return n;
}

/* "87.5%" or "-" */
static void pct(uint32_t part, uint32_t whole, char *out, size_t len)
{
    if (whole)
        snprintf(out, len, "%.1f%%", 100.0 * part / whole);
    else
        snprintf(out, len, "-");
}

static void mmss(double seconds, char *out, size_t len)
{
    unsigned s = (unsigned)(seconds + 0.5);
    snprintf(out, len, "%u:%02u", s / 60, s % 60);
}

/* ── the table ── */

#define NCOLS 11

static void cells_of(const Hallbus__AuditReportRow *r, char c[NCOLS][64])
{
    if (r->name && *r->name)
        snprintf(c[0], 64, "%s %s", r->key, r->name);
    else
        snprintf(c[0], 64, "%s", r->key);
    snprintf(c[1], 64, "%u", r->served);
    mmss(r->avg_wait_s, c[2], 64);
    mmss(r->p90_wait_s, c[3], 64);
    mmss(r->avg_service_s, c[4], 64);
    mmss(r->p90_service_s, c[5], 64);
    snprintf(c[6], 64, "%u", r->no_shows);
    snprintf(c[7], 64, "%u", r->transfers);
    uint32_t n = rated(r);
    if (n)
        snprintf(c[8], 64, "%u/%u/%u/%u (%.0f%% sat.)", rating(r, 0), rating(r, 1), rating(r, 2),
                 rating(r, 3), 100.0 * (rating(r, 0) + rating(r, 1)) / n);
    else
        snprintf(c[8], 64, "-");
    pct(r->within_target, r->target_known, c[9], 64);
    snprintf(c[10], 64, "%u", r->complaints);
}

static void print_table(const Hallbus__AuditReport *rep)
{
    static const char *const heads[NCOLS] = {
        "",         "served",    "avg wait",        "p90 wait",      "avg service", "p90 service",
        "no-shows", "transfers", "ratings 1/2/3/4", "within target", "complaints"};
    tx_line(stdout, "Performance review of hall %s, %s to %s (%llu events read%s)", rep->hall_id,
            rep->from_date, rep->to_date, (unsigned long long)rep->events,
            rep->gaps ? "; the record has gaps in this range, figures may be short" : "");
    for (int g = 0; g < 4; g++) {
        size_t w[NCOLS];
        for (int i = 0; i < NCOLS; i++)
            w[i] = tx_width(heads[i]);
        int rows = 0;
        for (size_t i = 0; i < rep->n_rows; i++) {
            if (strcmp(rep->rows[i]->group, GROUPS[g]) != 0)
                continue;
            char c[NCOLS][64];
            cells_of(rep->rows[i], c);
            for (int k = 0; k < NCOLS; k++)
                if (tx_width(c[k]) > w[k])
                    w[k] = tx_width(c[k]);
            rows++;
        }
        if (!rows)
            continue;
        printf("\n%s\n", GROUP_TITLES[g]);
        for (int pass = -1; pass < (int)rep->n_rows; pass++) {
            char c[NCOLS][64];
            const char *cell[NCOLS];
            if (pass < 0) {
                for (int k = 0; k < NCOLS; k++)
                    cell[k] = heads[k];
            } else {
                if (strcmp(rep->rows[pass]->group, GROUPS[g]) != 0)
                    continue;
                cells_of(rep->rows[pass], c);
                for (int k = 0; k < NCOLS; k++)
                    cell[k] = c[k];
            }
            fputs("  ", stdout);
            for (int k = 0; k < NCOLS; k++) {
                char *clean = tx_clean(cell[k]);
                size_t pad = w[k] - tx_width(clean);
                if (k == 0)
                    printf("%s%*s", clean, (int)pad, "");
                else
                    printf("  %*s%s", (int)pad, "", clean);
                free(clean);
            }
            fputc('\n', stdout);
        }
    }
    printf("\nwait: issued to first call; service: started to finished (min:s). Ratings: 1 very "
           "satisfied,\n2 satisfied, 3 basically satisfied, 4 dissatisfied. Complaints:\n"
           "complaints filed against the window, staff member or service (by ticket number).\n");
}

/* ── CSV ── */

static void csv_text(FILE *f, const char *s)
{
    fputc('"', f);
    for (; s && *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void print_csv(const Hallbus__AuditReport *rep, FILE *f)
{
    fputs("group,key,name,served,avg_wait_s,p90_wait_s,avg_service_s,p90_service_s,no_shows,"
          "transfers,rating_1,rating_2,rating_3,rating_4,within_target,target_known,"
          "within_target_pct,complaints\n",
          f);
    for (size_t i = 0; i < rep->n_rows; i++) {
        const Hallbus__AuditReportRow *r = rep->rows[i];
        fprintf(f, "%s,", r->group);
        csv_text(f, r->key);
        fputc(',', f);
        csv_text(f, r->name);
        fprintf(f, ",%u,%.1f,%u,%.1f,%u,%u,%u,%u,%u,%u,%u,%u,%u,", r->served, r->avg_wait_s,
                r->p90_wait_s, r->avg_service_s, r->p90_service_s, r->no_shows, r->transfers,
                rating(r, 0), rating(r, 1), rating(r, 2), rating(r, 3), r->within_target,
                r->target_known);
        if (r->target_known)
            fprintf(f, "%.1f", 100.0 * r->within_target / r->target_known);
        fprintf(f, ",%u\n", r->complaints);
    }
}

/* ── HTML ── */

static void html_text(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '&':
            fputs("&amp;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        default:
            fputc(*s, f);
        }
    }
}

typedef struct {
    const char *label;
    double value;
    const char *text;
} bar_t;

/* A vertical bar chart as inline SVG. */
static void svg_bars(FILE *f, const char *title, const bar_t *bars, size_t n, const char *color,
                     int bar_width)
{
    double max = 0;
    for (size_t i = 0; i < n; i++)
        if (bars[i].value > max)
            max = bars[i].value;
    const int H = 180, top = 20, bottom = 40, left = 10;
    int bw = bar_width ? bar_width : n > 16 ? 26 : 44;
    int W = left * 2 + (int)n * bw;
    if (W < 320)
        W = 320;
    fprintf(f, "<figure><figcaption>");
    html_text(f, title);
    fprintf(f,
            "</figcaption><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
            "role=\"img\">",
            W, H + top + bottom);
    fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#888\"/>", left, top + H,
            W - left, top + H);
    for (size_t i = 0; i < n; i++) {
        int h = max > 0 ? (int)(bars[i].value / max * H + 0.5) : 0;
        int x = left + (int)i * bw;
        fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\"><title>", x + 3,
                top + H - h, bw - 6, h, color);
        html_text(f, bars[i].label);
        fputs(": ", f);
        html_text(f, bars[i].text);
        fputs("</title></rect>", f);
        if (h > 0 || bars[i].value > 0) {
            fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"10\" text-anchor=\"middle\">",
                    x + bw / 2, top + H - h - 4);
            html_text(f, bars[i].text);
            fputs("</text>", f);
        }
        fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"middle\">", x + bw / 2,
                top + H + 16);
        html_text(f, bars[i].label);
        fputs("</text>", f);
    }
    fputs("</svg></figure>\n", f);
}

static void print_html(const Hallbus__AuditReport *rep, FILE *f)
{
    fputs("<!DOCTYPE html>\n<html lang=\"zh\"><head><meta charset=\"utf-8\">"
          "<meta name=\"viewport\" content=\"width=device-width\"><title>",
          f);
    fprintf(f, "考核 Performance review — hall ");
    html_text(f, rep->hall_id);
    fputs("</title><style>"
          "body{font-family:system-ui,'Noto Sans CJK SC',sans-serif;margin:2em;color:#222}"
          "h1{font-size:1.4em}h2{font-size:1.1em;margin-top:2em}"
          "table{border-collapse:collapse;margin:.5em 0}"
          "th,td{border:1px solid #ccc;padding:.3em .6em;text-align:right}"
          "th:first-child,td:first-child{text-align:left}th{background:#f0f3f7}"
          ".charts{display:flex;flex-wrap:wrap;gap:2em}figure{margin:0}"
          "figcaption{font-weight:600;margin-bottom:.3em}.note{color:#666;font-size:.9em}"
          ".warn{color:#b00}"
          "</style></head><body>\n",
          f);
    fputs("<h1>考核 Performance review — hall ", f);
    html_text(f, rep->hall_id);
    fputs(", ", f);
    html_text(f, rep->from_date);
    fputs(" to ", f);
    html_text(f, rep->to_date);
    fputs("</h1>\n", f);
    if (rep->gaps)
        fprintf(f,
                "<p class=\"warn\">The record has %llu gap(s) in this range: figures may be "
                "short.</p>\n",
                (unsigned long long)rep->gaps);

    /* charts */
    fputs("<div class=\"charts\">\n", f);
    bar_t hours[24];
    char htext[24][16], hlabel[24][8];
    size_t nh = 0;
    int lo = 24, hi = -1;
    for (size_t i = 0; i < rep->n_hours; i++)
        if (rep->hours[i]->served) {
            lo = (int)rep->hours[i]->hour < lo ? (int)rep->hours[i]->hour : lo;
            hi = (int)rep->hours[i]->hour > hi ? (int)rep->hours[i]->hour : hi;
        }
    for (size_t i = 0; i < rep->n_hours && nh < 24; i++) {
        const Hallbus__AuditHourRow *h = rep->hours[i];
        if ((int)h->hour < lo || (int)h->hour > hi)
            continue;
        snprintf(hlabel[nh], sizeof hlabel[nh], "%02u", h->hour);
        mmss(h->avg_wait_s, htext[nh], sizeof htext[nh]);
        hours[nh] = (bar_t){hlabel[nh], h->avg_wait_s, htext[nh]};
        nh++;
    }
    svg_bars(f, "Average wait (min:s) by hour of issue", hours, nh, "#4a7bd0", 0);
    size_t nw = 0;
    for (size_t i = 0; i < rep->n_rows; i++)
        nw += strcmp(rep->rows[i]->group, "window") == 0;
    bar_t *wins = calloc(nw ? nw : 1, sizeof *wins);
    char(*wtext)[16] = calloc(nw ? nw : 1, sizeof *wtext);
    size_t k = 0;
    for (size_t i = 0; wins && wtext && i < rep->n_rows; i++) {
        const Hallbus__AuditReportRow *r = rep->rows[i];
        if (strcmp(r->group, "window") != 0)
            continue;
        snprintf(wtext[k], sizeof wtext[k], "%u", r->served);
        wins[k] = (bar_t){r->key, r->served, wtext[k]};
        k++;
    }
    svg_bars(f, "Served per window", wins, k, "#3c9d5d", 0);
    free(wins);
    free(wtext);
    const Hallbus__AuditReportRow *hall = NULL;
    for (size_t i = 0; i < rep->n_rows; i++)
        if (strcmp(rep->rows[i]->group, "hall") == 0)
            hall = rep->rows[i];
    bar_t sat[4];
    char stext[4][16];
    for (int i = 0; i < 4; i++) {
        uint32_t v = hall ? rating(hall, i) : 0;
        snprintf(stext[i], sizeof stext[i], "%u", v);
        sat[i] = (bar_t){RATING_WORDS[i], v, stext[i]};
    }
    svg_bars(f, "Satisfaction (评价)", sat, 4, "#d08a2e", 100);
    fputs("</div>\n", f);

    /* tables */
    static const char *const heads[NCOLS] = {
        "",         "served",    "avg wait",        "p90 wait",      "avg service", "p90 service",
        "no-shows", "transfers", "ratings 1/2/3/4", "within target", "complaints"};
    for (int g = 0; g < 4; g++) {
        bool any = false;
        for (size_t i = 0; i < rep->n_rows; i++)
            any |= strcmp(rep->rows[i]->group, GROUPS[g]) == 0;
        if (!any)
            continue;
        fprintf(f, "<h2>%s</h2>\n<table><tr>", GROUP_TITLES[g]);
        for (int c = 0; c < NCOLS; c++)
            fprintf(f, "<th>%s</th>", heads[c]);
        fputs("</tr>\n", f);
        for (size_t i = 0; i < rep->n_rows; i++) {
            if (strcmp(rep->rows[i]->group, GROUPS[g]) != 0)
                continue;
            char c[NCOLS][64];
            cells_of(rep->rows[i], c);
            fputs("<tr>", f);
            for (int j = 0; j < NCOLS; j++) {
                fputs("<td>", f);
                html_text(f, c[j]);
                fputs("</td>", f);
            }
            fputs("</tr>\n", f);
        }
        fputs("</table>\n", f);
    }
    fputs("<p class=\"note\">Wait: from the ticket's issue to its first call. Service: from start "
          "to finish (min:s). p90: the nearest-rank 90th percentile. Within target: services "
          "finished within the service's target time of the hall file. Ratings: 1 very "
          "satisfied, 2 satisfied, 3 basically satisfied, 4 dissatisfied. Complaints: "
          "complaints filed against the window, staff member or service (by ticket "
          "number).</p>\n</body></html>\n",
          f);
}

int cmd_report(hallctl_t *ctl, int argc, char **argv)
{
    static const hc_opt_t opts[] = {{"hall", true, O_HALL},   {"from", true, O_FROM},
                                    {"to", true, O_TO},       {"csv", false, O_CSV},
                                    {"html", false, O_HTML},  {"output", true, O_OUTPUT},
                                    {"audit", true, O_AUDIT}, {NULL, false, 0}};
    hc_getopt_t g;
    hc_getopt_init(&g, ctl, argc, argv, opts, false);
    const char *arg, *hall = NULL, *from = NULL, *to = NULL, *out = NULL, *audit_ep = NULL;
    bool csv = false, html = false;
    int c;
    while ((c = hc_getopt(&g, &arg)) > 0) {
        if (c == O_HALL)
            hall = arg;
        else if (c == O_FROM || c == O_TO) {
            if (hc_parse_date(ctl, c == O_FROM ? "--from" : "--to", arg) != 0)
                return HC_EXIT_USAGE;
            *(c == O_FROM ? &from : &to) = arg;
        } else if (c == O_CSV)
            csv = true;
        else if (c == O_HTML)
            html = true;
        else if (c == O_OUTPUT)
            out = arg;
        else if (c == O_AUDIT)
            audit_ep = arg;
    }
    if (c < 0)
        return g.status;
    if (hc_want_args(&g, 0, "nothing") != 0)
        return HC_EXIT_USAGE;
    if (csv && html)
        return hc_usage_error(ctl, "--csv or --html, not both");
    if (hc_resolve(ctl) != 0)
        return HC_EXIT_USAGE;
    if (!hall)
        hall = ctl->hall_id;
    char today[11];
    ac_today(ctl, today);
    if (!from)
        from = today;
    if (!to)
        to = from;
    if (!hall)
        return hc_usage_error(ctl, "name the hall (--hall H)");
    ac_t *ac = ac_new(ctl, audit_ep);
    if (!ac)
        return HC_EXIT_USAGE;
    Hallbus__AuditRequest req = HALLBUS__AUDIT_REQUEST__INIT;
    Hallbus__AuditReportQuery q = HALLBUS__AUDIT_REPORT_QUERY__INIT;
    q.hall_id = (char *)hall;
    q.from_date = (char *)from;
    q.to_date = (char *)to;
    req.query_case = HALLBUS__AUDIT_REQUEST__QUERY_REPORT;
    req.report = &q;
    int status;
    Hallbus__AuditReply *r = ac_call(ac, &req, &status);
    ac_destroy(&ac);
    if (!r)
        return status;
    FILE *f = stdout;
    if (out && !(f = fopen(out, "w"))) {
        tx_line(stderr, "hallctl: cannot write %s", out);
        hallbus__audit_reply__free_unpacked(r, NULL);
        return HC_EXIT_USAGE;
    }
    if (!r->report)
        status = HC_EXIT_REFUSED;
    else if (ctl->json) {
        json_t *doc = hb_pb_to_json(&r->report->base);
        json_dumpf(doc, f, JSON_INDENT(2));
        fputc('\n', f);
        json_decref(doc);
    } else if (csv)
        print_csv(r->report, f);
    else if (html)
        print_html(r->report, f);
    else
        print_table(r->report);
    if (f != stdout && fclose(f) != 0)
        status = HC_EXIT_USAGE;
    hallbus__audit_reply__free_unpacked(r, NULL);
    return status;
}
