#include <stdlib.h>

#include "config/config.h"
#include "supervisor/cli.h"

int cmd_validate(struct cli *c)
{
	struct sysg_load_opts opts = {.system_mode = c->system_mode};
	struct sysg_diags d = {0};
	struct sysg_config *cfg;
	char *path = cli_config_path(c);

	if (!path)
		return 2;
	if (sysg_config_load(path, &opts, &cfg, &d) < 0) {
		cli_error("%s: invalid", path);
		free(path);
		return 1;
	}
	free(path);
	return 0;
}
