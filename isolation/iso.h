/* Isolation: capabilities, namespaces, mounts, seccomp, Landlock, presets.
 *
 * The parent half (iso_plan_build) resolves the preset against the explicit
 * keys, checks the host can apply every requested protection (fail closed:
 * *why = "private_devices: <reason>"), and prepares everything the child needs
 * as plain data (seccomp compiled to BPF, mount list, cap masks). The child
 * half runs inside exec_child() at the points written there; every iso_child_*
 * function is async-signal-safe and returns 0 or -errno.
 */
#ifndef SYSG_ISO_H
#define SYSG_ISO_H

#include <stdbool.h>
#include <sys/types.h>

#include "config/config.h"

struct iso_ctx {
	bool system_mode;
	uid_t uid;          /* the service's uid after resolution (0 when no user:) */
	gid_t gid;
	bool set_ids;
};

struct iso_plan {
	unsigned long clone_flags; /* CLONE_NEW* the child is created with */
	bool sync;                 /* the child waits for the parent (uid/gid maps) */
};

int iso_plan_build(const struct svc_config *svc, const struct iso_ctx *ctx, struct iso_plan *p,
		   char **why);
void iso_plan_free(struct iso_plan *p);
/* Parent, after clone and before the child is released (p->sync): uid/gid maps. */
int iso_parent_setup(const struct iso_plan *p, pid_t child, char **why);

#endif
