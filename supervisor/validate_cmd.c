/* `sysg validate [-c FILE] [--format json]`: every problem in the file at
 * once. Exit 0 valid, 1 invalid, 2 usage error or no file (SPEC §3). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config/config.h"
#include "supervisor/cli.h"

static void print_summary(const struct sysg_config *cfg, const char *path)
{
	printf("%s: valid, %zu service%s", path, cfg->nsvcs, cfg->nsvcs == 1 ? "" : "s");
	for (size_t i = 0; i < cfg->nsvcs && i < 8; i++)
		printf("%s%s", i ? ", " : " (", cfg->svcs[cfg->order[i]].name);
	printf("%s\n", cfg->nsvcs > 8 ? ", ...)" : cfg->nsvcs ? ")" : "");
}

int cmd_validate(struct cli *c)
{
	struct sysg_load_opts opts = {.system_mode = c->system_mode};
	struct sysg_diags d = {0};
	struct sysg_config *cfg = NULL;
	struct stat st;
	char *path;
	int ret;

	if (c->argc > 0) {
		cli_error("validate: unexpected argument '%s' (use -c FILE)", c->argv[0]);
		return 2;
	}
	path = cli_config_path(c);
	if (!path)
		return 2;
	if (stat(path, &st) < 0) {
		cli_error("%s: %s", path, strerror(errno));
		free(path);
		return 2;
	}
	ret = sysg_config_load(path, &opts, &cfg, &d) < 0 ? 1 : 0;
	if (c->json) {
		char *json = diags_to_json(&d);
		puts(json);
		free(json);
	} else {
		diags_print(&d, stderr);
		if (ret == 0 && c->verbose)
			print_summary(cfg, path);
	}
	sysg_config_free(cfg);
	diags_free(&d);
	free(path);
	return ret;
}
