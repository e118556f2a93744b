/* The supervisor: one libev loop over every service of one service file.
 * Libev callbacks become service events (service.c); after every event the
 * reconciler walks the services whose dependencies may have changed. */
#ifndef SYSG_SUP_H
#define SYSG_SUP_H

#include <ev.h>
#include <stdbool.h>
#include <sys/resource.h>

#include "cgroup/cgroup.h"
#include "config/config.h"
#include "supervisor/paths.h"
#include "supervisor/service.h"
#include "supervisor/spawn.h"

struct sup {
	struct ev_loop *loop;
	struct sysg_paths paths;
	struct sysg_config *cfg;
	struct service *svcs;
	size_t nsvcs;

	bool pid1;
	bool foreground;
	bool stopping_all;     /* every service wanted down; exit when all are */
	bool unclean;          /* some service needed SIGKILL or failed during the stop */
	int devnull;
	int run_dirfd;         /* <state>/run: one file per running service (adoption) */
	rlim_t nofile_soft;
	struct cg_manager *cg;

	ev_child child_w;      /* every child, including reparented orphans */
	ev_signal sig_w[4];
	int settle_fd;         /* --daemonize: where to report that the stack settled */

	size_t *queue;         /* ring of services to reconcile; each at most once */
	size_t qhead, nqueue;
	bool *queued;
	bool in_reconcile;

	struct pid_slot {
		pid_t pid;
		size_t svc;
		void (*aux)(struct service *svc, void *arg, int status); /* NULL: the main process */
		void *arg;
		int report_fd;  /* an auxiliary process's exec report pipe, held until it exits */
	} *pids;               /* open addressing: pid -> service (main or auxiliary process) */
	size_t npids_cap;
};

int sup_init(struct sup *s, struct sysg_config *cfg, const struct sysg_paths *paths,
	     bool foreground);
/* Want services up (with their dependencies) or down (with their dependents).
 * name NULL = every service. 0, or -ENOENT when no service has that name. */
int sup_want(struct sup *s, const char *name, bool up);
/* Stop everything in reverse dependency order, then leave the loop. */
void sup_shutdown(struct sup *s);
int sup_run(struct sup *s);   /* runs the loop; returns the exit code */
void sup_free(struct sup *s);
/* Runs cmd as an auxiliary process of svc (readiness/health probe, hook, skip
 * check): the service's identity, environment, isolation and cgroup, output to
 * out_fd (the service's log when -1). done(svc, arg, wait status) is called
 * when it exits. 0, or -errno with *why. */
int sup_spawn_aux(struct sup *s, struct service *svc, const struct cmd *cmd, int out_fd,
		  void (*done)(struct service *svc, void *arg, int status), void *arg,
		  struct spawned *out, char **why);
/* Deliver an event to a service from outside sup.c, then reconcile. */
void sup_event(struct sup *s, struct service *svc, enum svc_event ev);
/* Re-evaluate after code outside an event callback changed a service. */
void sup_changed(struct sup *s, struct service *svc);

/* Writes the stack's outcome to fd once every wanted service settled. */
void sup_report_settled(struct sup *s, int fd);

#endif
