/* Text for people: lines cleaned of what a terminal would obey rather than
 * show, and padded by display columns, so that tables of Chinese service
 * names line up. */
#ifndef HALLCTL_TEXT_H
#define HALLCTL_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Picks a UTF-8 character type for the width tables: the user's locale if
 * it is UTF-8, else C.UTF-8. Call once, first. */
void tx_init(void);

bool tx_utf8_valid(const char *s);

/* Columns S takes once cleaned (a CJK character takes two). */
size_t tx_width(const char *s);

/* A copy of S (caller frees) in which control characters and bytes that are
 * not UTF-8 are replaced by '?': wire text never reaches the terminal raw. */
char *tx_clean(const char *s);

/* Formats one line, cleans it, writes it and a newline to F. */
void tx_line(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "12 min", "1 h 05 min": a wait in seconds, rounded up to the minute. */
void tx_duration(unsigned seconds, char *out, size_t outlen);
/* "42 s", "4 min 12 s", "1 h 05 min": a measured time, to the second. */
void tx_elapsed(unsigned seconds, char *out, size_t outlen);
/* Local "HH:MM:SS" of an instant in microseconds, or "-" for 0. */
void tx_clock(long long us, char *out, size_t outlen);

/* WORDS[VALUE] for an enum VALUE, or OTHERWISE when VALUE is out of the N
 * words or has none. */
const char *tx_word(const char *const *words, size_t n, int value, const char *otherwise);
#define TX_WORD(words, value, otherwise)                                                           \
    tx_word(words, sizeof(words) / sizeof(words)[0], (int)(value), otherwise)

#endif
