"""The net/ library against real kernel objects, inside throwaway network
namespaces only (the host's links and ruleset are never touched).

Each test creates its own namespaces named sysgt<pid>-<n>-<role>:
  host    where tests/helpers/nettool runs (plays the supervisor's netns)
  a, b, c three "service" namespaces, attached by the library
  client  a namespace wired to host by a plain veth (192.168.77.0/24): "another
          machine" or "another namespace on this host"
Traffic only flows between those addresses. Needs root, ip(8) and nft(8)
(used to verify, never to set up what the library sets up).
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

HELPERS = os.environ.get("SYSG_HELPERS", "")
NETTOOL = os.path.join(HELPERS, "nettool")
PY = sys.executable or "/usr/bin/python3"

SERVER = r"""
import socket, sys
proto, port, name = sys.argv[1], int(sys.argv[2]), sys.argv[3]
if proto == "tcp":
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port)); s.listen(16)
else:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", port))
print("ready", flush=True)
while True:
    if proto == "tcp":
        c, peer = s.accept()
        c.sendall(("%s %s\n" % (name, peer[0])).encode()); c.close()
    else:
        data, peer = s.recvfrom(512)
        s.sendto(("%s %s\n" % (name, peer[0])).encode(), peer)
"""

CLIENT = r"""
import socket, sys
proto, addr, port, timeout = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
try:
    if proto == "tcp":
        s = socket.create_connection((addr, port), timeout=timeout)
        print(s.recv(512).decode().strip())
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(timeout)
        s.sendto(b"hi", (addr, port)); print(s.recv(512).decode().strip())
except (TimeoutError, socket.timeout):
    print("ERR timeout"); sys.exit(1)
except ConnectionRefusedError:
    print("ERR refused"); sys.exit(1)
except Exception as e:
    print("ERR " + type(e).__name__); sys.exit(1)
"""

SINK = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("0.0.0.0", int(sys.argv[1])))
print("ready", flush=True)
while True:
    data, peer = s.recvfrom(512); print(peer[0], data.decode(), flush=True)
"""

SEND = r"""
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((sys.argv[1], 0))
s.sendto(sys.argv[4].encode(), (sys.argv[2], int(sys.argv[3]))); time.sleep(0.3)
"""

PING = r"""
import os, socket, struct, sys, time
addr, timeout = sys.argv[1], float(sys.argv[2])
def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b)); s = (s >> 16) + (s & 0xffff); s += s >> 16
    return ~s & 0xffff
ident = os.getpid() & 0xffff
hdr = struct.pack("!BBHHH", 8, 0, 0, ident, 1) + b"sysg-ping"
pkt = hdr[:2] + struct.pack("!H", csum(hdr)) + hdr[4:]
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP); s.settimeout(timeout)
s.sendto(pkt, (addr, 0)); end = time.time() + timeout
try:
    while time.time() < end:
        data, peer = s.recvfrom(1500); ihl = (data[0] & 15) * 4
        t, _, _, i, _ = struct.unpack("!BBHHH", data[ihl:ihl + 8])
        if t == 0 and i == ident and peer[0] == addr:
            print("pong"); sys.exit(0)
except socket.timeout:
    pass
print("ERR timeout"); sys.exit(1)
"""

BLOCKED = 1.0  # seconds a dropped connection attempt is given


def have_tools():
    return (os.geteuid() == 0 and shutil.which("ip") and shutil.which("nft")
            and os.access(NETTOOL, os.X_OK))


def sh(*argv, check=True, timeout=30):
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise AssertionError("%s: %s" % (" ".join(argv), r.stderr.strip()))
    return r


class Tool:
    """A running nettool: the library in one long-lived single-threaded process."""

    def __init__(self, ns, state, hosts, cfg):
        self.p = subprocess.Popen(["ip", "netns", "exec", ns, NETTOOL, state, hosts, cfg],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)

    def cmd(self, line):
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()
        out = self.p.stdout.readline()
        if not out:
            raise AssertionError("nettool died on %r: %s" % (line, self.p.stderr.read()))
        return json.loads(out)

    def ok(self, line):
        r = self.cmd(line)
        if not r["ok"]:
            raise AssertionError("%s: %s %s" % (line, r["errno"], r["error"]))
        return r["out"]

    def close(self):
        if self.p.poll() is None:
            try:
                self.p.stdin.close()
            except BrokenPipeError:
                pass
            try:
                self.p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        for f in (self.p.stdin, self.p.stdout, self.p.stderr):
            try:
                f.close()
            except BrokenPipeError:
                pass

    def crash(self):
        self.p.send_signal(signal.SIGKILL)
        self.p.wait()


@unittest.skipUnless(have_tools(), "needs root, ip, nft and the nettool helper")
class NetPrimitives(unittest.TestCase):
    counter = 0
    bridge_nf_call_iptables = None  # the netns default (1 where br_netfilter is loaded)

    # ---- fixture ---------------------------------------------------------

    def setUp(self):
        NetPrimitives.counter += 1
        self.prefix = "sysgt%d-%d" % (os.getpid(), NetPrimitives.counter)
        self.dir = tempfile.mkdtemp(prefix="sysg-net-")
        self.state = os.path.join(self.dir, "state")
        self.hostsdir = os.path.join(self.dir, "hosts")
        self.procs, self.tools, self.namespaces = [], [], []
        for role in ("host", "a", "b", "c", "client"):
            self.add_ns(role)
        self.x("host", "ip", "link", "set", "lo", "up")
        self.x("client", "ip", "link", "set", "lo", "up")
        # The "outside": a plain veth between host and client, set up with ip(8).
        cl = "cl%d" % os.getpid()
        self.x("host", "ip", "link", "add", cl, "type", "veth", "peer", "name", "eth0",
               "netns", self.ns("client"))
        self.x("host", "ip", "addr", "add", "192.168.77.1/24", "dev", cl)
        self.x("host", "ip", "link", "set", cl, "up")
        self.x("client", "ip", "addr", "add", "192.168.77.2/24", "dev", "eth0")
        self.x("client", "ip", "link", "set", "eth0", "up")
        self.x("client", "ip", "route", "add", "default", "via", "192.168.77.1")
        if self.bridge_nf_call_iptables is not None:
            self.x("host", "sysctl", "-qw",
                   "net.bridge.bridge-nf-call-iptables=" + self.bridge_nf_call_iptables)

    def tearDown(self):
        for p in self.procs:
            p.kill()
            p.wait()
            p.stdout.close()
        for t in self.tools:
            t.close()
        for ns in self.namespaces:
            sh("ip", "netns", "del", ns, check=False)
        shutil.rmtree(self.dir, ignore_errors=True)

    def add_ns(self, role):
        sh("ip", "netns", "add", self.ns(role))
        self.namespaces.append(self.ns(role))

    def ns(self, role):
        return "%s-%s" % (self.prefix, role)

    def nspath(self, role):
        return "/run/netns/" + self.ns(role)

    def x(self, role, *argv, check=True):
        return sh("ip", "netns", "exec", self.ns(role), *argv, check=check)

    def tool(self, config):
        path = os.path.join(self.dir, "config-%d.json" % len(self.tools))
        with open(path, "w") as f:
            json.dump(config, f)
        t = Tool(self.ns("host"), self.state, self.hostsdir, path)
        self.tools.append(t)
        return t

    def serve(self, role, proto, port, name=None):
        p = subprocess.Popen(["ip", "netns", "exec", self.ns(role), PY, "-c", SERVER, proto,
                              str(port), name or role], stdout=subprocess.PIPE, text=True)
        self.procs.append(p)
        self.assertEqual(p.stdout.readline().strip(), "ready")

    def connect(self, role, addr, port, proto="tcp", timeout=3.0):
        r = self.x(role, PY, "-c", CLIENT, proto, addr, str(port), str(timeout), check=False)
        return r.stdout.strip()

    def ping(self, role, addr, timeout=3.0):
        return self.x(role, PY, "-c", PING, addr, str(timeout), check=False).stdout.strip()

    def attach_all(self, t, *roles):
        addrs = {}
        for role in roles:
            addrs[role] = t.ok("prepare " + role)
        for role in roles:
            t.ok("attach %s %s" % (role, self.nspath(role)))
        return addrs

    def links(self, role="host"):
        out = self.x(role, "ip", "-j", "-d", "link", "show").stdout
        return {l["ifname"]: l for l in json.loads(out)}

    def addrs(self, role, dev):
        out = self.x(role, "ip", "-j", "addr", "show", "dev", dev).stdout
        return sorted("%s/%d" % (a["local"], a["prefixlen"])
                      for a in json.loads(out)[0]["addr_info"] if a["family"] == "inet")

    def tables(self):
        out = self.x("host", "nft", "-j", "list", "tables").stdout
        return sorted("%s %s" % (o["table"]["family"], o["table"]["name"])
                      for o in json.loads(out)["nftables"] if "table" in o)

    def ours(self, role="host"):
        return sorted(n for n in self.links(role) if n.startswith(("sg-", "sg_", "sv-", "sv_")))

    # ---- tests -------------------------------------------------------------

    def base_config(self, **svcs):
        services = {"a": {"network": "t0"}, "b": {"network": "t0"}, "c": {"network": "t0"}}
        for k, v in svcs.items():
            services[k].update(v)
        return {"networks": {"t0": "10.99.0.0/24"}, "services": services}

    def test_bridge_veth_addresses_routes(self):
        t = self.tool(self.base_config(c={"ip": "10.99.0.2"}))
        t.ok("up t0")
        links = self.links()
        self.assertEqual(links["sg-t0"]["linkinfo"]["info_kind"], "bridge")
        self.assertEqual(links["sg-t0"]["ifalias"], "sysg:net=t0")
        self.assertEqual(self.addrs("host", "sg-t0"), ["10.99.0.1/24"])
        addrs = self.attach_all(t, "a", "b", "c")
        # The static address is reserved: a and b are leased around it.
        self.assertEqual(addrs, {"a": "10.99.0.3", "b": "10.99.0.4", "c": "10.99.0.2"})
        links = self.links()
        for role in ("a", "b", "c"):
            port = links["sv-" + role]
            self.assertEqual(port["master"], "sg-t0")
            self.assertEqual(port["ifalias"], "sysg:net=t0:unit=" + role)
            self.assertTrue(port["linkinfo"]["info_slave_data"]["isolated"])
            self.assertIn("UP", port["flags"])
            inside = self.links(role)
            self.assertEqual(sorted(inside), ["eth0", "lo"])
            self.assertIn("UP", inside["lo"]["flags"])
            self.assertEqual(self.addrs(role, "eth0"), [addrs[role] + "/24"])
            routes = json.loads(self.x(role, "ip", "-j", "route", "show", "default").stdout)
            self.assertEqual([(r["gateway"], r["dev"]) for r in routes], [("10.99.0.1", "eth0")])
        with open(os.path.join(self.state, "net", "t0.leases")) as f:
            self.assertEqual(f.read(), "sysg-leases 1 10.99.0.0/24\n10.99.0.2 c\n"
                             "10.99.0.3 a\n10.99.0.4 b\n")
        with open("/proc/sys/net/ipv4/ip_forward") as f:
            host_forward = f.read()
        self.assertEqual(self.x("host", "cat", "/proc/sys/net/ipv4/ip_forward").stdout, "1\n")
        self.assertEqual(self.x("host", "cat", "/proc/sys/net/ipv4/conf/sg-t0/proxy_arp_pvlan")
                         .stdout, "1\n")
        with open("/proc/sys/net/ipv4/ip_forward") as f:
            self.assertEqual(f.read(), host_forward, "the host's own netns was touched")

    def test_services_reach_each_other(self):
        t = self.tool(self.base_config())
        t.ok("up t0")
        addrs = self.attach_all(t, "a", "b")
        self.assertEqual(self.ping("a", addrs["b"]), "pong")
        self.assertEqual(self.ping("b", addrs["a"]), "pong")
        self.assertEqual(self.ping("a", "10.99.0.1"), "pong")
        self.serve("a", "tcp", 80)
        self.serve("b", "tcp", 80)
        # Routed through the host but not NATed: each sees the other's address.
        self.assertEqual(self.connect("b", addrs["a"], 80), "a " + addrs["b"])
        self.assertEqual(self.connect("a", addrs["b"], 80), "b " + addrs["a"])
        # Every ARP answer for the subnet is the bridge's (isolated ports).
        neigh = json.loads(self.x("b", "ip", "-j", "neigh", "show", addrs["a"]).stdout)
        bridge_mac = self.links()["sg-t0"]["address"]
        self.assertEqual([n["lladdr"] for n in neigh], [bridge_mac])

    def test_published_ports_tcp_udp_local_and_remote(self):
        t = self.tool(self.base_config(a={"ports": [
            {"host_port": 8080, "port": 80, "proto": "tcp"},
            {"host_port": 5353, "port": 53, "proto": "udp"},
            {"host_ip": "127.0.0.1", "host_port": 9090, "port": 80, "proto": "tcp"}]}))
        t.ok("up t0")
        addrs = self.attach_all(t, "a")
        self.serve("a", "tcp", 80)
        self.serve("a", "udp", 53)
        # From another machine/namespace: DNAT only, the client's address is kept.
        self.assertEqual(self.connect("client", "192.168.77.1", 8080), "a 192.168.77.2")
        self.assertEqual(self.connect("client", "192.168.77.1", 5353, "udp"), "a 192.168.77.2")
        # From the host itself, to one of its addresses and to loopback.
        self.assertEqual(self.connect("host", "192.168.77.1", 8080), "a 192.168.77.1")
        self.assertEqual(self.connect("host", "127.0.0.1", 8080), "a 10.99.0.1")
        self.assertEqual(self.connect("host", "127.0.0.1", 5353, "udp"), "a 10.99.0.1")
        self.assertEqual(self.connect("host", "127.0.0.1", 9090), "a 10.99.0.1")
        # A mapping bound to 127.0.0.1 is not reachable on other addresses.
        self.assertEqual(self.connect("client", "192.168.77.1", 9090, timeout=BLOCKED),
                         "ERR refused")
        # The service's address itself is not reachable from outside, only its ports.
        self.x("client", "ip", "route", "add", "10.99.0.0/24", "via", "192.168.77.1")
        self.assertEqual(self.connect("client", addrs["a"], 80, timeout=BLOCKED), "ERR timeout")

    def test_allow_from(self):
        t = self.tool(self.base_config(a={"allow_from": ["b"],
                                          "ports": [{"host_port": 8080, "port": 80}]}))
        t.ok("up t0")
        addrs = self.attach_all(t, "a", "b", "c")
        self.serve("a", "tcp", 80)
        self.assertEqual(self.connect("b", addrs["a"], 80), "a " + addrs["b"])
        self.assertEqual(self.connect("c", addrs["a"], 80, timeout=BLOCKED), "ERR timeout")
        self.assertEqual(self.ping("c", addrs["a"], timeout=BLOCKED), "ERR timeout")
        # Published ports stay open to what is not a sysg service.
        self.assertEqual(self.connect("client", "192.168.77.1", 8080), "a 192.168.77.2")
        # c sending straight to a's MAC (bypassing the proxy ARP answer) meets
        # an isolated port: layer 2 cannot be used to get around the policy.
        mac_a = self.links("a")["eth0"]["address"]
        self.x("c", "ip", "neigh", "replace", addrs["a"], "lladdr", mac_a, "dev", "eth0",
               "nud", "permanent")
        self.assertEqual(self.connect("c", addrs["a"], 80, timeout=BLOCKED), "ERR timeout")
        self.x("c", "ip", "neigh", "del", addrs["a"], "dev", "eth0")
        # c forging b's address is stopped at its bridge port: a datagram
        # from c claiming to be b never reaches a, the real b's does.
        sink = subprocess.Popen(["ip", "netns", "exec", self.ns("a"), PY, "-c", SINK, "9999"],
                                stdout=subprocess.PIPE, text=True)
        self.procs.append(sink)
        self.assertEqual(sink.stdout.readline().strip(), "ready")
        self.x("c", "ip", "addr", "add", addrs["b"] + "/32", "dev", "eth0")
        # (A static neighbour, so no ARP carries the forged address first:
        # this is about the IPv4 rule; ARP has its own.)
        self.x("c", "ip", "neigh", "replace", addrs["a"], "lladdr",
               self.links()["sg-t0"]["address"], "dev", "eth0", "nud", "permanent")
        self.x("c", PY, "-c", SEND, addrs["b"], addrs["a"], "9999", "forged")
        self.x("b", PY, "-c", SEND, addrs["b"], addrs["a"], "9999", "real")
        self.assertEqual(sink.stdout.readline().strip(), addrs["b"] + " real")

    def test_egress_allow_list(self):
        t = self.tool(self.base_config(
            b={"egress": [{"host": "a", "port": 80}]},
            c={"egress": [{"cidr": "192.168.77.0/24", "port": 7000}]}))
        t.ok("up t0")
        addrs = self.attach_all(t, "a", "b", "c")
        for port in (80, 81):
            self.serve("a", "tcp", port)
        self.serve("c", "tcp", 80)
        self.serve("host", "tcp", 6000, "host")
        for port in (7000, 7001):
            self.serve("client", "tcp", port, "client")
        self.assertEqual(self.connect("b", addrs["a"], 80), "a " + addrs["b"])
        self.assertEqual(self.connect("b", addrs["a"], 81, timeout=BLOCKED), "ERR timeout")
        self.assertEqual(self.connect("b", addrs["c"], 80, timeout=BLOCKED), "ERR timeout")
        self.assertEqual(self.connect("b", "10.99.0.1", 6000, timeout=BLOCKED), "ERR timeout")
        self.assertEqual(self.ping("b", "10.99.0.1", timeout=BLOCKED), "ERR timeout")
        # b still answers what it is asked (replies are not egress).
        self.serve("b", "tcp", 80)
        self.assertEqual(self.connect("a", addrs["b"], 80), "b " + addrs["a"])
        # Without a policy a reaches the host; c leaves the network masqueraded.
        self.assertEqual(self.connect("a", "10.99.0.1", 6000), "host " + addrs["a"])
        self.assertEqual(self.connect("c", "192.168.77.2", 7000), "client 192.168.77.1")
        self.assertEqual(self.connect("c", "192.168.77.2", 7001, timeout=BLOCKED), "ERR timeout")
        self.assertEqual(self.connect("c", addrs["a"], 80, timeout=BLOCKED), "ERR timeout")

    def test_hosts_files_follow_services(self):
        t = self.tool(self.base_config(c={"hostname": "cache"}))
        t.ok("up t0")
        addrs = self.attach_all(t, "a", "b", "c")
        header = ("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n")
        path_a = t.ok("hosts-path a")
        with open(path_a) as f:
            self.assertEqual(f.read(), "# generated by sysg for a on network t0; rewritten as "
                             "services come and go\n" + header +
                             "%s\ta a.sysg.local\n%s\tb b.sysg.local\n%s\tcache cache.sysg.local\n"
                             % (addrs["a"], addrs["b"], addrs["c"]))
        inode = os.stat(path_a).st_ino
        t.ok("release c")
        self.assertFalse(os.path.exists(t.ok("hosts-path c")))
        with open(path_a) as f:
            self.assertNotIn("cache", f.read())
        self.assertEqual(os.stat(path_a).st_ino, inode, "rewritten by rename, not in place")
        self.assertNotIn("sv-c", self.links())

    def test_setup_twice_is_idempotent(self):
        t = self.tool(self.base_config(a={"ports": [{"host_port": 8080, "port": 80}]}))
        t.ok("up t0")
        self.attach_all(t, "a")
        before = (self.x("host", "nft", "list", "ruleset").stdout, self.ours(),
                  self.addrs("host", "sg-t0"))
        # A stray address on the bridge (e.g. the network's old subnet) goes.
        self.x("host", "ip", "addr", "add", "10.98.0.1/24", "dev", "sg-t0")
        t.ok("up t0")
        t.ok("up t0")
        after = (self.x("host", "nft", "list", "ruleset").stdout, self.ours(),
                 self.addrs("host", "sg-t0"))
        self.assertEqual(before, after)
        # Attaching again replaces the pair instead of failing.
        t.ok("attach a " + self.nspath("a"))
        self.assertEqual(self.ours(), ["sg-t0", "sv-a"])
        self.serve("a", "tcp", 80)
        self.assertEqual(self.connect("client", "192.168.77.1", 8080), "a 192.168.77.2")

    def test_other_tables_survive(self):
        sh("ip", "netns", "exec", self.ns("host"), "nft",
           "add table inet keep; add chain inet keep c { type filter hook input priority 0; }; "
           "add rule inet keep c counter")
        t = self.tool(self.base_config())
        t.ok("up t0")
        self.attach_all(t, "a")
        self.assertEqual(self.tables(), ["bridge sysg", "inet keep", "inet sysg"])
        t.ok("release a")
        t.ok("down t0")
        self.assertEqual(self.tables(), ["inet keep"])
        self.assertIn("counter", self.x("host", "nft", "list", "table", "inet", "keep").stdout)

    def test_remove_network(self):
        t = self.tool(self.base_config())
        t.ok("up t0")
        self.attach_all(t, "a", "b")
        r = t.cmd("down t0")
        self.assertEqual((r["ok"], r["errno"]), (False, "EBUSY"))
        self.assertEqual(self.ours(), ["sg-t0", "sv-a", "sv-b"])
        t.ok("release a")
        self.assertEqual(self.ours(), ["sg-t0", "sv-b"])
        self.assertEqual(self.links("a").keys(), {"lo"})
        t.ok("down t0 force")
        self.assertEqual(self.ours(), [])
        self.assertEqual(self.links("b").keys(), {"lo"})
        self.assertEqual(self.tables(), [])
        self.assertEqual(os.listdir(os.path.join(self.state, "net")), [])
        self.assertEqual(os.listdir(self.hostsdir), [])

    def test_crash_leftovers_are_cleaned(self):
        t = self.tool(self.base_config(a={"ports": [{"host_port": 8080, "port": 80}]}))
        t.ok("up t0")
        self.attach_all(t, "a", "b")
        # Things that are not sysg's, some with look-alike names.
        self.x("host", "ip", "link", "add", "sv-user", "alias", "mine", "type", "veth",
               "peer", "name", "sv-userp")
        self.x("host", "ip", "link", "add", "br-user", "type", "bridge")
        self.x("host", "nft", "add", "table", "inet", "keep")
        t.crash()
        self.assertEqual(self.ours(), ["sg-t0", "sv-a", "sv-b", "sv-user", "sv-userp"])
        self.assertTrue(os.path.exists(os.path.join(self.state, "net", "t0.leases")))
        # A crash between creating a link and labelling it: the lease file
        # still names it, so it is known to be sysg's.
        self.x("host", "ip", "link", "set", "sv-b", "alias", "")
        self.x("host", "ip", "link", "set", "sg-t0", "alias", "")
        self.assertNotIn("ifalias", self.links()["sv-b"])
        t2 = self.tool(self.base_config())
        t2.ok("cleanup")
        # sv-user has a foreign label; sv-userp has none and no lease names it.
        self.assertEqual(self.ours(), ["sv-user", "sv-userp"])
        self.assertIn("br-user", self.links())
        self.assertEqual(self.links("a").keys(), {"lo"})
        self.assertEqual(self.tables(), ["inet keep"])
        self.assertEqual(os.listdir(os.path.join(self.state, "net")), [])
        self.assertEqual(os.listdir(self.hostsdir), [])
        t2.ok("cleanup")  # nothing left to do is not an error
        # And a fresh start works on the cleaned netns.
        t2.ok("up t0")
        addrs = self.attach_all(t2, "a")
        self.assertEqual(addrs["a"], "10.99.0.2")

    def test_foreign_links_with_our_names_are_left_alone(self):
        # (No dummy driver in this kernel: a veth and a bridge play foreign links.)
        self.x("host", "ip", "link", "add", "sg-t0", "type", "veth", "peer", "name", "sg-t0p")
        t = self.tool(self.base_config())
        r = t.cmd("up t0")
        self.assertEqual((r["ok"], r["errno"]), (False, "EEXIST"))
        self.assertEqual(r["error"], "network t0: link sg-t0 exists and is not sysg's bridge")
        self.assertEqual(self.links()["sg-t0"]["linkinfo"]["info_kind"], "veth")
        self.assertEqual(self.tables(), [])  # the half-made network was rolled back
        self.x("host", "ip", "link", "del", "sg-t0")
        t.ok("up t0")
        self.x("host", "ip", "link", "add", "sv-a", "type", "bridge")
        self.assertEqual(t.ok("prepare a"), "10.99.0.2")
        r = t.cmd("attach a " + self.nspath("a"))
        self.assertEqual((r["ok"], r["errno"]), (False, "EEXIST"))
        self.assertEqual(r["error"], "service a: a link of the same name: File exists")
        self.assertEqual(self.links("a").keys(), {"lo"})
        r = t.cmd("release a")
        self.assertEqual((r["ok"], r["errno"]), (False, "EEXIST"))
        self.assertEqual(self.links()["sv-a"]["linkinfo"]["info_kind"], "bridge")
        with open(os.path.join(self.state, "net", "t0.leases")) as f:
            self.assertEqual(f.read(), "sysg-leases 1 10.99.0.0/24\n")  # released anyway

    def test_attach_by_pid_and_process_death(self):
        # As the supervisor does it: the netns of a child created with
        # CLONE_NEWNET, through /proc/PID/ns/net.
        child = subprocess.Popen(["ip", "netns", "exec", self.ns("host"), "unshare", "-n",
                                  "sleep", "60"])
        try:
            deadline = time.time() + 5
            while (os.readlink("/proc/%d/ns/net" % child.pid) ==
                   os.readlink("/proc/self/ns/net") and time.time() < deadline):
                time.sleep(0.05)
            t = self.tool(self.base_config())
            t.ok("up t0")
            self.assertEqual(t.ok("prepare a"), "10.99.0.2")
            t.ok("attach a /proc/%d/ns/net" % child.pid)
            self.assertEqual(self.ours(), ["sg-t0", "sv-a"])
            r = sh("nsenter", "-t", str(child.pid), "-n", "ip", "-j", "addr", "show", "eth0")
            self.assertEqual([a["local"] for a in json.loads(r.stdout)[0]["addr_info"]
                              if a["family"] == "inet"], ["10.99.0.2"])
        finally:
            child.kill()
            child.wait()
        # The netns died with its last process, and took the pair with it.
        deadline = time.time() + 5
        while self.ours() != ["sg-t0"] and time.time() < deadline:
            time.sleep(0.05)
        self.assertEqual(self.ours(), ["sg-t0"])
        t.ok("release a")  # the link is already gone: not an error
        self.assertEqual(self.ours(), ["sg-t0"])

    def test_hairpin_without_br_netfilter(self):
        # With br_netfilter calling iptables hooks for bridged frames, a DNAT
        # back into the same bridge is bridged directly, which port isolation
        # forbids (docs/networking.md). Without it, it is routed and works.
        self.x("host", "sysctl", "-qw", "net.bridge.bridge-nf-call-iptables=0", check=False)
        r = self.x("host", "cat", "/proc/sys/net/bridge/bridge-nf-call-iptables", check=False)
        if r.stdout.strip() not in ("0", ""):
            self.skipTest("bridge-nf-call-iptables cannot be turned off in a netns here")
        t = self.tool(self.base_config(a={"ports": [{"host_port": 8080, "port": 80}]}))
        t.ok("up t0")
        addrs = self.attach_all(t, "a", "b")
        self.serve("a", "tcp", 80)
        self.assertEqual(self.connect("b", "10.99.0.1", 8080), "a " + addrs["b"])
        self.assertEqual(self.connect("b", "192.168.77.1", 8080), "a " + addrs["b"])


@unittest.skipUnless(have_tools() and os.path.exists("/proc/sys/net/bridge"),
                     "needs br_netfilter's sysctls to turn it off")
class NetPrimitivesWithoutBrNetfilter(NetPrimitives):
    """The same with br_netfilter not calling the IP hooks for bridged frames,
    as on a host where it is not loaded: only port isolation then makes
    service-to-service traffic visible to the policy."""
    bridge_nf_call_iptables = "0"


if __name__ == "__main__":
    unittest.main()
