/* Private to cgroup/: the manager and unit structures, the backend vtable,
 * and small file helpers. Unit tests include it for the pure mapping
 * functions (cpu.shares, blkio weights, key parsing). */
#ifndef SYSG_CG_INTERNAL_H
#define SYSG_CG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cgroup/cgroup.h"

/* Controllers we use. v1 mounts them as <root>/<v1 name>; v2 names them in
 * cgroup.controllers (NULL where v2 has no such controller). */
enum cg_ctl {
	CG_CTL_MEMORY, CG_CTL_CPU, CG_CTL_CPUACCT, CG_CTL_IO, CG_CTL_PIDS, CG_CTL_FREEZER,
	CG_CTL_NAMED, /* name=systemd: a v1 hierarchy without controllers, for tracking only */
	CG_CTL__COUNT
};
#define CG_BIT(c) (1u << (c))
extern const char *const cg_ctl_v1_names[CG_CTL__COUNT];
extern const char *const cg_ctl_v2_names[CG_CTL__COUNT];

/* The limits of struct cgroup_limits, in the order they are applied. */
enum cg_limit {
	CG_LIM_MEMORY_MAX, CG_LIM_MEMORY_HIGH, CG_LIM_MEMORY_SWAP_MAX, CG_LIM_CPU_MAX,
	CG_LIM_CPU_WEIGHT, CG_LIM_PIDS_MAX, CG_LIM_IO_WEIGHT, CG_LIM__COUNT
};
struct cg_limit_desc {
	const char *name;    /* the service file's key */
	enum cg_ctl ctl;
	const char *v2_file;
	const char *v1_file; /* the first one written */
};
extern const struct cg_limit_desc cg_limits[CG_LIM__COUNT];
bool cg_limit_is_set(const struct cgroup_limits *lim, enum cg_limit l);
/* Controllers `lim` needs (bit per enum cg_ctl), and the first limit needing `ctl`. */
unsigned cg_limits_ctls(const struct cgroup_limits *lim);
const char *cg_limit_for_ctl(const struct cgroup_limits *lim, enum cg_ctl ctl);

/* Value mappings for v1 (documented in docs/cgroups.md). */
uint64_t cg_v1_cpu_shares(uint64_t cpu_weight);   /* w * 1024 / 100 */
uint64_t cg_v1_blkio_weight(uint64_t io_weight);  /* 1..100..10000 -> 10..500..1000 */
uint64_t cg_v1_bfq_weight(uint64_t io_weight);    /* 1..100..10000 -> 1..100..1000 */
/* Decimal, or "max" for SYSG_UNLIMITED (v2); v1 spells unlimited "-1". */
void cg_fmt_v2(char *buf, size_t len, uint64_t v);
void cg_fmt_v1(char *buf, size_t len, uint64_t v);
/* Write limit l's value to dir/file, or (set false) reset it to the kernel's
 * default where the file exists: a reused cgroup keeps old values. Errors name
 * the limit; a missing file is -EOPNOTSUPP. */
int cg_put(const char *dir, enum cg_limit l, const char *file, const char *val, bool set,
	   char **why);

#define CG_MAX_HIER 8

struct cg_hier {
	bool v2;
	unsigned ctls;   /* v1: controllers mounted here; v2: in the parent's cgroup.controllers */
	char *mount;     /* the hierarchy's mount point */
	char *parent;    /* the directory <base> lives in */
	char *base;      /* parent/<base> */
	bool usable;     /* <base> exists and is ours to write */
	char *why;       /* why not usable */
};

struct cg_ops;

struct cg_manager {
	enum cg_layout layout;
	char *fs_root, *base_name, *proc_cgroup;
	bool system_mode, no_cgroup_kill;
	bool nested;             /* system mode below a cgroup systemd delegated to us */
	uid_t uid;
	struct cg_hier h[CG_MAX_HIER];
	size_t nh;
	int v2;                  /* index into h of the v2 hierarchy, or -1 */
	int v1[CG_CTL__COUNT];   /* index into h per v1 controller, or -1 */
	int track;               /* index into h of the tracking hierarchy, or -1 */
	const struct cg_ops *track_ops, *ctl_ops;
	bool tracking;
	char *why_off;           /* why tracking is off */
	char *move_why;          /* why sysg could not move itself, or NULL */
	bool moved_self;
	char *orig_dir;          /* the v2 cgroup sysg was started in (to go back at exit) */
	/* One event source for every unit: an inotify instance (the kernel allows
	 * 128 per user, so never one per service) and the v1 OOM eventfds, all
	 * behind one epoll fd the supervisor watches. */
	int epfd, inofd;
	struct cg_unit **units;  /* open units, to map events back */
	size_t nunits, cap_units;
};

struct cg_unit {
	struct cg_manager *m;
	char *name;
	char *dir[CG_MAX_HIER];  /* this unit's directory per hierarchy (NULL: none) */
	bool joined[CG_MAX_HIER]; /* the child joins it */
	unsigned ctls;           /* controllers in effect (limits and accounting) */
	int wd[2];               /* inotify watches: cgroup.events, memory.events (v2) */
	bool oom_watch;          /* a memory limit is set: watch for OOM kills (v1 eventfd) */
	int oom_efd;             /* v1 OOM eventfd, in the manager's epoll set */
	uint64_t oom_notes;      /* v1 eventfd notifications, when oom_control has no count */
	bool pending;            /* an event arrived (cg_manager_dispatch) */
	void *data;
};

/* What the service needs from a backend. */
struct cg_need {
	const struct cgroup_limits *lim; /* never NULL here */
	unsigned need;  /* controllers the limits need: failing to get one is an error */
	unsigned want;  /* accounting controllers: best effort */
};

/* One backend per cgroup version. On hybrid hosts the v2 backend has the
 * tracking role (its hierarchy holds, lists and kills the processes) and the
 * v1 backend the controller role (limits and stats); each only touches its
 * own hierarchies. On pure hosts one backend has both roles. */
struct cg_ops {
	const char *name;
	/* Create the unit's directories and enable what `need` asks for. */
	int (*prepare)(struct cg_unit *u, const struct cg_need *n, char **why);
	int (*set_limits)(struct cg_unit *u, const struct cgroup_limits *lim, char **why);
	/* Parent half of attach: open the fds the child needs (0 or -errno). */
	int (*attach)(const struct cg_unit *u, struct cg_child *c, size_t *nfds);
	/* Fill what this backend knows of st (fields still UINT64_MAX). */
	void (*stats)(struct cg_unit *u, struct cg_stats *st);
	/* Tracking role. */
	int (*kill)(struct cg_unit *u, int sig);
	int (*pids)(struct cg_unit *u, pid_t **pids, size_t *n);
	bool (*populated)(struct cg_unit *u);
	/* Register the unit's events with the manager (emptiness, OOM kills). */
	int (*watch)(struct cg_unit *u);
	uint64_t (*oom_kills)(struct cg_unit *u);
	/* rmdir the unit's directory in each of this backend's hierarchies. */
	int (*remove)(struct cg_unit *u);
};
extern const struct cg_ops cg_v1_ops, cg_v2_ops;
/* The controllers dir/cgroup.controllers lists (bit per enum cg_ctl). */
unsigned cg_v2_available(const char *dir);

static inline bool cg_is_tracker(const struct cg_unit *u, const struct cg_ops *ops)
{
	return u->m->track_ops == ops;
}
static inline bool cg_is_ctl(const struct cg_unit *u, const struct cg_ops *ops)
{
	return u->m->ctl_ops == ops;
}

/* detect.c */
/* The layout and, for v2 and hybrid, where the v2 hierarchy is mounted. */
void cg_detect(const char *root, enum cg_layout *layout, char **v2_mount);
/* Our cgroup path for a hierarchy from a /proc/self/cgroup text: v2 (ctls 0
 * and v2), else a v1 line listing one of ctls. Malloc'd, or NULL. */
char *cg_self_path(const char *text, bool v2, unsigned ctls);
bool cg_kernel_at_least(int major, int minor);
bool cg_is_v1_mount(const char *path);
bool cg_unit_name_ok(const char *unit);
/* The unit's directory name: "<unit>.service". */
char *cg_unit_dirname(const char *unit);

/* fs.c: small file helpers. Paths are dir + "/" + file. Return 0 or -errno. */
int cg_write(const char *dir, const char *file, const char *val);
int cg_read(const char *dir, const char *file, char **buf);
int cg_read_u64(const char *dir, const char *file, uint64_t *v); /* "max" -> UINT64_MAX */
int cg_read_key(const char *dir, const char *file, const char *key, uint64_t *v);
int cg_parse_key(const char *text, const char *key, uint64_t *v); /* "key value" lines */
int cg_parse_pids(const char *text, pid_t **pids, size_t *n);
int cg_read_pids(const char *dir, pid_t **pids, size_t *n);
bool cg_exists(const char *dir, const char *file);
bool cg_word_in(const char *list, const char *word); /* space-separated, '+' prefix ignored */
int cg_mkdir(const char *path);                        /* 0755; existing is fine */
int cg_rmdir(const char *path);                        /* missing is fine */
char *cg_path(const char *dir, const char *name);
/* dir/cgroup.procs opened for writing, or -errno. */
int cg_open_procs(const char *dir);
/* An error for the user: "<limit>: <what>" or a plain line. Always returns err. */
int cg_fail(char **why, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void cg_sleep_usec(long usec);

/* kill.c: freeze (or not), SIGKILL every listed pid, thaw, until empty or a bound. */
int cg_kill_loop(struct cg_unit *u, const char *procs_dir, int (*freeze)(struct cg_unit *, bool));
int cg_signal_all(const char *procs_dir, int sig);

#endif
