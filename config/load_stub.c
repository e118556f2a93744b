/* Placeholder until the parser lands (delete when config/ has the real loader). */
#include "config/config.h"

int sysg_config_load(const char *path, const struct sysg_load_opts *opts,
		     struct sysg_config **out, struct sysg_diags *d)
{
	(void)path, (void)opts, (void)d;
	*out = NULL;
	return -1;
}
