/* probe: a service for tests. Dumps what the kernel says about this process
 * as one JSON object, then behaves as asked.
 *
 *   probe [--out FILE] [--sleep SECS] [--exit CODE] [--ignore-term] [--print TEXT]
 *
 * --out writes the JSON to FILE (atomically, via FILE.tmp) instead of stdout.
 * --sleep 0 means forever. Fields: pid, ppid, pgid, sid, tty_nr, uid/gid sets,
 * groups, cwd, umask, env, fds (with targets and socket types), status lines
 * (Cap*, NoNewPrivs, Seccomp, SigBlk, SigIgn), ns inodes, cgroup, rlimits,
 * hostname, nice, oom_score_adj, affinity, listen_fds (LISTEN_* view).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static char *slurp(const char *path)
{
	static char buf[65536];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return NULL;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return NULL;
	buf[n] = '\0';
	return buf;
}

static void add_status(json_object *o)
{
	static const char *const keys[] = {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb",
					   "NoNewPrivs", "Seccomp", "SigBlk", "SigIgn", "Uid",
					   "Gid", "Groups", "NSpid"};
	char *s = slurp("/proc/self/status"), *line, *save = NULL;
	json_object *st = json_object_new_object();

	for (line = s ? strtok_r(s, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save)) {
		char *colon = strchr(line, ':');
		if (!colon)
			continue;
		*colon = '\0';
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			if (strcmp(line, keys[i]) == 0) {
				char *v = colon + 1;
				while (*v == '\t' || *v == ' ')
					v++;
				json_object_object_add(st, line, json_object_new_string(v));
			}
		}
	}
	json_object_object_add(o, "status", st);
}

static void add_fds(json_object *o)
{
	json_object *fds = json_object_new_object();
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int self = d ? dirfd(d) : -1;

	while (d && (de = readdir(d))) {
		char path[300], target[512] = "";
		int fd = atoi(de->d_name);
		json_object *f;

		if (de->d_name[0] == '.' || fd == self)
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%s", de->d_name);
		ssize_t n = readlink(path, target, sizeof(target) - 1);
		if (n > 0)
			target[n] = '\0';
		f = json_object_new_object();
		json_object_object_add(f, "target", json_object_new_string(target));
		int type = 0;
		socklen_t len = sizeof(type);
		if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0) {
			int listening = 0, family = 0;
			len = sizeof(listening);
			getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len);
			len = sizeof(family);
			getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &family, &len);
			json_object_object_add(f, "socktype", json_object_new_int(type));
			json_object_object_add(f, "family", json_object_new_int(family));
			json_object_object_add(f, "listening", json_object_new_boolean(listening));
		}
		json_object_object_add(f, "cloexec",
				       json_object_new_boolean(fcntl(fd, F_GETFD) & FD_CLOEXEC));
		json_object_object_add(fds, de->d_name, f);
	}
	if (d)
		closedir(d);
	json_object_object_add(o, "fds", fds);
}

static void add_ns(json_object *o)
{
	static const char *const ns[] = {"pid", "mnt", "net", "ipc", "uts", "user", "cgroup"};
	json_object *n = json_object_new_object();

	for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
		char path[64], target[128] = "";
		snprintf(path, sizeof(path), "/proc/self/ns/%s", ns[i]);
		ssize_t len = readlink(path, target, sizeof(target) - 1);
		if (len > 0)
			target[len] = '\0';
		json_object_object_add(n, ns[i], json_object_new_string(target));
	}
	json_object_object_add(o, "ns", n);
}

static void add_rlimits(json_object *o)
{
	static const struct { const char *name; int res; } r[] = {
		{"nofile", RLIMIT_NOFILE}, {"nproc", RLIMIT_NPROC}, {"memlock", RLIMIT_MEMLOCK},
		{"core", RLIMIT_CORE}, {"stack", RLIMIT_STACK}, {"as", RLIMIT_AS},
		{"fsize", RLIMIT_FSIZE},
	};
	json_object *l = json_object_new_object();

	for (size_t i = 0; i < sizeof(r) / sizeof(r[0]); i++) {
		struct rlimit rl;
		json_object *pair = json_object_new_array();
		getrlimit(r[i].res, &rl);
		json_object_array_add(pair, rl.rlim_cur == RLIM_INFINITY ? json_object_new_string("unlimited")
									  : json_object_new_int64(rl.rlim_cur));
		json_object_array_add(pair, rl.rlim_max == RLIM_INFINITY ? json_object_new_string("unlimited")
									  : json_object_new_int64(rl.rlim_max));
		json_object_object_add(l, r[i].name, pair);
	}
	json_object_object_add(o, "rlimits", l);
}

static json_object *facts(void)
{
	json_object *o = json_object_new_object(), *env = json_object_new_object(),
		    *groups = json_object_new_array(), *aff = json_object_new_array();
	char cwd[4096] = "", host[256] = "", *stat, *p;
	gid_t gl[256];
	uid_t ru, eu, su;
	gid_t rg, eg, sg;
	cpu_set_t set;
	mode_t um = umask(0);
	int tty_nr = 0;

	umask(um);
	getresuid(&ru, &eu, &su);
	getresgid(&rg, &eg, &sg);
	json_object_object_add(o, "pid", json_object_new_int(getpid()));
	json_object_object_add(o, "ppid", json_object_new_int(getppid()));
	json_object_object_add(o, "pgid", json_object_new_int(getpgid(0)));
	json_object_object_add(o, "sid", json_object_new_int(getsid(0)));
	stat = slurp("/proc/self/stat");
	if (stat && (p = strrchr(stat, ')')))
		sscanf(p + 2, "%*c %*d %*d %*d %d", &tty_nr);
	json_object_object_add(o, "tty_nr", json_object_new_int(tty_nr));
	json_object_object_add(o, "uid", json_object_new_int64(ru));
	json_object_object_add(o, "euid", json_object_new_int64(eu));
	json_object_object_add(o, "suid", json_object_new_int64(su));
	json_object_object_add(o, "gid", json_object_new_int64(rg));
	json_object_object_add(o, "egid", json_object_new_int64(eg));
	json_object_object_add(o, "sgid", json_object_new_int64(sg));
	int ng = getgroups(256, gl);
	for (int i = 0; i < ng; i++)
		json_object_array_add(groups, json_object_new_int64(gl[i]));
	json_object_object_add(o, "groups", groups);
	if (getcwd(cwd, sizeof(cwd)))
		json_object_object_add(o, "cwd", json_object_new_string(cwd));
	json_object_object_add(o, "umask", json_object_new_int(um));
	for (char **e = environ; *e; e++) {
		char *eq = strchr(*e, '=');
		if (!eq)
			continue;
		*eq = '\0';
		json_object_object_add(env, *e, json_object_new_string(eq + 1));
		*eq = '=';
	}
	json_object_object_add(o, "env", env);
	gethostname(host, sizeof(host));
	json_object_object_add(o, "hostname", json_object_new_string(host));
	errno = 0;
	json_object_object_add(o, "nice", json_object_new_int(getpriority(PRIO_PROCESS, 0)));
	p = slurp("/proc/self/oom_score_adj");
	json_object_object_add(o, "oom_score_adj", json_object_new_int(p ? atoi(p) : 0));
	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		for (int i = 0; i < CPU_SETSIZE; i++)
			if (CPU_ISSET(i, &set))
				json_object_array_add(aff, json_object_new_int(i));
	json_object_object_add(o, "affinity", aff);
	p = slurp("/proc/self/cgroup");
	json_object_object_add(o, "cgroup", json_object_new_string(p ? p : ""));
	add_status(o);
	add_fds(o);
	add_ns(o);
	add_rlimits(o);
	return o;
}

static void write_out(const char *path, const char *text)
{
	char tmp[4096];
	FILE *f;

	if (!path) {
		printf("%s\n", text);
		fflush(stdout);
		return;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f || fprintf(f, "%s\n", text) < 0 || fclose(f) != 0 || rename(tmp, path) != 0) {
		perror(path);
		exit(111);
	}
}

int main(int argc, char **argv)
{
	const char *out = NULL;
	double sleep_s = -1;
	int code = 0;

	/* Facts first: nothing below may change them. */
	json_object *o = facts();

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--out") && i + 1 < argc)
			out = argv[++i];
		else if (!strcmp(argv[i], "--sleep") && i + 1 < argc)
			sleep_s = atof(argv[++i]);
		else if (!strcmp(argv[i], "--exit") && i + 1 < argc)
			code = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--ignore-term"))
			signal(SIGTERM, SIG_IGN);
		else if (!strcmp(argv[i], "--print") && i + 1 < argc) {
			printf("%s\n", argv[++i]);
			fflush(stdout);
		}
	}
	write_out(out, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	if (sleep_s == 0)
		for (;;)
			pause();
	if (sleep_s > 0) {
		struct timespec ts = {(time_t)sleep_s, (long)((sleep_s - (time_t)sleep_s) * 1e9)};
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
	}
	return code;
}
