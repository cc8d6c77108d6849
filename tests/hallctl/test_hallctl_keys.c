/* hallctl keys new|list|revoke|init, on files in a temporary directory
 * named by the hall file's security: section. No daemon is involved. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hallbus/allow_list.h"
#include "hallbus/keys.h"

static char bin[512], dir[64], hall[128], keys_dir[128], allow[160];
static char out[16384];
static char err[HB_KEYS_ERR_MAX];

static void setup(void)
{
    const char *d = getenv("HALLBUS_BIN");
    cr_assert_not_null(d, "HALLBUS_BIN is set by ctest");
    snprintf(bin, sizeof bin, "%s/hallctl", d);
    snprintf(dir, sizeof dir, "/tmp/hb_ctlkeys_XXXXXX");
    cr_assert(mkdtemp(dir));
    snprintf(hall, sizeof hall, "%s/hall.yaml", dir);
    snprintf(keys_dir, sizeof keys_dir, "%s/var/keys", dir);
    snprintf(allow, sizeof allow, "%s/allow.json", keys_dir);
    FILE *f = fopen(hall, "w");
    cr_assert_not_null(f);
    fprintf(f,
            "hall: {id: t1, name: \"测试大厅\"}\n"
            "services: [{prefix: A, name: \"社保\"}]\n"
            "windows: [{number: 1, services: [A]}]\n"
            "endpoints: {command: \"ipc://%s/cmd\", bus_pub: \"ipc://%s/pub\", bus_sub: "
            "\"ipc://%s/sub\"}\n"
            "security: {keys_dir: \"%s\"}\n",
            dir, dir, dir, keys_dir);
    fclose(f);
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(hallctl_keys, .init = setup, .fini = teardown, .timeout = 60);

/* Runs hallctl -c HALL ARGS; stdout in OUT; returns the exit status. */
static int hallctl(const char *args)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s' -c '%s' %s 2>&1", bin, hall, args);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static hb_allow_t *load_allow(void)
{
    hb_allow_t *list = hb_allow_load(allow, NULL, err);
    cr_assert_not_null(list, "%s", err);
    return list;
}

Test(hallctl_keys, new_makes_a_key_pair_and_lists_its_public_key_with_its_role)
{
    cr_assert_eq(hallctl("keys new kiosk-1 --role kiosk"), 0, "%s", out);
    hb_keypair_t pair;
    cr_assert_eq(hb_keypair_load(keys_dir, "kiosk-1", &pair, err), 0, "%s", err);
    char path[256];
    struct stat st;
    snprintf(path, sizeof path, "%s/kiosk-1.key", keys_dir);
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0600);
    hb_allow_t *list = load_allow();
    const hb_allow_entry_t *e = hb_allow_find_name(list, "kiosk-1");
    cr_assert_not_null(e);
    cr_assert_eq(e->role, HB_ROLE_KIOSK);
    cr_assert_str_eq(e->public_z85, pair.public_z85);
    cr_assert_not(e->revoked);
    hb_allow_destroy(&list);

    cr_assert_eq(hallctl("keys list --json"), 0, "%s", out);
    cr_assert(strstr(out, "\"name\":\"kiosk-1\",\"role\":\"kiosk\""), "%s", out);
    cr_assert_eq(hallctl("keys list"), 0);
    cr_assert(strstr(out, "kiosk-1") && strstr(out, "active"), "%s", out);
    cr_assert_null(strstr(out, pair.secret_z85), "the secret key is never printed");
}

Test(hallctl_keys, an_existing_name_is_replaced_only_with_force)
{
    cr_assert_eq(hallctl("keys new c1 --role counter"), 0, "%s", out);
    hb_keypair_t first, second;
    cr_assert_eq(hb_keypair_load(keys_dir, "c1", &first, err), 0);
    cr_assert_eq(hallctl("keys new c1 --role counter"), 1, "%s", out);
    cr_assert(strstr(out, "already in"), "%s", out);
    cr_assert_eq(hb_keypair_load(keys_dir, "c1", &second, err), 0);
    cr_assert_str_eq(second.secret_z85, first.secret_z85, "unchanged");
    cr_assert_eq(hallctl("keys new c1 --role counter --force"), 0, "%s", out);
    cr_assert_eq(hb_keypair_load(keys_dir, "c1", &second, err), 0);
    cr_assert_str_neq(second.secret_z85, first.secret_z85);
    hb_allow_t *list = load_allow();
    cr_assert_null(hb_allow_find_key(list, first.public_z85), "the old key is gone");
    cr_assert_str_eq(hb_allow_find_name(list, "c1")->public_z85, second.public_z85);
    hb_allow_destroy(&list);
}

Test(hallctl_keys, revoke_marks_the_key_and_a_live_list_sees_it)
{
    cr_assert_eq(hallctl("keys new kiosk-1 --role kiosk"), 0, "%s", out);
    hb_keypair_t pair;
    hb_keypair_load(keys_dir, "kiosk-1", &pair, err);
    hb_keys_t *keys = hb_keys_new(allow, 0);
    cr_assert_eq(hb_keys_role(keys, pair.public_z85), HB_ROLE_KIOSK);
    cr_assert_eq(hallctl("keys revoke kiosk-1"), 0, "%s", out);
    cr_assert_eq(hb_keys_role(keys, pair.public_z85), HB_ROLE_NONE);
    hb_keys_destroy(&keys);
    cr_assert_eq(hallctl("keys list"), 0);
    cr_assert(strstr(out, "revoked"), "%s", out);
    cr_assert_eq(hallctl("keys revoke nobody"), 1, "%s", out);
    cr_assert(strstr(out, "no key named \"nobody\""), "%s", out);
}

Test(hallctl_keys, usage_errors_and_help_touch_nothing)
{
    cr_assert_eq(hallctl("keys new x --role kiosk --help"), 0, "%s", out);
    cr_assert(strstr(out, "usage: hallctl"), "%s", out);
    cr_assert_eq(hallctl("keys new x --role king"), 2, "%s", out);
    cr_assert(strstr(out, "unknown role 'king'"), "%s", out);
    cr_assert_eq(hallctl("keys new x"), 2, "%s", out);
    cr_assert_eq(hallctl("keys new ../x --role kiosk"), 2, "%s", out);
    cr_assert_eq(access(keys_dir, F_OK), -1, "nothing was made");
}

Test(hallctl_keys, init_makes_every_daemons_key_once)
{
    cr_assert_eq(hallctl("keys init"), 0, "%s", out);
    const char *names[] = {"hall-queue", "hall-bus",      "hall-counter", "hall-display",
                           "hall-audit", "hall-notifier", "hall-kiosk",   "hallctl"};
    const hb_role_t roles[] = {HB_ROLE_QUEUE, HB_ROLE_BUS,      HB_ROLE_COUNTER, HB_ROLE_DISPLAY,
                               HB_ROLE_AUDIT, HB_ROLE_NOTIFIER, HB_ROLE_KIOSK,   HB_ROLE_OPERATOR};
    hb_allow_t *list = load_allow();
    cr_assert_eq(hb_allow_count(list), 8);
    char before[8][HB_KEY_Z85_LEN + 1];
    for (int i = 0; i < 8; i++) {
        const hb_allow_entry_t *e = hb_allow_find_name(list, names[i]);
        cr_assert_not_null(e, "%s listed", names[i]);
        cr_assert_eq(e->role, roles[i], "%s", names[i]);
        hb_keypair_t pair;
        cr_assert_eq(hb_keypair_load(keys_dir, names[i], &pair, err), 0, "%s", err);
        cr_assert_str_eq(pair.public_z85, e->public_z85);
        snprintf(before[i], sizeof before[i], "%s", e->public_z85);
    }
    hb_allow_destroy(&list);

    cr_assert_eq(hallctl("keys init"), 0, "%s", out);
    cr_assert_null(strstr(out, "made"), "the second run makes nothing: %s", out);
    list = load_allow();
    cr_assert_eq(hb_allow_count(list), 8);
    for (int i = 0; i < 8; i++)
        cr_assert_str_eq(hb_allow_find_name(list, names[i])->public_z85, before[i]);
    hb_allow_destroy(&list);
}
