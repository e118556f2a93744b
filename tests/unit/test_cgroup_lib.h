/* Helpers shared by the cgroup unit tests: files in a temp dir, and reading
 * them back. Each test binary includes this once. */
#ifndef SYSG_CG_TESTLIB_H
#define SYSG_CG_TESTLIB_H

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A formatted path in a ring of buffers: fine for arguments; a path kept
 * across calls goes in a LOCAL_PATH. */
#define LOCAL_PATH(name, ...)   \
	char name[4096];        \
	snprintf(name, sizeof(name), __VA_ARGS__)

static inline char *tpath(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline char *tpath(const char *fmt, ...)
{
	static char bufs[64][4096];
	static int next;
	char *b = bufs[next++ % 64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(b, 4096, fmt, ap);
	va_end(ap);
	return b;
}

static inline void put_file(const char *path, const char *content)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "put_file %s: %s\n", path, strerror(errno));
		abort();
	}
	fputs(content, f);
	fclose(f);
}

/* The file's content with one trailing newline removed, or "<missing>". */
static inline const char *get_file(const char *path)
{
	static char bufs[4][8192];
	static int next;
	char *b = bufs[next++ % 4];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return "<missing>";
	n = read(fd, b, 8191);
	close(fd);
	if (n < 0)
		n = 0;
	b[n] = '\0';
	if (n && b[n - 1] == '\n')
		b[n - 1] = '\0';
	return b;
}

static inline void mkdirs(const char *path)
{
	char tmp[4096];

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			mkdir(tmp, 0755);
			*p = '/';
		}
	mkdir(tmp, 0755);
}

static inline int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st, (void)flag, (void)f;
	return remove(p) < 0 && errno != ENOENT ? -1 : 0;
}

static inline void rm_rf(const char *path) { nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS); }

static inline int chown_nobody(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st, (void)flag, (void)f;
	return lchown(p, 65534, 65534);
}

static inline void chown_r_nobody(const char *path) { nftw(path, chown_nobody, 16, FTW_PHYS); }

static inline int rm_file(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st, (void)f;
	if (flag == FTW_F)
		unlink(p);
	return 0;
}

/* Leaves the directories of a fake tree and removes its files, so that rmdir
 * behaves as on cgroupfs (where control files do not count). */
static inline void clear_files(const char *path) { nftw(path, rm_file, 16, FTW_PHYS); }

static inline bool dir_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

#endif
