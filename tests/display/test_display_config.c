/* The "display:" section of the hall file. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hallbus/config.h"

static char path[64];

static hb_config_t *load(const char *display, char err[HB_CONFIG_ERR_MAX])
{
    snprintf(path, sizeof path, "/tmp/hallbus-display-config-XXXXXX");
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    FILE *f = fdopen(fd, "w");
    fprintf(f,
            "hall:\n  id: h01\n  name: Hall\n"
            "services:\n  - {prefix: A, name: General}\n"
            "windows:\n  - {number: 1, services: [A]}\n"
            "endpoints:\n  command: \"tcp://127.0.0.1:5550\"\n"
            "  bus_pub: \"tcp://127.0.0.1:5551\"\n  bus_sub: \"tcp://127.0.0.1:5552\"\n"
            "queue:\n  db: q.db\n  heartbeat_ms: 1000\n"
            "%s",
            display);
    fclose(f);
    err[0] = '\0';
    hb_config_t *c = hb_config_load(path, err);
    unlink(path);
    return c;
}

Test(display_config, every_setting_has_a_default)
{
    char err[HB_CONFIG_ERR_MAX];
    hb_config_t *c = load("", err);
    cr_assert_not_null(c, "%s", err);
    cr_assert_str_eq(c->display.http, "127.0.0.1:8080");
    cr_assert_eq(c->display.language, HB_DISPLAY_LANG_BOTH);
    cr_assert_eq(c->display.recent_calls, 6);
    cr_assert_eq(c->display.resync_ttl_ms, 3000, "3 × queue.heartbeat_ms");
    cr_assert_eq(c->display.snapshot_timeout_ms, 1000);
    cr_assert_eq(c->display.max_clients, 10000);
    cr_assert_eq(c->display.max_per_client, 32);
    cr_assert_null(c->display.voice_dir, "no audio files unless asked");
    cr_assert_str_eq(c->display.espeak, "espeak-ng");
    hb_config_destroy(&c);
}

Test(display_config, settings_are_read)
{
    char err[HB_CONFIG_ERR_MAX];
    hb_config_t *c = load("display:\n  http: \"0.0.0.0:9090\"\n  language: en\n"
                          "  recent_calls: 10\n  resync_ttl_ms: 2500\n"
                          "  snapshot_timeout_ms: 200\n  max_clients: 50\n  max_per_client: 4\n"
                          "  voice_dir: var/voice\n  espeak: /opt/espeak/bin/espeak-ng\n",
                          err);
    cr_assert_not_null(c, "%s", err);
    cr_assert_str_eq(c->display.http, "0.0.0.0:9090");
    cr_assert_eq(c->display.language, HB_DISPLAY_LANG_EN);
    cr_assert_eq(c->display.recent_calls, 10);
    cr_assert_eq(c->display.resync_ttl_ms, 2500);
    cr_assert_eq(c->display.snapshot_timeout_ms, 200);
    cr_assert_eq(c->display.max_clients, 50);
    cr_assert_eq(c->display.max_per_client, 4);
    cr_assert_str_eq(c->display.voice_dir, "var/voice");
    cr_assert_str_eq(c->display.espeak, "/opt/espeak/bin/espeak-ng");
    hb_config_destroy(&c);
}

static void refused(const char *display, const char *line_key, const char *why)
{
    char err[HB_CONFIG_ERR_MAX];
    hb_config_t *c = load(display, err);
    cr_assert_null(c, "accepted: %s", display);
    cr_assert_not_null(strstr(err, line_key), "'%s' in: %s", line_key, err);
    cr_assert_not_null(strstr(err, why), "'%s' in: %s", why, err);
}

Test(display_config, bad_values_are_refused_with_file_line_and_key)
{
    refused("display:\n  language: fr\n", ":16: display.language", "not zh, en or both");
    refused("display:\n  http: \"8080\"\n", ":16: display.http", "HOST:PORT");
    refused("display:\n  http: \"127.0.0.1:70000\"\n", ":16: display.http", "1..65535");
    refused("display:\n  recent_calls: 11\n", ":16: display.recent_calls", "out of range 1..10");
    refused("display:\n  recent_calls: many\n", ":16: display.recent_calls", "whole number");
    refused("display:\n  resync_ttl_ms: 500\n", ":16: display.resync_ttl_ms",
            "longer than queue.heartbeat_ms");
    refused("display:\n  voice_dir: \"\"\n", ":16: display.voice_dir", "must not be empty");
    refused("display:\n  colour: red\n", "colour", "");
}
