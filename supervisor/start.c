/* sysg start: run the supervisor in the foreground (streaming service output
 * to the terminal until Ctrl-C), as a daemon (--daemonize returns once the
 * stack settled), or as a container's PID 1. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "supervisor/cli.h"
#include "supervisor/log.h"
#include "supervisor/logs.h"
#include "supervisor/paths.h"
#include "supervisor/sup.h"
#include "supervisor/util.h"

static struct sysg_config *load_config(const struct cli *c)
{
	struct sysg_load_opts opts = {.system_mode = c->system_mode};
	struct sysg_diags d = {0};
	struct sysg_config *cfg = NULL;
	char *path = cli_config_path(c);

	if (!path)
		return NULL;
	if (sysg_config_load(path, &opts, &cfg, &d) < 0)
		cfg = NULL;
	diags_print(&d, stderr);
	if (!cfg)
		cli_error("%s: invalid service file, nothing started", path);
	diags_free(&d);
	free(path);
	return cfg;
}

/* One supervisor per runtime dir: the lock lives as long as it does. A POSIX
 * record lock, not flock(): it belongs to the process, so a child caught
 * between clone and exec cannot keep a dead supervisor's lock alive. */
static int take_lock(const struct sysg_paths *p)
{
	char *path = xasprintf("%s/sysg.lock", p->runtime_dir);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	struct flock lk = {.l_type = F_WRLCK, .l_whence = SEEK_SET};

	if (fd < 0) {
		cli_error("%s: %s", path, strerror(errno));
	} else if (fcntl(fd, F_SETLK, &lk) < 0) {
		if (errno == EAGAIN || errno == EACCES)
			cli_error("start: a supervisor is already running for %s", p->runtime_dir);
		else
			cli_error("%s: %s", path, strerror(errno));
		close(fd);
		fd = -1;
	}
	free(path);
	return fd;
}

/* The daemon's lock: its parent still holds the lock for a moment after the
 * fork (until it closes it), so wait for it. */
static int take_lock_wait(const struct sysg_paths *p)
{
	char *path = xasprintf("%s/sysg.lock", p->runtime_dir);
	int fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	struct flock lk = {.l_type = F_WRLCK, .l_whence = SEEK_SET};

	free(path);
	if (fd < 0 || fcntl(fd, F_SETLKW, &lk) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* The parent of --daemonize: relay what the supervisor reports once settled. */
static int await_settled(int fd)
{
	struct sbuf b = {0};
	char buf[4096];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR))
		if (n > 0)
			sbuf_add(&b, buf, n);
	close(fd);
	if (b.len >= 3 && streq(b.s + b.len - 3, "OK\n")) {
		sbuf_free(&b);
		return 0;
	}
	if (b.len >= 7 && streq(b.s + b.len - 7, "FAILED\n")) {
		b.s[b.len - 7] = '\0';
		for (char *line = strtok(b.s, "\n"); line; line = strtok(NULL, "\n"))
			cli_error("%s", line);
	} else {
		cli_error("start: the supervisor exited before the stack settled (see its log)");
	}
	sbuf_free(&b);
	return 1;
}

static void become_daemon(const struct sysg_paths *p)
{
	char *log = xasprintf("%s/supervisor.log", p->state_dir);
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	int err = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (setsid() < 0 || null < 0 || err < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 ||
	    dup2(err, 2) < 0)
		fatal("daemonize");
	close(null);
	close(err);
	free(log);
	log_set_timestamps(true);
}

int cmd_start(struct cli *c)
{
	struct sysg_config *cfg;
	struct sysg_paths paths;
	struct sup sup;
	const char *what = NULL;
	int lock, settle[2] = {-1, -1}, r;
	bool pid1 = getpid() == 1;

	if (c->system_mode && geteuid() != 0) {
		cli_error("start: --sys needs root");
		return 1;
	}
	if (!(cfg = load_config(c)))
		return 1;
	if (c->service && !sysg_config_find(cfg, c->service)) {
		cli_error("start: %s: no such service in %s", c->service, cfg->path);
		sysg_config_free(cfg);
		return 1;
	}
	paths_init(&paths, c->system_mode);
	if ((r = paths_create(&paths, &what)) < 0) {
		cli_error("%s: %s", what, r == -EPERM ? "owned by another user or writable by others"
						      : strerror(-r));
		return 1;
	}
	if ((lock = take_lock(&paths)) < 0)
		return 1;

	if (c->daemonize && !pid1) {
		if (pipe2(settle, O_CLOEXEC) < 0)
			fatal("pipe");
		pid_t pid = fork();
		if (pid < 0)
			fatal("fork");
		if (pid > 0) {
			close(settle[1]);
			close(lock); /* the daemon took its own lock before reporting */
			return await_settled(settle[0]);
		}
		close(settle[0]);
		/* A record lock is not inherited: the daemon takes it (the parent
		 * holds it until the daemon reports, so no other start slips in). */
		close(lock);
		if ((lock = take_lock_wait(&paths)) < 0)
			_exit(1);
		become_daemon(&paths);
	}

	struct logs_opts lo = {
		.log_dir = paths.log_dir,
		.fifo_dir = paths.runtime_dir,
		.echo = !c->daemonize && !pid1,
		.pid1 = pid1,
		.color = cli_color(c, STDOUT_FILENO),
	};
	if (logs_init(ev_default_loop(EVFLAG_NOSIGMASK), &lo, &what) < 0)
		fatal("%s", what);
	sup_init(&sup, cfg, &paths, !c->daemonize);
	sup_want(&sup, c->service, true);
	if (settle[1] >= 0)
		sup_report_settled(&sup, settle[1]);
	r = sup_run(&sup);
	sup_free(&sup);
	logs_shutdown();
	sysg_config_free(cfg);
	paths_free(&paths);
	close(lock);
	return r;
}
