#include "supervisor/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "supervisor/util.h"

static pid_t clone3_fork(unsigned long flags, int cgroup_fd)
{
	struct clone_args args = {
		.flags = flags,
		.exit_signal = SIGCHLD,
	};
	if (cgroup_fd >= 0) {
		args.flags |= CLONE_INTO_CGROUP;
		args.cgroup = cgroup_fd;
	}
	/* No stack and no CLONE_VM: the child runs on a copy, like fork(). */
	return syscall(SYS_clone3, &args, sizeof(args));
}

int spawn_plan(const struct exec_plan *p, struct spawned *out, char **why)
{
	int report[2], sync[2] = {-1, -1}, r;
	sigset_t all, old;
	pid_t pid;

	if (pipe2(report, O_CLOEXEC) < 0) {
		r = -errno;
		*why = xasprintf("pipe: %s", strerror(errno));
		return r;
	}
	if (p->iso.sync && pipe2(sync, O_CLOEXEC) < 0) {
		r = -errno;
		*why = xasprintf("pipe: %s", strerror(errno));
		goto out_close_report;
	}
	/* No handler of ours may run in the child; it restores the plan's mask. */
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	pid = clone3_fork(p->iso.clone_flags, p->cg.clone_fd);
	if (pid == 0) {
		close(report[0]);
		if (sync[1] >= 0)
			close(sync[1]);
		exec_child(p, report[1], sync[0]);
	}
	r = -errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(report[1]);
	if (sync[0] >= 0)
		close(sync[0]);
	if (pid < 0) {
		*why = xasprintf("clone3: %s", strerror(-r));
		goto out_close_sync;
	}
	if (p->iso.sync) {
		if ((r = iso_parent_setup(&p->iso, pid, why)) < 0) {
			kill(pid, SIGKILL);
			goto out_child_started;
		}
		if (write(sync[1], "", 1) != 1) {
			r = -errno;
			*why = xasprintf("release child: %s", strerror(errno));
			kill(pid, SIGKILL);
			goto out_child_started;
		}
		close(sync[1]);
	}
	fd_set_nonblock(report[0], true);
	*out = (struct spawned){.pid = pid, .report_fd = report[0]};
	return 0;

out_child_started:
	/* The child is reaped by the supervisor's catch-all child watcher. */
	out->pid = pid;
out_close_sync:
	if (sync[1] >= 0)
		close(sync[1]);
out_close_report:
	close(report[0]);
	return r;
}

int spawn_read_report(int fd, struct exec_report *rep)
{
	ssize_t n;

	while ((n = read(fd, rep, sizeof(*rep))) < 0 && errno == EINTR)
		;
	if (n == 0)
		return 1;
	if (n == (ssize_t)sizeof(*rep))
		return 0;
	if (n < 0 && errno == EAGAIN)
		return -EAGAIN;
	/* A short or failed read: the child died mid-report. */
	rep->stage = EXEC_STAGE_NONE;
	rep->err = n < 0 ? errno : EIO;
	return 0;
}
