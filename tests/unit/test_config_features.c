/* The keys other layers build on: command splitting, probes, hooks, cron,
 * sockets, limits, capabilities, isolation, secrets, networking, projects,
 * JSON and lookup. Pending features are read with pending_ignore set. */
#include "config_test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#define HDR "version: \"2\"\nservices:\n"

static int setup_pending(void **state UNUSED)
{
	pending_ignore = true;
	return 0;
}

static int teardown_pending(void **state UNUSED)
{
	pending_ignore = false;
	return 0;
}

/* ---- command splitting ------------------------------------------------------------- */

/* The command as a literal block, so the text is exactly what a user wrote. */
static const struct cmd *cmd_of(const char *command)
{
	char yaml[1024];
	size_t len = (size_t)snprintf(yaml, sizeof(yaml), HDR "  a:\n    command: |-\n      ");

	for (const char *p = command; *p; p++) {
		yaml[len++] = *p;
		if (*p == '\n')
			len += (size_t)sprintf(yaml + len, "      ");
	}
	yaml[len++] = '\n';
	yaml[len] = '\0';
	if (load(yaml))
		dump_diags();
	assert_non_null(cfg);
	return &cfg->svcs[0].cmd;
}

static void test_command_split(void **state UNUSED)
{
	const struct cmd *c;

	c = cmd_of("python3 -m http.server 8080");
	assert_false(c->shell);
	assert_int_equal(c->argv.n, 4);
	c = cmd_of("sh -c 'echo \"a b\"; sleep 1'");
	assert_false(c->shell);
	assert_int_equal(c->argv.n, 3);
	assert_string_equal(c->argv.v[2], "echo \"a b\"; sleep 1");
	c = cmd_of("a\\ b \"c d\" e\\\\f \\'q\\'");
	assert_false(c->shell);
	assert_int_equal(c->argv.n, 4);
	assert_string_equal(c->argv.v[0], "a b");
	assert_string_equal(c->argv.v[1], "c d");
	assert_string_equal(c->argv.v[2], "e\\f");
	assert_string_equal(c->argv.v[3], "'q'");
	c = cmd_of("redis-server --save '' --port 6380");
	assert_false(c->shell);
	assert_string_equal(c->argv.v[2], "");
	c = cmd_of("uvicorn main:app --host 0.0.0.0 a=b");
	assert_false(c->shell);
	assert_string_equal(c->argv.v[4], "a=b");
	c = cmd_of("x#y z~");
	assert_false(c->shell);
	assert_string_equal(c->argv.v[1], "z~");
}

static void test_command_shell(void **state UNUSED)
{
	static const char *const shell[] = {
		"a && b", "a || b", "a; b", "a | b", "a > f", "a < f", "echo $$HOME", "echo `id`",
		"ls *.c", "ls ?", "ls [ab]", "(a)", "{ a; }", "ls ~", "a # comment", "A=1 cmd",
		"exec python3 x.py", "cd /tmp", "a & b", "echo \"$$HOME\"", "a\nb",
	};
	for (size_t i = 0; i < sizeof(shell) / sizeof(shell[0]); i++) {
		const struct cmd *c = cmd_of(shell[i]);
		if (!c->shell)
			fail_msg("'%s' should need a shell", shell[i]);
		assert_int_equal(c->argv.n, 3);
		assert_string_equal(c->argv.v[0], "/bin/sh");
		assert_string_equal(c->argv.v[1], "-c");
		assert_string_equal(c->argv.v[2], c->text);
		assert_null(c->argv.v[3]);
	}
}

static void test_command_folded(void **state UNUSED)
{
	expect_ok(HDR "  a:\n    command: >-\n      porki run\n      --role orchestrator\n"
		      "      --log-level INFO\n  b:\n    command: >\n      sleep 1\n");
	assert_false(cfg->svcs[0].cmd.shell);
	assert_string_equal(cfg->svcs[0].cmd.text, "porki run --role orchestrator --log-level INFO");
	assert_int_equal(cfg->svcs[0].cmd.argv.n, 6);
	/* a folded block's final newline is not shell syntax */
	assert_false(cfg->svcs[1].cmd.shell);
	assert_string_equal(cfg->svcs[1].cmd.text, "sleep 1");
}

static void test_command_errors(void **state UNUSED)
{
	expect_only_error(HDR "  a:\n    command: \"echo 'open\"\n", 4, 14,
			  "services.a.command: the command has an unterminated single quote");
	expect_only_error(HDR "  a:\n    command: 'echo \"open'\n", 4, 14,
			  "services.a.command: the command has an unterminated double quote");
	expect_only_error(HDR "  a:\n    command: 'echo \\'\n", 4, 14,
			  "services.a.command: the command ends with a lone backslash");
}

/* ---- probes, hooks, cron, skip ------------------------------------------------------- */

static void test_probes(void **state UNUSED)
{
	const struct svc_config *s;

	expect_ok(HDR "  a:\n    command: ls\n    ready: {tcp: \"127.0.0.1:5432\", timeout: 30s}\n"
		      "    health_check: {http: \"http://[::1]:8080/health?x=1\", interval: 5s, retries: 2}\n"
		      "    watchdog: 30s\n"
		      "  b:\n    command: ls\n    ready: {log: \"listening on [0-9]+\"}\n"
		      "    health_check: {exec: [pg_isready, -q]}\n"
		      "  c:\n    command: ls\n    ready: {notify: true, timeout: 2m}\n");
	s = &cfg->svcs[0];
	assert_int_equal(s->ready.kind, PROBE_TCP);
	assert_string_equal(s->ready.target, "127.0.0.1:5432");
	assert_int_equal(s->ready.timeout, 30000000);
	assert_int_equal(s->ready.interval, 1000000);
	assert_int_equal(s->health.kind, PROBE_HTTP);
	assert_int_equal(s->health.interval, 5000000);
	assert_int_equal(s->health.timeout, 5000000);
	assert_int_equal(s->health.retries, 2);
	assert_int_equal(s->watchdog, 30000000);
	assert_int_equal(cfg->svcs[1].ready.kind, PROBE_LOG);
	assert_int_equal(cfg->svcs[1].health.kind, PROBE_EXEC);
	assert_string_equal(cfg->svcs[1].health.exec.argv.v[1], "-q");
	assert_int_equal(cfg->svcs[2].ready.kind, PROBE_NOTIFY);
	assert_int_equal(cfg->svcs[2].ready.timeout, 120000000);
}

static void test_probe_errors(void **state UNUSED)
{
	assert_int_equal(load(HDR "  a:\n    command: ls\n    ready: {tcp: \"localhost:1\", http: \"http://x/\"}\n"
			      "  b:\n    command: ls\n    ready: {log: \"([\"}\n"
			      "  c:\n    command: ls\n    ready: {timeout: 1s}\n"
			      "  d:\n    command: ls\n    ready: sometimes\n"
			      "  e:\n    command: ls\n    health_check: {http: \"ftp://x\"}\n"),
			 -1);
	expect_error(5, 39, "services.a.ready.http: tcp is already given as the probe");
	expect_error(8, 18, "services.b.ready.log: '([' is not a valid pattern: Invalid regular expression");
	expect_error(8, 12, "services.b.ready: names no probe");
	expect_error(11, 12, "services.c.ready: names no probe");
	expect_error(14, 12, "services.d.ready: 'sometimes' is not a readiness probe");
	expect_error(17, 26, "services.e.health_check.http: 'ftp://x' is not an http:// URL");
	expect_error(17, 19, "services.e.health_check: names no probe");
	assert_int_equal(diags.nerrors, 7);
}

static void test_hooks_cron_skip(void **state UNUSED)
{
	const struct svc_config *s;

	expect_ok(HDR "  a:\n    command: ls\n    hooks:\n      onstart: {command: \"echo up\"}\n"
		      "      onerr: {command: \"curl -X POST http://x/ && true\", timeout: 5s}\n"
		      "    cron: {expression: \"0 3 * * *\", timezone: Europe/Paris, timeout: 90m, "
		      "catch_up: true}\n    skip: \"test -f /etc/skip\"\n"
		      "  b:\n    command: ls\n    skip: true\n");
	s = &cfg->svcs[0];
	assert_true(s->onstart.set);
	assert_int_equal(s->onstart.timeout, 30000000);
	assert_string_equal(s->onstart.cmd.argv.v[1], "up");
	assert_true(s->onerr.cmd.shell);
	assert_int_equal(s->onerr.timeout, 5000000);
	assert_true(s->cron.set);
	assert_string_equal(s->cron.expression, "0 3 * * *");
	assert_string_equal(s->cron.timezone, "Europe/Paris");
	assert_int_equal(s->cron.timeout, 5400000000LL);
	assert_true(s->cron.catch_up);
	assert_int_equal(s->skip.kind, SKIP_CMD);
	assert_string_equal(s->skip.cmd.argv.v[0], "test");
	assert_int_equal(cfg->svcs[1].skip.kind, SKIP_YES);

	assert_int_equal(load(HDR "  a:\n    command: ls\n    hooks: {onstart: {timeout: 1s}}\n"
			      "    cron: {expression: \"* * *\", timezone: \"../etc/passwd\"}\n"
			      "  b:\n    command: ls\n    cron: {timezone: UTC}\n"),
			 -1);
	expect_error(5, 22, "services.a.hooks.onstart: the hook has no command");
	expect_error(6, 24, "services.a.cron.expression: '* * *' has 3 fields");
	expect_error(6, 43, "services.a.cron.timezone: '../etc/passwd' is not a time zone name");
	expect_error(9, 11, "services.b.cron: has no expression");
	assert_int_equal(diags.nerrors, 4);
}

/* ---- sockets ---------------------------------------------------------------------------- */

static void test_sockets(void **state UNUSED)
{
	const struct sock_def *sk;

	expect_ok(HDR "  web:\n    command: ls\n    sockets:\n      - {name: http, listen: \"tcp://0.0.0.0:80\", backlog: 128}\n"
		      "      - listen: \"tcp6://[::1]:8443\"\n      - {listen: \"udp://*:53\"}\n"
		      "      - {name: ctl, listen: \"unix:///run/app.sock\", mode: \"0660\", owner: www-data, group: \"33\"}\n"
		      "      - {name: abs, listen: \"unix:@app\"}\n");
	assert_int_equal(cfg->svcs[0].nsockets, 5);
	sk = cfg->svcs[0].sockets;
	assert_string_equal(sk[0].name, "http");
	assert_int_equal(sk[0].family, AF_INET);
	assert_int_equal(sk[0].type, SOCK_STREAM);
	assert_string_equal(sk[0].addr, "0.0.0.0");
	assert_int_equal(sk[0].port, 80);
	assert_int_equal(sk[0].backlog, 128);
	assert_int_equal(sk[0].line, 6);
	assert_int_equal(sk[0].col, 9);
	assert_string_equal(sk[1].name, "web");
	assert_int_equal(sk[1].family, AF_INET6);
	assert_string_equal(sk[1].addr, "::1");
	assert_int_equal(sk[1].backlog, 511);
	assert_int_equal(sk[2].type, SOCK_DGRAM);
	assert_string_equal(sk[2].addr, "0.0.0.0");
	assert_int_equal(sk[3].family, AF_UNIX);
	assert_string_equal(sk[3].addr, "/run/app.sock");
	assert_true(sk[3].mode_set);
	assert_int_equal(sk[3].mode, 0660);
	assert_string_equal(sk[3].owner, "www-data");
	assert_string_equal(sk[3].group, "33");
	assert_true(sk[4].abstract);
	assert_string_equal(sk[4].addr, "app");
}

static void test_socket_errors(void **state UNUSED)
{
	assert_int_equal(load(HDR "  web:\n    command: ls\n    sockets:\n"
			      "      - {listen: \"tcp://example.com:80\"}\n"
			      "      - {listen: \"tcp://0.0.0.0:0\"}\n"
			      "      - {listen: \"http://x\"}\n"
			      "      - {name: \"a;b\", listen: \"tcp://:81\"}\n"
			      "      - {listen: \"tcp://:82\", mode: \"0600\"}\n"
			      "      - {name: x}\n"
			      "      - {name: d, listen: \"tcp://:83\"}\n      - {name: d, listen: \"tcp://:84\"}\n"),
			 -1);
	expect_error(6, 18, "services.web.sockets[0].listen: 'tcp://example.com:80' has an invalid IPv4 "
			    "address (numbers only)");
	expect_error(7, 18, "services.web.sockets[1].listen: 'tcp://0.0.0.0:0' has no valid port (1-65535)");
	expect_error(8, 18, "services.web.sockets[2].listen: 'http://x' is not tcp://, tcp6://, udp://, "
			    "udp6://, unix:///path or unix:@name");
	expect_error(9, 16, "services.web.sockets[3].name: 'a;b' is not a valid socket name");
	expect_error(10, 9, "services.web.sockets[4]: mode, owner and group need a unix:///path socket");
	expect_error(11, 9, "services.web.sockets[5]: has no listen address");
	expect_error(13, 16, "services.web.sockets[7]: the socket name 'd' is used twice");
	assert_int_equal(diags.nerrors, 7);
}

/* ---- limits, capabilities, isolation ----------------------------------------------------- */

static void test_cgroup_limits(void **state UNUSED)
{
	const struct cgroup_limits *cg;

	expect_ok(HDR "  a:\n    command: ls\n    limits:\n      cgroup:\n        memory_max: 512M\n"
		      "        memory_high: max\n        memory_swap_max: 0\n        cpu_max: \"200%\"\n"
		      "        cpu_weight: 100\n        pids_max: max\n        io_weight: 500\n"
		      "  b:\n    command: ls\n    limits: {cgroup: {cpu_max: \"50000 200000\"}}\n"
		      "  c:\n    command: ls\n    limits: {cgroup: {cpu_max: max}}\n");
	cg = &cfg->svcs[0].limits.cg;
	assert_true(cfg->svcs[0].limits.any_cgroup);
	assert_true(cg->memory_max.set);
	assert_int_equal(cg->memory_max.v, 512 << 20);
	assert_true(cg->memory_high.v == SYSG_UNLIMITED);
	assert_true(cg->memory_swap_max.set);
	assert_int_equal(cg->memory_swap_max.v, 0);
	assert_true(cg->cpu_max_set);
	assert_int_equal(cg->cpu_quota_usec, 200000);
	assert_int_equal(cg->cpu_period_usec, 100000);
	assert_int_equal(cg->cpu_weight.v, 100);
	assert_true(cg->pids_max.v == SYSG_UNLIMITED);
	assert_int_equal(cg->io_weight.v, 500);
	assert_int_equal(cfg->svcs[1].limits.cg.cpu_quota_usec, 50000);
	assert_int_equal(cfg->svcs[1].limits.cg.cpu_period_usec, 200000);
	assert_true(cfg->svcs[2].limits.cg.cpu_quota_usec == SYSG_UNLIMITED);
	assert_false(cfg->svcs[2].limits.rlim[SYSG_RLIM_NOFILE].set);
}

static void test_capabilities(void **state UNUSED)
{
	expect_ok(HDR "  a:\n    command: ls\n    capabilities: [CAP_NET_BIND_SERVICE, net_raw, Sys_Nice]\n"
		      "  b:\n    command: ls\n    capabilities: []\n");
	assert_true(cfg->svcs[0].caps_set);
	assert_true(cfg->svcs[0].caps == ((1ull << 10) | (1ull << 13) | (1ull << 23)));
	assert_true(cfg->svcs[1].caps_set);
	assert_true(cfg->svcs[1].caps == 0);
	expect_only_error(HDR "  a:\n    command: ls\n    capabilities: [CAP_NET_BIND_SERVIC]\n", 5, 20,
			  "services.a.capabilities[0]: 'CAP_NET_BIND_SERVIC' is not a capability");
	expect_hint(5, 20, "services.a.capabilities[0]: 'CAP_NET_BIND_SERVIC' is not a capability",
		    "did you mean 'CAP_NET_BIND_SERVICE'?");
}

static void test_isolation(void **state UNUSED)
{
	const struct isolation *iso;

	expect_ok(HDR "  a:\n    command: ls\n    isolation:\n      preset: server\n      pid: true\n"
		      "      network: false\n      cgroup: true\n      hostname: api\n"
		      "      seccomp: {custom: profiles/app.json}\n      no_new_privileges: true\n"
		      "      protect_system: strict\n      protect_home: read-only\n"
		      "      private_tmp: true\n      private_devices: true\n      read_only_rootfs: true\n"
		      "      read_write_paths: [/var/lib/app, /var/lib/app/]\n"
		      "      bind: [\"/srv/data:/data:ro\", \"rel:/rel\"]\n"
		      "      tmpfs: [\"/sandbox:size=64M,exec\", /tmp]\n"
		      "      landlock: {ro_paths: [/usr], rw_paths: [/tmp]}\n"
		      "      protect_kernel: true\n      memory_deny_write_execute: true\n"
		      "      shm_size: 256M\n"
		      "  b:\n    command: ls\n    isolation: {seccomp: baseline-v1, protect_system: false, "
		      "protect_home: true}\n");
	iso = &cfg->svcs[0].iso;
	assert_int_equal(iso->preset, PRESET_SERVER);
	assert_int_equal(iso->pid, TRI_YES);
	assert_int_equal(iso->network, TRI_NO);
	assert_int_equal(iso->mount, TRI_UNSET);
	assert_int_equal(iso->cgroupns, TRI_YES);
	assert_string_equal(iso->hostname, "api");
	assert_int_equal(iso->seccomp, SECCOMP_CUSTOM);
	assert_string_equal(iso->seccomp_profile, "/tmp/sysg-test/profiles/app.json");
	assert_int_equal(iso->protect_system, PROTECT_SYSTEM_STRICT);
	assert_int_equal(iso->protect_home, PROTECT_HOME_READ_ONLY);
	assert_int_equal(iso->read_write_paths.n, 2);
	assert_string_equal(iso->read_write_paths.v[1], "/var/lib/app");
	assert_int_equal(iso->nbinds, 2);
	assert_string_equal(iso->binds[0].src, "/srv/data");
	assert_string_equal(iso->binds[0].dst, "/data");
	assert_true(iso->binds[0].ro);
	assert_string_equal(iso->binds[1].src, "/tmp/sysg-test/rel");
	assert_false(iso->binds[1].ro);
	assert_int_equal(iso->ntmpfs, 2);
	assert_string_equal(iso->tmpfs[0].path, "/sandbox");
	assert_string_equal(iso->tmpfs[0].options, "size=64M,exec");
	assert_string_equal(iso->tmpfs[1].options, "");
	assert_true(iso->landlock_set);
	assert_string_equal(iso->landlock_rw.v[0], "/tmp");
	assert_int_equal(iso->shm_size.v, 256 << 20);
	assert_int_equal(cfg->svcs[1].iso.seccomp, SECCOMP_BASELINE_V1);
	assert_int_equal(cfg->svcs[1].iso.protect_system, PROTECT_SYSTEM_NO);
	assert_int_equal(cfg->svcs[1].iso.protect_home, PROTECT_HOME_YES);
}

static void test_isolation_errors(void **state UNUSED)
{
	assert_int_equal(load(HDR "  a:\n    command: ls\n    isolation:\n      hostname: \"a;b\"\n"
			      "      protect_system: true\n      read_only_paths: [relative]\n"
			      "      bind: [\"/a\"]\n      tmpfs: [\"/t:size=1G,dev\", \"/u:mode=999\"]\n"
			      "      seccomp: {custom: ~}\n"),
			 -1);
	expect_error(6, 17, "services.a.isolation.hostname: 'a;b' is not a valid host name");
	expect_error(7, 23, "services.a.isolation.protect_system: true is ambiguous here");
	expect_hint(7, 23, "services.a.isolation.protect_system: true is ambiguous here",
		    "no (or false), full (/usr /boot /etc read-only) or strict");
	expect_error(8, 25, "services.a.isolation.read_only_paths[0]: 'relative' is not an absolute path");
	expect_error(9, 14, "services.a.isolation.bind[0]: '/a' is not a bind mount");
	expect_error(10, 15, "services.a.isolation.tmpfs[0]: 'dev' is not a tmpfs option sysg allows");
	expect_error(10, 33, "services.a.isolation.tmpfs[1]: 'mode=999' is not a tmpfs option sysg allows");
	expect_error(11, 16, "services.a.isolation.seccomp: names no custom profile");
	assert_int_equal(diags.nerrors, 7);
}

/* ---- secrets ------------------------------------------------------------------------------ */

static void test_secrets(void **state UNUSED)
{
	char *json;

	expect_ok(HDR "  a:\n    command: ls\n    secrets:\n      DB_PASS: {file: secrets/db, deliver: file}\n"
		      "      TOKEN: {env: HOST_TOKEN}\n      API_KEY: {value: \"s3cr3t\"}\n");
	assert_int_equal(cfg->svcs[0].nsecrets, 3);
	assert_int_equal(cfg->svcs[0].secrets[0].source, SECRET_FILE);
	assert_string_equal(cfg->svcs[0].secrets[0].ref, "/tmp/sysg-test/secrets/db");
	assert_int_equal(cfg->svcs[0].secrets[0].deliver, DELIVER_FILE);
	assert_int_equal(cfg->svcs[0].secrets[1].source, SECRET_ENV);
	assert_int_equal(cfg->svcs[0].secrets[2].deliver, DELIVER_ENV);
	json = svc_config_to_json(&cfg->svcs[0], true);
	assert_null(strstr(json, "s3cr3t"));
	assert_non_null(strstr(json, "{\"name\":\"API_KEY\",\"source\":\"value\",\"ref\":\"***\""));
	free(json);
	json = svc_config_to_json(&cfg->svcs[0], false);
	assert_non_null(strstr(json, "s3cr3t"));
	free(json);

	assert_int_equal(load(HDR "  a:\n    command: ls\n    secrets:\n      \"../x\": {value: a}\n"
			      "      B: {file: /a, env: C}\n      D: {deliver: file}\n      E: x\n"),
			 -1);
	expect_error(6, 7, "services.a.secrets.../x: '../x' is not a valid secret name");
	expect_error(7, 26, "services.a.secrets.B.env: the secret already has a source");
	expect_error(8, 10, "services.a.secrets.D: the secret has no source");
	expect_error(9, 10, "services.a.secrets.E: expected the secret's source, not a string");
	assert_int_equal(diags.nerrors, 4);
}

/* ---- networking ------------------------------------------------------------------------------ */

static void test_network(void **state UNUSED)
{
	const struct svc_net *n;
	uint32_t ip;

	assert_int_equal(load_opts("version: \"2\"\nnetworks:\n  backend: {subnet: 10.99.1.0/24}\n"
				   "services:\n  api:\n    command: ls\n    network:\n      network: backend\n"
				   "      ip: 10.99.1.10\n      ports: [\"8080:80\", \"127.0.0.1:443:8443/tcp\", "
				   "\"53:53/udp\"]\n      policy:\n        allow_from: [web]\n"
				   "        egress: {allow: [\"db.sysg.local:5432\", \"0.0.0.0/0:443\", "
				   "\"10.0.0.1\"]}\n"
				   "  db:\n    command: ls\n    network: {network: backend}\n"
				   "  web:\n    command: ls\n    network: {mode: \"service:api\"}\n",
				   true),
			 0);
	assert_int_equal(cfg->nnets, 1);
	assert_string_equal(cfg->nets[0].name, "backend");
	assert_int_equal(cfg->nets[0].addr, htonl(0x0a630100));
	assert_int_equal(cfg->nets[0].prefix, 24);
	n = &cfg->svcs[0].net;
	assert_int_equal(n->mode, NET_BRIDGE);
	assert_string_equal(n->network, "backend");
	inet_pton(AF_INET, "10.99.1.10", &ip);
	assert_true(n->ip_set);
	assert_int_equal(n->ip, ip);
	assert_int_equal(n->nports, 3);
	assert_int_equal(n->ports[0].host_port, 8080);
	assert_int_equal(n->ports[0].svc_port, 80);
	assert_int_equal(n->ports[0].host_ip, 0);
	assert_int_equal(n->ports[1].host_ip, htonl(0x7f000001));
	assert_int_equal(n->ports[2].proto, IPPROTO_UDP);
	assert_string_equal(n->allow_from.v[0], "web");
	assert_int_equal(n->negress, 3);
	assert_string_equal(n->egress[0].host, "db");
	assert_int_equal(n->egress[0].port, 5432);
	assert_null(n->egress[1].host);
	assert_int_equal(n->egress[1].prefix, 0);
	assert_int_equal(n->egress[2].prefix, 32);
	assert_int_equal(n->egress[2].port, 0);
	assert_int_equal(cfg->svcs[2].net.mode, NET_SERVICE);
	assert_int_equal(cfg->svcs[2].net.share_index, 0);
	/* the shared namespace's owner starts first */
	assert_int_equal(cfg->order[0], 0);
}

static void test_network_defaults(void **state UNUSED)
{
	assert_int_equal(load_opts(HDR "  a:\n    command: ls\n    network: {hostname: alpha}\n", true), 0);
	assert_int_equal(cfg->nnets, 1);
	assert_string_equal(cfg->nets[0].name, "sysg0");
	assert_int_equal(cfg->nets[0].addr, htonl(0x0a630000));
	assert_string_equal(cfg->svcs[0].net.network, "sysg0");
	/* the default network may not overlap one of the file's */
	assert_int_equal(load_opts("version: \"2\"\nnetworks: {wide: {subnet: 10.99.0.0/16}}\n"
				   "services:\n  a:\n    command: ls\n    network: {hostname: alpha}\n",
				   true),
			 -1);
	assert_int_equal(diags.nerrors, 1);
	expect_error(0, 0, "networks.sysg0.subnet: the subnet overlaps the network 'wide'");
	expect_hint(0, 0, "networks.sysg0.subnet: the subnet overlaps the network 'wide'",
		    "sysg0 is the default network, 10.99.0.0/24: define networks.sysg0 to move it");
	/* bridges need system mode */
	assert_int_equal(load(HDR "  a:\n    command: ls\n    network: {hostname: alpha}\n"), -1);
	expect_error(5, 14, "services.a.network: bridge networking needs system mode");
}

static void test_network_errors(void **state UNUSED)
{
	assert_int_equal(load_opts("version: \"2\"\nnetworks:\n  averyverylongname: {subnet: 10.1.0.0/16}\n"
				   "  b1: {subnet: 10.2.0.1/16}\n  b2: {subnet: 10.3.0.0/16}\n"
				   "  b3: {subnet: 10.3.128.0/17}\n  b4: {}\n"
				   "services:\n  a:\n    command: ls\n    network:\n      network: nope\n"
				   "      ip: 10.3.0.0\n      ports: [\"80\", \"70000:1\", \"8080:80\"]\n"
				   "      policy: {allow_from: [ghost], egress: {allow: [\"nobody:1\", \"x:y\"]}}\n"
				   "  b:\n    command: ls\n    network: {mode: host, ports: [\"1:1\"]}\n"
				   "  c:\n    command: ls\n    network: {mode: \"service:c\"}\n"
				   "  d:\n    command: ls\n    network: {network: b2, ip: 10.3.0.5, ports: [\"8080:81\"]}\n"
				   "  e:\n    command: ls\n    network: {network: b2, ip: 10.3.0.5, hostname: d}\n",
				   true),
			 -1);
	expect_error(3, 3, "networks.averyverylongname: 'averyverylongname' is not a valid network name");
	expect_error(4, 16, "networks.b1.subnet: '10.2.0.1/16' has host bits set (the network address has "
			    "zeros after the prefix)");
	expect_error(6, 3, "networks.b3.subnet: the subnet overlaps the network 'b2'");
	expect_error(7, 3, "networks.b4: has no subnet");
	expect_error(9, 3, "services.a.network.network: unknown network 'nope'");
	expect_error(14, 15, "services.a.network.ports[0]: '80' is not HOST_PORT:SERVICE_PORT[/tcp|udp] or "
			     "HOST_IP:HOST_PORT:SERVICE_PORT");
	expect_error(14, 21, "services.a.network.ports[1]: '70000:1' has a port outside 1-65535");
	expect_error(15, 29, "services.a.network.policy.allow_from[0]: unknown service 'ghost'");
	expect_error(15, 66, "services.a.network.policy.egress.allow[1]: 'x:y' is not a destination");
	expect_error(18, 14, "services.b.network: mode host takes no network, ip, ports or hostname");
	expect_error(21, 21, "services.c.network.mode: a service cannot share its own network namespace");
	expect_error(24, 50, "services.d.network.ports[0]: '8080:81' is already published by 'a'");
	expect_error(25, 3, "services.e: another service on the network 'b2' is already called 'd'");
	expect_error(27, 32, "services.e.network.ip: another service already has the address '10.3.0.5'");
	assert_int_equal(diags.nerrors, 15);
	expect_error(15, 54, "services.a.network.policy.egress.allow[0]: no service is called 'nobody'");
}

/* ---- projects, JSON, lookup ------------------------------------------------------------------ */

static void test_projects(void **state UNUSED)
{
	const struct svc_config *s;

	expect_ok("version: \"2\"\nlogs: {max_files: 3}\nprojects:\n  shop:\n    name: Shop\n"
		  "    logs: {sink: none}\n    services:\n      db: {command: ls}\n"
		  "      web: {command: ls, depends_on: [db, cache, \"other/db\"], logs: {max_files: 1}}\n"
		  "  other:\n    services:\n      db: {command: ls}\nservices:\n  cache: {command: ls}\n"
		  "  db: {command: ls, depends_on: [other/db]}\n");
	assert_int_equal(cfg->nsvcs, 5);
	s = sysg_config_find(cfg, "shop/web");
	assert_non_null(s);
	assert_string_equal(s->project, "shop");
	assert_string_equal(s->project_name, "Shop");
	assert_string_equal(s->unit, "shop@web");
	/* the project's own db first, then the top-level cache */
	assert_string_equal(s->deps[0].name, "shop/db");
	assert_string_equal(s->deps[1].name, "cache");
	assert_string_equal(s->deps[2].name, "other/db");
	assert_int_equal(s->logs.sink, LOG_SINK_NONE);
	assert_int_equal(s->logs.max_files, 1);
	assert_int_equal(sysg_config_find(cfg, "shop/db")->logs.max_files, 3);
	assert_string_equal(sysg_config_find(cfg, "other/db")->project_name, "other");
	assert_string_equal(sysg_config_find(cfg, "db")->deps[0].name, "other/db");
	/* a bare name finds a project service only when unambiguous */
	assert_ptr_equal(sysg_config_find(cfg, "web"), s);
	assert_null(sysg_config_find(cfg, "nope"));
	assert_string_equal(sysg_config_find(cfg, "db")->name, "db");
	assert_null(sysg_config_find(cfg, "shop/nope"));
}

static void test_legacy_project(void **state UNUSED)
{
	expect_ok("version: \"2\"\nproject: {id: shop, name: Shop}\nservices:\n  web: {command: ls}\n");
	assert_string_equal(cfg->svcs[0].name, "shop/web");
	assert_string_equal(cfg->svcs[0].unit, "shop@web");
	assert_non_null(find_diag(2, 10, "project: is deprecated"));
	expect_ok("version: \"2\"\nproject: shop\nservices:\n  web: {command: ls}\n");
	assert_string_equal(cfg->svcs[0].name, "shop/web");
	assert_int_equal(load("version: \"2\"\nproject: a\nprojects: {b: {services: {x: {command: ls}}}}\n"
			      "services: {}\n"),
			 -1);
	expect_error(2, 10, "project: a file may use project or projects, not both");
	expect_only_error("version: \"2\"\nprojects:\n  p: {name: P}\n", 3, 3, "projects.p: the project has no services");
}

static void test_json_canonical(void **state UNUSED)
{
	char *a, *b;

	expect_ok(HDR "  api:\n    command: echo hi\n    env: {B: \"2\", A: \"1\"}\n    restart_policy: always\n");
	a = svc_config_to_json(&cfg->svcs[0], true);
	expect_ok(HDR "  api:\n    restart_policy: always\n    env: {A: \"1\", B: \"2\"}\n    command: echo hi\n");
	b = svc_config_to_json(&cfg->svcs[0], true);
	assert_string_equal(a, b);
	assert_non_null(strstr(a, "\"name\":\"api\",\"project\":null,\"project_name\":null,\"unit\":\"api\","
				  "\"command\":{\"text\":\"echo hi\",\"argv\":[\"echo\",\"hi\"],\"shell\":false}"));
	assert_non_null(strstr(a, "\"env\":{\"vars\":{\"A\":\"1\",\"B\":\"2\"}"));
	assert_non_null(strstr(a, "\"restart_policy\":\"always\",\"backoff_us\":1000000"));
	assert_non_null(strstr(a, "\"max_restarts\":null,\"stop_signal\":\"SIGTERM\""));
	free(a);
	free(b);
}

/* Every key at once: with the pending features let through, it is valid. */
static void test_full_file(void **state UNUSED)
{
	const struct svc_config *db, *web, *side;

	if (load_data_opts("full.yaml", true))
		dump_diags();
	assert_non_null(cfg);
	assert_int_equal(cfg->version, 3);
	assert_int_equal(cfg->nsvcs, 5);
	db = sysg_config_find(cfg, "shop/db");
	web = sysg_config_find(cfg, "web");
	side = sysg_config_find(cfg, "sidecar");
	assert_non_null(db);
	assert_non_null(web);
	assert_non_null(side);
	assert_int_equal(db->iso.preset, PRESET_DATABASE);
	assert_int_equal(db->logs.max_files, 3);
	assert_int_equal(web->logs.sink, LOG_SINK_STDOUT);
	assert_int_equal(web->ready.kind, PROBE_HTTP);
	assert_int_equal(web->ready.timeout, 30000000); /* 15 retries x 2s */
	assert_string_equal(web->deps[1].name, "shop/migrate");
	assert_int_equal(side->net.mode, NET_SERVICE);
	assert_string_equal(side->net.share_with, "shop/web");
	/* every dependency and shared namespace comes before its user */
	for (size_t i = 0; i < cfg->nsvcs; i++) {
		const struct svc_config *s = &cfg->svcs[cfg->order[i]];
		for (size_t d = 0; d < s->ndeps; d++)
			for (size_t j = i; j < cfg->nsvcs; j++)
				assert_true(cfg->order[j] != s->deps[d].index);
	}
	/* and its JSON is stable */
	char *a = svc_config_to_json(db, true), *b = svc_config_to_json(db, true);
	assert_string_equal(a, b);
	assert_non_null(strstr(a, "\"ref\":\"/"));
	free(a);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_command_split),
		cmocka_unit_test(test_command_shell),
		cmocka_unit_test(test_command_folded),
		cmocka_unit_test(test_command_errors),
		cmocka_unit_test(test_probes),
		cmocka_unit_test(test_probe_errors),
		cmocka_unit_test(test_hooks_cron_skip),
		cmocka_unit_test(test_sockets),
		cmocka_unit_test(test_socket_errors),
		cmocka_unit_test(test_cgroup_limits),
		cmocka_unit_test(test_capabilities),
		cmocka_unit_test(test_isolation),
		cmocka_unit_test(test_isolation_errors),
		cmocka_unit_test(test_secrets),
		cmocka_unit_test(test_network),
		cmocka_unit_test(test_network_defaults),
		cmocka_unit_test(test_network_errors),
		cmocka_unit_test(test_projects),
		cmocka_unit_test(test_legacy_project),
		cmocka_unit_test(test_json_canonical),
		cmocka_unit_test(test_full_file),
	};
	return cmocka_run_group_tests(tests, setup_pending, teardown_pending);
}
