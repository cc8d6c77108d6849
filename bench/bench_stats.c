#include "bench_stats.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

void bench_sort_us(int64_t *samples, size_t n)
{
    qsort(samples, n, sizeof *samples, cmp_i64);
}

int64_t bench_percentile_us(const int64_t *sorted, size_t n, double p)
{
    if (n == 0)
        return 0;
    /* nearest rank: the smallest sample with at least P% of them at or below it */
    size_t rank = (size_t)ceil(p / 100.0 * (double)n);
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return sorted[rank - 1];
}

char *bench_thousands(double value, char *out, size_t len)
{
    char digits[32];
    snprintf(digits, sizeof digits, "%.0f", value < 0 ? -value : value);
    size_t nd = strlen(digits), o = 0;
    if (value < 0 && o + 1 < len)
        out[o++] = '-';
    for (size_t i = 0; i < nd && o + 1 < len; i++) {
        if (i > 0 && (nd - i) % 3 == 0 && o + 2 < len)
            out[o++] = ',';
        out[o++] = digits[i];
    }
    out[o] = '\0';
    return out;
}
