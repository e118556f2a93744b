/* Emptying a cgroup without cgroup.kill: freeze so nothing can fork, SIGKILL
 * every listed pid, thaw so the killed can die, and go again until empty. */
#include "cgroup/cg_internal.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>

#include "supervisor/util.h"

/* A fork bomb is outrun within a few rounds; what is left after this is stuck
 * in the kernel (D state), not running away, and the caller learns -EBUSY. */
#define KILL_BOUND_USEC (1000 * 1000)

int cg_signal_all(const char *procs_dir, int sig)
{
	pid_t *pids;
	size_t n;
	int err = cg_read_pids(procs_dir, &pids, &n);

	if (err)
		return err;
	for (size_t i = 0; i < n; i++)
		if (kill(pids[i], sig) < 0 && errno != ESRCH && !err)
			err = -errno;
	free(pids);
	return err;
}

int cg_kill_loop(struct cg_unit *u, const char *procs_dir, int (*freeze)(struct cg_unit *, bool))
{
	int64_t deadline = now_mono_usec() + KILL_BOUND_USEC;
	long pause = 200;

	for (;;) {
		bool frozen = freeze && freeze(u, true) == 0;
		pid_t *pids = NULL;
		size_t n = 0;
		int err = cg_read_pids(procs_dir, &pids, &n);

		if (!err)
			for (size_t i = 0; i < n; i++)
				kill(pids[i], SIGKILL);
		free(pids);
		if (frozen)
			freeze(u, false);
		if (err)
			return err;
		if (n == 0)
			return 0;
		if (now_mono_usec() > deadline)
			return -EBUSY;
		/* The killed need a moment to leave; the unlisted are frozen. */
		cg_sleep_usec(pause);
		if (pause < 20000)
			pause *= 2;
	}
}
