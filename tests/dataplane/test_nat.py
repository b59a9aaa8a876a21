# SPDX-License-Identifier: BSD-3-Clause
"""NAT44: two tenants with the same private subnet behind one PE tessd, reaching an
"internet" namespace through their own pools; static mappings, port forwards, fencing,
hairpin, endpoint-independent mapping, port exhaustion, timeouts and per-tenant limits.

    acme  (ns) 10.0.0.10 --tap-- PE tessd  VRF acme:  lan 10.0.0.1/24, default -> VRF inet
    bravo (ns) 10.0.0.10 --tap--           VRF bravo: lan 10.0.0.1/24, default -> VRF inet
    inet  (ns) 198.51.100.2, .3 --tap--    VRF inet:  up 198.51.100.1/24
    pools: acme 203.0.113.0/30, bravo 203.0.113.16/30; statics in 203.0.113.100-
"""
import json
import socket
import time

import tess

TENANTS = ("acme", "bravo")
IN_IP, IN_GW = "10.0.0.10", "10.0.0.1"
NET_IP, NET_IP2, NET_GW = "198.51.100.2", "198.51.100.3", "198.51.100.1"
POOL = {"acme": "203.0.113.0/30", "bravo": "203.0.113.16/30"}
POOL_ADDRS = {"acme": {f"203.0.113.{i}" for i in range(4)},
              "bravo": {f"203.0.113.{i}" for i in range(16, 20)}}

# A server in a namespace: for each TCP connection or UDP datagram, answers with
# "<tag> <peer ip>:<peer port>" and records it in a file (one JSON line per peer).
SERVER = r"""
import json, socket, sys, threading
tag, log, binds = sys.argv[1], sys.argv[2], sys.argv[3:]
def note(peer):
    with open(log, "a") as f:
        f.write(json.dumps([peer[0], peer[1]]) + "\n")
def tcp(s):
    while True:
        c, peer = s.accept(); note(peer)
        c.sendall(f"{tag} {peer[0]}:{peer[1]}".encode()); c.close()
def udp(s):
    while True:
        d, peer = s.recvfrom(2048); note(peer)
        if d != b"mute":
            s.sendto(f"{tag} {peer[0]}:{peer[1]}".encode(), peer)
# Every socket bound (and listening) before "ready": clients may start at once.
for b in binds:
    proto, addr, port = b.split(":")
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, int(port)))
    if proto == "tcp":
        s.listen(64)
    threading.Thread(target=tcp if proto == "tcp" else udp, args=(s,), daemon=True).start()
print("ready", flush=True)
threading.Event().wait()
"""

# A client: one TCP connection or UDP exchange from a fixed source port; prints the answer.
CLIENT = r"""
import socket, sys
proto, dst, port, sport = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.settimeout(3)
if sport:
    s.bind(("0.0.0.0", sport))
try:
    if proto == "tcp":
        s.connect((dst, port)); print(s.recv(200).decode())
    else:
        s.sendto(b"hi", (dst, port)); print(s.recvfrom(200)[0].decode())
except OSError as e:
    print("error", e)
"""


def nat_instance(t, **kw):
    n = {"name": t, "inside_vrf": t, "outside_vrf": "inet", "pool": f"pool-{t}"}
    n.update(kw)
    return n


class NatTopo:
    def __init__(self, cleanup, tmp_path, instances=None, pools=None, nat_kw=None, ifprefix="n",
                 mtu=None, control=None):
        u = tess.uid()
        self.cleanup, self.tmp = cleanup, str(tmp_path)
        # ifprefix: the taps' names start with it (each test file its own).
        self.ifs = {t: f"{ifprefix}{t[0]}{u}"[:15] for t in TENANTS + ("inet",)}
        ports = [tess.tap_port(f"p_{t}", self.ifs[t], i)
                 for i, t in enumerate(TENANTS + ("inet",))]
        self.pe = tess.Tessd(cleanup, tmp_path, ports=ports)
        self.pe.config["router"] = {
            "vrfs": [{"name": t, "id": 10 * (i + 1)} for i, t in enumerate(TENANTS + ("inet",))],
            "interfaces": [{"name": f"{t}-lan", "vrf": t, "port": f"p_{t}",
                            "addresses": [IN_GW + "/24"]} for t in TENANTS] + [
                           {"name": "inet-up", "vrf": "inet", "port": "p_inet",
                            "addresses": [NET_GW + "/24"]}],
            "routes": [{"vrf": t, "prefix": "0.0.0.0/0", "type": "vrf", "target_vrf": "inet"}
                       for t in TENANTS],
        }
        for i in self.pe.config["router"]["interfaces"]:
            if i["name"] in (mtu or {}):  # {"inet-up": 1280}: smaller links
                i["mtu"] = mtu[i["name"]]
        self.pe.config["nat"] = dict({
            "pools": pools if pools is not None else [
                {"name": f"pool-{t}", "prefix": POOL[t]} for t in TENANTS],
            "instances": instances if instances is not None else [
                nat_instance(t) for t in TENANTS],
        }, **(nat_kw or {}))
        self.pe.config["control"].update(control or {})
        self.pe.start()
        # The tap's own MAC is the port's: a host needs another.
        self.ns = {t: tess.peer(cleanup, self.ifs[t], IN_IP + "/24", IN_GW,
                                mac="02:00:00:00:0a:10") for t in TENANTS}
        ns = tess.Netns(cleanup)
        ns.attach(self.ifs["inet"], NET_IP + "/24", mac="02:00:00:00:0c:02")
        ns.run("ip", "addr", "add", NET_IP2 + "/24", "dev", self.ifs["inet"])
        ns.run("ip", "route", "add", "203.0.113.0/24", "via", NET_GW)
        self.ns["inet"] = ns
        self.logs = {}

    def server(self, who, *binds):
        """Starts the echo server in namespace who; returns its log path."""
        log = f"{self.tmp}/srv-{who}-{len(self.logs)}.log"
        open(log, "w").close()
        p = tess.subprocess.Popen(["ip", "netns", "exec", self.ns[who].name, "/usr/bin/python3",
                                   "-c", SERVER, who, log, *binds],
                                  stdout=tess.subprocess.PIPE, text=True)
        self.cleanup.add(p.kill)
        assert p.stdout.readline().strip() == "ready"
        self.logs[who] = log
        return log

    def client(self, who, proto, dst, port, sport=0):
        r = self.ns[who].run("/usr/bin/python3", "-c", CLIENT, proto, dst, str(port),
                             str(sport), check=False, timeout=20)
        return r.stdout.strip()

    def clients(self, jobs):
        """Runs clients at the same time: jobs of (who, proto, dst, port, sport)."""
        procs = [tess.subprocess.Popen(
            ["ip", "netns", "exec", self.ns[w].name, "/usr/bin/python3", "-c", CLIENT, p, d,
             str(port), str(sp)], stdout=tess.subprocess.PIPE, text=True)
            for w, p, d, port, sp in jobs]
        return [p.communicate(timeout=20)[0].strip() for p in procs]

    def stats(self):
        return {i["name"]: i for i in self.pe.ctl("nat", "stats")["instances"]}

    def table(self):
        return self.pe.ctl("nat", "stats")["table"]

    def sessions(self, *args):
        return self.pe.ctl("nat", "sessions", *args)

    def call(self, method, params):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        s.connect(self.pe.socket)
        s.sendall((json.dumps({"id": 1, "method": method, "params": params}) + "\n").encode())
        buf = b""
        while b"\n" not in buf:
            buf += s.recv(65536)
        s.close()
        return json.loads(buf.split(b"\n", 1)[0])


def peer(answer):
    """The (address, port) the server saw, from a client's output."""
    assert not answer.startswith("error") and answer, answer
    ip, port = answer.split()[1].split(":")
    return ip, int(port)


def test_two_tenants_same_address_tcp_udp_icmp(cleanup, tmp_path):
    """Both tenants' 10.0.0.10 talk to the internet namespace at once from the same source
    port: the server sees each tenant's own pool address; answers get back to the right
    tenant; ICMP echo goes through too."""
    t = NatTopo(cleanup, tmp_path)
    t.server("inet", f"tcp:{NET_IP}:8000", f"udp:{NET_IP}:8001")
    for proto, port in (("tcp", 8000), ("udp", 8001)):
        a, b = t.clients([("acme", proto, NET_IP, port, 40000),
                          ("bravo", proto, NET_IP, port, 40000)])
        pa, pb = peer(a), peer(b)
        assert pa[0] in POOL_ADDRS["acme"], a
        assert pb[0] in POOL_ADDRS["bravo"], b
    for w in TENANTS:
        assert t.ns[w].ping(NET_IP, count=3, interval=0.2) == (3, 3)
    ses = t.sessions()
    kinds = {(s["instance"], s["proto"]) for s in ses}
    assert {("acme", "tcp"), ("acme", "udp"), ("acme", "icmp"), ("bravo", "tcp"),
            ("bravo", "udp"), ("bravo", "icmp")} <= kinds, ses
    udp = [s for s in ses if s["proto"] == "udp"]
    assert all(s["inside"] == f"{IN_IP}:40000" and s["remote"] == f"{NET_IP}:8001"
               for s in udp), udp
    st = t.stats()
    for w in TENANTS:
        assert st[w]["created"] >= 3 and st[w]["translated_out"] >= 5
        assert st[w]["translated_in"] >= 5
    # Filtered by VRF and address; tessctl's table.
    assert {s["instance"] for s in t.sessions("--vrf", "bravo")} == {"bravo"}
    assert t.sessions("--address", "203.0.113.99") == []
    out = t.pe.tessctl("nat", "sessions").stdout
    assert "INSIDE" in out and f"{IN_IP}:40000" in out
    assert "PORT-EXHAUSTED" in t.pe.tessctl("nat", "stats").stdout


def test_endpoint_independent_mapping(cleanup, tmp_path):
    """RFC 4787 REQ-1: one inside address and port keeps its outside port toward any
    destination (two addresses, two ports of the internet namespace)."""
    t = NatTopo(cleanup, tmp_path)
    t.server("inet", f"udp:{NET_IP}:7001", f"udp:{NET_IP2}:7002", f"tcp:{NET_IP2}:7003")
    seen = {peer(t.client("acme", "udp", NET_IP, 7001, 41000)),
            peer(t.client("acme", "udp", NET_IP2, 7002, 41000))}
    assert len(seen) == 1, seen
    other = peer(t.client("acme", "udp", NET_IP, 7001, 41001))
    assert other not in seen  # another inside port, another mapping
    a, b = peer(t.client("acme", "tcp", NET_IP2, 7003, 41002)), None
    b = peer(t.client("acme", "tcp", NET_IP2, 7003, 41003))
    assert a != b


def test_port_exhaustion_counted(cleanup, tmp_path):
    """A subscriber's one block of 4 ports: a fifth inside port gets none (counted, dropped)."""
    pools = [{"name": f"pool-{t}", "prefix": POOL[t], "port_min": 2000, "port_max": 2015,
              "block_size": 4} for t in TENANTS]
    t = NatTopo(cleanup, tmp_path, pools=pools,
                instances=[nat_instance(w, max_blocks=1) for w in TENANTS])
    t.server("inet", f"udp:{NET_IP}:7001")
    answers = [t.client("acme", "udp", NET_IP, 7001, 42000 + i) for i in range(5)]
    ok = [peer(a) for a in answers if not a.startswith("error")]
    assert len(ok) == 4, answers
    assert all(2000 <= p <= 2015 for _, p in ok)
    st = t.stats()["acme"]
    assert st["port_exhausted"] >= 1 and st["blocks"] == 1
    assert t.pe.ctl("stats")["drops"]["nat"]["nat_port_exhausted"] >= 1
    # The other tenant is untouched.
    assert not t.client("bravo", "udp", NET_IP, 7001, 42000).startswith("error")



def test_shared_pool_shares_and_drop_attribution(cleanup, tmp_path):
    """Two tenants on one pool of 2 blocks, one each: acme exhausting its block leaves
    bravo's; a packet from outside to a free port of bravo's block is bravo's unknown_inbound
    (not the first instance's), acme's hairpin to it acme's; max_blocks past the pool refused."""
    pools = [{"name": "shared", "prefix": "203.0.113.8/32", "port_min": 2000,
              "port_max": 2007, "block_size": 4}]
    t = NatTopo(cleanup, tmp_path, pools=pools,
                instances=[nat_instance(w, pool="shared", max_blocks=1) for w in TENANTS])
    t.server("inet", f"udp:{NET_IP}:7001")
    _, pb = peer(t.client("bravo", "udp", NET_IP, 7001, 42000))
    start = 2000 + (pb - 2000) // 4 * 4
    free = start + (pb - start + 1) % 4  # a port of bravo's block with no mapping
    answers = [t.client("acme", "udp", NET_IP, 7001, 43000 + i) for i in range(5)]
    assert sum(not a.startswith("error") for a in answers) == 4, answers
    assert t.client("inet", "udp", "203.0.113.8", free).startswith("error")
    st = t.stats()
    assert st["bravo"]["unknown_inbound"] == 1 and st["acme"]["unknown_inbound"] == 0, st
    assert t.client("acme", "udp", "203.0.113.8", free, 43000).startswith("error")
    st = t.stats()
    assert st["acme"]["unknown_inbound"] == 1 and st["bravo"]["unknown_inbound"] == 1, st
    assert st["acme"]["blocks"] == 1 and st["bravo"]["blocks"] == 1
    assert not t.client("bravo", "udp", NET_IP, 7001, 42001).startswith("error")
    r = t.call("nat.instance.set", nat_instance("acme", pool="shared", max_blocks=2))
    assert "error" in r and "max_blocks" in r["error"]["path"], r

def test_timeouts(cleanup, tmp_path):
    """Short timeouts: a UDP exchange and a ping leave the table after their timeouts,
    and the subscriber's block is free again."""
    t = NatTopo(cleanup, tmp_path, instances=[
        nat_instance(w, udp=2, udp_single=1, icmp=2, tcp_transitory=2) for w in TENANTS])
    t.server("inet", f"udp:{NET_IP}:7001")
    peer(t.client("acme", "udp", NET_IP, 7001, 43000))
    assert t.ns["acme"].ping(NET_IP, count=1) == (1, 1)
    assert len(t.sessions("--vrf", "acme")) == 2
    tess.wait_for(lambda: t.sessions("--vrf", "acme") == [], 8, "sessions to expire")
    tess.wait_for(lambda: t.stats()["acme"]["records"] == 0, 8, "mappings to expire")
    assert t.stats()["acme"]["blocks"] == 0
    assert t.table()["expired"] >= 4


# A TCP server that holds each connection and echoes what it gets (an idle, open flow).
HOLD_SERVER = r"""
import socket, sys, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(8)
print("ready", flush=True)
def echo(c):
    while (d := c.recv(100)):
        c.sendall(d)
while True:
    threading.Thread(target=echo, args=(s.accept()[0],), daemon=True).start()
"""
# Its client: connects from a fixed port, says "up", and on each line of stdin sends it and
# prints the echo.
HOLD_CLIENT = r"""
import socket, sys
c = socket.create_connection((sys.argv[1], int(sys.argv[2])), 3, ("0.0.0.0", int(sys.argv[3])))
print("up", flush=True)
for line in sys.stdin:
    c.sendall(line.encode()); print(c.recv(100).decode().strip(), flush=True)
"""


def test_tcp_timeouts(cleanup, tmp_path):
    """TCP through NAT with a 2 s transitory timeout: a connection closed with FIN both ways
    and one refused with a reset leave the table after it, while an established connection
    idle for longer (tcp_established, 7,440 s) stays and still carries data."""
    t = NatTopo(cleanup, tmp_path, instances=[
        nat_instance(w, tcp_transitory=2, udp=2, udp_single=1, icmp=2) for w in TENANTS])
    t.server("inet", f"tcp:{NET_IP}:8000")
    srv = tess.subprocess.Popen(["ip", "netns", "exec", t.ns["inet"].name, "/usr/bin/python3",
                                 "-c", HOLD_SERVER, NET_IP, "8010"],
                                stdout=tess.subprocess.PIPE, text=True)
    cleanup.add(srv.kill)
    assert srv.stdout.readline().strip() == "ready"
    held = tess.subprocess.Popen(["ip", "netns", "exec", t.ns["acme"].name, "/usr/bin/python3",
                                  "-c", HOLD_CLIENT, NET_IP, "8010", "45000"],
                                 stdin=tess.subprocess.PIPE, stdout=tess.subprocess.PIPE,
                                 text=True)
    cleanup.add(held.kill)
    assert held.stdout.readline().strip() == "up"
    t0 = time.time()
    assert peer(t.client("acme", "tcp", NET_IP, 8000, 45001))[0] in POOL_ADDRS["acme"]  # FIN
    assert t.client("acme", "tcp", NET_IP, 8999, 45002).startswith("error")  # RST

    def tcp_ports():
        return {int(s["inside"].split(":")[1]): s["state"]
                for s in t.sessions("--vrf", "acme") if s["proto"] == "tcp"}
    first = tcp_ports()
    assert set(first) == {45000, 45001, 45002}, first
    assert first[45000] == "established" and first[45001] != "established" \
        and first[45002] != "established", first
    tess.wait_for(lambda: set(tcp_ports()) == {45000}, 8, "the closed connections to expire")
    gone = time.time() - t0
    time.sleep(max(0.0, 5 - gone))  # the open one idle for 2.5 transitory timeouts at least
    assert tcp_ports() == {45000: "established"}
    held.stdin.write("still there\n")
    held.stdin.flush()
    assert held.stdout.readline().strip() == "still there"
    held.stdin.close()
    held.wait(5)
    print(f"\nclosed TCP connections gone after {gone:.1f} s (transitory 2 s)")


def test_static_port_forward_fencing_hairpin(cleanup, tmp_path):
    """Cloned environments with the same inside address, each published on its own outside
    address (fencing); a port forward; hairpin from one tenant to the other's published
    service; unknown inbound dropped; statics added and removed at runtime."""
    t = NatTopo(cleanup, tmp_path, instances=[
        nat_instance("acme", statics=[{"outside": "203.0.113.100", "inside": IN_IP}]),
        nat_instance("bravo", statics=[{"outside": "203.0.113.101", "inside": IN_IP,
                                        "proto": "tcp", "outside_port": 8080,
                                        "inside_port": 80}])])
    for w in TENANTS:
        t.server(w, f"tcp:{IN_IP}:80", f"udp:{IN_IP}:53")
    t.server("inet", f"udp:{NET_IP}:7001")
    a = t.client("inet", "tcp", "203.0.113.100", 80)
    assert a.startswith("acme ") and peer(a)[0] == NET_IP, a
    assert t.client("inet", "udp", "203.0.113.100", 53).startswith("acme ")
    b = t.client("inet", "tcp", "203.0.113.101", 8080)
    assert b.startswith("bravo "), b
    # A port forward publishes that port only.
    assert t.client("inet", "tcp", "203.0.113.101", 80).startswith("error")
    # Outbound from a 1:1 host uses its static address; from bravo, its pool.
    assert peer(t.client("acme", "udp", NET_IP, 7001, 44000))[0] == "203.0.113.100"
    assert peer(t.client("bravo", "udp", NET_IP, 7001, 44000))[0] in POOL_ADDRS["bravo"]
    # Hairpin: acme reaches bravo's published service; bravo sees acme's outside address.
    h = t.client("acme", "tcp", "203.0.113.101", 8080, 44001)
    assert h.startswith("bravo ") and peer(h)[0] == "203.0.113.100", h
    assert t.stats()["acme"]["hairpinned"] >= 1
    # Unknown inbound to a pool address: dropped and counted.
    assert t.client("inet", "udp", "203.0.113.17", 9999).startswith("error")
    assert t.stats()["bravo"]["unknown_inbound"] >= 1
    ses = {s["outside"]: s for s in t.sessions("--vrf", "acme") if s["initiated"] == "outside"}
    assert ses["203.0.113.100:80"]["kind"] == "static", ses
    assert ses["203.0.113.100:80"]["inside"] == f"{IN_IP}:80", ses
    # Runtime: publish bravo's UDP 53 on 203.0.113.102, then remove it again.
    r = t.call("nat.static.add", {"instance": "bravo", "outside": "203.0.113.102",
                                  "inside": IN_IP, "proto": "udp", "outside_port": 53})
    assert "result" in r, r
    assert t.client("inet", "udp", "203.0.113.102", 53).startswith("bravo ")
    r = t.call("nat.static.add", {"instance": "acme", "outside": "203.0.113.102",
                                  "inside": IN_IP, "proto": "udp", "outside_port": 53})
    assert r["error"]["code"] == 17 and "already mapped" in r["error"]["message"], r
    r = t.call("nat.static.del", {"instance": "bravo", "outside": "203.0.113.102",
                                  "proto": "udp", "outside_port": 53})
    assert "result" in r, r
    assert t.client("inet", "udp", "203.0.113.102", 53, 45000).startswith("error")
    # A removed static keeps its sessions (README): an open flow's replies still come back.
    assert peer(t.client("acme", "udp", NET_IP, 7001, 44002))[0] == "203.0.113.100"
    r = t.call("nat.static.del", {"instance": "acme", "outside": "203.0.113.100"})
    assert "result" in r, r
    kept = t.client("acme", "udp", NET_IP, 7001, 44002)
    assert not kept.startswith("error") and peer(kept)[0] == "203.0.113.100", kept


def test_tenant_session_limit_and_bad_config(cleanup, tmp_path):
    """A tenant at its max_sessions gets no more (counted), the other is not affected; bad
    instances are refused with their paths and change nothing; an instance removed at
    runtime takes its sessions with it."""
    t = NatTopo(cleanup, tmp_path, instances=[nat_instance("acme", max_sessions=3),
                                              nat_instance("bravo")])
    t.server("inet", f"udp:{NET_IP}:7001")
    answers = [t.client("acme", "udp", NET_IP, 7001, 46000 + i) for i in range(5)]
    assert sum(not a.startswith("error") for a in answers) == 3, answers
    st = t.stats()
    assert st["acme"]["limit"] >= 2 and st["acme"]["sessions"] == 3
    assert t.pe.ctl("stats")["drops"]["nat"]["nat_session_limit"] >= 2
    assert all(not t.client("bravo", "udp", NET_IP, 7001, 46000 + i).startswith("error")
               for i in range(5))
    before = t.call("config.get", {})["result"]
    bad = [
        ("nat.instance.add", nat_instance("x", inside_vrf="nope"), "/params/inside_vrf"),
        ("nat.instance.add", nat_instance("x", inside_vrf="acme"), "/params/inside_vrf"),
        ("nat.instance.add", nat_instance("x", inside_vrf="inet", outside_vrf="inet"),
         "/params/outside_vrf"),
        ("nat.instance.add", nat_instance("x", inside_vrf="inet", outside_vrf="acme",
                                          pool="nope"), "/params/pool"),
        ("nat.instance.add", nat_instance("x", inside_vrf="inet", outside_vrf="acme",
                                          pool="pool-acme"), "/params/pool"),
        ("nat.static.add", {"instance": "acme", "outside": "203.0.113.1", "inside": "10.0.0.5"},
         "/params"),
        ("nat.static.add", {"instance": "acme", "outside": "203.0.113.120", "inside": "10.0.0.5",
                            "proto": "tcp"}, "/params"),
        ("nat.static.add", {"instance": "nope", "outside": "203.0.113.120", "inside": "10.0.0.5"},
         "/params/instance"),
    ]
    for method, params, path in bad:
        r = t.call(method, params)
        assert "error" in r and r["error"]["path"] == path, (params, r)
    r = t.call("nat.instance.set", nat_instance("acme", max_sessions=1 << 26))
    assert "error" in r, r
    assert t.call("config.get", {})["result"] == before
    # Limits change in place, keeping sessions.
    r = t.call("nat.instance.set", nat_instance("acme", max_sessions=10))
    assert "result" in r, r
    assert t.stats()["acme"]["sessions"] == 3
    assert not t.client("acme", "udp", NET_IP, 7001, 46010).startswith("error")
    r = t.call("nat.instance.del", {"name": "acme"})
    assert "result" in r, r
    assert t.sessions("--vrf", "acme") == []
    assert "acme" not in t.stats()
    assert t.sessions("--vrf", "bravo")
    # Once retired (a second's poll, then a grace period), its slot goes to the next instance,
    # whose counters start at 0, not at the sums the workers kept for the slot.
    time.sleep(3)
    r = t.call("nat.instance.add", nat_instance("acme2", inside_vrf="acme", pool="pool-acme"))
    assert "result" in r, r
    st = t.stats()["acme2"]
    assert st["created"] == 0 and st["translated_out"] == 0 and st["limit"] == 0, st
    assert not t.client("acme", "udp", NET_IP, 7001, 46020).startswith("error")
    assert t.stats()["acme2"]["created"] == 1
