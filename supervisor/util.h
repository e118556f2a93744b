/* Small shared helpers. Allocation failure is fatal (the x* functions abort
 * with a message): the supervisor cannot usefully continue without memory. */
#ifndef SYSG_UTIL_H
#define SYSG_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define streq(a, b) (strcmp((a), (b)) == 0)

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
void *xreallocarray(void *p, size_t n, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
bool str_has_prefix(const char *s, const char *prefix);
/* snprintf that is meant to truncate (fixed-size status and reason fields). */
void strfmt(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* A growable byte buffer, always NUL-terminated. */
struct sbuf {
	char *s;
	size_t len, cap;
};
void sbuf_add(struct sbuf *b, const void *data, size_t n);
void sbuf_adds(struct sbuf *b, const char *s);
void sbuf_addf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sbuf_reset(struct sbuf *b);
void sbuf_free(struct sbuf *b);

/* Time: microseconds. Timers use the monotonic clock only. */
int64_t now_mono_usec(void);
int64_t now_real_usec(void);
/* RFC 3339 with milliseconds in local time: 2026-11-22T13:54:01.123+01:00 */
void rfc3339_fmt(int64_t real_usec, char *buf, size_t len);
void rfc3339_now(char *buf, size_t len);

/* File descriptors. These return 0 or -errno. */
int fd_set_cloexec(int fd, bool on);
int fd_set_nonblock(int fd, bool on);
int write_all(int fd, const void *buf, size_t len); /* retries EINTR; blocking fds */
/* Read a whole file (at most max bytes, else -EFBIG) without following a final symlink. */
int read_file(const char *path, size_t max, char **buf, size_t *len);

/* Create dir (and missing parents) with mode, never following symlinks; an
 * existing dir must be owned by `owner` and not writable by others, else -EPERM. */
int mkdir_secure(const char *path, mode_t mode, uid_t owner);

#endif
