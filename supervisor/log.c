#include "supervisor/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "supervisor/util.h"

static int log_verbosity;
static bool log_stamps;
static void (*log_filter)(char *, unsigned);

void log_init(int verbosity) { log_verbosity = verbosity; }
void log_set_timestamps(bool on) { log_stamps = on; }
void log_set_filter(void (*filter)(char *, unsigned)) { log_filter = filter; }

bool log_enabled(enum log_level level)
{
	return level <= LOG_LEVEL_WARN || (int)level - (int)LOG_LEVEL_WARN <= log_verbosity;
}

static void log_vwrite(enum log_level level, int errnum, const char *fmt, va_list ap)
{
	static const char *const prefix[] = {"", "", "", "debug: "};
	char msg[4096], line[4096 + 128];
	int len = 0;

	if (!log_enabled(level))
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_filter)
		log_filter(msg, sizeof(msg));
	if (log_stamps) {
		char ts[40];
		rfc3339_now(ts, sizeof(ts));
		len = snprintf(line, sizeof(line), "%s ", ts);
	}
	len += snprintf(line + len, sizeof(line) - len, "sysg: %s%s", prefix[level], msg);
	if (errnum && len < (int)sizeof(line))
		len += snprintf(line + len, sizeof(line) - len, ": %s", strerror(errnum));
	if (len >= (int)sizeof(line) - 1)
		len = sizeof(line) - 2;
	line[len++] = '\n';
	/* One write per message keeps lines whole when several processes share stderr. */
	(void)!write(STDERR_FILENO, line, len);
}

#define LOG_FN(fn, level, with_errno)                                   \
	void fn(const char *fmt, ...)                                   \
	{                                                               \
		int saved = errno;                                      \
		va_list ap;                                             \
		va_start(ap, fmt);                                      \
		log_vwrite(level, (with_errno) ? saved : 0, fmt, ap);   \
		va_end(ap);                                             \
		errno = saved;                                          \
	}

LOG_FN(log_err, LOG_LEVEL_ERR, 1)
LOG_FN(log_errx, LOG_LEVEL_ERR, 0)
LOG_FN(log_warn, LOG_LEVEL_WARN, 1)
LOG_FN(log_warnx, LOG_LEVEL_WARN, 0)
LOG_FN(log_info, LOG_LEVEL_INFO, 0)
LOG_FN(log_debug, LOG_LEVEL_DEBUG, 0)

void fatal(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;
	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_ERR, saved, fmt, ap);
	va_end(ap);
	exit(1);
}

void fatalx(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_ERR, 0, fmt, ap);
	va_end(ap);
	exit(1);
}
