/* The audit: section of the hall file: defaults, the halls to follow, and
 * every mistake refused with the file, the line and the key. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hallbus/config.h"

static char dir[64];
static char path[128];
static char err[HB_CONFIG_ERR_MAX];

static const char BASE[] = "hall: {id: h01, name: Hall}\n"               /* 1 */
                           "services:\n  - {prefix: A, name: General}\n" /* 2-3 */
                           "windows:\n  - {number: 1, services: [A]}\n"  /* 4-5 */
                           "endpoints:\n"                                /* 6 */
                           "  command: \"tcp://127.0.0.1:5550\"\n"       /* 7 */
                           "  bus_pub: \"tcp://127.0.0.1:5551\"\n"       /* 8 */
                           "  bus_sub: \"tcp://127.0.0.1:5552\"\n";      /* 9 */

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/hallbus-audit-config-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/hall.yaml", dir);
}

static void teardown(void)
{
    unlink(path);
    rmdir(dir);
}

TestSuite(audit_config, .init = setup, .fini = teardown);

static hb_config_t *load(const char *audit)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fprintf(f, "%s%s", BASE, audit);
    fclose(f);
    err[0] = '\0';
    return hb_config_load(path, err);
}

static void refused(const char *audit, int line, const char *words)
{
    hb_config_t *c = load(audit);
    cr_assert_null(c, "accepted: %s", audit);
    char where[160];
    snprintf(where, sizeof where, "%s:%d: ", path, line);
    cr_assert(strstr(err, where), "wanted %s in: %s", where, err);
    cr_assert(strstr(err, words), "wanted \"%s\" in: %s", words, err);
}

Test(audit_config, without_an_audit_section_every_default_applies_and_the_files_hall_is_followed)
{
    hb_config_t *c = load("");
    cr_assert_not_null(c, "%s", err);
    cr_assert_str_eq(c->audit.db, "var/audit.db");
    cr_assert_str_eq(c->audit.query, "tcp://127.0.0.1:5560");
    cr_assert_str_eq(c->audit.publish, "tcp://127.0.0.1:5561");
    cr_assert_eq(c->audit.retention_days, 0);
    cr_assert_eq(c->audit.fetch_timeout_ms, 1000);
    cr_assert_eq(c->audit.gap_timeout_ms, 10000);
    cr_assert_eq(c->audit.heartbeat_ms, 1000);
    cr_assert_eq(c->audit.halls_count, 0, "no list: the file's own hall");
    hb_config_destroy(&c);
}

Test(audit_config, several_halls_with_their_own_endpoints_are_read_as_written)
{
    hb_config_t *c = load("audit:\n"                                          /* 10 */
                          "  db: /srv/audit.db\n"                             /* 11 */
                          "  retention_days: 400\n"                           /* 12 */
                          "  gap_timeout_ms: 0\n"                             /* 13 */
                          "  halls:\n"                                        /* 14 */
                          "    - id: h01\n"                                   /* 15 */
                          "    - {id: h02, command: \"tcp://10.0.0.2:5550\"," /* 16 */
                          " bus_sub: \"tcp://10.0.0.9:5552\"}\n");
    cr_assert_not_null(c, "%s", err);
    cr_assert_str_eq(c->audit.db, "/srv/audit.db");
    cr_assert_eq(c->audit.retention_days, 400);
    cr_assert_eq(c->audit.gap_timeout_ms, 0);
    cr_assert_eq(c->audit.halls_count, 2);
    cr_assert_str_eq(c->audit.halls[0].id, "h01");
    cr_assert_null(c->audit.halls[0].command, "absent: the file's own endpoint");
    cr_assert_str_eq(c->audit.halls[1].command, "tcp://10.0.0.2:5550");
    cr_assert_str_eq(c->audit.halls[1].bus_sub, "tcp://10.0.0.9:5552");
    hb_config_destroy(&c);
}

Test(audit_config, a_hall_listed_twice_is_refused_at_its_line)
{
    refused("audit:\n  halls:\n    - id: h01\n    - id: h01\n", 13, "listed twice");
}

Test(audit_config, a_hall_id_that_cannot_be_a_topic_is_refused)
{
    refused("audit:\n  halls:\n    - id: \"H 1\"\n", 12, "is not a hall id");
}

Test(audit_config, an_endpoint_that_is_not_one_is_refused)
{
    refused("audit:\n  query: \"localhost\"\n", 11, "not a ZeroMQ endpoint");
    refused("audit:\n  halls:\n    - {id: h9, command: \"5550\"}\n", 12, "not a ZeroMQ endpoint");
}

Test(audit_config, numbers_out_of_range_or_not_numbers_are_refused)
{
    refused("audit:\n  fetch_timeout_ms: 10\n", 11, "out of range");
    refused("audit:\n  retention_days: soon\n", 11, "not a whole number");
}

Test(audit_config, an_unknown_key_is_refused)
{
    refused("audit:\n  retention: 5\n", 11, "retention");
}
