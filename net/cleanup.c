/* Crash cleanup: what a previous sysg left in this netns and on disk. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/internal.h"
#include "supervisor/util.h"

struct stale_links {
	char (*named)[IFNAMSIZ]; /* links the lease files say are sysg's */
	size_t nnamed;
	int ports[1024], bridges[256];
	size_t nports, nbridges;
};

static void stale_name(struct stale_links *sl, const char *ifname)
{
	sl->named = xreallocarray(sl->named, sl->nnamed + 1, sizeof(*sl->named));
	snprintf(sl->named[sl->nnamed++], IFNAMSIZ, "%s", ifname);
}

/* Every network with a lease file had its bridge, every unit in it a veth:
 * the files are written before the links are created, so they name even a
 * link the crash left unlabelled. */
static void stale_names_from_leases(struct stale_links *sl, const char *lease_dir)
{
	DIR *d = opendir(lease_dir);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		char ifname[IFNAMSIZ], *path, *buf, *line, *save = NULL;
		size_t blen;
		if (len <= 7 || !streq(de->d_name + len - 7, ".leases"))
			continue;
		de->d_name[len - 7] = '\0';
		net_bridge_name(ifname, de->d_name);
		stale_name(sl, ifname);
		path = xasprintf("%s/%s.leases", lease_dir, de->d_name);
		if (read_file(path, 4u << 20, &buf, &blen) == 0) {
			/* Line 1 is the header; then "ADDR UNIT". */
			strtok_r(buf, "\n", &save);
			while ((line = strtok_r(NULL, "\n", &save))) {
				char *unit = strchr(line, ' ');
				if (unit && net_text_safe(unit + 1)) {
					net_veth_name(ifname, unit + 1);
					stale_name(sl, ifname);
				}
			}
			free(buf);
		}
		free(path);
	}
	closedir(d);
}

static bool stale_named(const struct stale_links *sl, const char *ifname)
{
	for (size_t i = 0; i < sl->nnamed; i++)
		if (streq(sl->named[i], ifname))
			return true;
	return false;
}

/* Ours: one of our name prefixes, the kind that prefix stands for, and our
 * label, or no label and a lease file naming it. A link someone else
 * labelled is never ours. */
static int collect_stale(const struct nl_link *l, void *data)
{
	struct stale_links *sl = data;
	bool bridge = str_has_prefix(l->name, "sg");

	if (!net_link_name_ours(l->name))
		return 0;
	if (!str_has_prefix(l->alias, NET_ALIAS_PREFIX) && (l->alias[0] || !stale_named(sl, l->name)))
		return 0;
	if (bridge && streq(l->kind, "bridge") && sl->nbridges < ARRAY_SIZE(sl->bridges))
		sl->bridges[sl->nbridges++] = l->ifindex;
	else if (!bridge && streq(l->kind, "veth") && sl->nports < ARRAY_SIZE(sl->ports))
		sl->ports[sl->nports++] = l->ifindex;
	return 0;
}

static int remove_dir_files(const char *dir, const char *suffix)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int err = 0;

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name), slen = suffix ? strlen(suffix) : 0;
		if (de->d_name[0] == '.' || de->d_type == DT_DIR)
			continue;
		if (suffix && (len < slen || !streq(de->d_name + len - slen, suffix)))
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT && !err)
			err = -errno;
	}
	closedir(d);
	return err;
}

int net_cleanup_stale(const char *state_dir, const char *hosts_dir, char **why)
{
	struct stale_links *sl = xcalloc(1, sizeof(*sl));
	char *lease_dir = xasprintf("%s/net", state_dir), *msg = NULL;
	struct nl *nl;
	int err = 0, e;

	stale_names_from_leases(sl, lease_dir);
	e = nl_open(&nl);
	if (!e) {
		e = nl_link_list(nl, collect_stale, sl);
		if (!e)
			e = links_del_all(nl, sl->ports, sl->nports);
		if (!e)
			e = links_del_all(nl, sl->bridges, sl->nbridges);
		nl_close(nl);
	}
	if (e)
		net_keep_first(&err, why, e, xasprintf("removing stale links: %s", strerror(-e)));
	e = nft_remove(&msg);
	net_keep_first(&err, why, e, msg);
	e = remove_dir_files(lease_dir, ".leases");
	if (!e)
		e = remove_dir_files(lease_dir, ".leases.tmp");
	if (e)
		net_keep_first(&err, why, e, xasprintf("%s: %s", lease_dir, strerror(-e)));
	if (hosts_dir && (e = remove_dir_files(hosts_dir, NULL)))
		net_keep_first(&err, why, e, xasprintf("%s: %s", hosts_dir, strerror(-e)));
	free(lease_dir);
	free(sl->named);
	free(sl);
	return err;
}
