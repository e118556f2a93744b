/* Command-line front end: global flags, then one function per command. */
#ifndef SYSG_CLI_H
#define SYSG_CLI_H

#include <stdbool.h>

struct cli {
	bool system_mode;      /* --sys */
	const char *config;    /* -c/--config, or NULL for the mode's default file */
	bool plain;            /* --plain or NO_COLOR: no colour, no tty features */
	bool json;             /* --format json */
	int verbose;           /* -v, -vv */
	const char *service;   /* -s/--service (svc or project/svc) */
	const char *project;   /* --project */
	bool daemonize;        /* start --daemonize */
	bool supervisor;       /* stop --supervisor */
	bool follow;           /* logs -f/--follow */
	long lines;            /* logs -n/--lines; -1 = default */
	const char *since;     /* logs --since DUR */
	int argc;              /* positional arguments after the command */
	char **argv;
};

/* Each returns the process exit code: 0 success, 1 failed, 2 usage or no supervisor. */
int cmd_validate(struct cli *c);
int cmd_start(struct cli *c);

/* Resolve the service file: -c, else the mode's default (SPEC §1). Prints the
 * error and returns NULL if there is none. The result is malloc'd. */
char *cli_config_path(const struct cli *c);
/* "sysg: <what>: <why>" on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
bool cli_color(const struct cli *c, int fd);

#endif
