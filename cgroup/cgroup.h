/* cgroups: one cgroup per service for tracking, killing, limits and stats.
 *
 * Layouts (detected with statfs on <root> and <root>/unified):
 *   v2      — everything in the unified hierarchy;
 *   hybrid  — the v2 hierarchy (<root>/unified) tracks and kills, the v1
 *             controllers (<root>/memory, /cpu, /pids, /blkio) enforce limits;
 *   v1      — v1 controllers only (tracking through the pids or name=systemd
 *             hierarchy);
 *   none    — no usable cgroup: the supervisor falls back to process groups.
 *
 * The tree: <hierarchy>/<base>/supervisor holds sysg itself, and
 * <hierarchy>/<base>/<unit>.service one service each (the suffix keeps a
 * service called "supervisor" apart from sysg's own leaf). In system mode
 * <base> is at the top of each hierarchy; in user mode it is below the cgroup
 * sysg was started in, if that is writable (delegated). See docs/cgroups.md.
 *
 * Two backends implement struct cg_ops (cgroup/cg_internal.h): v2 and v1. On
 * hybrid hosts v2 has the tracking role and v1 the controller role.
 *
 * Everything that can fail returns 0 or -errno; `why` (when non-NULL) receives
 * a malloc'd one-line reason for the user, naming the limit or file involved.
 * The child half (cg_child_attach) is async-signal-safe: no malloc, no stdio.
 */
#ifndef SYSG_CGROUP_H
#define SYSG_CGROUP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "config/config.h"

enum cg_layout { CG_LAYOUT_NONE, CG_LAYOUT_V1, CG_LAYOUT_HYBRID, CG_LAYOUT_V2 };
extern const char *const cg_layout_names[4];

struct cg_manager_opts {
	const char *fs_root;   /* "/sys/fs/cgroup"; a temp dir in unit tests */
	const char *base;      /* "sysg", or "sysg-<hash>" for a non-default runtime dir */
	bool system_mode;      /* <base> at the top of each hierarchy (or below our cgroup if
				* systemd delegated it: xattr trusted.delegate), else below
				* our own cgroup when it is ours (user mode) */
	bool move_self;        /* move sysg itself to <base>/supervisor (v2); false in unit tests */

	/* Test seams; zero means the real thing. */
	bool force_layout;     /* trust `layout` instead of statfs (a temp dir is tmpfs) */
	enum cg_layout layout;
	const char *proc_cgroup;  /* instead of /proc/self/cgroup (user mode lookup) */
	bool no_cgroup_kill;   /* use the freeze-and-kill fallback even where cgroup.kill exists */
};

struct cg_manager;
struct cg_unit;

/* Never fails hard: with no usable cgroup the manager reports tracking off. */
struct cg_manager *cg_manager_new(const struct cg_manager_opts *opts, char **why);
void cg_manager_free(struct cg_manager *m);
enum cg_layout cg_manager_layout(const struct cg_manager *m);
/* Whether every service gets a cgroup (tracking and kill); false = process groups only. */
bool cg_manager_tracking(const struct cg_manager *m);
/* One line per feature for `sysg isolation check`: "✓ cgroup v2 (unified) tracking" / "✗ ... reason". */
void cg_manager_report(const struct cg_manager *m, void (*line)(bool ok, const char *what,
							     const char *why, void *arg),
		       void *arg);

/* Leftover service cgroups of an earlier run of this supervisor (after a crash):
 * every <base>/<unit>.service in any hierarchy, each unit reported once. The
 * supervisor opens them (cg_unit_open with lim NULL), kills or adopts what is
 * inside, and removes the empty ones. */
int cg_manager_scan(struct cg_manager *m, void (*found)(const char *unit, void *arg), void *arg);
/* Remove <base>/supervisor and <base> in every hierarchy where they are empty
 * (at shutdown, and by tests). -EBUSY if something is still in use. */
int cg_manager_remove(struct cg_manager *m);

/* Create (or reuse) the service's cgroup and apply its limits (lim may be
 * NULL: no limits). Limits a reused cgroup had but `lim` does not set are reset
 * to the kernel defaults. A limit the host cannot enforce is an error
 * (-EOPNOTSUPP, or the -errno of the failed write) naming it in *why: fail
 * closed. With tracking off: -EOPNOTSUPP naming the first limit if any is set,
 * else -ENODEV (the supervisor falls back to process groups).
 * The unit keeps a pointer to m: free units before their manager. */
int cg_unit_open(struct cg_manager *m, const char *unit, const struct cgroup_limits *lim,
		 struct cg_unit **out, char **why);
void cg_unit_free(struct cg_unit *u);   /* closes fds; does not remove the cgroup */
int cg_unit_remove(struct cg_unit *u);  /* rmdir every hierarchy's dir once empty (-EBUSY if not) */
const char *cg_unit_path(const struct cg_unit *u); /* the tracking cgroup's directory */

/* What the child needs to be in its cgroup before exec. The fds belong to the
 * unit (O_CLOEXEC, valid until cg_unit_free): the child must call
 * cg_child_attach before it closes inherited fds (close_range) or keep these. */
#define CG_CHILD_MAX_FDS 8
struct cg_child {
	int clone_fd;      /* v2 cgroup dir for clone3(CLONE_INTO_CGROUP), or -1 */
	int procs_fds[CG_CHILD_MAX_FDS]; /* cgroup.procs files the child writes "0" to, -1 terminated */
};
/* Opens the fds for one spawn (the caller closes them with cg_child_close
 * once the child is cloned: a supervisor keeps no per-service fds, since each
 * is copied into every child). 0 or -errno. */
int cg_unit_child(const struct cg_unit *u, struct cg_child *c);
void cg_child_close(struct cg_child *c);
int cg_child_attach(const struct cg_child *c); /* child side; async-signal-safe; 0 or -errno */

/* Signals every process in the cgroup. SIGKILL uses cgroup.kill when the
 * kernel has it; else it freezes (v2 cgroup.freeze or the v1 freezer), kills
 * every listed pid and thaws, in rounds until the cgroup is empty or a bound
 * (about a second) passes: then -EBUSY. Other signals go to every listed pid. */
int cg_unit_kill(struct cg_unit *u, int sig);
bool cg_unit_populated(struct cg_unit *u);
int cg_unit_pids(struct cg_unit *u, pid_t **pids, size_t *n);
bool cg_unit_contains(struct cg_unit *u, pid_t pid);

/* One fd for the whole manager that becomes readable when a unit's cgroup
 * empties or an OOM kill happens in it (one inotify instance on the v2
 * cgroup.events/memory.events files, and a v1 memory.oom_control eventfd for
 * units with a memory limit, behind one epoll fd), or -1. When it fires,
 * cg_manager_dispatch() drains it and calls fn for each unit concerned (fn
 * may free the unit); read the state with cg_unit_events(). Pure v1 has no
 * emptiness notification. */
int cg_manager_event_fd(const struct cg_manager *m);
void cg_manager_dispatch(struct cg_manager *m, void (*fn)(struct cg_unit *u, void *arg),
			 void *arg);
void cg_unit_set_data(struct cg_unit *u, void *data);
void *cg_unit_data(const struct cg_unit *u);
struct cg_events {
	bool populated;
	uint64_t oom_kills;  /* total since the cgroup was created */
};
int cg_unit_events(struct cg_unit *u, struct cg_events *ev);

struct cg_stats {
	uint64_t memory_current, memory_peak; /* bytes; UINT64_MAX if unknown */
	uint64_t cpu_usec;                    /* user + system */
	uint64_t pids_current;
};
int cg_unit_stats(struct cg_unit *u, struct cg_stats *st);

#endif
