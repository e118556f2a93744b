/* Features the service file accepts and checks fully, but that the rest of
 * sysg cannot run yet. Using one is an error naming it, never a silent no-op.
 * When a feature lands, delete its line here (and its "not supported yet"
 * note in docs/config.md). */
#include <string.h>

#include "config/internal.h"

const struct pending pending[] = {
	{PENDING_SERVICE, "sockets", "socket activation (sockets)"},
	{PENDING_SERVICE, "ready", "readiness probes (ready)"},
	{PENDING_SERVICE, "deployment.health_check", "deployment.health_check (a readiness probe)"},
	{PENDING_SERVICE, "health_check", "liveness probes (health_check)"},
	{PENDING_SERVICE, "watchdog", "watchdog"},
	{PENDING_SERVICE, "isolation", "isolation"},
	{PENDING_SERVICE, "capabilities", "capabilities"},
	{PENDING_SERVICE, "network", "service networking (network)"},
	{PENDING_TOP, "networks", "networks"},
};

const size_t npending = CFG_ARRAY_SIZE(pending);
bool pending_ignore;

const char *pending_feature(enum pending_scope scope, const char *relpath)
{
	if (pending_ignore)
		return NULL;
	for (size_t i = 0; i < npending; i++)
		if (pending[i].scope == scope && !strcmp(pending[i].path, relpath))
			return pending[i].feature;
	return NULL;
}
