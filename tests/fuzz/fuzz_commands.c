/* libFuzzer: arbitrary request bytes through the whole command path of a
 * live hall (in-memory store): every input gets a decodable reply, and the
 * hall's invariants hold after each one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "hall.h"

static hb_config_t *config;
static hall_t *hall;
static int64_t now = 1795424400LL * 1000000;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char path[] = "/tmp/hallbus-fuzz-XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");
    fputs("hall: {id: f1, name: Fuzz hall}\n"
          "services:\n  - {prefix: A, name: One}\n  - {prefix: B, name: Two, quota: 50}\n"
          "windows:\n  - {number: 1, services: [A, B]}\n  - {number: 2, services: [B]}\n"
          "endpoints: {command: \"tcp://127.0.0.1:1\", bus_pub: \"tcp://127.0.0.1:2\","
          " bus_sub: \"tcp://127.0.0.1:3\"}\n",
          f);
    fclose(f);
    char err[HB_CONFIG_ERR_MAX];
    config = hb_config_load(path, err);
    unlink(path);
    if (!config) {
        fprintf(stderr, "%s\n", err);
        abort();
    }
    hall_store_t *store = hall_store_open(":memory:", err, sizeof err);
    hall = hall_new(config, store, now, err, sizeof err);
    if (!hall)
        abort();
    return 0;
}

static void check_invariants(void)
{
    /* every window's current ticket is called or serving there, and every
     * waiting ticket is in exactly its line */
    for (unsigned i = 0; i < hall->windows_count; i++) {
        ticket_t *t = hall->windows[i].current;
        if (t &&
            (t->window != hall->windows[i].number || (t->state != HALLBUS__TICKET_STATE__CALLED &&
                                                      t->state != HALLBUS__TICKET_STATE__SERVING)))
            abort();
    }
    uint32_t waiting = 0;
    for (ticket_t *t = hall->by_id; t; t = t->hh_id.next)
        waiting += t->state == HALLBUS__TICKET_STATE__WAITING;
    if (waiting != hall_waiting_total(hall))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    queue_counters_t counters = {0};
    uint8_t *out = NULL;
    size_t outlen = 0;
    now += 1000000;
    queue_handle(hall, data, size, now, &counters, &out, &outlen);
    hall_commit(hall);
    hall_outbox_free(hall_outbox_take(hall));
    Hallbus__Reply *reply = hallbus__reply__unpack(NULL, outlen, out);
    if (!reply || !reply->message || !*reply->message)
        abort(); /* every input gets an answer that says something */
    hallbus__reply__free_unpacked(reply, NULL);
    free(out);
    check_invariants();
    return 0;
}
