#include "supervisor/cli.h"

int cmd_start(struct cli *c)
{
	(void)c;
	cli_error("start: not implemented yet");
	return 1;
}
