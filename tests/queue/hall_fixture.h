/* A hall of the queue's unit tests: its hall file and store in a fresh
 * temporary directory, the clock given by the test, TZ=UTC. */
#ifndef TESTS_QUEUE_HALL_FIXTURE_H
#define TESTS_QUEUE_HALL_FIXTURE_H

#include <stdint.h>

#include "hall.h"
#include "hallbus/config.h"

typedef struct {
    char dir[64];
    char config_path[128]; /* DIR/hall.yaml */
    char db_path[128];     /* DIR/q.db */
    hb_config_t *config;   /* owned; freed by hall_fixture_stop */
} hall_fixture_t;

/* Sets TZ=UTC, makes /tmp/NAME-XXXXXX, writes YAML there as hall.yaml and
 * loads it into FX->config. Asserts each step. */
void hall_fixture_start(hall_fixture_t *fx, const char *name, const char *yaml);
/* A hall on FX's store, opened at AT; asserts that it opens. Caller owns it. */
hall_t *hall_fixture_open(const hall_fixture_t *fx, int64_t at);
/* Destroys *HALL (may be NULL) and the config, and removes the directory. */
void hall_fixture_stop(hall_fixture_t *fx, hall_t **hall);

#endif
