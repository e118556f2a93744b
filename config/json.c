/* A service's effective config as canonical JSON: keys in a fixed order,
 * lists in file order, env sorted, durations in microseconds. `inspect`
 * shows it and reload compares it to decide whether a service changed. */
#include <arpa/inet.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>

#include "config/internal.h"

static json_object *jstr(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static json_object *jstrv(const struct strv *v)
{
	json_object *a = json_object_new_array();
	for (size_t i = 0; i < v->n; i++)
		json_object_array_add(a, json_object_new_string(v->v[i]));
	return a;
}

static json_object *ju64(uint64_t v)
{
	return v == SYSG_UNLIMITED ? json_object_new_string("unlimited") : json_object_new_uint64(v);
}

static json_object *jopt(const struct opt_u64 *o)
{
	return o->set ? ju64(o->v) : NULL;
}

static json_object *jtri(tri_t t)
{
	return t == TRI_UNSET ? NULL : json_object_new_boolean(t == TRI_YES);
}

static json_object *jenum(const char *const *names, int v, int unset)
{
	return v == unset ? NULL : json_object_new_string(names[v]);
}

#define ADD(o, k, v) json_object_object_add(o, k, v)

static json_object *jcmd(const struct cmd *c)
{
	json_object *o = json_object_new_object();
	ADD(o, "text", jstr(c->text));
	ADD(o, "argv", jstrv(&c->argv));
	ADD(o, "shell", json_object_new_boolean(c->shell));
	return o;
}

static json_object *jprobe(const struct probe *p, bool health)
{
	json_object *o;

	if (p->kind == PROBE_NONE)
		return NULL;
	o = json_object_new_object();
	ADD(o, "kind", json_object_new_string(probe_kind_names[p->kind]));
	ADD(o, "target", jstr(p->target));
	ADD(o, "timeout_us", json_object_new_int64(p->timeout));
	ADD(o, "interval_us", json_object_new_int64(p->interval));
	if (health)
		ADD(o, "retries", json_object_new_int64(p->retries));
	else
		ADD(o, "attempt_timeout_us", json_object_new_int64(p->attempt_timeout));
	return o;
}

static json_object *jenv(const struct svc_env *e)
{
	static const char *const inherit[] = {"default", "none", "all", "list"};
	json_object *o = json_object_new_object(), *vars = json_object_new_object();

	for (size_t i = 0; i < e->nvars; i++)
		ADD(vars, e->vars[i].key, json_object_new_string(e->vars[i].value));
	ADD(o, "vars", vars);
	ADD(o, "files", jstrv(&e->files));
	ADD(o, "inherit", json_object_new_string(inherit[e->inherit]));
	ADD(o, "inherit_names", jstrv(&e->inherit_names));
	ADD(o, "strip", jstrv(&e->strip));
	ADD(o, "clear_session_vars", json_object_new_boolean(e->clear_session_vars));
	return o;
}

static json_object *jsecrets(const struct svc_config *s, bool mask)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < s->nsecrets; i++) {
		const struct secret_def *sd = &s->secrets[i];
		json_object *o = json_object_new_object();
		ADD(o, "name", jstr(sd->name));
		ADD(o, "source", json_object_new_string(secret_source_names[sd->source]));
		ADD(o, "ref", jstr(mask && sd->source == SECRET_VALUE ? "***" : sd->ref));
		ADD(o, "deliver", json_object_new_string(secret_delivery_names[sd->deliver]));
		json_object_array_add(a, o);
	}
	return a;
}

static json_object *jhook(const struct hook *h)
{
	json_object *o;

	if (!h->set)
		return NULL;
	o = json_object_new_object();
	ADD(o, "command", jcmd(&h->cmd));
	ADD(o, "timeout_us", json_object_new_int64(h->timeout));
	return o;
}

static json_object *jlimits(const struct limits *l)
{
	json_object *o = json_object_new_object(), *cg = json_object_new_object();
	json_object *cpus = json_object_new_array();

	for (int i = 0; i < SYSG_RLIM__COUNT; i++) {
		json_object *r = NULL;
		if (l->rlim[i].set) {
			r = json_object_new_object();
			ADD(r, "soft", ju64(l->rlim[i].soft == RLIM_INFINITY ? SYSG_UNLIMITED
									     : l->rlim[i].soft));
			ADD(r, "hard", ju64(l->rlim[i].hard == RLIM_INFINITY ? SYSG_UNLIMITED
									     : l->rlim[i].hard));
		}
		ADD(o, sysg_rlimit_names[i].name, r);
	}
	ADD(o, "nice", l->nice_set ? json_object_new_int(l->nice) : NULL);
	for (size_t i = 0; i < l->ncpu_affinity; i++)
		json_object_array_add(cpus, json_object_new_int64(l->cpu_affinity[i]));
	ADD(o, "cpu_affinity", cpus);
	ADD(o, "oom_score_adj", l->oom_score_adj_set ? json_object_new_int(l->oom_score_adj) : NULL);
	ADD(cg, "memory_max", jopt(&l->cg.memory_max));
	ADD(cg, "memory_high", jopt(&l->cg.memory_high));
	ADD(cg, "memory_swap_max", jopt(&l->cg.memory_swap_max));
	if (l->cg.cpu_max_set) {
		json_object *cm = json_object_new_object();
		ADD(cm, "quota_us", ju64(l->cg.cpu_quota_usec));
		ADD(cm, "period_us", json_object_new_uint64(l->cg.cpu_period_usec));
		ADD(cg, "cpu_max", cm);
	} else {
		ADD(cg, "cpu_max", NULL);
	}
	ADD(cg, "cpu_weight", jopt(&l->cg.cpu_weight));
	ADD(cg, "pids_max", jopt(&l->cg.pids_max));
	ADD(cg, "io_weight", jopt(&l->cg.io_weight));
	ADD(o, "cgroup", cg);
	return o;
}

static json_object *jiso(const struct isolation *i)
{
	json_object *o = json_object_new_object(), *binds = json_object_new_array();
	json_object *tmpfs = json_object_new_array();

	ADD(o, "preset", jenum(iso_preset_names, i->preset, PRESET_UNSET));
	ADD(o, "pid", jtri(i->pid));
	ADD(o, "mount", jtri(i->mount));
	ADD(o, "network", jtri(i->network));
	ADD(o, "ipc", jtri(i->ipc));
	ADD(o, "uts", jtri(i->uts));
	ADD(o, "user", jtri(i->user));
	ADD(o, "cgroup", jtri(i->cgroupns));
	ADD(o, "hostname", jstr(i->hostname));
	ADD(o, "seccomp", jenum(seccomp_kind_names, i->seccomp, SECCOMP_UNSET));
	ADD(o, "seccomp_profile", jstr(i->seccomp_profile));
	ADD(o, "no_new_privileges", jtri(i->no_new_privileges));
	ADD(o, "protect_system", jenum(protect_system_names, i->protect_system, PROTECT_SYSTEM_UNSET));
	ADD(o, "protect_home", jenum(protect_home_names, i->protect_home, PROTECT_HOME_UNSET));
	ADD(o, "private_tmp", jtri(i->private_tmp));
	ADD(o, "private_devices", jtri(i->private_devices));
	ADD(o, "read_only_rootfs", jtri(i->read_only_rootfs));
	ADD(o, "protect_kernel", jtri(i->protect_kernel));
	ADD(o, "memory_deny_write_execute", jtri(i->memory_deny_write_execute));
	ADD(o, "read_write_paths", jstrv(&i->read_write_paths));
	ADD(o, "read_only_paths", jstrv(&i->read_only_paths));
	ADD(o, "inaccessible_paths", jstrv(&i->inaccessible_paths));
	for (size_t k = 0; k < i->nbinds; k++) {
		json_object *b = json_object_new_object();
		ADD(b, "src", jstr(i->binds[k].src));
		ADD(b, "dst", jstr(i->binds[k].dst));
		ADD(b, "ro", json_object_new_boolean(i->binds[k].ro));
		json_object_array_add(binds, b);
	}
	ADD(o, "bind", binds);
	for (size_t k = 0; k < i->ntmpfs; k++) {
		json_object *t = json_object_new_object();
		ADD(t, "path", jstr(i->tmpfs[k].path));
		ADD(t, "options", jstr(i->tmpfs[k].options));
		json_object_array_add(tmpfs, t);
	}
	ADD(o, "tmpfs", tmpfs);
	if (i->landlock_set) {
		json_object *l = json_object_new_object();
		ADD(l, "ro_paths", jstrv(&i->landlock_ro));
		ADD(l, "rw_paths", jstrv(&i->landlock_rw));
		ADD(o, "landlock", l);
	} else {
		ADD(o, "landlock", NULL);
	}
	ADD(o, "shm_size", jopt(&i->shm_size));
	return o;
}

static json_object *jip(uint32_t addr)
{
	char buf[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &addr, buf, sizeof(buf));
	return json_object_new_string(buf);
}

static json_object *jnet(const struct svc_net *n)
{
	json_object *o, *ports = json_object_new_array(), *egress = NULL;

	if (n->mode == NET_UNSET) {
		json_object_put(ports);
		return NULL;
	}
	o = json_object_new_object();
	ADD(o, "mode", json_object_new_string(net_mode_names[n->mode]));
	ADD(o, "network", jstr(n->network));
	ADD(o, "share_with", jstr(n->mode == NET_SERVICE ? n->share_with : NULL));
	ADD(o, "hostname", jstr(n->hostname));
	ADD(o, "ip", n->ip_set ? jip(n->ip) : NULL);
	for (size_t i = 0; i < n->nports; i++) {
		json_object *p = json_object_new_object();
		ADD(p, "host_ip", jip(n->ports[i].host_ip));
		ADD(p, "host_port", json_object_new_int(n->ports[i].host_port));
		ADD(p, "service_port", json_object_new_int(n->ports[i].svc_port));
		ADD(p, "proto", json_object_new_string(n->ports[i].proto == IPPROTO_UDP ? "udp" : "tcp"));
		json_object_array_add(ports, p);
	}
	ADD(o, "ports", ports);
	ADD(o, "allow_from", n->allow_from_set ? jstrv(&n->allow_from) : NULL);
	if (n->egress_set) {
		egress = json_object_new_array();
		for (size_t i = 0; i < n->negress; i++)
			json_object_array_add(egress, json_object_new_string(n->egress[i].spec));
	}
	ADD(o, "egress_allow", egress);
	return o;
}

static json_object *jsockets(const struct svc_config *s)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < s->nsockets; i++) {
		const struct sock_def *sd = &s->sockets[i];
		json_object *o = json_object_new_object();
		char mode[8];
		ADD(o, "name", jstr(sd->name));
		ADD(o, "listen", jstr(sd->listen));
		ADD(o, "backlog", json_object_new_int(sd->backlog));
		snprintf(mode, sizeof(mode), "%04o", (unsigned)sd->mode);
		ADD(o, "mode", sd->mode_set ? json_object_new_string(mode) : NULL);
		ADD(o, "owner", jstr(sd->owner));
		ADD(o, "group", jstr(sd->group));
		json_object_array_add(a, o);
	}
	return a;
}

static json_object *jlogs(const struct logs_def *l)
{
	json_object *o = json_object_new_object();
	ADD(o, "sink", jenum(log_sink_names, l->sink, LOG_SINK_UNSET));
	ADD(o, "max_bytes", ju64(l->max_bytes));
	ADD(o, "max_files", json_object_new_int64(l->max_files));
	ADD(o, "timestamps", json_object_new_boolean(l->timestamps));
	return o;
}

static json_object *jlifecycle(json_object *o, const struct svc_config *s)
{
	json_object *deps = json_object_new_array(), *hooks = json_object_new_object();

	ADD(o, "restart_policy", json_object_new_string(restart_policy_names[s->restart]));
	ADD(o, "backoff_us", json_object_new_int64(s->backoff));
	ADD(o, "backoff_max_us", json_object_new_int64(s->backoff_max));
	ADD(o, "stable_after_us", json_object_new_int64(s->stable_after));
	ADD(o, "restart_window_us", json_object_new_int64(s->restart_window));
	ADD(o, "max_restarts", s->max_restarts == SYSG_UNLIMITED ? NULL
								   : json_object_new_uint64(s->max_restarts));
	ADD(o, "stop_signal", signal_name(s->stop_signal) ? json_object_new_string(signal_name(s->stop_signal))
							  : json_object_new_int(s->stop_signal));
	ADD(o, "stop_timeout_us", json_object_new_int64(s->stop_timeout));
	ADD(o, "kill_mode", json_object_new_string(kill_mode_names[s->kill_mode]));
	for (size_t i = 0; i < s->ndeps; i++) {
		json_object *d = json_object_new_object();
		ADD(d, "service", jstr(s->deps[i].name));
		ADD(d, "condition", json_object_new_string(dep_cond_names[s->deps[i].cond]));
		json_object_array_add(deps, d);
	}
	ADD(o, "depends_on", deps);
	ADD(o, "ready", jprobe(&s->ready, false));
	ADD(o, "health_check", jprobe(&s->health, true));
	ADD(o, "watchdog_us", json_object_new_int64(s->watchdog));
	ADD(hooks, "onstart", jhook(&s->onstart));
	ADD(hooks, "onerr", jhook(&s->onerr));
	ADD(o, "hooks", hooks);
	if (s->cron.set) {
		json_object *c = json_object_new_object();
		ADD(c, "expression", jstr(s->cron.expression));
		ADD(c, "timezone", jstr(s->cron.timezone));
		ADD(c, "timeout_us", json_object_new_int64(s->cron.timeout));
		ADD(c, "catch_up", json_object_new_boolean(s->cron.catch_up));
		ADD(o, "cron", c);
	} else {
		ADD(o, "cron", NULL);
	}
	return o;
}

char *svc_config_to_json(const struct svc_config *s, bool mask_secrets)
{
	static const char *const skip[] = {"no", "yes", "command"};
	json_object *o = json_object_new_object(), *sk = json_object_new_object();
	char umask[8], *out;

	ADD(o, "name", jstr(s->name));
	ADD(o, "project", jstr(s->project));
	ADD(o, "project_name", jstr(s->project_name));
	ADD(o, "unit", jstr(s->unit));
	ADD(o, "command", jcmd(&s->cmd));
	ADD(o, "working_dir", jstr(s->working_dir));
	ADD(o, "env", jenv(&s->env));
	ADD(o, "secrets", jsecrets(s, mask_secrets));
	ADD(o, "user", jstr(s->user));
	ADD(o, "group", jstr(s->group));
	ADD(o, "supplementary_groups", jstrv(&s->supplementary_groups));
	snprintf(umask, sizeof(umask), "%04o", (unsigned)s->umask);
	ADD(o, "umask", json_object_new_string(umask));
	ADD(sk, "kind", json_object_new_string(skip[s->skip.kind]));
	ADD(sk, "command", s->skip.kind == SKIP_CMD ? jcmd(&s->skip.cmd) : NULL);
	ADD(o, "skip", sk);
	jlifecycle(o, s);
	ADD(o, "sockets", jsockets(s));
	ADD(o, "limits", jlimits(&s->limits));
	if (s->caps_set) {
		json_object *caps = json_object_new_array();
		for (int i = 0; i <= capability_last(); i++)
			if (s->caps >> i & 1)
				json_object_array_add(caps, json_object_new_string(capability_name(i)));
		ADD(o, "capabilities", caps);
	} else {
		ADD(o, "capabilities", NULL);
	}
	ADD(o, "isolation", jiso(&s->iso));
	ADD(o, "logs", jlogs(&s->logs));
	ADD(o, "network", jnet(&s->net));
	out = cfg_xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return out;
}
