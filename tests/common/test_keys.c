/* Key files, the allow-list file and the live allow-list (keys.h,
 * allow_list.h), on files in a temporary directory. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hallbus/allow_list.h"
#include "hallbus/keys.h"

static char dir[64], allow[128];
static char err[HB_KEYS_ERR_MAX];

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/hb_keys_XXXXXX");
    cr_assert(mkdtemp(dir));
    snprintf(allow, sizeof allow, "%s/allow.json", dir);
    err[0] = '\0';
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(keys, .init = setup, .fini = teardown);

static void write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "%s", path);
    fputs(text, f);
    fclose(f);
    cr_assert_eq(chmod(path, mode), 0);
}

static mode_t mode_of(const char *path)
{
    struct stat st;
    cr_assert_eq(stat(path, &st), 0, "%s exists", path);
    return st.st_mode & 0777;
}

static int entries_in(const char *d)
{
    DIR *h = opendir(d);
    cr_assert_not_null(h);
    int n = 0;
    for (struct dirent *e; (e = readdir(h));)
        if (e->d_name[0] != '.')
            n++;
    closedir(h);
    return n;
}

/* ── key files ── */

Test(keys, a_key_pair_is_written_with_its_modes_and_reads_back_the_same)
{
    hb_keypair_t made, read;
    cr_assert_eq(hb_keypair_new(&made), 0);
    cr_assert(hb_key_z85_valid(made.public_z85));
    char sub[160];
    snprintf(sub, sizeof sub, "%s/var/keys", dir); /* made with its parents */
    mode_t old = umask(0);                         /* the modes are exact whatever the umask */
    int rc = hb_keypair_save(sub, "hall-queue", &made, false, err);
    umask(old);
    cr_assert_eq(rc, 0, "%s", err);

    char path[256];
    snprintf(path, sizeof path, "%s/hall-queue.key", sub);
    cr_assert_eq(mode_of(path), 0600);
    snprintf(path, sizeof path, "%s/hall-queue.pub", sub);
    cr_assert_eq(mode_of(path), 0644);
    cr_assert_eq(mode_of(sub), 0700);
    cr_assert_eq(entries_in(sub), 2, "no temporary file left behind");

    cr_assert_eq(hb_keypair_load(sub, "hall-queue", &read, err), 0, "%s", err);
    cr_assert_str_eq(read.secret_z85, made.secret_z85);
    cr_assert_str_eq(read.public_z85, made.public_z85);
    char pub[HB_KEY_Z85_LEN + 1];
    cr_assert_eq(hb_public_key_load(sub, "hall-queue", pub, err), 0, "%s", err);
    cr_assert_str_eq(pub, made.public_z85);
}

Test(keys, an_existing_key_is_replaced_only_when_forced)
{
    hb_keypair_t a, b, read;
    hb_keypair_new(&a);
    hb_keypair_new(&b);
    cr_assert_eq(hb_keypair_save(dir, "k", &a, false, err), 0, "%s", err);
    cr_assert_eq(hb_keypair_save(dir, "k", &b, false, err), -1);
    cr_assert(strstr(err, "/k.key: exists already"), "%s", err);
    cr_assert_eq(hb_keypair_load(dir, "k", &read, err), 0);
    cr_assert_str_eq(read.secret_z85, a.secret_z85, "the refused save changed nothing");
    cr_assert_eq(hb_keypair_save(dir, "k", &b, true, err), 0, "%s", err);
    cr_assert_eq(hb_keypair_load(dir, "k", &read, err), 0);
    cr_assert_str_eq(read.secret_z85, b.secret_z85);
}

Test(keys, names_that_could_leave_the_directory_are_refused)
{
    hb_keypair_t a;
    hb_keypair_new(&a);
    const char *bad[] = {"../x", ".hidden", "", "a/b", "a b"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_eq(hb_keypair_save(dir, bad[i], &a, false, err), -1, "%s", bad[i]);
        cr_assert(strstr(err, "is not a key name"), "%s", err);
    }
    cr_assert_eq(entries_in(dir), 0);
}

static void assert_load_refused(const char *name, const char *file, const char *want)
{
    hb_keypair_t read;
    cr_assert_eq(hb_keypair_load(dir, name, &read, err), -1, "%s was accepted", file);
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    cr_assert(strstr(err, path), "error \"%s\" does not name %s", err, path);
    cr_assert(strstr(err, want), "error \"%s\" does not say \"%s\"", err, want);
    cr_assert_eq(read.secret_z85[0], '\0', "nothing half-read is handed out");
}

Test(keys, a_bad_key_file_is_refused_naming_it)
{
    char path[256];
    snprintf(path, sizeof path, "%s/short.key", dir);
    write_file(path, "abc\n", 0600);
    assert_load_refused("short", "short.key", "not a key");

    snprintf(path, sizeof path, "%s/notz85.key", dir);
    write_file(path, ",,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,\n", 0600); /* 40, not z85 */
    assert_load_refused("notz85", "notz85.key", "not valid z85");

    hb_keypair_t a, b;
    hb_keypair_new(&a);
    hb_keypair_new(&b);
    snprintf(path, sizeof path, "%s/long.key", dir);
    char text[128];
    snprintf(text, sizeof text, "%s%s\n", a.secret_z85, "X");
    write_file(path, text, 0600);
    assert_load_refused("long", "long.key", "not a key");

    cr_assert_eq(hb_keypair_save(dir, "open", &a, false, err), 0);
    snprintf(path, sizeof path, "%s/open.key", dir);
    chmod(path, 0644);
    assert_load_refused("open", "open.key", "lets others read the secret key");

    cr_assert_eq(hb_keypair_save(dir, "mixed", &a, false, err), 0);
    snprintf(path, sizeof path, "%s/mixed.pub", dir);
    snprintf(text, sizeof text, "%s\n", b.public_z85);
    write_file(path, text, 0644);
    assert_load_refused("mixed", "mixed.pub", "is not the public key of");

    assert_load_refused("absent", "absent.key", "cannot open");
}

/* ── the allow-list file ── */

static hb_keypair_t pair(void)
{
    hb_keypair_t p;
    cr_assert_eq(hb_keypair_new(&p), 0);
    return p;
}

Test(keys, the_allow_list_adds_revokes_and_lists_what_it_saved)
{
    bool missing = false;
    hb_allow_t *list = hb_allow_load(allow, &missing, err);
    cr_assert_not_null(list, "%s", err);
    cr_assert(missing, "a missing file is an empty list");
    cr_assert_eq(hb_allow_count(list), 0);

    hb_keypair_t k1 = pair(), k2 = pair();
    cr_assert_eq(hb_allow_add(list, "kiosk-1", HB_ROLE_KIOSK, k1.public_z85, false, err), 0, "%s",
                 err);
    cr_assert_eq(hb_allow_add(list, "c1", HB_ROLE_COUNTER, k2.public_z85, false, err), 0, "%s",
                 err);
    cr_assert_eq(hb_allow_add(list, "kiosk-1", HB_ROLE_KIOSK, k2.public_z85, false, err), -1);
    cr_assert(strstr(err, "already in the allow-list"), "%s", err);
    cr_assert_eq(hb_allow_add(list, "other", HB_ROLE_KIOSK, k1.public_z85, false, err), -1);
    cr_assert(strstr(err, "\"kiosk-1\""), "one key, one role: %s", err);
    cr_assert_eq(hb_allow_revoke(list, "c1"), 0);
    cr_assert_eq(hb_allow_revoke(list, "c1"), 1, "already revoked");
    cr_assert_eq(hb_allow_revoke(list, "nobody"), -1);
    cr_assert_eq(hb_allow_save(list, allow, err), 0, "%s", err);
    hb_allow_destroy(&list);
    cr_assert_null(list);

    list = hb_allow_load(allow, &missing, err);
    cr_assert_not_null(list, "%s", err);
    cr_assert_not(missing);
    cr_assert_eq(hb_allow_count(list), 2);
    const hb_allow_entry_t *e = hb_allow_at(list, 0);
    cr_assert_str_eq(e->name, "kiosk-1");
    cr_assert_eq(e->role, HB_ROLE_KIOSK);
    cr_assert_str_eq(e->public_z85, k1.public_z85);
    cr_assert_not(e->revoked);
    cr_assert_eq(strlen(e->created), 20, "created: %s", e->created);
    e = hb_allow_find_key(list, k2.public_z85);
    cr_assert_not_null(e);
    cr_assert_str_eq(e->name, "c1");
    cr_assert(e->revoked);
    cr_assert_null(hb_allow_at(list, 2));

    /* a new key for an old name replaces the old key */
    hb_keypair_t k3 = pair();
    cr_assert_eq(hb_allow_add(list, "c1", HB_ROLE_COUNTER, k3.public_z85, true, err), 0, "%s", err);
    cr_assert_null(hb_allow_find_key(list, k2.public_z85));
    cr_assert_not(hb_allow_find_name(list, "c1")->revoked);
    hb_allow_destroy(&list);
}

Test(keys, saving_the_allow_list_replaces_the_file_whole)
{
    hb_allow_t *list = hb_allow_new();
    hb_keypair_t k = pair();
    cr_assert_eq(hb_allow_add(list, "a", HB_ROLE_OPERATOR, k.public_z85, false, err), 0);
    cr_assert_eq(hb_allow_save(list, allow, err), 0, "%s", err);
    struct stat before, after;
    cr_assert_eq(stat(allow, &before), 0);
    /* a reader holding the old file keeps reading the old list */
    FILE *reader = fopen(allow, "r");
    cr_assert_not_null(reader);
    hb_allow_revoke(list, "a");
    cr_assert_eq(hb_allow_save(list, allow, err), 0, "%s", err);
    cr_assert_eq(stat(allow, &after), 0);
    cr_assert_neq(before.st_ino, after.st_ino, "a new file renamed over the old one");
    char old[512] = "";
    size_t n = fread(old, 1, sizeof old - 1, reader);
    fclose(reader);
    old[n] = '\0';
    cr_assert(strstr(old, "\"revoked\": false"), "the old file is whole: %s", old);
    cr_assert_eq(entries_in(dir), 1, "no temporary file left behind");
    cr_assert_eq(mode_of(allow), 0644);
    hb_allow_destroy(&list);
}

static void assert_allow_refused(const char *text, const char *want)
{
    write_file(allow, text, 0644);
    hb_allow_t *list = hb_allow_load(allow, NULL, err);
    cr_assert_null(list, "accepted: %s", text);
    cr_assert(strstr(err, allow), "error \"%s\" does not name the file", err);
    cr_assert(strstr(err, want), "error \"%s\" does not say \"%s\"", err, want);
}

Test(keys, a_bad_allow_list_is_refused_naming_the_file_and_the_field)
{
    hb_keypair_t k = pair();
    char text[512];
    assert_allow_refused("{\"keys\": [", "not valid JSON");
    assert_allow_refused("[]", "keys: missing");
    snprintf(text, sizeof text,
             "{\"keys\": [{\"name\": \"a\", \"role\": \"king\", \"public\": \"%s\"}]}",
             k.public_z85);
    assert_allow_refused(text, "keys[0].role: unknown role");
    snprintf(text, sizeof text,
             "{\"keys\": [{\"name\": \"a\", \"role\": \"kiosk\", \"public\": \"%s\", "
             "\"revoke\": true}]}",
             k.public_z85);
    assert_allow_refused(text, "keys[0].revoke: unknown field");
    assert_allow_refused(
        "{\"keys\": [{\"name\": \"a\", \"role\": \"kiosk\", \"public\": \"abc\"}]}",
        "keys[0].public: not a public key");
    snprintf(text, sizeof text,
             "{\"keys\": [{\"name\": \"a\", \"role\": \"kiosk\", \"public\": \"%s\"},"
             "{\"name\": \"a\", \"role\": \"audit\", \"public\": \"%s\"}]}",
             k.public_z85, pair().public_z85);
    assert_allow_refused(text, "keys[1]: the name \"a\" is listed twice");
    snprintf(text, sizeof text, "{\"keys\": [{\"name\": \"a\", \"public\": \"%s\"}]}",
             k.public_z85);
    assert_allow_refused(text, "keys[0].role: missing");
}

/* ── the live allow-list ── */

static void save_list(const char *name, hb_role_t role, const char *key, bool revoked)
{
    hb_allow_t *list = hb_allow_new();
    cr_assert_eq(hb_allow_add(list, name, role, key, false, err), 0, "%s", err);
    if (revoked)
        hb_allow_revoke(list, name);
    cr_assert_eq(hb_allow_save(list, allow, err), 0, "%s", err);
    hb_allow_destroy(&list);
}

Test(keys, the_live_list_sees_a_revocation_without_a_restart)
{
    hb_keypair_t k = pair();
    save_list("kiosk-1", HB_ROLE_KIOSK, k.public_z85, false);
    hb_keys_t *keys = hb_keys_new(allow, 0);
    cr_assert_not_null(keys);
    char name[HB_KEY_NAME_MAX + 1];
    cr_assert_eq(hb_keys_lookup(keys, k.public_z85, name, sizeof name), HB_ROLE_KIOSK);
    cr_assert_str_eq(name, "kiosk-1");
    cr_assert_eq(hb_keys_role(keys, pair().public_z85), HB_ROLE_NONE, "an unknown key");
    cr_assert_eq(hb_keys_role(keys, "not a key"), HB_ROLE_NONE);

    save_list("kiosk-1", HB_ROLE_KIOSK, k.public_z85, true);
    cr_assert_eq(hb_keys_role(keys, k.public_z85), HB_ROLE_NONE, "revoked: seen at once");
    hb_keys_destroy(&keys);
    cr_assert_null(keys);
}

Test(keys, an_edit_in_place_is_seen_too)
{
    hb_keypair_t k = pair();
    hb_keys_t *keys = hb_keys_new(allow, 0);
    cr_assert_eq(hb_keys_role(keys, k.public_z85), HB_ROLE_NONE, "no file: no one");
    char text[512];
    snprintf(text, sizeof text,
             "{\"keys\": [{\"name\": \"s\", \"role\": \"supervisor\", \"public\": \"%s\"}]}",
             k.public_z85);
    size_t first_len = strlen(text);
    write_file(allow, text, 0644); /* the same inode from here on */
    cr_assert_eq(hb_keys_role(keys, k.public_z85), HB_ROLE_SUPERVISOR);
    snprintf(text, sizeof text,
             "{\"keys\": [{\"name\": \"s\", \"role\": \"display\", \"public\": \"%s\"}]}",
             k.public_z85);
    while (strlen(text) < first_len) /* covers all of the old text */
        strcat(text, " ");
    FILE *f = fopen(allow, "r+");
    fputs(text, f);
    fclose(f);
    cr_assert_eq(hb_keys_role(keys, k.public_z85), HB_ROLE_DISPLAY);
    hb_keys_destroy(&keys);
}

Test(keys, a_bad_file_keeps_the_last_good_list)
{
    hb_keypair_t k = pair();
    save_list("c1", HB_ROLE_COUNTER, k.public_z85, false);
    hb_keys_t *keys = hb_keys_new(allow, 0);
    cr_assert_eq(hb_keys_role(keys, k.public_z85), HB_ROLE_COUNTER);
    write_file(allow, "{\"keys\": [{\"name\": ", 0644);
    cr_assert_eq(hb_keys_reload(keys), -1);
    cr_assert_eq(hb_keys_role(keys, k.public_z85), HB_ROLE_COUNTER, "the last good list");
    cr_assert_eq(hb_keys_count(keys), 1);
    unlink(allow);
    cr_assert_eq(hb_keys_role(keys, k.public_z85), HB_ROLE_COUNTER, "a vanished file too");
    save_list("c1", HB_ROLE_COUNTER, k.public_z85, true);
    cr_assert_eq(hb_keys_reload(keys), 1);
    cr_assert_eq(hb_keys_role(keys, k.public_z85), HB_ROLE_NONE);
    cr_assert_eq(hb_keys_reload(keys), 0, "unchanged");
    hb_keys_destroy(&keys);
}

Test(keys, lookups_check_the_file_at_most_every_check_interval)
{
    hb_keypair_t k = pair();
    save_list("c1", HB_ROLE_COUNTER, k.public_z85, false);
    hb_keys_t *keys = hb_keys_new(allow, 3600 * 1000);
    cr_assert_eq(hb_keys_role(keys, k.public_z85), HB_ROLE_COUNTER);
    save_list("c1", HB_ROLE_COUNTER, k.public_z85, true);
    cr_assert_eq(hb_keys_role(keys, k.public_z85), HB_ROLE_COUNTER, "not checked yet");
    cr_assert_eq(hb_keys_reload(keys), 1, "SIGHUP's reload reads it now");
    cr_assert_eq(hb_keys_role(keys, k.public_z85), HB_ROLE_NONE);
    hb_keys_destroy(&keys);
}

Test(keys, roles_are_named_both_ways)
{
    for (int r = HB_ROLE_NONE + 1; r < HB_ROLES; r++)
        cr_assert_eq((int)hb_role_parse(hb_role_name((hb_role_t)r)), r);
    cr_assert_eq(hb_role_parse("none"), HB_ROLE_NONE);
    cr_assert_eq(hb_role_parse(NULL), HB_ROLE_NONE);
    cr_assert_null(hb_role_name(HB_ROLES));
}
