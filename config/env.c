/* `env:` blocks (SPEC §2.2, systemg's EnvConfig): vars, env files, plain
 * KEY: value entries, inherit_env, strip, clear_session_vars; and the merge of
 * the top-level, project and service levels into a service's environment.
 *
 * Order (later wins): every level's env files (top level first), then every
 * level's vars. Vars are expanded against the env files of their own and the
 * enclosing levels, then sysg's environment; env file values are literal.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config/internal.h"

static struct env_cached *env_file_load(struct lctx *c, const char *path, const struct ynode *at)
{
	struct env_cached *ec;
	struct envfile ef;
	size_t idx;
	int r;

	if (strmap_get(&c->envcache, path, &idx))
		return &c->envfiles[idx];
	c->envfiles = cfg_xrealloc(c->envfiles, (c->nenvfiles + 1) * sizeof(*c->envfiles));
	ec = &c->envfiles[c->nenvfiles];
	*ec = (struct env_cached){0};
	strmap_put(&c->envcache, path, c->nenvfiles++);
	r = envfile_read(path, &ef, c->d);
	if (r == -ENOENT || r == -EACCES || r == -EPERM || r == -ENOTDIR) {
		ec->missing = true;
		lwarn(c, at, "it is read again when the service starts, and must be readable then",
		      "%s cannot be read now: %s", quote(c, path), strerror(-r));
		return ec;
	}
	if (r == -EFBIG) {
		lerr(c, at, NULL, "%s is larger than 1 MiB", quote(c, path));
		return ec;
	}
	if (r < 0 && r != -EINVAL) {
		lerr(c, at, NULL, "%s cannot be read: %s", quote(c, path), strerror(-r));
		return ec;
	}
	ec->v = arena_array(c->a, ef.n ? ef.n : 1, sizeof(*ec->v));
	for (size_t i = 0; i < ef.n; i++)
		ec->v[i] = (struct kv){arena_strdup(c->a, ef.v[i].key), arena_strdup(c->a, ef.v[i].value)};
	ec->n = ef.n;
	envfile_free(&ef);
	return ec;
}

static void append_kv(struct arena *a, struct kv **v, size_t *n, const struct kv *add, size_t nadd)
{
	struct kv *nv;

	if (!nadd)
		return;
	nv = arena_array(a, *n + nadd, sizeof(*nv));
	if (*n)
		memcpy(nv, *v, *n * sizeof(*nv));
	memcpy(nv + *n, add, nadd * sizeof(*nv));
	*v = nv;
	*n += nadd;
}

static void env_files(struct lctx *c, const struct ynode *fnode, struct env_level *out)
{
	const struct ynode *const *items = (const struct ynode *const *)fnode->items;
	size_t count = fnode->n, mark = path_push(c, "file");

	if (fnode->kind == Y_SCALAR) {
		items = &fnode;
		count = 1;
	} else if (fnode->kind != Y_SEQ) {
		lerr(c, fnode, NULL, "expected a path or a list of paths, not %s", y_kind_name(fnode));
		path_pop(c, mark);
		return;
	}
	out->files.v = arena_array(c->a, count + 1, sizeof(char *));
	for (size_t i = 0; i < count; i++) {
		size_t m2 = fnode->kind == Y_SEQ ? path_push_index(c, i) : c->path.len;
		char *p = v_path(c, items[i], c->cfg->dir);
		if (p) {
			struct env_cached *ec = env_file_load(c, p, items[i]);
			out->files.v[out->files.n++] = p;
			append_kv(c->a, &out->fvars, &out->nfvars, ec->v, ec->n);
		}
		path_pop(c, m2);
	}
	path_pop(c, mark);
}

static void add_var(struct lctx *c, struct env_level *lv, const struct ynode *k,
		    const struct ynode *v)
{
	const char *value;

	if (!env_name_valid(k->str)) {
		lerr(c, k, "names are letters, digits, '_', '.' and '-', not starting with a digit",
		     "%s is not a valid environment variable name", quote(c, k->str));
		return;
	}
	if (v->kind != Y_SCALAR) {
		lerr(c, v, NULL, "expected a value, not %s", y_kind_name(v));
		return;
	}
	if (y_is_null(v)) {
		lerr(c, v, "write \"\" for an empty value", "needs a value");
		return;
	}
	value = expand_scalar(c, v);
	if (value)
		lv->vars[lv->nvars++] = (struct kv){(char *)k->str, (char *)value};
}

static int env_vars(struct lctx *c, const struct key_def *kd, const struct ynode *v, void *obj)
{
	(void)kd;
	if (!v_expect(c, v, Y_MAP))
		return -1;
	for (size_t i = 0; i < v->n; i++) {
		size_t mark = path_push(c, y_key(v, i)->str);
		add_var(c, obj, y_key(v, i), y_val(v, i));
		path_pop(c, mark);
	}
	return 0;
}

static int env_file_done(struct lctx *c, const struct key_def *kd, const struct ynode *v, void *obj)
{
	(void)c, (void)kd, (void)v, (void)obj; /* read first, by env_level_parse */
	return 0;
}

static const char *name_item(struct lctx *c, const struct ynode *n, void *arg)
{
	const char *s = v_word(c, n, "the name");

	(void)arg;
	if (s && !env_name_valid(s)) {
		lerr(c, n, NULL, "%s is not a valid environment variable name", quote(c, s));
		return NULL;
	}
	return s;
}

static int env_inherit(struct lctx *c, const struct key_def *kd, const struct ynode *v, void *obj)
{
	struct env_level *lv = obj;
	bool b;

	(void)kd;
	if (v->kind == Y_SEQ) {
		lv->inherit = INHERIT_LIST;
		return v_list(c, v, false, name_item, NULL, &lv->inherit_names);
	}
	if (v->kind == Y_SCALAR && !y_is_bool(v, NULL)) {
		lerr(c, v, "use true, false or a list of names", "%s is not true, false or a list",
		     quote_node(c, v));
		return -1;
	}
	if (v_bool(c, v, &b) < 0)
		return -1;
	lv->inherit = b ? INHERIT_ALL : INHERIT_NONE;
	return 0;
}

static int env_strip(struct lctx *c, const struct key_def *kd, const struct ynode *v, void *obj)
{
	struct env_level *lv = obj;
	(void)kd;
	return v_list(c, v, false, name_item, NULL, &lv->strip);
}

KEYS(env_table, "env",
	K_FN("vars", env_vars, "variables: {NAME: value}; values may use ${VAR}"),
	K_FN("file", env_file_done, "an env file or a list of them (KEY=VALUE lines)"),
	K_FN("inherit_env", env_inherit, "pass sysg's environment on: true, false or [NAMES]"),
	K_FN("strip", env_strip, "names removed from the inherited environment"),
	K_(
	"clear_session_vars", V_TRI, struct env_level, clear_session,
	"drop login-session variables (SSH_AUTH_SOCK, DBUS_SESSION_BUS_ADDRESS, ...)"),
	K_HINT("inherit", "inherit_env"),
);

/* Plain `NAME: value` entries are variables (systemg); anything else that is
 * not a key of the table is an unknown key. */
static bool env_extra(struct lctx *c, const struct ynode *k, const struct ynode *v, void *obj)
{
	static const char *const reserved[] = {"vars", "file", "inherit_env", "strip",
					       "clear_session_vars"};
	const char *close;
	size_t mark;
	bool lower = true;

	if (v->kind != Y_SCALAR)
		return false; /* reported as an unknown key, with "did you mean" */
	for (const char *p = k->str; *p; p++)
		lower = lower && !(*p >= 'A' && *p <= 'Z');
	close = lower ? did_you_mean(k->str, reserved, CFG_ARRAY_SIZE(reserved)) : NULL;
	mark = path_push(c, k->str);
	if (close) {
		char hint[96];
		snprintf(hint, sizeof(hint), "did you mean '%s'? (variables go under vars:)", close);
		lwarn(c, k, hint, "taken as the environment variable %s", quote(c, k->str));
	}
	add_var(c, obj, k, v);
	path_pop(c, mark);
	return true;
}

void env_level_parse(struct lctx *c, const struct ynode *n, const struct env_level *const *outer,
		     size_t nouter, struct env_level *out)
{
	const struct ynode *fnode = y_map_get(n, "file"), *vars = y_map_get(n, "vars");
	const struct varset *saved = c->scope;
	struct kv *all = NULL;
	size_t nall = 0;
	struct varset scope;

	*out = (struct env_level){.inherit = -1, .clear_session = TRI_UNSET};
	if (!v_expect(c, n, Y_MAP))
		return;
	if (fnode && !y_is_null(fnode))
		env_files(c, fnode, out);
	/* ${VAR} in vars sees the env files of this and the enclosing levels. */
	for (size_t i = 0; i < nouter; i++)
		if (outer[i])
			append_kv(c->a, &all, &nall, outer[i]->fvars, outer[i]->nfvars);
	append_kv(c->a, &all, &nall, out->fvars, out->nfvars);
	scope.n = kv_sort_unique(all, nall);
	scope.v = all;
	out->vars = arena_array(c->a, n->n + (vars && vars->kind == Y_MAP ? vars->n : 0),
				sizeof(*out->vars));
	c->scope = &scope;
	walk_map_ex(c, n, &env_table, out, env_extra);
	c->scope = saved;
}

void env_merge(struct lctx *c, const struct env_level *const *levels, size_t n,
	       struct svc_env *out)
{
	struct kv *yv = NULL, *all = NULL;
	size_t nyv = 0, nall = 0, nfiles = 0, nstrip = 0;

	*out = (struct svc_env){.inherit = INHERIT_DEFAULT, .clear_session_vars = true};
	for (size_t i = 0; i < n; i++) {
		if (!levels[i])
			continue;
		nfiles += levels[i]->files.n;
		nstrip += levels[i]->strip.n;
		append_kv(c->a, &all, &nall, levels[i]->fvars, levels[i]->nfvars);
		append_kv(c->a, &yv, &nyv, levels[i]->vars, levels[i]->nvars);
		if (levels[i]->inherit >= 0) {
			out->inherit = (enum env_inherit)levels[i]->inherit;
			out->inherit_names = levels[i]->inherit_names;
		}
		if (levels[i]->clear_session != TRI_UNSET)
			out->clear_session_vars = levels[i]->clear_session == TRI_YES;
	}
	c->env_entries += nall + 2 * nyv;
	if (c->env_entries > CFG_MAX_ENV_ENTRIES) {
		if (c->env_entries - nall - 2 * nyv <= CFG_MAX_ENV_ENTRIES)
			lerr(c, NULL, "keep shared variables in fewer, smaller env blocks",
			     "more than %u environment variables once the top-level and project env "
			     "are merged into every service",
			     CFG_MAX_ENV_ENTRIES);
		return;
	}
	append_kv(c->a, &all, &nall, yv, nyv);
	out->vars = all;
	out->nvars = kv_sort_unique(all, nall);
	if (nyv) {
		out->yaml_vars = arena_array(c->a, nyv, sizeof(*yv));
		memcpy(out->yaml_vars, yv, nyv * sizeof(*yv));
	}
	out->nyaml_vars = kv_sort_unique(out->yaml_vars, nyv);
	out->files.v = arena_array(c->a, nfiles + 1, sizeof(char *));
	out->strip.v = arena_array(c->a, nstrip + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		if (!levels[i])
			continue;
		for (size_t j = 0; j < levels[i]->files.n; j++)
			out->files.v[out->files.n++] = levels[i]->files.v[j];
		for (size_t j = 0; j < levels[i]->strip.n; j++)
			out->strip.v[out->strip.n++] = levels[i]->strip.v[j];
	}
	if (!out->inherit_names.v) {
		out->inherit_names.v = arena_array(c->a, 1, sizeof(char *));
		out->inherit_names.n = 0;
	}
}
