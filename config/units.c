/* Value parsers shared with the CLI and the other layers, and the name table
 * of every user-facing enum. Pure functions: no I/O, no allocation except
 * parse_host_port's result. */
#include <arpa/inet.h>
#include <ctype.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/internal.h"

/* ---- name tables ------------------------------------------------------------- */

const char *const restart_policy_names[RESTART__COUNT] = {
	[RESTART_NEVER] = "never", [RESTART_ON_FAILURE] = "on-failure", [RESTART_ALWAYS] = "always",
};
const char *const dep_cond_names[DEP__COUNT] = {
	[DEP_STARTED] = "started", [DEP_READY] = "ready", [DEP_COMPLETED] = "completed",
};
const char *const kill_mode_names[KILL__COUNT] = {
	[KILL_CGROUP] = "cgroup", [KILL_GROUP] = "group", [KILL_PROCESS] = "process",
};
const char *const probe_kind_names[PROBE__COUNT] = {
	[PROBE_NONE] = "none", [PROBE_NOTIFY] = "notify", [PROBE_TCP] = "tcp",
	[PROBE_HTTP] = "http", [PROBE_EXEC] = "exec", [PROBE_LOG] = "log",
};
const char *const iso_preset_names[PRESET__COUNT] = {
	[PRESET_UNSET] = "unset", [PRESET_NONE] = "none", [PRESET_MINIMAL] = "minimal",
	[PRESET_SERVER] = "server", [PRESET_STRICT] = "strict", [PRESET_WORKER] = "worker",
	[PRESET_DATABASE] = "database",
};
const char *const seccomp_kind_names[SECCOMP__COUNT] = {
	[SECCOMP_UNSET] = "unset", [SECCOMP_UNCONFINED] = "unconfined",
	[SECCOMP_DEFAULT] = "default", [SECCOMP_STRICT] = "strict",
	[SECCOMP_BASELINE_V1] = "baseline-v1", [SECCOMP_CUSTOM] = "custom",
};
const char *const protect_system_names[PROTECT_SYSTEM__COUNT] = {
	[PROTECT_SYSTEM_UNSET] = "unset", [PROTECT_SYSTEM_NO] = "no",
	[PROTECT_SYSTEM_FULL] = "full", [PROTECT_SYSTEM_STRICT] = "strict",
};
const char *const protect_home_names[PROTECT_HOME__COUNT] = {
	[PROTECT_HOME_UNSET] = "unset", [PROTECT_HOME_NO] = "no", [PROTECT_HOME_YES] = "yes",
	[PROTECT_HOME_READ_ONLY] = "read-only", [PROTECT_HOME_TMPFS] = "tmpfs",
};
const char *const log_sink_names[LOG_SINK__COUNT] = {
	[LOG_SINK_UNSET] = "unset", [LOG_SINK_FILE] = "file", [LOG_SINK_NONE] = "none",
	[LOG_SINK_JOURNAL] = "journal", [LOG_SINK_STDOUT] = "stdout",
};
const char *const net_mode_names[NET__COUNT] = {
	[NET_UNSET] = "unset", [NET_BRIDGE] = "bridge", [NET_HOST] = "host", [NET_NONE] = "none",
	[NET_SERVICE] = "service",
};
const char *const secret_source_names[SECRET__COUNT] = {
	[SECRET_FILE] = "file", [SECRET_ENV] = "env", [SECRET_VALUE] = "value",
};
const char *const secret_delivery_names[DELIVER__COUNT] = {
	[DELIVER_ENV] = "env", [DELIVER_FILE] = "file",
};

const struct rlimit_name sysg_rlimit_names[SYSG_RLIM__COUNT] = {
	[SYSG_RLIM_NOFILE] = {"nofile", RLIMIT_NOFILE},
	[SYSG_RLIM_NPROC] = {"nproc", RLIMIT_NPROC},
	[SYSG_RLIM_MEMLOCK] = {"memlock", RLIMIT_MEMLOCK},
	[SYSG_RLIM_CORE] = {"core", RLIMIT_CORE},
	[SYSG_RLIM_STACK] = {"stack", RLIMIT_STACK},
	[SYSG_RLIM_AS] = {"as", RLIMIT_AS},
	[SYSG_RLIM_FSIZE] = {"fsize", RLIMIT_FSIZE},
};

/* Designated initializers leave a hole (NULL) for a forgotten value; a test
 * walks every table, and these catch a table of the wrong length. */
_Static_assert(CFG_ARRAY_SIZE(restart_policy_names) == RESTART__COUNT, "restart names");
_Static_assert(CFG_ARRAY_SIZE(net_mode_names) == NET__COUNT, "net mode names");
_Static_assert(CFG_ARRAY_SIZE(sysg_rlimit_names) == SYSG_RLIM__COUNT, "rlimit names");

const char *const sysg_session_env_vars[] = {
	"SSH_AUTH_SOCK", "SSH_AGENT_PID", "SSH_CLIENT", "SSH_CONNECTION", "SSH_TTY",
	"DBUS_SESSION_BUS_ADDRESS", "XDG_SESSION_ID", "XDG_SESSION_TYPE", "XDG_SESSION_CLASS",
	"XDG_SESSION_DESKTOP", "XDG_SEAT", "XDG_VTNR", "XDG_RUNTIME_DIR", "DISPLAY",
	"WAYLAND_DISPLAY", "XAUTHORITY", "GPG_AGENT_INFO", "WINDOWID", "TERM_SESSION_ID",
	"KRB5CCNAME", NULL,
};

/* ---- durations and sizes ------------------------------------------------------ */

static const char *skip_ws(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* Reads "12" or "1.25" into an integer part and a fraction (digits/10^scale). */
static int read_decimal(const char **sp, uint64_t *ip, uint64_t *frac, unsigned *scale,
			const char **why)
{
	const char *s = *sp;
	uint64_t v = 0;

	if (!isdigit((unsigned char)*s) && !(*s == '.' && isdigit((unsigned char)s[1])))
		return -1;
	for (; isdigit((unsigned char)*s); s++) {
		if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, *s - '0', &v)) {
			*why = "is too large";
			return -2;
		}
	}
	*frac = 0;
	*scale = 0;
	if (*s == '.') {
		s++;
		for (; isdigit((unsigned char)*s); s++) {
			if (*scale >= 18) { /* beyond any unit's precision */
				if (*s != '0') {
					*why = "is more precise than sysg can represent";
					return -2;
				}
				continue;
			}
			*frac = *frac * 10 + (uint64_t)(*s - '0');
			(*scale)++;
		}
	}
	*ip = v;
	*sp = s;
	return 0;
}

static const uint64_t pow10_tab[19] = {
	1ull, 10ull, 100ull, 1000ull, 10000ull, 100000ull, 1000000ull, 10000000ull,
	100000000ull, 1000000000ull, 10000000000ull, 100000000000ull, 1000000000000ull,
	10000000000000ull, 100000000000000ull, 1000000000000000ull, 10000000000000000ull,
	100000000000000000ull, 1000000000000000000ull,
};

/* ip.frac × unit, exactly; -1 (why set) when not a whole number or too big. */
static int scale_exact(uint64_t ip, uint64_t frac, unsigned scale, uint64_t unit, uint64_t *out,
		       const char **why, const char *imprecise)
{
	unsigned __int128 f = (unsigned __int128)frac * unit;
	uint64_t v;

	if (f % pow10_tab[scale]) {
		*why = imprecise;
		return -1;
	}
	if (__builtin_mul_overflow(ip, unit, &v) ||
	    __builtin_add_overflow(v, (uint64_t)(f / pow10_tab[scale]), &v)) {
		*why = "is too large";
		return -1;
	}
	*out = v;
	return 0;
}

static const struct unit {
	const char *name;
	uint64_t usec;
} duration_units[] = {
	/* longest first, so "ms" is not read as "m" */
	{"ms", 1000ull},
	{"us", 1ull},
	{"s", 1000000ull},
	{"m", 60000000ull},
	{"h", 3600000000ull},
	{"d", 86400000000ull},
};

int parse_duration(const char *s, sysg_usec_t *out, const char **why)
{
	uint64_t total = 0;
	const char *dummy;
	bool any = false;

	why = why ? why : &dummy;
	s = skip_ws(s);
	if (*s == '+')
		s++;
	if (!*skip_ws(s)) {
		*why = "is empty";
		return -1;
	}
	if (*s == '-') {
		*why = "is negative";
		return -1;
	}
	while (*(s = skip_ws(s))) {
		uint64_t ip = 0, frac, v;
		unsigned scale;
		const struct unit *u = NULL;
		int r = read_decimal(&s, &ip, &frac, &scale, why);

		if (r == -2)
			return -1;
		if (r < 0)
			goto bad;
		s = skip_ws(s);
		for (size_t i = 0; i < CFG_ARRAY_SIZE(duration_units); i++) {
			size_t n = strlen(duration_units[i].name);
			if (strncmp(s, duration_units[i].name, n) == 0 && !isalpha((unsigned char)s[n])) {
				u = &duration_units[i];
				s += n;
				break;
			}
		}
		if (!u) {
			/* A bare number is seconds, but only on its own: "1m30" is a typo. */
			if (any || *skip_ws(s))
				goto bad;
			u = &duration_units[2];
		}
		if (scale_exact(ip, frac, scale, u->usec, &v, why,
				"is more precise than a microsecond") < 0)
			return -1;
		if (__builtin_add_overflow(total, v, &total) || total > INT64_MAX) {
			*why = "is too large";
			return -1;
		}
		any = true;
	}
	*out = (sysg_usec_t)total;
	return 0;
bad:
	*why = "is not a duration";
	return -1;
}

static const struct unit size_units[] = {
	{"k", 1ull << 10}, {"m", 1ull << 20}, {"g", 1ull << 30},
	{"t", 1ull << 40}, {"p", 1ull << 50}, {"e", 1ull << 60},
};

/* "", "B", "K", "KB", "KiB" (any case): binary multiples, documented so. */
static int size_suffix(const char *s, uint64_t *mult)
{
	size_t n = strlen(s);

	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n == 0) {
		*mult = 1;
		return 0;
	}
	if (n == 1 && (*s == 'b' || *s == 'B')) {
		*mult = 1;
		return 0;
	}
	for (size_t i = 0; i < CFG_ARRAY_SIZE(size_units); i++) {
		if (tolower((unsigned char)s[0]) != size_units[i].name[0])
			continue;
		if (n == 1 || (n == 2 && (s[1] == 'b' || s[1] == 'B')) ||
		    (n == 3 && (s[1] == 'i' || s[1] == 'I') && (s[2] == 'b' || s[2] == 'B'))) {
			*mult = size_units[i].usec;
			return 0;
		}
	}
	return -1;
}

int parse_size(const char *s, bool allow_unlimited, uint64_t *out, const char **why)
{
	uint64_t ip = 0, frac, mult, v;
	unsigned scale;
	const char *dummy;
	int r;

	why = why ? why : &dummy;
	s = skip_ws(s);
	if (!*s) {
		*why = "is empty";
		return -1;
	}
	if (!strcasecmp(s, "unlimited") || !strcasecmp(s, "max") || !strcasecmp(s, "infinity")) {
		if (!allow_unlimited) {
			*why = "cannot be unlimited here";
			return -1;
		}
		*out = SYSG_UNLIMITED;
		return 0;
	}
	if (*s == '-') {
		*why = "is negative";
		return -1;
	}
	if (*s == '+')
		s++;
	r = read_decimal(&s, &ip, &frac, &scale, why);
	if (r == -2)
		return -1;
	if (r < 0 || size_suffix(skip_ws(s), &mult) < 0) {
		*why = "is not a size";
		return -1;
	}
	if (scale_exact(ip, frac, scale, mult, &v, why, "is not a whole number of bytes") < 0)
		return -1;
	if (v == SYSG_UNLIMITED) { /* the sentinel is not a size */
		*why = "is too large";
		return -1;
	}
	*out = v;
	return 0;
}

/* ---- signals -------------------------------------------------------------------- */

static const char *const signal_names[32] = {
	[SIGHUP] = "SIGHUP", [SIGINT] = "SIGINT", [SIGQUIT] = "SIGQUIT", [SIGILL] = "SIGILL",
	[SIGTRAP] = "SIGTRAP", [SIGABRT] = "SIGABRT", [SIGBUS] = "SIGBUS", [SIGFPE] = "SIGFPE",
	[SIGKILL] = "SIGKILL", [SIGUSR1] = "SIGUSR1", [SIGSEGV] = "SIGSEGV",
	[SIGUSR2] = "SIGUSR2", [SIGPIPE] = "SIGPIPE", [SIGALRM] = "SIGALRM",
	[SIGTERM] = "SIGTERM", [SIGSTKFLT] = "SIGSTKFLT", [SIGCHLD] = "SIGCHLD",
	[SIGCONT] = "SIGCONT", [SIGSTOP] = "SIGSTOP", [SIGTSTP] = "SIGTSTP",
	[SIGTTIN] = "SIGTTIN", [SIGTTOU] = "SIGTTOU", [SIGURG] = "SIGURG",
	[SIGXCPU] = "SIGXCPU", [SIGXFSZ] = "SIGXFSZ", [SIGVTALRM] = "SIGVTALRM",
	[SIGPROF] = "SIGPROF", [SIGWINCH] = "SIGWINCH", [SIGIO] = "SIGIO", [SIGPWR] = "SIGPWR",
	[SIGSYS] = "SIGSYS",
};
_Static_assert(SIGSYS == 31, "signal table covers the classic signals");

static int parse_small_uint(const char *s, int max)
{
	int v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (!isdigit((unsigned char)*s))
			return -1;
		v = v * 10 + (*s - '0');
		if (v > max)
			return -1;
	}
	return v;
}

int parse_signal(const char *s)
{
	const char *name = s;
	int n;

	if (isdigit((unsigned char)*s)) {
		n = parse_small_uint(s, SIGRTMAX);
		return n >= 1 ? n : -1;
	}
	if (!strncasecmp(name, "SIG", 3))
		name += 3;
	for (int i = 1; i < 32; i++)
		if (signal_names[i] && !strcasecmp(name, signal_names[i] + 3))
			return i;
	if (!strcasecmp(name, "IOT"))
		return SIGABRT;
	if (!strcasecmp(name, "POLL"))
		return SIGIO;
	if (!strncasecmp(name, "RTMIN", 5)) {
		if (!name[5])
			return SIGRTMIN;
		if (name[5] != '+')
			return -1;
		n = parse_small_uint(name + 6, SIGRTMAX - SIGRTMIN);
		return n >= 0 ? SIGRTMIN + n : -1;
	}
	if (!strncasecmp(name, "RTMAX", 5)) {
		if (!name[5])
			return SIGRTMAX;
		if (name[5] != '-')
			return -1;
		n = parse_small_uint(name + 6, SIGRTMAX - SIGRTMIN);
		return n >= 0 ? SIGRTMAX - n : -1;
	}
	return -1;
}

const char *signal_name(int sig)
{
	return sig > 0 && sig < 32 ? signal_names[sig] : NULL;
}

/* ---- capabilities ------------------------------------------------------------------ */

static const char *const cap_names[] = {
	[CAP_CHOWN] = "CAP_CHOWN",
	[CAP_DAC_OVERRIDE] = "CAP_DAC_OVERRIDE",
	[CAP_DAC_READ_SEARCH] = "CAP_DAC_READ_SEARCH",
	[CAP_FOWNER] = "CAP_FOWNER",
	[CAP_FSETID] = "CAP_FSETID",
	[CAP_KILL] = "CAP_KILL",
	[CAP_SETGID] = "CAP_SETGID",
	[CAP_SETUID] = "CAP_SETUID",
	[CAP_SETPCAP] = "CAP_SETPCAP",
	[CAP_LINUX_IMMUTABLE] = "CAP_LINUX_IMMUTABLE",
	[CAP_NET_BIND_SERVICE] = "CAP_NET_BIND_SERVICE",
	[CAP_NET_BROADCAST] = "CAP_NET_BROADCAST",
	[CAP_NET_ADMIN] = "CAP_NET_ADMIN",
	[CAP_NET_RAW] = "CAP_NET_RAW",
	[CAP_IPC_LOCK] = "CAP_IPC_LOCK",
	[CAP_IPC_OWNER] = "CAP_IPC_OWNER",
	[CAP_SYS_MODULE] = "CAP_SYS_MODULE",
	[CAP_SYS_RAWIO] = "CAP_SYS_RAWIO",
	[CAP_SYS_CHROOT] = "CAP_SYS_CHROOT",
	[CAP_SYS_PTRACE] = "CAP_SYS_PTRACE",
	[CAP_SYS_PACCT] = "CAP_SYS_PACCT",
	[CAP_SYS_ADMIN] = "CAP_SYS_ADMIN",
	[CAP_SYS_BOOT] = "CAP_SYS_BOOT",
	[CAP_SYS_NICE] = "CAP_SYS_NICE",
	[CAP_SYS_RESOURCE] = "CAP_SYS_RESOURCE",
	[CAP_SYS_TIME] = "CAP_SYS_TIME",
	[CAP_SYS_TTY_CONFIG] = "CAP_SYS_TTY_CONFIG",
	[CAP_MKNOD] = "CAP_MKNOD",
	[CAP_LEASE] = "CAP_LEASE",
	[CAP_AUDIT_WRITE] = "CAP_AUDIT_WRITE",
	[CAP_AUDIT_CONTROL] = "CAP_AUDIT_CONTROL",
	[CAP_SETFCAP] = "CAP_SETFCAP",
	[CAP_MAC_OVERRIDE] = "CAP_MAC_OVERRIDE",
	[CAP_MAC_ADMIN] = "CAP_MAC_ADMIN",
	[CAP_SYSLOG] = "CAP_SYSLOG",
	[CAP_WAKE_ALARM] = "CAP_WAKE_ALARM",
	[CAP_BLOCK_SUSPEND] = "CAP_BLOCK_SUSPEND",
	[CAP_AUDIT_READ] = "CAP_AUDIT_READ",
	[CAP_PERFMON] = "CAP_PERFMON",
	[CAP_BPF] = "CAP_BPF",
	[CAP_CHECKPOINT_RESTORE] = "CAP_CHECKPOINT_RESTORE",
};
_Static_assert(CFG_ARRAY_SIZE(cap_names) == CAP_LAST_CAP + 1, "every capability has a name");

int parse_capability(const char *s)
{
	const char *name = s;

	if (!strncasecmp(name, "CAP_", 4))
		name += 4;
	for (int i = 0; i <= CAP_LAST_CAP; i++)
		if (!strcasecmp(name, cap_names[i] + 4))
			return i;
	return -1;
}

const char *capability_name(int cap)
{
	return cap >= 0 && cap <= CAP_LAST_CAP ? cap_names[cap] : NULL;
}

int capability_last(void)
{
	return CAP_LAST_CAP;
}

/* ---- names and addresses ---------------------------------------------------------- */

bool service_name_valid(const char *s)
{
	size_t n = 0;

	if (!isalnum((unsigned char)*s) || !isascii((unsigned char)*s))
		return false;
	for (; *s; s++, n++) {
		unsigned char ch = (unsigned char)*s;
		if (n >= 63 || !isascii(ch) || !(isalnum(ch) || ch == '_' || ch == '.' || ch == '-'))
			return false;
	}
	return true;
}

int parse_host_port(const char *s, char **host, uint16_t *port, const char **why)
{
	const char *colon, *h = s, *hend;
	char buf[256];
	int p;

	if (*s == '[') {
		hend = strchr(s, ']');
		if (!hend || hend[1] != ':') {
			*why = "is not host:port ([v6addr]:port for IPv6)";
			return -1;
		}
		h = s + 1;
		colon = hend + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || colon == s) {
			*why = "is not host:port";
			return -1;
		}
		hend = colon;
		if (memchr(s, ':', (size_t)(colon - s))) {
			*why = "has an IPv6 address without brackets (use [addr]:port)";
			return -1;
		}
	}
	p = parse_small_uint(colon + 1, 65535);
	if (p < 1) {
		*why = "has no valid port (1-65535)";
		return -1;
	}
	if ((size_t)(hend - h) >= sizeof(buf) || hend == h) {
		*why = "has no valid host";
		return -1;
	}
	memcpy(buf, h, (size_t)(hend - h));
	buf[hend - h] = '\0';
	{
		unsigned char a6[16];
		bool v6 = *s == '[';
		if (v6 ? inet_pton(AF_INET6, buf, a6) != 1
		       : (inet_pton(AF_INET, buf, a6) != 1 && !hostname_valid(buf))) {
			*why = v6 ? "has an invalid IPv6 address" : "has an invalid host name";
			return -1;
		}
	}
	*host = cfg_xstrdup(buf);
	*port = (uint16_t)p;
	return 0;
}
