/* Small helpers over cgroupfs files: whole-value writes, keyed reads, pid lists. */
#include "cgroup/cg_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "supervisor/util.h"

/* cgroupfs files are small, except cgroup.procs of a crowded cgroup. */
#define CG_READ_MAX (16u << 20)

char *cg_path(const char *dir, const char *name) { return xasprintf("%s/%s", dir, name); }

int cg_open_procs(const char *dir)
{
	char *p = cg_path(dir, "cgroup.procs");
	int fd = open(p, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);

	free(p);
	return fd < 0 ? -errno : fd;
}

int cg_write(const char *dir, const char *file, const char *val)
{
	char *path = cg_path(dir, file);
	size_t len = strlen(val);
	ssize_t n;
	int fd, err = 0;

	/* One write(2) per value: the kernel parses each write as a whole. No
	 * O_CREAT, so a missing controller file is ENOENT, never a new file. */
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	free(path);
	if (fd < 0)
		return -errno;
	do
		n = write(fd, val, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		err = -errno;
	else if ((size_t)n != len)
		err = -EIO;
	close(fd);
	return err;
}

int cg_read(const char *dir, const char *file, char **buf)
{
	char *path = cg_path(dir, file);
	size_t len;
	int err = read_file(path, CG_READ_MAX, buf, &len);
	free(path);
	return err;
}

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	if (str_has_prefix(s, "max")) {
		*v = UINT64_MAX;
		return 0;
	}
	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	unsigned long long x = strtoull(s, &end, 10);
	if (errno)
		return -errno;
	if (*end && *end != '\n' && *end != ' ')
		return -EINVAL;
	*v = x;
	return 0;
}

int cg_read_u64(const char *dir, const char *file, uint64_t *v)
{
	char *buf;
	int err = cg_read(dir, file, &buf);
	if (err)
		return err;
	err = parse_u64(buf, v);
	free(buf);
	return err;
}

int cg_parse_key(const char *text, const char *key, uint64_t *v)
{
	size_t klen = strlen(key);
	const char *p = text;

	while (p && *p) {
		if (strncmp(p, key, klen) == 0 && (p[klen] == ' ' || p[klen] == '\t'))
			return parse_u64(p + klen, v);
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return -ENOENT;
}

int cg_read_key(const char *dir, const char *file, const char *key, uint64_t *v)
{
	char *buf;
	int err = cg_read(dir, file, &buf);
	if (err)
		return err;
	err = cg_parse_key(buf, key, v);
	free(buf);
	return err;
}

int cg_parse_pids(const char *text, pid_t **pidsp, size_t *np)
{
	pid_t *pids = NULL;
	size_t n = 0, cap = 0;
	const char *p = text;

	while (*p) {
		char *end;
		long v;

		if (*p == '\n') {
			p++;
			continue;
		}
		errno = 0;
		v = strtol(p, &end, 10);
		if (errno || end == p || v <= 0 || v > INT32_MAX || (*end && *end != '\n')) {
			free(pids);
			return -EINVAL;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			pids = xreallocarray(pids, cap, sizeof(*pids));
		}
		pids[n++] = (pid_t)v;
		p = end;
	}
	*pidsp = pids;
	*np = n;
	return 0;
}

int cg_read_pids(const char *dir, pid_t **pids, size_t *n)
{
	char *buf;
	int err = cg_read(dir, "cgroup.procs", &buf);
	if (err)
		return err;
	err = cg_parse_pids(buf, pids, n);
	free(buf);
	return err;
}

bool cg_exists(const char *dir, const char *file)
{
	char *path = cg_path(dir, file);
	bool ok = access(path, F_OK) == 0;
	free(path);
	return ok;
}

bool cg_word_in(const char *list, const char *word)
{
	size_t wlen = strlen(word);
	const char *p = list;

	while (*p) {
		size_t len;

		p += strspn(p, " \t\n+");
		len = strcspn(p, " \t\n");
		if (len == wlen && strncmp(p, word, len) == 0)
			return true;
		p += len;
	}
	return false;
}

int cg_mkdir(const char *path)
{
	struct stat st;

	if (mkdir(path, 0755) == 0)
		return 0;
	if (errno != EEXIST)
		return -errno;
	/* Never reached through a symlink planted in a delegated subtree. */
	if (lstat(path, &st) < 0)
		return -errno;
	return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

int cg_rmdir(const char *path)
{
	if (rmdir(path) == 0 || errno == ENOENT)
		return 0;
	return -errno;
}

int cg_fail(char **why, int err, const char *fmt, ...)
{
	va_list ap;
	char *s;

	if (!why)
		return err;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = xstrdup("cgroup error");
	va_end(ap);
	free(*why);
	*why = s;
	return err;
}

void cg_sleep_usec(long usec)
{
	struct timespec ts = {usec / 1000000, (usec % 1000000) * 1000};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}
