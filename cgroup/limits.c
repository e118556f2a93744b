/* The limit tables and the value mappings shared by both backends. */
#include "cgroup/cg_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

const char *const cg_layout_names[4] = {
	[CG_LAYOUT_NONE] = "none",
	[CG_LAYOUT_V1] = "v1",
	[CG_LAYOUT_HYBRID] = "hybrid",
	[CG_LAYOUT_V2] = "v2",
};
_Static_assert(sizeof(cg_layout_names) / sizeof(cg_layout_names[0]) == CG_LAYOUT_V2 + 1,
	       "cg_layout_names is complete");

const char *const cg_ctl_v1_names[CG_CTL__COUNT] = {
	[CG_CTL_MEMORY] = "memory",   [CG_CTL_CPU] = "cpu",   [CG_CTL_CPUACCT] = "cpuacct",
	[CG_CTL_IO] = "blkio",        [CG_CTL_PIDS] = "pids", [CG_CTL_FREEZER] = "freezer",
	[CG_CTL_NAMED] = "systemd",
};
const char *const cg_ctl_v2_names[CG_CTL__COUNT] = {
	[CG_CTL_MEMORY] = "memory", [CG_CTL_CPU] = "cpu", [CG_CTL_IO] = "io",
	[CG_CTL_PIDS] = "pids",
};
_Static_assert(sizeof(cg_ctl_v1_names) / sizeof(cg_ctl_v1_names[0]) == CG_CTL__COUNT,
	       "cg_ctl_v1_names is complete");

const struct cg_limit_desc cg_limits[CG_LIM__COUNT] = {
	[CG_LIM_MEMORY_MAX] = {"memory_max", CG_CTL_MEMORY, "memory.max", "memory.limit_in_bytes"},
	[CG_LIM_MEMORY_HIGH] = {"memory_high", CG_CTL_MEMORY, "memory.high",
				"memory.soft_limit_in_bytes"},
	[CG_LIM_MEMORY_SWAP_MAX] = {"memory_swap_max", CG_CTL_MEMORY, "memory.swap.max",
				    "memory.memsw.limit_in_bytes"},
	[CG_LIM_CPU_MAX] = {"cpu_max", CG_CTL_CPU, "cpu.max", "cpu.cfs_quota_us"},
	[CG_LIM_CPU_WEIGHT] = {"cpu_weight", CG_CTL_CPU, "cpu.weight", "cpu.shares"},
	[CG_LIM_PIDS_MAX] = {"pids_max", CG_CTL_PIDS, "pids.max", "pids.max"},
	[CG_LIM_IO_WEIGHT] = {"io_weight", CG_CTL_IO, "io.weight", "blkio.weight"},
};
_Static_assert(sizeof(cg_limits) / sizeof(cg_limits[0]) == CG_LIM__COUNT,
	       "cg_limits is complete");

bool cg_limit_is_set(const struct cgroup_limits *lim, enum cg_limit l)
{
	switch (l) {
	case CG_LIM_MEMORY_MAX: return lim->memory_max.set;
	case CG_LIM_MEMORY_HIGH: return lim->memory_high.set;
	case CG_LIM_MEMORY_SWAP_MAX: return lim->memory_swap_max.set;
	case CG_LIM_CPU_MAX: return lim->cpu_max_set;
	case CG_LIM_CPU_WEIGHT: return lim->cpu_weight.set;
	case CG_LIM_PIDS_MAX: return lim->pids_max.set;
	case CG_LIM_IO_WEIGHT: return lim->io_weight.set;
	case CG_LIM__COUNT: break;
	}
	return false;
}

unsigned cg_limits_ctls(const struct cgroup_limits *lim)
{
	unsigned ctls = 0;

	for (int l = 0; l < CG_LIM__COUNT; l++)
		if (cg_limit_is_set(lim, l))
			ctls |= CG_BIT(cg_limits[l].ctl);
	return ctls;
}

const char *cg_limit_for_ctl(const struct cgroup_limits *lim, enum cg_ctl ctl)
{
	for (int l = 0; l < CG_LIM__COUNT; l++)
		if (cg_limits[l].ctl == ctl && cg_limit_is_set(lim, l))
			return cg_limits[l].name;
	return cg_ctl_v1_names[ctl];
}

/* The v1 cpu.shares default (1024) stands where the v2 weight default (100)
 * does, linearly: the brief's w * 1024 / 100, never below the kernel's 2. */
uint64_t cg_v1_cpu_shares(uint64_t w)
{
	uint64_t s = w * 1024 / 100;
	return s < 2 ? 2 : s;
}

/* io.weight is 1..10000 around a default of 100. blkio.weight is 10..1000
 * around 500 and blkio.bfq.weight 1..1000 around 100: map each half linearly so
 * the defaults meet and the ends meet, and the order of services is kept. */
static uint64_t map_weight(uint64_t w, uint64_t lo, uint64_t def, uint64_t hi)
{
	if (w < 1)
		w = 1;
	if (w > 10000)
		w = 10000;
	if (w <= 100)
		return lo + (w - 1) * (def - lo) / 99;
	return def + (w - 100) * (hi - def) / 9900;
}

uint64_t cg_v1_blkio_weight(uint64_t w) { return map_weight(w, 10, 500, 1000); }
uint64_t cg_v1_bfq_weight(uint64_t w) { return map_weight(w, 1, 100, 1000); }

void cg_fmt_v2(char *buf, size_t len, uint64_t v)
{
	if (v == SYSG_UNLIMITED)
		snprintf(buf, len, "max");
	else
		snprintf(buf, len, "%" PRIu64, v);
}

void cg_fmt_v1(char *buf, size_t len, uint64_t v)
{
	if (v == SYSG_UNLIMITED)
		snprintf(buf, len, "-1");
	else
		snprintf(buf, len, "%" PRIu64, v);
}

/* Write a limit, or reset it to the kernel default when it is not set (a
 * reused cgroup keeps old values); a reset of a file that is not there (its
 * controller is off) is nothing to do. */
int cg_put(const char *dir, enum cg_limit l, const char *file, const char *val, bool set,
	       char **why)
{
	int err;

	if (!set && !cg_exists(dir, file))
		return 0;
	err = cg_write(dir, file, val);
	if (err == -ENOENT)
		return cg_fail(why, -EOPNOTSUPP, "%s: %s/%s does not exist: the host cannot enforce it",
			       cg_limits[l].name, dir, file);
	if (err && !set) /* putting back the default of a limit the service does not set */
		return cg_fail(why, err, "cgroup: cannot reset %s/%s to \"%s\": %s", dir, file, val,
			       strerror(-err));
	if (err)
		return cg_fail(why, err, "%s: cannot write \"%s\" to %s/%s: %s", cg_limits[l].name,
			       val, dir, file, strerror(-err));
	return 0;
}

