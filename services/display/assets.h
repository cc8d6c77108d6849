/* The boards' web files, embedded at build time (embed.cmake writes
 * assets.c from services/display/web/). */
#ifndef DISPLAY_ASSETS_H
#define DISPLAY_ASSETS_H

#include <stddef.h>

typedef struct {
    const char *path; /* "/board.html" */
    const unsigned char *data;
    size_t len;
} dv_asset_t;

extern const dv_asset_t dv_assets[]; /* ends with a NULL path */

const dv_asset_t *dv_asset_find(const char *path, size_t len);

#endif
