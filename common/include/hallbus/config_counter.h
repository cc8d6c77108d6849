/* The "counter:" section of the hall file: settings of hall-counter.
 *
 * One counter serving every window (the default when the section or its
 * list is absent):
 *
 *   counter:
 *     endpoint: "tcp://127.0.0.1:5565"
 *
 * Several counters, each serving its own windows (a window served by two
 * counters, or one the hall does not have, is refused with file and line):
 *
 *   counter:
 *     overtime_unit_ms: 60000     # one "minute" of a service's target time
 *     request_timeout_ms: 3000    # hall-queue must answer a forwarded command within this
 *     instances:
 *       - {id: c1, endpoint: "tcp://127.0.0.1:5565", windows: [1-6, 9]}
 *       - {id: c2, endpoint: "tcp://127.0.0.1:5561", windows: [7, 8]}
 *
 * A window entry is a number or a range "N-M". */
#ifndef HALLBUS_CONFIG_COUNTER_H
#define HALLBUS_CONFIG_COUNTER_H

#include <stddef.h>
#include <stdint.h>

#define HB_COUNTER_ID_MAX 32
#define HB_COUNTER_DEFAULT_ENDPOINT "tcp://127.0.0.1:5565"

typedef struct {
    char *id;          /* [a-z0-9_-]{1,32}, unique in the hall: "c1" */
    char *endpoint;    /* where its terminals connect (it binds a ROUTER) */
    uint32_t *windows; /* the windows it serves, ascending, no duplicates */
    unsigned windows_count;
} hb_counter_instance_t;

typedef struct {
    uint32_t overtime_unit_ms;        /* one minute of target time, in ms; default 60000 (tests
                                         shrink it so that a 1-minute target passes in 1 s) */
    uint32_t request_timeout_ms;      /* a forwarded command unanswered this long is answered
                                         INTERNAL "hall-queue did not answer"; default 3000 */
    hb_counter_instance_t *instances; /* at least one */
    unsigned instances_count;
    int listed; /* counter.instances was given: window commands go through the counters
                   (hallctl routes them); else the one default counter, "c1", serving every
                   window, is there for whoever starts it */
} hb_counter_conf_t;

/* The instance called ID; NULL if none. */
const hb_counter_instance_t *hb_counter_instance(const hb_counter_conf_t *conf, const char *id);
/* The instance serving WINDOW; NULL if none does. */
const hb_counter_instance_t *hb_counter_for_window(const hb_counter_conf_t *conf, uint32_t window);
/* Whether INSTANCE serves WINDOW. */
int hb_counter_serves(const hb_counter_instance_t *instance, uint32_t window);

/* Window sets, as in "--windows 1-6,9" and in a config entry "1-6".
 *
 * Parses TEXT (comma-separated numbers 1..9999 and ranges N-M with N <= M)
 * and adds the windows to *SET (a malloc'ed array of *COUNT, kept
 * ascending; the caller frees it). Returns 0; or -1 with WHY filled
 * ("\"7-3\" is not a range N-M with N <= M", "window 3 is listed twice"),
 * *SET then still valid. */
int hb_window_set_parse(const char *text, uint32_t **set, unsigned *count, char *why,
                        size_t whylen);
/* Writes SET compactly ("1-6,9") into OUT; "none" when empty. Returns OUT. */
char *hb_window_set_format(const uint32_t *set, unsigned count, char *out, size_t outlen);

#endif
