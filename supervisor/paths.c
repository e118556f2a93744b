#include "supervisor/paths.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "supervisor/util.h"

static char *env_dir(const char *name)
{
	const char *v = getenv(name);
	return v && *v == '/' ? xstrdup(v) : NULL;
}

/* FNV-1a: a stable short tag for a runtime dir, so parallel supervisors
 * (tests, several users' stacks) get disjoint cgroup trees. */
static unsigned long hash_str(const char *s)
{
	unsigned long h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h & 0xffffffffu;
}

void paths_init(struct sysg_paths *p, bool system_mode)
{
	char *rt = env_dir("SYSG_RUNTIME_DIR"), *st = env_dir("SYSG_STATE_DIR");
	bool custom_rt = rt != NULL;

	p->system_mode = system_mode;
	if (system_mode) {
		p->runtime_dir = rt ? rt : xstrdup("/run/sysg");
		p->state_dir = st ? st : xstrdup("/var/lib/sysg");
		p->log_dir = st ? xasprintf("%s/logs", st) : xstrdup("/var/log/sysg");
	} else {
		char *xdg_rt = env_dir("XDG_RUNTIME_DIR"), *xdg_st = env_dir("XDG_STATE_HOME");
		const char *home = getenv("HOME");

		if (!rt)
			rt = xdg_rt ? xasprintf("%s/sysg", xdg_rt)
				    : xasprintf("/tmp/sysg-%u", (unsigned)getuid());
		if (!st)
			st = xdg_st ? xasprintf("%s/sysg", xdg_st)
			     : home && *home == '/' ? xasprintf("%s/.local/state/sysg", home)
						    : xasprintf("/tmp/sysg-%u/state", (unsigned)getuid());
		free(xdg_rt);
		free(xdg_st);
		p->runtime_dir = rt;
		p->state_dir = st;
		p->log_dir = xasprintf("%s/logs", st);
	}
	p->control_sock = xasprintf("%s/control.sock", p->runtime_dir);
	if (custom_rt)
		p->instance = xasprintf("sysg-%08lx", hash_str(p->runtime_dir));
	else
		p->instance = system_mode ? xstrdup("sysg")
					  : xasprintf("sysg-user-%u", (unsigned)getuid());
}

int paths_create(const struct sysg_paths *p, const char **what)
{
	uid_t me = geteuid();
	int r;

	/* System mode: traversable (not listable) so that services running as other
	 * users reach what is theirs below it (credentials, notify sockets); every
	 * entry has its own restrictive mode. */
	if ((r = mkdir_secure(p->runtime_dir, p->system_mode ? 0711 : 0700, me)) < 0) {
		*what = p->runtime_dir;
		return r;
	}
	if ((r = mkdir_secure(p->state_dir, 0700, me)) < 0) {
		*what = p->state_dir;
		return r;
	}
	if ((r = mkdir_secure(p->log_dir, p->system_mode ? 0750 : 0700, me)) < 0) {
		*what = p->log_dir;
		return r;
	}
	return 0;
}

void paths_free(struct sysg_paths *p)
{
	free(p->runtime_dir);
	free(p->state_dir);
	free(p->log_dir);
	free(p->control_sock);
	free(p->instance);
}

char *paths_default_config(bool system_mode)
{
	static const char *const user_files[] = {"sysg.yaml", "systemg.yaml"};
	char *cwd;

	if (system_mode)
		return access("/etc/sysg/sysg.yaml", F_OK) == 0 ? xstrdup("/etc/sysg/sysg.yaml") : NULL;
	for (size_t i = 0; i < ARRAY_SIZE(user_files); i++) {
		if (access(user_files[i], F_OK) == 0) {
			cwd = getcwd(NULL, 0);
			char *path = cwd ? xasprintf("%s/%s", cwd, user_files[i]) : xstrdup(user_files[i]);
			free(cwd);
			return path;
		}
	}
	return NULL;
}
