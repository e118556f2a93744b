/* cg_manager_report: what `sysg isolation check` prints about cgroups, one
 * line per feature, each with its reason. */
#include "cgroup/cg_internal.h"

#include <stdlib.h>

#include "supervisor/util.h"

typedef void (*report_fn)(bool ok, const char *what, const char *why, void *arg);

static void emit(report_fn line, void *arg, bool ok, const char *what, char *why)
{
	line(ok, what, why, arg);
	free(why);
}

static char *layout_text(const struct cg_manager *m)
{
	struct sbuf b = {0};

	sbuf_addf(&b, "%s", cg_layout_names[m->layout]);
	if (m->v2 >= 0)
		sbuf_addf(&b, ", v2 at %s", m->h[m->v2].mount);
	for (size_t i = 0; i < m->nh; i++) {
		if (m->h[i].v2)
			continue;
		sbuf_addf(&b, ", v1 ");
		for (int c = 0, first = 1; c < CG_CTL__COUNT; c++)
			if (m->h[i].ctls & CG_BIT(c)) {
				sbuf_addf(&b, "%s%s%s", first ? "" : ",",
					  c == CG_CTL_NAMED ? "name=" : "", cg_ctl_v1_names[c]);
				first = 0;
			}
		sbuf_addf(&b, " at %s", m->h[i].mount);
	}
	return b.s;
}

static char *kill_text(const struct cg_manager *m)
{
	const struct cg_hier *t = &m->h[m->track];

	if (t->v2 && !m->no_cgroup_kill && cg_exists(t->base, "cgroup.kill"))
		return xasprintf("cgroup.kill in %s", t->base);
	if (t->v2 && cg_exists(t->base, "cgroup.freeze"))
		return xstrdup("no cgroup.kill (kernel < 5.14): freeze, SIGKILL every pid, thaw");
	if (!t->v2 && m->v1[CG_CTL_FREEZER] >= 0 && m->h[m->v1[CG_CTL_FREEZER]].usable)
		return xstrdup("v1 freezer: freeze, SIGKILL every pid, thaw");
	return xstrdup("no freezer: SIGKILL every pid in rounds (a fork bomb may need several)");
}

/* Whether a limit can be enforced, as far as it can be told without a
 * service: the controller (and for v1 the exact file) is there and writable. */
static bool limit_ok(const struct cg_manager *m, enum cg_limit l, char **why)
{
	enum cg_ctl c = cg_limits[l].ctl;
	const struct cg_hier *h;

	if (!m->tracking) {
		*why = xstrdup(m->why_off);
		return false;
	}
	if (m->layout == CG_LAYOUT_V2) {
		h = &m->h[m->v2];
		if (!(h->ctls & CG_BIT(c))) {
			*why = xasprintf("the %s controller is not available in %s",
					 cg_ctl_v2_names[c], h->parent);
			return false;
		}
		*why = xasprintf("%s (%s controller)", cg_limits[l].v2_file, cg_ctl_v2_names[c]);
		return true;
	}
	if (m->v1[c] < 0) {
		*why = xasprintf("no cgroup v1 %s hierarchy at %s/%s", cg_ctl_v1_names[c],
				 m->fs_root, cg_ctl_v1_names[c]);
		return false;
	}
	h = &m->h[m->v1[c]];
	if (!h->usable) {
		*why = xstrdup(h->why);
		return false;
	}
	if (l == CG_LIM_IO_WEIGHT && !cg_exists(h->base, "blkio.weight")) {
		if (cg_exists(h->base, "blkio.bfq.weight")) {
			*why = xstrdup("v1 blkio.bfq.weight");
			return true;
		}
		*why = xasprintf("neither blkio.weight nor blkio.bfq.weight in %s", h->base);
		return false;
	}
	if (!cg_exists(h->base, cg_limits[l].v1_file)) {
		*why = xasprintf("%s/%s does not exist%s", h->base, cg_limits[l].v1_file,
				 l == CG_LIM_MEMORY_SWAP_MAX ? " (no swap accounting)" : "");
		return false;
	}
	*why = xasprintf("v1 %s%s", cg_limits[l].v1_file,
			 l == CG_LIM_MEMORY_HIGH ? " (an approximation of memory.high)"
			 : l == CG_LIM_CPU_MAX ? " and cpu.cfs_period_us"
			 : l == CG_LIM_MEMORY_SWAP_MAX ? " (memory + swap)" : "");
	return true;
}

static void report_limits(const struct cg_manager *m, report_fn line, void *arg)
{
	for (int l = 0; l < CG_LIM__COUNT; l++) {
		char *why, *what = xasprintf("cgroup limit %s", cg_limits[l].name);
		bool ok = limit_ok(m, l, &why);
		emit(line, arg, ok, what, why);
		free(what);
	}
}

static void report_events(const struct cg_manager *m, report_fn line, void *arg)
{
	bool v2mem = m->layout == CG_LAYOUT_V2 && (m->h[m->v2].ctls & CG_BIT(CG_CTL_MEMORY));
	int mi = m->v1[CG_CTL_MEMORY];
	bool v1mem = m->layout != CG_LAYOUT_V2 && mi >= 0 && m->h[mi].usable;

	if (v2mem)
		emit(line, arg, true, "cgroup OOM kills",
		     xstrdup("memory.events oom_kill, watched with inotify"));
	else if (v1mem)
		emit(line, arg, true, "cgroup OOM kills",
		     xstrdup("v1 memory.oom_control, eventfd through cgroup.event_control"));
	else
		emit(line, arg, false, "cgroup OOM kills", xstrdup("no usable memory controller"));
	if (m->h[m->track].v2)
		emit(line, arg, true, "cgroup emptiness",
		     xasprintf("cgroup.events populated in %s, watched with inotify",
			       m->h[m->track].base));
	else
		emit(line, arg, false, "cgroup emptiness",
		     xstrdup("cgroup v1 has no notification: read cgroup.procs on demand"));
}

void cg_manager_report(const struct cg_manager *m, report_fn line, void *arg)
{
	bool v2track;

	emit(line, arg, m->layout != CG_LAYOUT_NONE, "cgroup layout",
	     m->layout == CG_LAYOUT_NONE ? xstrdup(m->why_off) : layout_text(m));
	if (!m->tracking) {
		emit(line, arg, false, "cgroup tracking",
		     xasprintf("%s; services are tracked by process group", m->why_off));
		report_limits(m, line, arg);
		return;
	}
	v2track = m->h[m->track].v2;
	emit(line, arg, true, "cgroup tracking",
	     xasprintf("one cgroup per service in %s", m->h[m->track].base));
	emit(line, arg, true, "cgroup kill", kill_text(m));
	emit(line, arg, v2track && cg_kernel_at_least(5, 7), "CLONE_INTO_CGROUP",
	     xstrdup(!v2track ? "needs cgroup v2; the child writes cgroup.procs before exec"
		     : cg_kernel_at_least(5, 7) ? "clone3 starts services in their cgroup"
						  : "kernel < 5.7; the child writes cgroup.procs"));
	if (m->moved_self || m->move_why)
		emit(line, arg, m->moved_self, "cgroup supervisor leaf",
		     m->moved_self ? xasprintf("sysg runs in %s/supervisor", m->h[m->v2].base)
				   : xstrdup(m->move_why));
	report_limits(m, line, arg);
	report_events(m, line, arg);
}
