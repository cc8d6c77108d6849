/* The counter: section of the hall file and window sets: several counters
 * with their windows, defaults when absent, and every mistake refused with
 * the file, the line and the key. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hallbus/config.h"

static char dir[64];
static char path[128];
static char err[HB_CONFIG_ERR_MAX];

static const char HALL[] = "hall: {id: t1, name: Test}\n"           /*  1 */
                           "services:\n"                            /*  2 */
                           "  - {prefix: A, name: General}\n"       /*  3 */
                           "windows:\n"                             /*  4 */
                           "  - {number: 1, services: [A]}\n"       /*  5 */
                           "  - {number: 2, services: [A]}\n"       /*  6 */
                           "  - {number: 3, services: [A]}\n"       /*  7 */
                           "  - {number: 4, services: [A]}\n"       /*  8 */
                           "  - {number: 9, services: [A]}\n"       /*  9 */
                           "endpoints:\n"                           /* 10 */
                           "  command: \"tcp://127.0.0.1:5550\"\n"  /* 11 */
                           "  bus_pub: \"tcp://127.0.0.1:5551\"\n"  /* 12 */
                           "  bus_sub: \"tcp://127.0.0.1:5552\"\n"; /* 13 */

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/hallbus-counter-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/hall.yaml", dir);
    err[0] = '\0';
}

static void teardown(void)
{
    unlink(path);
    cr_assert_eq(rmdir(dir), 0, "left something behind in %s", dir);
}

TestSuite(counter_config, .init = setup, .fini = teardown);

/* HALL followed by COUNTER (from line 14 on). */
static hb_config_t *load(const char *counter)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(HALL, f);
    fputs(counter, f);
    fclose(f);
    return hb_config_load(path, err);
}

static void refused(const char *counter, const char *expect)
{
    hb_config_t *c = load(counter);
    cr_assert_null(c, "loaded though it should not have");
    cr_assert(strstr(err, expect), "error \"%s\" does not contain \"%s\"", err, expect);
}

Test(counter_config, without_a_section_one_counter_serves_every_window)
{
    hb_config_t *c = load("");
    cr_assert_not_null(c, "%s", err);
    const hb_counter_conf_t *k = &c->counter;
    cr_assert_eq(k->instances_count, 1);
    cr_assert_str_eq(k->instances[0].id, "c1");
    cr_assert_str_eq(k->instances[0].endpoint, "tcp://127.0.0.1:5565");
    cr_assert_eq(k->instances[0].windows_count, 5);
    cr_assert_eq(k->instances[0].windows[4], 9);
    cr_assert_eq(k->overtime_unit_ms, 60000);
    cr_assert_eq(k->request_timeout_ms, 3000);
    cr_assert_not(k->listed, "no counters listed: hallctl talks to hall-queue");
    hb_config_destroy(&c);
}

Test(counter_config, a_single_endpoint_is_kept)
{
    hb_config_t *c =
        load("counter: {endpoint: \"tcp://127.0.0.1:7000\", overtime_unit_ms: 1000}\n");
    cr_assert_not_null(c, "%s", err);
    cr_assert_str_eq(c->counter.instances[0].endpoint, "tcp://127.0.0.1:7000");
    cr_assert_eq(c->counter.overtime_unit_ms, 1000);
    hb_config_destroy(&c);
}

Test(counter_config, several_counters_are_listed_with_their_windows_and_ranges)
{
    hb_config_t *c =
        load("counter:\n"
             "  request_timeout_ms: 500\n"
             "  instances:\n"
             "    - {id: c1, endpoint: \"tcp://127.0.0.1:5560\", windows: [1-3]}\n"
             "    - {id: back-office, endpoint: \"ipc:///tmp/c2\", windows: [9, 4]}\n");
    cr_assert_not_null(c, "%s", err);
    const hb_counter_conf_t *k = &c->counter;
    cr_assert_eq(k->instances_count, 2);
    cr_assert(k->listed);
    cr_assert_eq(k->request_timeout_ms, 500);
    const hb_counter_instance_t *c2 = hb_counter_instance(k, "back-office");
    cr_assert_not_null(c2);
    cr_assert_eq(c2->windows_count, 2);
    cr_assert_eq(c2->windows[0], 4, "kept ascending");
    cr_assert_eq(c2->windows[1], 9);
    cr_assert_eq(hb_counter_for_window(k, 2), &k->instances[0]);
    cr_assert_eq(hb_counter_for_window(k, 9), c2);
    cr_assert_null(hb_counter_for_window(k, 5));
    cr_assert_null(hb_counter_instance(k, "c3"));
    cr_assert(hb_counter_serves(c2, 4));
    cr_assert_not(hb_counter_serves(c2, 3));
    hb_config_destroy(&c);
}

Test(counter_config, a_window_served_by_two_counters_is_refused_at_the_second)
{
    refused("counter:\n"                                                           /* 14 */
            "  instances:\n"                                                       /* 15 */
            "    - {id: c1, endpoint: \"tcp://127.0.0.1:5560\", windows: [1-3]}\n" /* 16 */
            "    - id: c2\n"                                                       /* 17 */
            "      endpoint: \"tcp://127.0.0.1:5561\"\n"                           /* 18 */
            "      windows:\n"                                                     /* 19 */
            "        - 4\n"                                                        /* 20 */
            "        - 2\n",                                                       /* 21 */
            ":21: counter.instances[1].windows[1]: window 2 is already served by counter c1");
}

Test(counter_config, a_window_the_hall_does_not_have_is_refused)
{
    refused("counter:\n"
            "  instances:\n"
            "    - {id: c1, endpoint: \"tcp://127.0.0.1:5560\", windows: [1, 5-6]}\n",
            ":16: counter.instances[0].windows[1]: the hall has no window 5 (see windows:)");
}

Test(counter_config, bad_window_entries_are_refused_in_words)
{
    refused("counter: {instances: [{id: c1, endpoint: \"tcp://a:1\", windows: [3-1]}]}\n",
            ":14: counter.instances[0].windows[0]: \"3-1\" is not a range N-M with N <= M");
    refused("counter: {instances: [{id: c1, endpoint: \"tcp://a:1\", windows: [x]}]}\n",
            "\"x\" is not a window number 1..9999 nor a range N-M");
    refused("counter: {instances: [{id: c1, endpoint: \"tcp://a:1\", windows: [0]}]}\n",
            "\"0\" is not a window number");
    refused("counter: {instances: [{id: c1, endpoint: \"tcp://a:1\", windows: [1, 1]}]}\n",
            "counter.instances[0].windows[1]: window 1 is listed twice");
}

Test(counter_config, ids_and_endpoints_must_be_unique_and_well_formed)
{
    refused("counter:\n  instances:\n"
            "    - {id: c1, endpoint: \"tcp://a:1\", windows: [1]}\n"
            "    - {id: c1, endpoint: \"tcp://a:2\", windows: [2]}\n",
            ":17: counter.instances[1].id: \"c1\" is already used by counter.instances[0]");
    refused("counter:\n  instances:\n"
            "    - {id: c1, endpoint: \"tcp://a:1\", windows: [1]}\n"
            "    - {id: c2, endpoint: \"tcp://a:1\", windows: [2]}\n",
            "counter.instances[1].endpoint: \"tcp://a:1\" is already used by counter c1");
    refused("counter: {instances: [{id: C1, endpoint: \"tcp://a:1\", windows: [1]}]}\n",
            "counter.instances[0].id: \"C1\" must be 1 to 32 of a-z, 0-9, _ and -");
    refused("counter: {instances: [{id: c1, endpoint: \"nowhere\", windows: [1]}]}\n",
            "counter.instances[0].endpoint: \"nowhere\" is not a ZeroMQ endpoint");
    refused("counter: {instances: [{id: c1, windows: [1]}]}\n", "endpoint");
}

Test(counter_config, a_top_level_endpoint_beside_instances_is_refused)
{
    refused("counter:\n  endpoint: \"tcp://a:1\"\n"
            "  instances: [{id: c1, endpoint: \"tcp://a:2\", windows: [1]}]\n",
            ":15: counter.endpoint: give each counter its endpoint in counter.instances instead");
}

Test(counter_config, timer_and_timeout_numbers_are_bounded)
{
    refused("counter: {overtime_unit_ms: 5}\n",
            "counter.overtime_unit_ms: 5 is out of range 10..3600000");
    refused("counter: {request_timeout_ms: soon}\n",
            "counter.request_timeout_ms: \"soon\" is not a whole number");
}

/* ── window sets as --windows spells them ── */

TestSuite(window_set);

Test(window_set, numbers_and_ranges_parse_into_an_ascending_set)
{
    uint32_t *set = NULL;
    unsigned n = 0;
    char why[128];
    cr_assert_eq(hb_window_set_parse("9, 1-3,5", &set, &n, why, sizeof why), 0, "%s", why);
    cr_assert_eq(n, 5);
    uint32_t want[] = {1, 2, 3, 5, 9};
    for (unsigned i = 0; i < n; i++)
        cr_assert_eq(set[i], want[i]);
    char text[64];
    cr_assert_str_eq(hb_window_set_format(set, n, text, sizeof text), "1-3,5,9");
    free(set);
}

Test(window_set, mistakes_are_refused_with_the_reason)
{
    const char *bad[][2] = {{"", "no windows given"},
                            {"1,,2", "\"\" is not a window number"},
                            {"1-", "\"1-\" is not a window number"},
                            {"-3", "\"-3\" is not a window number"},
                            {"5-2", "\"5-2\" is not a range N-M with N <= M"},
                            {"10000", "\"10000\" is not a window number 1..9999"},
                            {"1-3,2", "window 2 is listed twice"},
                            {"a", "\"a\" is not a window number"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint32_t *set = NULL;
        unsigned n = 0;
        char why[128] = "";
        cr_assert_eq(hb_window_set_parse(bad[i][0], &set, &n, why, sizeof why), -1,
                     "\"%s\" was accepted", bad[i][0]);
        cr_assert(strstr(why, bad[i][1]), "\"%s\": \"%s\" does not say \"%s\"", bad[i][0], why,
                  bad[i][1]);
        free(set);
    }
}

Test(window_set, an_empty_set_formats_as_none)
{
    char text[16];
    cr_assert_str_eq(hb_window_set_format(NULL, 0, text, sizeof text), "none");
}
