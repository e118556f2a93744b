/* Which cgroup layout the host has, and where we are in it. */
#include "cgroup/cg_internal.h"

#include <errno.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/statfs.h>
#include <sys/utsname.h>

#include "supervisor/util.h"

static long fs_type(const char *path)
{
	struct statfs sfs;
	if (statfs(path, &sfs) < 0)
		return 0;
	return (long)sfs.f_type;
}

bool cg_is_v1_mount(const char *path) { return fs_type(path) == CGROUP_SUPER_MAGIC; }

/* pure v2: cgroup2 at the root. Hybrid: a tmpfs root holding v1 hierarchies
 * and cgroup2 at <root>/unified. v1: only the v1 hierarchies. */
void cg_detect(const char *root, enum cg_layout *layout, char **v2_mount)
{
	bool v1 = false, unified;
	char *p;

	*v2_mount = NULL;
	if (fs_type(root) == CGROUP2_SUPER_MAGIC) {
		*layout = CG_LAYOUT_V2;
		*v2_mount = xstrdup(root);
		return;
	}
	p = cg_path(root, "unified");
	unified = fs_type(p) == CGROUP2_SUPER_MAGIC;
	if (unified)
		*v2_mount = p;
	else
		free(p);
	for (int c = 0; c < CG_CTL__COUNT && !v1; c++) {
		p = cg_path(root, cg_ctl_v1_names[c]);
		v1 = fs_type(p) == CGROUP_SUPER_MAGIC;
		free(p);
	}
	if (v1 && unified)
		*layout = CG_LAYOUT_HYBRID;
	else if (v1)
		*layout = CG_LAYOUT_V1;
	else if (unified)
		*layout = CG_LAYOUT_V2; /* cgroup2 at <root>/unified alone: v2 rooted there */
	else
		*layout = CG_LAYOUT_NONE;
}

static bool list_has(const char *list, size_t len, const char *name)
{
	size_t nlen = strlen(name);
	const char *p = list, *end = list + len;

	while (p < end) {
		const char *comma = memchr(p, ',', end - p);
		size_t l = (comma ? comma : end) - p;
		if (l == nlen && strncmp(p, name, l) == 0)
			return true;
		if (!comma)
			break;
		p = comma + 1;
	}
	return false;
}

/* Lines are "hierarchy-id:controller-list:path"; v2's is "0::path". */
char *cg_self_path(const char *text, bool v2, unsigned ctls)
{
	const char *line = text;

	while (line && *line) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		const char *c1 = memchr(line, ':', len);
		const char *c2 = c1 ? memchr(c1 + 1, ':', len - (c1 + 1 - line)) : NULL;

		if (c2) {
			const char *list = c1 + 1, *path = c2 + 1;
			size_t llen = c2 - list, plen = line + len - path;
			bool match = false;

			if (v2)
				match = llen == 0 && c1 - line == 1 && line[0] == '0';
			for (int c = 0; !v2 && c < CG_CTL__COUNT; c++) {
				char named[32];
				if (!(ctls & CG_BIT(c)))
					continue;
				snprintf(named, sizeof(named), "name=%s", cg_ctl_v1_names[c]);
				if (list_has(list, llen, c == CG_CTL_NAMED ? named
									 : cg_ctl_v1_names[c]))
					match = true;
			}
			if (match && plen && path[0] == '/')
				return xstrndup(path, plen);
		}
		line = nl ? nl + 1 : NULL;
	}
	return NULL;
}

bool cg_kernel_at_least(int major, int minor)
{
	struct utsname u;
	int ma = 0, mi = 0;

	if (uname(&u) < 0 || sscanf(u.release, "%d.%d", &ma, &mi) != 2)
		return false;
	return ma > major || (ma == major && mi >= minor);
}
