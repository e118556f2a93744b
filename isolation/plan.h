/* The exec plan: everything a service's child process needs, as plain data
 * built in the parent (DESIGN §4.1). The child (exec_child) only reads it:
 * no malloc, no stdio, no NSS, no filter compilation after fork.
 */
#ifndef SYSG_PLAN_H
#define SYSG_PLAN_H

#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cgroup/cgroup.h"
#include "config/config.h"
#include "isolation/iso.h"

/* Where the child was when it failed; sent to the parent with errno. */
enum exec_stage {
	EXEC_STAGE_NONE,
	EXEC_STAGE_PLAN,       /* in the parent: building the plan (user lookup, PATH search) */
	EXEC_STAGE_CLONE,      /* in the parent: clone3 */
	EXEC_STAGE_SIGNALS,
	EXEC_STAGE_SYNC,       /* waiting for the parent (uid/gid maps) */
	EXEC_STAGE_SETSID,
	EXEC_STAGE_FDS,
	EXEC_STAGE_CGROUP,
	EXEC_STAGE_RLIMITS,
	EXEC_STAGE_NICE,
	EXEC_STAGE_AFFINITY,
	EXEC_STAGE_OOM_SCORE,
	EXEC_STAGE_NAMESPACES,
	EXEC_STAGE_MOUNTS,
	EXEC_STAGE_HOSTNAME,
	EXEC_STAGE_NETWORK,
	EXEC_STAGE_SETGROUPS,
	EXEC_STAGE_SETGID,
	EXEC_STAGE_SETUID,
	EXEC_STAGE_CAPABILITIES,
	EXEC_STAGE_UMASK,
	EXEC_STAGE_CHDIR,
	EXEC_STAGE_NO_NEW_PRIVS,
	EXEC_STAGE_LANDLOCK,
	EXEC_STAGE_SECCOMP,
	EXEC_STAGE_EXEC,
	EXEC_STAGE__COUNT
};
extern const char *const exec_stage_names[EXEC_STAGE__COUNT];

struct exec_report {
	int32_t stage; /* enum exec_stage */
	int32_t err;   /* errno */
};

struct plan_ctx {
	bool system_mode;
	char *const *environ;     /* the supervisor's environment */
	struct kv *extra_env;     /* set by sysg for this start: NOTIFY_SOCKET, LISTEN_*, ... */
	size_t nextra_env;
	rlim_t nofile_soft;       /* the soft RLIMIT_NOFILE sysg itself started with */
	int stdin_fd, out_fd;     /* the child's fd 0 and fds 1+2 */
	const int *pass_fds;      /* become fds 3, 4, ... in order (LISTEN_FDS) */
	size_t npass_fds;
	const char *const *secret_env; /* "NAME=value" strings delivered as env, or NULL */
	const struct cmd *cmd;    /* run this instead of the service's command (probes, hooks), or NULL */
};

struct exec_plan {
	char *path;               /* the resolved executable */
	char **argv;
	char **envp;
	int listen_pid_slot;      /* envp index of "LISTEN_PID=" with room for digits, or -1 */
	char *cwd;
	mode_t umask;

	bool set_ids;             /* switch identity (root supervisor with user:/group:) */
	uid_t uid;
	gid_t gid;
	gid_t *groups;
	size_t ngroups;

	int stdio[3];
	int *pass_fds;
	size_t npass_fds;

	struct rlimit rlim[SYSG_RLIM__COUNT];
	bool rlim_set[SYSG_RLIM__COUNT];
	bool nice_set;
	int nice;
	cpu_set_t *affinity;      /* CPU_ALLOC'd, or NULL */
	size_t affinity_size;
	bool oom_score_adj_set;
	int oom_score_adj;

	struct cg_child cg;
	struct iso_plan iso;
	sigset_t sigmask;         /* the mask the service starts with (empty) */
};

/* Builds the plan for one start of `svc`. On failure returns -errno and a
 * malloc'd reason in *why ("user 'pg': no such user"). */
int plan_build(const struct svc_config *svc, const struct plan_ctx *ctx, struct exec_plan *p,
	       char **why);
void plan_free(struct exec_plan *p);

/* The environment a service gets: 0 and *out, or -errno with *why (an env
 * file that cannot be read or parsed now). */
int plan_build_env(const struct svc_config *svc, const struct plan_ctx *ctx, const char *home,
		   const char *user, const char *shell, char ***out, char **why);

/* Runs in the child: applies the plan in the order written in child.c and
 * execs. Never returns: on failure writes a struct exec_report to report_fd
 * and _exit(127). sync_fd >= 0: first wait for a byte from the parent. */
__attribute__((noreturn)) void exec_child(const struct exec_plan *p, int report_fd, int sync_fd);

#endif
