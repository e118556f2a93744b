/* Loading: the file's top level (SPEC §2.1, systemg's manifest), projects,
 * and each service through the schema; then validate.c checks the whole. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/internal.h"

extern char **environ;

struct top_build {
	const struct ynode *services, *projects, *legacy;
	struct env_level env;
	bool env_given;
	struct logs_level logs;
	bool logs_given;
	char *legacy_id, *legacy_name;
};

struct proj {
	const char *id, *name;
	const struct env_level *env;
	const struct logs_level *logs;
};

struct proj_build {
	char *name;
	const struct ynode *services;
	struct env_level env;
	bool env_given;
	struct logs_level logs;
	bool logs_given;
	const struct top_build *top;
};

/* ---- logs, metrics, status ----------------------------------------------------------- */

_Static_assert(sizeof(enum log_sink) == sizeof(int), "V_ENUM writes an int");

KEYS(logs_table, "logs",
	K_ENUM("sink", struct logs_def, sink, log_sink_names, LOG_SINK__COUNT, 1,
	       "file, none, journal or stdout (default: file; stdout as PID 1)"),
	K_SIZEF("max_bytes", V_SIZE, struct logs_def, max_bytes, KF_UNLIMITED,
		"rotate the log file at this size (default 10M)"),
	K_RANGE("max_files", V_UINT, struct logs_def, max_files, 0, 1000,
		"rotated files kept (default 5)"),
	K_(
	"timestamps", V_BOOL, struct logs_def, timestamps,
	"prefix each line with an RFC 3339 time (default true)"),
);

static void logs_level_read(struct lctx *c, const struct ynode *v, struct logs_level *out)
{
	out->v = (struct logs_def){.sink = LOG_SINK_UNSET, .max_bytes = 10u << 20, .max_files = 5,
				   .timestamps = true};
	out->seen = walk_map(c, v, &logs_table, &out->v);
}

struct sg_metrics {
	uint64_t retention_minutes, sample_interval_secs, max_memory_bytes, spillover_max_bytes,
		spillover_segment_bytes, snapshot_interval_secs;
	char *spillover_path;
	int snapshot_mode;
};

KEYS(metrics_table, "metrics",
	K_RANGE("retention_minutes", V_U64, struct sg_metrics, retention_minutes, 0, UINT32_MAX,
		"systemg: minutes of samples kept"),
	K_RANGE("sample_interval_secs", V_U64, struct sg_metrics, sample_interval_secs, 0,
		UINT32_MAX, "systemg: seconds between samples"),
	K_SIZEF("max_memory_bytes", V_SIZE, struct sg_metrics, max_memory_bytes, 0,
		"systemg: memory for samples"),
	K_(
	"spillover_path", V_STR, struct sg_metrics, spillover_path,
	"systemg: directory for spilled samples"),
	K_SIZEF("spillover_max_bytes", V_SIZE, struct sg_metrics, spillover_max_bytes, 0,
		"systemg: disk for spilled samples"),
	K_SIZEF("spillover_segment_bytes", V_SIZE, struct sg_metrics, spillover_segment_bytes, 0,
		"systemg: spill file size"),
);

static const char *const snapshot_modes[] = {"off", "summary", "detailed"};

KEYS(status_table, "status",
	K_ENUM("snapshot_mode", struct sg_metrics, snapshot_mode, snapshot_modes, 3, 0,
	       "systemg: off, summary or detailed"),
	K_RANGE("snapshot_interval_secs", V_U64, struct sg_metrics, snapshot_interval_secs, 0,
		UINT32_MAX, "systemg: seconds between snapshots"),
);

static int sg_block(struct lctx *c, const struct key_def *kd, const struct ynode *v, void *obj)
{
	struct sg_metrics m = {0};

	(void)obj;
	walk_map(c, v, kd->first ? &status_table : &metrics_table, &m);
	return 0;
}

/* ---- top level ---------------------------------------------------------------------- */

static int top_version(struct lctx *c, const struct key_def *kd, const struct ynode *v, void *obj)
{
	const char *t = v->kind == Y_SCALAR ? v_word(c, v, NULL) : NULL;

	(void)kd, (void)obj;
	if (v->kind != Y_SCALAR) {
		lerr(c, v, "version: \"2\"", "expected \"2\" or \"3\", not %s", y_kind_name(v));
		return -1;
	}
	if (!t)
		return -1;
	if (!strcmp(t, "2") || !strcmp(t, "3")) {
		c->cfg->version = *t - '0';
		return 0;
	}
	if (!strcmp(t, "1"))
		lerr(c, v, "change it to version: \"2\" (the layout is the same; systemg's "
			   "`sysg migrate` does this)",
		     "version 1 is no longer supported");
	else
		lerr(c, v, "use version: \"2\" or \"3\"", "unsupported version %s", quote(c, t));
	return -1;
}

static int top_record(struct lctx *c, const struct key_def *kd, const struct ynode *v, void *obj)
{
	(void)c;
	*(const struct ynode **)((char *)obj + kd->off) = v;
	return 0;
}

static int top_nothing(struct lctx *c, const struct key_def *kd, const struct ynode *v, void *obj)
{
	(void)c, (void)kd, (void)v, (void)obj; /* read before the walk */
	return 0;
}

static int top_env(struct lctx *c, const struct key_def *kd, const struct ynode *v, void *obj)
{
	struct top_build *tb = obj;

	(void)kd;
	env_level_parse(c, v, NULL, 0, &tb->env);
	tb->env_given = true;
	return 0;
}

static int top_logs(struct lctx *c, const struct key_def *kd, const struct ynode *v, void *obj)
{
	struct logs_level *lv = (struct logs_level *)((char *)obj + kd->off);

	logs_level_read(c, v, lv);
	*(bool *)((char *)obj + kd->first) = true;
	return 0;
}

static bool project_id_check(struct lctx *c, const struct ynode *at, const char *id)
{
	if (service_name_valid(id))
		return true;
	lerr(c, at, "letters, digits, '_', '.', '-', up to 63, starting with a letter or digit",
	     "%s is not a valid project id", quote(c, id));
	return false;
}

static int legacy_id(struct lctx *c, const struct key_def *kd, const struct ynode *v, void *obj)
{
	struct top_build *tb = obj;
	const char *t = v_word(c, v, "the id");

	(void)kd;
	if (t && project_id_check(c, v, t))
		tb->legacy_id = (char *)t;
	return 0;
}

KEYS(project_legacy_table, "project",
	K_FN("id", legacy_id, "the project id: services are named ID/NAME"),
	K_(
	"name", V_STR, struct top_build, legacy_name, "display name (default: the id)"),
);

static int top_project(struct lctx *c, const struct key_def *kd, const struct ynode *v, void *obj)
{
	struct top_build *tb = obj;

	(void)kd;
	tb->legacy = v;
	lwarn(c, v, "write projects: {ID: {name, services}} instead", "is deprecated");
	if (v->kind == Y_SCALAR)
		return legacy_id(c, NULL, v, tb);
	if (!key_seen(walk_map(c, v, &project_legacy_table, tb), &project_legacy_table, "id") &&
	    v->kind == Y_MAP)
		lerr(c, v, "project: {id: shop, name: Shop}", "has no id");
	return 0;
}

#define OFF(f) offsetof(struct top_build, f)

KEYS(top_table, "top",
	K_FN("version", top_version, "\"2\" or \"3\" (systemg's schema versions); required"),
	K_FN("project", top_project, "deprecated: one project for the top-level services"),
	K_FNX("projects", top_record, OFF(projects), "projects: {ID: {name, services, env, logs}}"),
	K_FNX("services", top_record, OFF(services), "the services: {NAME: {...}}"),
	K_FN("project_dir", top_nothing, "base of relative paths (default: the file's directory)"),
	K_FN("env", top_env, "environment defaults for every service"),
	{.name = "logs", .kind = V_CUSTOM, .fn = top_logs, .off = OFF(logs),
	 .first = OFF(logs_given), .help = "log defaults for every service"},
	{.name = "metrics", .kind = V_NOEFFECT, .fn = sg_block, .first = 0,
	 .help = "systemg's metrics collection"},
	{.name = "status", .kind = V_NOEFFECT, .fn = sg_block, .first = 1,
	 .help = "systemg's status snapshots"},
	K_FN("networks", top_networks, "bridge networks: {NAME: {subnet: CIDR}} (system mode)"),
);

/* ---- projects ------------------------------------------------------------------------- */

static int proj_env(struct lctx *c, const struct key_def *kd, const struct ynode *v, void *obj)
{
	struct proj_build *pb = obj;
	const struct env_level *outer[1] = {pb->top->env_given ? &pb->top->env : NULL};

	(void)kd;
	env_level_parse(c, v, outer, 1, &pb->env);
	pb->env_given = true;
	return 0;
}

#define POFF(f) offsetof(struct proj_build, f)

KEYS(project_table, "projects.ID",
	K_(
	"name", V_STR, struct proj_build, name, "display name (default: the id)"),
	K_FNX("services", top_record, POFF(services), "the project's services: {NAME: {...}}"),
	K_FN("env", proj_env, "environment defaults for the project's services"),
	{.name = "logs", .kind = V_CUSTOM, .fn = top_logs, .off = POFF(logs),
	 .first = POFF(logs_given), .help = "log defaults for the project's services"},
);

/* ---- services -------------------------------------------------------------------------- */

static void load_service(struct lctx *c, const struct ynode *k, const struct ynode *v,
			 const struct proj *pj, const struct top_build *tb)
{
	struct sysg_config *cfg = c->cfg;
	size_t mark = path_push(c, k->str), idx = cfg->nsvcs++;
	struct svc_config *s = &cfg->svcs[idx];
	struct svc_build *b = &c->builds[idx];
	const struct env_level *levels[3];
	const struct ynode *env;
	uint64_t seen;

	*b = (struct svc_build){.s = s, .key = k};
	b->env_outer[0] = tb->env_given ? &tb->env : NULL;
	b->logs_outer[0] = tb->logs_given ? &tb->logs : NULL;
	b->env_outer[1] = pj ? pj->env : NULL;
	b->logs_outer[1] = pj ? pj->logs : NULL;
	b->path = arena_strdup(c->a, c->path.s);
	s->name = pj ? arena_printf(c->a, "%s/%s", pj->id, k->str) : (char *)k->str;
	s->unit = pj ? arena_printf(c->a, "%s@%s", pj->id, k->str) : (char *)k->str;
	s->project = pj ? (char *)pj->id : NULL;
	s->project_name = pj ? (char *)pj->name : NULL;
	s->line = k->line;
	s->col = k->col;
	svc_defaults(c, s);
	if (!service_name_valid(k->str))
		lerr(c, k, "letters, digits, '_', '.', '-', up to 63, starting with a letter or digit",
		     "%s is not a valid service name", quote(c, k->str));
	else if (strmap_get(&c->names, s->name, NULL))
		lerr(c, k, NULL, "the service %s is defined twice", quote(c, s->name));
	else
		strmap_put(&c->names, s->name, idx);
	if (y_is_null(v)) {
		lerr(c, k, "give it a command: \"...\"", "the service is empty");
		goto out;
	}
	if (!v_expect(c, v, Y_MAP))
		goto out;
	c->svc_path = c->path.len + 1;
	c->sb = b;
	env = y_map_get(v, "env");
	if (env && !y_is_null(env)) {
		size_t m2 = path_push(c, "env");
		env_level_parse(c, env, b->env_outer, 2, &b->env);
		path_pop(c, m2);
	}
	levels[0] = b->env_outer[0];
	levels[1] = b->env_outer[1];
	levels[2] = env && !y_is_null(env) ? &b->env : NULL;
	env_merge(c, levels, 3, &s->env);
	b->scope = (struct varset){s->env.vars, s->env.nvars};
	c->scope = &b->scope;
	seen = walk_map(c, v, &service_table, s);
	svc_finish(c, b, seen);
	c->scope = NULL;
	c->sb = NULL;
	c->svc_path = 0;
out:
	path_pop(c, mark);
}

static void load_services(struct lctx *c, const struct ynode *map, const struct proj *pj,
			  const struct top_build *tb)
{
	size_t mark = path_push(c, "services");

	if (v_expect(c, map, Y_MAP))
		for (size_t i = 0; i < map->n; i++)
			load_service(c, y_key(map, i), y_val(map, i), pj, tb);
	path_pop(c, mark);
}

static void load_projects(struct lctx *c, const struct ynode *map, const struct top_build *tb)
{
	size_t mark = path_push(c, "projects");

	if (!v_expect(c, map, Y_MAP))
		goto out;
	for (size_t i = 0; i < map->n; i++) {
		const struct ynode *k = y_key(map, i), *v = y_val(map, i);
		struct proj_build pb = {.top = tb};
		size_t m2 = path_push(c, k->str);
		struct proj pj;

		if (project_id_check(c, k, k->str) && !y_is_null(v)) {
			walk_map(c, v, &project_table, &pb);
			if (v->kind == Y_MAP && (!pb.services || y_is_null(pb.services)))
				lerr(c, k, "add services: {NAME: {...}}", "the project has no services");
		} else if (y_is_null(v)) {
			lerr(c, k, "add services: {NAME: {...}}", "the project is empty");
		}
		pj = (struct proj){k->str, pb.name ? pb.name : k->str, pb.env_given ? &pb.env : NULL,
				   pb.logs_given ? &pb.logs : NULL};
		if (pb.services && !y_is_null(pb.services))
			load_services(c, pb.services, &pj, tb);
		path_pop(c, m2);
	}
out:
	path_pop(c, mark);
}

static size_t count_services(const struct top_build *tb)
{
	size_t n = tb->services && tb->services->kind == Y_MAP ? tb->services->n : 0;
	const struct ynode *p = tb->projects;

	for (size_t i = 0; p && p->kind == Y_MAP && i < p->n; i++) {
		const struct ynode *s = y_map_get(y_val(p, i), "services");
		n += s && s->kind == Y_MAP ? s->n : 0;
	}
	return n;
}

static void load_top(struct lctx *c, const struct ynode *root)
{
	const struct ynode *pd = y_map_get(root, "project_dir");
	struct top_build tb = {0};
	struct proj legacy;
	uint64_t seen;
	size_t n;

	if (pd && !y_is_null(pd)) {
		size_t mark = path_push(c, "project_dir");
		char *dir = v_path(c, pd, c->cfg->dir);
		if (dir)
			c->cfg->dir = dir;
		path_pop(c, mark);
	}
	seen = walk_map(c, root, &top_table, &tb);
	if (!key_seen(seen, &top_table, "version"))
		lerr(c, NULL, "add version: \"2\" at the top", "the file has no version");
	if (tb.legacy && tb.projects)
		lerr_path(c, "project", tb.legacy->line, tb.legacy->col,
			  "move the project's services under projects:",
			  "a file may use project or projects, not both");
	n = count_services(&tb);
	c->cfg->svcs = arena_array(c->a, n + 1, sizeof(*c->cfg->svcs));
	c->builds = cfg_xmalloc((n + 1) * sizeof(*c->builds));
	legacy = (struct proj){tb.legacy_id, tb.legacy_name ? tb.legacy_name : tb.legacy_id,
			       NULL, NULL};
	for (size_t i = 0; i < root->n; i++) {
		const struct ynode *v = y_val(root, i);
		if (y_is_null(v))
			continue;
		if (v == tb.services)
			load_services(c, v, tb.legacy_id ? &legacy : NULL, &tb);
		else if (v == tb.projects)
			load_projects(c, v, &tb);
	}
	if (n == 0 && !c->d->nerrors)
		lwarn(c, NULL, NULL, "the file defines no services");
	validate_all(c);
}

/* ---- entry points ------------------------------------------------------------------------ */

static void proc_env_init(struct lctx *c, char *const *env)
{
	size_t n = 0;
	struct kv *v;

	while (env && env[n])
		n++;
	v = arena_array(c->a, n ? n : 1, sizeof(*v));
	c->proc_env.v = v;
	c->proc_env.n = 0;
	for (size_t i = 0; i < n; i++) {
		const char *eq = strchr(env[i], '=');
		if (!eq || eq == env[i])
			continue;
		v[c->proc_env.n++] = (struct kv){arena_strndup(c->a, env[i], (size_t)(eq - env[i])),
						 (char *)eq + 1};
	}
	c->proc_env.n = kv_sort_unique(v, c->proc_env.n);
}

static char *abs_path(struct arena *a, const char *name)
{
	char cwd[4096];

	if (*name == '/' || !getcwd(cwd, sizeof(cwd)))
		return path_resolve(a, *name == '/' ? NULL : ".", name);
	return path_resolve(a, cwd, name);
}

static char *dir_of(struct arena *a, const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash && slash != path ? arena_strndup(a, path, (size_t)(slash - path))
				       : arena_strdup(a, "/");
}

int sysg_config_load_buf(const char *name, const char *buf, size_t len,
			 const struct sysg_load_opts *opts, struct sysg_config **out,
			 struct sysg_diags *d)
{
	static const struct sysg_load_opts no_opts;
	size_t errors_before = d->nerrors;
	struct sysg_config *cfg;
	struct ynode *root;
	struct lctx c;
	struct arena *a;

	*out = NULL;
	opts = opts ? opts : &no_opts;
	if (len > SYSG_MAX_FILE_BYTES) {
		diags_add(d, DIAG_ERROR, name, 0, 0, "split it, or move data into env files",
			  "the file is larger than 8 MiB");
		return -1;
	}
	a = arena_new();
	cfg = arena_alloc(a, sizeof(*cfg));
	cfg->arena = a;
	cfg->path = abs_path(a, name);
	cfg->dir = dir_of(a, cfg->path);
	c = (struct lctx){.a = a, .d = d, .file = name, .opts = opts, .cfg = cfg};
	cbuf_add(&c.path, "", 0);
	proc_env_init(&c, opts->environ ? opts->environ : environ);
	if (ytree_parse(a, name, buf, len, &root, d) == 0)
		load_top(&c, root);
	/* Placed at the last hidden problem, so it prints after what is shown. */
	if (c.hidden_errors || c.hidden_other)
		diags_add(d, c.hidden_errors ? DIAG_ERROR : DIAG_NOTE, name, c.hidden_line,
			  c.hidden_col, NULL, "%zu more errors and %zu more warnings not shown",
			  c.hidden_errors, c.hidden_other);
	free(c.builds);
	free(c.envfiles);
	strmap_free(&c.names);
	strmap_free(&c.envcache);
	cbuf_free(&c.path);
	if (d->nerrors > errors_before) {
		arena_free(a);
		return -1;
	}
	*out = cfg;
	return 0;
}

int sysg_config_load(const char *path, const struct sysg_load_opts *opts,
		     struct sysg_config **out, struct sysg_diags *d)
{
	char *buf;
	size_t len;
	int r;

	*out = NULL;
	r = cfg_read_file(path, SYSG_MAX_FILE_BYTES, &buf, &len);
	if (r == -EFBIG) {
		diags_add(d, DIAG_ERROR, path, 0, 0, "split it, or move data into env files",
			  "the file is larger than 8 MiB");
		return -1;
	}
	if (r < 0) {
		diags_add(d, DIAG_ERROR, path, 0, 0, NULL, "cannot read the file: %s",
			  r == -EINVAL ? "not a regular file" : strerror(-r));
		return -1;
	}
	r = sysg_config_load_buf(path, buf, len, opts, out, d);
	free(buf);
	return r;
}

void sysg_config_free(struct sysg_config *cfg)
{
	if (cfg)
		arena_free(cfg->arena);
}

const struct svc_config *sysg_config_find(const struct sysg_config *cfg, const char *name)
{
	const struct svc_config *found = NULL;
	size_t matches = 0;

	for (size_t i = 0; i < cfg->nsvcs; i++)
		if (!strcmp(cfg->svcs[i].name, name))
			return &cfg->svcs[i];
	if (strchr(name, '/'))
		return NULL;
	for (size_t i = 0; i < cfg->nsvcs; i++) {
		const char *slash = strchr(cfg->svcs[i].name, '/');
		if (slash && !strcmp(slash + 1, name)) {
			found = &cfg->svcs[i];
			matches++;
		}
	}
	return matches == 1 ? found : NULL;
}
