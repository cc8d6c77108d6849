#include "hallbus/clock.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t hb_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t hb_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void hb_business_date(int64_t now_us, uint32_t rollover_minute, char out[HB_DATE_LEN])
{
    time_t t = (time_t)(now_us / 1000000) - (time_t)rollover_minute * 60;
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(out, HB_DATE_LEN, "%Y-%m-%d", &tm);
}

int hb_date_valid(const char *text)
{
    if (!text || strlen(text) != 10)
        return 0;
    struct tm tm = {0};
    const char *end = strptime(text, "%Y-%m-%d", &tm);
    if (!end || *end)
        return 0;
    /* strptime accepts 2026-02-31; a round trip through mktime rejects it */
    struct tm check = tm;
    check.tm_isdst = -1;
    if (mktime(&check) == (time_t)-1)
        return 0;
    return check.tm_mday == tm.tm_mday && check.tm_mon == tm.tm_mon;
}
