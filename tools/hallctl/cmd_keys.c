#include "cmd_keys.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hallbus/allow_list.h"
#include "hallbus/keys.h"

/* The keys of a hall: one per daemon, named after it, and hallctl's own.
 * A hall-counter instance other than the first uses hall-counter-<id>. */
static const struct {
    const char *name;
    hb_role_t role;
} hall_keys[] = {
    {"hall-queue", HB_ROLE_QUEUE},     {"hall-bus", HB_ROLE_BUS},
    {"hall-counter", HB_ROLE_COUNTER}, {"hall-display", HB_ROLE_DISPLAY},
    {"hall-audit", HB_ROLE_AUDIT},     {"hall-notifier", HB_ROLE_NOTIFIER},
    {"hall-kiosk", HB_ROLE_KIOSK},     {"hallctl", HB_ROLE_OPERATOR},
};
#define NHALL_KEYS (sizeof hall_keys / sizeof hall_keys[0])

/* The hall file's security section; NULL after saying why. */
static const hb_security_conf_t *security(hallctl_t *ctl, int *status)
{
    *status = hc_resolve(ctl);
    if (*status != 0)
        return NULL;
    if (!ctl->config) {
        *status = hc_usage_error(ctl, "keys needs the hall file (-c or $HALLBUS_CONFIG)");
        return NULL;
    }
    return &ctl->config->security;
}

/* For the commands with no option of their own: parses ARGV, wants NARGS
 * positional arguments in G, and gives the security section; NULL with
 * *STATUS (a usage error, --help answered, or no hall file). */
static const hb_security_conf_t *plain_command(hallctl_t *ctl, int argc, char **argv, int nargs,
                                               const char *what, hc_getopt_t *g, int *status)
{
    hc_getopt_init(g, ctl, argc, argv, NULL, false);
    const char *arg;
    int id;
    while ((id = hc_getopt(g, &arg)) > 0)
        ;
    if (id < 0) {
        *status = g->status;
        return NULL;
    }
    if ((*status = hc_want_args(g, nargs, what)) != 0)
        return NULL;
    return security(ctl, status);
}

/* The allow-list, locked for a change (*LOCK) or not (LOCK NULL); NULL
 * after saying why. */
static hb_allow_t *open_list(const hb_security_conf_t *sec, int *lock)
{
    char err[HB_KEYS_ERR_MAX];
    if (lock && (*lock = hb_allow_lock(sec->allow, err)) < 0) {
        fprintf(stderr, "hallctl: %s\n", err);
        return NULL;
    }
    hb_allow_t *list = hb_allow_load(sec->allow, NULL, err);
    if (!list) {
        fprintf(stderr, "hallctl: %s\n", err);
        if (lock)
            hb_allow_unlock(*lock);
    }
    return list;
}

static int save_list(hb_allow_t *list, const hb_security_conf_t *sec)
{
    char err[HB_KEYS_ERR_MAX];
    if (hb_allow_save(list, sec->allow, err) == 0)
        return 0;
    fprintf(stderr, "hallctl: %s\n", err);
    return -1;
}

int cmd_keys_new(hallctl_t *ctl, int argc, char **argv)
{
    static const hc_opt_t opts[] = {
        {"role", true, HC_OPT_FIRST}, {"force", false, HC_OPT_FIRST + 1}, {NULL, false, 0}};
    hc_getopt_t g;
    hc_getopt_init(&g, ctl, argc, argv, opts, false);
    const char *arg, *role_text = NULL;
    bool force = false;
    int id, status;
    while ((id = hc_getopt(&g, &arg)) > 0) {
        if (id == HC_OPT_FIRST)
            role_text = arg;
        else
            force = true;
    }
    if (id < 0)
        return g.status;
    if ((status = hc_want_args(&g, 1, "NAME")) != 0)
        return status;
    const char *name = g.pos[0];
    if (!hb_key_name_valid(name))
        return hc_usage_error(ctl, "'%s' is not a key name ([A-Za-z0-9_.-], 1 to 64)", name);
    if (!role_text)
        return hc_usage_error(ctl, "--role is required (one of %s)", hb_role_names());
    hb_role_t role = hb_role_parse(role_text);
    if (role == HB_ROLE_NONE)
        return hc_usage_error(ctl, "unknown role '%s' (one of %s)", role_text, hb_role_names());
    const hb_security_conf_t *sec = security(ctl, &status);
    if (!sec)
        return status;

    int lock;
    hb_allow_t *list = open_list(sec, &lock);
    if (!list)
        return HC_EXIT_USAGE;
    char err[HB_KEYS_ERR_MAX];
    hb_keypair_t pair;
    status = HC_EXIT_REFUSED;
    if (hb_allow_find_name(list, name) && !force)
        fprintf(stderr, "hallctl: \"%s\" is already in %s (--force makes it a new key)\n", name,
                sec->allow);
    else if (hb_keypair_new(&pair) != 0)
        fprintf(stderr, "hallctl: this libzmq cannot make CURVE keys\n");
    else if (hb_keypair_save(sec->keys_dir, name, &pair, force, err) != 0 ||
             hb_allow_add(list, name, role, pair.public_z85, force, err) != 0)
        fprintf(stderr, "hallctl: %s\n", err);
    else if (save_list(list, sec) == 0)
        status = HC_EXIT_OK;
    hb_allow_destroy(&list);
    hb_allow_unlock(lock);
    if (status != HC_EXIT_OK)
        return status;
    if (ctl->json) {
        json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "name", name, "role", hb_role_name(role),
                              "public", pair.public_z85, "allow", sec->allow);
        char path[4200];
        snprintf(path, sizeof path, "%s/%s.key", sec->keys_dir, name);
        json_object_set_new(o, "secret_file", json_string(path));
        snprintf(path, sizeof path, "%s/%s.pub", sec->keys_dir, name);
        json_object_set_new(o, "public_file", json_string(path));
        json_dumpf(o, stdout, JSON_COMPACT);
        fputc('\n', stdout);
        json_decref(o);
    } else {
        printf("%s: a new %s key\n  secret: %s/%s.key (mode 0600: keep it on the machine that "
               "uses it)\n  public: %s/%s.pub\n  %s\n  listed in %s\n",
               name, hb_role_name(role), sec->keys_dir, name, sec->keys_dir, name, pair.public_z85,
               sec->allow);
    }
    explicit_bzero(&pair, sizeof pair);
    return HC_EXIT_OK;
}

int cmd_keys_list(hallctl_t *ctl, int argc, char **argv)
{
    hc_getopt_t g;
    int status;
    const hb_security_conf_t *sec = plain_command(ctl, argc, argv, 0, "", &g, &status);
    if (!sec)
        return status;
    hb_allow_t *list = open_list(sec, NULL);
    if (!list)
        return HC_EXIT_USAGE;
    size_t n = hb_allow_count(list);
    if (ctl->json) {
        json_t *keys = json_array();
        for (size_t i = 0; i < n; i++) {
            const hb_allow_entry_t *e = hb_allow_at(list, i);
            json_array_append_new(keys,
                                  json_pack("{s:s, s:s, s:s, s:s, s:b}", "name", e->name, "role",
                                            hb_role_name(e->role), "public", e->public_z85,
                                            "created", e->created, "revoked", e->revoked));
        }
        json_t *o = json_pack("{s:s, s:o}", "allow", sec->allow, "keys", keys);
        json_dumpf(o, stdout, JSON_COMPACT);
        fputc('\n', stdout);
        json_decref(o);
    } else if (n == 0) {
        printf("no keys in %s (hallctl keys new NAME --role ROLE, or keys init)\n", sec->allow);
    } else {
        printf("%-20s %-10s %-7s %-20s %s\n", "NAME", "ROLE", "STATE", "CREATED", "PUBLIC KEY");
        for (size_t i = 0; i < n; i++) {
            const hb_allow_entry_t *e = hb_allow_at(list, i);
            printf("%-20s %-10s %-7s %-20s %s\n", e->name, hb_role_name(e->role),
                   e->revoked ? "revoked" : "active", e->created[0] ? e->created : "-",
                   e->public_z85);
        }
    }
    hb_allow_destroy(&list);
    return HC_EXIT_OK;
}

int cmd_keys_revoke(hallctl_t *ctl, int argc, char **argv)
{
    hc_getopt_t g;
    int status;
    const hb_security_conf_t *sec = plain_command(ctl, argc, argv, 1, "NAME", &g, &status);
    if (!sec)
        return status;
    const char *name = g.pos[0];
    int lock;
    hb_allow_t *list = open_list(sec, &lock);
    if (!list)
        return HC_EXIT_USAGE;
    int rc = hb_allow_revoke(list, name);
    status = HC_EXIT_OK;
    if (rc < 0) {
        fprintf(stderr, "hallctl: no key named \"%s\" in %s\n", name, sec->allow);
        status = HC_EXIT_REFUSED;
    } else if (rc == 1) {
        printf("%s was revoked already\n", name);
    } else if (save_list(list, sec) != 0) {
        status = HC_EXIT_REFUSED;
    } else {
        printf("%s revoked: refused from its next connection, and on the ones it has where "
               "the daemon checks each message\n",
               name);
    }
    hb_allow_destroy(&list);
    hb_allow_unlock(lock);
    return status;
}

/* One key of the hall: made if missing, listed if made but not listed.
 * Returns false if something needs a person's look (said on stderr). */
static bool init_one(const hb_security_conf_t *sec, hb_allow_t *list, const char *name,
                     hb_role_t role, bool *changed)
{
    char err[HB_KEYS_ERR_MAX], path[4200];
    const hb_allow_entry_t *e = hb_allow_find_name(list, name);
    snprintf(path, sizeof path, "%s/%s.key", sec->keys_dir, name);
    bool have_file = access(path, F_OK) == 0;
    hb_keypair_t pair;
    if (e && e->revoked) {
        printf("  %-20s revoked: left as it is\n", name);
        return true;
    }
    if (e && !have_file) {
        printf("  %-20s listed; its secret key is elsewhere\n", name);
        return true;
    }
    if (have_file) {
        if (hb_keypair_load(sec->keys_dir, name, &pair, err) != 0) {
            fprintf(stderr, "hallctl: %s\n", err);
            return false;
        }
        if (e && strcmp(e->public_z85, pair.public_z85) != 0) {
            fprintf(stderr,
                    "hallctl: %s is not the key %s lists for \"%s\" (hallctl keys new %s "
                    "--role %s --force makes a new one)\n",
                    path, sec->allow, name, name, hb_role_name(e->role));
            return false;
        }
        if (e) {
            printf("  %-20s kept\n", name);
            return true;
        }
    } else if (hb_keypair_new(&pair) != 0 ||
               hb_keypair_save(sec->keys_dir, name, &pair, false, err) != 0) {
        fprintf(stderr, "hallctl: %s\n", have_file ? err : err[0] ? err : "cannot make keys");
        return false;
    }
    if (hb_allow_add(list, name, role, pair.public_z85, false, err) != 0) {
        fprintf(stderr, "hallctl: %s: %s\n", name, err);
        return false;
    }
    *changed = true;
    printf("  %-20s %s (%s)\n", name, have_file ? "listed" : "made", hb_role_name(role));
    return true;
}

int cmd_keys_init(hallctl_t *ctl, int argc, char **argv)
{
    hc_getopt_t g;
    int status;
    const hb_security_conf_t *sec = plain_command(ctl, argc, argv, 0, "", &g, &status);
    if (!sec)
        return status;
    int lock;
    hb_allow_t *list = open_list(sec, &lock);
    if (!list)
        return HC_EXIT_USAGE;
    printf("the hall's keys in %s, listed in %s:\n", sec->keys_dir, sec->allow);
    bool ok = true, changed = false;
    for (size_t i = 0; i < NHALL_KEYS; i++)
        ok = init_one(sec, list, hall_keys[i].name, hall_keys[i].role, &changed) && ok;
    const hb_counter_conf_t *counters = &ctl->config->counter;
    for (unsigned i = 1; i < counters->instances_count; i++) {
        char name[HB_KEY_NAME_MAX + 1];
        snprintf(name, sizeof name, "hall-counter-%s", counters->instances[i].id);
        ok = init_one(sec, list, name, HB_ROLE_COUNTER, &changed) && ok;
    }
    if (changed && save_list(list, sec) != 0)
        ok = false;
    hb_allow_destroy(&list);
    hb_allow_unlock(lock);
    return ok ? HC_EXIT_OK : HC_EXIT_REFUSED;
}
