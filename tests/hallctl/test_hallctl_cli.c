/* hallctl's command line: --help never contacts anything, --version is one
 * line, and text that came from citizens reaches the terminal cleaned. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "fixture.h"
#include "hallbus/clock.h"

static char bin[512];

static void find_bin(void)
{
    const char *d = getenv("HALLBUS_BIN");
    cr_assert_not_null(d, "HALLBUS_BIN is set by ctest");
    snprintf(bin, sizeof bin, "%s/hallctl", d);
}

/* Runs CMD through the shell, capturing stdout; returns the exit status. */
static int run(const char *cmd, char *out, size_t outlen)
{
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    size_t n = fread(out, 1, outlen - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

Test(hallctl_cli, help_at_every_level_of_every_command_contacts_nothing, .init = find_bin,
     .timeout = 120)
{
    static char list[32768], out[16384];
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s help", bin);
    cr_assert_eq(run(cmd, list, sizeof list), 0);
    char *commands = strstr(list, "\ncommands:\n");
    cr_assert_not_null(commands, "the usage lists the commands");
    int checked = 0;
    for (char *line = strtok(commands + 11, "\n"); line; line = strtok(NULL, "\n")) {
        if (strncmp(line, "  ", 2) != 0 || line[2] < 'a' || line[2] > 'z')
            continue; /* a description, or not a command line */
        /* the command's words: lower-case tokens before its arguments */
        char words[64] = "";
        char copy[512];
        snprintf(copy, sizeof copy, "%s", line + 2);
        int n = 0;
        for (char *save = NULL, *w = strtok_r(copy, " ", &save); w && n < 2;
             w = strtok_r(NULL, " ", &save), n++) {
            if (strspn(w, "abcdefghijklmnopqrstuvwxyz-") != strlen(w) || w[0] == '-')
                break;
            strncat(words, " ", sizeof words - strlen(words) - 1);
            strncat(words, w, sizeof words - strlen(words) - 1);
        }
        /* an endpoint nobody listens on, and a long timeout: a command that
         * tried to reach the hall would hang, not return at once */
        snprintf(cmd, sizeof cmd,
                 "%s -e ipc:///nonexistent/hallbus-nobody -b ipc:///nonexistent/hallbus-nobody "
                 "--timeout 30000%s --help",
                 bin, words);
        int64_t t0 = hb_mono_us();
        int rc = run(cmd, out, sizeof out);
        int64_t took_ms = (hb_mono_us() - t0) / 1000;
        cr_assert_eq(rc, 0, "'hallctl%s --help' exits 0 (got %d)", words, rc);
        cr_assert_lt(took_ms, 2000, "'hallctl%s --help' returns at once (%lld ms)", words,
                     (long long)took_ms);
        cr_assert(strstr(out, "usage"), "'hallctl%s --help' prints a usage: %s", words, out);
        checked++;
    }
    cr_assert_gt(checked, 20, "every command was tried (%d)", checked);
}

Test(hallctl_cli, version_is_one_line, .init = find_bin, .timeout = 30)
{
    char out[256], cmd[600];
    snprintf(cmd, sizeof cmd, "%s --version", bin);
    cr_assert_eq(run(cmd, out, sizeof out), 0);
    cr_assert(strncmp(out, "hallctl ", 8) == 0, "%s", out);
    cr_assert_eq(strchr(out, '\n'), out + strlen(out) - 1, "one line: %s", out);

    snprintf(cmd, sizeof cmd, "%s/hall-traffic --version", getenv("HALLBUS_BIN"));
    cr_assert_eq(run(cmd, out, sizeof out), 0);
    cr_assert(strncmp(out, "hall-traffic ", 13) == 0, "%s", out);
    cr_assert_eq(strchr(out, '\n'), out + strlen(out) - 1, "one line: %s", out);
}

static hb_fixture_t fx;

static void cleanup(void)
{
    hb_fixture_stop(&fx);
}

Test(hallctl_cli, complaint_texts_reach_the_terminal_without_escape_sequences, .fini = cleanup,
     .timeout = 60)
{
    cr_assert_eq(hb_fixture_start(&fx, NULL), 0);
    static char out[8192];
    /* filed by another client: hallctl itself refuses such text */
    Hallbus__Request req = HALLBUS__REQUEST__INIT;
    Hallbus__FileComplaint f = HALLBUS__FILE_COMPLAINT__INIT;
    f.text = "rude\x1b[2J\x1b]0;owned\x07 staff";
    f.window = 1;
    req.command_case = HALLBUS__REQUEST__COMMAND_FILE_COMPLAINT;
    req.file_complaint = &f;
    Hallbus__Reply *r = hb_fixture_call(&fx, &req);
    cr_assert_not_null(r);
    cr_assert_eq(r->code, HALLBUS__STATUS_CODE__OK, "%s", r->message);
    hallbus__reply__free_unpacked(r, NULL);
    const char *list[] = {"complaints", NULL};
    cr_assert_eq(hb_fixture_hallctl(&fx, out, sizeof out, list), 0, "%s", out);
    cr_assert(strstr(out, "rude"), "the complaint is listed: %s", out);
    cr_assert_null(memchr(out, 0x1b, strlen(out)), "no ESC in: %s", out);
    cr_assert_null(memchr(out, 0x07, strlen(out)), "no BEL in: %s", out);
    cr_assert_eq(hb_fixture_stop(&fx), 0);
}
