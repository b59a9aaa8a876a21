# SPDX-License-Identifier: BSD-3-Clause
"""Tenant network onboarding: tessmgrd programs a PE tessd and a host tessd.

    acme-ent  (ns) 192.168.10.10 --tap-- PE tessd --trunk (veth, af_packet)-- host tessd (ns)
    bravo-ent (ns) 192.168.10.10 --tap--   (VRFs, interfaces, routes,          (port groups,
                                            DHCP, NAT, firewall: tessmgrd's)   desktop ports)

Both tenants use the same addresses (192.168.0.0/16). Everything on the two tessds
comes from tessmgrd; the tests read it back through the tessds' own APIs.
"""
import json
import os
import socket
import sqlite3
import subprocess
import threading
import time

import pytest

import tess
from fake_tessd import FakeTessd, read_line
from mgr import ACME, BRAVO, PROVIDER, Mgr

ENT_IP, ENT_GW, DESK_GW = "192.168.10.10", "192.168.10.1", "192.168.50.1"
VLAN = {"acme": 100, "bravo": 200}
# net_tap gives the kernel's end the port's MAC: the enterprises take their own.
ENT_MAC = {"acme": "02:00:00:00:a1:10", "bravo": "02:00:00:00:b1:10"}


class Topo:
    def __init__(self, cleanup, tmp_path):
        u = tess.uid()
        self.cleanup, self.tmp = cleanup, tmp_path
        self.ifs = {n: f"o{n}{u}"[:15] for n in ("ea", "eb", "in")}
        self.trunk_pe, self.trunk_host = tess.veth(cleanup)
        self.pe = tess.Tessd(cleanup, tmp_path, ports=[
            tess.tap_port("ent_acme", self.ifs["ea"], 0),
            tess.tap_port("ent_bravo", self.ifs["eb"], 1),
            tess.tap_port("inet", self.ifs["in"], 2),
            tess.af_packet_port("trunk", 3, self.trunk_pe, mode="trunk", all_groups=True)])
        # The PE's own part: its internet VRF and a NAT pool tenants may share.
        self.pe.config["router"] = {
            "vrfs": [{"name": "internet", "id": 4000}],
            "interfaces": [{"name": "inet", "vrf": "internet", "port": "inet",
                            "addresses": ["203.0.113.1/24"]}]}
        self.pe.config["nat"] = {"pools": [{"name": "shared", "prefix": "203.0.113.64/28"}]}
        self.host_ns = tess.Netns(cleanup)
        tess.sh("ip", "link", "set", self.trunk_host, "netns", self.host_ns.name)
        self.host_ns.run("ip", "link", "set", self.trunk_host, "up")
        self.host = tess.Tessd(cleanup, tmp_path, netns=self.host_ns, ports=[
            tess.af_packet_port("up", 0, self.trunk_host, mode="trunk", all_groups=True)])
        self.pe.start()
        self.host.start()
        self.ent = {t: tess.Netns(cleanup) for t in ("acme", "bravo")}
        self.attach_enterprises()

    def attach_enterprises(self):
        """The enterprises' ends of the PE's taps (again after a PE restart made new ones)."""
        for t, ns in self.ent.items():
            ns.attach(self.ifs["e" + t[0]], ENT_IP + "/24", mac=ENT_MAC[t])
            ns.run("ip", "route", "add", "default", "via", ENT_GW)


def network(routers=("pe1",), port="ent_acme", nat=None, **over):
    n = {"routers": list(routers),
         "enterprise": {"port": port, "address": ENT_GW + "/24",
                        "routes": [{"prefix": "10.20.0.0/16", "via": ENT_IP}]},
         "gateway": DESK_GW + "/24",
         "dhcp": {"pool_start": "192.168.50.100", "pool_end": "192.168.50.199",
                  "dns": ["192.168.10.53"], "lease_sec": 600},
         "nat": nat or {},
         "firewall": {"default": "accept",
                      "rules": [{"action": "drop", "proto": "tcp", "dport": "23"}]}}
    n.update(over)
    return n


def tenant(name, net):
    return {"name": name, "org_id": f"org-{name}", "datacenter": "paris",
            "vlan": VLAN[name], "vlan_name": f"{name}-net", "network": net}


@pytest.fixture
def topo(cleanup, tmp_path):
    return Topo(cleanup, tmp_path)


@pytest.fixture
def m(cleanup, tmp_path, topo):
    m = Mgr(cleanup, tmp_path, config={"libvirt": {"health_sec": 1}}).start()
    m.site()
    m.ok("POST", "routers", {"name": "pe1", "site": "paris", "tessd": topo.pe.socket,
                             "trunk_ports": ["trunk"], "internet_vrf": "internet"})
    m.test_host("h1", tessd=topo.host.socket, vhost_dir=m.vhost_dir())
    return m


def pe_state(pe):
    """What the PE has of each tenant, from its running config."""
    c = pe.ctl("call", "config.get")
    return {
        "vrfs": {v["name"]: v["id"] for v in c["router"]["vrfs"]},
        "ifaces": {i["name"]: (i["vrf"], i["port"] or "group " + i["group"], i["vlan"],
                               i["addresses"]) for i in c["router"]["interfaces"]},
        "groups": {g["name"]: g["vlan"] for g in c.get("switch", {}).get("groups", [])},
        "routes": {(r["vrf"], r["prefix"]): r for r in c["router"]["routes"]},
        "dhcp": {s["interface"]: s for s in c["dhcp"]["servers"]},
        "nat": {i["name"]: i for i in c["nat"]["instances"]},
        "pools": {p["name"] for p in c["nat"]["pools"]},
        "rulesets": {r["name"] for r in c["firewall"]["rulesets"]},
        "attach": {a["interface"]: a for a in c["firewall"]["attach"]},
    }


def host_groups(host):
    return {g["name"]: g["vlan"] for g in host.ctl("group", "list")}


def test_two_tenants_same_addresses_program_both_tessds(topo, m):
    m.ok("POST", "tenants", tenant("acme", network(nat={"address": "203.0.113.10"})))
    m.ok("POST", "tenants", tenant("bravo", network(port="ent_bravo",
                                                    nat={"pool": "shared", "max_blocks": 4})))
    s = pe_state(topo.pe)
    assert s["vrfs"] == {"internet": 4000, "acme": 100, "bravo": 200}
    for t, port in (("acme", "ent_acme"), ("bravo", "ent_bravo")):
        assert s["ifaces"][f"{t}-ent"] == (t, port, 0, [ENT_GW + "/24"])
        assert s["ifaces"][f"{t}-dc"] == (t, f"group {t}-net", 0, [DESK_GW + "/24"])
        assert s["groups"][f"{t}-net"] == VLAN[t]
        assert s["routes"][(t, "10.20.0.0/16")]["nexthops"][0]["via"] == ENT_IP
        assert s["routes"][(t, "0.0.0.0/0")]["target_vrf"] == "internet"
        d = s["dhcp"][f"{t}-dc"]
        assert d["pools"] == [{"start": "192.168.50.100", "end": "192.168.50.199"}]
        assert d["router"] == DESK_GW and d["dns"] == ["192.168.10.53"]
        assert d["lease_sec"] == 600
        assert s["nat"][t]["inside_vrf"] == t and s["nat"][t]["outside_vrf"] == "internet"
        assert s["attach"][f"{t}-dc"]["out"] == f"{t}-fw"
    assert s["nat"]["acme"]["pool"] == "acme-nat" and "acme-nat" in s["pools"]
    assert s["nat"]["bravo"]["pool"] == "shared" and s["nat"]["bravo"]["max_blocks"] == 4
    assert host_groups(topo.host) == {"acme-net": 100, "bravo-net": 200}
    # Each enterprise reaches its own tenant's gateway through its own VRF.
    for t in ("acme", "bravo"):
        sent, got = topo.ent[t].ping(DESK_GW, count=3)
        assert got == sent, (t, sent, got)
    # The store has it: tessmgrd restarted still knows the network, and nothing differs.
    m.stop()
    m.start()
    r = m.ok("GET", "reconcile")["tessds"]
    assert [(x["router"], x["reachable"], x["missing"], x["differs"]) for x in r["routers"]] \
        == [("pe1", True, [], [])]
    assert r["hosts"][0]["missing_groups"] == [] and r["hosts"][0]["reachable"]
    assert m.ok("GET", "tenants/acme")["network"]["nat"]["address"] == "203.0.113.10"


def test_delete_and_change_remove_and_replace_everything(topo, m):
    before = pe_state(topo.pe)
    m.ok("POST", "tenants", tenant("acme", network(nat={"address": "203.0.113.10"})))
    # A change: another enterprise route, DHCP off, no NAT: replaced in one commit.
    net = network(dhcp={}, nat={})
    net["enterprise"]["routes"] = [{"prefix": "10.30.0.0/16", "via": "192.168.10.20"}]
    m.ok("PUT", "tenants/acme", tenant("acme", net))
    s = pe_state(topo.pe)
    assert ("acme", "10.30.0.0/16") in s["routes"] and ("acme", "10.20.0.0/16") not in s["routes"]
    assert ("acme", "0.0.0.0/0") not in s["routes"] and "acme" not in s["nat"]
    assert "acme-dc" not in s["dhcp"] and "acme-nat" not in s["pools"]
    m.ok("DELETE", "tenants/acme")
    assert pe_state(topo.pe) == before
    assert host_groups(topo.host) == {}
    # A router that serves a tenant stays.
    m.ok("POST", "tenants", tenant("acme", network()))
    status, r = m.call("DELETE", "routers/pe1")
    assert status == 409 and "acme" in r["error"]["message"], r
    status, r = m.call("DELETE", "sites/paris")
    assert status == 409, r
    m.ok("DELETE", "tenants/acme")
    m.ok("DELETE", "routers/pe1")
    assert m.ok("GET", "routers") == []


def test_network_changes_stream_as_events(cleanup, topo, m):
    """GET /v1/events: a tenant network added, changed and removed ("network" events), to the
    provider and to that tenant's token only."""
    def stream(token):
        return tess.Monitor(cleanup, ["--mgr"], env=dict(os.environ, TESSMGR_URL=m.url,
                                                           TESSMGR_TOKEN=token))

    def net(change, ok=True):
        return lambda evs: any(e["event"] == "network" and e["tenant"] == "acme" and
                               e["change"] == change and e["ok"] == ok for e in evs)

    m.ok("POST", "tenants", {"name": "bravo", "org_id": "bravo", "datacenter": "paris",
                             "vlan": VLAN["bravo"], "vlan_name": "bravo-net"})
    prov, bravo = stream(PROVIDER), stream(BRAVO)
    tess.wait_for(lambda: m.ok("GET", "stats")["events"]["streams"] == 2, 10, "streams")
    m.ok("POST", "tenants", tenant("acme", network()))
    evs = prov.read_until(net("added"), 30)
    assert [e for e in evs if e["event"] == "network"][0]["tessd_steps"] >= 2, evs
    acme = stream(ACME)
    tess.wait_for(lambda: m.ok("GET", "stats")["events"]["streams"] == 3, 10, "streams")
    m.ok("PUT", "tenants/acme", tenant("acme", network(dhcp={})))
    acme.read_until(net("changed"), 30)
    m.ok("DELETE", "tenants/acme")
    prov.read_until(net("removed"), 30)
    time.sleep(0.5)
    assert not [e for e in bravo.events if e["event"] == "network"], bravo.events


def test_failed_network_change_is_told_to_the_tenant_in_general_terms(cleanup, topo, m):
    """A failed change's "network" event: the provider's stream gets the tessd's own words
    (its hosts, routers, steps), the tenant's a text of its own with the change's reference,
    which the provider finds in tessmgrd's log."""
    def stream(token):
        return tess.Monitor(cleanup, ["--mgr"], env=dict(os.environ, TESSMGR_URL=m.url,
                                                           TESSMGR_TOKEN=token))

    def failed(evs):
        return any(e["event"] == "network" and e["ok"] is False for e in evs)

    bare = tenant("bravo", {})
    del bare["network"]
    m.ok("POST", "tenants", bare)
    prov, bravo = stream(PROVIDER), stream(BRAVO)
    tess.wait_for(lambda: m.ok("GET", "stats")["events"]["streams"] == 2, 10, "streams")
    # The host refuses (its group name is taken by another VLAN).
    topo.host.ctl("group", "add", "bravo-net", "--vlan", "300")
    cleanup.add(lambda: topo.host.ctl("group", "del", "bravo-net"))
    status, r = m.call("PUT", "tenants/bravo", tenant("bravo", network(port="ent_bravo")))
    assert status == 409 and "host h1" in r["error"]["message"], r
    full = [e for e in prov.read_until(failed, 30) if e["event"] == "network"][-1]
    mine = [e for e in bravo.read_until(failed, 30) if e["event"] == "network"][-1]
    assert "host h1" in full["error"] and full["ref"] == mine["ref"], (full, mine)
    assert mine["error"] == ("the change did not reach every tessd: ask the provider about "
                             f"network change {mine['ref']}"), mine
    assert mine["tenant"] == "bravo" and mine["change"] == "changed", mine
    # How many provider tessds carry its VLAN is the provider's to know.
    assert "tessd_steps" in full and "tessd_steps" not in mine, (full, mine)
    assert f"network change {mine['ref']} of tenant bravo failed: " in m.log()


def test_failure_on_a_later_tessd_rolls_back_the_earlier(topo, m):
    before = pe_state(topo.pe)
    # The host refuses (its group name is taken by another VLAN): the PE's part is undone.
    topo.host.ctl("group", "add", "bravo-net", "--vlan", "300")
    status, r = m.call("POST", "tenants", tenant("bravo", network(port="ent_bravo")))
    assert status == 409 and "host h1" in r["error"]["message"] and \
        "1 earlier tessds undone" in r["error"]["message"], r
    assert pe_state(topo.pe) == before
    assert m.call("GET", "tenants/bravo")[0] == 404
    topo.host.ctl("group", "del", "bravo-net")
    # The host tessd down: the change fails cleanly (503), nothing left on the PE.
    topo.host.stop()
    h = m.ok("GET", "reconcile")["tessds"]["hosts"][0]
    assert h["host"] == "h1" and h["reachable"] is False and h["error"], h
    status, r = m.call("POST", "tenants", tenant("bravo", network(port="ent_bravo")))
    assert status == 503, r
    assert pe_state(topo.pe) == before and m.call("GET", "tenants/bravo")[0] == 404
    # A delete with the PE down fails too and keeps the tenant.
    topo.host.start()
    m.ok("POST", "tenants", tenant("bravo", network(port="ent_bravo")))
    topo.pe.stop()
    status, r = m.call("DELETE", "tenants/bravo")
    assert status == 503 and "router pe1" in r["error"]["message"], r
    assert host_groups(topo.host) == {"bravo-net": 200}
    assert m.ok("GET", "tenants/bravo")["network"]["routers"] == ["pe1"]


def test_bad_network_definitions_are_refused_with_paths(topo, m):
    cases = [
        (network(routers=["nope"]), 400, "/network/routers/0"),
        (network(gateway="192.168.50.0/24"), 400, "/network/gateway"),
        (network(gateway="192.168.10.7/24"), 400, "/network/gateway"),
        (network(dhcp={"pool_start": "192.168.51.1", "pool_end": "192.168.51.9"}), 400,
         "/network/dhcp/pool_start"),
        (network(dhcp={"pool_start": "192.168.50.1", "pool_end": "192.168.50.9"}), 400,
         "/network/dhcp/pool_start"),
        (network(dhcp={"pool_start": "192.168.50.9", "pool_end": "192.168.50.2"}), 400,
         "/network/dhcp/pool_end"),
        (network(dhcp={"pool_start": "192.168.50.300"}), 400, "/network/dhcp/pool_start"),
        (network(nat={"address": "203.0.113.10", "pool": "shared"}), 400, "/network/nat/pool"),
        (network(firewall={"rules": [{"action": "maybe"}]}), 400,
         "/network/firewall/rules/0/action"),
        (network(firewall={"rules": [{"action": "drop", "dport": "99999"}]}), 400,
         "/network/firewall/rules/0/dport"),
        (network(port="trunk"), 400, "/network/enterprise/port"),
        (network(port=""), 400, "/network/enterprise/port"),
        (network(bogus=1), 400, "/network/bogus"),
    ]
    routes = network()
    routes["enterprise"]["routes"] = [{"prefix": "10.20.0.0/16", "via": "10.9.9.9"}]
    cases.append((routes, 400, "/network/enterprise/routes/0/via"))
    nat_default = network(nat={"address": "203.0.113.10"})
    nat_default["enterprise"]["routes"] = [{"prefix": "0.0.0.0/0", "via": ENT_IP}]
    cases.append((nat_default, 400, "/network/enterprise/routes/0/prefix"))
    before = pe_state(topo.pe)
    for net, want, path in cases:
        status, r = m.call("POST", "tenants", tenant("acme", net))
        assert status == want and r["error"]["path"] == path, (net, r)
    # What tessd itself refuses comes back with tessd's path, and nothing is applied.
    status, r = m.call("POST", "tenants", tenant("acme", network(port="no_such_port")))
    assert status == 409 and "edits" in r["error"]["message"], r
    assert pe_state(topo.pe) == before and host_groups(topo.host) == {}
    assert m.ok("GET", "tenants") == []
    # A router's tessd is an address as a host's: unix:// or ssh://, checked alike.
    for addr in ("relative/pe.sock", "ssh://-oProxyCommand=x/pe.sock", "http://pe/x"):
        status, r = m.call("POST", "routers", {"name": "pe2", "site": "paris", "tessd": addr,
                                               "trunk_ports": ["trunk"]})
        assert status == 400 and r["error"]["path"] == "/tessd", (addr, r)
    m.ok("POST", "routers", {"name": "pe2", "site": "paris", "tessd": "unix://" + topo.pe.socket,
                             "trunk_ports": ["trunk"]})
    m.ok("DELETE", "routers/pe2")


def test_router_trunks_are_checked_on_its_tessd(topo, m):
    """A router's trunk_ports must be trunks of all groups in its tessd's own config: an
    unknown port, a port of another mode, a trunk of some groups and a port listed twice are
    refused with their path, and nothing is stored; a router stored with the old single
    trunk_port is read as a list of it."""
    body = {"name": "pe2", "site": "paris", "tessd": topo.pe.socket}
    cases = [(["trunk", "nope"], 409, "/trunk_ports/1",
              "port nope of router pe2's tessd: the tessd has no such port"),
             (["ent_acme"], 409, "/trunk_ports/0", "not a trunk of all groups"),
             (["trunk", "trunk"], 400, "/trunk_ports/1", "listed twice"),
             ([], 400, "/trunk_ports", ""),
             ([f"t{i}" for i in range(17)], 400, "/trunk_ports", "")]
    for ports, want, path, msg in cases:
        status, r = m.call("POST", "routers", {**body, "trunk_ports": ports})
        assert status == want and r["error"]["path"] == path, (ports, r)
        assert msg in r["error"]["message"], (ports, r)
    status, r = m.call("POST", "routers", {**body, "trunk_port": "trunk"})
    assert status == 400 and r["error"]["path"] == "/trunk_port", r
    # A tessd that does not answer: 503, nothing stored.
    status, r = m.call("POST", "routers", {**body, "tessd": "/nonexistent/pe.sock",
                                           "trunk_ports": ["trunk"]})
    assert status == 503 and r["error"]["path"] == "/tessd", r
    assert [x["name"] for x in m.ok("GET", "routers")] == ["pe1"]
    # A change is checked as well; the trunks of a router in use may change, its enterprise
    # ports may not become trunks.
    m.ok("POST", "tenants", tenant("acme", network()))
    pe1 = m.ok("GET", "routers/pe1")
    del pe1["id"]
    status, r = m.call("PUT", "routers/pe1", {**pe1, "trunk_ports": ["trunk", "ent_bravo"]})
    assert status == 409 and r["error"]["path"] == "/trunk_ports/1", r
    assert m.ok("GET", "routers/pe1")["trunk_ports"] == ["trunk"]
    # Its tessd stays, however it is written: the other spelling of its socket is taken.
    was = pe1["tessd"]
    other = was[len("unix://"):] if was.startswith("unix://") else "unix://" + was
    assert m.ok("PUT", "routers/pe1", {**pe1, "tessd": other})["tessd"] == other
    # Another tessd (the host's, whose trunk is "up") is refused as another internet VRF.
    for change in ({"internet_vrf": "elsewhere"}, {"tessd": topo.host.socket,
                                                   "trunk_ports": ["up"]}):
        status, r = m.call("PUT", "routers/pe1", {**pe1, **change})
        assert status == 409 and "serves tenant acme" in r["error"]["message"], (change, r)
    assert m.ok("GET", "routers/pe1")["tessd"] == other
    m.ok("PUT", "routers/pe1", pe1)
    # The store of a router from before trunk_ports: its trunk_port is the one trunk.
    m.stop()
    db = sqlite3.connect(m.config["store"])
    (body,) = db.execute("SELECT body FROM objects WHERE name = 'pe1' AND "
                         "body LIKE '%trunk_ports%'").fetchone()
    old = json.loads(body)
    old["trunk_port"] = old.pop("trunk_ports")[0]
    db.execute("UPDATE objects SET body = ? WHERE body = ?", (json.dumps(old), body))
    db.commit()
    db.close()
    m.start()
    assert m.ok("GET", "routers/pe1")["trunk_ports"] == ["trunk"]
    r = m.ok("GET", "reconcile")["tessds"]["routers"][0]
    assert r["missing"] == [] and r["differs"] == [], r


def test_restarted_tessds_get_their_state_back(topo, m):
    m.ok("POST", "tenants", tenant("acme", network()))
    m.model()
    m.quota("acme")
    d = m.desktop("a1", ACME)
    assert d["port"] in {p["name"] for p in topo.host.ctl("port", "list")}
    # The host tessd restarts empty: its group and the desktop's port come back by themselves.
    topo.host.stop()
    topo.host.start()
    tess.wait_for(lambda: d["port"] in {p["name"] for p in topo.host.ctl("port", "list")}, 30,
                  "the desktop's port back on the restarted host tessd")
    assert host_groups(topo.host) == {"acme-net": 100}
    port = {p["name"]: p for p in topo.host.ctl("port", "list")}[d["port"]]
    assert port["groups"] == ["acme-net"]
    # The PE restarts from its startup config: its tenant's VRF and the rest come back.
    topo.pe.stop()
    topo.pe.start()
    tess.wait_for(lambda: "acme" in pe_state(topo.pe)["vrfs"], 30, "acme's VRF back on the PE")
    topo.attach_enterprises()
    sent, got = topo.ent["acme"].ping(DESK_GW, count=3)
    assert got == sent
    # Drift found by GET and repaired by POST.
    topo.pe.ctl("call", "config.batch", json.dumps({"edits": [
        {"op": "del", "array": "/dhcp/servers", "match": {"interface": "acme-dc"}}]}))
    r = m.ok("GET", "reconcile")["tessds"]["routers"][0]
    assert [x["array"] for x in r["missing"]] == ["/dhcp/servers"], r
    assert "acme-dc" not in pe_state(topo.pe)["dhcp"]
    r = m.ok("POST", "reconcile")["tessds"]["routers"][0]
    assert r["repaired"] is True
    assert "acme-dc" in pe_state(topo.pe)["dhcp"]
    assert m.ok("GET", "reconcile")["tessds"]["routers"][0]["missing"] == []


def test_config_batch_is_all_or_nothing(topo):
    pe = topo.pe
    before = pe.ctl("call", "config.get")
    bad = {"edits": [
        {"op": "add", "array": "/router/vrfs", "item": {"name": "x", "id": 7}},
        {"op": "add", "array": "/router/interfaces",
         "item": {"name": "x-if", "vrf": "x", "port": "nope"}}]}
    r = pe.tessctl("call", "config.batch", json.dumps(bad), check=False)
    assert r.returncode != 0 and "/params/edits/1/item/port" in r.stderr, r.stderr
    assert pe.ctl("call", "config.get") == before
    for edits, path in (([{"op": "zap", "array": "/router/vrfs"}], "/params/edits/0/op"),
                        ([{"op": "add", "array": "/ports", "item": {}}],
                         "/params/edits/0/array"),
                        ([{"op": "del", "array": "/router/vrfs", "match": {"name": "q"}}],
                         "/params/edits/0/match"),
                        ([], "/params/edits")):
        r = pe.tessctl("call", "config.batch", json.dumps({"edits": edits}), check=False)
        assert r.returncode != 0 and path in r.stderr, (edits, r.stderr)
    good = {"edits": [
        {"op": "add", "array": "/router/vrfs", "item": {"name": "x", "id": 7}},
        {"op": "add", "array": "/router/interfaces",
         "item": {"name": "x-if", "vrf": "x", "port": "ent_acme", "addresses": ["10.0.0.1/24"]}},
        {"op": "set", "array": "/router/vrfs", "match": {"name": "x"},
         "item": {"name": "x", "id": 8}}]}
    assert pe.ctl("call", "config.batch", json.dumps(good)) == {"edits": 3}
    assert {v["name"]: v["id"] for v in pe.ctl("vrf", "list")}["x"] == 8


def test_tessctl_routers_networks_and_reconcile(topo, cleanup, tmp_path):
    m = Mgr(cleanup, tmp_path).start()
    env = dict(os.environ, TESSMGR_URL=m.url)

    def ctl(*args, check=True):
        r = subprocess.run([tess.TESSCTL, "-T", PROVIDER] + list(args), capture_output=True,
                           text=True, env=env, timeout=60)
        if check and r.returncode:
            raise AssertionError(f"{args}: {r.returncode} {r.stderr}")
        return r

    m.site()
    ctl("router", "add", "pe1", "--site", "paris", "--tessd", topo.pe.socket, "--trunks",
        "trunk", "--internet-vrf", "internet")
    out = ctl("router", "list").stdout
    assert "pe1" in out and "trunk" in out and "internet" in out
    path = os.path.join(str(tmp_path), "acme-net.json")
    with open(path, "w") as f:
        json.dump(network(), f)
    ctl("tenant", "add", "acme", "--org", "o1", "--datacenter", "paris", "--vlan", "100",
        "--vlan-name", "acme-net", "--network", path)
    assert "acme" in pe_state(topo.pe)["vrfs"]
    assert json.loads(ctl("tenant", "network", "acme").stdout)["gateway"] == DESK_GW + "/24"
    assert "router pe1: 0 missing, 0 differ" in ctl("reconcile").stdout
    with open(path, "w") as f:
        json.dump(network(gateway="192.168.50.0/24"), f)
    r = ctl("tenant", "set", "acme", "--org", "o1", "--datacenter", "paris", "--vlan", "100",
            "--vlan-name", "acme-net", "--network", path, check=False)
    assert r.returncode == 1 and "(at /network/gateway)" in r.stderr, r.stderr
    topo.pe.ctl("call", "config.batch", json.dumps({"edits": [
        {"op": "del", "array": "/firewall/attach", "match": {"interface": "acme-dc"}}]}))
    assert "router pe1: 1 missing, 0 differ" in ctl("reconcile").stdout
    assert "1 missing, 0 differ, repaired" in ctl("reconcile", "--repair").stdout
    assert "acme-dc" in pe_state(topo.pe)["attach"]


def test_desktops_get_leases_and_reach_their_enterprise(topo, m, tmp_path):
    """End to end through both tessds: a desktop on the host, in its tenant's group (made by
    tessmgrd), gets a lease from the PE's DHCP across the trunk, reaches its enterprise, and
    the enterprise reaches it; both tenants with the same MACs and addresses."""
    u = tess.uid()
    for i, t in enumerate(("acme", "bravo")):
        m.ok("POST", "tenants", tenant(t, network(port=f"ent_{t}")))
        ifc = f"od{t[0]}{u}"[:15]
        topo.host.ctl("call", "port.add", json.dumps({
            "name": f"desk_{t}", "devargs": f"net_tap{10 + i},iface={ifc}", "mode": "access",
            "group": f"{t}-net"}))
        ns = tess.peer(topo.cleanup, ifc, src=topo.host_ns, mac="02:00:00:00:d0:10")
        lease, r = ns.udhcpc(ifc, tmp_path)
        assert lease, (t, r.stdout, r.stderr)
        ip, router, dns = lease["ip"], lease["router"], lease["dns"]
        assert ip == "192.168.50.100" and router == DESK_GW and dns == "192.168.10.53", ip
        sent, got = ns.ping(ENT_IP, count=3)
        assert got == sent, (t, "desktop to enterprise")
        sent, got = topo.ent[t].ping(ip, count=3)
        assert got == sent, (t, "enterprise to desktop")
    leases = topo.pe.ctl("call", "dhcp.leases")
    assert sorted(x["interface"] for x in leases) == ["acme-dc", "bravo-dc"], leases


class HungTessd(FakeTessd):
    """A PE tessd's socket that accepts and never answers, but for the router's check of its
    trunk (config.get), the first `answers` times (None: always). What it is sent is in seen."""

    def __init__(self, cleanup, path, answers=None):
        self.answers = answers
        self.seen, self.conns = [], []
        super().__init__(cleanup, path)
        cleanup.add(self.close_conns)

    def handle(self, c):
        self.conns.append(c)
        c.settimeout(5)
        req = c.recv(65536).decode(errors="replace")
        self.seen.append(req)
        gets = sum('"config.get"' in x for x in self.seen)
        if '"config.get"' in req and (self.answers is None or gets <= self.answers):
            c.sendall(json.dumps({"id": json.loads(req)["id"], "result": {
                "ports": [{"name": "trunk", "mode": "trunk", "all_groups": True}]}})
                .encode() + b"\n")

    def close_conns(self):
        for c in self.conns:
            c.close()


def test_a_hung_tessd_holds_up_no_other_request(topo, m, cleanup, tmp_path):
    """A PE tessd that accepts and never answers: the tenant change waits for it (and then
    fails cleanly), other requests are answered meanwhile (mgr.lock is not held)."""
    path = os.path.join(str(tmp_path), "hung.sock")
    seen = HungTessd(cleanup, path).seen
    m.ok("POST", "routers", {"name": "pe-hung", "site": "paris", "tessd": path,
                             "trunk_ports": ["trunk"]})
    result = {}
    t = threading.Thread(target=lambda: result.update(r=m.call(
        "POST", "tenants", tenant("acme", network(routers=["pe-hung"])))))
    t.start()
    tess.wait_for(lambda: any("config.batch" in x for x in seen), 30,
                  "the tenant's batch sent to the hung tessd")
    assert m.ok("GET", "sites")[0]["name"] == "paris"
    assert m.ok("GET", "routers/pe1")["name"] == "pe1"
    assert t.is_alive()  # the change still waits on the hung tessd
    t.join(60)
    status, r = result["r"]
    assert status == 503 and "router pe-hung" in r["error"]["message"], r
    assert m.call("GET", "tenants/acme")[0] == 404


class RacingTessd(FakeTessd):
    """A socket in front of a real tessd that, at the first group.add, makes that group itself
    first: the other side of a race between a look (group.list) and an add, made certain."""

    def __init__(self, cleanup, tmp_path, real):
        self.real, self.raced = real, []
        super().__init__(cleanup, os.path.join(str(tmp_path), f"race{tess.uid()}.sock"))

    def forward(self, line):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(10)
            s.connect(self.real)
            s.sendall(line)
            return read_line(s)

    def handle(self, c):
        with c:
            c.settimeout(10)
            line = read_line(c).split(b"\n")[0] + b"\n"
            req = json.loads(line)
            if req["method"] == "group.add" and not self.raced:
                self.raced.append(req["params"])
                self.forward(line)  # the other side's add, which wins
            c.sendall(self.forward(line))


class HostAddingTessd(RacingTessd):
    """In front of a real tessd: at the first config.batch (a tenant change, which runs
    without the state lock), add_host() is called first, its answer kept in raced."""

    threaded = True  # the host's add looks at this tessd too

    def __init__(self, cleanup, tmp_path, real, add_host):
        self.add_host = add_host
        super().__init__(cleanup, tmp_path, real)

    def handle(self, c):
        with c:
            c.settimeout(30)
            line = read_line(c).split(b"\n")[0] + b"\n"
            if json.loads(line)["method"] == "config.batch" and not self.raced:
                self.raced.append(self.add_host())
            c.sendall(self.forward(line))


def test_a_host_added_during_a_tenant_change_fails_the_change(topo, m, tmp_path, cleanup):
    """A host on the PE's tessd, reaching the VLAN, added while the tenant's batch is on its
    way: the host's check saw no tenant yet, so the tenant is checked again before it is
    stored: refused (409 at the router, naming the host) and the PE's batch undone."""
    vhost = os.path.join(str(tmp_path), "vhost2")
    os.makedirs(vhost, exist_ok=True)
    proxy = None
    host = {"name": "h2", "site": "paris", "shared": True, "vlans": [100], "vhost_dir": vhost,
            "test_host": {"sockets": 1, "cores": 4, "threads": 2, "memory_mb": 32768}}
    proxy = HostAddingTessd(cleanup, tmp_path, topo.pe.socket,
                            lambda: m.call("POST", "hosts", dict(host, tessd=proxy.path)))
    m.ok("PUT", "routers/pe1", {"name": "pe1", "site": "paris", "tessd": proxy.path,
                                "trunk_ports": ["trunk"], "internet_vrf": "internet"})
    before = pe_state(topo.pe)
    status, r = m.call("POST", "tenants", tenant("acme", network()))
    assert proxy.raced and proxy.raced[0][0] == 201, (proxy.raced, status, r)
    assert status == 409 and r["error"]["path"] == "/network/routers/0" and \
        "host h2" in r["error"]["message"], r
    assert pe_state(topo.pe) == before and m.call("GET", "tenants/acme")[0] == 404


def test_a_group_made_between_look_and_add_is_taken_by_a_tenant_change(topo, cleanup,
                                                                       tmp_path):
    """A desktop job makes the VLAN's group on a host between the tenant change's look and
    its add: the change takes that group (not its own to undo) instead of failing with EEXIST
    and undoing the PE."""
    race = RacingTessd(cleanup, tmp_path, topo.host.socket)
    m = Mgr(cleanup, tmp_path, config={"libvirt": {"health_sec": 60}}).start()
    m.site()
    m.ok("POST", "routers", {"name": "pe1", "site": "paris", "tessd": topo.pe.socket,
                             "trunk_ports": ["trunk"], "internet_vrf": "internet"})
    m.test_host("h1", tessd=race.path, vhost_dir=m.vhost_dir())
    m.ok("POST", "tenants", tenant("acme", network()))
    assert race.raced and race.raced[0]["vlan"] == 100
    assert host_groups(topo.host) == {"acme-net": 100}
    assert pe_state(topo.pe)["vrfs"]["acme"] == 100
    # And the tenant still goes cleanly.
    m.ok("DELETE", "tenants/acme")
    assert "acme" not in pe_state(topo.pe)["vrfs"]


def test_a_group_made_between_look_and_add_is_taken_by_a_desktop_job(cleanup, tmp_path):
    """A tenant change makes the VLAN's group on a host between a desktop job's look and its
    add: the job puts the desktop's port in that group instead of failing."""
    t = tess.Tessd(cleanup, tmp_path).start()
    race = RacingTessd(cleanup, tmp_path, t.socket)
    m = Mgr(cleanup, tmp_path).start()
    m.site_h1("acme", tessd=race.path, vhost_dir=m.vhost_dir())
    a = m.desktop("a1", ACME)
    assert race.raced and race.raced[0]["vlan"] == 100
    ports = {p["name"]: p for p in t.ctl("port", "list")}
    assert ports[a["port"]]["groups"] == ["acme-net"]


def test_a_hung_tessd_in_reconcile_holds_up_no_other_request(topo, m, cleanup, tmp_path):
    """A PE tessd that answers its router's creation, then accepts and never answers: GET
    /v1/reconcile waits on it (and reports it unreachable), other requests are answered
    meanwhile (the tessds are asked without mgr.lock)."""
    path = os.path.join(str(tmp_path), "hung-rec.sock")
    seen = HungTessd(cleanup, path, answers=1).seen
    m.ok("POST", "routers", {"name": "pe-hung", "site": "paris", "tessd": path,
                             "trunk_ports": ["trunk"]})
    m.ok("POST", "tenants", tenant("acme", network()))
    result = {}
    t = threading.Thread(target=lambda: result.update(r=m.call("GET", "reconcile")))
    t.start()
    tess.wait_for(lambda: sum('"config.get"' in x for x in seen) >= 2, 30,
                  "reconcile's config.get sent to the hung tessd")
    for what in ("sites", "routers/pe1", "tenants/acme", "hosts/h1"):
        t0 = time.monotonic()
        status, _ = m.call("GET", what)
        assert status == 200 and time.monotonic() - t0 < 3, (what, time.monotonic() - t0)
    assert t.is_alive()  # the reconcile still waits on the hung tessd
    t.join(60)
    status, r = result["r"]
    assert status == 200, r
    routers = {x["router"]: x for x in r["tessds"]["routers"]}
    assert routers["pe-hung"]["reachable"] is False and routers["pe-hung"]["error"], routers
    assert routers["pe1"]["reachable"] is True and routers["pe1"]["missing"] == [], routers
    assert r["tessds"]["hosts"][0]["missing_groups"] == [], r


def test_a_tessd_both_pe_and_host_of_a_tenant_is_refused(topo, m, tmp_path):
    """A tessd that is a tenant's PE and a host reaching its VLAN: the PE batch adds the group
    by name (clashing with a group of the VLAN a desktop made) and its undo or delete takes
    the desktops' group away. The tenant is refused (409, at the router), whichever way the
    address is written; a host that does not reach the VLAN is no obstacle."""
    vhost = os.path.join(str(tmp_path), "vhost2")
    os.makedirs(vhost, exist_ok=True)
    m.test_host("h2", tessd="unix://" + topo.pe.socket, vhost_dir=vhost, vlans=(100,))
    before = pe_state(topo.pe)
    status, r = m.call("POST", "tenants", tenant("acme", network()))
    assert status == 409 and r["error"]["path"] == "/network/routers/0" and \
        "host h2" in r["error"]["message"], r
    assert pe_state(topo.pe) == before and m.call("GET", "tenants/acme")[0] == 404
    m.ok("POST", "tenants", tenant("bravo", network(port="ent_bravo")))
    assert pe_state(topo.pe)["vrfs"]["bravo"] == 200


def test_a_host_on_a_tenants_pe_tessd_is_refused(topo, m, tmp_path):
    """The other way round: with the tenant's network on pe1, a host whose tessd is pe1's and
    that reaches the tenant's VLAN is refused, whether added, given that tessd or given the
    VLAN (409 at the key that changed); nothing is stored."""
    m.ok("POST", "tenants", tenant("bravo", network(port="ent_bravo")))
    vhost = os.path.join(str(tmp_path), "vhost2")
    os.makedirs(vhost, exist_ok=True)
    body = {"name": "h2", "site": "paris", "shared": True, "vlans": [100, 200],
            "tessd": "unix://" + topo.pe.socket, "vhost_dir": vhost,
            "test_host": {"sockets": 1, "cores": 4, "threads": 2, "memory_mb": 32768}}
    status, r = m.call("POST", "hosts", body)
    assert status == 409 and r["error"]["path"] == "/tessd" and \
        "router pe1" in r["error"]["message"] and "bravo" in r["error"]["message"], r
    assert [h["name"] for h in m.ok("GET", "hosts")] == ["h1"]
    # Not reaching VLAN 200: no obstacle; gaining it is refused at the VLAN.
    m.ok("POST", "hosts", dict(body, vlans=[100]))
    status, r = m.call("PUT", "hosts/h2", dict(body, vlans=[100, 200]))
    assert status == 409 and r["error"]["path"] == "/vlans/1", r
    # h1 reaches VLAN 200 through its own tessd: moving it onto pe1's is refused.
    h1 = dict(body, name="h1", vhost_dir=m.vhost_dir(), tessd=topo.pe.socket)
    status, r = m.call("PUT", "hosts/h1", h1)
    assert status == 409 and r["error"]["path"] == "/tessd", r
    assert {h["name"]: (h["tessd"], h["vlans"]) for h in m.ok("GET", "hosts")} == {
        "h1": (topo.host.socket, [100, 200]), "h2": ("unix://" + topo.pe.socket, [100])}


class PidTessd(FakeTessd):
    """A tessd that is both a router's and a host's, played by the test: its status tells
    pid (the test changes it: a restart), its config has a trunk of all groups, and every
    method asked is kept with its time."""
    threaded = True

    def __init__(self, cleanup, path):
        self.pid, self.asked = 4242, []
        super().__init__(cleanup, path)

    def handle(self, c):
        with c:
            for line in read_line(c).splitlines():
                req = json.loads(line)
                self.asked.append((time.monotonic(), req["method"]))
                result = {
                    "status": {"pid": self.pid},
                    "config.get": {"ports": [{"name": "trunk", "mode": "trunk",
                                              "all_groups": True}]},
                    "group.list": [], "port.list": []}.get(req["method"])
                ans = {"result": result} if result is not None else \
                    {"error": {"code": 95, "message": "not here"}}
                c.sendall(json.dumps(dict(ans, id=req["id"])).encode() + b"\n")

    def since(self, t):
        return {m for at, m in self.asked if at >= t}


def test_a_tessd_both_router_and_host_is_repaired_as_both(cleanup, tmp_path):
    """A tessd that a router and a host both have, at the same address, restarts: the
    ticker repairs it as the router (config.get) and as the host (group.list), not as
    whichever of them it looked at first."""
    t = PidTessd(cleanup, os.path.join(str(tmp_path), "both.sock"))
    m = Mgr(cleanup, tmp_path, config={"libvirt": {"health_sec": 1}}).start()
    m.site()
    m.ok("POST", "routers", {"name": "pe-x", "site": "paris", "tessd": t.path,
                             "trunk_ports": ["trunk"]})
    m.test_host("h-x", tessd=t.path, vhost_dir=m.vhost_dir())
    for restart in range(2):
        start = time.monotonic()
        t.pid += 1
        tess.wait_for(lambda: {"config.get", "group.list"} <= t.since(start), 10,
                      lambda: f"both repairs after restart {restart}: {t.since(start)}")
    # Not restarted: looked at (status), not repaired again, tick after tick.
    time.sleep(0.5)  # a repair under way when the wait saw both
    start = time.monotonic()
    time.sleep(2.5)
    assert t.since(start) & {"config.get", "group.list"} == set(), t.since(start)
    assert "status" in t.since(start)
