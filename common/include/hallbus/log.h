/* Levelled logging to stderr. The macros test the level before any argument
 * is evaluated or formatted, so a debug line costs nothing when it is off. */
#ifndef HALLBUS_LOG_H
#define HALLBUS_LOG_H

typedef enum {
    HB_LOG_DEBUG = 0,
    HB_LOG_INFO,
    HB_LOG_WARN,
    HB_LOG_ERROR,
    HB_LOG_OFF
} hb_log_level_t;

extern hb_log_level_t hb_log_level;

/* Sets the process name printed on each line ("hall-queue"). Not copied. */
void hb_log_init(const char *name, hb_log_level_t level);
/* "debug", "info", "warn", "error", "off"; returns -1 for anything else. */
int hb_log_parse_level(const char *text, hb_log_level_t *out);
void hb_log_write(hb_log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define hb_log(level, ...)                                                                         \
    do {                                                                                           \
        if ((level) >= hb_log_level)                                                               \
            hb_log_write((level), __VA_ARGS__);                                                    \
    } while (0)
#define hb_debug(...) hb_log(HB_LOG_DEBUG, __VA_ARGS__)
#define hb_info(...) hb_log(HB_LOG_INFO, __VA_ARGS__)
#define hb_warn(...) hb_log(HB_LOG_WARN, __VA_ARGS__)
#define hb_error(...) hb_log(HB_LOG_ERROR, __VA_ARGS__)

#endif
