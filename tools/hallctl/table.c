#include "table.h"

#include <assert.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

struct table_s {
    int ncols;
    bool right[TB_COLS_MAX];
    size_t width[TB_COLS_MAX];
    char **cells; /* (nrows + 1) * ncols, the header first */
    size_t nrows, cap;
};

static void add_cells(table_t *self, const char *const *cells, bool header)
{
    if (self->nrows + 1 >= self->cap) {
        self->cap = self->cap ? self->cap * 2 : 8;
        self->cells = realloc(self->cells, self->cap * (size_t)self->ncols * sizeof *self->cells);
        if (!self->cells)
            abort();
    }
    char **row = self->cells + (header ? 0 : self->nrows + 1) * (size_t)self->ncols;
    for (int c = 0; c < self->ncols; c++) {
        const char *text = cells[c] ? cells[c] : "-";
        if (header && text[0] == '>') {
            self->right[c] = true;
            text++;
        }
        row[c] = tx_clean(text);
        size_t w = tx_width(row[c]);
        if (w > self->width[c])
            self->width[c] = w;
    }
    if (!header)
        self->nrows++;
}

table_t *tb_new(int ncols, const char *const *headers)
{
    assert(ncols > 0 && ncols <= TB_COLS_MAX);
    table_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->ncols = ncols;
    add_cells(self, headers, true);
    return self;
}

void tb_destroy(table_t **pself)
{
    if (!pself || !*pself)
        return;
    table_t *self = *pself;
    *pself = NULL;
    for (size_t i = 0; i < (self->nrows + 1) * (size_t)self->ncols; i++)
        free(self->cells[i]);
    free(self->cells);
    free(self);
}

void tb_row(table_t *self, const char *const *cells)
{
    assert(self);
    add_cells(self, cells, false);
}

static void pad(FILE *f, size_t n)
{
    while (n--)
        fputc(' ', f);
}

void tb_print(const table_t *self, FILE *f, const char *indent)
{
    assert(self);
    for (size_t r = 0; r <= self->nrows; r++) {
        char **row = self->cells + r * (size_t)self->ncols;
        fputs(indent, f);
        for (int c = 0; c < self->ncols; c++) {
            size_t gap = self->width[c] - tx_width(row[c]);
            bool last = c == self->ncols - 1;
            if (self->right[c])
                pad(f, gap);
            fputs(row[c], f);
            if (!self->right[c] && !last) /* no trailing blanks */
                pad(f, gap);
            if (!last)
                fputs("  ", f);
        }
        fputc('\n', f);
    }
}
