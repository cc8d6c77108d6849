/* The out-of-memory policy: see alloc.h. */
#include "hallbus/alloc.h"

#include <stdlib.h>
#include <string.h>

#include "hallbus/log.h"

static void out_of_memory(const char *what, size_t size) __attribute__((noreturn));

static void out_of_memory(const char *what, size_t size)
{
    hb_log_write(HB_LOG_ERROR, "out of memory: %s (%zu bytes); stopping", what ? what : "?", size);
    abort();
}

void *hb_xmalloc(size_t size, const char *what)
{
    void *p = malloc(size ? size : 1);
    if (!p)
        out_of_memory(what, size);
    return p;
}

void *hb_xcalloc(size_t count, size_t size, const char *what)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p)
        out_of_memory(what, count * size);
    return p;
}

void *hb_xrealloc(void *ptr, size_t size, const char *what)
{
    void *p = realloc(ptr, size ? size : 1);
    if (!p)
        out_of_memory(what, size);
    return p;
}

char *hb_xstrdup(const char *s, const char *what)
{
    char *d = strdup(s ? s : "");
    if (!d)
        out_of_memory(what, s ? strlen(s) + 1 : 1);
    return d;
}
