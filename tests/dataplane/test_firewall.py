# SPDX-License-Identifier: BSD-3-Clause
"""The firewall of router interfaces: rules on each field, first match, reject answers,
default policies both ways, a rule set replaced under traffic, the provider baseline and
`firewall check`, a 10,000-rule set, bad config and API requests.

    client (ns) 10.30.1.10 --tap-- PE tessd  VRF acme:  acme-lan  10.30.1.1/24 (untagged)
                                                        acme-v300 10.30.3.1/24 (VLAN 300, same port)
    server (ns) 10.30.2.10 --tap--                      acme-wan  10.30.2.1/24
    other  (ns) 10.30.1.10 --tap--           VRF bravo: bravo-lan 10.30.1.1/24

One tessd for the whole file (rule sets are changed by API between tests); the provider's
baseline drops TCP to port 25 coming in.
"""
import json
import os
import subprocess
import threading
import time

import pytest
from scapy.layers.inet import ICMP, IP, TCP, UDP
from scapy.layers.l2 import Dot1Q, Ether

import tess

CLIENT, SERVER, LAN_GW, WAN_GW = "10.30.1.10", "10.30.2.10", "10.30.1.1", "10.30.2.1"
CLIENT_MAC = "02:00:00:00:f1:10"
BASELINE = {"in": [{"action": "drop", "proto": "tcp", "dport": "25"}]}


class Topo:
    def __init__(self, cleanup, tmp, fw_kw=None, attach=(("acme-lan", "open"),)):
        u = tess.uid()
        self.cleanup = cleanup
        self.ifs = {k: f"fw{k}{u}"[:15] for k in ("l", "w", "b")}
        ports = [tess.tap_port("p_lan", self.ifs["l"], 0),
                 tess.tap_port("p_wan", self.ifs["w"], 1),
                 tess.tap_port("p_br", self.ifs["b"], 2)]
        self.pe = tess.Tessd(cleanup, tmp, ports=ports)
        self.pe.config["router"] = {
            "vrfs": [{"name": "acme", "id": 10, "icmp_rate": 1000},
                     {"name": "bravo", "id": 20}],
            "interfaces": [
                {"name": "acme-lan", "vrf": "acme", "port": "p_lan",
                 "addresses": [LAN_GW + "/24"]},
                {"name": "acme-v300", "vrf": "acme", "port": "p_lan", "vlan": 300,
                 "addresses": ["10.30.3.1/24"]},
                {"name": "acme-wan", "vrf": "acme", "port": "p_wan",
                 "addresses": [WAN_GW + "/24"]},
                {"name": "bravo-lan", "vrf": "bravo", "port": "p_br",
                 "addresses": [LAN_GW + "/24"]},
            ]}
        self.pe.config["firewall"] = {
            "baseline": BASELINE,
            "rulesets": [{"name": "open", "default_in": "accept", "default_out": "accept"}],
            "attach": [{"interface": i, "in": r} for i, r in attach],
        }
        self.pe.config["firewall"].update(fw_kw or {})
        self.pe.start()
        self.client = self._ns(self.ifs["l"], CLIENT, LAN_GW, CLIENT_MAC)
        # Not the tap's own MAC, which net_tap gives its port too.
        self.server = self._ns(self.ifs["w"], SERVER, WAN_GW, "02:00:00:00:f2:10")
        self.other = self._ns(self.ifs["b"], CLIENT, LAN_GW, "02:00:00:00:f3:10")
        self.lan_mac = next(i["mac"] for i in self.pe.ctl("interface", "list")
                            if i["name"] == "acme-lan")
        assert self.client.ping(SERVER, count=2)[1] >= 1  # neighbours learnt both ways

    def _ns(self, ifc, ip, gw, mac):
        return tess.peer(self.cleanup, ifc, ip + "/24", gw, mac=mac)

    def set(self, rs):
        return self.call("firewall.set", rs)

    def call(self, method, params, check=True):
        r = self.pe.tessctl("call", method, json.dumps(params), json_out=True, check=check)
        return json.loads(r.stdout) if r.returncode == 0 else r

    def attach(self, iface, inp="", out=""):
        return self.call("firewall.attach", {"interface": iface, "in": inp, "out": out})

    def counters(self, name, direction="in"):
        for c in self.pe.ctl("firewall", "stats", "--name", name):
            if c["direction"] == direction:
                return c
        raise AssertionError(f"no counters of {name} {direction}")

    def hits(self, name, direction="in"):
        c = self.counters(name, direction)
        return [r["packets"] for r in c["counters"] if not r["baseline"]], c["default"]["packets"]

    def send(self, pkt, count=1):
        self.client.send(self.client.ifc, [Ether(src=CLIENT_MAC, dst=self.lan_mac) / pkt] * count)

    def drops(self):
        return self.pe.ctl("stats")["drops"]["firewall"]


@pytest.fixture(scope="module")
def topo(module_cleanup, tmp_path_factory):
    return Topo(module_cleanup, tmp_path_factory.mktemp("fw"))


@pytest.fixture(autouse=True)
def reset(topo):
    """Every test starts from the one open set on acme-lan's way in."""
    yield
    for iface in ("acme-wan", "acme-v300"):
        if any(a["interface"] == iface for a in topo.pe.ctl("config", "show")["firewall"]["attach"]):
            topo.call("firewall.attach", {"interface": iface})
    topo.attach("acme-lan", "open")


def wait_hits(topo, name, want, direction="in", timeout=5):
    tess.wait_for(lambda: topo.hits(name, direction) == want, timeout,
                  f"{name} counters {want}, have {topo.hits(name, direction)}")


def test_rules_on_each_field(topo):
    topo.set({"name": "fields", "default_in": "drop", "rules": [
        {"action": "drop", "proto": "tcp", "dport": "81"},
        {"action": "drop", "proto": "udp", "sport": "5000-5001"},
        {"action": "drop", "proto": "icmp", "icmp_type": 13, "icmp_code": 0},
        {"action": "drop", "src": "10.30.1.99/32"},
        {"action": "drop", "dst": "10.30.2.99/32"},
        {"action": "drop", "proto": "udp", "vlan": "300"},
        {"action": "drop", "interface": "acme-v300"},
        {"action": "accept", "proto": "47"},
        {"action": "accept", "src": "10.30.1.0/24", "dst": "10.30.2.0/24"},
    ]})
    topo.attach("acme-lan", "fields")
    topo.attach("acme-v300", "fields")
    ip = IP(src=CLIENT, dst=SERVER)
    topo.send(ip / TCP(sport=4000, dport=81, flags="S"))
    topo.send(ip / TCP(sport=4000, dport=80, flags="S"))  # rule 8, not 0
    topo.send(ip / UDP(sport=5001, dport=53))
    topo.send(ip / UDP(sport=5002, dport=53))  # rule 8
    topo.send(ip / ICMP(type=13, code=0))
    topo.send(ip / ICMP(type=13, code=1))  # rule 8
    topo.send(IP(src="10.30.1.99", dst=SERVER) / ICMP())
    topo.send(IP(src=CLIENT, dst="10.30.2.99") / ICMP())
    topo.send(Dot1Q(vlan=300) / IP(src="10.30.3.10", dst=SERVER) / UDP(dport=9))
    topo.send(Dot1Q(vlan=300) / IP(src="10.30.3.10", dst=SERVER) / TCP(dport=9))
    topo.send(IP(src=CLIENT, dst=SERVER, proto=47) / b"gre!")
    topo.send(IP(src=CLIENT, dst="10.30.9.9") / ICMP())  # no rule: the default
    wait_hits(topo, "fields", ([1, 1, 1, 1, 1, 1, 1, 1, 3], 1))
    assert topo.drops().get("fw_drop", 0) >= 7


def test_first_match_and_real_tools(topo):
    topo.set({"name": "order", "default_in": "accept", "rules": [
        {"action": "accept", "proto": "tcp", "dport": "8080"},
        {"action": "drop", "proto": "tcp", "dport": "8000-8100"},
    ]})
    topo.attach("acme-lan", "order")
    srv = [subprocess.Popen(["ip", "netns", "exec", topo.server.name, "nc", "-l", "-p",
                             str(p)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
           for p in (8080, 8081)]
    for p in srv:
        topo.cleanup.add(p.kill)
    time.sleep(0.3)
    ok = topo.client.run("nc", "-z", "-w", "2", SERVER, "8080", check=False)
    blocked = topo.client.run("nc", "-z", "-w", "2", SERVER, "8081", check=False)
    assert ok.returncode == 0, ok
    assert blocked.returncode != 0, blocked
    hits, _ = topo.hits("order")
    assert hits[0] >= 2 and hits[1] >= 1, hits  # 8080's SYN and ACK; 8081's SYN (retried)


def test_reject_answers_tcp_reset_and_icmp(topo):
    topo.set({"name": "rej", "default_in": "accept", "rules": [
        {"action": "reject", "proto": "tcp", "dport": "82"},
        {"action": "reject", "proto": "udp", "dport": "83"},
        {"action": "reject", "proto": "icmp", "icmp_type": 8},
    ]})
    topo.attach("acme-lan", "rej")
    t0 = time.time()
    r = topo.client.run("nc", "-z", "-w", "3", SERVER, "82", check=False)
    assert r.returncode != 0 and time.time() - t0 < 2, r  # refused at once: a reset
    s = topo.client.raw_socket(topo.client.ifc)
    try:
        s.send(bytes(Ether(src=CLIENT_MAC, dst=topo.lan_mac) / IP(src=CLIENT, dst=SERVER) /
                     TCP(sport=40000, dport=82, flags="S", seq=1000)))
        rst = tess.recv_frames(s, lambda d: TCP in Ether(d) and Ether(d)[TCP].flags.R, 1)
        assert rst, "no TCP reset"
        p = Ether(rst[0])
        assert (p[IP].src, p[TCP].sport, p[TCP].dport) == (SERVER, 82, 40000)
        assert p[TCP].ack == 1001 and p[TCP].flags.A
        s.send(bytes(Ether(src=CLIENT_MAC, dst=topo.lan_mac) / IP(src=CLIENT, dst=SERVER) /
                     UDP(sport=40000, dport=83) / b"x"))
        s.send(bytes(Ether(src=CLIENT_MAC, dst=topo.lan_mac) / IP(src=CLIENT, dst=SERVER) /
                     ICMP(type=8, id=7)))
        err = tess.recv_frames(s, lambda d: ICMP in Ether(d) and Ether(d)[ICMP].type == 3, 2)
    finally:
        s.close()
    codes = sorted(Ether(e)[ICMP].code for e in err)
    assert codes == [3, 13], codes  # port unreachable (UDP), administratively prohibited
    assert all(Ether(e)[IP].src == LAN_GW for e in err)
    st = topo.pe.ctl("stats")
    assert st["drops"]["firewall"].get("fw_reject", 0) >= 4 and st["firewall_resets_sent"] >= 2


def test_default_policies_both_ways(topo):
    # Out of acme-wan: ICMP only; everything else meets the default (drop).
    topo.set({"name": "wan-out", "default_out": "drop", "rules": [
        {"action": "accept", "proto": "icmp"}]})
    topo.attach("acme-wan", out="wan-out")
    assert topo.client.ping(SERVER, count=3, interval=0.1)[1] == 3
    r = topo.client.run("nc", "-z", "-w", "1", SERVER, "9999", check=False)
    assert r.returncode != 0
    hits, dflt = topo.hits("wan-out", "out")
    assert hits == [3] and dflt >= 1, (hits, dflt)
    # In: default reject, nothing accepted: a ping gets "prohibited" errors.
    topo.set({"name": "wan-out", "default_out": "accept"})
    topo.set({"name": "deny", "default_in": "reject"})
    topo.attach("acme-lan", "deny")
    r = topo.client.run("ping", "-c", "1", "-W", "1", SERVER, check=False)
    assert r.returncode != 0 and "filtered" in r.stdout, r.stdout  # code 13
    assert topo.hits("deny")[1] >= 1


def test_established_and_related_return_traffic(topo):
    # Nothing new comes in by acme-wan; what acme-lan's clients started comes back.
    topo.set({"name": "wan-in", "default_in": "drop"})
    topo.attach("acme-wan", "wan-in")
    assert topo.client.ping(SERVER, count=3, interval=0.1)[1] == 3
    assert topo.server.ping(CLIENT, count=2, interval=0.1)[1] == 0
    srv = subprocess.Popen(["ip", "netns", "exec", topo.server.name, "nc", "-l", "-p", "7000"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    cli = subprocess.Popen(["ip", "netns", "exec", topo.client.name, "nc", "-l", "-p", "7001"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    topo.cleanup.add(srv.kill)
    topo.cleanup.add(cli.kill)
    time.sleep(0.3)
    assert topo.client.run("nc", "-z", "-w", "2", SERVER, "7000", check=False).returncode == 0
    assert topo.server.run("nc", "-z", "-w", "1", CLIENT, "7001", check=False).returncode != 0
    c = topo.counters("wan-in")
    assert c["established"]["packets"] >= 5, c  # 3 echo replies, SYN-ACK, ...
    assert c["default"]["packets"] >= 3, c      # the server's pings and SYN
    # Related: the server's port unreachable about the client's datagram comes back.
    s = topo.client.raw_socket(topo.client.ifc)
    try:
        s.send(bytes(Ether(src=CLIENT_MAC, dst=topo.lan_mac) / IP(src=CLIENT, dst=SERVER) /
                     UDP(sport=40001, dport=9) / b"x"))
        err = tess.recv_frames(s, lambda d: ICMP in Ether(d) and Ether(d)[ICMP].type == 3, 1)
    finally:
        s.close()
    assert err and Ether(err[0])[IP].src == SERVER, err
    assert topo.counters("wan-in")["related"]["packets"] == 1
    conn = topo.pe.ctl("stats")["firewall_conn"]
    assert conn["created"] >= 3 and conn["vrfs"]["acme"] >= 1 and conn["vrfs"]["bravo"] == 0, conn


def test_connection_recorded_only_if_both_sets_accept(topo):
    # acme-lan's set lets the datagram in, acme-wan's out drops it: no connection is
    # recorded, so a reply forged from the server's side meets fwfix-in's default (drop).
    topo.set({"name": "fwfix-in", "default_in": "drop"})
    topo.set({"name": "fwfix-out", "default_out": "accept", "rules": [
        {"action": "drop", "proto": "udp", "dport": "7777"}]})
    topo.attach("acme-wan", "fwfix-in", "fwfix-out")
    wan_mac = next(i["mac"] for i in topo.pe.ctl("interface", "list")
                   if i["name"] == "acme-wan")
    topo.send(IP(src=CLIENT, dst=SERVER) / UDP(sport=40100, dport=7777) / b"q")
    wait_hits(topo, "fwfix-out", ([1], 0), "out")
    s = topo.client.raw_socket(topo.client.ifc)
    f = topo.server.raw_socket(topo.server.ifc)
    try:
        f.send(bytes(Ether(src="02:00:00:00:f2:10", dst=wan_mac) /
                     IP(src=SERVER, dst=CLIENT) / UDP(sport=7777, dport=40100) / b"a"))
        got = tess.recv_frames(s, lambda d: UDP in Ether(d) and Ether(d)[UDP].dport == 40100,
                               1, timeout=1.5)
    finally:
        s.close()
        f.close()
    assert not got, got
    c = topo.counters("fwfix-in")
    assert c["established"]["packets"] == 0 and c["default"]["packets"] >= 1, c


def test_out_set_sees_what_waits_for_arp(topo):
    # The server's neighbour flushed: the first datagram waits for ARP on the control
    # thread and is sent once it resolves; it must meet the out set all the same.
    topo.set({"name": "fwfix-slow", "default_out": "accept", "rules": [
        {"action": "drop", "proto": "udp", "dport": "7778"}]})
    topo.attach("acme-wan", out="fwfix-slow")
    srv = subprocess.Popen(["ip", "netns", "exec", topo.server.name, "timeout", "3", "nc", "-u",
                            "-l", "-p", "7778"], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL)
    topo.cleanup.add(srv.kill)
    time.sleep(0.3)
    topo.pe.ctl("neigh", "flush", "--vrf", "acme")
    topo.send(IP(src=CLIENT, dst=SERVER) / UDP(sport=40200, dport=7778) / b"first")
    out, _ = srv.communicate(timeout=10)
    assert out == b"", out
    hits, _ = topo.hits("fwfix-slow", "out")
    assert hits == [1], hits
    assert topo.client.ping(SERVER, count=2)[1] >= 1  # neighbours learnt again both ways


def test_replacement_under_traffic_loses_nothing(topo):
    rules = [{"action": "accept", "proto": "icmp"}]
    topo.set({"name": "live", "default_in": "drop", "rules": rules})
    topo.attach("acme-lan", "live")
    out = {}

    def flood():
        out["r"] = topo.client.ping(SERVER, count=400, interval=0.01, timeout=60)

    th = threading.Thread(target=flood)
    th.start()
    n = 0
    while th.is_alive() and n < 30:
        # Each version differs (its own context is built and swapped in): ICMP stays allowed.
        extra = [{"action": "drop", "proto": "tcp", "dport": str(1000 + n)}]
        topo.set({"name": "live", "default_in": "drop", "rules": extra + rules})
        n += 1
    th.join()
    assert n >= 10, n
    assert out["r"] == (400, 400), out


def test_baseline_precedes_tenant_rules_and_check(topo):
    chk = topo.pe.ctl("firewall", "check")
    assert chk["baseline_rules"] == {"in": 1, "out": 0}
    unattached = {(d["interface"], d["vrf"]) for d in chk["deviations"]
                  if d["kind"] == "unattached"}
    assert unattached == {("acme-v300", "acme"), ("acme-wan", "acme"),
                          ("bravo-lan", "bravo")}, chk
    # A tenant accepting port 25 (and some of 20-30) is overridden by the baseline's drop.
    topo.set({"name": "smtp", "default_in": "accept", "rules": [
        {"action": "accept", "proto": "tcp", "dport": "25"},
        {"action": "accept", "proto": "tcp", "dport": "20-30"},
        {"action": "drop", "proto": "tcp", "dport": "25"},
        {"action": "accept", "proto": "udp", "dport": "25"},
    ]})
    topo.attach("acme-lan", "smtp")
    for iface in ("acme-v300", "acme-wan"):
        topo.attach(iface, "open")
    chk = topo.pe.ctl("firewall", "check")
    devs = [(d["kind"], d.get("ruleset"), d.get("rule"), d.get("baseline_rule"))
            for d in chk["deviations"]]
    assert sorted(devs, key=str) == sorted([
        ("overridden", "smtp", 0, 0), ("partly_overridden", "smtp", 1, 0),
        ("unattached", None, None, None)], key=str), chk
    assert chk["tenants"] == ["acme", "bravo"] or sorted(chk["tenants"]) == ["acme", "bravo"]
    assert not chk["compliant"]
    human = topo.pe.tessctl("firewall", "check").stdout
    assert "overridden" in human and "bravo-lan" in human, human
    # Traffic: port 25 meets the baseline's drop first; the tenant's rule 0 never counts.
    topo.send(IP(src=CLIENT, dst=SERVER) / TCP(dport=25, flags="S"), count=2)
    c = topo.counters("smtp")
    tess.wait_for(lambda: topo.counters("smtp")["counters"][0]["packets"] == 2, 5,
                  "baseline hits")
    c = topo.counters("smtp")
    assert c["counters"][0]["baseline"] and c["counters"][1]["packets"] == 0, c


def test_10k_rule_set(topo):
    rules = [{"action": "drop", "proto": "tcp", "src": f"10.{40 + i // 65536}.{i // 256 % 256}."
              f"{i % 256}/32", "dport": str(1 + i % 60000)} for i in range(10000)]
    rules.append({"action": "accept"})
    path = os.path.join(topo.pe.dir, "big.json")
    with open(path, "w") as f:
        json.dump({"name": "big", "default_in": "drop", "rules": rules}, f)
    topo.set({"name": "big", "default_in": "accept"})
    topo.attach("acme-lan", "big")
    t0 = time.time()  # replacing an attached set: validated, built, swapped in
    topo.pe.tessctl("firewall", "set", path, timeout=120)
    took = time.time() - t0
    c = topo.counters("big")
    print(f"\n10,001 rules: firewall.set {took:.2f} s, rte_acl build {c['build_us'] / 1e6:.2f} s,"
          f" {c['acl_bytes'] / 2**20:.1f} MiB")
    assert c["rules"] == 10001
    # Rule 9999 (10.40.39.15 -> port 9999+1 % 60000) and the last rule, both classified.
    topo.send(IP(src="10.40.39.15", dst=SERVER) / TCP(dport=10000, flags="S"))
    assert topo.client.ping(SERVER, count=3, interval=0.1)[1] == 3
    tess.wait_for(lambda: topo.hits("big")[0][9999] == 1, 5, "rule 9999 hit")
    assert topo.hits("big")[0][10000] >= 3


def test_bad_requests_name_their_paths(topo):
    bad = [
        ({"name": "x", "rules": [{"action": "drop", "proto": "tcp", "dport": "90-80"}]},
         "/params/rules/0", "sport/dport"),
        ({"name": "x", "rules": [{"action": "drop", "proto": "icmp", "dport": "80"}]},
         "/params/rules/0", "need proto tcp or udp"),
        ({"name": "x", "rules": [{"action": "drop", "icmp_type": 3}]},
         "/params/rules/0", "need proto icmp"),
        ({"name": "x", "rules": [{"action": "drop", "proto": "gre"}]},
         "/params/rules/0", "proto gre"),
        ({"name": "x", "rules": [{"action": "drop", "src": "10.0.0.1/8"}]},
         "/params/rules/0", "host bits"),
        ({"name": "x", "rules": [{"action": "maybe"}]}, "/params/rules/0/action", "not one of"),
        ({"name": "x", "rules": [{"action": "drop", "interface": "nope"}]},
         "/params/rules/0/interface", "no interface"),
        ({"name": "x", "rules": [{"action": "drop", "vlan": "4096"}]},
         "/params/rules/0", "vlan"),
    ]
    before = topo.pe.ctl("firewall", "list")
    for params, path, msg in bad:
        r = topo.call("firewall.set", params, check=False)
        assert r.returncode != 0, params
        assert path in r.stderr and msg in r.stderr, (params, r.stderr)
    r = topo.call("firewall.attach", {"interface": "acme-wan", "in": "nope"}, check=False)
    assert r.returncode != 0 and "/params/in" in r.stderr, r.stderr
    assert topo.pe.ctl("firewall", "list") == before  # nothing half-applied


def _check_config(tmp_path, topo, fw):
    cfg = json.loads(json.dumps(topo.pe.config))
    cfg["control"]["socket"] = os.path.join(str(tmp_path), "chk.sock")
    cfg["firewall"] = fw
    path = os.path.join(str(tmp_path), "fw.json")
    with open(path, "w") as f:
        json.dump(cfg, f)
    return subprocess.run([tess.TESSD, "-c", path, "--check"], capture_output=True, text=True,
                          timeout=60)


@pytest.mark.parametrize("fw,path,msg", [
    ({"rulesets": [{"name": "a"}, {"name": "a"}]}, "/firewall/rulesets/1/name", "twice"),
    ({"rulesets": [{"name": "a"}], "attach": [{"interface": "acme-lan", "in": "a"},
                                               {"interface": "acme-lan", "out": "a"}]},
     "/firewall/attach/1/interface", "twice"),
    ({"attach": [{"interface": "acme-lan", "in": "zz"}]}, "/firewall/attach/0/in",
     "no rule set"),
    ({"attach": [{"interface": "acme-lan"}]}, "/firewall/attach/0", "attaches no rule set"),
    ({"max_rules": 1, "rulesets": [{"name": "a", "rules": [{"action": "drop"}] * 2}]},
     "/firewall/rulesets/0/rules", "max_rules"),
    ({"rule_capacity": 3, "rulesets": [{"name": "a", "rules": [{"action": "drop"}] * 2},
                                       {"name": "b", "rules": [{"action": "drop"}] * 2}]},
     "/firewall/rulesets/1/rules", "rule_capacity"),
    ({"max_vrf_rules": 3, "rulesets": [{"name": "a", "rules": [{"action": "drop"}] * 2},
                                       {"name": "b", "rules": [{"action": "drop"}] * 2}],
      "attach": [{"interface": "acme-lan", "in": "a", "out": "a"},
                 {"interface": "bravo-lan", "in": "b"},
                 {"interface": "acme-wan", "in": "b"}]},
     "/firewall/attach/2", "max_vrf_rules"),
    ({"baseline": {"in": [{"action": "drop", "dport": "80"}]}}, "/firewall/baseline/in/0",
     "need proto"),
])
def test_bad_config_names_its_path(tmp_path, topo, fw, path, msg):
    r = _check_config(tmp_path, topo, fw)
    assert r.returncode == 1, r
    assert f"{path}: " in r.stderr and msg in r.stderr, r.stderr


def test_vrf_connection_limit(tmp_path):
    """firewall.conn_vrf_limit end to end (its own tessd: the limit is config): acme opening
    more flows than its share records exactly the share, counts the rest (tenant_limit) and
    still forwards them by its rules; their replies are not established, so acme-wan's
    default drops them while the recorded flows' replies come back; bravo's flows are
    recorded all the same."""
    c = tess.Cleanup()
    try:
        sets = [{"name": "open", "default_in": "accept", "default_out": "accept"},
                {"name": "wan-drop", "default_in": "drop"}]
        t = Topo(c, tmp_path, fw_kw={"conn_vrf_limit": 6, "rulesets": sets}, attach=(("acme-lan", "open"), ("acme-wan", "wan-drop"), ("bravo-lan", "open")))
        _vrf_limit(t)
    finally:
        assert not c.run()


def _vrf_limit(t):
    base = t.pe.ctl("stats")["firewall_conn"]
    assert base["vrf_limit"] == 6 and base["tenant_limit"] == 0, base
    room = 6 - base["vrfs"]["acme"]  # the topology's first pings hold one
    assert 0 < room <= 6 and base["vrfs"]["bravo"] == 0, base
    over = 3
    est0 = t.counters("wan-drop")["established"]["packets"]  # the first pings' replies
    sports = [42000 + i for i in range(room + over)]
    wan_mac = next(i["mac"] for i in t.pe.ctl("interface", "list") if i["name"] == "acme-wan")
    srv = t.server.raw_socket(t.server.ifc)
    cli = t.client.raw_socket(t.client.ifc)
    try:
        for sp in sports:  # one datagram a flow, in order: the last `over` find no room
            t.send(IP(src=CLIENT, dst=SERVER) / UDP(sport=sp, dport=7100) / b"q")
            time.sleep(0.02)
        got = tess.recv_frames(srv, lambda d: UDP in Ether(d) and Ether(d)[UDP].dport == 7100,
                               len(sports))
        # Past the limit the rules still decide: every flow reached the server.
        assert sorted(Ether(d)[UDP].sport for d in got) == sports, got
        tess.wait_for(lambda: t.pe.ctl("stats")["firewall_conn"]["tenant_limit"] >= over, 5,
                      "tenant_limit")
        conn = t.pe.ctl("stats")["firewall_conn"]
        assert conn["tenant_limit"] == over and conn["vrfs"]["acme"] == 6, conn
        assert conn["table_full"] == 0, conn
        # The server answers every flow: only the recorded ones' replies come back in.
        for sp in sports:
            srv.send(bytes(Ether(src="02:00:00:00:f2:10", dst=wan_mac) /
                           IP(src=SERVER, dst=CLIENT) / UDP(sport=7100, dport=sp) / b"a"))
        back = tess.recv_frames(cli, lambda d: UDP in Ether(d) and Ether(d)[UDP].sport == 7100,
                                len(sports), timeout=2)
    finally:
        srv.close()
        cli.close()
    assert sorted(Ether(d)[UDP].dport for d in back) == sports[:room], back
    wan = t.counters("wan-drop")
    assert wan["established"]["packets"] - est0 == room and wan["default"]["packets"] >= over, wan
    # bravo has its own share: its flows are recorded while acme is at its limit.
    o = t.other.raw_socket(t.other.ifc)
    bravo_mac = next(i["mac"] for i in t.pe.ctl("interface", "list")
                     if i["name"] == "bravo-lan")
    try:
        for sp in range(43000, 43004):
            o.send(bytes(Ether(src="02:00:00:00:f3:10", dst=bravo_mac) /
                         IP(src=CLIENT, dst=LAN_GW) / UDP(sport=sp, dport=9) / b"b"))
    finally:
        o.close()
    tess.wait_for(lambda: t.pe.ctl("stats")["firewall_conn"]["vrfs"]["bravo"] == 4, 5,
                  "bravo's flows recorded")
    conn = t.pe.ctl("stats")["firewall_conn"]
    assert conn["tenant_limit"] == over and conn["vrfs"]["acme"] == 6, conn


def test_a_deleted_vrfs_connections_go_with_it(cleanup, tmp_path):
    """A VRF's connections are keyed by its id: deleted, they go, so a VRF given that id later
    (another tenant, perhaps with the same addresses) takes none of them as established (its
    own tessd: VRFs are deleted)."""
    t = Topo(cleanup, tmp_path)
    assert t.client.ping(SERVER, count=2, interval=0.1)[1] == 2
    assert t.pe.ctl("stats")["firewall_conn"]["vrfs"]["acme"] >= 1
    t.call("firewall.attach", {"interface": "acme-lan"})
    for name in ("acme-lan", "acme-v300", "acme-wan"):
        t.call("interface.del", {"name": name})
    t.call("vrf.del", {"name": "acme"})
    t.call("vrf.add", {"name": "carol", "id": 10})
    conn = t.pe.ctl("stats")["firewall_conn"]
    assert conn["vrfs"] == {"bravo": 0, "carol": 0}, conn
