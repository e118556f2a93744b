/* sysg: the supervisor and its CLI in one binary. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "supervisor/cli.h"
#include "supervisor/log.h"
#include "supervisor/paths.h"
#include "supervisor/util.h"

static const struct command {
	const char *name;
	int (*run)(struct cli *c);
	const char *help;
} commands[] = {
	{"start", cmd_start, "start the supervisor with the service file, or services in it"},
	{"init", cmd_start, "alias of start, for use as a container's PID 1"},
	{"validate", cmd_validate, "check the service file; every problem with line and column"},
};

static void usage(FILE *out)
{
	fprintf(out, "usage: sysg [--sys] [-c FILE] [--plain] [--format json] [-v] COMMAND [ARGS]\n\n"
		     "commands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].help);
}

void cli_error(const char *fmt, ...)
{
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "sysg: %s\n", msg);
}

bool cli_color(const struct cli *c, int fd)
{
	const char *term = getenv("TERM");
	return !c->plain && isatty(fd) && !(term && streq(term, "dumb"));
}

char *cli_config_path(const struct cli *c)
{
	char *path;

	if (c->config)
		return xstrdup(c->config);
	path = paths_default_config(c->system_mode);
	if (!path)
		cli_error("no service file: %s (use -c FILE)",
			  c->system_mode ? "/etc/sysg/sysg.yaml does not exist"
					 : "neither ./sysg.yaml nor ./systemg.yaml exists");
	return path;
}

int main(int argc, char **argv)
{
	enum { OPT_SYS = 256, OPT_PLAIN, OPT_FORMAT, OPT_PROJECT, OPT_SUPERVISOR, OPT_SINCE,
	       OPT_VERSION };
	static const struct option opts[] = {
		{"sys", no_argument, NULL, OPT_SYS},
		{"config", required_argument, NULL, 'c'},
		{"plain", no_argument, NULL, OPT_PLAIN},
		{"format", required_argument, NULL, OPT_FORMAT},
		{"verbose", no_argument, NULL, 'v'},
		{"service", required_argument, NULL, 's'},
		{"project", required_argument, NULL, OPT_PROJECT},
		{"daemonize", no_argument, NULL, 'd'},
		{"supervisor", no_argument, NULL, OPT_SUPERVISOR},
		{"follow", no_argument, NULL, 'f'},
		{"lines", required_argument, NULL, 'n'},
		{"since", required_argument, NULL, OPT_SINCE},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, OPT_VERSION},
		{0},
	};
	struct cli c = {.lines = -1};
	const char *nc = getenv("NO_COLOR");
	int opt;

	c.plain = nc && *nc;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":c:vs:dfn:h", opts, NULL)) != -1) {
		switch (opt) {
		case OPT_SYS: c.system_mode = true; break;
		case 'c': c.config = optarg; break;
		case OPT_PLAIN: c.plain = true; break;
		case OPT_FORMAT:
			if (streq(optarg, "json"))
				c.json = true;
			else if (!streq(optarg, "text")) {
				cli_error("--format: unknown format '%s' (use json or text)", optarg);
				return 2;
			}
			break;
		case 'v': c.verbose++; break;
		case 's': c.service = optarg; break;
		case OPT_PROJECT: c.project = optarg; break;
		case 'd': c.daemonize = true; break;
		case OPT_SUPERVISOR: c.supervisor = true; break;
		case 'f': c.follow = true; break;
		case 'n': {
			char *end;
			c.lines = strtol(optarg, &end, 10);
			if (*end || c.lines < 0) {
				cli_error("--lines: '%s' is not a number of lines", optarg);
				return 2;
			}
			break;
		}
		case OPT_SINCE: c.since = optarg; break;
		case 'h': usage(stdout); return 0;
		case OPT_VERSION: printf("sysg %s\n", SYSG_VERSION); return 0;
		case ':': cli_error("%s: needs a value", argv[optind - 1]); return 2;
		default: cli_error("%s: unknown option (see sysg --help)", argv[optind - 1]); return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	log_init(c.verbose);
	c.argc = argc - optind - 1;
	c.argv = argv + optind + 1;
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (streq(argv[optind], commands[i].name))
			return commands[i].run(&c);
	cli_error("%s: unknown command (see sysg --help)", argv[optind]);
	return 2;
}
