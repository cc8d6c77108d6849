/* Wall-clock helpers. Everything on the wire is microseconds since the epoch;
 * business dates are the hall's local calendar, shifted by the rollover time. */
#ifndef HALLBUS_CLOCK_H
#define HALLBUS_CLOCK_H

#include <stdint.h>

#define HB_DATE_LEN 11 /* "YYYY-MM-DD" + NUL */

int64_t hb_now_us(void);
/* Monotonic, for measuring intervals. */
int64_t hb_mono_us(void);

/* The business date that the instant NOW_US belongs to, in local time: a day
 * starts at ROLLOVER_MINUTE past local midnight, so with 180 ("03:00") the
 * instant 2026-11-24 02:59 still belongs to 2026-11-23. */
void hb_business_date(int64_t now_us, uint32_t rollover_minute, char out[HB_DATE_LEN]);

/* 1 if TEXT is a valid "YYYY-MM-DD" calendar date, else 0. */
int hb_date_valid(const char *text);

#endif
