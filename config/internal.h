/* Private to config/: the arena, the YAML node tree, the load context and
 * the schema walker. Nothing outside config/ includes this (tests may).
 */
#ifndef SYSG_CONFIG_INTERNAL_H
#define SYSG_CONFIG_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

#define CFG_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define CFG_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* ---- memory ----------------------------------------------------------------
 * Allocation failure aborts (like the x* helpers of supervisor/util.h, which
 * config/ may not include: it is the lowest layer). */
void *cfg_xmalloc(size_t n);
void *cfg_xrealloc(void *p, size_t n);
char *cfg_xstrdup(const char *s);

/* A bump allocator: everything a struct sysg_config points to lives in one. */
struct arena;
struct arena *arena_new(void);
void arena_free(struct arena *a);
void *arena_alloc(struct arena *a, size_t n); /* zeroed */
void *arena_array(struct arena *a, size_t n, size_t size);
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_printf(struct arena *a, const char *fmt, ...) CFG_PRINTF(2, 3);

/* A growable NUL-terminated string on the heap. */
struct cbuf {
	char *s;
	size_t len, cap;
};
void cbuf_add(struct cbuf *b, const char *s, size_t n);
void cbuf_adds(struct cbuf *b, const char *s);
void cbuf_addc(struct cbuf *b, char ch);
void cbuf_addf(struct cbuf *b, const char *fmt, ...) CFG_PRINTF(2, 3);
void cbuf_truncate(struct cbuf *b, size_t len);
void cbuf_free(struct cbuf *b);

/* A set of strings (open addressing), for anchors, names and duplicates. */
struct strmap {
	const char **keys;
	size_t *vals;
	size_t n, cap;
};
void strmap_put(struct strmap *m, const char *key, size_t val); /* replaces */
bool strmap_get(const struct strmap *m, const char *key, size_t *val);
void strmap_free(struct strmap *m);

/* Reads a whole regular file of at most max bytes (open/fstat/read only).
 * 0, or -errno (-EFBIG when larger than max, -EINVAL when not a regular file). */
int cfg_read_file(const char *path, size_t max, char **buf, size_t *len);

/* ---- the YAML document as a tree with positions --------------------------- */

enum ykind { Y_SCALAR, Y_SEQ, Y_MAP };

struct ynode {
	enum ykind kind;
	bool plain;         /* a plain (unquoted, untagged-as-str) scalar */
	unsigned line, col; /* 1-based */
	const char *str;    /* scalars: NUL-terminated, NUL-free */
	size_t len;
	struct ynode **items; /* seq: n items; map: key, value, key, value ... */
	size_t n;             /* seq: items; map: pairs */
	uint64_t weight;      /* nodes in this subtree after alias expansion */
};

/* Parses buf (already checked to be at most SYSG_MAX_FILE_BYTES) into a tree
 * whose root is a mapping. Refuses what SPEC §2 refuses (-1, errors in d).
 * Duplicate keys are reported and dropped (the first stays) and the tree is
 * still returned (0), so that the rest of the file gets checked too. */
int ytree_parse(struct arena *a, const char *name, const char *buf, size_t len,
		struct ynode **root, struct sysg_diags *d);

bool y_is_null(const struct ynode *n);
bool y_is_bool(const struct ynode *n, bool *v);
const char *y_kind_name(const struct ynode *n); /* "a mapping", "a list", "a number", ... */
const struct ynode *y_map_get(const struct ynode *map, const char *key);
static inline const struct ynode *y_key(const struct ynode *map, size_t i)
{
	return map->items[2 * i];
}
static inline const struct ynode *y_val(const struct ynode *map, size_t i)
{
	return map->items[2 * i + 1];
}

/* ---- the load context ----------------------------------------------------- */

#define CFG_MAX_SHOWN_ERRORS 500
#define CFG_MAX_EXPANDED_BYTES (64u << 20) /* total, over every ${VAR} expansion */
#define CFG_MAX_SCALAR_EXPANDED (1u << 20)
#define CFG_MAX_ENV_ENTRIES 1000000       /* merged env entries over all services */

/* A sorted, de-duplicated set of variables for ${VAR} lookups. */
struct varset {
	const struct kv *v;
	size_t n;
};
const char *varset_get(const struct varset *s, const char *name, size_t namelen);
/* Sorts by key; on equal keys the later entry wins. Returns the new count. */
size_t kv_sort_unique(struct kv *v, size_t n);

struct svc_build; /* per-service parse state (load.c) */

/* An env file read at load: its variables, or missing (a warning). */
struct env_cached {
	struct kv *v;
	size_t n;
	bool missing;
};

struct lctx {
	struct arena *a;
	struct sysg_diags *d;
	const char *file;   /* the service file, as named in diagnostics */
	const struct sysg_load_opts *opts;
	struct sysg_config *cfg;
	struct cbuf path;   /* key path of what is being read: "services.api.limits" */
	size_t svc_path;    /* where the service-relative part of path starts, or 0 */
	struct varset proc_env;
	const struct varset *scope; /* the service env (files + vars), or NULL */
	struct svc_build *sb;       /* the service being read, or NULL */
	size_t shown, hidden_errors, hidden_other; /* diagnostics, capped */
	unsigned hidden_line, hidden_col;          /* the last one not shown */
	size_t expanded_bytes;
	size_t env_entries;
	struct svc_build *builds; /* one per cfg->svcs entry */
	struct strmap names;      /* service name -> index */
	struct strmap envcache;   /* absolute path -> index in envfiles */
	struct env_cached *envfiles;
	size_t nenvfiles;
};

/* Diagnostics at a node (NULL: the file as a whole), the key path first. */
void lerr(struct lctx *c, const struct ynode *at, const char *hint, const char *fmt, ...)
	CFG_PRINTF(4, 5);
void lwarn(struct lctx *c, const struct ynode *at, const char *hint, const char *fmt, ...)
	CFG_PRINTF(4, 5);
void lnote(struct lctx *c, const struct ynode *at, const char *hint, const char *fmt, ...)
	CFG_PRINTF(4, 5);
/* The same with an explicit path instead of the current one. */
void lerr_path(struct lctx *c, const char *path, unsigned line, unsigned col, const char *hint,
	       const char *fmt, ...) CFG_PRINTF(6, 7);

size_t path_push(struct lctx *c, const char *key);
size_t path_push_index(struct lctx *c, size_t i);
void path_pop(struct lctx *c, size_t len);
/* The service-relative path ("limits.cgroup"), or the whole path at top level. */
const char *path_rel(const struct lctx *c);

/* A value as it may appear in a message: 'abc', escaped and shortened. */
const char *quote(struct lctx *c, const char *s);
const char *quote_node(struct lctx *c, const struct ynode *n);

/* ---- reading values (values.c); each reports its own error ---------------- */

/* The scalar's text after ${VAR} expansion, or NULL (error reported). */
const char *v_text(struct lctx *c, const struct ynode *n);
/* As v_text, but also refuses control characters (newline, tab, ...). */
const char *v_word(struct lctx *c, const struct ynode *n, const char *what);
int v_bool(struct lctx *c, const struct ynode *n, bool *out);
int v_int(struct lctx *c, const struct ynode *n, int64_t min, int64_t max, int64_t *out);
int v_u64(struct lctx *c, const struct ynode *n, uint64_t min, uint64_t max, uint64_t *out);
int v_duration(struct lctx *c, const struct ynode *n, bool positive, sysg_usec_t *out);
int v_size(struct lctx *c, const struct ynode *n, bool allow_unlimited, uint64_t *out);
int v_enum(struct lctx *c, const struct ynode *n, const char *const *names, size_t count,
	   size_t first, int *out);
/* base + p (p when absolute), lexically cleaned: no "//", "/./" or trailing "/". */
char *path_resolve(struct arena *a, const char *base, const char *p);
/* An absolute path: relative ones are taken from base (NULL: must be absolute). */
char *v_path(struct lctx *c, const struct ynode *n, const char *base);
/* A list of scalars; with one_ok a single scalar counts as a list of one. Each
 * item through fn (NULL: v_text). */
int v_list(struct lctx *c, const struct ynode *n, bool one_ok,
	   const char *(*fn)(struct lctx *c, const struct ynode *item, void *arg), void *arg,
	   struct strv *out);
bool v_expect(struct lctx *c, const struct ynode *n, enum ykind kind);
/* v_path as a v_list item reader (arg: the base, or NULL). */
const char *v_path_item(struct lctx *c, const struct ynode *n, void *base);

/* ---- env (env.c) --------------------------------------------------------------
 * One `env:` block (top level, project or service) as written; a service's
 * environment is its levels merged, the service last. */
struct env_level {
	struct strv files;  /* absolute */
	struct kv *fvars;   /* the files' contents, in order */
	size_t nfvars;
	struct kv *vars;    /* vars and plain entries, expanded, in file order */
	size_t nvars;
	int inherit;        /* -1: not given; else enum env_inherit */
	struct strv inherit_names;
	struct strv strip;
	tri_t clear_session;
};
/* outer: the enclosing levels (top, project), for ${VAR} in vars. */
void env_level_parse(struct lctx *c, const struct ynode *n, const struct env_level *const *outer,
		     size_t nouter, struct env_level *out);
void env_merge(struct lctx *c, const struct env_level *const *levels, size_t n,
	       struct svc_env *out);

/* ${VAR} expansion (expand.c). Returns the expanded string (arena), or NULL
 * with an error reported at n. */
const char *expand_scalar(struct lctx *c, const struct ynode *n);

/* ---- the schema ------------------------------------------------------------ */

struct key_def;
typedef int (*key_fn)(struct lctx *c, const struct key_def *kd, const struct ynode *v, void *obj);

enum vkind {
	V_CUSTOM,       /* fn(c, kd, v, obj) */
	V_STR,          /* char *; no control characters */
	V_BOOL,         /* bool */
	V_TRI,          /* tri_t */
	V_INT,          /* int, min..max */
	V_UINT,         /* unsigned, min..max */
	V_U64,          /* uint64_t, min..max */
	V_DURATION,     /* sysg_usec_t, >= 0 */
	V_DURATION_POS, /* sysg_usec_t, > 0 */
	V_SIZE,         /* uint64_t bytes (KF_UNLIMITED: or SYSG_UNLIMITED) */
	V_OPT_SIZE,     /* struct opt_u64 bytes (KF_UNLIMITED: or SYSG_UNLIMITED) */
	V_OPT_U64,      /* struct opt_u64, min..max (KF_UNLIMITED: or "max") */
	V_ENUM,         /* an int-sized enum, names[first..count) */
	V_PATHLIST,     /* struct strv of absolute paths */
	V_NOEFFECT,     /* checked by fn (may be NULL), then a note: no effect in sysg */
	V_SYSTEMG_ONLY, /* a systemg feature sysg does not have: an error naming it */
	V_HINT,         /* not a key: an unknown key with a fixed "did you mean" (help) */
};

#define KF_UNLIMITED 1u
#define KF_BOOL 2u /* V_ENUM: true and false mean the names "yes" and "no" */

struct key_def {
	const char *name;
	enum vkind kind;
	size_t off;
	key_fn fn;
	int64_t min, max;
	const char *const *names;
	size_t count, first;
	unsigned flags;
	const char *help; /* one line for docs; V_HINT: the key to use instead */
};

struct key_table {
	const char *name; /* the docs section: "service", "limits.cgroup", ... */
	const struct key_def *keys;
	size_t nkeys;
};

#define KEYS(var, docname, ...)                                                        \
	static const struct key_def var##_keys[] = {__VA_ARGS__};                          \
	const struct key_table var = {docname, var##_keys, CFG_ARRAY_SIZE(var##_keys)}

/* Key definitions, one line each in the tables. */
#define K_FN(n, f, h) {.name = n, .kind = V_CUSTOM, .fn = f, .help = h}
#define K_FNX(n, f, o, h) {.name = n, .kind = V_CUSTOM, .fn = f, .off = o, .help = h}
#define K_(n, k, T, fld, h) {.name = n, .kind = k, .off = offsetof(T, fld), .help = h}
#define K_RANGE(n, k, T, fld, lo, hi, h)                                               \
	{.name = n, .kind = k, .off = offsetof(T, fld), .min = lo, .max = hi, .help = h}
#define K_RANGEF(n, k, T, fld, lo, hi, fl, h)                                          \
	{.name = n, .kind = k, .off = offsetof(T, fld), .min = lo, .max = hi, .flags = fl,   \
	 .help = h}
#define K_SIZEF(n, k, T, fld, fl, h) {.name = n, .kind = k, .off = offsetof(T, fld), .flags = fl, .help = h}
#define K_ENUM(n, T, fld, tab, cnt, from, h)                                            \
	{.name = n, .kind = V_ENUM, .off = offsetof(T, fld), .names = tab, .count = cnt,     \
	 .first = from, .help = h}
#define K_SYSTEMG(n, h) {.name = n, .kind = V_SYSTEMG_ONLY, .help = h}
#define K_NOEFFECT(n, f, h) {.name = n, .kind = V_NOEFFECT, .fn = f, .help = h}
#define K_HINT(n, instead) {.name = n, .kind = V_HINT, .help = instead}

/* Reads a mapping through a table: unknown keys with "did you mean", types,
 * values. Returns a bitmask of the keys (table index) that were present and
 * not null; errors are reported, never fatal. A non-mapping is an error (0). */
uint64_t walk_map(struct lctx *c, const struct ynode *map, const struct key_table *t, void *obj);
/* The same, offering keys the table does not know to extra first: it returns
 * true when it took the key (env's plain KEY: value entries). */
typedef bool (*extra_fn)(struct lctx *c, const struct ynode *k, const struct ynode *v, void *obj);
uint64_t walk_map_ex(struct lctx *c, const struct ynode *map, const struct key_table *t, void *obj,
		     extra_fn extra);
/* "unknown key 'x'" at k, with "did you mean" from t (or hint's replacement). */
void unknown_key(struct lctx *c, const struct ynode *k, const struct key_table *t,
		 const struct key_def *hint);
/* The table index of key `name` (for testing walk_map's bitmask). */
int key_index(const struct key_table *t, const char *name);
static inline bool key_seen(uint64_t seen, const struct key_table *t, const char *name)
{
	int i = key_index(t, name);
	return i >= 0 && (seen >> i & 1);
}
extern const struct key_table top_table, project_legacy_table, project_table, metrics_table,
	status_table, logs_table, env_table, service_table, dep_table, limits_table, rlimit_table,
	cgroup_table, isolation_table, landlock_table, seccomp_table, ready_table, health_table,
	hooks_table, hook_table, cron_table, deployment_table, sg_health_table, socket_table,
	secret_table, network_table, policy_table, egress_table, net_table;

/* Every table, for the documentation test. */
extern const struct key_table *const schema_tables[];
extern const size_t schema_ntables;

/* Features that parse but have not landed (pending.c). */
enum pending_scope { PENDING_TOP, PENDING_SERVICE };
struct pending {
	enum pending_scope scope;
	const char *path;    /* relative to the service, or from the top */
	const char *feature; /* as named in the error */
};
extern const struct pending pending[]; /* for the documentation test */
extern const size_t npending;
const char *pending_feature(enum pending_scope scope, const char *relpath);
/* Tests set this to read what a pending feature parses into. */
extern bool pending_ignore;

/* ---- logs levels (load.c) and the per-service parse state ------------------------ */

struct logs_level {
	struct logs_def v;
	uint64_t seen; /* logs_table keys given */
};

/* systemg's deployment.health_check, before it becomes the ready probe. */
struct sg_health {
	char *url, *command;
	sysg_usec_t interval, attempt_timeout, total_timeout, timeout;
	unsigned retries;
};

struct svc_build {
	struct svc_config *s;
	const struct env_level *env_outer[2]; /* top level, project */
	const struct logs_level *logs_outer[2];
	struct env_level env;
	struct varset scope;   /* the service env, for ${VAR} */
	struct logs_level logs;
	bool logs_given;
	const struct ynode *sg_health;  /* deployment.health_check */
	struct probe sg_ready;
	const struct ynode *net_mode;    /* network.mode: service:NAME */
	const struct ynode *allow_from; /* network.policy.allow_from */
	const struct ynode *egress;     /* network.policy.egress.allow */
	const struct ynode *ports;      /* network.ports */
	const struct ynode *ip;         /* network.ip */
	const struct ynode *key;        /* the service's name in the file */
	char *path;                     /* "services.api" or "projects.shop.services.api" */
};

/* Sets every default of SPEC §2 (load.c). */
void svc_defaults(struct lctx *c, struct svc_config *s);
/* After the service's keys are read: cross-key checks of one service. */
void svc_finish(struct lctx *c, struct svc_build *b, uint64_t seen);
/* After every service is read: names, dependencies, cycles, order, networks. */
void validate_all(struct lctx *c);

/* Service keys whose handlers live in probes.c, limits.c and netcfg.c. */
#define KEY_FN(name) int name(struct lctx *c, const struct key_def *kd, const struct ynode *v, void *obj)
KEY_FN(svc_skip);
KEY_FN(svc_ready);
KEY_FN(svc_health);
KEY_FN(svc_hooks);
KEY_FN(svc_cron);
KEY_FN(svc_deployment);
KEY_FN(svc_limits);
KEY_FN(svc_caps);
KEY_FN(svc_isolation);
KEY_FN(svc_sockets);
KEY_FN(svc_network);
KEY_FN(top_networks);

/* "250ms", "1.5s", "2m", "1h30m": a duration as users write it. */
char *duration_str(struct arena *a, sysg_usec_t v);

/* Pieces used by more than one table. */
int read_command(struct lctx *c, const struct ynode *v, struct cmd *out);
int probe_http_url(struct lctx *c, const struct ynode *v, const char *url);
const char *user_item(struct lctx *c, const struct ynode *n, void *arg);

/* ---- pieces of the loader ------------------------------------------------- */

/* Splits a command into argv (cmd.c). 0, or -1 with *why. */
int cmd_parse(struct arena *a, const char *text, struct cmd *out, const char **why);
/* Renders argv back into one shell-quoted line. */
char *argv_render(struct arena *a, char *const *argv);

/* Parsing listen URLs, ports, CIDRs (netparse.c). */
int parse_listen(struct arena *a, const char *s, struct sock_def *out, const char **why);
int parse_port_spec(struct arena *a, const char *s, struct port_def *out, const char **why);
int parse_cidr(const char *s, uint32_t *addr, uint8_t *prefix, const char **why);
int parse_ipv4(const char *s, uint32_t *addr);

/* Names that end up in files, links, rules and argv (names.c). */
bool hostname_valid(const char *s);   /* RFC 1123 host name, dots allowed */
bool user_name_valid(const char *s);  /* user/group name (not all digits) */
bool env_name_valid(const char *s);   /* [A-Za-z_][A-Za-z0-9_.-]* */
bool net_name_valid(const char *s);   /* like a service name, at most 12 characters */
bool fdname_valid(const char *s);     /* a LISTEN_FDNAMES entry */

#endif
