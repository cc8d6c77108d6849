/* The sync probe: a tiny LD_PRELOAD library the benchmark puts in front of
 * the daemons it starts, so that it can say how many commits a daemon made
 * and how long it waited for the disk, without touching the daemon.
 *
 * It wraps fsync() and fdatasync(). With $HB_SYNC_PROBE_DIR set, each
 * process that loads it shares its counters through the file
 * "$HB_SYNC_PROBE_DIR/sync.<pid>" (one hb_sync_counts_t, mapped). Calls made
 * by the process's main thread (hall-queue's loop: one per group commit) are
 * counted apart from those of other threads (the background checkpointer). */
#ifndef HALLBUS_BENCH_SYNC_PROBE_H
#define HALLBUS_BENCH_SYNC_PROBE_H

#include <stdint.h>

typedef struct {
    uint64_t main_syncs; /* fsync + fdatasync on the main thread */
    uint64_t main_ns;    /* time spent in them */
    uint64_t other_syncs;
    uint64_t other_ns;
} hb_sync_counts_t;

#endif
