/* Readiness and liveness probes, systemg's deployment block, hooks, cron and
 * skip (SPEC §2.2, §2.3). */
#include <arpa/inet.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "config/cron.h"
#include "config/internal.h"

/* ---- probes ---------------------------------------------------------------------- */

static bool probe_claim(struct lctx *c, const struct ynode *v, struct probe *p, enum probe_kind k)
{
	if (p->kind != PROBE_NONE) {
		lerr(c, v, "a probe has one kind", "%s is already given as the probe",
		     probe_kind_names[p->kind]);
		return false;
	}
	p->kind = k;
	return true;
}

static int probe_notify(struct lctx *c, const struct key_def *kd, const struct ynode *v, void *obj)
{
	bool b;

	(void)kd;
	if (v_bool(c, v, &b) < 0)
		return -1;
	if (!b) {
		lerr(c, v, "leave notify out, or set it to true", "notify: false names no probe");
		return -1;
	}
	return probe_claim(c, v, obj, PROBE_NOTIFY) ? 0 : -1;
}

static int probe_tcp(struct lctx *c, const struct key_def *kd, const struct ynode *v, void *obj)
{
	struct probe *p = obj;
	const char *t = v_word(c, v, "the address"), *why;
	char *host;
	uint16_t port;

	(void)kd;
	if (!t)
		return -1;
	if (parse_host_port(t, &host, &port, &why) < 0) {
		lerr(c, v, "such as 127.0.0.1:8080 or [::1]:8080", "%s %s", quote(c, t), why);
		return -1;
	}
	free(host);
	if (!probe_claim(c, v, p, PROBE_TCP))
		return -1;
	p->target = (char *)t;
	return 0;
}

/* http://host[:port][/path]: plain HTTP to a local service. */
int probe_http_url(struct lctx *c, const struct ynode *v, const char *url)
{
	const char *hp, *end, *why;
	char *authority, *host;
	uint16_t port;

	if (!strncmp(url, "https://", 8)) {
		lerr(c, v, "probes speak plain HTTP to the service itself: use http://",
		     "https URLs are not supported");
		return -1;
	}
	if (strncmp(url, "http://", 7)) {
		lerr(c, v, "such as http://127.0.0.1:8080/health", "%s is not an http:// URL",
		     quote(c, url));
		return -1;
	}
	hp = url + 7;
	end = hp + strcspn(hp, "/?#");
	if (url[strcspn(url, " \"<>\\^`{|}")] || end == hp) {
		lerr(c, v, "such as http://127.0.0.1:8080/health", "%s is not a valid URL",
		     quote(c, url));
		return -1;
	}
	authority = arena_strndup(c->a, hp, (size_t)(end - hp));
	if (memchr(authority, '@', strlen(authority))) {
		lerr(c, v, "put credentials elsewhere", "%s has user information", quote(c, url));
		return -1;
	}
	/* Without a port it is 80; check the host the same way either way. */
	if (*authority != '[' ? !strchr(authority, ':') : !strstr(authority, "]:"))
		authority = arena_printf(c->a, "%s:80", authority);
	if (parse_host_port(authority, &host, &port, &why) < 0) {
		lerr(c, v, "such as http://127.0.0.1:8080/health", "%s %s", quote(c, url), why);
		return -1;
	}
	free(host);
	return 0;
}

static int probe_http(struct lctx *c, const struct key_def *kd, const struct ynode *v, void *obj)
{
	struct probe *p = obj;
	const char *t = v_word(c, v, "the URL");

	(void)kd;
	if (!t || probe_http_url(c, v, t) < 0 || !probe_claim(c, v, p, PROBE_HTTP))
		return -1;
	p->target = (char *)t;
	return 0;
}

static int probe_exec(struct lctx *c, const struct key_def *kd, const struct ynode *v, void *obj)
{
	struct probe *p = obj;
	struct cmd cmd;

	(void)kd;
	if (v->kind == Y_SEQ) {
		cmd = (struct cmd){0};
		if (v_list(c, v, false, NULL, NULL, &cmd.argv) < 0)
			return -1;
		if (!cmd.argv.n || !*cmd.argv.v[0]) {
			lerr(c, v, NULL, "the argv list has no program");
			return -1;
		}
		cmd.text = argv_render(c->a, cmd.argv.v);
	} else if (read_command(c, v, &cmd) < 0) {
		return -1;
	}
	if (!probe_claim(c, v, p, PROBE_EXEC))
		return -1;
	p->exec = cmd;
	p->target = cmd.text;
	return 0;
}

static int probe_log(struct lctx *c, const struct key_def *kd, const struct ynode *v, void *obj)
{
	struct probe *p = obj;
	const char *t = v_text(c, v);
	regex_t re;
	int r;

	(void)kd;
	if (!t)
		return -1;
	if (!*t || strlen(t) > 4096) {
		lerr(c, v, NULL, "the pattern must be 1 to 4096 bytes");
		return -1;
	}
	r = regcomp(&re, t, REG_EXTENDED | REG_NOSUB);
	if (r) {
		char msg[128];
		regerror(r, &re, msg, sizeof(msg));
		lerr(c, v, "a POSIX extended regular expression", "%s is not a valid pattern: %s",
		     quote(c, t), msg);
		return -1;
	}
	regfree(&re);
	if (!probe_claim(c, v, p, PROBE_LOG))
		return -1;
	p->target = (char *)t;
	return 0;
}

#define PROBE_KINDS(what)                                                                 \
	K_FN("tcp", probe_tcp, what " when a TCP connection to host:port succeeds"),          \
	K_FN("http", probe_http, what " when GET on this http:// URL answers 2xx"),           \
	K_FN("exec", probe_exec, what " when this command exits 0"),                          \
	K_FN("log", probe_log, what " when a line of output matches this regex")

KEYS(ready_table, "ready",
	K_FN("notify", probe_notify, "true: ready when the service sends READY=1 (sd_notify)"),
	PROBE_KINDS("ready"),
	K_(
	"timeout", V_DURATION_POS, struct probe, timeout, "give up and fail after (default 90s)"),
	K_(
	"interval", V_DURATION_POS, struct probe, interval, "time between attempts (default 1s)"),
	K_(
	"attempt_timeout", V_DURATION_POS, struct probe, attempt_timeout,
	"cap on one attempt (default: the interval)"),
);

KEYS(health_table, "health_check",
	PROBE_KINDS("healthy"),
	K_(
	"interval", V_DURATION_POS, struct probe, interval, "time between checks (default 10s)"),
	K_(
	"timeout", V_DURATION_POS, struct probe, timeout, "cap on one check (default 5s)"),
	K_RANGE("retries", V_UINT, struct probe, retries, 1, 1000000,
		"consecutive failures before a restart (default 3)"),
);

KEY_FN(svc_ready)
{
	struct svc_config *s = obj;

	(void)kd;
	if (v->kind == Y_SCALAR) {
		const char *t = v_word(c, v, NULL);
		if (!t)
			return -1;
		if (strcmp(t, "notify")) {
			lerr(c, v, "use notify, or a mapping such as {tcp: \"127.0.0.1:8080\"}",
			     "%s is not a readiness probe", quote(c, t));
			return -1;
		}
		s->ready.kind = PROBE_NOTIFY;
		return 0;
	}
	walk_map(c, v, &ready_table, &s->ready);
	if (v->kind == Y_MAP && s->ready.kind == PROBE_NONE) {
		lerr(c, v, "add notify: true, tcp, http, exec or log", "names no probe");
		return -1;
	}
	return 0;
}

KEY_FN(svc_health)
{
	struct svc_config *s = obj;

	(void)kd;
	walk_map(c, v, &health_table, &s->health);
	if (v->kind == Y_MAP && s->health.kind == PROBE_NONE) {
		lerr(c, v, "add tcp, http, exec or log", "names no probe");
		return -1;
	}
	return 0;
}

/* ---- systemg's deployment block ------------------------------------------------- */

KEYS(sg_health_table, "deployment.health_check",
	K_(
	"url", V_STR, struct sg_health, url, "ready when GET on this http:// URL answers 2xx"),
	K_(
	"command", V_STR, struct sg_health, command, "ready when this command exits 0"),
	K_(
	"interval", V_DURATION_POS, struct sg_health, interval, "time between attempts (default 1s)"),
	K_(
	"attempt_timeout", V_DURATION_POS, struct sg_health, attempt_timeout, "cap on one attempt"),
	K_(
	"total_timeout", V_DURATION_POS, struct sg_health, total_timeout,
	"give up after (default: retries x interval, else 90s)"),
	K_(
	"timeout", V_DURATION_POS, struct sg_health, timeout, "the same as total_timeout"),
	K_RANGE("retries", V_UINT, struct sg_health, retries, 1, 1000000,
		"attempts before giving up (timeout = retries x interval)"),
);

static int deploy_health(struct lctx *c, const struct key_def *kd, const struct ynode *v, void *obj)
{
	struct svc_build *b = c->sb;
	struct sg_health h = {0};
	struct probe *p = &b->sg_ready;
	uint64_t seen;

	(void)kd, (void)obj;
	seen = walk_map(c, v, &sg_health_table, &h);
	if (v->kind != Y_MAP)
		return -1;
	b->sg_health = v;
	*p = b->s->ready;
	if (h.url && h.command) {
		lerr(c, v, "sysg runs one probe: keep url or command", "has both url and command");
		return -1;
	}
	if (!h.url && !h.command) {
		lerr(c, v, "add url: or command:", "health check requires at least one of 'url' or 'command'");
		return -1;
	}
	if (h.timeout && h.total_timeout) {
		lerr(c, v, "timeout is the old name of total_timeout: keep one",
		     "has both timeout and total_timeout");
		return -1;
	}
	if (h.url) {
		if (probe_http_url(c, y_map_get(v, "url"), h.url) < 0)
			return -1;
		p->kind = PROBE_HTTP;
		p->target = h.url;
	} else {
		if (read_command(c, y_map_get(v, "command"), &p->exec) < 0)
			return -1;
		p->kind = PROBE_EXEC;
		p->target = p->exec.text;
	}
	if (key_seen(seen, &sg_health_table, "interval"))
		p->interval = h.interval;
	p->attempt_timeout = h.attempt_timeout;
	if (h.total_timeout || h.timeout)
		p->timeout = h.total_timeout ? h.total_timeout : h.timeout;
	else if (h.retries)
		p->timeout = (sysg_usec_t)h.retries * p->interval;
	return 0;
}

static int deploy_strategy(struct lctx *c, const struct key_def *kd, const struct ynode *v,
			   void *obj)
{
	static const char *const names[] = {"immediate", "rolling"};
	int e;

	(void)kd, (void)obj;
	if (v_enum(c, v, names, 2, 0, &e) < 0)
		return -1;
	if (e == 1) {
		lerr(c, v, "sysg restarts a service in place: use strategy: immediate",
		     "rolling deployments are a systemg feature that sysg does not support");
		return -1;
	}
	return 0;
}

KEYS(deployment_table, "deployment",
	K_FN("strategy", deploy_strategy, "immediate (the only one sysg has: restart in place)"),
	K_FN("health_check", deploy_health, "systemg's readiness check: the same as ready"),
	K_SYSTEMG("pre_start", "a command run before a rolling deployment; sysg has no rolling deployments"),
	K_SYSTEMG("grace_period", "how long a rolling deployment keeps the old instance"),
	K_SYSTEMG("blue_green", "blue/green deployment slots"),
);

KEY_FN(svc_deployment)
{
	(void)kd;
	walk_map(c, v, &deployment_table, obj);
	return 0;
}

/* ---- hooks --------------------------------------------------------------------- */

static int hook_command(struct lctx *c, const struct key_def *kd, const struct ynode *v, void *obj)
{
	struct hook *h = obj;
	(void)kd;
	return read_command(c, v, &h->cmd);
}

KEYS(hook_table, "hooks.onstart",
	K_FN("command", hook_command, "the command to run (shell syntax allowed)"),
	K_(
	"timeout", V_DURATION_POS, struct hook, timeout, "killed after this long (default 30s)"),
);

static int hooks_one(struct lctx *c, const struct key_def *kd, const struct ynode *v, void *obj)
{
	struct hook *h = (struct hook *)((char *)obj + kd->off);
	uint64_t seen = walk_map(c, v, &hook_table, h);

	if (v->kind == Y_MAP && !key_seen(seen, &hook_table, "command")) {
		lerr(c, v, "add command: \"...\"", "the hook has no command");
		return -1;
	}
	h->set = v->kind == Y_MAP;
	return 0;
}

KEYS(hooks_table, "hooks",
	K_FNX("onstart", hooks_one, offsetof(struct svc_config, onstart),
	      "run when the service has started"),
	K_FNX("onerr", hooks_one, offsetof(struct svc_config, onerr),
	      "run when the service exits with an error"),
);

KEY_FN(svc_hooks)
{
	(void)kd;
	walk_map(c, v, &hooks_table, obj);
	return 0;
}

/* ---- cron ------------------------------------------------------------------------ */

/* Numeric days of week count differently in five and six fields (docs/cron.md):
 * say which reading applies wherever a day number (not a step) is written. */
static void cron_dow_note(struct lctx *c, const struct ynode *v, const char *t, size_t fields)
{
	const char *dow = t + strlen(t);
	bool step = false;

	while (dow > t && dow[-1] == ' ')
		dow--;
	while (dow > t && dow[-1] != ' ')
		dow--;
	for (const char *p = dow; *p && *p != ' '; p++) {
		step = *p == '/' ? true : *p == ',' ? false : step;
		if (*p < '0' || *p > '9' || step)
			continue;
		if (fields == 6)
			lnote(c, v, "write day names (MON-FRI) to be unambiguous",
			      "six fields: days of week count 1-7 from Sunday, as in systemg "
			      "(1 = Sunday, 2 = Monday, 7 = Saturday)");
		else
			lnote(c, v, "write day names (MON-FRI) to be unambiguous",
			      "five fields: days of week count as in crontab(5) (0 and 7 = Sunday, "
			      "1 = Monday); systemg counts 1 = Sunday");
		return;
	}
}

/* The fields' syntax here (with a hint), then the cron parser's full check:
 * ranges, names, steps and dates that never occur. */
static int cron_expr(struct lctx *c, const struct key_def *kd, const struct ynode *v, void *obj)
{
	struct cron_def *cd = obj;
	const char *t = v_word(c, v, "the expression"), *p, *why;
	size_t fields = 0;
	struct cron_expr e;

	(void)kd;
	if (!t)
		return -1;
	for (p = t; *p;) {
		size_t n;
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		n = strcspn(p, " ");
		if (strspn(p, "@0123456789*/,-?LW#ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") < n) {
			lerr(c, v, "fields use digits, names, * / , - ?", "%s is not a cron expression",
			     quote(c, t));
			return -1;
		}
		fields++;
		p += n;
	}
	if (t[0] != '@' && fields != 5 && fields != 6) {
		lerr(c, v, "5 fields (minute hour day month weekday) or 6 (seconds first)",
		     "%s has %zu fields", quote(c, t), fields);
		return -1;
	}
	if (cron_parse(t, &e, &why) < 0) {
		lerr(c, v, "see docs/cron.md", "%s: %s", quote(c, t), why);
		return -1;
	}
	if (t[0] != '@')
		cron_dow_note(c, v, t, fields);
	cd->expression = (char *)t;
	return 0;
}

static int cron_tz(struct lctx *c, const struct key_def *kd, const struct ynode *v, void *obj)
{
	struct cron_def *cd = obj;
	const char *t = v_word(c, v, "the time zone"), *why;

	(void)kd;
	if (!t)
		return -1;
	if (!*t || *t == '/' || strstr(t, "..") || t[strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
					       "abcdefghijklmnopqrstuvwxyz0123456789_+-/")]) {
		lerr(c, v, "an IANA name such as Europe/Paris or UTC", "%s is not a time zone name",
		     quote(c, t));
		return -1;
	}
	/* systemg's spellings: "local" is the default zone, "utc" any case. */
	if (!strcasecmp(t, "local")) {
		cd->timezone = NULL;
		return 0;
	}
	if (!strcasecmp(t, "utc"))
		t = "UTC";
	if (cron_check_tz(t, &why) < 0) {
		lerr(c, v, "an IANA name from /usr/share/zoneinfo, such as Europe/Paris or UTC", "%s",
		     why);
		return -1;
	}
	cd->timezone = (char *)t;
	return 0;
}

KEYS(cron_table, "cron",
	K_FN("expression", cron_expr, "when to run: 5 fields, or 6 with seconds first"),
	K_FN("timezone", cron_tz, "IANA time zone (default: local time)"),
	K_(
	"timeout", V_DURATION_POS, struct cron_def, timeout, "kill a run after this long"),
	K_(
	"catch_up", V_BOOL, struct cron_def, catch_up, "run once at start if a run was missed"),
);

KEY_FN(svc_cron)
{
	struct svc_config *s = obj;
	uint64_t seen;

	(void)kd;
	seen = walk_map(c, v, &cron_table, &s->cron);
	if (v->kind != Y_MAP)
		return -1;
	if (!key_seen(seen, &cron_table, "expression")) {
		lerr(c, v, "such as expression: \"0 3 * * *\"", "has no expression");
		return -1;
	}
	s->cron.set = true;
	return 0;
}

/* ---- skip ------------------------------------------------------------------------ */

KEY_FN(svc_skip)
{
	struct svc_config *s = obj;
	bool b;

	(void)kd;
	if (v->kind == Y_SCALAR && y_is_bool(v, &b)) {
		s->skip.kind = b ? SKIP_YES : SKIP_NO;
		return 0;
	}
	if (v->kind != Y_SCALAR) {
		lerr(c, v, NULL, "expected true, false or a command, not %s", y_kind_name(v));
		return -1;
	}
	if (read_command(c, v, &s->skip.cmd) < 0)
		return -1;
	s->skip.kind = SKIP_CMD;
	return 0;
}
