/* Web files embedded in a daemon at build time: hb_embed_assets(TARGET DIR
 * SYMBOL) in CMake (common/CMakeLists.txt) turns every file of DIR into a
 * byte array and the table SYMBOL[] declared with HB_HTTP_ASSETS(SYMBOL). */
#ifndef HALLBUS_HTTP_ASSETS_H
#define HALLBUS_HTTP_ASSETS_H

#include <stddef.h>

typedef struct {
    const char *path; /* "/board.html"; NULL ends the table */
    const unsigned char *data;
    size_t len;
} hb_http_asset_t;

#define HB_HTTP_ASSETS(symbol) extern const hb_http_asset_t symbol[]

/* The asset PATH (LEN bytes) of TABLE, or NULL. */
const hb_http_asset_t *hb_http_asset_find(const hb_http_asset_t *table, const char *path,
                                          size_t len);

/* The Content-Type for PATH, by its extension (static string). */
const char *hb_http_content_type(const char *path);

#endif
