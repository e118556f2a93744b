/* Placeholder until the cgroup backends land: no tracking, process groups only. */
#include "cgroup/cgroup.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "supervisor/util.h"

const char *const cg_layout_names[4] = {"none", "v1", "hybrid", "v2"};

struct cg_manager {
	int unused;
};

struct cg_manager *cg_manager_new(const struct cg_manager_opts *opts, char **why)
{
	(void)opts;
	*why = xstrdup("cgroup support is not built yet");
	return xcalloc(1, sizeof(struct cg_manager));
}

void cg_manager_free(struct cg_manager *m) { free(m); }
enum cg_layout cg_manager_layout(const struct cg_manager *m) { (void)m; return CG_LAYOUT_NONE; }
bool cg_manager_tracking(const struct cg_manager *m) { (void)m; return false; }

int cg_child_attach(const struct cg_child *c)
{
	for (int i = 0; i < 6 && c->procs_fds[i] >= 0; i++)
		if (write(c->procs_fds[i], "0", 1) < 0)
			return -errno;
	return 0;
}
