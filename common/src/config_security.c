/* The "security:" section: where the keys and the allow-list are, and
 * whether CURVE is on (it is unless the file says "curve: false"). */
#include "config_security_schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const cyaml_schema_field_t hb_cfg_security_fields[] = {
    TEXT("keys_dir", OPTIONAL, raw_security_t, keys_dir),
    TEXT("allow", OPTIONAL, raw_security_t, allow),
    TEXT("accounts", OPTIONAL, raw_security_t, accounts),
    TEXT("curve", OPTIONAL, raw_security_t, curve),
    CYAML_FIELD_END,
};

#define KEYS_DIR_DEFAULT "var/keys"

/* "<dir>/<name>", malloc'ed; NULL when memory runs out. */
static char *in_keys_dir(const char *dir, const char *name)
{
    size_t len = strlen(dir) + 1 + strlen(name) + 1;
    char *path = malloc(len);
    if (path)
        snprintf(path, len, "%s/%s", dir, name);
    return path;
}

int hb_cfg_security_build(const hb_cfg_report_t *report, raw_security_t *raw, hb_config_t *config)
{
    hb_security_conf_t *conf = &config->security;
    raw_security_t empty = {0};
    raw_security_t *r = raw ? raw : &empty;
    if (hb_cfg_check_text(report, "security.keys_dir", r->keys_dir) != 0 ||
        hb_cfg_check_text(report, "security.allow", r->allow) != 0 ||
        hb_cfg_check_text(report, "security.accounts", r->accounts) != 0)
        return -1;
    conf->curve = true;
    if (r->curve) {
        /* YAML 1.1's other spellings (yes, on) are not taken: one way to say it */
        if (strcmp(r->curve, "true") == 0)
            conf->curve = true;
        else if (strcmp(r->curve, "false") == 0)
            conf->curve = false;
        else
            return hb_cfg_fail(report, "security.curve", "\"%s\" is neither true nor false",
                               r->curve);
    }
    conf->keys_dir = r->keys_dir ? hb_cfg_take(&r->keys_dir) : strdup(KEYS_DIR_DEFAULT);
    if (!conf->keys_dir)
        return -1;
    conf->allow = r->allow ? hb_cfg_take(&r->allow) : in_keys_dir(conf->keys_dir, "allow.json");
    conf->accounts =
        r->accounts ? hb_cfg_take(&r->accounts) : in_keys_dir(conf->keys_dir, "staff.json");
    return conf->allow && conf->accounts ? 0 : -1;
}

void hb_cfg_security_free(hb_security_conf_t *conf)
{
    free(conf->keys_dir);
    free(conf->allow);
    free(conf->accounts);
}
