/* hallctl staff: accounts added, listed, re-passworded, disabled and
 * enabled through the command line alone, on the file the hall names. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "fixture.h"
#include "hallbus/accounts.h"

static char bin[512];
static char dir[] = "/tmp/hb-staff-XXXXXX";
static char file[300];
static char out[16384];

static void setup(void)
{
    const char *d = getenv("HALLBUS_BIN");
    cr_assert_not_null(d, "HALLBUS_BIN is set by ctest");
    snprintf(bin, sizeof bin, "%s/hallctl", d);
    cr_assert_not_null(mkdtemp(dir));
    snprintf(file, sizeof file, "%s/keys/staff.json", dir);
}

static void teardown(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(hallctl_staff, .init = setup, .fini = teardown, .timeout = 60);

/* Runs "hallctl ARGS --accounts FILE" with INPUT on stdin (NULL: none);
 * stdout and stderr in OUT; returns the exit status. */
static int hallctl(const char *input, const char *args)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "printf '%%s\\n' '%s' | %s %s --accounts %s 2>&1", input ? input : "",
             bin, args, file);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Whether PASSWORD signs ID on, by the file as it is now. */
static hb_signon_outcome_t sign_on(const char *id, const char *password)
{
    hb_accounts_t *acc = hb_accounts_new(file);
    char err[HB_ACCOUNTS_ERR_MAX];
    cr_assert_eq(hb_accounts_load(acc, err, sizeof err), 0, "%s", err);
    hb_password_check_t job;
    hb_signon_outcome_t o = hb_accounts_prepare_check(acc, id, password, &job);
    hb_password_check_run(&job);
    o = hb_accounts_finish_check(acc, id, o, &job, 0, err, sizeof err);
    hb_accounts_destroy(&acc);
    return o;
}

static void add_wang(void)
{
    cr_assert_eq(hallctl("password-023", "staff add S023 --name 王芳 --unit 社保科 --role staff "
                                         "--password-stdin"),
                 0, "%s", out);
}

Test(hallctl_staff, an_account_is_added_to_a_0600_file_and_signs_on)
{
    add_wang();
    cr_assert(strstr(out, "added S023"), "%s", out);
    struct stat st;
    cr_assert_eq(stat(file, &st), 0);
    cr_assert_eq(st.st_mode & 07777, 0600);
    cr_assert_eq(sign_on("S023", "password-023"), HB_SIGNON_OK);
    cr_assert_eq(sign_on("S023", "password-024"), HB_SIGNON_WRONG_PASSWORD);
}

Test(hallctl_staff, refusals_say_why_and_change_nothing)
{
    add_wang();
    cr_assert_eq(hallctl("password-x1", "staff add S023 --name 李 --role staff --password-stdin"),
                 1);
    cr_assert(strstr(out, "S023 already has an account"), "%s", out);
    cr_assert_eq(hallctl("short", "staff add S024 --name 李 --role staff --password-stdin"), 1);
    cr_assert(strstr(out, "at least 8 characters"), "%s", out);
    cr_assert_eq(hallctl("password-x1", "staff add S024 --name 李 --role boss --password-stdin"),
                 2);
    cr_assert(strstr(out, "--role is one of staff, supervisor, operator"), "%s", out);
    cr_assert_eq(hallctl("password-x1", "staff add 'S 24' --name 李 --role staff --password-stdin"),
                 2);
    cr_assert_eq(hallctl("password-x1", "staff add S024 --role staff --password-stdin"), 2);
    cr_assert_eq(hallctl(NULL, "staff passwd S999 --password-stdin"), 1);
    cr_assert(strstr(out, "no account S999"), "%s", out);
    cr_assert_eq(hallctl(NULL, "staff list"), 0);
    cr_assert_null(strstr(out, "S024"), "%s", out);
}

Test(hallctl_staff, list_shows_people_and_never_a_hash)
{
    add_wang();
    cr_assert_eq(hallctl("password-001", "staff add S001 --name 张伟 --role supervisor "
                                         "--password-stdin"),
                 0, "%s", out);
    cr_assert_eq(hallctl(NULL, "staff list"), 0, "%s", out);
    cr_assert(strstr(out, "S023") && strstr(out, "王芳") && strstr(out, "社保科"), "%s", out);
    cr_assert(strstr(out, "S001") && strstr(out, "supervisor") && strstr(out, "active"), "%s", out);
    cr_assert_null(strstr(out, "argon2"), "%s", out);
    cr_assert_eq(hallctl(NULL, "--json staff list"), 0, "%s", out);
    cr_assert(strstr(out, "\"id\": \"S001\""), "%s", out);
    cr_assert_null(strstr(out, "argon2"), "%s", out);
    cr_assert_null(strstr(out, "hash"), "%s", out);
}

Test(hallctl_staff, passwd_replaces_the_password)
{
    add_wang();
    cr_assert_eq(hallctl("S023", "staff passwd S023 --password-stdin"), 1, "not the id");
    cr_assert_eq(sign_on("S023", "password-023"), HB_SIGNON_OK);
    cr_assert_eq(hallctl("a-new-password", "staff passwd S023 --password-stdin"), 0, "%s", out);
    cr_assert_eq(sign_on("S023", "password-023"), HB_SIGNON_WRONG_PASSWORD);
    cr_assert_eq(sign_on("S023", "a-new-password"), HB_SIGNON_OK);
}

Test(hallctl_staff, a_disabled_account_cannot_sign_on_until_enabled)
{
    add_wang();
    cr_assert_eq(hallctl(NULL, "staff disable S023"), 0, "%s", out);
    cr_assert_eq(sign_on("S023", "password-023"), HB_SIGNON_DISABLED);
    cr_assert_eq(hallctl(NULL, "staff list"), 0);
    cr_assert(strstr(out, "disabled"), "%s", out);
    cr_assert_eq(hallctl(NULL, "staff enable S023"), 0, "%s", out);
    cr_assert_eq(sign_on("S023", "password-023"), HB_SIGNON_OK);
    cr_assert_eq(hallctl(NULL, "staff disable S999"), 1);
}

Test(hallctl_staff, the_hall_file_names_the_accounts_file)
{
    char yaml[300], cmd[2048];
    snprintf(yaml, sizeof yaml, "%s/hall.yaml", dir);
    FILE *f = fopen(yaml, "w");
    fprintf(f,
            "hall: {id: h1, name: Test}\n"
            "services: [{prefix: A, name: General}]\n"
            "windows: [{number: 1, services: [A]}]\n"
            "endpoints: {command: \"tcp://127.0.0.1:1\", bus_pub: \"tcp://127.0.0.1:2\", "
            "bus_sub: \"tcp://127.0.0.1:3\"}\n"
            "security: {accounts: \"%s/named.json\"}\n",
            dir);
    fclose(f);
    snprintf(cmd, sizeof cmd,
             "echo password-023 | %s -c %s staff add S023 --name 王 --role operator "
             "--password-stdin >/dev/null",
             bin, yaml);
    cr_assert_eq(system(cmd), 0);
    char named[300];
    snprintf(named, sizeof named, "%s/named.json", dir);
    struct stat st;
    cr_assert_eq(stat(named, &st), 0, "the file the hall file names was written");
    cr_assert_neq(stat(file, &st), 0);
}

/* ── sign-ons on the record, as hallctl events prints them ─────────────── */

static hb_fixture_t fx;

static void stop_hall(void)
{
    hb_fixture_stop(&fx);
    teardown();
}

static void record(const char *staff, uint32_t window, Hallbus__SignOnOutcome outcome,
                   const char *reason)
{
    Hallbus__RecordSignOn c = HALLBUS__RECORD_SIGN_ON__INIT;
    c.staff = (char *)staff;
    c.window = window;
    c.outcome = outcome;
    c.reason = (char *)reason;
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    req.command_case = HALLBUS__REQUEST__COMMAND_RECORD_SIGN_ON;
    req.record_sign_on = &c;
    Hallbus__Reply *r = hb_fixture_call(&fx, &req);
    cr_assert_not_null(r);
    cr_assert_eq(r->code, HALLBUS__STATUS_CODE__OK, "%s", r->message);
    hallbus__reply__free_unpacked(r, NULL);
}

Test(hallctl_staff, events_prints_sign_ons_and_failures, .fini = stop_hall)
{
    cr_assert_eq(hb_fixture_start(&fx, NULL), 0);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s -c %s events --kind staff. --heartbeats --count 2", bin,
             fx.config);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    char line[512];
    /* a heartbeat shows the subscription is live: nothing sent after it is lost */
    bool live = false;
    while (!live && fgets(line, sizeof line, p))
        live = strstr(line, "heartbeat") != NULL;
    cr_assert(live, "hallctl events saw a heartbeat");
    record("S023", 1, HALLBUS__SIGN_ON_OUTCOME__SIGN_ON_WRONG_PASSWORD,
           "wrong password; 4 attempts left before the account is locked for 15 minutes");
    record("S023", 1, HALLBUS__SIGN_ON_OUTCOME__SIGN_ON_OK, "");
    size_t used = 0;
    while (fgets(line, sizeof line, p))
        if (!strstr(line, "heartbeat") && used + strlen(line) < sizeof out) {
            memcpy(out + used, line, strlen(line) + 1);
            used += strlen(line);
        }
    cr_assert_eq(pclose(p), 0);
    cr_assert(strstr(out, "staff.sign_on_failed") &&
                  strstr(out, "S023 at window 1: wrong password (wrong password; 4 attempts"),
              "%s", out);
    cr_assert(strstr(out, "staff.signed_on") && strstr(out, "S023 at window 1"), "%s", out);
}
