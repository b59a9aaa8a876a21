# SPDX-License-Identifier: BSD-3-Clause
"""A tenant's rule set between its desktops (network.firewall.between_desktops): tessmgrd puts
it on the tenant's group at each host tessd, which filters what one desktop sends another
(never through the PE). On test_onboard's PE and host tessds; desktops are namespaces on tap
ports of the host tessd in their tenant's group, with leases from the PE's DHCP."""
import json
import os
import subprocess
import time

import pytest
from scapy.layers.l2 import ARP, Ether
from scapy.packet import Raw

import tess
from mgr import ACME, PROVIDER
from test_move_reach import TCP_PROBE
from test_onboard import DESK_GW, ENT_IP, network, pe_state, tenant
from test_onboard import m, topo  # noqa: F401  (the fixtures)

# Desktops may reach each other's SSH only, from anywhere in the subnet; nothing else.
ISOLATED = {"default": "accept", "rules": [{"action": "drop", "proto": "tcp", "dport": "23"}],
            "between_desktops": {"default": "drop",
                                 "rules": [{"action": "accept", "proto": "tcp",
                                            "dport": "22"}]}}


def host_fw(host):
    """The host tessd's rule sets (name: rules) and group attachments (group: set)."""
    c = host.ctl("call", "config.get")
    return ({s["name"]: s["rules"] for s in c["firewall"]["rulesets"]},
            {g["group"]: g["set"] for g in c["firewall"]["groups"]})


# What the group of a tenant with ISOLATED has besides its set: IPv4 and ARP only, no DHCP
# server but the PE's, its gateway's address no desktop's; and a group without a policy.
GUARD = {"ipv4_only": True, "dhcp_guard": True, "protected_ips": [DESK_GW]}
NO_GUARD = {"ipv4_only": False, "dhcp_guard": False, "protected_ips": []}


def host_guard(host, group):
    (g,) = [g for g in host.ctl("call", "config.get")["switch"]["groups"] if g["name"] == group]
    return {k: g[k] for k in GUARD}


def host_batch(host, *edits):
    return host.ctl("call", "config.batch", json.dumps({"edits": list(edits)}))


class Desktops:
    """Simulated desktops: namespaces on tap ports of the host tessd, each with a lease."""

    def __init__(self, topo, tmp_path):
        self.topo, self.tmp, self.n, self.u = topo, tmp_path, 0, tess.uid()

    def plug(self, t):
        self.n += 1
        ifc = f"ol{self.n}{self.u}"[:15]
        self.topo.host.ctl("call", "port.add", json.dumps({
            "name": f"desk{self.n}", "devargs": f"net_tap{20 + self.n},iface={ifc}",
            "mode": "access", "group": f"{t}-net"}))
        ns = tess.peer(self.topo.cleanup, ifc, src=self.topo.host_ns,
                       mac=f"02:00:00:00:d0:{self.n:02x}")
        ns.mac, ns.port = f"02:00:00:00:d0:{self.n:02x}", f"desk{self.n}"
        ns.run("sysctl", "-qw", f"net.ipv6.conf.{ifc}.disable_ipv6=1")
        lease, r = ns.udhcpc(ifc, self.tmp)
        assert lease, (t, r.stdout, r.stderr)
        return ns, lease["ip"]


# LLMNR's group, as a desktop's name lookup reaches every other desktop on the link.
LISTEN = """
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("224.0.0.252", 5355))
s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
             struct.pack("4s4s", socket.inet_aton("224.0.0.252"), socket.inet_aton(sys.argv[1])))
s.settimeout(2)
print("ready", flush=True)
n = 0
try:
    while True:
        s.recv(100)
        n += 1
except socket.timeout:
    pass
print(n)
"""
SEND = """
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(sys.argv[1]))
for _ in range(3):
    s.sendto(b"who is wpad", ("224.0.0.252", 5355))
    time.sleep(0.1)
"""


def multicast_heard(cleanup, sender, sip, listener, lip):
    """How many of sender's 3 datagrams to 224.0.0.252 the listener got."""
    p = subprocess.Popen(["ip", "netns", "exec", listener.name, "/usr/bin/python3", "-c",
                          LISTEN, lip], stdout=subprocess.PIPE, text=True)
    cleanup.add(p.kill)
    assert p.stdout.readline().strip() == "ready"
    sender.run("/usr/bin/python3", "-c", SEND, sip)
    return int(p.communicate(timeout=30)[0].strip())


def probe(ns, ip, port):
    return ns.run("python3", "-c", TCP_PROBE, ip, str(port)).stdout.strip()


def group_counters(host, group):
    (g,) = [g for g in host.ctl("stats")["firewall_groups"] if g["group"] == group]
    return g


def forge(ns, dst_mac, ip, tag):
    """From desktop ns: an IPv6 frame to dst_mac (link-local needs no router), a gratuitous
    ARP and an ARP reply claiming the gateway's address for ns's MAC."""
    s = ns.raw_socket(ns.ifc)
    for f in (Ether(src=ns.mac, dst=dst_mac, type=0x86dd) / Raw(b"`" + b"\0" * 39 + tag),
              Ether(src=ns.mac, dst="ff:ff:ff:ff:ff:ff") /
              ARP(op=1, hwsrc=ns.mac, psrc=DESK_GW, pdst=DESK_GW),
              Ether(src=ns.mac, dst=dst_mac) /
              ARP(op=2, hwsrc=ns.mac, psrc=DESK_GW, hwdst=dst_mac, pdst=ip)):
        s.send(bytes(f))
    s.close()


def gateway_mac(ns):
    """The MAC ns's neighbour table has for the gateway ("" if none)."""
    out = ns.run("ip", "neigh", "show", DESK_GW).stdout.split()
    return out[out.index("lladdr") + 1] if "lladdr" in out else ""


def test_desktops_of_a_tenant_meet_its_set_between_them(topo, m, tmp_path):
    """acme's desktops reach each other's SSH only; their gateway, enterprise and DHCP as
    before; bravo (same addresses, no set) is untouched. A change takes the set away."""
    m.ok("POST", "tenants", tenant("acme", network(firewall=ISOLATED)))
    m.ok("POST", "tenants", tenant("bravo", network(port="ent_bravo")))
    sets, groups = host_fw(topo.host)
    assert groups == {"acme-net": "acme-lan"} and list(sets) == ["acme-lan"], (sets, groups)
    assert "acme-lan" not in pe_state(topo.pe)["rulesets"]  # the hosts' only
    d = Desktops(topo, tmp_path)
    (a1, ip1), (a2, ip2) = d.plug("acme"), d.plug("acme")
    (b1, bip1), (b2, bip2) = d.plug("bravo"), d.plug("bravo")
    assert ip1 != ip2 and (bip1, bip2) == (ip1, ip2)  # the same addresses in both tenants
    before = group_counters(topo.host, "acme-net")["dropped"]
    # Between acme's desktops: SSH reaches (refused: nobody listens), the rest is dropped.
    assert probe(a1, ip2, 22) == "refused" and probe(a2, ip1, 22) == "refused"
    assert probe(a1, ip2, 80) == "timeout"
    assert a1.ping(ip2, count=3) == (3, 0)
    assert group_counters(topo.host, "acme-net")["dropped"] >= before + 4
    # North-south is the PE's, as before: the gateway, the enterprise both ways.
    assert a1.ping(DESK_GW, count=3) == (3, 3)
    assert a2.ping(ENT_IP, count=3) == (3, 3)
    assert topo.ent["acme"].ping(ip2, count=3) == (3, 3)
    # Nor does a name lookup to the link's multicast group reach the other desktop.
    assert multicast_heard(topo.cleanup, a1, ip1, a2, ip2) == 0
    # bravo's desktops, with the same addresses, talk freely.
    assert b1.ping(bip2, count=3) == (3, 3) and probe(b1, bip2, 80) == "refused"
    assert multicast_heard(topo.cleanup, b1, bip1, b2, bip2) == 3
    # IPv6 does not cross acme's group (the set filters IPv4), nor may a desktop claim the
    # gateway's address: a2 keeps the PE's MAC for it. bravo's group has no guard.
    assert host_guard(topo.host, "acme-net") == GUARD
    assert host_guard(topo.host, "bravo-net") == NO_GUARD
    assert a2.ping(DESK_GW, count=1) == (1, 1) and b2.ping(DESK_GW, count=1) == (1, 1)
    gw_mac = gateway_mac(a2)
    assert gw_mac and gateway_mac(b2)
    time.sleep(1.1)  # past the kernel's ARP locktime: a claim may override the entry now
    topo.host.tessctl("stats", "--reset")
    forge(a1, a2.mac, ip2, b"ACME")
    forge(b1, b2.mac, bip2, b"BRAVO")
    tess.wait_for(lambda: gateway_mac(b2) == b1.mac, 5, "bravo's gateway claimed by b1")
    tess.wait_for(lambda: topo.host.port_stats()[a1.port]["drops"]["spoofed_ip"] == 2, 5,
                  "a1's two claims of the gateway dropped")
    st = topo.host.port_stats()
    assert st[a1.port]["drops"]["not_ipv4"] == 1, st
    assert not st[b1.port]["drops"]["not_ipv4"] and not st[b1.port]["drops"]["spoofed_ip"]
    assert gateway_mac(a2) == gw_mac and a2.ping(DESK_GW, count=2) == (2, 2)
    # A change that drops the default and the rules takes the set away: they talk again.
    m.ok("PUT", "tenants/acme", tenant("acme", network()))
    assert host_fw(topo.host) == ({}, {}) and host_guard(topo.host, "acme-net") == NO_GUARD
    assert a1.ping(ip2, count=3) == (3, 3) and probe(a1, ip2, 80) == "refused"


def test_the_set_follows_changes_refusals_and_deletes(topo, m):
    """The set is made, replaced, refused all or nothing (the host's baseline rejects, which
    a group's set may not), and goes with the tenant; the PE is as without it."""
    net = network(firewall=ISOLATED)
    m.ok("POST", "tenants", tenant("acme", net))
    sets, _ = host_fw(topo.host)
    # What goes to the gateway first (not what claims to come from it: a desktop can forge
    # that), the tenant's rule within the subnet, the default last.
    assert [(r["action"], r["src"], r["dst"], r["dport"]) for r in sets["acme-lan"]] == [
        ("accept", "", "192.168.50.1/32", ""),
        ("accept", "192.168.50.0/24", "192.168.50.0/24", "22"),
        ("drop", "192.168.50.0/24", "192.168.50.0/24", ""),
        ("drop", "192.168.50.0/24", "224.0.0.0/4", ""),
        ("drop", "192.168.50.0/24", "255.255.255.255/32", "")], sets
    pe_with = pe_state(topo.pe)
    # A change of the rules replaces the set in place (the PE's part is unchanged).
    net["firewall"] = dict(ISOLATED, between_desktops={
        "default": "drop", "rules": [{"action": "accept", "proto": "icmp",
                                      "src": "192.168.50.128/25"},
                                     {"action": "accept", "proto": "udp",
                                      "dst": "224.0.0.252/32", "dport": "5355"}]})
    m.ok("PUT", "tenants/acme", tenant("acme", net))
    sets, groups = host_fw(topo.host)
    assert groups == {"acme-net": "acme-lan"}
    assert [(r["proto"], r["src"], r["dst"]) for r in sets["acme-lan"]][1:3] == [
        ("icmp", "192.168.50.128/25", "192.168.50.0/24"),
        ("udp", "192.168.50.0/24", "224.0.0.252/32")], sets
    assert pe_state(topo.pe) == pe_with
    # IPv4 free between desktops, all else dropped: the group's guard alone, no set.
    net["firewall"] = dict(ISOLATED, between_desktops={"other_protocols": "drop"})
    m.ok("PUT", "tenants/acme", tenant("acme", net))
    assert host_fw(topo.host) == ({}, {}) and host_guard(topo.host, "acme-net") == GUARD
    # A set that lets other protocols pass: the gateway's address stays protected.
    net["firewall"] = dict(ISOLATED, between_desktops={"default": "drop",
                                                       "other_protocols": "accept"})
    m.ok("PUT", "tenants/acme", tenant("acme", net))
    assert host_fw(topo.host)[1] == {"acme-net": "acme-lan"}
    assert host_guard(topo.host, "acme-net") == dict(GUARD, ipv4_only=False)
    assert pe_state(topo.pe) == pe_with
    # Deleted with the tenant: set, attachment and group.
    m.ok("DELETE", "tenants/acme")
    assert host_fw(topo.host) == ({}, {})
    assert topo.host.ctl("group", "list") == []
    # The host refuses a group's set (its baseline rejects): nothing stays anywhere.
    before = pe_state(topo.pe)
    host_batch(topo.host, {"op": "add", "array": "/firewall/baseline/in",
                           "item": {"action": "reject", "proto": "tcp", "dport": "25"}})
    status, r = m.call("POST", "tenants", tenant("acme", network(firewall=ISOLATED)))
    assert status == 409 and "host h1" in r["error"]["message"], r
    assert "earlier tessds undone" in r["error"]["message"], r
    assert pe_state(topo.pe) == before and topo.host.ctl("group", "list") == []
    assert host_fw(topo.host) == ({}, {}) and m.call("GET", "tenants/acme")[0] == 404
    # Without it, the same definition goes through.
    host_batch(topo.host, {"op": "del", "array": "/firewall/baseline/in",
                           "match": {"dport": "25"}})
    m.ok("POST", "tenants", tenant("acme", network(firewall=ISOLATED)))
    assert host_fw(topo.host)[1] == {"acme-net": "acme-lan"}


def test_reconcile_puts_the_set_back_and_takes_a_stale_one_away(topo, m):
    m.ok("POST", "tenants", tenant("acme", network(firewall=ISOLATED)))
    # Detached and deleted behind tessmgrd's back.
    host_batch(topo.host, {"op": "del", "array": "/firewall/groups",
                           "match": {"group": "acme-net"}},
               {"op": "del", "array": "/firewall/rulesets", "match": {"name": "acme-lan"}})
    (h,) = m.ok("GET", "reconcile")["tessds"]["hosts"]
    assert h["firewall"] == [{"tenant": "acme", "set": "acme-lan", "want": "attached",
                            "guard": GUARD}], h
    assert host_fw(topo.host) == ({}, {})  # a look changes nothing
    out = subprocess.run([tess.TESSCTL, "-T", PROVIDER, "reconcile"], capture_output=True,
                         text=True, env=dict(os.environ, TESSMGR_URL=m.url), timeout=60).stdout
    assert "host h1 tessd: 0 groups and 0 desktop ports missing, 1 sets or guards between " \
        "desktops not as stored" in out, out
    assert "  set acme-lan of tenant acme: wanted attached; group IPv4 and ARP only, " \
        "no DHCP server, 192.168.50.1 protected" in out, out
    (h,) = m.ok("POST", "reconcile")["tessds"]["hosts"]
    assert h["repaired"] >= 1 and h["repair_failed"] == 0, h
    assert host_fw(topo.host)[1] == {"acme-net": "acme-lan"}
    (h,) = m.ok("GET", "reconcile")["tessds"]["hosts"]
    assert h["firewall"] == [] and h["missing_groups"] == [], h
    # Its rules changed on the host: put back as the store has them.
    host_batch(topo.host, {"op": "set", "array": "/firewall/rulesets",
                           "match": {"name": "acme-lan"},
                           "item": {"name": "acme-lan", "rules": []}})
    (h,) = m.ok("POST", "reconcile")["tessds"]["hosts"]
    assert h["firewall"] == [{"tenant": "acme", "set": "acme-lan", "want": "attached",
                            "guard": GUARD}], h
    assert len(host_fw(topo.host)[0]["acme-lan"]) == 5
    # One rule narrowed (a key tessmgrd leaves at its default): found and put back too.
    rules = host_fw(topo.host)[0]["acme-lan"]
    rules[1]["sport"] = "1000-2000"
    host_batch(topo.host, {"op": "set", "array": "/firewall/rulesets",
                           "match": {"name": "acme-lan"},
                           "item": {"name": "acme-lan", "rules": rules}})
    (h,) = m.ok("POST", "reconcile")["tessds"]["hosts"]
    assert h["firewall"] == [{"tenant": "acme", "set": "acme-lan", "want": "attached",
                            "guard": GUARD}], h
    assert host_fw(topo.host)[0]["acme-lan"][1]["sport"] == ""
    # The group's guard taken off on the host (its set left): put back.
    host_batch(topo.host, {"op": "set", "array": "/switch/groups", "match": {"name": "acme-net"},
                           "item": {"name": "acme-net", "tenant": "acme", "vlan": 100}})
    assert host_guard(topo.host, "acme-net") == NO_GUARD
    (h,) = m.ok("POST", "reconcile")["tessds"]["hosts"]
    assert h["firewall"] == [{"tenant": "acme", "set": "acme-lan", "want": "attached",
                              "guard": GUARD}], h
    assert host_guard(topo.host, "acme-net") == GUARD
    # A set and guard the tenant no longer has, left on the host (a failed undo): taken away.
    m.ok("PUT", "tenants/acme", tenant("acme", network()))
    assert host_guard(topo.host, "acme-net") == NO_GUARD
    host_batch(topo.host, {"op": "add", "array": "/firewall/rulesets",
                           "item": {"name": "acme-lan", "rules": []}},
               {"op": "add", "array": "/firewall/groups",
                "item": {"group": "acme-net", "set": "acme-lan"}},
               {"op": "set", "array": "/switch/groups", "match": {"name": "acme-net"},
                "item": dict({"name": "acme-net", "tenant": "acme", "vlan": 100}, **GUARD)})
    (h,) = m.ok("POST", "reconcile")["tessds"]["hosts"]
    assert h["firewall"] == [{"tenant": "acme", "set": "acme-lan", "want": "absent",
                            "guard": NO_GUARD}], h
    assert host_fw(topo.host) == ({}, {}) and host_guard(topo.host, "acme-net") == NO_GUARD


def test_a_desktop_job_makes_the_group_with_its_set(topo, m):
    """A desktop placed on a host that has no group of its VLAN (made by nobody yet, or gone):
    its job makes the group and the set in one batch before the port joins. A restarted host
    tessd gets the set back with its desktops' ports."""
    m.ok("POST", "tenants", tenant("acme", network(firewall=ISOLATED)))
    host_batch(topo.host, {"op": "del", "array": "/firewall/groups",
                           "match": {"group": "acme-net"}},
               {"op": "del", "array": "/firewall/rulesets", "match": {"name": "acme-lan"}},
               {"op": "del", "array": "/switch/groups", "match": {"name": "acme-net"}})
    m.model()
    m.quota("acme")
    d = m.desktop("a1", ACME)
    assert host_fw(topo.host)[1] == {"acme-net": "acme-lan"}
    assert host_guard(topo.host, "acme-net") == GUARD
    ports = {p["name"]: p for p in topo.host.ctl("port", "list")}
    assert ports[d["port"]]["groups"] == ["acme-net"]
    # A group that is there but lost its set gets it back with the next desktop.
    host_batch(topo.host, {"op": "del", "array": "/firewall/groups",
                           "match": {"group": "acme-net"}})
    m.desktop("a2", ACME)
    assert host_fw(topo.host)[1] == {"acme-net": "acme-lan"}
    # The host tessd restarts empty: the ticker's repair puts the set back before the ports.
    topo.host.stop()
    topo.host.start()
    tess.wait_for(lambda: d["port"] in {p["name"] for p in topo.host.ctl("port", "list")}, 30,
                  "the desktop's port back on the restarted host tessd")
    assert host_fw(topo.host)[1] == {"acme-net": "acme-lan"}
    assert host_guard(topo.host, "acme-net") == GUARD


@pytest.mark.parametrize("fw, path", [
    ({"default": "reject"}, "/network/firewall/between_desktops/default"),
    ({"rules": [{"action": "reject"}]}, "/network/firewall/between_desktops/rules/0/action"),
    ({"rules": [{"action": "drop", "src": "10.0.0.0/8"}]},
     "/network/firewall/between_desktops/rules/0/src"),
    ({"rules": [{"action": "drop", "dst": "192.168.50.0/23"}]},
     "/network/firewall/between_desktops/rules/0/dst"),
    ({"rules": [{"action": "drop", "dst": "192.168.50.7/24"}]},
     "/network/firewall/between_desktops/rules/0/dst"),
    ({"rules": [{"action": "drop", "dst": "224.0.0.0/3"}]},
     "/network/firewall/between_desktops/rules/0/dst"),
    ({"rules": [{"action": "drop", "src": "224.0.0.252/32"}]},
     "/network/firewall/between_desktops/rules/0/src"),
    ({"rules": [{"action": "drop", "dst": "192.168.50.1/32"}]},
     "/network/firewall/between_desktops/rules/0/dst"),
    ({"rules": [{"action": "drop", "dport": "1-2-3"}]},
     "/network/firewall/between_desktops/rules/0/dport"),
    ({"default": "maybe"}, "/network/firewall/between_desktops/default"),
    ({"other_protocols": "ipv6"}, "/network/firewall/between_desktops/other_protocols"),
])
def test_bad_sets_between_desktops_are_refused_with_paths(topo, m, fw, path):
    status, r = m.call("POST", "tenants", tenant("acme", network(
        firewall={"between_desktops": fw})))
    assert status == 400 and r["error"]["path"] == path, r
    assert host_fw(topo.host) == ({}, {}) and topo.host.ctl("group", "list") == []
