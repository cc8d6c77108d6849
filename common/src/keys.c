/* Roles, and the key files of keys_dir: making, writing and reading them. */
#include "hallbus/keys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "file_atomic.h"

/* snprintf into an error buffer; truncating a long path is fine there. */
static void say(char err[HB_KEYS_ERR_MAX], const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void say(char err[HB_KEYS_ERR_MAX], const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, HB_KEYS_ERR_MAX, fmt, ap);
    va_end(ap);
}

static const char *const role_names[HB_ROLES] = {
    "none",     "kiosk",      "counter",  "display", "audit",
    "notifier", "supervisor", "operator", "queue",   "bus",
};

const char *hb_role_name(hb_role_t role)
{
    return role >= 0 && role < HB_ROLES ? role_names[role] : NULL;
}

hb_role_t hb_role_parse(const char *text)
{
    for (int r = HB_ROLE_NONE + 1; text && r < HB_ROLES; r++)
        if (strcmp(role_names[r], text) == 0)
            return (hb_role_t)r;
    return HB_ROLE_NONE;
}

const char *hb_role_names(void)
{
    return "kiosk, counter, display, audit, notifier, supervisor, operator, queue, bus";
}

bool hb_key_z85_valid(const char *text)
{
    if (!text || strlen(text) != HB_KEY_Z85_LEN)
        return false;
    uint8_t bytes[32];
    return zmq_z85_decode(bytes, text) != NULL;
}

bool hb_key_name_valid(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > HB_KEY_NAME_MAX || name[0] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.'))
            return false;
    }
    return true;
}

int hb_keypair_new(hb_keypair_t *out)
{
    memset(out, 0, sizeof *out);
    return zmq_curve_keypair(out->public_z85, out->secret_z85) == 0 ? 0 : -1;
}

static int key_path(char *out, size_t size, const char *dir, const char *name, const char *ext,
                    char err[HB_KEYS_ERR_MAX])
{
    if (!hb_key_name_valid(name)) {
        say(err, "\"%.80s\" is not a key name ([A-Za-z0-9_.-], 1 to 64, not starting with a dot)",
            name ? name : "");
        return -1;
    }
    if (snprintf(out, size, "%s/%s%s", dir, name, ext) >= (int)size) {
        say(err, "%s/%s%s: path too long", dir, name, ext);
        return -1;
    }
    return 0;
}

int hb_keypair_save(const char *dir, const char *name, const hb_keypair_t *pair, bool force,
                    char err[HB_KEYS_ERR_MAX])
{
    char secret[4096], public[4096];
    if (key_path(secret, sizeof secret, dir, name, ".key", err) != 0 ||
        key_path(public, sizeof public, dir, name, ".pub", err) != 0)
        return -1;
    if (!hb_key_z85_valid(pair->public_z85) || !hb_key_z85_valid(pair->secret_z85)) {
        say(err, "%s: not a CURVE key pair", secret);
        return -1;
    }
    if (hb_mkdirs(dir, 0700, err, HB_KEYS_ERR_MAX) != 0)
        return -1;
    if (!force) {
        const char *paths[2] = {secret, public};
        for (int i = 0; i < 2; i++)
            if (access(paths[i], F_OK) == 0) {
                say(err, "%s: exists already (--force replaces it)", paths[i]);
                return -1;
            }
    }
    char line[HB_KEY_Z85_LEN + 2];
    snprintf(line, sizeof line, "%s\n", pair->secret_z85);
    if (hb_file_write_atomic(secret, line, HB_KEY_Z85_LEN + 1, 0600, err, HB_KEYS_ERR_MAX) != 0)
        return -1;
    snprintf(line, sizeof line, "%s\n", pair->public_z85);
    return hb_file_write_atomic(public, line, HB_KEY_Z85_LEN + 1, 0644, err, HB_KEYS_ERR_MAX);
}

int hb_key_file_read(const char *path, char out[HB_KEY_Z85_LEN + 1], char err[HB_KEYS_ERR_MAX])
{
    out[0] = '\0';
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        say(err, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    /* one byte more than a key and its newline tells a longer file apart */
    char buf[HB_KEY_Z85_LEN + 3];
    ssize_t n;
    do
        n = read(fd, buf, sizeof buf);
    while (n < 0 && errno == EINTR);
    int saved = errno;
    close(fd);
    if (n < 0) {
        say(err, "%s: cannot read: %s", path, strerror(saved));
        return -1;
    }
    size_t len = (size_t)n;
    if (len == HB_KEY_Z85_LEN + 1 && buf[HB_KEY_Z85_LEN] == '\n')
        len--;
    if (len != HB_KEY_Z85_LEN) {
        say(err, "%s: not a key: a key file holds one 40-character z85 key and a newline", path);
        return -1;
    }
    buf[HB_KEY_Z85_LEN] = '\0';
    if (!hb_key_z85_valid(buf)) {
        say(err, "%s: not a key: not valid z85", path);
        return -1;
    }
    memcpy(out, buf, HB_KEY_Z85_LEN + 1);
    return 0;
}

int hb_keypair_load(const char *dir, const char *name, hb_keypair_t *out, char err[HB_KEYS_ERR_MAX])
{
    memset(out, 0, sizeof *out);
    char secret[4096], public[4096];
    if (key_path(secret, sizeof secret, dir, name, ".key", err) != 0 ||
        key_path(public, sizeof public, dir, name, ".pub", err) != 0)
        return -1;
    struct stat st;
    if (stat(secret, &st) == 0 && (st.st_mode & 077) != 0) {
        say(err, "%s: mode %03o lets others read the secret key (chmod 600 it, or make a new one)",
            secret, (unsigned)(st.st_mode & 0777));
        return -1;
    }
    if (hb_key_file_read(secret, out->secret_z85, err) != 0)
        return -1;
    if (zmq_curve_public(out->public_z85, out->secret_z85) != 0) {
        say(err, "%s: cannot derive its public key", secret);
        memset(out, 0, sizeof *out);
        return -1;
    }
    char listed[HB_KEY_Z85_LEN + 1];
    if (access(public, F_OK) == 0) {
        if (hb_key_file_read(public, listed, err) != 0) {
            memset(out, 0, sizeof *out);
            return -1;
        }
        if (strcmp(listed, out->public_z85) != 0) {
            say(err, "%s: is not the public key of %s", public, secret);
            memset(out, 0, sizeof *out);
            return -1;
        }
    }
    return 0;
}

int hb_public_key_load(const char *dir, const char *name, char out[HB_KEY_Z85_LEN + 1],
                       char err[HB_KEYS_ERR_MAX])
{
    char public[4096];
    out[0] = '\0';
    if (key_path(public, sizeof public, dir, name, ".pub", err) != 0)
        return -1;
    return hb_key_file_read(public, out, err);
}
