/* One small file per running service in <state>/run/<unit>: "pid starttime".
 * A supervisor that was killed leaves them behind; the next one adopts the
 * processes that are still the same processes (pid and start time match), so
 * it never starts a duplicate and never signals a stranger that reused a pid. */
#ifndef SYSG_RUNFILE_H
#define SYSG_RUNFILE_H

#include <sys/types.h>

struct runfile_entry {
	char unit[136];
	pid_t pid;
	int pidfd;   /* open on the verified process */
};

void runfile_write(int dirfd, const char *unit, pid_t pid);
void runfile_remove(int dirfd, const char *unit);
/* Entries whose process still lives (stale files are removed). */
size_t runfile_scan(int dirfd, struct runfile_entry **out);
/* Field 22 of /proc/PID/stat (clock ticks since boot), 0 if gone. */
unsigned long long proc_starttime(pid_t pid);
pid_t proc_ppid(pid_t pid);
/* The longest-running process in session sid (not a zombie), or 0. */
pid_t proc_oldest_in_session(pid_t sid);

#endif
