# SPDX-License-Identifier: BSD-3-Clause
"""Each desktop's IPv4 address: tessmgrd gives a desktop of a tenant with DHCP the lowest free
address of the pool, the PE's DHCP server reserves it for the desktop's MAC, and the desktop's
port on its host tessd takes no other IPv4 source nor ARP sender. On test_move_reach's world
(one PE, two host tessds); the desktop's traffic comes from a namespace on a tap port made as
tessmgrd made the desktop's port."""
import json
import os
import subprocess

from scapy.layers.l2 import ARP, Ether

import tess
from mgr import ACME, PROVIDER
from test_move_reach import DESK_GW, DESK_IP, network, w  # noqa: F401  (w: the fixture)
from test_tasks import lines, recorder, task

DESK_IP2 = "192.168.50.101"


def reservations(pe):
    """acme's reservations on the PE: (MAC, address, host name) each; None: no server."""
    s = [s for s in pe.ctl("call", "config.get")["dhcp"]["servers"]
         if s["interface"] == "acme-dc"]
    return [(r["mac"], r["address"], r["hostname"]) for r in s[0]["reservations"]] if s \
        else None


def host_port(host, name):
    (p,) = [p for p in host.ctl("call", "config.get")["ports"] if p["name"] == name]
    return p


def desktops(w, *names):
    return [w.desktop("acme", n) for n in names]


def test_desktops_get_addresses_reserved_and_their_ports_locked(w, cleanup, tmp_path):
    """Two desktops get the pool's first two addresses, reserved on the PE for their MACs;
    each port takes its desktop's address only. A desktop on such a port gets its address
    from DHCP and cannot send from its neighbour's, nor claim it in ARP. A delete frees the
    address for the next desktop. Workflow tasks see it as ${ip}."""
    w.tenant("acme")
    rec, log = recorder(tmp_path)
    w.m.ok("POST", "tasks", task("ip", "after_create", rec, ["${desktop}", "${ip}"]))
    d1, d2 = desktops(w, "a1", "a_2")
    assert (d1["address"], d2["address"]) == (DESK_IP, DESK_IP2), (d1, d2)
    assert [ln.split(" ", 2)[2] for ln in lines(log)] == ["a1 " + DESK_IP, "a_2 " + DESK_IP2]
    # In address order, the desktop's name as host name ('_' is none of a host name's).
    assert reservations(w.pe) == [(d1["mac"], DESK_IP, "a1"), (d2["mac"], DESK_IP2, "a-2")]
    p2 = host_port(w.host[d2["host"]], d2["port"])
    assert p2["allowed_macs"] == [d2["mac"]] and p2["allowed_ips"] == [DESK_IP2], p2
    # d2 itself (its MAC, its port's locks) asks for a lease: its reservation answers, not
    # the pool's first free address, and its address is the only one it may send from.
    host = w.host[d2["host"]]
    w.taps += 1
    ifc = f"ad{w.taps}{w.u}"[:15]
    host.ctl("call", "port.add", json.dumps({
        "name": "sim_a2", "devargs": f"net_tap{10 + w.taps},iface={ifc}", "mode": "access",
        "group": "acme-net", "anti_spoof": "on", "allowed_macs": p2["allowed_macs"],
        "allowed_ips": p2["allowed_ips"]}))
    desk = tess.Netns(cleanup)
    tess.sh("ip", "link", "set", ifc, "netns", desk.name, ns=w.ns[d2["host"]].name)
    desk.run("sysctl", "-qw", f"net.ipv6.conf.{ifc}.disable_ipv6=1")
    desk.run("ip", "link", "set", ifc, "address", d2["mac"])
    desk.run("ip", "link", "set", ifc, "up")
    assert w.lease(desk, ifc) == DESK_IP2
    assert desk.ping(DESK_GW, count=3) == (3, 3)
    # Its neighbour's address: sending from it (and its ARP for the gateway) is dropped.
    desk.run("ip", "addr", "add", DESK_IP + "/32", "dev", ifc)
    before = host.port_stats()["sim_a2"]["drops"].get("spoofed_ip", 0)
    r = desk.run("ping", "-n", "-c", "2", "-W", "1", "-I", DESK_IP, DESK_GW, check=False)
    assert " 0 received" in r.stdout, r.stdout
    desk.send(ifc, [Ether(src=d2["mac"], dst="ff:ff:ff:ff:ff:ff") /
                    ARP(op=1, hwsrc=d2["mac"], psrc=DESK_IP, pdst=DESK_IP)])
    tess.wait_for(lambda: host.port_stats()["sim_a2"]["drops"].get("spoofed_ip", 0) >= before + 3,
                  5, "the neighbour's address dropped at the port")
    # A delete gives the address back: the next desktop takes it, the PE reserves it anew.
    j = w.m.ok("DELETE", f"desktops/{d1['id']}", token=ACME)["job"]
    assert w.m.wait_job(j["id"], token=ACME)["state"] == "succeeded"
    assert reservations(w.pe) == [(d2["mac"], DESK_IP2, "a-2")]
    (d3,) = desktops(w, "a3")
    assert d3["address"] == DESK_IP
    assert reservations(w.pe) == [(d3["mac"], DESK_IP, "a3"), (d2["mac"], DESK_IP2, "a-2")]
    out = subprocess.run([tess.TESSCTL, "-T", ACME, "desktop", "list"], capture_output=True,
                         text=True, env=dict(os.environ, TESSMGR_URL=w.m.url),
                         timeout=60).stdout
    assert "ADDRESS" in out and f" {DESK_IP2}\n" in out, out


def test_a_full_pool_is_refused_and_a_network_change_keeps_the_reservations(w):
    """A pool of two addresses takes two desktops; the third is refused, nothing made. A
    network change that moves the subnet away from the desktops' addresses, or takes DHCP or
    the network away, is refused with its path; a pool moved past them keeps their reservations, and
    new desktops get the new pool's addresses."""
    w.m.ok("POST", "tenants", {"name": "acme", "org_id": "org-acme", "datacenter": "paris",
                               "vlan": 100, "vlan_name": "acme-net", "network": network(
                                   "acme", dhcp={"pool_start": DESK_IP, "pool_end": DESK_IP2,
                                                 "lease_sec": 600})})
    w.m.quota("acme")
    d1, d2 = desktops(w, "a1", "a2")
    status, r = w.m.call("POST", "desktops", {"name": "a3", "model": "std"}, token=ACME)
    assert status == 409 and "every address" in r["error"]["message"], (status, r)
    assert sorted(d["name"] for d in w.m.ok("GET", "desktops", token=ACME)) == ["a1", "a2"]
    t = w.m.ok("GET", "tenants/acme")
    body = {k: t[k] for k in ("name", "org_id", "datacenter", "vlan", "vlan_name", "network")}
    moved = json.loads(json.dumps(body))
    moved["network"]["gateway"] = "192.168.60.1/24"
    moved["network"]["dhcp"] = {"pool_start": "192.168.60.100",
                                "pool_end": "192.168.60.199", "lease_sec": 600}
    status, r = w.m.call("PUT", "tenants/acme", moved)
    assert status == 409 and r["error"]["path"] == "/network/gateway", (status, r)
    assert "desktop a1 has address " + DESK_IP in r["error"]["message"], r
    moved = json.loads(json.dumps(body))
    moved["network"]["dhcp"] = {"pool_start": "", "pool_end": ""}
    status, r = w.m.call("PUT", "tenants/acme", moved)
    assert status == 409 and r["error"]["path"] == "/network/dhcp/pool_start", (status, r)
    moved["network"] = {"routers": []}
    status, r = w.m.call("PUT", "tenants/acme", moved)
    assert status == 409 and r["error"]["path"] == "/network/routers", (status, r)
    assert reservations(w.pe) == [(d1["mac"], DESK_IP, "a1"), (d2["mac"], DESK_IP2, "a2")]
    # Another pool: the reservations stay, outside it; a third desktop gets its first.
    body["network"]["dhcp"] = {"pool_start": "192.168.50.150", "pool_end": "192.168.50.199",
                               "lease_sec": 300}
    w.m.ok("PUT", "tenants/acme", body)
    (s,) = [s for s in w.pe.ctl("call", "config.get")["dhcp"]["servers"]
            if s["interface"] == "acme-dc"]
    assert s["lease_sec"] == 300 and s["pools"][0]["start"] == "192.168.50.150", s
    assert reservations(w.pe) == [(d1["mac"], DESK_IP, "a1"), (d2["mac"], DESK_IP2, "a2")]
    (d3,) = desktops(w, "a3")
    assert d3["address"] == "192.168.50.150"


def test_a_pe_down_fails_a_create_and_a_delete_is_reserved_later(w):
    """With the PE down, a create fails (its address could not be reserved) and leaves
    nothing; a delete succeeds and its reservation goes once the PE is back. A reservation
    changed behind tessmgrd's back is found and put right by reconcile, and so is a desktop's
    port whose lock to its address was taken off on its host."""
    w.tenant("acme")
    d1, d2 = desktops(w, "a1", "a2")
    w.pe.stop()
    j = w.m.ok("DELETE", f"desktops/{d1['id']}", token=ACME)["job"]
    assert w.m.wait_job(j["id"], token=ACME)["state"] == "succeeded"
    assert w.m.ok("GET", "stats")["network"]["reservations_pending"] == 1
    assert "DHCP reservations" in w.m.log()
    r = w.m.ok("POST", "desktops", {"name": "a3", "model": "std"}, token=ACME)
    j = w.m.wait_job(r["job"]["id"], token=ACME)
    assert j["state"] == "failed" and "router pe1" in w.m.ok("GET", f"jobs/{j['id']}")["error"]
    assert sorted(d["name"] for d in w.m.ok("GET", "desktops", token=ACME)) == ["a2"]
    w.pe.start()
    tess.wait_for(lambda: w.m.ok("GET", "stats")["network"]["reservations_pending"] == 0, 15,
                  "the reservations retried once the PE is back")
    tess.wait_for(lambda: reservations(w.pe) == [(d2["mac"], DESK_IP2, "a2")], 15,
                  "the PE reserving the desktops there are")
    # Changed on the PE: reported, and repaired.
    (s,) = [s for s in w.pe.ctl("call", "config.get")["dhcp"]["servers"]
            if s["interface"] == "acme-dc"]
    s["reservations"] = []
    w.pe.ctl("call", "config.batch", json.dumps({"edits": [
        {"op": "set", "array": "/dhcp/servers", "match": {"interface": "acme-dc"}, "item": s}]}))
    (r,) = w.m.ok("GET", "reconcile")["tessds"]["routers"]
    assert [x["array"] for x in r["differs"]] == ["/dhcp/servers"], r
    w.m.ok("POST", "reconcile")
    assert reservations(w.pe) == [(d2["mac"], DESK_IP2, "a2")]
    # d2's port unlocked from its address on the host: found, shown, locked again.
    host = w.host[d2["host"]]
    host.ctl("call", "port.set", json.dumps({"name": d2["port"], "allowed_ips": []}))
    (h,) = [h for h in w.m.ok("GET", "reconcile")["tessds"]["hosts"] if h["host"] == d2["host"]]
    assert h["port_locks"] == [{"desktop_id": d2["id"], "port": d2["port"],
                                "allowed_macs": [d2["mac"]], "allowed_ips": [DESK_IP2]}], h
    assert host_port(host, d2["port"])["allowed_ips"] == []  # a look changes nothing
    out = subprocess.run([tess.TESSCTL, "-T", PROVIDER, "reconcile"], capture_output=True,
                         text=True, env=dict(os.environ, TESSMGR_URL=w.m.url),
                         timeout=60).stdout
    assert f"  port {d2['port']} of desktop {d2['id']}: not locked as stored, to MAC " \
        f"{d2['mac']} and {DESK_IP2}" in out, out
    (h,) = [h for h in w.m.ok("POST", "reconcile")["tessds"]["hosts"]
            if h["host"] == d2["host"]]
    assert h["repaired"] >= 1 and h["repair_failed"] == 0, h
    assert host_port(host, d2["port"])["allowed_ips"] == [DESK_IP2]
    (h,) = [h for h in w.m.ok("GET", "reconcile")["tessds"]["hosts"] if h["host"] == d2["host"]]
    assert h["port_locks"] == [], h


def test_an_address_another_client_leases_is_not_given(w, cleanup):
    """A client that the pool gave .100 before (a desktop made before addresses were given,
    without a reservation) keeps it: a create job that finds it leased on the PE gives its
    desktop another, stored and reserved. Two desktops asked for at once end with .101 and
    .102 whichever job looks first (neither reservation takes .100 from the client)."""
    w.tenant("acme")
    old = tess.Netns(cleanup)
    ifc = w.plug(old, "h1", "acme", "02:00:00:00:d0:77")
    assert w.lease(old, ifc) == DESK_IP
    r1 = w.m.ok("POST", "desktops", {"name": "a1", "model": "std"}, token=ACME)
    r2 = w.m.ok("POST", "desktops", {"name": "a2", "model": "std"}, token=ACME)
    # The store's pick: .100 for the first (the second's too if the first's job has moved
    # it away by then).
    assert r1["desktop"]["address"] == DESK_IP
    for r in (r1, r2):
        assert w.m.wait_job(r["job"]["id"], token=ACME)["state"] == "succeeded"
    ds = sorted((w.m.ok("GET", f"desktops/{r['desktop']['id']}", token=ACME) for r in (r1, r2)),
                key=lambda d: d["address"])
    assert [d["address"] for d in ds] == [DESK_IP2, "192.168.50.102"], ds
    assert reservations(w.pe) == [(d["mac"], d["address"], d["name"]) for d in ds]
    assert f"{DESK_IP} is leased to another client: " in w.m.log()
    # The old client renews its own address.
    assert w.lease(old, ifc) == DESK_IP
