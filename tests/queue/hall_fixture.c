#include "hall_fixture.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

void hall_fixture_start(hall_fixture_t *fx, const char *name, const char *yaml)
{
    setenv("TZ", "UTC", 1);
    tzset();
    snprintf(fx->dir, sizeof fx->dir, "/tmp/%s-XXXXXX", name);
    cr_assert_not_null(mkdtemp(fx->dir));
    snprintf(fx->config_path, sizeof fx->config_path, "%s/hall.yaml", fx->dir);
    snprintf(fx->db_path, sizeof fx->db_path, "%s/q.db", fx->dir);
    FILE *f = fopen(fx->config_path, "w");
    cr_assert_not_null(f);
    fputs(yaml, f);
    fclose(f);
    char err[HB_CONFIG_ERR_MAX];
    fx->config = hb_config_load(fx->config_path, err);
    cr_assert_not_null(fx->config, "%s", err);
}

hall_t *hall_fixture_open(const hall_fixture_t *fx, int64_t at)
{
    char err[256];
    hall_store_t *store = hall_store_open(fx->db_path, err, sizeof err);
    cr_assert_not_null(store, "%s", err);
    hall_t *h = hall_new(fx->config, store, at, err, sizeof err);
    cr_assert_not_null(h, "%s", err);
    return h;
}

void hall_fixture_stop(hall_fixture_t *fx, hall_t **hall)
{
    hall_destroy(hall);
    hb_config_destroy(&fx->config);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", fx->dir);
    cr_assert_eq(system(cmd), 0);
}
