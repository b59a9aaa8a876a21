# SPDX-License-Identifier: BSD-3-Clause
"""The firewall of a vswitch group: a rule set on the IPv4 frames a group receives from its
ports (desktops and trunk), stateful, on a host vswitch with no router at all.

    acme  (VLAN 100): a1 192.168.1.1  a2 192.168.1.2   set acme-fw (from the start)
    bravo (VLAN 200): b1 192.168.1.1  b2 192.168.1.2   no set (one attached by some tests)
    up: trunk carrying both; the far end answers ARP and ping for 192.168.1.250 per VLAN

acme-fw lets ICMP and TCP/80 from a1 to a2 through, and ICMP from the trunk's 192.168.1.250;
everything else IPv4 is dropped; replies of what it let through pass by the connection table.
One tessd for the whole file.
"""
import json
import os
import subprocess
import threading
import time

import pytest
from scapy.layers.inet import ICMP, IP, TCP
from scapy.layers.l2 import Dot1Q, Ether

import tess
from vsw_topo import IPS, MAC, UPLINK_IP, UPLINK_MAC, VlanEndpoint

A1, A2, UP = IPS[1], IPS[2], UPLINK_IP
RULES = [
    {"action": "accept", "proto": "icmp", "src": A1 + "/32", "dst": A2 + "/32"},
    {"action": "accept", "proto": "tcp", "src": A1 + "/32", "dst": A2 + "/32", "dport": "80"},
    {"action": "accept", "proto": "icmp", "src": UP + "/32"},
]
ACME_FW = {"name": "acme-fw", "default_in": "drop", "rules": RULES}
# Listens on 80 and 22, answers each connection with "ok".
SERVER = """
import socket, threading
def serve(port):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port)); s.listen(16)
    while True:
        c, _ = s.accept(); c.sendall(b"ok"); c.close()
for p in (80, 22):
    threading.Thread(target=serve, args=(p,), daemon=True).start()
threading.Event().wait()
"""
CLIENT = """
import socket, sys
try:
    c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2)
    print(c.recv(2).decode())
except OSError as e:
    print("fail", e); sys.exit(1)
"""


class Topo:
    def __init__(self, cleanup, tmp):
        u = tess.uid()
        self.cleanup = cleanup
        self.ifs = {n: f"g{n}{u}"[:15] for n in ("a1", "a2", "b1", "b2", "up")}
        group_of = {"a1": "acme", "a2": "acme", "b1": "bravo", "b2": "bravo"}
        ports = [tess.tap_port(n, self.ifs[n], k, mode="access", group=group_of[n])
                 for k, n in enumerate(("a1", "a2", "b1", "b2"))]
        ports.append(tess.tap_port("up", self.ifs["up"], 4, mode="trunk",
                                   groups=["acme", "bravo"]))
        self.tessd = tess.Tessd(cleanup, tmp, ports=ports)
        self.tessd.config["switch"] = {
            "groups": [{"name": "acme", "tenant": "Acme Corp", "vlan": 100},
                       {"name": "bravo", "tenant": "Bravo Ltd", "vlan": 200}]}
        self.tessd.config["firewall"] = {"rulesets": [ACME_FW],
                                         "groups": [{"group": "acme", "set": "acme-fw"}]}
        self.tessd.start()
        self.ns = {}
        for n in ("a1", "a2", "b1", "b2"):
            ns = tess.Netns(cleanup)
            ns.attach(self.ifs[n], IPS[int(n[1])] + "/24", mac=MAC[int(n[1])])
            self.ns[n] = ns
        up = tess.Netns(cleanup)
        up.attach(self.ifs["up"], mac="02:00:00:00:00:fe")
        self.endpoint = VlanEndpoint(up, self.ifs["up"], (100, 200))
        cleanup.add(self.endpoint.close)
        for n in ("a2", "b2"):
            p = subprocess.Popen(["ip", "netns", "exec", self.ns[n].name, "python3", "-c",
                                  SERVER], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            cleanup.add(p.kill)
        time.sleep(0.5)

    def call(self, method, params, check=True):
        r = self.tessd.tessctl("call", method, json.dumps(params), json_out=True, check=check)
        return json.loads(r.stdout) if r.returncode == 0 else r

    def connect(self, src, dst, port):
        r = self.ns[src].run("python3", "-c", CLIENT, dst, str(port), check=False)
        return r.returncode == 0 and r.stdout.strip() == "ok"

    def ping(self, src, dst, count=3, interval=0.2):
        return self.ns[src].ping(dst, count=count, interval=interval)[1]

    def groups(self):
        return {g["group"]: g for g in self.tessd.ctl("stats")["firewall_groups"]}

    def group(self, name):
        return self.groups()[name]

    def drops(self):
        return self.tessd.ctl("stats")["drops"]["firewall"]

    def set_counters(self, name):
        return next(c for c in self.tessd.ctl("firewall", "stats", "--name", name)
                    if c["direction"] == "in")

    def send(self, name, frames):
        self.ns[name].send(self.ifs[name], frames)


@pytest.fixture(scope="module")
def topo(module_cleanup, tmp_path_factory):
    return Topo(module_cleanup, tmp_path_factory.mktemp("fwg"))


@pytest.fixture(autouse=True)
def reset(topo):
    """Every test starts from acme-fw on acme, nothing on bravo, no policer."""
    yield
    topo.call("firewall.set", ACME_FW)
    topo.call("firewall.group", {"group": "acme", "set": "acme-fw"})
    if any(g["group"] == "bravo" for g in topo.tessd.ctl("config", "show")["firewall"]["groups"]):
        topo.call("firewall.group", {"group": "bravo"})
    if topo.tessd.ctl("policer", "list"):
        topo.call("policer.del", {"name": "gp"})


def test_allowed_flows_pass_with_their_replies_the_rest_is_dropped(topo):
    before, drops0 = topo.group("acme"), topo.drops().get("fw_group_drop", 0)
    assert topo.ping("a1", A2) == 3  # the echo replies pass: established
    assert topo.connect("a1", A2, 80)  # SYN-ACK and the data back: established
    assert not topo.connect("a1", A2, 22)
    assert topo.ping("a2", A1, count=2) == 0  # no rule for a2 to a1
    after = topo.group("acme")
    assert after["ruleset"] == "acme-fw" and after["vlan"] == 100
    assert after["passed"] > before["passed"]  # ARP, not filtered
    assert after["dropped"] - before["dropped"] >= 3  # 22's SYN (retried), a2's echoes
    assert topo.drops()["fw_group_drop"] - drops0 == after["dropped"] - before["dropped"]
    c = topo.set_counters("acme-fw")
    assert c["groups"] == ["acme"] and c["interfaces"] == []
    assert c["established"]["packets"] >= 3 + 2
    hits = [r["packets"] for r in c["counters"]]
    assert hits[0] >= 1 and hits[1] >= 1, hits  # later packets: established
    conn = topo.tessd.ctl("stats")["firewall_conn"]
    assert conn["groups"]["acme"] >= 2, conn
    assert topo.tessd.port_stats()["a1"]["drops"].get("fw_group_drop", 0) >= 1
    prom = topo.tessd.tessctl("metrics").stdout
    assert 'tessera_tessd_firewall_groups_dropped{group="acme",ruleset="acme-fw"}' in prom, \
        [x for x in prom.splitlines() if "firewall_groups" in x]


def test_trunk_frames_filtered_after_their_tag(topo):
    drops0 = topo.group("acme")["dropped"]
    n0 = len(topo.endpoint.seen)
    me = UPLINK_MAC[100]
    ping = (Ether(src=me, dst=MAC[2]) / Dot1Q(vlan=100) / IP(src=UP, dst=A2) /
            ICMP(type=8, id=0x4242, seq=1) / (b"x" * 32))
    ssh = (Ether(src=me, dst=MAC[2]) / Dot1Q(vlan=100) / IP(src=UP, dst=A2) /
           TCP(sport=40022, dport=22, flags="S"))
    for _ in range(3):
        topo.endpoint.send(ping)
        topo.endpoint.send(ssh)
        time.sleep(0.3)

    def replies():
        return [p for vid, inner, p in topo.endpoint.seen[n0:]
                if vid == 100 and ICMP in p and p[ICMP].type == 0 and p[ICMP].id == 0x4242]
    tess.wait_for(replies, 5, "a2's echo replies on the trunk, tagged 100")
    assert not [p for vid, _, p in topo.endpoint.seen[n0:] if TCP in p and p[TCP].sport == 22]
    assert topo.group("acme")["dropped"] - drops0 == 3


def test_other_group_unaffected_and_domains_apart(topo):
    assert topo.ping("b1", A2) == 3 and topo.ping("b2", A1) == 3
    assert topo.connect("b1", A2, 22)  # bravo has no set
    assert "bravo" not in topo.groups()
    # bravo gets a set of its own: only b2 to b1. acme's established a1 -> a2 flow, same
    # addresses and ICMP id, must not make bravo's b1 -> b2 one established.
    topo.call("firewall.set", {"name": "bravo-fw", "default_in": "drop", "rules": [
        {"action": "accept", "proto": "icmp", "src": A2 + "/32", "dst": A1 + "/32"}]})
    topo.call("firewall.group", {"group": "bravo", "set": "bravo-fw"})
    echo = IP(src=A1, dst=A2) / ICMP(type=8, id=0x5151, seq=1) / (b"y" * 16)
    est0 = topo.set_counters("acme-fw")["established"]["packets"]
    topo.send("a1", [Ether(src=MAC[1], dst=MAC[2]) / echo])
    tess.wait_for(lambda: topo.set_counters("acme-fw")["established"]["packets"] == est0 + 1,
                  5, "a2's reply as established")
    est = est0 + 1
    before = topo.group("bravo")["dropped"]
    topo.send("b1", [Ether(src=MAC[1], dst=MAC[2]) / echo] * 2)
    tess.wait_for(lambda: topo.group("bravo")["dropped"] - before == 2, 5, "bravo's drops")
    b = topo.set_counters("bravo-fw")
    assert b["established"]["packets"] == 0 and b["groups"] == ["bravo"]
    assert topo.set_counters("acme-fw")["established"]["packets"] == est
    assert topo.ping("b2", A1, count=2) == 2 and topo.ping("b1", A2, count=2) == 0
    topo.call("firewall.group", {"group": "bravo"})  # detached: all passes again
    assert topo.ping("b1", A2, count=2) == 2


def test_replacement_under_traffic_loses_nothing(topo):
    out = {}

    def flood():
        out["r"] = topo.ns["a1"].ping(A2, count=300, interval=0.01, timeout=60)

    th = threading.Thread(target=flood)
    th.start()
    n = 0
    while th.is_alive() and n < 30:
        extra = [{"action": "drop", "proto": "tcp", "dport": str(1000 + n)}]
        topo.call("firewall.set", dict(ACME_FW, rules=extra + RULES))
        n += 1
    th.join()
    assert n >= 5, n
    assert out["r"] == (300, 300), out


def test_detach_and_attach_at_runtime(topo):
    assert topo.ping("a2", A1, count=1) == 0
    topo.tessd.tessctl("firewall", "group", "acme")  # no --set: detached
    assert topo.ping("a2", A1, count=2) == 2
    assert "acme" not in topo.groups()
    topo.tessd.tessctl("firewall", "group", "acme", "--set", "acme-fw")
    assert topo.ping("a2", A1, count=1) == 0
    lst = {s["name"]: s for s in topo.tessd.ctl("firewall", "list")}
    assert lst["acme-fw"]["attached_groups"] == ["acme"]


def test_policer_and_firewall_on_one_group(topo):
    """The set runs first: what it refuses takes no policer tokens; the policer drops part
    of what it lets through."""
    topo.call("policer.set", {"name": "gp", "cir_kbps": 200, "groups": ["acme"],
                              "direction": "in"})

    def pol():
        a = next(a for a in next(p for p in topo.tessd.ctl("policer", "list")
                                 if p["name"] == "gp")["attachments"]
                 if a["object"] == "acme" and a["direction"] == "in")
        return sum(a[f"{k}_packets"] for k in ("green", "yellow", "red")), a["dropped"]

    seen0, red0 = pol()
    fw0 = topo.group("acme")["dropped"]
    # Unsolicited echo replies a1 -> a2 (accepted by the ICMP rule, never answered), and
    # SSH SYNs (refused), interleaved, 1000 bytes each.
    ok = Ether(src=MAC[1], dst=MAC[2]) / IP(src=A1, dst=A2) / ICMP(type=0, id=7) / (b"z" * 958)
    no = Ether(src=MAC[1], dst=MAC[2]) / IP(src=A1, dst=A2) / TCP(dport=22, flags="S") / (b"z" * 946)
    topo.send("a1", [ok, no] * 100)
    tess.wait_for(lambda: topo.group("acme")["dropped"] - fw0 == 100, 5, "100 SSH SYNs refused")
    time.sleep(0.3)
    seen, red = pol()
    assert 100 <= seen - seen0 <= 110, (seen - seen0)  # the accepted ones (and ARP, maybe)
    assert red - red0 > 0  # 100 kB at once is past a 200 kbit/s policer's burst


class IrbTopo:
    """acme's group with a router interface (IRB) in VRF acme, and a server routed behind it:
    a1, a2 (192.168.1.0/24, gateway .254) -- group acme -- acme-gw | acme-srv -- srv 10.9.0.10"""

    def __init__(self, cleanup, tmp):
        u = tess.uid()
        self.ifs = {n: f"i{n}{u}"[:15] for n in ("a1", "a2", "srv")}
        ports = [tess.tap_port("a1", self.ifs["a1"], 0, mode="access", group="acme"),
                 tess.tap_port("a2", self.ifs["a2"], 1, mode="access", group="acme"),
                 tess.tap_port("srv", self.ifs["srv"], 2)]
        self.tessd = tess.Tessd(cleanup, tmp, ports=ports)
        c = self.tessd.config
        c["switch"] = {"groups": [{"name": "acme", "tenant": "Acme Corp", "vlan": 100}]}
        c["router"] = {"vrfs": [{"name": "acme", "id": 10}], "interfaces": [
            {"name": "acme-gw", "vrf": "acme", "group": "acme", "addresses": ["192.168.1.254/24"]},
            {"name": "acme-srv", "vrf": "acme", "port": "srv", "addresses": ["10.9.0.1/24"]}]}
        c["firewall"] = {"rulesets": [ACME_FW], "groups": [{"group": "acme", "set": "acme-fw"}]}
        self.tessd.start()
        self.ns = {n: tess.peer(cleanup, self.ifs[n], addr + "/24", gw, mac=mac)
                   for n, addr, gw, mac in (("a1", A1, "192.168.1.254", MAC[1]),
                                            ("a2", A2, "192.168.1.254", MAC[2]),
                                            ("srv", "10.9.0.10", "10.9.0.1",
                                             "02:00:00:00:09:10"))}
        for n in ("a2", "srv"):
            p = subprocess.Popen(["ip", "netns", "exec", self.ns[n].name, "python3", "-c",
                                  SERVER], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            cleanup.add(p.kill)
        time.sleep(0.5)

    def connect(self, src, dst, port):
        r = self.ns[src].run("python3", "-c", CLIENT, dst, str(port), check=False)
        return r.returncode == 0 and r.stdout.strip() == "ok"


def test_routed_into_the_group_recorded_for_the_answers(tmp_path):
    """A connection the router brings into the group is recorded in the group's domain: the
    desktop's answers pass as established; the desktop's own new flows meet the set."""
    c = tess.Cleanup()
    try:
        t = IrbTopo(c, tmp_path)
        assert t.connect("srv", A2, 22)  # a2's SYN-ACK: no rule, established
        assert not t.connect("a2", "10.9.0.10", 22)  # a2's SYN: no rule, dropped
        assert t.connect("a1", A2, 80)  # switched, as on a host vswitch
        g = t.tessd.ctl("stats")["firewall_groups"]
        assert g[0]["group"] == "acme" and g[0]["dropped"] >= 1, g
    finally:
        assert not c.run()


def test_check_reports_groups_against_the_baseline(topo):
    """firewall check: with an `in` baseline, a group without a set is unattached (its
    switched frames meet neither), and a group's set is checked against it."""
    assert topo.tessd.ctl("firewall", "check")["compliant"] is True
    topo.call("config.batch", {"edits": [
        {"op": "add", "array": "/firewall/baseline/in",
         "item": {"action": "drop", "proto": "tcp", "src": A1 + "/32", "dport": "80"}}]})
    try:
        chk = topo.tessd.ctl("firewall", "check")
        devs = sorted((d["kind"], d.get("group") or d.get("ruleset"), d.get("rule"))
                      for d in chk["deviations"])
        # acme-fw's rule 1 (TCP 80 from a1) is the baseline's to drop; bravo has no set.
        assert devs == [("overridden", "acme-fw", 1), ("unattached", "bravo", None)], chk
        assert sorted(chk["tenants"]) == ["Acme Corp", "Bravo Ltd"] and not chk["compliant"]
        human = topo.tessd.tessctl("firewall", "check").stdout
        assert "group bravo (vlan 200)" in human and "deviations found" in human, human
        # The baseline decides first, as the check says: a1 no longer reaches a2's port 80.
        assert not topo.connect("a1", A2, 80)
    finally:
        topo.call("config.batch", {"edits": [
            {"op": "del", "array": "/firewall/baseline/in", "match": {"dport": "80"}}]})
    assert topo.tessd.ctl("firewall", "check")["compliant"] is True


def _check(tmp_path, topo, fw):
    cfg = json.loads(json.dumps(topo.tessd.config))
    cfg["control"]["socket"] = os.path.join(str(tmp_path), "chk.sock")
    cfg["firewall"] = fw
    path = os.path.join(str(tmp_path), "fwg.json")
    with open(path, "w") as f:
        json.dump(cfg, f)
    return subprocess.run([tess.TESSD, "-c", path, "--check"], capture_output=True, text=True,
                          timeout=60)


REJ = {"name": "r", "rules": [{"action": "accept", "proto": "icmp"},
                              {"action": "reject", "proto": "tcp"}]}


@pytest.mark.parametrize("fw,path,msg", [
    ({"rulesets": [ACME_FW], "groups": [{"group": "zeta", "set": "acme-fw"}]},
     "/firewall/groups/0/group", "no group named 'zeta'"),
    ({"rulesets": [ACME_FW], "groups": [{"group": "acme", "set": "nope"}]},
     "/firewall/groups/0/set", "no rule set"),
    ({"rulesets": [ACME_FW], "groups": [{"group": "acme", "set": "acme-fw"},
                                        {"group": "acme", "set": "acme-fw"}]},
     "/firewall/groups/1/group", "twice"),
    ({"rulesets": [REJ], "groups": [{"group": "acme", "set": "r"}]},
     "/firewall/groups/0/set", "rule 1 rejects"),
    ({"rulesets": [{"name": "r", "default_in": "reject"}],
      "groups": [{"group": "acme", "set": "r"}]},
     "/firewall/groups/0/set", "default_in reject"),
    ({"baseline": {"in": [{"action": "reject", "proto": "udp"}]}, "rulesets": [ACME_FW],
      "groups": [{"group": "acme", "set": "acme-fw"}]},
     "/firewall/groups/0/set", "baseline.in rule 0 rejects"),
    ({"rulesets": [ACME_FW], "groups": [{"set": "acme-fw"}]},
     "/firewall/groups/0/group", "missing"),
])
def test_bad_config_names_its_path(tmp_path, topo, fw, path, msg):
    r = _check(tmp_path, topo, fw)
    assert r.returncode == 1, r
    assert f"{path}: " in r.stderr and msg in r.stderr, r.stderr


def test_bad_requests_refused_nothing_changed(topo):
    before = topo.tessd.ctl("config", "show")["firewall"]
    r = topo.call("firewall.group", {"group": "zeta", "set": "acme-fw"}, check=False)
    assert r.returncode != 0 and "/params/group" in r.stderr and "no group" in r.stderr, r.stderr
    r = topo.call("firewall.group", {"group": "bravo", "set": "nope"}, check=False)
    assert r.returncode != 0 and "/params/set" in r.stderr, r.stderr
    r = topo.call("firewall.group", {"group": "bravo"}, check=False)
    assert r.returncode != 0 and "no rule set attached" in r.stderr, r.stderr
    # A set a group uses cannot come to reject: the replacement is refused whole.
    r = topo.call("firewall.set", dict(ACME_FW, default_in="reject"), check=False)
    assert r.returncode != 0 and "default_in reject" in r.stderr, r.stderr
    # Nor can the group go while a set names it.
    r = topo.call("group.del", {"name": "acme"}, check=False)
    assert r.returncode != 0, r.stdout
    assert topo.tessd.ctl("config", "show")["firewall"] == before
    assert topo.ping("a1", A2, count=1) == 1 and topo.ping("a2", A1, count=1) == 0
