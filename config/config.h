/* The service file as validated, immutable data (SPEC §2).
 *
 * sysg_config_load() reads one YAML file, checks all of it, and returns either a
 * complete struct sysg_config with every default applied, or NULL and every
 * problem as a diagnostic. Nothing in here holds a pointer into libyaml, the
 * process environment or the runtime: a config can be freed at any time.
 *
 * Conventions: durations are microseconds (sysg_usec_t); "unset" is spelled
 * out (a `set` flag, TRI_UNSET, or an enum's *_UNSET) wherever a default is
 * decided later by a layer that knows the runtime (isolation presets, log
 * sink in PID 1 mode). Every string is NUL-terminated and NUL-free.
 */
#ifndef SYSG_CONFIG_H
#define SYSG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/types.h>

typedef int64_t sysg_usec_t;
#define USEC_PER_MSEC 1000LL
#define USEC_PER_SEC 1000000LL
#define SYSG_UNLIMITED UINT64_MAX /* sizes and counts that may be "unlimited"/"max" */

/* ---- diagnostics ------------------------------------------------------- */

enum diag_sev { DIAG_ERROR, DIAG_WARNING, DIAG_NOTE };

struct sysg_diag {
	enum diag_sev sev;
	char *file;        /* the file the position is in (service file or env file) */
	unsigned line, col; /* 1-based; 0 when the message is about the file as a whole */
	char *msg;         /* what is wrong, naming the key path: "services.api.backoff: ..." */
	char *hint;        /* how to fix it, or "did you mean 'x'?"; NULL if none */
};

struct sysg_diags {
	struct sysg_diag *v;
	size_t n, cap;
	size_t nerrors;
};

void diags_add(struct sysg_diags *d, enum diag_sev sev, const char *file, unsigned line,
	       unsigned col, const char *hint, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));
void diags_free(struct sysg_diags *d);
/* "file:line:col: error: msg (hint)" lines, in file order. */
void diags_print(const struct sysg_diags *d, FILE *out);
/* {"valid": bool, "errors": n, "diagnostics": [{file, line, column, severity, message, hint}]} */
char *diags_to_json(const struct sysg_diags *d);
/* The closest candidate to `word` by edit distance, or NULL if none is close. */
const char *did_you_mean(const char *word, const char *const *candidates, size_t n);

/* ---- small value types -------------------------------------------------- */

struct strv {
	char **v; /* NULL-terminated */
	size_t n;
};

struct kv {
	char *key, *value;
};

enum tri { TRI_UNSET = -1, TRI_NO = 0, TRI_YES = 1 };
typedef int8_t tri_t;

struct opt_u64 {
	bool set;
	uint64_t v; /* SYSG_UNLIMITED for "max"/"unlimited" where allowed */
};

/* A program to run. For a command with shell syntax argv is
 * {"/bin/sh", "-c", text}; otherwise the text split with shell quoting rules.
 * argv[0] is searched in PATH when the service starts, not here. */
struct cmd {
	char *text;  /* as shown to users (after ${VAR} expansion) */
	struct strv argv;
	bool shell;
};

/* ---- lifecycle ---------------------------------------------------------- */

enum restart_policy { RESTART_NEVER, RESTART_ON_FAILURE, RESTART_ALWAYS, RESTART__COUNT };
enum dep_cond { DEP_STARTED, DEP_READY, DEP_COMPLETED, DEP__COUNT };
enum kill_mode { KILL_CGROUP, KILL_GROUP, KILL_PROCESS, KILL__COUNT };

struct dep {
	char *name;   /* full service name as written, resolved: "db" or "shop/db" */
	size_t index; /* into sysg_config.svcs */
	enum dep_cond cond;
	unsigned line, col;
};

enum probe_kind { PROBE_NONE, PROBE_NOTIFY, PROBE_TCP, PROBE_HTTP, PROBE_EXEC, PROBE_LOG, PROBE__COUNT };

struct probe {
	enum probe_kind kind;
	char *target;        /* tcp: "host:port"; http: URL; log: regex (validated with regcomp) */
	struct cmd exec;     /* PROBE_EXEC */
	sysg_usec_t timeout;  /* ready: total budget (default 90s); health: per attempt (5s) */
	sysg_usec_t interval; /* ready: default 1s; health: default 10s */
	unsigned retries;     /* health_check: consecutive failures before restart (default 3) */
	sysg_usec_t attempt_timeout; /* ready: cap on one attempt; 0 = the interval */
};

struct hook {
	bool set;
	struct cmd cmd;
	sysg_usec_t timeout; /* default 30s */
};

struct cron_def {
	bool set;
	char *expression;    /* syntax checked by the cron layer at load */
	char *timezone;      /* IANA name or NULL for local time */
	sysg_usec_t timeout; /* 0: a run is never killed */
	bool catch_up;
};

enum skip_kind { SKIP_NO, SKIP_YES, SKIP_CMD };
struct skip_def {
	enum skip_kind kind;
	struct cmd cmd;
};

/* ---- sockets (SPEC §2.4) ------------------------------------------------ */

struct sock_def {
	char *name;    /* LISTEN_FDNAMES entry; defaults to the service's unit name */
	char *listen;  /* as written */
	int family;    /* AF_INET, AF_INET6, AF_UNIX */
	int type;      /* SOCK_STREAM, SOCK_DGRAM */
	char *addr;    /* numeric host for inet; path for unix; name (no leading @) for abstract */
	bool abstract;
	uint16_t port;
	int backlog;   /* default 511 */
	bool mode_set;
	mode_t mode;   /* unix path sockets; default 0666 & ~umask */
	char *owner, *group; /* unix path sockets; default: the service's user/group */
	unsigned line, col;
};

/* ---- limits (SPEC §2.5) ------------------------------------------------- */

enum sysg_rlimit {
	SYSG_RLIM_NOFILE, SYSG_RLIM_NPROC, SYSG_RLIM_MEMLOCK, SYSG_RLIM_CORE,
	SYSG_RLIM_STACK, SYSG_RLIM_AS, SYSG_RLIM_FSIZE, SYSG_RLIM__COUNT
};
extern const struct rlimit_name { const char *name; int resource; } sysg_rlimit_names[SYSG_RLIM__COUNT];

struct rlim_def {
	bool set;
	rlim_t soft, hard; /* RLIM_INFINITY for unlimited */
};

struct cgroup_limits {
	struct opt_u64 memory_max, memory_high, memory_swap_max; /* bytes or SYSG_UNLIMITED */
	bool cpu_max_set;
	uint64_t cpu_quota_usec;  /* SYSG_UNLIMITED for "max" */
	uint64_t cpu_period_usec; /* default 100000 */
	struct opt_u64 cpu_weight; /* 1..10000 */
	struct opt_u64 pids_max;   /* or SYSG_UNLIMITED */
	struct opt_u64 io_weight;  /* 1..10000 */
};

struct limits {
	struct rlim_def rlim[SYSG_RLIM__COUNT];
	bool nice_set;
	int nice;                 /* -20..19 */
	unsigned *cpu_affinity;   /* CPU numbers */
	size_t ncpu_affinity;
	bool oom_score_adj_set;
	int oom_score_adj;        /* -1000..1000 */
	struct cgroup_limits cg;
	bool any_cgroup;          /* some cgroup limit is set */
};

/* ---- isolation (SPEC §2.6): what the file says; presets are applied by isolation/ ---- */

enum iso_preset { PRESET_UNSET, PRESET_NONE, PRESET_MINIMAL, PRESET_SERVER, PRESET_STRICT,
		  PRESET_WORKER, PRESET_DATABASE, PRESET__COUNT };
enum seccomp_kind { SECCOMP_UNSET, SECCOMP_UNCONFINED, SECCOMP_DEFAULT, SECCOMP_STRICT,
		    SECCOMP_BASELINE_V1, SECCOMP_CUSTOM, SECCOMP__COUNT };
enum protect_system { PROTECT_SYSTEM_UNSET, PROTECT_SYSTEM_NO, PROTECT_SYSTEM_FULL,
		      PROTECT_SYSTEM_STRICT, PROTECT_SYSTEM__COUNT };
enum protect_home { PROTECT_HOME_UNSET, PROTECT_HOME_NO, PROTECT_HOME_YES,
		    PROTECT_HOME_READ_ONLY, PROTECT_HOME_TMPFS, PROTECT_HOME__COUNT };

struct bind_def {
	char *src, *dst; /* absolute; src relative to the service file's directory when relative */
	bool ro;
};

struct tmpfs_def {
	char *path;
	char *options;   /* validated mount options: size=, mode=, nr_inodes=, exec, noexec, ... */
};

struct isolation {
	enum iso_preset preset;
	tri_t pid, mount, network, ipc, uts, user, cgroupns;
	char *hostname;
	enum seccomp_kind seccomp;
	char *seccomp_profile;   /* SECCOMP_CUSTOM: absolute path of the OCI/Docker JSON profile */
	tri_t no_new_privileges;
	enum protect_system protect_system;
	enum protect_home protect_home;
	tri_t private_tmp, private_devices, read_only_rootfs, protect_kernel,
	      memory_deny_write_execute;
	struct strv read_write_paths, read_only_paths, inaccessible_paths;
	struct bind_def *binds;
	size_t nbinds;
	struct tmpfs_def *tmpfs;
	size_t ntmpfs;
	bool landlock_set;
	struct strv landlock_ro, landlock_rw;
	struct opt_u64 shm_size;  /* bytes; the database preset's /dev/shm size */
};

/* ---- environment and secrets (SPEC §2.2) -------------------------------- */

enum env_inherit { INHERIT_DEFAULT, INHERIT_NONE, INHERIT_ALL, INHERIT_LIST };

struct svc_env {
	struct kv *vars;       /* env files first (in order), then vars; later wins; expanded */
	size_t nvars;          /* sorted by key */
	struct kv *yaml_vars;  /* only the vars written in the file (every level merged,
				* expanded, sorted): applied over the re-read files at start */
	size_t nyaml_vars;
	struct strv files;     /* absolute paths, top level first, re-read at every start;
				* one that did not exist at load is in here too (a warning) */
	enum env_inherit inherit; /* INHERIT_DEFAULT: all in user mode, none in system mode */
	struct strv inherit_names;
	struct strv strip;     /* every level's, merged */
	bool clear_session_vars; /* default true: strip sysg_session_env_vars (unless in vars) */
};

/* Variables describing the login session of whoever started sysg
 * (SSH_AUTH_SOCK, DBUS_SESSION_BUS_ADDRESS, XDG_SESSION_ID, ...): never
 * inherited when clear_session_vars is on. NULL-terminated. */
extern const char *const sysg_session_env_vars[];

enum secret_source { SECRET_FILE, SECRET_ENV, SECRET_VALUE, SECRET__COUNT };
enum secret_delivery { DELIVER_ENV, DELIVER_FILE, DELIVER__COUNT };

struct secret_def {
	char *name;       /* env var name, or file name under $CREDENTIALS_DIRECTORY */
	enum secret_source source;
	char *ref;        /* absolute path, host env var name, or the literal value */
	enum secret_delivery deliver;
};

/* ---- logs (SPEC §2.7) --------------------------------------------------- */

enum log_sink { LOG_SINK_UNSET, LOG_SINK_FILE, LOG_SINK_NONE, LOG_SINK_JOURNAL, LOG_SINK_STDOUT,
		LOG_SINK__COUNT };

struct logs_def {
	enum log_sink sink;  /* UNSET: file (plus the terminal in the foreground), stdout as PID 1 */
	uint64_t max_bytes;  /* default 10M */
	unsigned max_files;  /* default 5 */
	bool timestamps;     /* default true */
};

/* ---- networking (SPEC §2.9) --------------------------------------------- */

enum net_mode { NET_UNSET, NET_BRIDGE, NET_HOST, NET_NONE, NET_SERVICE, NET__COUNT };

struct port_def {
	uint32_t host_ip;    /* network byte order; 0 = every address */
	uint16_t host_port, svc_port;
	int proto;           /* IPPROTO_TCP or IPPROTO_UDP */
	char *spec;          /* as written */
};

struct egress_def {
	char *host;          /* a service name (resolved through the hosts table) or NULL */
	uint32_t addr;       /* network byte order, when host is NULL */
	uint8_t prefix;
	uint16_t port;       /* 0 = any port */
	char *spec;
};

struct svc_net {
	enum net_mode mode;  /* UNSET: no network block (host networking) */
	char *network;       /* default "sysg0" */
	char *share_with;    /* NET_SERVICE: the service whose netns is joined */
	size_t share_index;
	char *hostname;
	bool ip_set;
	uint32_t ip;         /* network byte order */
	struct port_def *ports;
	size_t nports;
	bool allow_from_set;
	struct strv allow_from;
	bool egress_set;
	struct egress_def *egress;
	size_t negress;
};

struct net_def {
	char *name;
	uint32_t addr;       /* network address, network byte order */
	uint8_t prefix;
	unsigned line, col;
};

/* ---- a service ---------------------------------------------------------- */

struct svc_config {
	char *name;       /* what users type: "api", or "shop/api" in a projects: file */
	char *project;    /* "shop", or NULL */
	char *project_name; /* its display name (default: the id), or NULL */
	char *unit;       /* file-system-safe: "api" or "shop@api" (log, cgroup and state names) */
	unsigned line, col; /* where the service is named (its key) in the file */

	struct cmd cmd;
	char *working_dir;  /* absolute; default: the service file's directory */
	struct svc_env env;
	struct secret_def *secrets;
	size_t nsecrets;
	char *user, *group; /* names or numbers as written; resolved when the service starts */
	struct strv supplementary_groups;
	mode_t umask;       /* default 0022 */
	struct skip_def skip;

	enum restart_policy restart;   /* default never */
	sysg_usec_t backoff, backoff_max, stable_after, restart_window;
	uint64_t max_restarts;         /* SYSG_UNLIMITED by default */
	int stop_signal;               /* default SIGTERM */
	sysg_usec_t stop_timeout;      /* default 10s */
	enum kill_mode kill_mode;      /* default cgroup */
	struct dep *deps;
	size_t ndeps;
	struct probe ready;            /* PROBE_NONE: ready after 250 ms alive */
	struct probe health;           /* PROBE_NONE: no liveness probe */
	sysg_usec_t watchdog;          /* 0: none */
	struct hook onstart, onerr;
	struct cron_def cron;

	struct sock_def *sockets;
	size_t nsockets;
	struct limits limits;
	bool caps_set;
	uint64_t caps;                 /* bit n = capability n; only meaningful when caps_set */
	struct isolation iso;
	struct logs_def logs;
	struct svc_net net;
};

struct sysg_config {
	char *path;        /* absolute path of the service file */
	char *dir;         /* its directory: the base of relative paths */
	int version;       /* 2 or 3 */
	struct svc_config *svcs;
	size_t nsvcs;
	size_t *order;     /* indices into svcs, dependencies before dependents */
	struct net_def *nets;
	size_t nnets;
	void *arena;       /* owns every allocation above */
};

/* ---- loading ------------------------------------------------------------ */

struct sysg_load_opts {
	bool system_mode;          /* --sys: changes defaults (env inherit) and allowed keys */
	char *const *environ;      /* for ${VAR} and env.inherit; NULL = the process environment */
};

/* Hard limits on hostile input (SPEC §2). */
#define SYSG_MAX_FILE_BYTES (8u << 20)
#define SYSG_MAX_DEPTH 64
#define SYSG_MAX_NODES 1000000     /* after alias expansion */

/* Returns 0 and *out, or -1 with at least one error in *d (and *out NULL).
 * Warnings and notes may be added in either case. */
int sysg_config_load(const char *path, const struct sysg_load_opts *opts,
		     struct sysg_config **out, struct sysg_diags *d);
/* The same from memory; `name` is used in diagnostics and as the base for relative paths. */
int sysg_config_load_buf(const char *name, const char *buf, size_t len,
			 const struct sysg_load_opts *opts, struct sysg_config **out,
			 struct sysg_diags *d);
void sysg_config_free(struct sysg_config *cfg);

/* The service called `name` ("api" or "shop/api"; a bare name also matches a
 * project service when it is unambiguous), or NULL. */
const struct svc_config *sysg_config_find(const struct sysg_config *cfg, const char *name);

/* Canonical JSON of one service's effective config, used by `inspect` and to
 * decide on reload whether a service changed. With mask_secrets, secret
 * values are replaced by "***". The caller frees the string. */
char *svc_config_to_json(const struct svc_config *svc, bool mask_secrets);

/* ---- value parsers shared with the CLI and other layers (config/units.c) ---- */

/* "250ms", "5s", "2m", "1h", "1d", or a bare number of seconds. -1 on error with *why set. */
int parse_duration(const char *s, sysg_usec_t *out, const char **why);
/* "512K", "64M", "2G", "1T" (binary), bare bytes; "unlimited"/"max" -> SYSG_UNLIMITED
 * when allow_unlimited. */
int parse_size(const char *s, bool allow_unlimited, uint64_t *out, const char **why);
/* "SIGTERM", "TERM", or a number; returns the signal number or -1. */
int parse_signal(const char *s);
const char *signal_name(int sig); /* "SIGTERM", or NULL */
/* "CAP_NET_BIND_SERVICE" or "net_bind_service"; returns the number or -1. */
int parse_capability(const char *s);
const char *capability_name(int cap);
int capability_last(void); /* highest capability number sysg knows */
/* Service names: [A-Za-z0-9][A-Za-z0-9_.-]{0,62}. */
bool service_name_valid(const char *s);
/* "ip:port" with numeric IPv4/IPv6 ([::1]:80) or a hostname; port 1..65535. */
int parse_host_port(const char *s, char **host, uint16_t *port, const char **why);

/* The name tables (one per user-facing enum, checked complete at compile time). */
extern const char *const restart_policy_names[RESTART__COUNT];
extern const char *const dep_cond_names[DEP__COUNT];
extern const char *const kill_mode_names[KILL__COUNT];
extern const char *const probe_kind_names[PROBE__COUNT];
extern const char *const iso_preset_names[PRESET__COUNT];
extern const char *const seccomp_kind_names[SECCOMP__COUNT];
extern const char *const protect_system_names[PROTECT_SYSTEM__COUNT];
extern const char *const protect_home_names[PROTECT_HOME__COUNT];
extern const char *const log_sink_names[LOG_SINK__COUNT];
extern const char *const net_mode_names[NET__COUNT];
extern const char *const secret_source_names[SECRET__COUNT];
extern const char *const secret_delivery_names[DELIVER__COUNT];

/* ---- env files (config/envfile.c) ----------------------------------------------
 * `KEY=VALUE` lines, `export KEY=VALUE`, '...' literal, "..." with \n \t \r \\ \"
 * \$ \` escapes (may span lines), # comments and blank lines. Values are not
 * ${VAR}-expanded. The supervisor re-reads a service's files at each start. */
struct envfile {
	struct kv *v; /* in file order; a later duplicate wins when applied */
	size_t n;
};
#define SYSG_MAX_ENVFILE_BYTES (1u << 20)
/* 0, or -1 with every problem in d as "name:line:col". out holds what parsed. */
int envfile_parse(const char *name, const char *buf, size_t len, struct envfile *out,
		  struct sysg_diags *d);
/* Reads and parses path: 0; -errno when it cannot be read (nothing added to d);
 * -EINVAL when it has errors (in d). */
int envfile_read(const char *path, struct envfile *out, struct sysg_diags *d);
void envfile_free(struct envfile *e);

#endif
