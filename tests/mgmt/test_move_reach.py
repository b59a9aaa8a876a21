# SPDX-License-Identifier: BSD-3-Clause
"""Reach after a move (issue 13): one PE tessd with a trunk per site, a host tessd at each
site, and a desktop that moves between them while its enterprise pings it.

    acme-ent  (ns) --tap--+                +--trunk1 (veth)-- h1 tessd (ns, site paris)
    bravo-ent (ns) --tap--+-- PE tessd ----+                      desktops (tap -> ns)
                          (VRF, group       +--trunk2 (veth)-- h2 tessd (ns, site lyon)
                           VLAN-NAME + IRB)                       desktops (tap -> ns)

The desktop is simulated: a namespace with the desktop's MAC (tessmgrd's, from the test
driver's domain) on a tap port of the host tessd in the tenant's group. It moves silently
(same MAC and address, no gratuitous ARP, no IPv6): the PE finds it at its new trunk only
because tessmgrd makes the switches forget where it was.
"""
import json
import os
import re
import shutil
import subprocess
import time

import pytest

import tess
from mgr import ACME, BASE_IMAGE, BRAVO, TESSMGRD, Mgr

ENT_IP, ENT_GW, DESK_GW = "192.168.10.10", "192.168.10.1", "192.168.50.1"
DESK_IP = "192.168.50.100"
VLAN = {"acme": 100, "bravo": 200}
ENT_MAC = {"acme": "02:00:00:00:a1:10", "bravo": "02:00:00:00:b1:10"}
TOKEN = {"acme": ACME, "bravo": BRAVO}


def network(tenant, **over):
    n = {"routers": ["pe1"],
         "enterprise": {"port": f"ent_{tenant}", "address": ENT_GW + "/24",
                        "routes": [{"prefix": "10.20.0.0/16", "via": ENT_IP}]},
         "gateway": DESK_GW + "/24",
         "dhcp": {"pool_start": DESK_IP, "pool_end": "192.168.50.199", "lease_sec": 600},
         "firewall": {"default": "accept",
                      "rules": [{"action": "drop", "proto": "tcp", "dport": "23"}]}}
    n.update(over)
    return n

TCP_PROBE = """
import socket, sys
s = socket.socket()
s.settimeout(1.5)
try:
    s.connect((sys.argv[1], int(sys.argv[2])))
    print("open")
except ConnectionRefusedError:
    print("refused")
except socket.timeout:
    print("timeout")
"""


class World:
    def __init__(self, cleanup, tmp_path):
        self.cleanup, self.tmp = cleanup, str(tmp_path)
        u = tess.uid()
        self.u = u
        self.ifs = {n: f"r{n}{u}"[:15] for n in ("ea", "eb")}
        self.trunks = {h: tess.veth(cleanup) for h in ("h1", "h2")}
        self.pe = tess.Tessd(cleanup, tmp_path, ports=[
            tess.tap_port("ent_acme", self.ifs["ea"], 0),
            tess.tap_port("ent_bravo", self.ifs["eb"], 1),
            tess.af_packet_port("trunk1", 2, self.trunks["h1"][0], mode="trunk",
                                all_groups=True),
            tess.af_packet_port("trunk2", 3, self.trunks["h2"][0], mode="trunk",
                                all_groups=True)])
        self.pe.start()
        self.ns, self.host = {}, {}
        for h in ("h1", "h2"):
            ns = tess.Netns(cleanup)
            peer = self.trunks[h][1]
            tess.sh("ip", "link", "set", peer, "netns", ns.name)
            ns.run("ip", "link", "set", peer, "up")
            self.ns[h] = ns
            self.host[h] = tess.Tessd(cleanup, tmp_path, netns=ns, ports=[
                tess.af_packet_port("up", 0, peer, mode="trunk", all_groups=True)]).start()
        self.ent = {t: tess.peer(cleanup, self.ifs["e" + t[0]], ENT_IP + "/24", ENT_GW,
                                 mac=ENT_MAC[t]) for t in ("acme", "bravo")}
        # tessmgrd: a site per host, each with its storage holding the same base image.
        self.m = m = Mgr(cleanup, tmp_path, config={"libvirt": {"health_sec": 1}})
        m.start()
        base0 = os.path.join(m.storage, BASE_IMAGE)
        for h, site in (("h1", "paris"), ("h2", "lyon")):
            st = os.path.join(self.tmp, f"storage-{site}")
            os.makedirs(st, exist_ok=True)
            shutil.copy2(base0, os.path.join(st, BASE_IMAGE))
            m.site(site, 48.85 if site == "paris" else 45.76, 2.35 if site == "paris" else 4.83,
                   (f"10.{1 if site == 'paris' else 2}.0.0/16",), storage=st)
            vhost = os.path.join(self.tmp, f"vhost-{h}")
            os.makedirs(vhost, exist_ok=True)
            m.test_host(h, site=site, tessd=self.host[h].socket, vhost_dir=vhost)
        m.ok("POST", "routers", {"name": "pe1", "site": "paris", "tessd": self.pe.socket,
                                 "trunk_ports": ["trunk1", "trunk2"]})
        m.model()
        self.taps = 0

    def tenant(self, t):
        self.m.ok("POST", "tenants", {"name": t, "org_id": f"org-{t}", "datacenter": "paris",
                                      "vlan": VLAN[t], "vlan_name": f"{t}-net",
                                      "network": network(t)})
        self.m.quota(t)

    def desktop(self, t, name):
        d = self.m.desktop(name, TOKEN[t])
        return self.m.ok("GET", f"desktops/{d['id']}", token=TOKEN[t])

    def plug(self, desk_ns, host, t, mac, addr=None):
        """The simulated desktop's NIC: a tap port of host's tessd in t's group, moved into
        desk_ns with mac; silent: no IPv6, the gateway's MAC given, no gratuitous ARP."""
        self.taps += 1
        ifc = f"rd{self.taps}{self.u}"[:15]
        self.host[host].ctl("call", "port.add", json.dumps({
            "name": f"sim_{t}", "devargs": f"net_tap{10 + self.taps},iface={ifc}",
            "mode": "access", "group": f"{t}-net"}))
        tess.sh("ip", "link", "set", ifc, "netns", desk_ns.name, ns=self.ns[host].name)
        desk_ns.run("sysctl", "-qw", f"net.ipv6.conf.{ifc}.disable_ipv6=1")
        desk_ns.run("ip", "link", "set", ifc, "address", mac)
        if addr:
            desk_ns.run("ip", "addr", "add", addr + "/24", "dev", ifc)
            desk_ns.run("ip", "neigh", "replace", DESK_GW, "lladdr", self.irb_mac(t), "nud",
                        "permanent", "dev", ifc)
        desk_ns.run("ip", "link", "set", ifc, "up")
        if addr:
            desk_ns.run("ip", "route", "replace", "default", "via", DESK_GW, "dev", ifc)
        return ifc

    def unplug(self, host, t):
        self.host[host].ctl("call", "port.del", json.dumps({"name": f"sim_{t}"}))

    def lease(self, desk_ns, ifc):
        lease, r = desk_ns.udhcpc(ifc, self.tmp)
        assert lease, (r.stdout, r.stderr)
        return lease["ip"]

    def irb_mac(self, t):
        return next(i["mac"] for i in self.pe.ctl("interface", "list")
                    if i["name"] == f"{t}-dc").lower()

    def fdb(self, tessd, group):
        return {e["mac"].lower(): e["port"] for e in
                tessd.ctl("call", "fdb.show", json.dumps({"group": group}))}


class Pinger:
    """ping -D at 10/s from an enterprise; the times of the replies."""

    def __init__(self, cleanup, ns, dst, path):
        self.path = path
        self.f = open(path, "w")
        self.p = subprocess.Popen(["ip", "netns", "exec", ns.name, "ping", "-n", "-D", "-i",
                                   "0.1", "-W", "1", dst], stdout=self.f,
                                  stderr=subprocess.STDOUT)
        cleanup.add(self.stop)

    def stop(self):
        if self.p.poll() is None:
            self.p.terminate()
            self.p.wait(10)
        self.f.close()

    def answered(self):
        """(time, icmp_seq) of each reply."""
        with open(self.path) as f:
            return [(float(t), int(q)) for t, q in re.findall(
                r"^\[(\d+\.\d+)\] \d+ bytes from .*icmp_seq=(\d+)", f.read(), re.M)]

    def replies_since(self, t0):
        return [t for t, _ in self.answered() if t >= t0]


@pytest.fixture
def w(cleanup, tmp_path):
    return World(cleanup, tmp_path)


def wait_replies(p, since, n, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        got = p.replies_since(since)
        if len(got) >= n:
            return got
        time.sleep(0.05)
    return p.replies_since(since)


def test_desktop_moved_silently_is_reached_at_its_new_site(w, cleanup):
    """The enterprise pings the desktop 10 times a second; it goes down on h1 (paris),
    tessmgrd migrates it to h2 (lyon) and it comes back there with its MAC and address,
    saying nothing: pings resume within 2 s, because tessmgrd had the PE (and h2) forget the
    MAC. Its DHCP lease follows it (same MAC, same address); the desktop's old entry on the
    PE is gone once the job is done (without the forget it would stay for switch.aging_sec,
    300 s, and every frame for the desktop would go to paris)."""
    w.tenant("acme")
    d = w.desktop("acme", "a1")
    src = d["host"]
    dst, old_trunk, new_trunk = ("h2", "trunk1", "trunk2") if src == "h1" else \
        ("h1", "trunk2", "trunk1")
    mac = d["mac"].lower()
    desk = tess.Netns(cleanup)
    ifc = w.plug(desk, src, "acme", mac)
    assert w.lease(desk, ifc) == DESK_IP
    desk.run("ip", "neigh", "replace", DESK_GW, "lladdr", w.irb_mac("acme"), "nud",
             "permanent", "dev", ifc)
    p = Pinger(cleanup, w.ent["acme"], DESK_IP, os.path.join(w.tmp, "ping-acme"))
    t0 = time.time()
    assert len(wait_replies(p, t0, 10, 10)) >= 10, "pings before the move"
    assert w.fdb(w.pe, "acme-net").get(mac) == old_trunk
    # The flooded DHCP broadcast taught the other host the MAC on its uplink.
    assert w.fdb(w.host[dst], "acme-net").get(mac) == "up"
    forgets = w.m.ok("GET", "stats")["network"]["fdb_forgets"]

    # Down at paris (its NIC gone), moved by tessmgrd, up at lyon.
    w.unplug(src, "acme")
    down = time.time()
    r = w.m.ok("POST", f"desktops/{d['id']}/migrate", {"host": dst})
    assert w.m.wait_job(r["job"]["id"])["state"] == "succeeded"
    assert w.m.ok("GET", f"desktops/{d['id']}", token=ACME)["host"] == dst
    # tessmgrd made the PE and the new host forget it; the pings meanwhile teach nothing.
    assert mac not in w.fdb(w.pe, "acme-net")
    assert mac not in w.fdb(w.host[dst], "acme-net")
    assert w.m.ok("GET", "stats")["network"]["fdb_forgets"] >= forgets + 2
    assert not p.replies_since(down + 0.5), "replies while the desktop was down"
    ifc = w.plug(desk, dst, "acme", mac, addr=DESK_IP)
    up = time.time()
    got = wait_replies(p, up, 5, 10)
    assert got and got[0] - up < 2.0, ("pings resumed", got[:1], up)
    print(f"pings resumed {got[0] - up:.3f} s after the desktop came back")
    assert w.fdb(w.pe, "acme-net").get(mac) == new_trunk
    # Loss only while it was down: every ping since it came back is answered.
    time.sleep(2)
    seqs = [q for t, q in p.answered() if t >= got[0]]
    assert len(seqs) >= 10 and seqs == list(range(seqs[0], seqs[0] + len(seqs))), seqs
    # Its lease follows it: the same address for the same MAC, from the same server.
    assert w.lease(desk, ifc) == DESK_IP
    leases = [x for x in w.pe.ctl("call", "dhcp.leases") if x["interface"] == "acme-dc"]
    assert [(x["address"], x["mac"].lower()) for x in leases] == [(DESK_IP, mac)], leases
    p.stop()


def test_two_tenants_same_addresses_isolated_across_trunks(w, cleanup):
    """acme's and bravo's desktops with the same MAC and address, at paris and lyon, then
    both at lyon (acme's moved): each enterprise reaches its own, no frame crosses."""
    mac = "02:00:00:00:d0:10"
    desks = {}
    for t, host in (("acme", "h1"), ("bravo", "h2")):
        w.tenant(t)
        ns = tess.Netns(cleanup)
        ifc = w.plug(ns, host, t, mac)
        assert w.lease(ns, ifc) == DESK_IP
        desks[t] = (ns, ifc)
    assert w.fdb(w.pe, "acme-net").get(mac) == "trunk1"
    assert w.fdb(w.pe, "bravo-net").get(mac) == "trunk2"

    def rx(t):
        ns, ifc = desks[t]
        out = ns.run("cat", f"/sys/class/net/{ifc}/statistics/rx_packets").stdout
        return int(out)

    def only_own(t, other):
        before = rx(other)
        sent, got = w.ent[t].ping(DESK_IP, count=20, interval=0.05)
        assert got == sent, (t, sent, got)
        assert rx(other) - before < 3, (t, "reached", other)

    only_own("acme", "bravo")
    only_own("bravo", "acme")
    # acme's desktop moves to lyon (by hand, not by tessmgrd: it speaks first), next to
    # bravo's: the same MAC and address on one trunk, in two VLANs.
    w.unplug("h1", "acme")
    ns, _ = desks["acme"]
    desks["acme"] = (ns, w.plug(ns, "h2", "acme", mac, addr=DESK_IP))
    assert ns.ping(DESK_GW, count=3)[1] >= 2  # the first reply may race the PE's learning
    only_own("acme", "bravo")
    only_own("bravo", "acme")
    assert w.fdb(w.pe, "acme-net").get(mac) == "trunk2"
    assert w.fdb(w.pe, "bravo-net").get(mac) == "trunk2"
    # The firewall on the IRB gateway: TCP port 23 toward the desktops dropped, 22 let through
    # (the desktop, listening on neither, refuses it).
    for port, want in ((22, "refused"), (23, "timeout")):
        r = w.ent["acme"].run("python3", "-c", TCP_PROBE, DESK_IP, str(port))
        assert r.stdout.strip() == want, (port, r.stdout, r.stderr)


def test_reconcile_repairs_a_deleted_pe_group(w):
    """The tenant's group on the PE deleted behind tessmgrd's back (with what stands on it):
    reconcile names it missing and puts it all back; the desktops' side works again."""
    w.tenant("acme")
    w.pe.ctl("call", "config.batch", json.dumps({"edits": [
        {"op": "del", "array": "/firewall/attach", "match": {"interface": "acme-dc"}},
        {"op": "del", "array": "/dhcp/servers", "match": {"interface": "acme-dc"}},
        {"op": "del", "array": "/router/interfaces", "match": {"name": "acme-dc"}},
        {"op": "del", "array": "/switch/groups", "match": {"name": "acme-net"}}]}))
    r = w.m.ok("GET", "reconcile")["tessds"]["routers"][0]
    assert sorted(x["array"] for x in r["missing"]) == [
        "/dhcp/servers", "/firewall/attach", "/router/interfaces", "/switch/groups"], r
    r = w.m.ok("POST", "reconcile")["tessds"]["routers"][0]
    assert r["repaired"] is True, r
    assert {g["name"]: g["vlan"] for g in w.pe.ctl("group", "list")} == {"acme-net": 100}
    assert w.m.ok("GET", "reconcile")["tessds"]["routers"][0]["missing"] == []
    sent, got = w.ent["acme"].ping(DESK_GW, count=3)
    assert got == sent
    # A trunk the operator made a trunk of some groups only: reported, not changed.
    assert w.m.ok("GET", "reconcile")["tessds"]["routers"][0]["trunks"] == []
    w.pe.ctl("call", "port.set", json.dumps({"name": "trunk2", "mode": "trunk",
                                             "all_groups": False, "groups": ["acme-net"]}))
    r = w.m.ok("POST", "reconcile")["tessds"]["routers"][0]
    assert [x["port"] for x in r["trunks"]] == ["trunk2"], r
    assert "not a trunk of all groups" in r["trunks"][0]["error"], r


def test_a_move_rolled_back_is_forgotten_too(w, cleanup):
    """A cold move that fails once the desktop has started at the target (a fault injected
    there) goes back to the source: tessmgrd has the PE and the source host forget the MAC
    then as well, since the desktop may have spoken from the target meanwhile."""
    r = subprocess.run([TESSMGRD, "--fault-points"], capture_output=True, text=True,
                       timeout=30)
    if r.returncode or "migrate.after_start" not in r.stdout.split():
        pytest.skip("tessmgrd built without -Dfault_points=true")
    w.tenant("acme")
    d = w.desktop("acme", "a1")
    src = d["host"]
    dst = "h2" if src == "h1" else "h1"
    mac = d["mac"].lower()
    desk = tess.Netns(cleanup)
    ifc = w.plug(desk, src, "acme", mac)
    assert w.lease(desk, ifc) == DESK_IP
    assert mac in w.fdb(w.pe, "acme-net")
    w.m.stop()
    w.m.env = {"TESS_FAULT": "migrate.after_start:fail"}
    w.m.start()
    forgets = w.m.ok("GET", "stats")["network"]["fdb_forgets"]
    r = w.m.ok("POST", f"desktops/{d['id']}/migrate", {"host": dst})
    j = w.m.wait_job(r["job"]["id"])
    assert j["state"] == "failed" and "migrate.after_start" in j["error"], j
    assert w.m.ok("GET", f"desktops/{d['id']}", token=ACME)["host"] == src
    assert mac not in w.fdb(w.pe, "acme-net")
    assert w.m.ok("GET", "stats")["network"]["fdb_forgets"] >= forgets + 2
    # Still where it was, it is reached again as soon as it speaks.
    assert desk.ping(DESK_GW, count=3)[1] >= 2
    assert w.fdb(w.pe, "acme-net").get(mac) == ("trunk1" if src == "h1" else "trunk2")


def test_a_pe_down_during_a_move_fails_nothing(w):
    """The PE does not answer when the move is done: the move succeeds all the same, the
    forget is counted as failed and tried again at each tick until the PE is back."""
    w.tenant("acme")
    d = w.desktop("acme", "a1")
    dst = "h2" if d["host"] == "h1" else "h1"
    w.pe.stop()
    r = w.m.ok("POST", f"desktops/{d['id']}/migrate", {"host": dst})
    assert w.m.wait_job(r["job"]["id"])["state"] == "succeeded"
    st = w.m.ok("GET", "stats")["network"]
    assert st["fdb_forget_failed"] >= 1 and st["fdb_forgets_pending"] == 1, st
    assert "forgetting " + d["mac"] in w.m.log()
    w.pe.start()
    tess.wait_for(lambda: w.m.ok("GET", "stats")["network"]["fdb_forgets_pending"] == 0, 15,
                  "the forget retried once the PE is back")
