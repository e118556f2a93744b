/* sysg's own messages: one greppable line each, "sysg: <what>: <why>".
 * log_warn/log_err append strerror(errno); the *x variants do not (OpenBSD style).
 * fatal/fatalx exit(1) and are only for use before the event loop runs. */
#ifndef SYSG_LOG_H
#define SYSG_LOG_H

#include <stdbool.h>

enum log_level { LOG_LEVEL_ERR, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

#define PRINTF(a, b) __attribute__((format(printf, a, b)))

void log_init(int verbosity);          /* 0: warnings, 1: info (-v), 2: debug (-vv) */
void log_set_timestamps(bool on);      /* RFC 3339 prefix, for the daemon's own log file */
/* A filter applied to every message before it is written (secret masking).
 * It rewrites buf in place (at most cap bytes, NUL-terminated). */
void log_set_filter(void (*filter)(char *buf, unsigned cap));
bool log_enabled(enum log_level level);

void log_err(const char *fmt, ...) PRINTF(1, 2);
void log_errx(const char *fmt, ...) PRINTF(1, 2);
void log_warn(const char *fmt, ...) PRINTF(1, 2);
void log_warnx(const char *fmt, ...) PRINTF(1, 2);
void log_info(const char *fmt, ...) PRINTF(1, 2);
void log_debug(const char *fmt, ...) PRINTF(1, 2);
__attribute__((noreturn)) void fatal(const char *fmt, ...) PRINTF(1, 2);
__attribute__((noreturn)) void fatalx(const char *fmt, ...) PRINTF(1, 2);

#endif
