/* Staff accounts: passwords, the file, and the checks a sign-on makes. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hallbus/accounts.h"

#define NOW 1772447400000000LL

static char dir[] = "/tmp/hb-accounts-XXXXXX";
static char path[256];
static hb_accounts_t *acc;
static char err[HB_ACCOUNTS_ERR_MAX];

static void setup(void)
{
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/keys/staff.json", dir);
    acc = hb_accounts_new(path);
    cr_assert_not_null(acc);
}

static void teardown(void)
{
    hb_accounts_destroy(&acc);
    cr_assert_null(acc);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(accounts, .init = setup, .fini = teardown);

static void add(const char *id, const char *password)
{
    cr_assert_eq(hb_accounts_add(acc, id, "王芳", "社保科", HB_STAFF_ROLE_STAFF, password, NOW, err,
                                 sizeof err),
                 0, "%s", err);
}

static hb_signon_outcome_t sign_on(hb_accounts_t *a, const char *id, const char *password,
                                   hb_password_check_t *job)
{
    hb_signon_outcome_t o = hb_accounts_prepare_check(a, id, password, job);
    hb_password_check_run(job);
    return hb_accounts_finish_check(a, id, o, job, NOW + 1000000, err, sizeof err);
}

static void write_file(const char *text, mode_t mode)
{
    char folder[300];
    snprintf(folder, sizeof folder, "%s/keys", dir);
    mkdir(folder, 0700);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    fchmod(fd, mode);
    close(fd);
}

/* Entries of FOLDER other than . and .. */
static int files_in(const char *folder)
{
    DIR *d = opendir(folder);
    cr_assert_not_null(d);
    struct dirent *e;
    int files = 0;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            files++;
    closedir(d);
    return files;
}

Test(accounts, a_password_hashes_with_argon2id_and_verifies)
{
    char hash[HB_PASSWORD_HASH_MAX];
    cr_assert_eq(hb_password_hash("correct horse", hash), 0);
    cr_assert_eq(strncmp(hash, "$argon2id$", 10), 0, "%s", hash);
    hb_password_check_t job = {0};
    snprintf(job.hash, sizeof job.hash, "%s", hash);
    snprintf(job.password, sizeof job.password, "correct horse");
    hb_password_check_run(&job);
    cr_assert_eq(job.verdict, HB_PASSWORD_RIGHT);
    cr_assert_not(job.rehashed, "a hash made today needs no rehash");
    cr_assert_eq(job.password[0], '\0', "the password is wiped");

    snprintf(job.password, sizeof job.password, "correct hors");
    hb_password_check_run(&job);
    cr_assert_eq(job.verdict, HB_PASSWORD_WRONG);
}

Test(accounts, the_password_policy_says_why)
{
    cr_assert_eq(hb_password_policy("S023", "short", err, sizeof err), -1);
    cr_assert_str_eq(err, "a password needs at least 8 characters");
    cr_assert_eq(hb_password_policy("S0234567", "s0234567", err, sizeof err), -1);
    cr_assert_str_eq(err, "the password cannot be the staff id");
    cr_assert_eq(hb_password_policy("S023", "社保科窗口密码好", err, sizeof err), 0,
                 "eight characters, in any script");
    cr_assert_eq(hb_password_policy("S023", "社保科窗", err, sizeof err), -1,
                 "12 bytes but 4 characters");
    char long_one[HB_PASSWORD_MAX + 2];
    memset(long_one, 'a', sizeof long_one - 1);
    long_one[sizeof long_one - 1] = '\0';
    cr_assert_eq(hb_password_policy("S023", long_one, err, sizeof err), -1);
}

Test(accounts, add_find_list_and_refusals)
{
    add("S023", "password-023");
    cr_assert_eq(hb_accounts_add(acc, "S023", "x", "", HB_STAFF_ROLE_STAFF, "password-x", NOW, err,
                                 sizeof err),
                 -1);
    cr_assert_str_eq(err, "S023 already has an account");
    cr_assert_eq(hb_accounts_add(acc, "S 1", "x", "", HB_STAFF_ROLE_STAFF, "password-x", NOW, err,
                                 sizeof err),
                 -1);
    cr_assert_eq(hb_accounts_add(acc, "S024", "", "", HB_STAFF_ROLE_STAFF, "password-x", NOW, err,
                                 sizeof err),
                 -1);
    cr_assert_eq(hb_accounts_add(acc, "S024", "李", "", HB_STAFF_ROLE_OPERATOR, "S024", NOW, err,
                                 sizeof err),
                 -1, "the policy is applied");
    cr_assert_eq(hb_accounts_count(acc), 1);
    const hb_staff_t *s = hb_accounts_find(acc, "S023");
    cr_assert_not_null(s);
    cr_assert_str_eq(s->name, "王芳");
    cr_assert_str_eq(s->unit, "社保科");
    cr_assert_eq(s->role, HB_STAFF_ROLE_STAFF);
    cr_assert_eq(hb_accounts_at(acc, 0), s);
    cr_assert_null(hb_accounts_at(acc, 1));
    cr_assert_null(hb_accounts_find(acc, "S999"));

    hb_staff_role_t r;
    cr_assert_eq(hb_staff_role_parse("supervisor", &r), 0);
    cr_assert_eq(r, HB_STAFF_ROLE_SUPERVISOR);
    cr_assert_eq(hb_staff_role_parse("boss", &r), -1);
}

Test(accounts, sign_on_right_wrong_disabled_and_unknown)
{
    add("S023", "password-023");
    hb_password_check_t job;
    cr_assert_eq(sign_on(acc, "S023", "password-023", &job), HB_SIGNON_OK);
    cr_assert_eq(sign_on(acc, "S023", "password-024", &job), HB_SIGNON_WRONG_PASSWORD);

    cr_assert_eq(hb_accounts_set_disabled(acc, "S023", true, NOW, err, sizeof err), 0);
    cr_assert_eq(sign_on(acc, "S023", "password-023", &job), HB_SIGNON_DISABLED,
                 "the right password does not open a disabled account");
    cr_assert_eq(hb_accounts_set_disabled(acc, "S023", false, NOW, err, sizeof err), 0);
    cr_assert_eq(sign_on(acc, "S023", "password-023", &job), HB_SIGNON_OK);

    cr_assert_eq(hb_accounts_prepare_check(acc, "S999", "password-023", &job), HB_SIGNON_UNKNOWN);
    cr_assert_eq(strncmp(job.hash, "$argon2id$v=19$m=65536,t=2", 26), 0,
                 "an unknown id is checked against a real hash all the same");
    hb_password_check_run(&job);
    cr_assert_eq(job.verdict, HB_PASSWORD_WRONG);
    cr_assert_eq(sign_on(acc, "S999", "password-023", &job), HB_SIGNON_UNKNOWN);
    cr_assert_str_eq(hb_signon_outcome_name(HB_SIGNON_WRONG_PASSWORD), "wrong-password");
}

Test(accounts, a_new_password_replaces_the_old)
{
    add("S023", "password-023");
    cr_assert_eq(hb_accounts_set_password(acc, "S023", "S023", NOW, err, sizeof err), -1);
    cr_assert_eq(hb_accounts_set_password(acc, "S023", "another-pass", NOW + 5, err, sizeof err),
                 0);
    cr_assert_eq(hb_accounts_find(acc, "S023")->changed_us, NOW + 5);
    hb_password_check_t job;
    cr_assert_eq(sign_on(acc, "S023", "password-023", &job), HB_SIGNON_WRONG_PASSWORD);
    cr_assert_eq(sign_on(acc, "S023", "another-pass", &job), HB_SIGNON_OK);
    cr_assert_eq(hb_accounts_set_password(acc, "S999", "another-pass", NOW, err, sizeof err), -1);
    cr_assert_str_eq(err, "no account S999");
}

Test(accounts, a_hash_with_old_parameters_is_rehashed_on_sign_on_and_saved)
{
    cr_assert_geq(sodium_init(), 0);
    char weak[crypto_pwhash_STRBYTES];
    cr_assert_eq(crypto_pwhash_str(weak, "password-023", 12, crypto_pwhash_OPSLIMIT_MIN,
                                   crypto_pwhash_MEMLIMIT_MIN),
                 0);
    char text[1024];
    snprintf(text, sizeof text,
             "{\"staff\": [{\"id\": \"S023\", \"name\": \"王芳\", \"role\": \"staff\", "
             "\"hash\": \"%s\"}]}",
             weak);
    write_file(text, 0600);
    cr_assert_eq(hb_accounts_load(acc, err, sizeof err), 0, "%s", err);

    hb_password_check_t job;
    hb_signon_outcome_t o = hb_accounts_prepare_check(acc, "S023", "password-023", &job);
    hb_password_check_run(&job);
    cr_assert(job.rehashed);
    cr_assert_eq(hb_accounts_finish_check(acc, "S023", o, &job, NOW, err, sizeof err),
                 HB_SIGNON_OK);
    cr_assert_str_eq(err, "");
    const char *now_hash = hb_accounts_find(acc, "S023")->hash;
    cr_assert_str_neq(now_hash, weak);
    cr_assert_eq(crypto_pwhash_str_needs_rehash(now_hash, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                                crypto_pwhash_MEMLIMIT_INTERACTIVE),
                 0);

    hb_accounts_t *again = hb_accounts_new(path);
    cr_assert_eq(hb_accounts_load(again, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(hb_accounts_find(again, "S023")->hash, now_hash, "the new hash was saved");
    cr_assert_eq(sign_on(again, "S023", "password-023", &job), HB_SIGNON_OK);
    cr_assert_not(job.rehashed);
    hb_accounts_destroy(&again);
}

Test(accounts, the_file_is_0600_json_without_passwords_and_loads_back)
{
    add("S023", "password-023");
    cr_assert_eq(hb_accounts_add(acc, "S001", "张伟", "", HB_STAFF_ROLE_SUPERVISOR, "password-001",
                                 NOW, err, sizeof err),
                 0);
    hb_accounts_set_disabled(acc, "S001", true, NOW, err, sizeof err);
    cr_assert_eq(hb_accounts_save(acc, err, sizeof err), 0, "%s", err);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(st.st_mode & 07777, 0600);

    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    cr_assert_not_null(root, "%s", jerr.text);
    json_t *s = json_array_get(json_object_get(root, "staff"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(s, "id")), "S023");
    cr_assert_str_eq(json_string_value(json_object_get(s, "role")), "staff");
    cr_assert_str_eq(json_string_value(json_object_get(s, "created")), "2026-03-02T10:30:00Z");
    cr_assert(json_is_false(json_object_get(s, "disabled")));
    json_decref(root);
    FILE *f = fopen(path, "r");
    char all[8192] = "";
    size_t n = fread(all, 1, sizeof all - 1, f);
    fclose(f);
    all[n] = '\0';
    cr_assert_null(strstr(all, "password-023"), "no password in the file");

    hb_accounts_t *again = hb_accounts_new(path);
    cr_assert_eq(hb_accounts_load(again, err, sizeof err), 0, "%s", err);
    cr_assert_eq(hb_accounts_count(again), 2);
    const hb_staff_t *b = hb_accounts_find(again, "S001");
    cr_assert_str_eq(b->name, "张伟");
    cr_assert_eq(b->role, HB_STAFF_ROLE_SUPERVISOR);
    cr_assert(b->disabled);
    cr_assert_eq(b->created_us, NOW);
    hb_accounts_destroy(&again);
}

Test(accounts, a_save_replaces_the_file_whole_by_rename)
{
    add("S023", "password-023");
    cr_assert_eq(hb_accounts_save(acc, err, sizeof err), 0, "%s", err);
    int old = open(path, O_RDONLY);
    struct stat before, after;
    fstat(old, &before);
    add("S024", "password-024");
    cr_assert_eq(hb_accounts_save(acc, err, sizeof err), 0, "%s", err);
    stat(path, &after);
    cr_assert_neq(before.st_ino, after.st_ino, "a new file took the name");
    /* a reader of the old file still has all of it, and only it */
    char buf[8192];
    ssize_t n = read(old, buf, sizeof buf - 1);
    close(old);
    buf[n > 0 ? n : 0] = '\0';
    cr_assert_not_null(strstr(buf, "S023"));
    cr_assert_null(strstr(buf, "S024"));
    json_t *j = json_loads(buf, 0, NULL);
    cr_assert_not_null(j, "the old file is whole JSON");
    json_decref(j);
    /* no temp file left beside it */
    char folder[300];
    snprintf(folder, sizeof folder, "%s/keys", dir);
    int files = files_in(folder);
    cr_assert_eq(files, 1);
}

Test(accounts, a_save_that_cannot_rename_leaves_the_file_as_it_was)
{
    /* the name is taken by a folder: the rename fails, the temp file goes */
    char folder[300];
    snprintf(folder, sizeof folder, "%s/keys", dir);
    mkdir(folder, 0700);
    cr_assert_eq(mkdir(path, 0700), 0);
    add("S023", "password-023");
    cr_assert_eq(hb_accounts_save(acc, err, sizeof err), -1);
    cr_assert_not_null(strstr(err, path), "%s", err);
    int files = files_in(folder);
    cr_assert_eq(files, 1, "only the folder: no temp file left");
}

Test(accounts, a_missing_file_is_an_empty_list)
{
    cr_assert_eq(hb_accounts_load(acc, err, sizeof err), 0);
    cr_assert_eq(hb_accounts_count(acc), 0);
    cr_assert_eq(hb_accounts_reload_if_changed(acc, err, sizeof err), 0);
}

Test(accounts, a_changed_file_is_reloaded_and_an_unchanged_one_is_not)
{
    add("S023", "password-023");
    cr_assert_eq(hb_accounts_save(acc, err, sizeof err), 0);
    hb_accounts_t *daemon = hb_accounts_new(path);
    cr_assert_eq(hb_accounts_reload_if_changed(daemon, err, sizeof err), 1, "the first load");
    cr_assert_eq(hb_accounts_reload_if_changed(daemon, err, sizeof err), 0);
    cr_assert_null(hb_accounts_find(daemon, "S024"));

    add("S024", "password-024");
    cr_assert_eq(hb_accounts_save(acc, err, sizeof err), 0);
    cr_assert_eq(hb_accounts_reload_if_changed(daemon, err, sizeof err), 1);
    cr_assert_not_null(hb_accounts_find(daemon, "S024"));
    cr_assert_eq(hb_accounts_reload_if_changed(daemon, err, sizeof err), 0);
    hb_accounts_destroy(&daemon);
}

Test(accounts, a_bad_file_is_named_and_the_last_good_list_kept)
{
    add("S023", "password-023");
    cr_assert_eq(hb_accounts_save(acc, err, sizeof err), 0);
    hb_accounts_t *daemon = hb_accounts_new(path);
    cr_assert_eq(hb_accounts_reload_if_changed(daemon, err, sizeof err), 1);

    char tmp[300];
    snprintf(tmp, sizeof tmp, "%s.new", path);
    FILE *f = fopen(tmp, "w");
    fputs("{\"staff\": [\n  {\"id\": \"S023\",,}\n]}\n", f);
    fclose(f);
    chmod(tmp, 0600);
    rename(tmp, path);
    cr_assert_eq(hb_accounts_reload_if_changed(daemon, err, sizeof err), -1);
    char want[300];
    snprintf(want, sizeof want, "%s:2:", path);
    cr_assert_eq(strncmp(err, want, strlen(want)), 0, "names the file and line: %s", err);
    cr_assert_not_null(hb_accounts_find(daemon, "S023"), "the last good list stays");
    cr_assert_eq(hb_accounts_reload_if_changed(daemon, err, sizeof err), 0,
                 "not retried until it changes");

    write_file("{\"staff\": [{\"id\": \"S023\", \"name\": \"x\", \"role\": \"boss\", "
               "\"hash\": \"$argon2id$x\"}]}",
               0600);
    cr_assert_eq(hb_accounts_load(daemon, err, sizeof err), -1);
    cr_assert_not_null(strstr(err, "staff[0].role (S023): \"boss\" is not staff"), "%s", err);
    cr_assert_not_null(strstr(err, path));
    cr_assert_not_null(hb_accounts_find(daemon, "S023"));

    write_file("{\"staff\": [{\"id\": \"S023\", \"name\": \"x\", \"role\": \"staff\", "
               "\"hash\": \"plain\"}]}",
               0600);
    cr_assert_eq(hb_accounts_load(daemon, err, sizeof err), -1);
    cr_assert_not_null(strstr(err, "staff[0].hash"), "%s", err);
    hb_accounts_destroy(&daemon);
}

Test(accounts, a_file_others_may_read_is_refused)
{
    write_file("{\"staff\": []}", 0644);
    cr_assert_eq(hb_accounts_load(acc, err, sizeof err), -1);
    cr_assert_not_null(strstr(err, path), "%s", err);
    cr_assert_not_null(strstr(err, "mode 0644"), "%s", err);
}

Test(accounts, an_id_listed_twice_is_refused)
{
    write_file("{\"staff\": [{\"id\": \"S1\", \"name\": \"a\", \"role\": \"staff\", \"hash\": "
               "\"$argon2id$a\"}, {\"id\": \"S1\", \"name\": \"b\", \"role\": \"staff\", "
               "\"hash\": \"$argon2id$b\"}]}",
               0600);
    cr_assert_eq(hb_accounts_load(acc, err, sizeof err), -1);
    cr_assert_not_null(strstr(err, "staff[1].id: S1 is listed twice"), "%s", err);
}
