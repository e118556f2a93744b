/* Service output: the supervisor owns one FIFO per service (stdout and stderr
 * both write to it, so their order is kept), created when the service is
 * first started and kept across restarts and across a supervisor restart, so
 * nothing a service writes while it restarts is lost. One event loop reads
 * every FIFO; sinks are the log file (rotated, optional RFC 3339 stamps), the
 * terminal in the foreground ("svc | line"), stdout as PID 1, or nothing.
 * A full disk or a slow terminal never blocks the loop: bytes that cannot be
 * written are counted and reported. */
#ifndef SYSG_LOGS_H
#define SYSG_LOGS_H

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"
#include "supervisor/mask.h"

struct logs_opts {
	const char *log_dir;   /* <service>.log files */
	const char *fifo_dir;  /* the runtime dir: <unit>.log.pipe */
	bool echo;             /* foreground: copy lines to stdout as "svc | line" */
	bool pid1;             /* unset sinks mean stdout, not file */
	bool color;
};

int logs_init(struct ev_loop *loop, const struct logs_opts *opts, const char **what);
void logs_shutdown(void);
/* Longest service name, so echoed prefixes line up. */
void logs_set_name_width(size_t width);

struct svc_log;

/* The service's log; holds no fd until the service first starts. */
struct svc_log *svc_log_new(const char *unit, const char *name, const struct logs_def *def);
/* A new write end of the service's FIFO for a child's stdout and stderr (the
 * FIFO is created, or reopened after a supervisor restart, and its read end
 * watched from the first call on); the caller closes it once the child is
 * spawned. -errno on failure. The supervisor holds no write end itself: every
 * fd it holds is copied into every child it spawns. When no writer is left,
 * the loop stops watching the FIFO (EOF) until the next call. */
int svc_log_writer(struct svc_log *l);
/* Reopens the FIFO of a service adopted after a supervisor restart. */
int svc_log_attach(struct svc_log *l);
/* The service stopped: flush, and close its log file until it writes again. */
void svc_log_idle(struct svc_log *l);
/* Applies a changed logs: block (reload). */
void svc_log_configure(struct svc_log *l, const struct logs_def *def);
/* Reads whatever is in the pipe now and flushes a pending partial line
 * (called when the service's process exits). */
void svc_log_drain(struct svc_log *l);
/* Writes a line of sysg's own about the service into its log ("exited with code 1"). */
void svc_log_note(struct svc_log *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Masks the service's secrets in everything written from now on (NULL: none). */
void svc_log_set_mask(struct svc_log *l, const struct mask_dfa *dfa);
uint64_t svc_log_dropped(const struct svc_log *l);
const char *svc_log_path(const struct svc_log *l); /* the log file, or NULL */
/* Closes everything; with remove, also deletes the FIFO (service gone for good). */
void svc_log_close(struct svc_log *l, bool remove);

#endif
