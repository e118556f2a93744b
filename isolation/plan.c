/* Parent half of a service start: turn a svc_config into an exec_plan. Every
 * lookup that may allocate or touch NSS happens here, before the fork. */
#include "isolation/plan.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "supervisor/util.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* Variables that belong to sysg or to whoever started sysg: they reach a
 * service only when sysg sets them for it (plan_ctx.extra_env). */
static bool env_private(const char *entry)
{
	static const char *const names[] = {
		"LISTEN_FDS=", "LISTEN_PID=", "LISTEN_FDNAMES=", "NOTIFY_SOCKET=",
		"WATCHDOG_USEC=", "WATCHDOG_PID=", "CREDENTIALS_DIRECTORY=", "INVOCATION_ID=",
		"JOURNAL_STREAM=", "MAINPID=", "SYSG_",
	};
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (str_has_prefix(entry, names[i]))
			return true;
	return false;
}

static size_t name_len(const char *entry)
{
	const char *eq = strchr(entry, '=');
	return eq ? (size_t)(eq - entry) : strlen(entry);
}

static bool strv_has_name(const struct strv *v, const char *entry)
{
	size_t n = name_len(entry);
	for (size_t i = 0; i < v->n; i++)
		if (strlen(v->v[i]) == n && strncmp(v->v[i], entry, n) == 0)
			return true;
	return false;
}

struct envb {
	char **v;
	size_t n, cap;
};

/* Adds or replaces NAME=value; takes ownership of entry. */
static void envb_put(struct envb *e, char *entry)
{
	size_t n = name_len(entry);
	for (size_t i = 0; i < e->n; i++) {
		if (name_len(e->v[i]) == n && strncmp(e->v[i], entry, n) == 0) {
			free(e->v[i]);
			e->v[i] = entry;
			return;
		}
	}
	if (e->n + 2 > e->cap) {
		e->cap = e->cap ? e->cap * 2 : 32;
		e->v = xreallocarray(e->v, e->cap, sizeof(*e->v));
	}
	e->v[e->n++] = entry;
	e->v[e->n] = NULL;
}

static const char *envb_get(const struct envb *e, const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < e->n; i++)
		if (strncmp(e->v[i], name, n) == 0 && e->v[i][n] == '=')
			return e->v[i] + n + 1;
	return NULL;
}

static bool session_var(const char *entry)
{
	size_t n = name_len(entry);
	for (size_t i = 0; sysg_session_env_vars[i]; i++)
		if (strlen(sysg_session_env_vars[i]) == n && !strncmp(sysg_session_env_vars[i], entry, n))
			return true;
	return false;
}

/* Env files are read again at every start, so an edited file applies on restart. */
static int apply_env_files(const struct svc_config *svc, struct envb *e, char **why)
{
	for (size_t i = 0; i < svc->env.files.n; i++) {
		struct sysg_diags d = {0};
		struct envfile ef = {0};
		int r = envfile_read(svc->env.files.v[i], &ef, &d);

		if (r < 0) {
			*why = r == -EINVAL && d.n
				       ? xasprintf("env file %s:%u:%u: %s", d.v[0].file, d.v[0].line,
						   d.v[0].col, d.v[0].msg)
				       : xasprintf("env file %s: %s", svc->env.files.v[i], strerror(-r));
			envfile_free(&ef);
			diags_free(&d);
			return r;
		}
		for (size_t j = 0; j < ef.n; j++)
			envb_put(e, xasprintf("%s=%s", ef.v[j].key, ef.v[j].value));
		envfile_free(&ef);
		diags_free(&d);
	}
	return 0;
}

static void envb_free(struct envb *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->v[i]);
	free(e->v);
}

int plan_build_env(const struct svc_config *svc, const struct plan_ctx *ctx, const char *home,
		   const char *user, const char *shell, char ***out, char **why)
{
	extern char **environ;
	char *const *host = ctx->environ ? ctx->environ : environ;
	enum env_inherit inherit = svc->env.inherit;
	struct envb e = {0};
	int r;

	if (inherit == INHERIT_DEFAULT)
		inherit = ctx->system_mode ? INHERIT_NONE : INHERIT_ALL;
	for (size_t i = 0; inherit != INHERIT_NONE && host[i]; i++) {
		if (env_private(host[i]) || !strchr(host[i], '='))
			continue;
		if (inherit == INHERIT_LIST && !strv_has_name(&svc->env.inherit_names, host[i]))
			continue;
		if (strv_has_name(&svc->env.strip, host[i]))
			continue;
		if (svc->env.clear_session_vars && session_var(host[i]))
			continue;
		envb_put(&e, xstrdup(host[i]));
	}
	if (user) {
		/* A service that runs as someone else gets that someone's identity. */
		envb_put(&e, xasprintf("USER=%s", user));
		envb_put(&e, xasprintf("LOGNAME=%s", user));
		if (home)
			envb_put(&e, xasprintf("HOME=%s", home));
		if (shell)
			envb_put(&e, xasprintf("SHELL=%s", shell));
	}
	if (!envb_get(&e, "PATH"))
		envb_put(&e, xstrdup("PATH=" DEFAULT_PATH));
	if ((r = apply_env_files(svc, &e, why)) < 0) {
		envb_free(&e);
		return r;
	}
	for (size_t i = 0; i < svc->env.nyaml_vars; i++)
		envb_put(&e, xasprintf("%s=%s", svc->env.yaml_vars[i].key, svc->env.yaml_vars[i].value));
	for (size_t i = 0; ctx->secret_env && ctx->secret_env[i]; i++)
		envb_put(&e, xstrdup(ctx->secret_env[i]));
	for (size_t i = 0; i < ctx->nextra_env; i++)
		envb_put(&e, xasprintf("%s=%s", ctx->extra_env[i].key, ctx->extra_env[i].value));
	*out = e.v;
	return 0;
}

static bool parse_id(const char *s, unsigned long *out)
{
	char *end;
	if (!*s || strspn(s, "0123456789") != strlen(s))
		return false;
	errno = 0;
	*out = strtoul(s, &end, 10);
	return errno == 0 && *out < UINT32_MAX;
}

static int resolve_group(const char *name, gid_t *gid, char **why)
{
	struct group gr, *res = NULL;
	char buf[16384];
	unsigned long n;

	if (parse_id(name, &n)) {
		*gid = n;
		return 0;
	}
	int r = getgrnam_r(name, &gr, buf, sizeof(buf), &res);
	if (!res) {
		*why = xasprintf("group '%s': %s", name, r ? strerror(r) : "no such group");
		return r ? -r : -ENOENT;
	}
	*gid = gr.gr_gid;
	return 0;
}

struct identity {
	char *name, *home, *shell;
};

static int resolve_ids(const struct svc_config *svc, struct exec_plan *p, struct identity *id,
		       char **why)
{
	struct passwd pw, *res = NULL;
	char buf[16384];
	unsigned long n;
	int r;

	if (!svc->user && !svc->group && !svc->supplementary_groups.n)
		return 0;
	p->uid = getuid();
	p->gid = getgid();
	if (svc->user) {
		if (parse_id(svc->user, &n)) {
			p->uid = p->gid = n;
			r = getpwuid_r(n, &pw, buf, sizeof(buf), &res);
		} else {
			r = getpwnam_r(svc->user, &pw, buf, sizeof(buf), &res);
			if (!res) {
				*why = xasprintf("user '%s': %s", svc->user,
						 r ? strerror(r) : "no such user");
				return r ? -r : -ENOENT;
			}
		}
		if (res) {
			p->uid = pw.pw_uid;
			p->gid = pw.pw_gid;
			id->name = xstrdup(pw.pw_name);
			id->home = xstrdup(pw.pw_dir);
			id->shell = xstrdup(pw.pw_shell);
		}
	}
	if (svc->group && (r = resolve_group(svc->group, &p->gid, why)) < 0)
		return r;
	if (svc->supplementary_groups.n) {
		p->groups = xcalloc(svc->supplementary_groups.n, sizeof(gid_t));
		for (size_t i = 0; i < svc->supplementary_groups.n; i++)
			if ((r = resolve_group(svc->supplementary_groups.v[i], &p->groups[i], why)) < 0)
				return r;
		p->ngroups = svc->supplementary_groups.n;
	} else if (id->name) {
		/* Like initgroups(3): the user's groups from the group database. */
		int ng = 32;
		p->groups = xcalloc(ng, sizeof(gid_t));
		if (getgrouplist(id->name, p->gid, p->groups, &ng) < 0) {
			p->groups = xreallocarray(p->groups, ng, sizeof(gid_t));
			getgrouplist(id->name, p->gid, p->groups, &ng);
		}
		p->ngroups = ng;
	}
	if (geteuid() != 0) {
		if (p->uid == geteuid() && p->gid == getegid() && !svc->supplementary_groups.n)
			return 0; /* running as ourselves: nothing to switch */
		*why = xasprintf("user/group: switching identity needs a supervisor running as root "
				 "(use sysg --sys, or isolation.user for a user namespace)");
		return -EPERM;
	}
	p->set_ids = true;
	return 0;
}

/* execvp's search, done in the parent with the service's PATH. */
static int resolve_path(const char *prog, const char *path_env, char **out, char **why)
{
	struct stat st;

	if (strchr(prog, '/')) {
		*out = xstrdup(prog); /* a relative path is resolved by execve, after chdir */
		return 0;
	}
	for (const char *dir = path_env; dir;) {
		const char *colon = strchr(dir, ':');
		size_t len = colon ? (size_t)(colon - dir) : strlen(dir);
		char *cand = len ? xasprintf("%.*s/%s", (int)len, dir, prog) : xasprintf("./%s", prog);

		if (stat(cand, &st) == 0 && S_ISREG(st.st_mode) && access(cand, X_OK) == 0) {
			*out = cand;
			return 0;
		}
		free(cand);
		dir = colon ? colon + 1 : NULL;
	}
	*why = xasprintf("'%s' not found in PATH (%s)", prog, path_env);
	return -ENOENT;
}

static void plan_limits(const struct svc_config *svc, const struct plan_ctx *ctx,
			struct exec_plan *p)
{
	const struct limits *l = &svc->limits;

	for (int i = 0; i < SYSG_RLIM__COUNT; i++) {
		if (!l->rlim[i].set)
			continue;
		p->rlim_set[i] = true;
		p->rlim[i].rlim_cur = l->rlim[i].soft;
		p->rlim[i].rlim_max = l->rlim[i].hard;
	}
	if (!p->rlim_set[SYSG_RLIM_NOFILE] && ctx->nofile_soft) {
		/* sysg raised its own soft limit to hold many fds; services get the
		 * limit sysg was started with (select()-based programs need <= 1024). */
		struct rlimit cur;
		getrlimit(RLIMIT_NOFILE, &cur);
		p->rlim_set[SYSG_RLIM_NOFILE] = true;
		p->rlim[SYSG_RLIM_NOFILE].rlim_cur = ctx->nofile_soft;
		p->rlim[SYSG_RLIM_NOFILE].rlim_max = cur.rlim_max;
	}
	p->nice_set = l->nice_set;
	p->nice = l->nice;
	p->oom_score_adj_set = l->oom_score_adj_set;
	p->oom_score_adj = l->oom_score_adj;
	if (l->ncpu_affinity) {
		unsigned max = 0;
		for (size_t i = 0; i < l->ncpu_affinity; i++)
			if (l->cpu_affinity[i] > max)
				max = l->cpu_affinity[i];
		p->affinity = CPU_ALLOC(max + 1);
		p->affinity_size = CPU_ALLOC_SIZE(max + 1);
		CPU_ZERO_S(p->affinity_size, p->affinity);
		for (size_t i = 0; i < l->ncpu_affinity; i++)
			CPU_SET_S(l->cpu_affinity[i], p->affinity_size, p->affinity);
	}
}

int plan_build(const struct svc_config *svc, const struct plan_ctx *ctx, struct exec_plan *p,
	       char **why)
{
	struct identity id = {0};
	struct iso_ctx ictx;
	size_t n;
	int r;

	memset(p, 0, sizeof(*p));
	p->listen_pid_slot = -1;
	p->cg.clone_fd = -1;
	for (int i = 0; i < CG_CHILD_MAX_FDS; i++)
		p->cg.procs_fds[i] = -1;
	sigemptyset(&p->sigmask);
	if ((r = resolve_ids(svc, p, &id, why)) < 0)
		goto out;
	if ((r = plan_build_env(svc, ctx, id.home, id.name, id.shell, &p->envp, why)) < 0)
		goto out;
	for (n = 0; p->envp[n]; n++) {
		if (str_has_prefix(p->envp[n], "LISTEN_FDS=")) {
			/* Room for the pid, which only the child knows (it may be 1 in a PID namespace). */
			p->envp = xreallocarray(p->envp, n + 3, sizeof(char *));
			memmove(p->envp + n + 2, p->envp + n + 1, sizeof(char *));
			p->envp[n + 1] = xcalloc(1, sizeof("LISTEN_PID=") + 12);
			memcpy(p->envp[n + 1], "LISTEN_PID=", sizeof("LISTEN_PID="));
			p->listen_pid_slot = n + 1;
			break;
		}
	}
	p->cwd = xstrdup(svc->working_dir);
	p->umask = svc->umask;
	const struct cmd *cmd = ctx->cmd ? ctx->cmd : &svc->cmd;
	p->argv = xcalloc(cmd->argv.n + 1, sizeof(char *));
	for (size_t i = 0; i < cmd->argv.n; i++)
		p->argv[i] = xstrdup(cmd->argv.v[i]);
	const char *path_env = NULL;
	for (n = 0; p->envp[n]; n++)
		if (str_has_prefix(p->envp[n], "PATH="))
			path_env = p->envp[n] + 5;
	if ((r = resolve_path(p->argv[0], path_env ? path_env : DEFAULT_PATH, &p->path, why)) < 0)
		goto out;
	p->stdio[0] = ctx->stdin_fd;
	p->stdio[1] = p->stdio[2] = ctx->out_fd;
	if (ctx->npass_fds) {
		p->pass_fds = xcalloc(ctx->npass_fds, sizeof(int));
		memcpy(p->pass_fds, ctx->pass_fds, ctx->npass_fds * sizeof(int));
		p->npass_fds = ctx->npass_fds;
	}
	plan_limits(svc, ctx, p);
	ictx = (struct iso_ctx){.system_mode = ctx->system_mode, .uid = p->uid, .gid = p->gid,
				.set_ids = p->set_ids};
	r = iso_plan_build(svc, &ictx, &p->iso, why);
out:
	free(id.name);
	free(id.home);
	free(id.shell);
	if (r < 0)
		plan_free(p);
	return r;
}

static void free_strv(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

void plan_free(struct exec_plan *p)
{
	free(p->path);
	free_strv(p->argv);
	free_strv(p->envp);
	free(p->cwd);
	free(p->groups);
	free(p->pass_fds);
	if (p->affinity)
		CPU_FREE(p->affinity);
	cg_child_close(&p->cg);
	iso_plan_free(&p->iso);
	memset(p, 0, sizeof(*p));
	p->listen_pid_slot = -1;
	p->cg.clone_fd = -1;
	for (int i = 0; i < CG_CHILD_MAX_FDS; i++)
		p->cg.procs_fds[i] = -1;
}
