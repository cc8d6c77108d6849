/* Embedded web files: finding one, and the type it is served as. */
#include <string.h>

#include "hallbus/http_assets.h"

const hb_http_asset_t *hb_http_asset_find(const hb_http_asset_t *table, const char *path,
                                          size_t len)
{
    for (const hb_http_asset_t *a = table; a && a->path; a++)
        if (strlen(a->path) == len && memcmp(a->path, path, len) == 0)
            return a;
    return NULL;
}

const char *hb_http_content_type(const char *path)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".json", "application/json"},
        {".png", "image/png"},
        {".svg", "image/svg+xml"},
        {".ico", "image/x-icon"},
        {".txt", "text/plain; charset=utf-8"},
        {".woff2", "font/woff2"},
    };
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
        if (strcmp(dot, types[i].ext) == 0)
            return types[i].type;
    return "application/octet-stream";
}
