/* The store's insides, shared by the files that implement hall_store.h
 * (hall_store.c, hall_store_privacy.c) and by nobody else. */
#ifndef HALLBUS_HALL_STORE_INTERNAL_H
#define HALLBUS_HALL_STORE_INTERNAL_H

#include <sqlite3.h>

#include "hall_store.h"

#define HALL_STORE_STATEMENTS 8 /* hall_store.c's prepared statements */

struct hall_store_s {
    sqlite3 *db;
    sqlite3_stmt *st[HALL_STORE_STATEMENTS];
};

/* After the columns are added: the privacy indexes, and the creation time
 * of contacts stored before it was recorded (their ticket's, booking's or
 * complaint's). 0, or -1. */
int hall_store_migrate_privacy(sqlite3 *db);

/* Steps ST to its end, appending ROW(st) of each row to *ITEMS (grown as
 * needed; *COUNT items); finalizes ST. */
void hall_store_collect_rows(sqlite3_stmt *st, void ***items, size_t *count,
                             void *(*row)(sqlite3_stmt *st));

#endif
