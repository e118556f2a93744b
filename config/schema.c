/* The schema walker: every mapping of the file is read through a table of
 * its keys (one table per mapping, next to its handlers), so unknown keys,
 * "did you mean", the value types and the documentation test all come from
 * the same place. */
#include <string.h>

#include "config/internal.h"

const struct key_table *const schema_tables[] = {
	&top_table, &project_legacy_table, &project_table, &metrics_table, &status_table,
	&logs_table, &env_table, &service_table, &dep_table, &limits_table, &rlimit_table,
	&cgroup_table, &isolation_table, &landlock_table, &seccomp_table, &ready_table,
	&health_table, &hooks_table, &hook_table, &cron_table, &deployment_table,
	&sg_health_table, &socket_table, &secret_table, &network_table, &policy_table,
	&egress_table, &net_table,
};
const size_t schema_ntables = CFG_ARRAY_SIZE(schema_tables);

int key_index(const struct key_table *t, const char *name)
{
	for (size_t i = 0; i < t->nkeys; i++)
		if (!strcmp(t->keys[i].name, name))
			return (int)i;
	return -1;
}

void unknown_key(struct lctx *c, const struct ynode *k, const struct key_table *t,
		 const struct key_def *hint)
{
	const char *cands[64], *best = NULL;
	size_t n = 0;
	char buf[96];

	if (hint) {
		best = hint->help;
	} else {
		for (size_t i = 0; i < t->nkeys && n < CFG_ARRAY_SIZE(cands); i++)
			if (t->keys[i].kind != V_HINT)
				cands[n++] = t->keys[i].name;
		best = did_you_mean(k->str, cands, n);
	}
	if (best)
		snprintf(buf, sizeof(buf), "did you mean '%s'?", best);
	lerr(c, k, best ? buf : NULL, "unknown key %s", quote(c, k->str));
}

#define FIELD(T, obj, off) ((T *)((char *)(obj) + (off)))

static void apply_generic(struct lctx *c, const struct key_def *kd, const struct ynode *v,
			  void *obj)
{
	bool unlim = kd->flags & KF_UNLIMITED;
	int64_t i64;
	uint64_t u64;
	bool b;

	switch (kd->kind) {
	case V_STR: {
		const char *s = v_word(c, v, NULL);
		if (s)
			*FIELD(char *, obj, kd->off) = (char *)s;
		break;
	}
	case V_BOOL:
		if (v_bool(c, v, &b) == 0)
			*FIELD(bool, obj, kd->off) = b;
		break;
	case V_TRI:
		if (v_bool(c, v, &b) == 0)
			*FIELD(tri_t, obj, kd->off) = b ? TRI_YES : TRI_NO;
		break;
	case V_INT:
		if (v_int(c, v, kd->min, kd->max, &i64) == 0)
			*FIELD(int, obj, kd->off) = (int)i64;
		break;
	case V_UINT:
		if (v_u64(c, v, (uint64_t)kd->min, (uint64_t)kd->max, &u64) == 0)
			*FIELD(unsigned, obj, kd->off) = (unsigned)u64;
		break;
	case V_U64:
		if (v_u64(c, v, (uint64_t)kd->min, (uint64_t)kd->max, &u64) == 0)
			*FIELD(uint64_t, obj, kd->off) = u64;
		break;
	case V_DURATION:
	case V_DURATION_POS:
		v_duration(c, v, kd->kind == V_DURATION_POS, FIELD(sysg_usec_t, obj, kd->off));
		break;
	case V_SIZE:
		v_size(c, v, unlim, FIELD(uint64_t, obj, kd->off));
		break;
	case V_OPT_SIZE: {
		struct opt_u64 *o = FIELD(struct opt_u64, obj, kd->off);
		if (v_size(c, v, unlim, &u64) == 0)
			*o = (struct opt_u64){true, u64};
		break;
	}
	case V_OPT_U64: {
		struct opt_u64 *o = FIELD(struct opt_u64, obj, kd->off);
		if (unlim && v->kind == Y_SCALAR &&
		    (!strcmp(v->str, "max") || !strcmp(v->str, "unlimited")))
			*o = (struct opt_u64){true, SYSG_UNLIMITED};
		else if (v_u64(c, v, (uint64_t)kd->min, (uint64_t)kd->max, &u64) == 0)
			*o = (struct opt_u64){true, u64};
		break;
	}
	case V_ENUM: {
		int e = -1;
		if ((kd->flags & KF_BOOL) && y_is_bool(v, &b)) {
			for (size_t i = kd->first; i < kd->count; i++)
				if (!strcmp(kd->names[i], b ? "yes" : "no"))
					e = (int)i;
			if (e < 0)
				lerr(c, v, kd->help, "%s is ambiguous here", b ? "true" : "false");
		} else if (v_enum(c, v, kd->names, kd->count, kd->first, &e) < 0) {
			e = -1;
		}
		if (e >= 0)
			*FIELD(int, obj, kd->off) = e;
		break;
	}
	case V_PATHLIST:
		v_list(c, v, false, v_path_item, NULL, FIELD(struct strv, obj, kd->off));
		break;
	default:
		break;
	}
}

static void apply(struct lctx *c, const struct key_def *kd, const struct ynode *k,
		  const struct ynode *v, void *obj)
{
	switch (kd->kind) {
	case V_CUSTOM:
		kd->fn(c, kd, v, obj);
		break;
	case V_NOEFFECT:
		if (kd->fn)
			kd->fn(c, kd, v, obj);
		lnote(c, k, kd->help, "accepted for systemg compatibility; it has no effect in sysg");
		break;
	case V_SYSTEMG_ONLY:
		lerr(c, k, kd->help, "%s is a systemg feature that sysg does not support", kd->name);
		break;
	default:
		apply_generic(c, kd, v, obj);
		break;
	}
}

uint64_t walk_map(struct lctx *c, const struct ynode *map, const struct key_table *t, void *obj)
{
	return walk_map_ex(c, map, t, obj, NULL);
}

uint64_t walk_map_ex(struct lctx *c, const struct ynode *map, const struct key_table *t, void *obj,
		     extra_fn extra)
{
	uint64_t seen = 0;

	if (!v_expect(c, map, Y_MAP))
		return 0;
	for (size_t i = 0; i < map->n; i++) {
		const struct ynode *k = y_key(map, i), *v = y_val(map, i);
		int idx = key_index(t, k->str);
		const struct key_def *kd = idx >= 0 ? &t->keys[idx] : NULL;
		const char *feature;
		size_t mark;

		if (!kd && extra && extra(c, k, v, obj))
			continue;
		if (!kd || kd->kind == V_HINT) {
			unknown_key(c, k, t, kd);
			continue;
		}
		if (y_is_null(v)) /* `key:` or `key: ~` is the same as no key */
			continue;
		seen |= 1ull << idx;
		mark = path_push(c, k->str);
		feature = pending_feature(c->svc_path ? PENDING_SERVICE : PENDING_TOP, path_rel(c));
		if (feature)
			lerr(c, k, "it is parsed and checked, but sysg cannot run it yet",
			     "%s is not supported yet", feature);
		apply(c, kd, k, v, obj);
		path_pop(c, mark);
	}
	return seen;
}
