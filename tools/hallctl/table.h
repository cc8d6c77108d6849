/* A table for people: columns as wide as their widest cell, measured in
 * display columns, numbers right-aligned. */
#ifndef HALLCTL_TABLE_H
#define HALLCTL_TABLE_H

#include <stdio.h>

#define TB_COLS_MAX 10

typedef struct table_s table_t;

/* HEADERS: NCOLS column titles; a title starting with '>' is right-aligned
 * (the '>' is not shown). Returns NULL on failure. */
table_t *tb_new(int ncols, const char *const *headers);
void tb_destroy(table_t **self);

/* Adds one row of NCOLS cells formatted by the caller; the strings are
 * copied (and cleaned for the terminal). NULL cells print as "-". */
void tb_row(table_t *self, const char *const *cells);

/* Prints the header and the rows to F, each line prefixed with INDENT. */
void tb_print(const table_t *self, FILE *f, const char *indent);

#endif
