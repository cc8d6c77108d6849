#include "hallbus/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

hb_log_level_t hb_log_level = HB_LOG_INFO;
static const char *log_name = "hallbus";

void hb_log_init(const char *name, hb_log_level_t level)
{
    log_name = name;
    hb_log_level = level;
}

int hb_log_parse_level(const char *text, hb_log_level_t *out)
{
    static const char *names[] = {"debug", "info", "warn", "error", "off"};
    for (int i = 0; i <= HB_LOG_OFF; i++) {
        if (strcmp(text, names[i]) == 0) {
            *out = (hb_log_level_t)i;
            return 0;
        }
    }
    return -1;
}

void hb_log_write(hb_log_level_t level, const char *fmt, ...)
{
    static const char marks[] = "DIWE";
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    localtime_r(&tv.tv_sec, &tm);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);

    /* one write per line so that lines from concurrent daemons never interleave */
    char line[2048];
    int n = snprintf(line, sizeof line, "%s.%03ld %s[%d] %c ", stamp, (long)tv.tv_usec / 1000,
                     log_name, (int)getpid(), marks[level < HB_LOG_OFF ? level : HB_LOG_ERROR]);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof line - 2)
        len = sizeof line - 2;
    line[len++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w;
}
