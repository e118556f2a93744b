/* Placeholder until the isolation layer lands: no service may ask for
 * isolation (the config layer refuses those keys as not supported yet). */
#include "isolation/iso.h"

#include <string.h>

int iso_plan_build(const struct svc_config *svc, const struct iso_ctx *ctx, struct iso_plan *p,
		   char **why)
{
	(void)svc, (void)ctx, (void)why;
	memset(p, 0, sizeof(*p));
	return 0;
}

void iso_plan_free(struct iso_plan *p) { (void)p; }

int iso_parent_setup(const struct iso_plan *p, pid_t child, char **why)
{
	(void)p, (void)child, (void)why;
	return 0;
}
