/* The manager: which hierarchies we use, where <base> lives in each, and
 * whether it is ours to write (system mode, or a delegated subtree). */
#include "cgroup/cg_internal.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "supervisor/log.h"
#include "supervisor/util.h"

/* One cgroup directory name: what a base or unit name may be. */
static bool name_ok(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > 200 || s[0] == '.')
		return false;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.@-") == len;
}

char *cg_unit_dirname(const char *unit) { return xasprintf("%s.service", unit); }

/* Controllers each layout puts in v1 hierarchies. On hybrid hosts v2 tracks
 * and kills and reports CPU time, so neither freezer nor cpuacct is needed. */
static unsigned v1_ctls_for(enum cg_layout layout)
{
	unsigned limits = CG_BIT(CG_CTL_MEMORY) | CG_BIT(CG_CTL_CPU) | CG_BIT(CG_CTL_IO) |
			  CG_BIT(CG_CTL_PIDS);
	if (layout == CG_LAYOUT_HYBRID)
		return limits;
	if (layout == CG_LAYOUT_V1)
		return limits | CG_BIT(CG_CTL_CPUACCT) | CG_BIT(CG_CTL_FREEZER) |
		       CG_BIT(CG_CTL_NAMED);
	return 0;
}

static int add_hier(struct cg_manager *m, bool v2, const char *mount)
{
	struct cg_hier *h;

	if (m->nh == CG_MAX_HIER)
		return -1;
	h = &m->h[m->nh];
	*h = (struct cg_hier){.v2 = v2, .mount = xstrdup(mount)};
	return (int)m->nh++;
}

/* v1 hierarchies by directory name; comounted controllers (cpu -> cpu,cpuacct)
 * resolve to the same directory and share one hierarchy. */
static void find_v1(struct cg_manager *m, bool forced)
{
	unsigned want = v1_ctls_for(m->layout);
	char *real[CG_MAX_HIER] = {0};

	for (int c = 0; c < CG_CTL__COUNT; c++) {
		char *p, *rp;
		struct stat st;
		int i;

		m->v1[c] = -1;
		if (!(want & CG_BIT(c)))
			continue;
		p = cg_path(m->fs_root, cg_ctl_v1_names[c]);
		rp = realpath(p, NULL);
		if (!rp || stat(rp, &st) < 0 || !S_ISDIR(st.st_mode) ||
		    (!forced && !cg_is_v1_mount(rp))) {
			free(p);
			free(rp);
			continue;
		}
		for (i = 0; i < (int)m->nh; i++)
			if (real[i] && streq(real[i], rp))
				break;
		if (i == (int)m->nh) {
			i = add_hier(m, false, p);
			if (i < 0) {
				free(p);
				free(rp);
				continue;
			}
			real[i] = rp;
			rp = NULL;
		}
		m->h[i].ctls |= CG_BIT(c);
		m->v1[c] = i;
		free(p);
		free(rp);
	}
	for (size_t i = 0; i < CG_MAX_HIER; i++)
		free(real[i]);
}

/* v1 tracking: a hierarchy every unit joins anyway comes first. */
static int v1_tracker(const struct cg_manager *m)
{
	static const enum cg_ctl order[] = {CG_CTL_PIDS, CG_CTL_MEMORY, CG_CTL_FREEZER,
					    CG_CTL_NAMED, CG_CTL_CPUACCT, CG_CTL_CPU, CG_CTL_IO};
	for (size_t i = 0; i < ARRAY_SIZE(order); i++)
		if (m->v1[order[i]] >= 0)
			return m->v1[order[i]];
	return -1;
}

/* name=systemd is only a fallback tracker; as found last it is the last
 * hierarchy, so leaving it out is dropping the tail. */
static void drop_unused_named(struct cg_manager *m)
{
	int i = m->v1[CG_CTL_NAMED];

	if (i < 0 || i == m->track || i != (int)m->nh - 1 || m->h[i].ctls != CG_BIT(CG_CTL_NAMED))
		return;
	free(m->h[i].mount);
	m->h[i] = (struct cg_hier){0};
	m->v1[CG_CTL_NAMED] = -1;
	m->nh--;
}

static char *read_proc_cgroup(const struct cg_manager *m)
{
	char *buf;
	size_t len;

	if (read_file(m->proc_cgroup, 1 << 20, &buf, &len) < 0)
		return NULL;
	return buf;
}

/* User mode: a subtree is delegated to us when we own it and may write its
 * cgroup.procs (move processes) and the directory itself (create children). */
static bool delegated(const struct cg_manager *m, const char *dir, char **why)
{
	struct stat st;
	char *procs;
	bool ok;

	if (stat(dir, &st) < 0) {
		*why = xasprintf("%s: %s", dir, strerror(errno));
		return false;
	}
	if (m->uid != 0 && st.st_uid != m->uid) {
		*why = xasprintf("%s is owned by uid %u", dir, (unsigned)st.st_uid);
		return false;
	}
	procs = cg_path(dir, "cgroup.procs");
	ok = access(dir, W_OK) == 0 && access(procs, W_OK) == 0;
	if (!ok)
		*why = xasprintf("%s is not writable", procs);
	free(procs);
	return ok;
}

/* systemd marks a cgroup it hands to a service (Delegate=yes) with this
 * xattr: the service is then the single writer of that subtree, and of
 * nothing above it. */
static bool delegated_by_systemd(const char *dir)
{
	char v[8];
	ssize_t n = getxattr(dir, "trusted.delegate", v, sizeof(v));

	if (n < 0)
		n = getxattr(dir, "user.delegate", v, sizeof(v));
	return n == 1 && v[0] == '1';
}

static bool nest_in_system_mode(const struct cg_manager *m, const char *self)
{
	char *path, *dir;
	bool nest;

	if (m->v2 < 0 || !self)
		return false;
	path = cg_self_path(self, true, 0);
	if (!path || streq(path, "/")) {
		free(path);
		return false;
	}
	dir = xasprintf("%s%s", m->h[m->v2].mount, path);
	nest = delegated_by_systemd(dir);
	free(dir);
	free(path);
	return nest;
}

static void setup_hier(struct cg_manager *m, struct cg_hier *h, const char *self)
{
	char *path = NULL, *why = NULL;
	int err;

	if (m->system_mode && !m->nested) {
		h->parent = xstrdup(h->mount);
	} else {
		path = self ? cg_self_path(self, h->v2, h->ctls) : NULL;
		if (!path) {
			h->why = xasprintf("our cgroup in %s is not known (%s)", h->mount,
					   m->proc_cgroup);
			return;
		}
		h->parent = streq(path, "/") ? xstrdup(h->mount)
					     : xasprintf("%s%s", h->mount, path);
		free(path);
		if (!m->system_mode && !delegated(m, h->parent, &why)) {
			h->why = why;
			return;
		}
	}
	h->base = cg_path(h->parent, m->base_name);
	err = cg_mkdir(h->base);
	if (err) {
		h->why = xasprintf("cannot create %s: %s", h->base, strerror(-err));
		log_debug("cgroup: %s", h->why);
		return;
	}
	h->usable = true;
	if (h->v2)
		h->ctls = cg_v2_available(h->parent);
}

static void tracking_off(struct cg_manager *m, const char *fmt, const char *detail)
{
	char *s = xasprintf(fmt, (unsigned)m->uid);
	m->why_off = detail ? xasprintf("%s: %s", s, detail) : xstrdup(s);
	free(s);
}

/* v2 forbids processes in a cgroup whose children use controllers (except at
 * the root), so sysg leaves the parent for a leaf of its own. On v1 there is
 * no such rule and sysg stays where it was started: its launcher keeps
 * accounting for it. */
static void move_self(struct cg_manager *m)
{
	struct cg_hier *h = &m->h[m->v2];
	char *leaf = cg_path(h->base, "supervisor");
	char *self = read_proc_cgroup(m), *path = self ? cg_self_path(self, true, 0) : NULL;
	int err = cg_mkdir(leaf);

	free(self);
	if (path) {
		m->orig_dir = cg_path(h->mount, path);
		free(path);
	}
	if (!err)
		err = cg_write(leaf, "cgroup.procs", "0");
	if (err) {
		m->move_why = xasprintf("cannot move sysg to %s: %s", leaf, strerror(-err));
		log_debug("cgroup: %s", m->move_why);
	} else
		m->moved_self = true;
	free(leaf);
}

static void open_event_source(struct cg_manager *m)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};

	m->epfd = epoll_create1(EPOLL_CLOEXEC);
	m->inofd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (m->epfd < 0 || m->inofd < 0 || epoll_ctl(m->epfd, EPOLL_CTL_ADD, m->inofd, &ev) < 0) {
		/* Events are a convenience (prompt emptiness and OOM notes); state is
		 * always read from the files. */
		log_warn("cgroup: no event notification");
		if (m->epfd >= 0)
			close(m->epfd);
		if (m->inofd >= 0)
			close(m->inofd);
		m->epfd = m->inofd = -1;
	}
}

struct cg_manager *cg_manager_new(const struct cg_manager_opts *o, char **why)
{
	struct cg_manager *m = xcalloc(1, sizeof(*m));
	char *v2_mount = NULL, *self;

	m->fs_root = xstrdup(o->fs_root ? o->fs_root : "/sys/fs/cgroup");
	m->base_name = xstrdup(o->base ? o->base : "sysg");
	m->proc_cgroup = xstrdup(o->proc_cgroup ? o->proc_cgroup : "/proc/self/cgroup");
	m->system_mode = o->system_mode;
	m->no_cgroup_kill = o->no_cgroup_kill;
	m->uid = geteuid();
	m->v2 = m->track = -1;
	m->epfd = m->inofd = -1;
	for (int c = 0; c < CG_CTL__COUNT; c++)
		m->v1[c] = -1;

	if (!name_ok(m->base_name)) {
		m->why_off = xasprintf("invalid cgroup base name \"%s\"", m->base_name);
		goto out;
	}
	if (o->force_layout) {
		m->layout = o->layout;
		if (m->layout == CG_LAYOUT_V2)
			v2_mount = xstrdup(m->fs_root);
		else if (m->layout == CG_LAYOUT_HYBRID)
			v2_mount = cg_path(m->fs_root, "unified");
	} else {
		cg_detect(m->fs_root, &m->layout, &v2_mount);
	}
	if (m->layout == CG_LAYOUT_NONE) {
		m->why_off = xasprintf("no cgroup hierarchy at %s", m->fs_root);
		goto out;
	}
	if (v2_mount)
		m->v2 = add_hier(m, true, v2_mount);
	find_v1(m, o->force_layout);
	m->track = m->layout == CG_LAYOUT_V1 ? v1_tracker(m) : m->v2;
	drop_unused_named(m);
	m->track_ops = m->layout == CG_LAYOUT_V1 ? &cg_v1_ops : &cg_v2_ops;
	m->ctl_ops = m->layout == CG_LAYOUT_V2 ? &cg_v2_ops : &cg_v1_ops;
	if (m->track < 0) {
		m->why_off = xasprintf("no cgroup v1 hierarchy to track services in at %s",
				       m->fs_root);
		goto out;
	}

	self = read_proc_cgroup(m);
	m->nested = m->system_mode && nest_in_system_mode(m, self);
	for (size_t i = 0; i < m->nh; i++)
		setup_hier(m, &m->h[i], self);
	free(self);

	m->tracking = m->h[m->track].usable;
	if (!m->tracking) {
		const char *what = m->system_mode ? "cannot use the cgroup hierarchy"
				   : m->h[m->track].v2 ? "no delegated cgroup v2 subtree for uid %u"
						       : "no delegated cgroup v1 hierarchy for uid %u";
		tracking_off(m, what, m->h[m->track].why);
	} else if (o->move_self && m->v2 >= 0) {
		move_self(m);
	}
	if (m->tracking)
		open_event_source(m);
out:
	free(v2_mount);
	if (!m->tracking && why)
		*why = xstrdup(m->why_off);
	return m;
}

void cg_manager_free(struct cg_manager *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nh; i++) {
		free(m->h[i].mount);
		free(m->h[i].parent);
		free(m->h[i].base);
		free(m->h[i].why);
	}
	free(m->fs_root);
	free(m->base_name);
	free(m->proc_cgroup);
	free(m->orig_dir);
	free(m->why_off);
	free(m->move_why);
	free(m->units);
	if (m->epfd >= 0)
		close(m->epfd);
	if (m->inofd >= 0)
		close(m->inofd);
	free(m);
}

enum cg_layout cg_manager_layout(const struct cg_manager *m) { return m->layout; }
bool cg_manager_tracking(const struct cg_manager *m) { return m->tracking; }

static bool is_unit_dir(const struct dirent *d, char **unit)
{
	size_t len = strlen(d->d_name);
	static const char suffix[] = ".service";

	if (d->d_type != DT_DIR && d->d_type != DT_UNKNOWN)
		return false;
	if (len <= sizeof(suffix) - 1 || !streq(d->d_name + len - (sizeof(suffix) - 1), suffix))
		return false;
	*unit = xstrndup(d->d_name, len - (sizeof(suffix) - 1));
	if (!name_ok(*unit)) {
		free(*unit);
		return false;
	}
	return true;
}

int cg_manager_scan(struct cg_manager *m, void (*found)(const char *unit, void *arg), void *arg)
{
	char **seen = NULL;
	size_t nseen = 0;
	int err = 0;

	for (size_t i = 0; i < m->nh; i++) {
		struct dirent *d;
		DIR *dir;

		if (!m->h[i].usable)
			continue;
		dir = opendir(m->h[i].base);
		if (!dir) {
			if (errno != ENOENT && !err)
				err = -errno;
			continue;
		}
		while ((d = readdir(dir))) {
			char *unit;
			size_t k;

			if (!is_unit_dir(d, &unit))
				continue;
			for (k = 0; k < nseen && !streq(seen[k], unit); k++)
				;
			if (k < nseen) {
				free(unit);
				continue;
			}
			seen = xreallocarray(seen, nseen + 1, sizeof(*seen));
			seen[nseen++] = unit;
			found(unit, arg);
		}
		closedir(dir);
	}
	for (size_t k = 0; k < nseen; k++)
		free(seen[k]);
	free(seen);
	return err;
}

int cg_manager_remove(struct cg_manager *m)
{
	int err = 0;

	/* Our own leaf can only go once we left it: back where we were started. */
	if (m->moved_self && m->orig_dir && cg_write(m->orig_dir, "cgroup.procs", "0") == 0)
		m->moved_self = false;

	for (size_t i = 0; i < m->nh; i++) {
		struct cg_hier *h = &m->h[i];
		char *leaf;
		int e;

		if (!h->base)
			continue;
		leaf = cg_path(h->base, "supervisor");
		e = cg_rmdir(leaf);
		free(leaf);
		if (!e)
			e = cg_rmdir(h->base);
		if (e && !err)
			err = e == -ENOTEMPTY ? -EBUSY : e;
	}
	return err;
}

bool cg_unit_name_ok(const char *unit) { return name_ok(unit); }
