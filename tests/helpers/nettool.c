/* TEST HELPER, not part of sysg: drives the net/ library the way the
 * supervisor will, for tests/integration/test_net_primitives.py.
 *
 *   nettool STATE_DIR HOSTS_DIR CONFIG.json
 *
 * It stays running (like the supervisor, single-threaded, with its state in
 * memory) and reads one command per line on stdin, answering each with one
 * JSON line: {"ok": true, "out": "..."} or {"ok": false, "errno": "EBUSY",
 * "error": "..."}. Commands:
 *   up NET | down NET [force] | prepare SVC | attach SVC NETNS_PATH |
 *   release SVC | rules | live-rules | hosts SVC | hosts-path SVC |
 *   inspect NET | links | cleanup | shutdown | quit
 *
 * CONFIG.json stands in for the parsed service file:
 *   {"networks": {"t0": "10.99.0.0/24"},
 *    "services": {"a": {"network": "t0", "ip": "10.99.0.10", "hostname": "x",
 *                       "ports": [{"host_ip": "0.0.0.0", "host_port": 8080,
 *                                  "port": 80, "proto": "tcp"}],
 *                       "allow_from": ["b"],
 *                       "egress": [{"host": "b", "port": 80},
 *                                  {"cidr": "0.0.0.0/0", "port": 443}]}}}
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/net.h"
#include "net/netlink.h"
#include "supervisor/log.h"
#include "supervisor/util.h"

struct tool {
	struct net_state *st;
	struct sysg_config cfg;
	json_object *nets; /* name -> "cidr" */
	char *state_dir, *hosts_dir;
};

static void reply(bool ok, int err, const char *text)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "ok", json_object_new_boolean(ok));
	if (ok) {
		json_object_object_add(o, "out", json_object_new_string(text ? text : ""));
	} else {
		json_object_object_add(o, "errno",
				       json_object_new_string(strerrorname_np(-err) ? strerrorname_np(-err) : "?"));
		json_object_object_add(o, "error", json_object_new_string(text ? text : strerror(-err)));
	}
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	fflush(stdout);
	json_object_put(o);
}

static void reply_err(int err, char *why)
{
	reply(false, err, why);
	free(why);
}

static const char *jstr(json_object *o, const char *key)
{
	json_object *v;
	return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : NULL;
}

static int jint(json_object *o, const char *key)
{
	json_object *v;
	return json_object_object_get_ex(o, key, &v) ? json_object_get_int(v) : 0;
}

static uint32_t addr_of(const char *s)
{
	struct in_addr a = {0};
	if (s && inet_pton(AF_INET, s, &a) != 1)
		fatalx("bad address %s", s);
	return a.s_addr;
}

static void load_ports(struct svc_net *n, json_object *arr)
{
	n->nports = arr ? json_object_array_length(arr) : 0;
	n->ports = xcalloc(n->nports, sizeof(*n->ports));
	for (size_t i = 0; i < n->nports; i++) {
		json_object *p = json_object_array_get_idx(arr, i);
		const char *proto = jstr(p, "proto");
		n->ports[i] = (struct port_def){
			.host_ip = addr_of(jstr(p, "host_ip")),
			.host_port = (uint16_t)jint(p, "host_port"),
			.svc_port = (uint16_t)jint(p, "port"),
			.proto = proto && streq(proto, "udp") ? IPPROTO_UDP : IPPROTO_TCP,
			.spec = xstrdup(json_object_to_json_string(p)),
		};
	}
}

static void load_egress(struct svc_net *n, json_object *arr)
{
	n->egress_set = arr != NULL;
	n->negress = arr ? json_object_array_length(arr) : 0;
	n->egress = xcalloc(n->negress, sizeof(*n->egress));
	for (size_t i = 0; i < n->negress; i++) {
		json_object *e = json_object_array_get_idx(arr, i);
		struct egress_def *d = &n->egress[i];
		const char *host = jstr(e, "host"), *cidr = jstr(e, "cidr");
		d->port = (uint16_t)jint(e, "port");
		d->spec = xstrdup(json_object_to_json_string(e));
		if (host)
			d->host = xstrdup(host);
		else if (!cidr || net_parse_cidr(cidr, &d->addr, &d->prefix))
			fatalx("egress needs host or a valid cidr");
	}
}

static void load_svc(struct svc_config *svc, const char *name, json_object *o)
{
	json_object *v;
	char *at;

	svc->name = xstrdup(name);
	svc->unit = xstrdup(name);
	while ((at = strchr(svc->unit, '/')))
		*at = '@';
	svc->net.mode = NET_BRIDGE;
	svc->net.network = jstr(o, "network") ? xstrdup(jstr(o, "network")) : NULL;
	svc->net.hostname = jstr(o, "hostname") ? xstrdup(jstr(o, "hostname")) : NULL;
	if (jstr(o, "ip")) {
		svc->net.ip_set = true;
		svc->net.ip = addr_of(jstr(o, "ip"));
	}
	load_ports(&svc->net, json_object_object_get_ex(o, "ports", &v) ? v : NULL);
	if (json_object_object_get_ex(o, "allow_from", &v)) {
		svc->net.allow_from_set = true;
		svc->net.allow_from.n = json_object_array_length(v);
		svc->net.allow_from.v = xcalloc(svc->net.allow_from.n + 1, sizeof(char *));
		for (size_t i = 0; i < svc->net.allow_from.n; i++)
			svc->net.allow_from.v[i] =
				xstrdup(json_object_get_string(json_object_array_get_idx(v, i)));
	}
	load_egress(&svc->net, json_object_object_get_ex(o, "egress", &v) ? v : NULL);
}

static void load_config(struct tool *t, const char *path)
{
	json_object *root = json_object_from_file(path), *svcs;
	size_t n = 0;

	if (!root || !json_object_object_get_ex(root, "networks", &t->nets))
		fatalx("%s: not a nettool config", path);
	json_object_get(t->nets);
	if (json_object_object_get_ex(root, "services", &svcs)) {
		t->cfg.svcs = xcalloc(json_object_object_length(svcs), sizeof(*t->cfg.svcs));
		json_object_object_foreach(svcs, name, o)
			load_svc(&t->cfg.svcs[n++], name, o);
	}
	t->cfg.nsvcs = n;
	json_object_put(root);
}

static void free_svc(struct svc_config *svc)
{
	struct svc_net *n = &svc->net;

	for (size_t i = 0; i < n->nports; i++)
		free(n->ports[i].spec);
	for (size_t i = 0; i < n->negress; i++) {
		free(n->egress[i].host);
		free(n->egress[i].spec);
	}
	for (size_t i = 0; i < n->allow_from.n; i++)
		free(n->allow_from.v[i]);
	free(n->allow_from.v);
	free(n->ports);
	free(n->egress);
	free(n->network);
	free(n->hostname);
	free(svc->name);
	free(svc->unit);
}

static const struct svc_config *find_svc(const struct tool *t, const char *name)
{
	for (size_t i = 0; i < t->cfg.nsvcs; i++)
		if (streq(t->cfg.svcs[i].name, name))
			return &t->cfg.svcs[i];
	return NULL;
}

static int collect_links(const struct nl_link *l, void *data)
{
	json_object *arr = data, *o;

	if (!net_link_name_ours(l->name))
		return 0;
	o = json_object_new_object();
	json_object_object_add(o, "name", json_object_new_string(l->name));
	json_object_object_add(o, "kind", json_object_new_string(l->kind));
	json_object_object_add(o, "alias", json_object_new_string(l->alias));
	json_object_object_add(o, "master", json_object_new_int(l->master));
	json_object_object_add(o, "up", json_object_new_boolean(l->up));
	json_object_array_add(arr, o);
	return 0;
}

static void cmd_links(void)
{
	json_object *arr = json_object_new_array();
	struct nl *nl;
	int err = nl_open(&nl);

	if (!err) {
		err = nl_link_list(nl, collect_links, arr);
		nl_close(nl);
	}
	if (err)
		reply(false, err, NULL);
	else
		reply(true, 0, json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN));
	json_object_put(arr);
}

static void cmd_up(struct tool *t, const char *net)
{
	const char *cidr = net ? jstr(t->nets, net) : NULL;
	uint32_t addr;
	uint8_t prefix;
	char *why = NULL;
	int err;

	if (!cidr || net_parse_cidr(cidr, &addr, &prefix)) {
		reply(false, -ENOENT, "no such network in the config");
		return;
	}
	err = net_network_up(t->st, net, addr, prefix, &why);
	if (err)
		reply_err(err, why);
	else
		reply(true, 0, NULL);
}

static void cmd_prepare(struct tool *t, const char *name)
{
	const struct svc_config *svc = name ? find_svc(t, name) : NULL;
	const struct net_endpoint *ep;
	char *why = NULL, a[20];
	int err;

	if (!svc) {
		reply(false, -ENOENT, "no such service in the config");
		return;
	}
	err = net_service_prepare(t->st, svc, &why);
	if (err) {
		reply_err(err, why);
		return;
	}
	ep = net_model_find_endpoint(net_state_model(t->st), svc->unit);
	reply(true, 0, net_fmt_addr(ep->addr, a, sizeof(a)));
}

static void cmd_attach(struct tool *t, const char *name, const char *nspath)
{
	const struct svc_config *svc = name ? find_svc(t, name) : NULL;
	char *why = NULL;
	int fd, err;

	if (!svc || !nspath) {
		reply(false, -EINVAL, "usage: attach SVC NETNS_PATH");
		return;
	}
	fd = open(nspath, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		reply(false, -errno, NULL);
		return;
	}
	err = net_service_attach(t->st, svc->unit, fd, &why);
	close(fd);
	if (err)
		reply_err(err, why);
	else
		reply(true, 0, NULL);
}

static const char *unit_of(const struct tool *t, const char *name)
{
	const struct svc_config *svc = name ? find_svc(t, name) : NULL;
	return svc ? svc->unit : name ? name : "";
}

static void cmd_text(int err, char *why, char *text)
{
	if (err)
		reply_err(err, why);
	else
		reply(true, 0, text);
	free(text);
}

static bool run(struct tool *t, char *line)
{
	char *save = NULL, *cmd = strtok_r(line, " \t\n", &save);
	char *a1 = strtok_r(NULL, " \t\n", &save), *a2 = strtok_r(NULL, " \t\n", &save);
	char *why = NULL;
	struct sbuf b = {0};
	int err;

	if (!cmd)
		return true;
	if (streq(cmd, "quit")) {
		reply(true, 0, NULL);
		return false;
	} else if (streq(cmd, "up")) {
		cmd_up(t, a1);
	} else if (streq(cmd, "down")) {
		err = net_network_down(t->st, a1 ? a1 : "", a2 && streq(a2, "force"), &why);
		cmd_text(err, why, NULL);
	} else if (streq(cmd, "prepare")) {
		cmd_prepare(t, a1);
	} else if (streq(cmd, "attach")) {
		cmd_attach(t, a1, a2);
	} else if (streq(cmd, "release")) {
		err = net_service_release(t->st, unit_of(t, a1), &why);
		cmd_text(err, why, NULL);
	} else if (streq(cmd, "rules")) {
		err = nft_ruleset_build(net_state_model(t->st), &b, &why);
		cmd_text(err, why, b.s);
	} else if (streq(cmd, "live-rules")) {
		err = nft_list(&b, &why);
		cmd_text(err, why, b.s);
	} else if (streq(cmd, "hosts")) {
		char *h = hosts_render(net_state_model(t->st), unit_of(t, a1));
		cmd_text(h ? 0 : -ENOENT, NULL, h);
	} else if (streq(cmd, "hosts-path")) {
		cmd_text(0, NULL, net_hosts_path(t->st, unit_of(t, a1)));
	} else if (streq(cmd, "inspect")) {
		char *j = net_inspect_json(t->st, a1 ? a1 : "");
		cmd_text(j ? 0 : -ENOENT, NULL, j);
	} else if (streq(cmd, "links")) {
		cmd_links();
	} else if (streq(cmd, "cleanup")) {
		err = net_cleanup_stale(t->state_dir, t->hosts_dir, &why);
		cmd_text(err, why, NULL);
	} else if (streq(cmd, "shutdown")) {
		err = net_shutdown(t->st, &why);
		cmd_text(err, why, NULL);
	} else {
		reply(false, -EINVAL, "unknown command");
	}
	return true;
}

int main(int argc, char **argv)
{
	struct tool t = {0};
	char *line = NULL, *why = NULL;
	size_t cap = 0;
	int err;

	if (argc != 4) {
		fprintf(stderr, "usage: nettool STATE_DIR HOSTS_DIR CONFIG.json\n");
		return 2;
	}
	log_init(1);
	t.state_dir = argv[1];
	t.hosts_dir = argv[2];
	load_config(&t, argv[3]);
	t.st = net_state_new(t.state_dir, t.hosts_dir);
	err = net_state_reserve(t.st, &t.cfg, &why);
	if (err)
		fatalx("reservations: %s", why);
	while (getline(&line, &cap, stdin) > 0)
		if (!run(&t, line))
			break;
	free(line);
	net_state_free(t.st);
	for (size_t i = 0; i < t.cfg.nsvcs; i++)
		free_svc(&t.cfg.svcs[i]);
	free(t.cfg.svcs);
	json_object_put(t.nets);
	return 0;
}
