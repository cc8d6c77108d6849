/* The hall file loader: the demo hall loads as written, defaults fill what
 * is left out, and every kind of mistake is refused with one line naming
 * the file, the line and the key. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hallbus/config.h"

#include "../../common/src/config_locate.h"

static char dir[64];
static char path[128];
static char err[HB_CONFIG_ERR_MAX];

/* A small valid hall. Error tests edit one line of it and assert on the
 * line numbers noted here. */
static const char BASE[] = "hall:\n"                               /*  1 */
                           "  id: t1\n"                            /*  2 */
                           "  name: \"测试大厅\"\n"                /*  3 */
                           "  rollover: \"07:30\"\n"               /*  4 */
                           "services:\n"                           /*  5 */
                           "  - prefix: A\n"                       /*  6 */
                           "    name: \"社保业务\"\n"              /*  7 */
                           "    quota: 300\n"                      /*  8 */
                           "    materials: [\"身份证\"]\n"         /*  9 */
                           "  - prefix: B\n"                       /* 10 */
                           "    name: \"医保业务\"\n"              /* 11 */
                           "    name_en: \"Medical insurance\"\n"  /* 12 */
                           "windows:\n"                            /* 13 */
                           "  - number: 1\n"                       /* 14 */
                           "    services: [A, B]\n"                /* 15 */
                           "  - number: 2\n"                       /* 16 */
                           "    services: [B]\n"                   /* 17 */
                           "endpoints:\n"                          /* 18 */
                           "  command: \"tcp://127.0.0.1:5550\"\n" /* 19 */
                           "  bus_pub: \"tcp://127.0.0.1:5551\"\n" /* 20 */
                           "  bus_sub: \"tcp://127.0.0.1:5552\"\n" /* 21 */
                           "queue:\n"                              /* 22 */
                           "  heartbeat_ms: 500\n";                /* 23 */

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/hallbus-config-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/hall.yaml", dir);
    err[0] = '\0';
}

static void teardown(void)
{
    unlink(path);
    cr_assert_eq(rmdir(dir), 0, "left something behind in %s", dir);
}

TestSuite(config, .init = setup, .fini = teardown);

static void write_text(const char *yaml)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(yaml, f);
    fclose(f);
}

static hb_config_t *load_text(const char *yaml)
{
    write_text(yaml);
    return hb_config_load(path, err);
}

/* BASE with the first FROM replaced by TO. */
static hb_config_t *load_edited(const char *from, const char *to)
{
    const char *at = strstr(BASE, from);
    cr_assert_not_null(at, "test bug: \"%s\" is not in BASE", from);
    char yaml[sizeof BASE + 1024];
    snprintf(yaml, sizeof yaml, "%.*s%s%s", (int)(at - BASE), BASE, to, at + strlen(from));
    return load_text(yaml);
}

static void assert_refused(hb_config_t *config, const char *want)
{
    cr_assert_null(config, "was accepted; expected an error containing \"%s\"", want);
    cr_assert_not_null(strstr(err, want), "error \"%s\"\n  does not contain \"%s\"", err, want);
    cr_assert_eq(strncmp(err, path, strlen(path)), 0, "error \"%s\" does not start with the file",
                 err);
    cr_assert_null(strchr(err, '\n'), "error \"%s\" is more than one line", err);
}

static void refuse_edit(const char *from, const char *to, const char *want)
{
    hb_config_t *config = load_edited(from, to);
    assert_refused(config, want);
}

static void demo_path(char *out, size_t size)
{
    const char *src = getenv("HALLBUS_SRC");
    if (src) {
        snprintf(out, size, "%s/deploy/demo-hall.yaml", src);
        return;
    }
    /* Built outside ctest: find the tree from this file's own path. */
    const char *here = __FILE__;
    const char *tail = strstr(here, "tests/common/test_config.c");
    cr_assert_not_null(tail, "set HALLBUS_SRC to the source tree");
    snprintf(out, size, "%.*sdeploy/demo-hall.yaml", (int)(tail - here), here);
}

/* ── what loads ── */

Test(config, demo_hall_loads_with_every_field_as_written)
{
    char demo[512];
    demo_path(demo, sizeof demo);
    hb_config_t *c = hb_config_load(demo, err);
    cr_assert_not_null(c, "%s", err);

    cr_assert_str_eq(c->path, demo);
    cr_assert_str_eq(c->hall.id, "h01");
    cr_assert_str_eq(c->hall.name, "滨江社区服务中心");
    cr_assert_str_eq(c->hall.name_en, "Binjiang Community Service Centre");
    cr_assert_eq(c->hall.rollover_minute, 180);

    cr_assert_eq(c->services_count, 5);
    const char *prefixes[] = {"A", "B", "C", "D", "E"};
    const char *names[] = {"社保业务", "医保业务", "户籍业务", "不动产登记", "综合咨询"};
    const uint32_t quotas[] = {300, 200, 120, 60, 0};
    const uint32_t targets[] = {15, 15, 20, 30, 5};
    for (unsigned i = 0; i < 5; i++) {
        cr_assert_str_eq(c->services[i].prefix, prefixes[i]);
        cr_assert_str_eq(c->services[i].name, names[i]);
        cr_assert_not_null(c->services[i].name_en);
        cr_assert_eq(c->services[i].quota, quotas[i], "services[%u].quota", i);
        cr_assert_eq(c->services[i].target_minutes, targets[i], "services[%u]", i);
    }
    cr_assert_str_eq(c->services[1].name_en, "Medical insurance");
    cr_assert_eq(c->services[3].materials_count, 4);
    cr_assert_str_eq(c->services[3].materials[0], "身份证");
    cr_assert_str_eq(c->services[3].materials[3], "完税证明");
    cr_assert_eq(c->services[4].materials_count, 0);
    cr_assert_null(c->services[4].materials);

    cr_assert_eq(c->windows_count, 12);
    for (unsigned i = 0; i < 12; i++)
        cr_assert_eq(c->windows[i].number, i + 1);
    cr_assert_eq(c->windows[5].services_count, 2);
    cr_assert_str_eq(c->windows[5].services[0], "B"); /* calling order as written */
    cr_assert_str_eq(c->windows[5].services[1], "A");
    cr_assert_eq(c->windows[11].services_count, 5);
    cr_assert_str_eq(c->windows[11].services[0], "E");

    cr_assert_str_eq(c->endpoints.command, "tcp://127.0.0.1:5550");
    cr_assert_str_eq(c->endpoints.bus_pub, "tcp://127.0.0.1:5551");
    cr_assert_str_eq(c->endpoints.bus_sub, "tcp://127.0.0.1:5552");
    cr_assert_str_eq(c->queue.queue_db, "var/h01-queue.db");
    cr_assert_eq(c->queue.recall_limit, 3);
    cr_assert_eq(c->queue.heartbeat_ms, 1000);
    cr_assert_eq(c->queue.pub_hwm, 100000);
    cr_assert_eq(c->queue.journal_days, 7);
    hb_config_destroy(&c);
}

Test(config, left_out_values_take_their_defaults)
{
    hb_config_t *c = load_text("hall: {id: t9, name: Minimal}\n"
                               "services: [{prefix: A, name: One}]\n"
                               "windows: [{number: 1, services: [A]}]\n"
                               "endpoints: {command: \"ipc://a\", bus_pub: \"ipc://b\","
                               " bus_sub: \"ipc://c\"}\n");
    cr_assert_not_null(c, "%s", err);
    cr_assert_null(c->hall.name_en);
    cr_assert_eq(c->hall.rollover_minute, 180); /* 03:00 */
    cr_assert_null(c->services[0].name_en);
    cr_assert_eq(c->services[0].quota, 0); /* no limit */
    cr_assert_eq(c->services[0].target_minutes, 15);
    cr_assert_eq(c->services[0].materials_count, 0);
    cr_assert_str_eq(c->queue.queue_db, "var/t9-queue.db");
    cr_assert_eq(c->queue.recall_limit, 3);
    cr_assert_eq(c->queue.heartbeat_ms, 1000);
    cr_assert_eq(c->queue.pub_hwm, 100000);
    cr_assert_eq(c->queue.journal_days, 7);
    cr_assert_eq(c->queue.contact_retention_days, 30);
    hb_config_destroy(&c);
}

Test(config, the_contact_retention_is_read_and_kept_within_its_range)
{
    const char *base = "hall: {id: t9, name: Minimal}\n"
                       "services: [{prefix: A, name: One}]\n"
                       "windows: [{number: 1, services: [A]}]\n"
                       "endpoints: {command: \"ipc://a\", bus_pub: \"ipc://b\","
                       " bus_sub: \"ipc://c\"}\n";
    char text[512];
    snprintf(text, sizeof text, "%squeue: {contact_retention_days: 7}\n", base);
    hb_config_t *c = load_text(text);
    cr_assert_not_null(c, "%s", err);
    cr_assert_eq(c->queue.contact_retention_days, 7);
    hb_config_destroy(&c);
    snprintf(text, sizeof text, "%squeue: {contact_retention_days: 0}\n", base);
    cr_assert_null(load_text(text), "no retention at all is refused");
    cr_assert(strstr(err, "queue.contact_retention_days: 0 is out of range 1..3650"), "%s", err);
}

Test(config, values_given_are_kept_and_zero_is_not_mistaken_for_absent)
{
    hb_config_t *c = load_edited("  heartbeat_ms: 500\n", "  heartbeat_ms: 500\n"
                                                          "  recall_limit: 0\n"
                                                          "  db: /srv/hall/q.db\n");
    cr_assert_not_null(c, "%s", err);
    cr_assert_eq(c->hall.rollover_minute, 7 * 60 + 30);
    cr_assert_eq(c->queue.recall_limit, 0);
    cr_assert_eq(c->queue.heartbeat_ms, 500);
    cr_assert_str_eq(c->queue.queue_db, "/srv/hall/q.db");
    cr_assert_eq(c->services[1].quota, 0);
    hb_config_destroy(&c);
}

Test(config, numbers_are_decimal_even_when_zero_padded)
{
    /* libcyaml's own reader would take 010 as octal 8 and 09 as 0 */
    hb_config_t *c = load_edited("  - number: 2\n", "  - number: 010\n");
    cr_assert_not_null(c, "%s", err);
    cr_assert_eq(c->windows[1].number, 10);
    hb_config_destroy(&c);
    c = load_edited("  - number: 2\n", "  - number: 09\n");
    cr_assert_not_null(c, "%s", err);
    cr_assert_eq(c->windows[1].number, 9);
    hb_config_destroy(&c);
}

/* ── what is refused, and where ── */

Test(config, a_prefix_used_twice_is_refused_at_the_second_service)
{
    refuse_edit("  - prefix: B", "  - prefix: A",
                ":10: services[1].prefix: \"A\" is already used by services[0]");
}

Test(config, a_window_naming_an_unknown_service_is_refused)
{
    refuse_edit("[A, B]", "[A, Z]", ":15: windows[0].services[1]: unknown service \"Z\"");
}

Test(config, a_window_listing_a_service_twice_is_refused)
{
    refuse_edit("[A, B]", "[A, B, A]",
                ":15: windows[0].services[2]: \"A\" is already listed at windows[0].services[0]");
}

Test(config, a_window_number_used_twice_is_refused)
{
    refuse_edit("  - number: 2", "  - number: 1",
                ":16: windows[1].number: 1 is already used by windows[0]");
}

Test(config, a_rollover_that_is_not_a_clock_time_is_refused)
{
    refuse_edit("\"07:30\"", "\"25:00\"",
                ":4: hall.rollover: \"25:00\" is not a time of day HH:MM");
    refuse_edit("\"07:30\"", "\"12:60\"", ":4: hall.rollover: \"12:60\"");
    refuse_edit("\"07:30\"", "\"7:30\"", ":4: hall.rollover: \"7:30\"");
}

Test(config, a_number_out_of_range_is_refused_with_the_range)
{
    refuse_edit("quota: 300", "quota: 20000",
                ":8: services[0].quota: 20000 is out of range 0..9999");
    refuse_edit("  heartbeat_ms: 500", "  heartbeat_ms: 50",
                ":23: queue.heartbeat_ms: 50 is out of range 100..60000");
    refuse_edit("  - number: 2", "  - number: 0", ":16: windows[1].number: 0 is out of range");
    refuse_edit("    quota: 300", "    target_minutes: 0",
                ":8: services[0].target_minutes: 0 is out of range 1..600");
}

Test(config, a_number_with_anything_but_digits_is_refused)
{
    refuse_edit("quota: 300", "quota: lots",
                ":8: services[0].quota: \"lots\" is not a whole number");
    refuse_edit("quota: 300", "quota: 12abc", ":8: services[0].quota: \"12abc\"");
    refuse_edit("quota: 300", "quota: -1", ":8: services[0].quota: \"-1\"");
    refuse_edit("quota: 300", "quota: 0x10", ":8: services[0].quota: \"0x10\"");
    refuse_edit("quota: 300", "quota: 99999999999999999999999",
                ":8: services[0].quota: 99999999999999999999999 is out of range");
}

Test(config, a_value_of_the_wrong_shape_is_refused_by_the_schema)
{
    refuse_edit("materials: [\"身份证\"]", "materials: \"身份证\"",
                ":9: services[0].materials: expected a list, found a single value");
    refuse_edit("quota: 300", "quota: [300]",
                ":8: services[0].quota: expected a single value, found a list");
    refuse_edit("[A, B]", "{A: 1}", ":15: windows[0].services: expected a list, found a mapping");
}

Test(config, a_missing_required_field_is_refused_at_its_parent)
{
    refuse_edit("  id: t1\n", "", ":1: hall.id: missing");
    refuse_edit("  - prefix: B\n    name:", "  - name:", ":10: services[1].prefix: missing");
    refuse_edit("  bus_sub: \"tcp://127.0.0.1:5552\"\n", "", ":18: endpoints.bus_sub: missing");
}

Test(config, a_hall_without_endpoints_is_refused)
{
    refuse_edit("endpoints:\n"
                "  command: \"tcp://127.0.0.1:5550\"\n"
                "  bus_pub: \"tcp://127.0.0.1:5551\"\n"
                "  bus_sub: \"tcp://127.0.0.1:5552\"\n",
                "", ":1: endpoints: missing");
}

Test(config, an_empty_or_malformed_endpoint_is_refused)
{
    refuse_edit("bus_sub: \"tcp://127.0.0.1:5552\"", "bus_sub: \"\"",
                ":21: endpoints.bus_sub: must not be empty");
    refuse_edit("command: \"tcp://127.0.0.1:5550\"", "command: \"127.0.0.1:5550\"",
                ":19: endpoints.command: \"127.0.0.1:5550\" is not a ZeroMQ endpoint");
}

Test(config, an_unknown_key_is_refused_with_its_name_and_line)
{
    refuse_edit("    quota: 300\n", "    quota: 300\n    colour: red\n",
                ":9: services[0].colour: unknown key");
    refuse_edit("queue:\n", "queues:\n", ":22: queues: unknown key");
    refuse_edit("  heartbeat_ms: 500", "  heartbeat: 500", ":23: queue.heartbeat: unknown key");
}

Test(config, a_key_given_twice_is_refused_at_the_second)
{
    refuse_edit("    quota: 300\n", "    quota: 300\n    quota: 400\n",
                ":9: services[0].quota: given twice");
}

Test(config, an_empty_services_list_is_refused)
{
    hb_config_t *c = load_text("hall: {id: t1, name: Empty}\n"
                               "services: []\n"
                               "windows: [{number: 1, services: [A]}]\n"
                               "endpoints: {command: \"ipc://a\", bus_pub: \"ipc://b\","
                               " bus_sub: \"ipc://c\"}\n");
    assert_refused(c, ":2: services: has 0 entries, needs at least 1");
}

Test(config, a_window_with_more_than_26_services_is_refused)
{
    refuse_edit("    services: [B]",
                "    services: [A,B,C,D,E,F,G,H,I,J,K,L,M,N,O,P,Q,R,S,T,U,V,W,X,Y,Z,A]",
                ":17: windows[1].services: has more than 26 entries");
}

Test(config, bad_names_and_prefixes_are_refused)
{
    refuse_edit("id: t1", "id: \"Hall 1\"", ":2: hall.id: \"Hall 1\" must be 1 to 32 of a-z");
    refuse_edit("  - prefix: B", "  - prefix: b", ":10: services[1].prefix: \"b\" must be one");
    refuse_edit("  - prefix: B", "  - prefix: BC", ":10: services[1].prefix: \"BC\" must be one");
    refuse_edit("    name: \"医保业务\"", "    name: \"\"",
                ":11: services[1].name: must not be empty");
    refuse_edit("[\"身份证\"]", "[\"身份证\", \"\"]",
                ":9: services[0].materials[1]: must not be empty");
}

Test(config, errors_point_at_the_right_line_in_flow_style_too)
{
    hb_config_t *c = load_text("hall: {id: t1, name: Flow}\n"
                               "services:\n"
                               "  - {prefix: A, name: One}\n"
                               "  - {prefix: A, name: Two}\n"
                               "windows: [{number: 1, services: [A]}]\n"
                               "endpoints: {command: \"ipc://a\", bus_pub: \"ipc://b\","
                               " bus_sub: \"ipc://c\"}\n");
    assert_refused(c, ":4: services[1].prefix: \"A\" is already used by services[0]");
}

Test(config, a_file_that_is_not_yaml_is_refused_with_libyamls_reason)
{
    /* the quote runs on until libyaml gives up on the next line */
    hb_config_t *c = load_edited("  name: \"测试大厅\"", "  name: \"unterminated");
    assert_refused(c, ":4: not valid YAML: did not find expected key");
    c = load_text("hall:\n  id: t1\n\tname: tab\n");
    assert_refused(c, ":3: not valid YAML: ");
    c = load_text("hall:\n  id: t1\n  name: \"\xff\"\n");
    assert_refused(c, ":3: not valid YAML: invalid leading UTF-8 octet");
}

Test(config, a_file_that_is_not_a_hall_is_refused)
{
    assert_refused(load_text(""), ":1: hall: missing");
    assert_refused(load_text("just words\n"), ":1: expected a mapping, found a single value");
}

Test(config, a_file_that_cannot_be_read_is_refused_without_a_line)
{
    char missing[200];
    snprintf(missing, sizeof missing, "%s/nowhere.yaml", dir);
    cr_assert_null(hb_config_load(missing, err));
    char want[256];
    snprintf(want, sizeof want, "%s: cannot open: No such file or directory", missing);
    cr_assert_str_eq(err, want);

    cr_assert_null(hb_config_load(dir, err));
    cr_assert_not_null(strstr(err, ": cannot open: Is a directory"), "%s", err);
}

Test(config, locate_finds_keys_and_entries_or_else_the_nearest_ancestor)
{
    write_text(BASE);
    cr_assert_eq(hb_config_locate(path, "hall.rollover"), 4);
    cr_assert_eq(hb_config_locate(path, "services[1]"), 10);
    cr_assert_eq(hb_config_locate(path, "services[1].name_en"), 12);
    cr_assert_eq(hb_config_locate(path, "windows[0].services[1]"), 15);
    cr_assert_eq(hb_config_locate(path, "windows[1].services"), 17);
    cr_assert_eq(hb_config_locate(path, "services[1].quota"), 10, "absent: its entry");
    cr_assert_eq(hb_config_locate(path, "services[7].prefix"), 5, "absent: the list");
    cr_assert_eq(hb_config_locate(path, "queue.heartbeat_ms.deeper"), 23, "a scalar has no keys");
    cr_assert_eq(hb_config_locate(path, ""), 1);
    cr_assert_eq(hb_config_locate_repeat(path, "hall.id"), 2, "only one: that one");

    char missing[200];
    snprintf(missing, sizeof missing, "%s/nowhere.yaml", dir);
    cr_assert_eq(hb_config_locate(missing, "hall"), 0);
}

/* ── lookups and lifetime ── */

Test(config, services_and_windows_are_found_by_prefix_and_number)
{
    hb_config_t *c = load_text(BASE);
    cr_assert_not_null(c, "%s", err);

    const hb_service_conf_t *b = hb_config_service(c, "B");
    cr_assert_not_null(b);
    cr_assert_str_eq(b->name, "医保业务");
    cr_assert_eq(b, &c->services[1]);
    cr_assert_null(hb_config_service(c, "Z"));
    cr_assert_null(hb_config_service(c, "AB"));
    cr_assert_null(hb_config_service(c, NULL));

    const hb_window_conf_t *w = hb_config_window(c, 2);
    cr_assert_not_null(w);
    cr_assert_eq(w->services_count, 1);
    cr_assert_str_eq(w->services[0], "B");
    cr_assert_null(hb_config_window(c, 3));
    cr_assert_null(hb_config_window(c, 0));
    hb_config_destroy(&c);
}

Test(config, destroy_is_null_safe_and_clears_the_pointer)
{
    hb_config_destroy(NULL);
    hb_config_t *none = NULL;
    hb_config_destroy(&none);
    cr_assert_null(none);

    hb_config_t *c = load_text(BASE);
    cr_assert_not_null(c, "%s", err);
    hb_config_destroy(&c);
    cr_assert_null(c);
}

Test(config, a_null_error_buffer_is_allowed)
{
    cr_assert_null(hb_config_load("/nonexistent/hall.yaml", NULL));
}

Test(config, a_daemons_section_is_read_and_its_defaults_apply_when_absent)
{
    hb_config_t *config = load_edited("queue:\n", "display:\n  http: \"0.0.0.0:9090\"\nqueue:\n");
    cr_assert_not_null(config, "%s", err);
    cr_assert_str_eq(config->display.http, "0.0.0.0:9090");
    cr_assert_str_eq(config->audit.db, "var/audit.db", "absent section: defaults");
    cr_assert_str_eq(config->notifier.db, "var/notifier.db");
    cr_assert_str_eq(config->notifier.query, "tcp://127.0.0.1:5562", "the query default");
    hb_config_destroy(&config);
}

Test(config, the_notifiers_query_endpoint_is_read_and_checked)
{
    hb_config_t *config =
        load_edited("queue:\n", "notifier:\n  query: \"ipc:///tmp/nq\"\nqueue:\n");
    cr_assert_not_null(config, "%s", err);
    cr_assert_str_eq(config->notifier.query, "ipc:///tmp/nq");
    hb_config_destroy(&config);
    refuse_edit("queue:\n", "notifier:\n  query: \"127.0.0.1:5562\"\nqueue:\n",
                ":23: notifier.query: \"127.0.0.1:5562\" is not a ZeroMQ endpoint");
}

Test(config, an_unknown_key_in_a_daemons_section_is_refused_with_its_line)
{
    refuse_edit("queue:\n", "audit:\n  db: \"a.db\"\n  colour: blue\nqueue:\n",
                ":24: audit.colour");
}

Test(config, contact_secret_must_be_long_enough)
{
    refuse_edit("  heartbeat_ms: 500\n", "  contact_secret: short\n",
                ":23: queue.contact_secret: is shorter than 16 characters");
}

Test(config, the_worked_example_of_a_real_hall_loads_with_its_rules)
{
    char file[512];
    snprintf(file, sizeof file, "%s/deploy/riverside-hall.yaml",
             getenv("HALLBUS_SRC") ? getenv("HALLBUS_SRC") : ".");
    hb_config_t *config = hb_config_load(file, err);
    cr_assert_not_null(config, "%s", err);
    cr_assert(config->hours.enabled);
    cr_assert_eq(config->hours.sessions_count[1], 2, "Monday has a lunch break");
    cr_assert_eq(config->hours.sessions[1][0].end, 12 * 60);
    cr_assert_eq(config->hours.sessions[1][1].start, 14 * 60);
    cr_assert_eq(config->hours.sessions_count[0], 0, "closed on Sunday");
    cr_assert_eq(config->hours.holidays_count, 8);
    cr_assert_eq(config->windows[2].policy, HB_POLICY_WEIGHTED);
    cr_assert_eq(config->windows[2].weights[0], 3);
    cr_assert_eq(config->windows[3].policy, HB_POLICY_ORDERED);
    cr_assert(config->services[2].appointments.enabled);
    cr_assert_eq(config->services[3].appointments.slot_minutes, 60);
    cr_assert_eq(config->services[3].appointments.checkin_after_minutes, 15, "default");
    hb_config_destroy(&config);
}

Test(config, a_weighted_window_naming_a_service_it_does_not_serve_is_refused)
{
    refuse_edit("    services: [A, B]\n",
                "    services: [A, B]\n    policy: weighted\n    weights: [\"A:3\", \"Z:1\"]\n",
                "windows[0].weights[1]: service \"Z\" is not among this window's services");
}

Test(config, an_unknown_policy_and_a_bad_session_are_refused)
{
    refuse_edit("    services: [B]\n", "    services: [B]\n    policy: fastest\n",
                "windows[1].policy: \"fastest\" is not a policy");
    refuse_edit("queue:\n", "hours:\n  mon: [\"12:00-08:30\"]\nqueue:\n",
                ":23: hours.mon[0]: \"12:00-08:30\" is not a session");
}

Test(config, the_staff_accounts_file_is_named_in_security_or_defaults)
{
    static const char HALL[] = "hall: {id: t9, name: Minimal}\n"
                               "services: [{prefix: A, name: One}]\n"
                               "windows: [{number: 1, services: [A]}]\n"
                               "endpoints: {command: \"ipc://a\", bus_pub: \"ipc://b\","
                               " bus_sub: \"ipc://c\"}\n";
    hb_config_t *c = load_text(HALL);
    cr_assert_not_null(c, "%s", err);
    cr_assert_str_eq(c->security.accounts, "var/keys/staff.json");
    hb_config_destroy(&c);
    char yaml[sizeof HALL + 128];
    snprintf(yaml, sizeof yaml, "%ssecurity:\n  accounts: \"etc/staff.json\"\n", HALL);
    c = load_text(yaml);
    cr_assert_not_null(c, "%s", err);
    cr_assert_str_eq(c->security.accounts, "etc/staff.json");
    hb_config_destroy(&c);
    snprintf(yaml, sizeof yaml, "%ssecurity:\n  accounts: \"\"\n", HALL);
    assert_refused(load_text(yaml), "security.accounts");
}

/* ── security: ── */

Test(config, security_defaults_keep_keys_in_var_keys_with_curve_on)
{
    hb_config_t *c = load_text(BASE);
    cr_assert_not_null(c, "%s", err);
    cr_assert_str_eq(c->security.keys_dir, "var/keys");
    cr_assert_str_eq(c->security.allow, "var/keys/allow.json");
    cr_assert(c->security.curve, "CURVE is on unless the file turns it off");
    hb_config_destroy(&c);
}

Test(config, security_allow_list_follows_keys_dir_unless_named)
{
    hb_config_t *c = load_edited("queue:\n", "security:\n  keys_dir: \"/srv/k\"\n  curve: false\n"
                                             "queue:\n");
    cr_assert_not_null(c, "%s", err);
    cr_assert_str_eq(c->security.keys_dir, "/srv/k");
    cr_assert_str_eq(c->security.allow, "/srv/k/allow.json");
    cr_assert_not(c->security.curve);
    hb_config_destroy(&c);

    c = load_edited("queue:\n", "security:\n  allow: \"etc/allow.json\"\n  curve: true\nqueue:\n");
    cr_assert_not_null(c, "%s", err);
    cr_assert_str_eq(c->security.keys_dir, "var/keys");
    cr_assert_str_eq(c->security.allow, "etc/allow.json");
    cr_assert(c->security.curve);
    hb_config_destroy(&c);
}

Test(config, security_mistakes_are_refused_with_their_line)
{
    refuse_edit("queue:\n", "security:\n  curve: maybe\nqueue:\n",
                ":23: security.curve: \"maybe\" is neither true nor false");
    refuse_edit("queue:\n", "security:\n  keys_dir: \"\"\nqueue:\n",
                ":23: security.keys_dir: must not be empty");
    refuse_edit("queue:\n", "security:\n  secret_key: \"abc\"\nqueue:\n",
                ":23: security.secret_key");
}
