/* Where sysg keeps things (SPEC §1). */
#ifndef SYSG_PATHS_H
#define SYSG_PATHS_H

#include <stdbool.h>

struct sysg_paths {
	bool system_mode;
	char *runtime_dir;   /* control socket, notify sockets, lock */
	char *state_dir;     /* state file, leases, cron history */
	char *log_dir;       /* <service>.log */
	char *control_sock;  /* <runtime_dir>/control.sock */
	char *instance;      /* "sysg", or "sysg-<hash>" for a non-default runtime dir (cgroup base) */
};

/* Fills *p from the mode and SYSG_RUNTIME_DIR / SYSG_STATE_DIR / XDG_*; no I/O. */
void paths_init(struct sysg_paths *p, bool system_mode);
/* Creates the directories (0700; logs 0750 in system mode), refusing symlinks
 * and directories owned by someone else. 0 or -errno with *what naming the path. */
int paths_create(const struct sysg_paths *p, const char **what);
void paths_free(struct sysg_paths *p);
/* The default service file of the mode, or NULL if none exists. */
char *paths_default_config(bool system_mode);

#endif
