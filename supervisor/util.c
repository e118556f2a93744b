#include "supervisor/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void oom(void)
{
	static const char msg[] = "sysg: out of memory\n";
	(void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom();
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		oom();
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		oom();
	return p;
}

void *xreallocarray(void *p, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		oom();
	return xrealloc(p, n * size);
}

char *xstrdup(const char *s)
{
	char *p = strdup(s);
	if (!p)
		oom();
	return p;
}

char *xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);
	if (!p)
		oom();
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		oom();
	va_end(ap);
	return s;
}

bool str_has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

void strfmt(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

void sbuf_add(struct sbuf *b, const void *data, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;
		while (cap < b->len + n + 1)
			cap *= 2;
		b->s = xrealloc(b->s, cap);
		b->cap = cap;
	}
	if (n)
		memcpy(b->s + b->len, data, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void sbuf_adds(struct sbuf *b, const char *s) { sbuf_add(b, s, strlen(s)); }

void sbuf_addf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	char small[256];
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(small)) {
		sbuf_add(b, small, n);
		return;
	}
	sbuf_add(b, NULL, 0);
	if (b->len + n + 1 > b->cap) {
		b->cap = b->len + n + 1;
		b->s = xrealloc(b->s, b->cap);
	}
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, n + 1, fmt, ap);
	va_end(ap);
	b->len += n;
}

void sbuf_reset(struct sbuf *b)
{
	b->len = 0;
	if (b->s)
		b->s[0] = '\0';
}

void sbuf_free(struct sbuf *b)
{
	free(b->s);
	*b = (struct sbuf){0};
}

static int64_t clock_usec(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t now_mono_usec(void) { return clock_usec(CLOCK_MONOTONIC); }
int64_t now_real_usec(void) { return clock_usec(CLOCK_REALTIME); }

void rfc3339_fmt(int64_t real_usec, char *buf, size_t len)
{
	time_t t = real_usec / 1000000;
	struct tm tm;
	char base[32], zone[8];

	localtime_r(&t, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	strftime(zone, sizeof(zone), "%z", &tm); /* +0100 -> +01:00 */
	snprintf(buf, len, "%s.%03d%.3s:%.2s", base, (int)(real_usec / 1000 % 1000), zone,
		 zone + 3);
}

void rfc3339_now(char *buf, size_t len) { rfc3339_fmt(now_real_usec(), buf, len); }

int fd_set_cloexec(int fd, bool on)
{
	int flags = fcntl(fd, F_GETFD);
	if (flags < 0 || fcntl(fd, F_SETFD, on ? flags | FD_CLOEXEC : flags & ~FD_CLOEXEC) < 0)
		return -errno;
	return 0;
}

int fd_set_nonblock(int fd, bool on)
{
	int flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= n;
	}
	return 0;
}

int read_file(const char *path, size_t max, char **bufp, size_t *lenp)
{
	struct sbuf b = {0};
	char chunk[65536];
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int e = -errno;
			close(fd);
			sbuf_free(&b);
			return e;
		}
		if (n == 0)
			break;
		if (b.len + n > max) {
			close(fd);
			sbuf_free(&b);
			return -EFBIG;
		}
		sbuf_add(&b, chunk, n);
	}
	close(fd);
	sbuf_add(&b, NULL, 0);
	*bufp = b.s;
	*lenp = b.len;
	return 0;
}

static int check_dir(int fd, uid_t owner)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	if (st.st_uid != owner || (st.st_mode & S_IWOTH))
		return -EPERM;
	return 0;
}

int mkdir_secure(const char *path, mode_t mode, uid_t owner)
{
	char *copy = xstrdup(path), *p = copy;
	int dirfd = open(*p == '/' ? "/" : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int err = 0;

	if (dirfd < 0) {
		free(copy);
		return -errno;
	}
	while (*p == '/')
		p++;
	while (*p) {
		char *slash = strchr(p, '/');
		bool last;
		int fd;

		if (slash)
			*slash = '\0';
		last = !slash || !slash[1 + strspn(slash + 1, "/")];
		bool created = mkdirat(dirfd, p, mode) == 0;
		if (!created && errno != EEXIST) {
			err = -errno;
			break;
		}
		/* Existing parents are the admin's layout (/var/run -> /run); what we
		 * create and the directory itself are never reached through a symlink. */
		fd = openat(dirfd, p, O_RDONLY | O_DIRECTORY | O_CLOEXEC |
					      (created || last ? O_NOFOLLOW : 0));
		if (fd < 0) {
			err = errno == ELOOP ? -ELOOP : -errno;
			break;
		}
		close(dirfd);
		dirfd = fd;
		if (last) {
			err = check_dir(dirfd, owner);
			break;
		}
		p = slash + 1;
		while (*p == '/')
			p++;
	}
	close(dirfd);
	free(copy);
	return err;
}
