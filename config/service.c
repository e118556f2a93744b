/* A service's keys (SPEC §2.2, §2.3): what runs, as whom, and its
 * lifecycle. Probes, hooks and cron are in probes.c; limits, capabilities and
 * isolation in limits.c; sockets and networking in netcfg.c. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "config/internal.h"

_Static_assert(sizeof(enum restart_policy) == sizeof(int), "V_ENUM writes an int");
_Static_assert(sizeof(enum kill_mode) == sizeof(int), "V_ENUM writes an int");
_Static_assert(sizeof(enum dep_cond) == sizeof(int), "V_ENUM writes an int");
_Static_assert(sizeof(enum secret_delivery) == sizeof(int), "V_ENUM writes an int");

void svc_defaults(struct lctx *c, struct svc_config *s)
{
	s->working_dir = c->cfg->dir;
	s->umask = 0022;
	s->restart = RESTART_NEVER;
	s->backoff = 1 * USEC_PER_SEC;
	s->backoff_max = 60 * USEC_PER_SEC;
	s->stable_after = 60 * USEC_PER_SEC;
	s->restart_window = 15 * 60 * USEC_PER_SEC;
	s->max_restarts = SYSG_UNLIMITED;
	s->stop_signal = SIGTERM;
	s->stop_timeout = 10 * USEC_PER_SEC;
	s->kill_mode = KILL_CGROUP;
	s->ready = (struct probe){.kind = PROBE_NONE, .timeout = 90 * USEC_PER_SEC,
				  .interval = 1 * USEC_PER_SEC};
	s->health = (struct probe){.kind = PROBE_NONE, .timeout = 5 * USEC_PER_SEC,
				   .interval = 10 * USEC_PER_SEC, .retries = 3};
	s->onstart.timeout = s->onerr.timeout = 30 * USEC_PER_SEC;
	s->logs = (struct logs_def){.sink = LOG_SINK_UNSET, .max_bytes = 10u << 20,
				    .max_files = 5, .timestamps = true};
	s->iso.pid = s->iso.mount = s->iso.network = s->iso.ipc = s->iso.uts = TRI_UNSET;
	s->iso.user = s->iso.cgroupns = s->iso.no_new_privileges = TRI_UNSET;
	s->iso.private_tmp = s->iso.private_devices = s->iso.read_only_rootfs = TRI_UNSET;
	s->iso.protect_kernel = s->iso.memory_deny_write_execute = TRI_UNSET;
	s->supplementary_groups.v = arena_array(c->a, 1, sizeof(char *));
}

/* ---- what runs ------------------------------------------------------------------ */

int read_command(struct lctx *c, const struct ynode *v, struct cmd *out)
{
	const char *t = v_text(c, v), *why;

	if (!t)
		return -1;
	if (cmd_parse(c->a, t, out, &why) < 0) {
		lerr(c, v, "quote with '...' or \"...\"; a command with shell syntax runs under /bin/sh -c",
		     "the command %s", why);
		return -1;
	}
	return 0;
}

static int svc_command(struct lctx *c, const struct key_def *kd, const struct ynode *v, void *obj)
{
	struct svc_config *s = obj;
	(void)kd;
	return read_command(c, v, &s->cmd);
}

static int svc_exec(struct lctx *c, const struct key_def *kd, const struct ynode *v, void *obj)
{
	struct svc_config *s = obj;
	struct cmd cmd = {0};

	(void)kd;
	if (v_list(c, v, false, NULL, NULL, &cmd.argv) < 0)
		return -1;
	if (cmd.argv.n == 0 || !*cmd.argv.v[0]) {
		lerr(c, v, "the first item is the program to run", "the argv list has no program");
		return -1;
	}
	cmd.text = argv_render(c->a, cmd.argv.v);
	s->cmd = cmd;
	return 0;
}

static int svc_working_dir(struct lctx *c, const struct key_def *kd, const struct ynode *v,
			   void *obj)
{
	struct svc_config *s = obj;
	char *p = v_path(c, v, c->cfg->dir);

	(void)kd;
	if (p)
		s->working_dir = p;
	return p ? 0 : -1;
}

static int svc_env_done(struct lctx *c, const struct key_def *kd, const struct ynode *v, void *obj)
{
	(void)c, (void)kd, (void)v, (void)obj; /* read first, by the loader */
	return 0;
}

/* A user or group: a name, or a number 0..4294967294 (-1 is "no id"); a
 * number may be quoted ("1000"), like in docker compose. */
const char *user_item(struct lctx *c, const struct ynode *n, void *arg)
{
	const char *s = v_word(c, n, "the name"), *p;
	uint64_t id = 0;

	(void)arg;
	if (!s)
		return NULL;
	if ((*s >= '0' && *s <= '9') || *s == '-' || *s == '+') {
		const char *digits = *s == '+' || *s == '-' ? s + 1 : s;
		bool big = false;
		for (p = digits; *p >= '0' && *p <= '9'; p++) {
			id = id * 10 + (uint64_t)(*p - '0');
			big = big || id > 4294967294u;
		}
		if (*p || p == digits) {
			lerr(c, n, NULL, "%s is not a valid user or group id", quote(c, s));
			return NULL;
		}
		if (big || (*s == '-' && id)) {
			lerr(c, n, "from 0 to 4294967294", "%s is out of range", quote(c, s));
			return NULL;
		}
		return arena_printf(c->a, "%llu", (unsigned long long)id);
	}
	if (!user_name_valid(s)) {
		lerr(c, n, "names are letters, digits, '_', '.' and '-' (at most 32)",
		     "%s is not a valid user or group name", quote(c, s));
		return NULL;
	}
	return s;
}

static int svc_user(struct lctx *c, const struct key_def *kd, const struct ynode *v, void *obj)
{
	const char *s = user_item(c, v, NULL);

	if (s)
		*(char **)((char *)obj + kd->off) = (char *)s;
	return s ? 0 : -1;
}

static int svc_groups(struct lctx *c, const struct key_def *kd, const struct ynode *v, void *obj)
{
	struct svc_config *s = obj;
	(void)kd;
	return v_list(c, v, false, user_item, NULL, &s->supplementary_groups);
}

static int svc_umask(struct lctx *c, const struct key_def *kd, const struct ynode *v, void *obj)
{
	struct svc_config *s = obj;
	const char *t = v->kind == Y_SCALAR ? v_text(c, v) : NULL, *p;
	unsigned m = 0;

	(void)kd;
	if (v->kind != Y_SCALAR) {
		lerr(c, v, NULL, "expected an octal mode such as 0022, not %s", y_kind_name(v));
		return -1;
	}
	if (!t)
		return -1;
	p = !strncmp(t, "0o", 2) ? t + 2 : t;
	if (!*p || strlen(p) > 4 || p[strspn(p, "01234567")]) {
		lerr(c, v, "write it in octal, such as 0022 or 0077", "%s is not an octal umask",
		     quote(c, t));
		return -1;
	}
	m = (unsigned)strtoul(p, NULL, 8);
	if (m > 0777) {
		lerr(c, v, "at most 0777", "%s is out of range", quote(c, t));
		return -1;
	}
	s->umask = (mode_t)m;
	return 0;
}

/* ---- lifecycle -------------------------------------------------------------------- */

static int svc_signal(struct lctx *c, const struct key_def *kd, const struct ynode *v, void *obj)
{
	struct svc_config *s = obj;
	const char *t = v->kind == Y_SCALAR ? v_word(c, v, NULL) : NULL;
	int sig;

	(void)kd;
	if (v->kind != Y_SCALAR) {
		lerr(c, v, NULL, "expected a signal name or number, not %s", y_kind_name(v));
		return -1;
	}
	if (!t)
		return -1;
	sig = parse_signal(t);
	if (sig < 0) {
		lerr(c, v, "use a name such as SIGTERM, SIGINT, SIGQUIT or SIGHUP, or a number",
		     "%s is not a signal", quote(c, t));
		return -1;
	}
	if (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU) {
		lerr(c, v, "a stopped service never exits; use SIGTERM or SIGINT",
		     "%s only suspends the process", quote(c, t));
		return -1;
	}
	s->stop_signal = sig;
	return 0;
}

KEYS(dep_table, "depends_on[]",
	K_(
	"service", V_STR, struct dep, name, "the service waited for: name or project/name"),
	K_ENUM("condition", struct dep, cond, dep_cond_names, DEP__COUNT, 0,
	       "started (exec'd), ready (default: readiness passed) or completed (exited 0)"),
);

static int svc_depends(struct lctx *c, const struct key_def *kd, const struct ynode *v, void *obj)
{
	struct svc_config *s = obj;

	(void)kd;
	if (!v_expect(c, v, Y_SEQ))
		return -1;
	s->deps = arena_array(c->a, v->n ? v->n : 1, sizeof(*s->deps));
	for (size_t i = 0; i < v->n; i++) {
		const struct ynode *it = v->items[i];
		size_t mark = path_push_index(c, i);
		struct dep d = {.cond = DEP_READY, .index = SIZE_MAX, .line = it->line, .col = it->col};

		if (it->kind == Y_MAP) {
			uint64_t seen = walk_map(c, it, &dep_table, &d);
			if (!key_seen(seen, &dep_table, "service") && !d.name) {
				lerr(c, it, "{service: db, condition: ready}", "names no service");
				d.name = NULL;
			}
		} else if (it->kind == Y_SCALAR) {
			d.name = (char *)v_word(c, it, "the service name");
		} else {
			lerr(c, it, NULL, "expected a service name or {service, condition}, not %s",
			     y_kind_name(it));
		}
		if (d.name)
			s->deps[s->ndeps++] = d;
		path_pop(c, mark);
	}
	return 0;
}

static int svc_logs(struct lctx *c, const struct key_def *kd, const struct ynode *v, void *obj)
{
	(void)kd, (void)obj;
	c->sb->logs.v = c->sb->s->logs;
	c->sb->logs.seen = walk_map(c, v, &logs_table, &c->sb->logs.v);
	c->sb->logs_given = true;
	return 0;
}

/* ---- secrets (SPEC §2.2) ---------------------------------------------------------- */

static int secret_src(struct lctx *c, const struct key_def *kd, const struct ynode *v, void *obj)
{
	struct secret_def *sd = obj;
	const char *t = NULL;

	if (sd->ref) {
		lerr(c, v, "give one of file, env or value", "the secret already has a source");
		return -1;
	}
	sd->source = (enum secret_source)kd->first;
	if (sd->source == SECRET_FILE)
		t = v_path(c, v, c->cfg->dir);
	else if (sd->source == SECRET_ENV) {
		t = v_word(c, v, "the variable name");
		if (t && !env_name_valid(t)) {
			lerr(c, v, NULL, "%s is not a valid environment variable name", quote(c, t));
			t = NULL;
		}
	} else {
		t = v_text(c, v);
	}
	sd->ref = (char *)t;
	return t ? 0 : -1;
}

KEYS(secret_table, "secrets.NAME",
	{.name = "file", .kind = V_CUSTOM, .fn = secret_src, .first = SECRET_FILE,
	 .help = "read from this file when the service starts"},
	{.name = "env", .kind = V_CUSTOM, .fn = secret_src, .first = SECRET_ENV,
	 .help = "taken from this variable of sysg's environment"},
	{.name = "value", .kind = V_CUSTOM, .fn = secret_src, .first = SECRET_VALUE,
	 .help = "the secret itself (prefer file or env)"},
	K_ENUM("deliver", struct secret_def, deliver, secret_delivery_names, DELIVER__COUNT, 0,
	       "env (default): an environment variable; file: a file in $CREDENTIALS_DIRECTORY"),
);

static int svc_secrets(struct lctx *c, const struct key_def *kd, const struct ynode *v, void *obj)
{
	struct svc_config *s = obj;

	(void)kd;
	if (!v_expect(c, v, Y_MAP))
		return -1;
	s->secrets = arena_array(c->a, v->n ? v->n : 1, sizeof(*s->secrets));
	for (size_t i = 0; i < v->n; i++) {
		const struct ynode *k = y_key(v, i), *sv = y_val(v, i);
		struct secret_def sd = {.name = (char *)k->str, .deliver = DELIVER_ENV};
		size_t mark = path_push(c, k->str);

		if (!env_name_valid(k->str) || !service_name_valid(k->str)) {
			lerr(c, k, "a secret's name is an env var name and a file name: "
				   "letters, digits, '_', '.', '-'",
			     "%s is not a valid secret name", quote(c, k->str));
		} else if (y_is_null(sv) || sv->kind != Y_MAP) {
			lerr(c, sv, "{file: path}, {env: NAME} or {value: \"...\"}",
			     "expected the secret's source, not %s", y_kind_name(sv));
		} else {
			walk_map(c, sv, &secret_table, &sd);
			if (!sd.ref)
				lerr(c, sv, "add file, env or value", "the secret has no source");
			else
				s->secrets[s->nsecrets++] = sd;
		}
		path_pop(c, mark);
	}
	return 0;
}

KEYS(service_table, "service",
	K_FN("command", svc_command, "the program to run: split like a shell would, or run under "
				     "/bin/sh -c when it has shell syntax"),
	K_FN("exec", svc_exec, "the program to run as an argv list, exec'd directly"),
	K_FN("working_dir", svc_working_dir, "directory to run in, relative to the service file"),
	K_FN("env", svc_env_done, "environment: vars, file, inherit_env, strip, plain NAME: value"),
	K_FN("secrets", svc_secrets, "secrets: {NAME: {file|env|value, deliver}}"),
	K_FNX("user", svc_user, offsetof(struct svc_config, user), "user to run as (name or uid)"),
	K_FNX("group", svc_user, offsetof(struct svc_config, group), "group to run as (name or gid)"),
	K_FN("supplementary_groups", svc_groups, "more groups (names or gids)"),
	K_FN("umask", svc_umask, "file mode creation mask, octal (default 0022)"),
	K_FN("skip", svc_skip, "true, or a command whose exit 0 skips the service"),
	K_ENUM("restart_policy", struct svc_config, restart, restart_policy_names, RESTART__COUNT, 0,
	       "never (default), on-failure or always"),
	K_(
	"backoff", V_DURATION, struct svc_config, backoff, "first restart delay (default 1s)"),
	K_(
	"backoff_max", V_DURATION_POS, struct svc_config, backoff_max,
	"the delay doubles up to this (default 1m)"),
	K_(
	"stable_after", V_DURATION, struct svc_config, stable_after,
	"up this long resets the delay (default 60s)"),
	K_(
	"restart_window", V_DURATION_POS, struct svc_config, restart_window,
	"max_restarts counts restarts inside this window (default 15m)"),
	K_RANGE("max_restarts", V_U64, struct svc_config, max_restarts, 0, UINT32_MAX,
		"give up after this many restarts in the window (default unlimited)"),
	K_FN("stop_signal", svc_signal, "signal that asks the service to stop (default SIGTERM)"),
	K_(
	"stop_timeout", V_DURATION, struct svc_config, stop_timeout,
	"SIGKILL after this long (default 10s)"),
	K_ENUM("kill_mode", struct svc_config, kill_mode, kill_mode_names, KILL__COUNT, 0,
	       "what is killed: cgroup (default), group or process"),
	K_FN("depends_on", svc_depends, "services started first: [name] or [{service, condition}]"),
	K_FN("ready", svc_ready, "when the service is up: notify, or {tcp|http|exec|log, timeout, interval}"),
	K_FN("health_check", svc_health, "liveness probe: {tcp|http|exec|log, interval, timeout, retries}"),
	K_(
	"watchdog", V_DURATION_POS, struct svc_config, watchdog,
	"the service must send WATCHDOG=1 at least this often"),
	K_FN("hooks", svc_hooks, "commands run on start (onstart) and on failure (onerr)"),
	K_FN("cron", svc_cron, "run on a schedule: {expression, timezone, timeout, catch_up}"),
	K_FN("sockets", svc_sockets, "sockets sysg opens and passes in (socket activation)"),
	K_FN("limits", svc_limits, "rlimits, nice, cpu_affinity, oom_score_adj, cgroup limits"),
	K_FN("capabilities", svc_caps, "the only capabilities the service keeps"),
	K_FN("isolation", svc_isolation, "namespaces, filesystem protection, seccomp, Landlock"),
	K_FN("logs", svc_logs, "where output goes: sink, max_bytes, max_files, timestamps"),
	K_FN("network", svc_network, "bridge networking, ports and policy (system mode)"),
	K_FN("deployment", svc_deployment, "systemg's deployment block: strategy and health_check"),
	K_SYSTEMG("spawn", "dynamic child spawning: remove the spawn block"),
	K_HINT("environment", "env"),
	K_HINT("cmd", "command"),
	K_HINT("entrypoint", "exec"),
	K_HINT("restart", "restart_policy"),
	K_HINT("workdir", "working_dir"),
	K_HINT("ports", "network.ports"),
);

/* ---- after the keys -------------------------------------------------------------- */

static void merge_logs(struct svc_build *b)
{
	const struct logs_level *lv[3] = {b->logs_outer[0], b->logs_outer[1],
					  b->logs_given ? &b->logs : NULL};
	struct logs_def *out = &b->s->logs;

	for (size_t i = 0; i < 3; i++) {
		if (!lv[i])
			continue;
		if (key_seen(lv[i]->seen, &logs_table, "sink"))
			out->sink = lv[i]->v.sink;
		if (key_seen(lv[i]->seen, &logs_table, "max_bytes"))
			out->max_bytes = lv[i]->v.max_bytes;
		if (key_seen(lv[i]->seen, &logs_table, "max_files"))
			out->max_files = lv[i]->v.max_files;
		if (key_seen(lv[i]->seen, &logs_table, "timestamps"))
			out->timestamps = lv[i]->v.timestamps;
	}
}

void svc_finish(struct lctx *c, struct svc_build *b, uint64_t seen)
{
	struct svc_config *s = b->s;
	bool has_cmd = key_seen(seen, &service_table, "command");
	bool has_exec = key_seen(seen, &service_table, "exec");

	if (has_cmd && has_exec)
		lerr(c, b->key, "command runs a command line, exec an argv list: keep one",
		     "has both command and exec");
	else if (!has_cmd && !has_exec)
		lerr(c, b->key, "add command: \"...\" or exec: [program, args...]",
		     "has neither command nor exec");
	merge_logs(b);
	if (!key_seen(seen, &service_table, "backoff_max") && s->backoff > s->backoff_max)
		s->backoff_max = s->backoff;
	else if (s->backoff > s->backoff_max)
		lerr(c, b->key, "make backoff at most backoff_max",
		     "backoff (%s) is longer than backoff_max (%s)", duration_str(c->a, s->backoff),
		     duration_str(c->a, s->backoff_max));
	if (b->sg_health) {
		if (key_seen(seen, &service_table, "ready"))
			lerr(c, b->sg_health, "they mean the same: keep ready",
			     "has both ready and deployment.health_check");
		else
			s->ready = b->sg_ready;
	}
	if (!s->deps)
		s->deps = arena_array(c->a, 1, sizeof(*s->deps));
}
