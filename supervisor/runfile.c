#include "supervisor/runfile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "supervisor/util.h"

struct proc_stat {
	char state;
	int ppid, pgrp, session;
	unsigned long long starttime;
};

static int proc_stat_read(pid_t pid, struct proc_stat *st)
{
	char path[64], buf[1024], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	/* The command name may hold spaces and parentheses: fields start after the last ')'. */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%c %d %d %d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d "
				"%*d %*d %*d %*d %llu", &st->state, &st->ppid, &st->pgrp,
			 &st->session, &st->starttime) != 5)
		return -EIO;
	return 0;
}

unsigned long long proc_starttime(pid_t pid)
{
	struct proc_stat st;
	return proc_stat_read(pid, &st) < 0 ? 0 : st.starttime;
}

pid_t proc_ppid(pid_t pid)
{
	struct proc_stat st;
	return proc_stat_read(pid, &st) < 0 ? 0 : st.ppid;
}

pid_t proc_oldest_in_session(pid_t sid)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	unsigned long long best_start = 0;
	pid_t best = 0;

	while (d && (de = readdir(d))) {
		struct proc_stat st;
		pid_t pid = atoi(de->d_name);
		if (pid <= 0 || proc_stat_read(pid, &st) < 0 || st.session != sid || st.state == 'Z')
			continue;
		if (!best || st.starttime < best_start) {
			best = pid;
			best_start = st.starttime;
		}
	}
	if (d)
		closedir(d);
	return best;
}

void runfile_write(int dirfd, const char *unit, pid_t pid)
{
	char tmp[160], line[64];
	int fd, n;

	snprintf(tmp, sizeof(tmp), ".%s.tmp", unit);
	n = snprintf(line, sizeof(line), "%d %llu\n", (int)pid, proc_starttime(pid));
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return;
	if (write_all(fd, line, n) == 0)
		renameat(dirfd, tmp, dirfd, unit);
	close(fd);
}

void runfile_remove(int dirfd, const char *unit) { unlinkat(dirfd, unit, 0); }

size_t runfile_scan(int dirfd, struct runfile_entry **out)
{
	int fd = dup(dirfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	size_t n = 0;

	*out = NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	rewinddir(d);
	while ((de = readdir(d))) {
		char buf[64] = "";
		unsigned long long start;
		int pid = 0, f, pidfd;
		ssize_t len;

		if (de->d_name[0] == '.' || strlen(de->d_name) >= sizeof((*out)->unit))
			continue;
		f = openat(dirfd, de->d_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (f < 0)
			continue;
		len = read(f, buf, sizeof(buf) - 1);
		close(f);
		if (len <= 0 || sscanf(buf, "%d %llu", &pid, &start) != 2 || pid <= 1) {
			unlinkat(dirfd, de->d_name, 0);
			continue;
		}
		/* Open the pidfd first, then check the start time: the pidfd then
		 * provably refers to the process we recorded. */
		pidfd = syscall(SYS_pidfd_open, pid, 0);
		if (pidfd < 0 || proc_starttime(pid) != start) {
			if (pidfd >= 0)
				close(pidfd);
			unlinkat(dirfd, de->d_name, 0);
			continue;
		}
		*out = xreallocarray(*out, n + 1, sizeof(**out));
		strfmt((*out)[n].unit, sizeof((*out)[n].unit), "%s", de->d_name);
		(*out)[n].pid = pid;
		(*out)[n].pidfd = pidfd;
		n++;
	}
	closedir(d);
	return n;
}
