/* limits (SPEC §2.5), capabilities and isolation (SPEC §2.6). What the file
 * says, checked; presets are resolved later by isolation/. */
#include <sched.h>
#include <string.h>
#include <sys/resource.h>

#include "config/internal.h"

_Static_assert(sizeof(enum iso_preset) == sizeof(int), "V_ENUM writes an int");
_Static_assert(sizeof(enum protect_system) == sizeof(int), "V_ENUM writes an int");
_Static_assert(sizeof(enum protect_home) == sizeof(int), "V_ENUM writes an int");

/* ---- rlimits ---------------------------------------------------------------------- */

static int rlim_value(struct lctx *c, const struct ynode *v, rlim_t *out)
{
	uint64_t x;

	if (v_size(c, v, true, &x) < 0)
		return -1;
	*out = x == SYSG_UNLIMITED ? RLIM_INFINITY : (rlim_t)x;
	return 0;
}

static int rlim_part(struct lctx *c, const struct key_def *kd, const struct ynode *v, void *obj)
{
	struct rlim_def *r = obj;
	return rlim_value(c, v, kd->first ? &r->hard : &r->soft);
}

KEYS(rlimit_table, "limits.RLIMIT",
	{.name = "soft", .kind = V_CUSTOM, .fn = rlim_part, .first = 0,
	 .help = "the limit the service starts with"},
	{.name = "hard", .kind = V_CUSTOM, .fn = rlim_part, .first = 1,
	 .help = "the ceiling it may raise the soft limit to"},
);

static int limit_rlim(struct lctx *c, const struct key_def *kd, const struct ynode *v, void *obj)
{
	struct limits *l = obj;
	struct rlim_def r = {0};

	if (v->kind == Y_MAP) {
		uint64_t seen = walk_map(c, v, &rlimit_table, &r);
		if (!key_seen(seen, &rlimit_table, "soft") || !key_seen(seen, &rlimit_table, "hard")) {
			lerr(c, v, "write {soft: N, hard: M}, or one value for both",
			     "needs both soft and hard");
			return -1;
		}
		if (r.soft > r.hard) {
			lerr(c, v, "the soft limit cannot exceed the hard one",
			     "soft is larger than hard");
			return -1;
		}
	} else if (rlim_value(c, v, &r.soft) < 0) {
		return -1;
	} else {
		r.hard = r.soft;
	}
	r.set = true;
	l->rlim[kd->first] = r;
	return 0;
}

#define RLIM_KEY(idx, name_, what)                                                           \
	{.name = name_, .kind = V_CUSTOM, .fn = limit_rlim, .first = SYSG_RLIM_##idx,            \
	 .help = what}

static int limit_affinity(struct lctx *c, const struct key_def *kd, const struct ynode *v,
			  void *obj)
{
	struct limits *l = obj;
	bool seen[CPU_SETSIZE] = {0};

	(void)kd;
	if (!v_expect(c, v, Y_SEQ))
		return -1;
	l->cpu_affinity = arena_array(c->a, v->n ? v->n : 1, sizeof(unsigned));
	for (size_t i = 0; i < v->n; i++) {
		size_t mark = path_push_index(c, i);
		int64_t cpu;
		if (v_int(c, v->items[i], 0, CPU_SETSIZE - 1, &cpu) == 0) {
			if (seen[cpu])
				lerr(c, v->items[i], NULL, "CPU %lld is listed twice", (long long)cpu);
			seen[cpu] = true;
			l->cpu_affinity[l->ncpu_affinity++] = (unsigned)cpu;
		}
		path_pop(c, mark);
	}
	if (!v->n)
		lerr(c, v, "list the CPUs, such as [0, 1]", "the list is empty");
	return 0;
}

/* ---- cgroup limits ------------------------------------------------------------------ */

static int parse_u64_dec(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || __builtin_mul_overflow(v, 10, &v) ||
		    __builtin_add_overflow(v, (uint64_t)(*s - '0'), &v))
			return -1;
	}
	*out = v;
	return 0;
}

/* "200%", "max", "QUOTA", "QUOTA PERIOD" (systemg's cpu.max form), in µs. */
static int cg_cpu_max(struct lctx *c, const struct key_def *kd, const struct ynode *v, void *obj)
{
	static const char hint[] = "such as \"200%\" (two CPUs), \"max\" or \"200000 100000\" "
				   "(quota and period in microseconds)";
	struct cgroup_limits *cg = obj;
	const char *t = v_word(c, v, NULL);
	uint64_t quota, period = 100000, pct;
	char buf[64], *sp;
	size_t n;

	(void)kd;
	if (!t)
		return -1;
	n = strlen(t);
	if (n >= sizeof(buf))
		goto bad;
	memcpy(buf, t, n + 1);
	if (n > 1 && buf[n - 1] == '%') {
		buf[n - 1] = '\0';
		if (parse_u64_dec(buf, &pct) < 0 || pct == 0 || pct > 100000)
			goto bad;
		quota = pct * 1000; /* of the 100000 µs period */
	} else {
		sp = strchr(buf, ' ');
		if (sp) {
			*sp++ = '\0';
			if (parse_u64_dec(sp, &period) < 0 || period < 1000 || period > 1000000)
				goto bad;
		}
		if (!strcmp(buf, "max"))
			quota = SYSG_UNLIMITED;
		else if (parse_u64_dec(buf, &quota) < 0 || quota < 1000)
			goto bad;
	}
	cg->cpu_max_set = true;
	cg->cpu_quota_usec = quota;
	cg->cpu_period_usec = period;
	return 0;
bad:
	lerr(c, v, hint, "%s is not a CPU limit", quote(c, t));
	return -1;
}

KEYS(cgroup_table, "limits.cgroup",
	K_SIZEF("memory_max", V_OPT_SIZE, struct cgroup_limits, memory_max, KF_UNLIMITED,
		"hard memory limit; the OOM killer acts past it"),
	K_SIZEF("memory_high", V_OPT_SIZE, struct cgroup_limits, memory_high, KF_UNLIMITED,
		"memory throttling threshold"),
	K_SIZEF("memory_swap_max", V_OPT_SIZE, struct cgroup_limits, memory_swap_max, KF_UNLIMITED,
		"swap limit"),
	K_FN("cpu_max", cg_cpu_max, "CPU limit: \"200%\", \"max\" or \"QUOTA PERIOD\""),
	K_RANGE("cpu_weight", V_OPT_U64, struct cgroup_limits, cpu_weight, 1, 10000,
		"CPU share against siblings, 1..10000 (default 100)"),
	K_RANGEF("pids_max", V_OPT_U64, struct cgroup_limits, pids_max, 1, 4194304, KF_UNLIMITED,
		 "most processes and threads at once, or max"),
	K_RANGE("io_weight", V_OPT_U64, struct cgroup_limits, io_weight, 1, 10000,
		"I/O share against siblings, 1..10000 (default 100)"),
	K_SYSTEMG("root", "a custom cgroup base directory; sysg places services in its own tree"),
);

static int limit_cgroup(struct lctx *c, const struct key_def *kd, const struct ynode *v, void *obj)
{
	struct limits *l = obj;
	uint64_t seen;

	(void)kd;
	l->cg.cpu_period_usec = 100000;
	seen = walk_map(c, v, &cgroup_table, &l->cg);
	l->any_cgroup = (seen & ~(1ull << key_index(&cgroup_table, "root"))) != 0;
	return 0;
}

KEYS(limits_table, "limits",
	RLIM_KEY(NOFILE, "nofile", "open files: N, unlimited, or {soft, hard}"),
	RLIM_KEY(NPROC, "nproc", "processes of the user: N, unlimited, or {soft, hard}"),
	RLIM_KEY(MEMLOCK, "memlock", "locked memory (a size), unlimited, or {soft, hard}"),
	RLIM_KEY(CORE, "core", "core dump size, unlimited, or {soft, hard}"),
	RLIM_KEY(STACK, "stack", "stack size, unlimited, or {soft, hard}"),
	RLIM_KEY(AS, "as", "address space size, unlimited, or {soft, hard}"),
	RLIM_KEY(FSIZE, "fsize", "largest file the service may write, unlimited, or {soft, hard}"),
	K_RANGE("nice", V_INT, struct limits, nice, -20, 19, "scheduling priority, -20..19"),
	K_FN("cpu_affinity", limit_affinity, "CPUs the service may run on: [0, 1]"),
	K_RANGE("oom_score_adj", V_INT, struct limits, oom_score_adj, -1000, 1000,
		"OOM killer preference, -1000..1000"),
	K_FN("cgroup", limit_cgroup, "cgroup v2 limits (memory, CPU, pids, I/O)"),
);

KEY_FN(svc_limits)
{
	struct svc_config *s = obj;
	uint64_t seen;

	(void)kd;
	seen = walk_map(c, v, &limits_table, &s->limits);
	s->limits.nice_set = key_seen(seen, &limits_table, "nice");
	s->limits.oom_score_adj_set = key_seen(seen, &limits_table, "oom_score_adj");
	return 0;
}

/* ---- capabilities ------------------------------------------------------------------- */

static const char *cap_short(int i)
{
	return capability_name(i) + 4;
}

KEY_FN(svc_caps)
{
	struct svc_config *s = obj;
	const char *names[64];
	int last = capability_last();

	(void)kd;
	if (!v_expect(c, v, Y_SEQ))
		return -1;
	for (int i = 0; i <= last && i < 64; i++)
		names[i] = cap_short(i);
	s->caps_set = true;
	for (size_t i = 0; i < v->n; i++) {
		size_t mark = path_push_index(c, i);
		const char *t = v_word(c, v->items[i], "the capability");
		int cap = t ? parse_capability(t) : -1;
		if (t && cap < 0) {
			const char *bare = strncasecmp(t, "CAP_", 4) ? t : t + 4;
			const char *best = did_you_mean(bare, names, (size_t)last + 1);
			char hint[96];
			if (best)
				snprintf(hint, sizeof(hint), "did you mean 'CAP_%s'?", best);
			lerr(c, v->items[i], best ? hint : "see capabilities(7)",
			     "%s is not a capability", quote(c, t));
		} else if (t) {
			s->caps |= 1ull << cap;
		}
		path_pop(c, mark);
	}
	return 0;
}

/* ---- isolation ------------------------------------------------------------------------ */

static int iso_hostname(struct lctx *c, const struct key_def *kd, const struct ynode *v, void *obj)
{
	struct isolation *iso = obj;
	const char *t = v_word(c, v, "the host name");

	(void)kd;
	if (t && (!hostname_valid(t) || strlen(t) > 64)) {
		lerr(c, v, "letters, digits, '-' and '.', at most 64", "%s is not a valid host name",
		     quote(c, t));
		return -1;
	}
	iso->hostname = (char *)t;
	return t ? 0 : -1;
}

static int seccomp_custom(struct lctx *c, const struct key_def *kd, const struct ynode *v,
			  void *obj)
{
	struct isolation *iso = obj;

	(void)kd;
	iso->seccomp_profile = v_path(c, v, c->cfg->dir);
	iso->seccomp = SECCOMP_CUSTOM;
	return iso->seccomp_profile ? 0 : -1;
}

KEYS(seccomp_table, "isolation.seccomp",
	K_FN("custom", seccomp_custom, "an OCI/Docker seccomp profile (JSON): {custom: path}"),
);

static int iso_seccomp(struct lctx *c, const struct key_def *kd, const struct ynode *v, void *obj)
{
	struct isolation *iso = obj;
	int e;

	(void)kd;
	if (v->kind == Y_MAP) {
		if (!key_seen(walk_map(c, v, &seccomp_table, iso), &seccomp_table, "custom")) {
			lerr(c, v, "{custom: path/to/profile.json}", "names no custom profile");
			return -1;
		}
		return 0;
	}
	if (v_enum(c, v, seccomp_kind_names, SECCOMP_CUSTOM, 1, &e) < 0)
		return -1;
	iso->seccomp = (enum seccomp_kind)e;
	return 0;
}

static const char *bind_item(struct lctx *c, const struct ynode *n, void *arg)
{
	struct isolation *iso = arg;
	const char *t = v_word(c, n, "the bind mount");
	const char *c1, *c2;
	struct bind_def *b = &iso->binds[iso->nbinds];

	if (!t)
		return NULL;
	c1 = strchr(t, ':');
	c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	if (!c1 || c1 == t || c1[1] != '/' || (c2 && strcmp(c2, ":ro") && strcmp(c2, ":rw"))) {
		lerr(c, n, "HOST:SERVICE[:ro], such as \"/srv/data:/data:ro\"",
		     "%s is not a bind mount", quote(c, t));
		return NULL;
	}
	b->src = path_resolve(c->a, c->cfg->dir, arena_strndup(c->a, t, (size_t)(c1 - t)));
	b->dst = path_resolve(c->a, NULL, arena_strndup(c->a, c1 + 1,
							c2 ? (size_t)(c2 - c1 - 1) : strlen(c1 + 1)));
	b->ro = c2 && !strcmp(c2, ":ro");
	iso->nbinds++;
	return t;
}

static int iso_bind(struct lctx *c, const struct key_def *kd, const struct ynode *v, void *obj)
{
	struct isolation *iso = obj;
	struct strv dummy;

	(void)kd;
	if (!v_expect(c, v, Y_SEQ))
		return -1;
	iso->binds = arena_array(c->a, v->n ? v->n : 1, sizeof(*iso->binds));
	return v_list(c, v, false, bind_item, iso, &dummy);
}

/* Mount options a service may ask of its tmpfs; nothing that could widen access. */
static bool tmpfs_option_ok(const char *o)
{
	static const char *const flags[] = {"exec", "noexec", "nosuid", "nodev", "ro", "rw"};
	const char *eq = strchr(o, '=');
	uint64_t x;

	for (size_t i = 0; i < CFG_ARRAY_SIZE(flags); i++)
		if (!strcmp(o, flags[i]))
			return true;
	if (!eq || !eq[1])
		return false;
	if (!strncmp(o, "size=", 5)) {
		size_t n = strlen(eq + 1);
		if (eq[n] == '%') {
			char buf[8];
			if (n > 4)
				return false;
			memcpy(buf, eq + 1, n - 1);
			buf[n - 1] = '\0';
			return parse_u64_dec(buf, &x) == 0 && x >= 1 && x <= 100;
		}
		return parse_size(eq + 1, false, &x, NULL) == 0 && x > 0;
	}
	if (!strncmp(o, "nr_inodes=", 10))
		return parse_size(eq + 1, false, &x, NULL) == 0 && x > 0;
	if (!strncmp(o, "mode=", 5))
		return strlen(eq + 1) <= 4 && !eq[1 + strspn(eq + 1, "01234567")];
	if (!strncmp(o, "uid=", 4) || !strncmp(o, "gid=", 4))
		return parse_u64_dec(eq + 1, &x) == 0 && x <= 4294967294u;
	return false;
}

static const char *tmpfs_item(struct lctx *c, const struct ynode *n, void *arg)
{
	struct isolation *iso = arg;
	const char *t = v_word(c, n, "the tmpfs"), *colon;
	struct tmpfs_def *d = &iso->tmpfs[iso->ntmpfs];

	if (!t)
		return NULL;
	colon = strchr(t, ':');
	if (*t != '/') {
		lerr(c, n, "such as \"/tmp:size=64M,noexec\"", "%s does not start with an absolute path",
		     quote(c, t));
		return NULL;
	}
	d->path = path_resolve(c->a, NULL, colon ? arena_strndup(c->a, t, (size_t)(colon - t)) : t);
	d->options = arena_strdup(c->a, colon ? colon + 1 : "");
	if (colon) {
		char *save = NULL, *opts = arena_strdup(c->a, colon + 1);
		for (char *tok = strtok_r(opts, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			if (!tmpfs_option_ok(tok)) {
				lerr(c, n, "size=, mode=, nr_inodes=, uid=, gid=, exec, noexec, nosuid, "
					   "nodev, ro, rw",
				     "%s is not a tmpfs option sysg allows", quote(c, tok));
				return NULL;
			}
		}
	}
	iso->ntmpfs++;
	return t;
}

static int iso_tmpfs(struct lctx *c, const struct key_def *kd, const struct ynode *v, void *obj)
{
	struct isolation *iso = obj;
	struct strv dummy;

	(void)kd;
	if (!v_expect(c, v, Y_SEQ))
		return -1;
	iso->tmpfs = arena_array(c->a, v->n ? v->n : 1, sizeof(*iso->tmpfs));
	return v_list(c, v, false, tmpfs_item, iso, &dummy);
}

KEYS(landlock_table, "isolation.landlock",
	K_(
	"ro_paths", V_PATHLIST, struct isolation, landlock_ro, "paths the service may read"),
	K_(
	"rw_paths", V_PATHLIST, struct isolation, landlock_rw, "paths it may read and write"),
);

static int iso_landlock(struct lctx *c, const struct key_def *kd, const struct ynode *v, void *obj)
{
	struct isolation *iso = obj;

	(void)kd;
	walk_map(c, v, &landlock_table, iso);
	iso->landlock_set = v->kind == Y_MAP;
	return 0;
}

#define ISO_TRI(n, fld, h) K_(n, V_TRI, struct isolation, fld, h)

KEYS(isolation_table, "isolation",
	K_ENUM("preset", struct isolation, preset, iso_preset_names, PRESET__COUNT, 1,
	       "none, minimal, server, strict, worker or database"),
	ISO_TRI("pid", pid, "own PID namespace; the service is PID 1 there"),
	ISO_TRI("mount", mount, "own mount namespace"),
	ISO_TRI("network", network, "own network namespace with only lo"),
	ISO_TRI("ipc", ipc, "own IPC namespace"),
	ISO_TRI("uts", uts, "own host name"),
	ISO_TRI("user", user, "own user namespace"),
	ISO_TRI("cgroup", cgroupns, "own cgroup namespace"),
	K_FN("hostname", iso_hostname, "the host name inside (implies uts)"),
	K_FN("seccomp", iso_seccomp, "default, strict, unconfined, baseline-v1 or {custom: path}"),
	ISO_TRI("no_new_privileges", no_new_privileges, "setuid binaries gain nothing"),
	{.name = "protect_system", .kind = V_ENUM, .off = offsetof(struct isolation, protect_system),
	 .names = protect_system_names, .count = PROTECT_SYSTEM__COUNT, .first = 1,
	 .flags = KF_BOOL, .help = "no (or false), full (/usr /boot /etc read-only) or strict"},
	{.name = "protect_home", .kind = V_ENUM, .off = offsetof(struct isolation, protect_home),
	 .names = protect_home_names, .count = PROTECT_HOME__COUNT, .first = 1, .flags = KF_BOOL,
	 .help = "true, false, read-only or tmpfs"},
	ISO_TRI("private_tmp", private_tmp, "fresh /tmp and /var/tmp"),
	ISO_TRI("private_devices", private_devices, "a minimal /dev"),
	ISO_TRI("read_only_rootfs", read_only_rootfs, "the whole tree read-only"),
	K_(
	"read_write_paths", V_PATHLIST, struct isolation, read_write_paths,
	"paths left writable"),
	K_(
	"read_only_paths", V_PATHLIST, struct isolation, read_only_paths, "paths made read-only"),
	K_(
	"inaccessible_paths", V_PATHLIST, struct isolation, inaccessible_paths,
	"paths hidden"),
	K_FN("bind", iso_bind, "bind mounts: \"HOST:SERVICE[:ro]\""),
	K_FN("tmpfs", iso_tmpfs, "tmpfs mounts: \"/path:size=64M,noexec\""),
	K_FN("landlock", iso_landlock, "Landlock: {ro_paths, rw_paths}"),
	ISO_TRI("protect_kernel", protect_kernel, "kernel tunables, modules and logs off limits"),
	ISO_TRI("memory_deny_write_execute", memory_deny_write_execute,
		"no memory both writable and executable"),
	K_SIZEF("shm_size", V_OPT_SIZE, struct isolation, shm_size, 0, "size of /dev/shm"),
	K_SYSTEMG("apparmor_profile", "AppArmor profiles; use seccomp and Landlock"),
	K_SYSTEMG("selinux_context", "SELinux contexts; use seccomp and Landlock"),
);

KEY_FN(svc_isolation)
{
	struct svc_config *s = obj;

	(void)kd;
	walk_map(c, v, &isolation_table, &s->iso);
	return 0;
}
