#include "text.h"

#include <langinfo.h>
#include <locale.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wchar.h>

static bool utf8_locale;

void tx_init(void)
{
    if (setlocale(LC_CTYPE, "") && strcmp(nl_langinfo(CODESET), "UTF-8") == 0) {
        utf8_locale = true;
        return;
    }
    /* the hall's names are UTF-8 whatever the user's locale says; only the
     * character type is changed, so numbers and dates print as before */
    utf8_locale = setlocale(LC_CTYPE, "C.UTF-8") != NULL;
}

/* Decodes the UTF-8 sequence at S into *CP; returns its length, or 0 if the
 * byte there starts no valid sequence (overlong, surrogate, truncated...). */
static size_t utf8_next(const unsigned char *s, uint32_t *cp)
{
    unsigned char c = s[0];
    size_t n;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        *cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        *cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        *cp = c & 0x07;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) /* also stops at the terminating NUL */
            return 0;
        *cp = (*cp << 6) | (s[i] & 0x3f);
    }
    if ((n == 3 && *cp < 0x800) || (n == 4 && *cp < 0x10000) || *cp > 0x10ffff ||
        (*cp >= 0xd800 && *cp <= 0xdfff))
        return 0;
    return n;
}

bool tx_utf8_valid(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        uint32_t cp;
        size_t n = utf8_next(p, &cp);
        if (n == 0)
            return false;
        p += n;
    }
    return true;
}

static bool is_control(uint32_t cp)
{
    return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0);
}

/* East Asian wide ranges, for when the C library has no UTF-8 tables. */
static bool wide_fallback(uint32_t cp)
{
    static const uint32_t ranges[][2] = {
        {0x1100, 0x115f},   {0x2e80, 0x303e},   {0x3041, 0x33ff},   {0x3400, 0x4dbf},
        {0x4e00, 0x9fff},   {0xa000, 0xa4cf},   {0xac00, 0xd7a3},   {0xf900, 0xfaff},
        {0xfe30, 0xfe4f},   {0xff00, 0xff60},   {0xffe0, 0xffe6},   {0x1f300, 0x1f64f},
        {0x1f900, 0x1f9ff}, {0x20000, 0x2fffd}, {0x30000, 0x3fffd},
    };
    for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++)
        if (cp >= ranges[i][0] && cp <= ranges[i][1])
            return true;
    return false;
}

static size_t cp_width(uint32_t cp)
{
    if (is_control(cp))
        return 1; /* printed as '?' or ' ' */
    int w = utf8_locale ? wcwidth((wchar_t)cp) : -1;
    if (w >= 0)
        return (size_t)w;
    return wide_fallback(cp) ? 2 : 1;
}

size_t tx_width(const char *s)
{
    size_t width = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        uint32_t cp;
        size_t n = utf8_next(p, &cp);
        if (n == 0) {
            width++;
            p++;
        } else {
            width += cp_width(cp);
            p += n;
        }
    }
    return width;
}

char *tx_clean(const char *s)
{
    size_t len = strlen(s);
    char *out = malloc(len + 1);
    if (!out)
        abort();
    const unsigned char *p = (const unsigned char *)s;
    size_t o = 0;
    while (*p) {
        uint32_t cp;
        size_t n = utf8_next(p, &cp);
        if (n == 0) {
            out[o++] = '?';
            p++;
        } else if (is_control(cp)) {
            /* a line is one record: breaks and tabs in wire text become spaces */
            out[o++] = (cp == '\n' || cp == '\r' || cp == '\t') ? ' ' : '?';
            p += n;
        } else {
            memcpy(out + o, p, n);
            o += n;
            p += n;
        }
    }
    out[o] = '\0';
    return out;
}

void tx_line(FILE *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *raw = NULL;
    int n = vasprintf(&raw, fmt, ap);
    va_end(ap);
    if (n < 0)
        abort();
    char *clean = tx_clean(raw);
    fputs(clean, f);
    fputc('\n', f);
    free(clean);
    free(raw);
}

void tx_duration(unsigned seconds, char *out, size_t outlen)
{
    unsigned minutes = seconds / 60 + (seconds % 60 != 0);
    if (minutes < 60)
        snprintf(out, outlen, "%u min", minutes);
    else
        snprintf(out, outlen, "%u h %02u min", minutes / 60, minutes % 60);
}

void tx_elapsed(unsigned seconds, char *out, size_t outlen)
{
    if (seconds < 60)
        snprintf(out, outlen, "%u s", seconds);
    else if (seconds < 3600)
        snprintf(out, outlen, "%u min %u s", seconds / 60, seconds % 60);
    else
        snprintf(out, outlen, "%u h %02u min", seconds / 3600, seconds / 60 % 60);
}

void tx_clock(long long us, char *out, size_t outlen)
{
    if (us == 0) {
        snprintf(out, outlen, "-");
        return;
    }
    time_t t = (time_t)(us / 1000000);
    struct tm tm;
    if (!localtime_r(&t, &tm) || strftime(out, outlen, "%H:%M:%S", &tm) == 0)
        snprintf(out, outlen, "?");
}

const char *tx_word(const char *const *words, size_t n, int value, const char *otherwise)
{
    return value >= 0 && (size_t)value < n && words[value] ? words[value] : otherwise;
}
