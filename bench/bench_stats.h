/* Small helpers the benchmarks share: percentiles of latency samples and
 * numbers printed so that a person can read them at a glance. */
#ifndef HALLBUS_BENCH_STATS_H
#define HALLBUS_BENCH_STATS_H

#include <stddef.h>
#include <stdint.h>

/* Sorts SAMPLES (microseconds) in place. */
void bench_sort_us(int64_t *samples, size_t n);

/* The P-th percentile (0 < P <= 100) of N sorted samples, by nearest rank;
 * 0 when N is 0. */
int64_t bench_percentile_us(const int64_t *sorted, size_t n, double p);

/* VALUE with thousands separators ("62,305") into OUT (LEN bytes); returns OUT. */
char *bench_thousands(double value, char *out, size_t len);

#endif
