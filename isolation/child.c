/* Child half of a service start: apply an exec_plan and exec.
 *
 * This runs between clone and execve in a copy of the supervisor. Only
 * async-signal-safe calls: no malloc, no stdio, no locale, no NSS. Each step
 * names its stage, so a failure reaches the parent as {stage, errno}
 * (DESIGN §4.2) and the user reads "exec failed at chdir: ENOENT".
 */
#include "isolation/plan.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

const char *const exec_stage_names[EXEC_STAGE__COUNT] = {
	[EXEC_STAGE_NONE] = "none",
	[EXEC_STAGE_PLAN] = "plan",
	[EXEC_STAGE_CLONE] = "clone",
	[EXEC_STAGE_SIGNALS] = "signals",
	[EXEC_STAGE_SYNC] = "sync",
	[EXEC_STAGE_SETSID] = "setsid",
	[EXEC_STAGE_FDS] = "fds",
	[EXEC_STAGE_CGROUP] = "cgroup",
	[EXEC_STAGE_RLIMITS] = "rlimits",
	[EXEC_STAGE_NICE] = "nice",
	[EXEC_STAGE_AFFINITY] = "cpu_affinity",
	[EXEC_STAGE_OOM_SCORE] = "oom_score_adj",
	[EXEC_STAGE_NAMESPACES] = "namespaces",
	[EXEC_STAGE_MOUNTS] = "mounts",
	[EXEC_STAGE_HOSTNAME] = "hostname",
	[EXEC_STAGE_NETWORK] = "network",
	[EXEC_STAGE_SETGROUPS] = "setgroups",
	[EXEC_STAGE_SETGID] = "setgid",
	[EXEC_STAGE_SETUID] = "setuid",
	[EXEC_STAGE_CAPABILITIES] = "capabilities",
	[EXEC_STAGE_UMASK] = "umask",
	[EXEC_STAGE_CHDIR] = "chdir",
	[EXEC_STAGE_NO_NEW_PRIVS] = "no_new_privileges",
	[EXEC_STAGE_LANDLOCK] = "landlock",
	[EXEC_STAGE_SECCOMP] = "seccomp",
	[EXEC_STAGE_EXEC] = "execve",
};
_Static_assert(sizeof(exec_stage_names) / sizeof(exec_stage_names[0]) == EXEC_STAGE__COUNT,
	       "every exec stage has a name");

__attribute__((noreturn)) static void child_fail(int report_fd, enum exec_stage stage, int err)
{
	struct exec_report r = {.stage = stage, .err = err};
	(void)!write(report_fd, &r, sizeof(r));
	_exit(127);
}

/* Decimal without stdio. */
static void fmt_uint(char *buf, unsigned long v)
{
	char tmp[24];
	int n = 0;
	do
		tmp[n++] = '0' + v % 10;
	while ((v /= 10));
	while (n)
		*buf++ = tmp[--n];
	*buf = '\0';
}

static int reset_signals(void)
{
	/* The kernel's struct sigaction: glibc's wrapper refuses its own internal
	 * signals (32, 33), and an ignored disposition there would be inherited
	 * across exec like any other. */
	struct {
		void (*handler)(int);
		unsigned long flags;
		void (*restorer)(void);
		uint64_t mask;
	} dfl = {.handler = SIG_DFL};

	/* Undo what the supervisor did to itself: handlers (libev) and SIG_IGN
	 * (SIGPIPE) are inherited otherwise, and whatever was ignored when sysg was
	 * started. The mask stays full until just before exec so no signal
	 * interrupts the setup. */
	for (int sig = 1; sig < _NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP &&
		    syscall(SYS_rt_sigaction, sig, &dfl, NULL, sizeof(dfl.mask)) < 0)
			return -errno;
	return 0;
}

/* Put stdio at 0..2 and the passed fds at 3.., close everything else except
 * the report pipe, which moves just above them. Returns the report fd's new
 * number or -errno. Sources may collide with targets, so everything is first
 * moved out of the way. */
static int place_fds(const struct exec_plan *p, int report_fd)
{
	int ntarget = 3 + (int)p->npass_fds;
	int base = ntarget + 1;
	int src[3 + 256];

	if (p->npass_fds > 256)
		return -EMFILE;
	for (int i = 0; i < ntarget; i++) {
		int fd = i < 3 ? p->stdio[i] : p->pass_fds[i - 3];
		if ((src[i] = fcntl(fd, F_DUPFD_CLOEXEC, base)) < 0)
			return -errno;
	}
	if ((report_fd = fcntl(report_fd, F_DUPFD_CLOEXEC, base)) < 0)
		return -errno;
	for (int i = 0; i < ntarget; i++)
		if (dup2(src[i], i) < 0) /* dup2 clears FD_CLOEXEC on the target */
			return -errno;
	if (dup2(report_fd, ntarget) < 0 || fcntl(ntarget, F_SETFD, FD_CLOEXEC) < 0)
		return -errno;
	if (syscall(SYS_close_range, ntarget + 1, ~0U, 0) < 0)
		return -errno;
	return ntarget;
}

static int apply_resources(const struct exec_plan *p, enum exec_stage *stage)
{
	*stage = EXEC_STAGE_RLIMITS;
	for (int i = 0; i < SYSG_RLIM__COUNT; i++)
		if (p->rlim_set[i] && setrlimit(sysg_rlimit_names[i].resource, &p->rlim[i]) < 0)
			return -errno;
	*stage = EXEC_STAGE_NICE;
	if (p->nice_set && setpriority(PRIO_PROCESS, 0, p->nice) < 0)
		return -errno;
	*stage = EXEC_STAGE_AFFINITY;
	if (p->affinity && sched_setaffinity(0, p->affinity_size, p->affinity) < 0)
		return -errno;
	*stage = EXEC_STAGE_OOM_SCORE;
	if (p->oom_score_adj_set) {
		char buf[16];
		int neg = p->oom_score_adj < 0, fd;
		buf[0] = '-';
		fmt_uint(buf + neg, neg ? -p->oom_score_adj : p->oom_score_adj);
		fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, buf, strlen(buf)) < 0)
			return -errno;
		close(fd);
	}
	return 0;
}

static int switch_ids(const struct exec_plan *p, enum exec_stage *stage)
{
	if (!p->set_ids)
		return 0;
	*stage = EXEC_STAGE_SETGROUPS;
	if (setgroups(p->ngroups, p->groups) < 0)
		return -errno;
	*stage = EXEC_STAGE_SETGID;
	if (setresgid(p->gid, p->gid, p->gid) < 0)
		return -errno;
	*stage = EXEC_STAGE_SETUID;
	if (setresuid(p->uid, p->uid, p->uid) < 0)
		return -errno;
	return 0;
}

void exec_child(const struct exec_plan *p, int report_fd, int sync_fd)
{
	enum exec_stage stage;
	int r;

	if ((r = reset_signals()) < 0)
		child_fail(report_fd, EXEC_STAGE_SIGNALS, -r);

	/* With a user namespace the parent writes our uid/gid maps first. */
	if (sync_fd >= 0) {
		char c;
		ssize_t n;
		while ((n = read(sync_fd, &c, 1)) < 0 && errno == EINTR)
			;
		if (n != 1)
			child_fail(report_fd, EXEC_STAGE_SYNC, n < 0 ? errno : EPIPE);
		close(sync_fd);
	}

	/* Own session and process group: no controlling tty (TIOCSTI cannot reach
	 * the supervisor's terminal) and one group to signal on stop. */
	if (setsid() < 0)
		child_fail(report_fd, EXEC_STAGE_SETSID, errno);

	/* Into the cgroup before anything else runs (unless clone3 already put us there). */
	if ((r = cg_child_attach(&p->cg)) < 0)
		child_fail(report_fd, EXEC_STAGE_CGROUP, -r);

	if ((r = place_fds(p, report_fd)) < 0)
		child_fail(report_fd, EXEC_STAGE_FDS, -r);
	report_fd = r;

	/* Resources before any user namespace work: raising a hard limit needs
	 * CAP_SYS_RESOURCE in the initial namespace. */
	if ((r = apply_resources(p, &stage)) < 0)
		child_fail(report_fd, stage, -r);

	if ((r = switch_ids(p, &stage)) < 0)
		child_fail(report_fd, stage, -r);

	/* After setuid, so a directory the user cannot enter fails here. */
	umask(p->umask);
	if (chdir(p->cwd) < 0)
		child_fail(report_fd, EXEC_STAGE_CHDIR, errno);

	if (sigprocmask(SIG_SETMASK, &p->sigmask, NULL) < 0)
		child_fail(report_fd, EXEC_STAGE_SIGNALS, errno);

	if (p->listen_pid_slot >= 0)
		fmt_uint(p->envp[p->listen_pid_slot] + sizeof("LISTEN_PID=") - 1, getpid());
	execve(p->path, p->argv, p->envp);
	child_fail(report_fd, EXEC_STAGE_EXEC, errno);
}
