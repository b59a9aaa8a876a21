# SPDX-License-Identifier: BSD-3-Clause
"""The provider-edge router with real traffic: VRFs per tenant on the same addresses, VLAN
tags toward the hosts, RFC 1812 checks and ICMP, ARP, fragmentation, options, ECMP, routes
changing under traffic, IRB in one tessd, and API errors that change nothing."""
import json
import re
import subprocess
import threading
import time

from scapy.layers.inet import ICMP, IP, UDP
from scapy.layers.l2 import ARP, Dot1Q, Ether
from scapy.packet import Raw

import tess
from pe_topo import (DESK_GW, DESK_IP, DESK_MAC, ENT_GW, ENT_IP, ENT_MAC, PeTopo,
                     router_config)


def icmp_from(frames, src, dst, type_=None):
    out = []
    for f in frames:
        p = Ether(f)
        if IP in p and p[IP].src == src and p[IP].dst == dst and ICMP in p:
            if type_ is None or p[ICMP].type == type_:
                out.append(p)
    return out


def drops(stats, name):
    return stats[name]["drops"]


def test_enterprises_with_the_same_addresses_reach_only_their_desktops(cleanup, tmp_path):
    t = PeTopo(cleanup, tmp_path)
    desk = {n: t.capture(f"{n}-desk") for n in ("acme", "bravo")}
    ent = {n: t.capture(f"{n}-ent") for n in ("acme", "bravo")}
    trunk = t.capture_trunk()
    assert t.ping("acme-ent", DESK_IP, count=5) == (5, 5)
    assert t.ping("bravo-ent", DESK_IP, count=3) == (3, 3)
    # And back: each desktop reaches its own enterprise host.
    assert t.ping("acme-desk", ENT_IP, count=2) == (2, 2)
    time.sleep(0.3)
    seen = {n: c.close() for n, c in desk.items()}
    # Each desktop got exactly its enterprise's echo requests.
    assert len(icmp_from(seen["acme"], ENT_IP, DESK_IP, 8)) == 5
    assert len(icmp_from(seen["bravo"], ENT_IP, DESK_IP, 8)) == 3
    # On the trunk every routed frame is tagged with its tenant's VLAN.
    vids = {}
    for f in trunk.close():
        p = Ether(f)
        if IP in p and ICMP in p and p[IP].src == ENT_IP and p[ICMP].type == 8:
            assert Dot1Q in p, "untagged routed frame on the trunk"
            vids[p[Dot1Q].vlan] = vids.get(p[Dot1Q].vlan, 0) + 1
    assert vids == {100: 5, 200: 3}
    # Nothing tagged on the enterprise side.
    for n, c in ent.items():
        assert not [f for f in c.close() if Dot1Q in Ether(f)], n
    v = t.vrfs()
    assert v["acme"]["forwarded"] >= 12 and v["bravo"]["forwarded"] >= 6
    i = t.ifaces()
    assert i["acme-dc"]["tx_packets"] >= 5 and i["bravo-dc"]["tx_packets"] >= 3
    # The router answers for its addresses, on any interface of the VRF.
    assert t.ping("acme-ent", ENT_GW, count=2) == (2, 2)
    assert t.ping("acme-ent", DESK_GW, count=2) == (2, 2)
    assert t.ping("bravo-desk", DESK_GW, count=2) == (2, 2)
    # Human output.
    out = t.pe.tessctl("route", "show", "--vrf", "acme").stdout
    assert "192.168.50.0/24" in out and "connected" in out and "bravo" not in out
    out = t.pe.tessctl("stats", "--vrf", "bravo").stdout
    assert "bravo-dc" in out and "acme-dc" not in out
    out = t.pe.tessctl("neigh", "show", "--vrf", "acme").stdout
    assert DESK_IP in out and DESK_MAC["acme"].upper() in out.upper()
    out = t.pe.tessctl("vrf", "list").stdout
    assert re.search(r"acme\s+100\s+\d+\s+\d+", out)


def test_traceroute_and_icmp_errors(cleanup, tmp_path):
    t = PeTopo(cleanup, tmp_path, router=router_config(routes=[
        {"vrf": "acme", "prefix": "10.66.0.0/16", "type": "reject"},
        {"vrf": "acme", "prefix": "10.77.0.0/16", "type": "blackhole"}]))
    ns = t.ns["acme-ent"]
    r = ns.run("traceroute", "-n", "-q", "1", "-w", "2", "-m", "4", DESK_IP, timeout=60)
    hops = re.findall(r"^\s*(\d+)\s+(\S+)", r.stdout, re.M)
    assert hops[:2] == [("1", ENT_GW), ("2", DESK_IP)], r.stdout
    # No route: net unreachable from the router; a reject route: host unreachable.
    r = ns.run("ping", "-c", "1", "-W", "2", "10.99.0.1", check=False)
    assert f"From {ENT_GW}" in r.stdout and "Net Unreachable" in r.stdout, r.stdout
    r = ns.run("ping", "-c", "1", "-W", "2", "10.66.0.1", check=False)
    assert f"From {ENT_GW}" in r.stdout and "Host Unreachable" in r.stdout, r.stdout
    # A blackhole says nothing.
    r = ns.run("ping", "-c", "1", "-W", "1", "10.77.0.1", check=False)
    assert "From" not in r.stdout and " 0 received" in r.stdout
    # A neighbour that never answers: host unreachable once ARP gives up.
    r = ns.run("ping", "-c", "1", "-W", "6", "192.168.50.99", check=False, timeout=30)
    assert f"From {ENT_GW}" in r.stdout and "Host Unreachable" in r.stdout, r.stdout
    assert t.neigh("acme")["192.168.50.99"]["state"] == "failed"
    v = t.vrfs()["acme"]
    d = v["drops"]
    assert d["ttl_exceeded"] >= 1 and d["no_route"] == 1 and d["reject"] == 1
    assert d["blackhole"] == 1 and d["unresolved"] >= 1
    assert v["icmp_sent"] >= 4 and v["arp_sent"] >= 3
    # Bravo saw none of it.
    assert t.vrfs()["bravo"]["icmp_sent"] == 0


def test_rfc1812_checks_drop_and_count(cleanup, tmp_path):
    t = PeTopo(cleanup, tmp_path)
    rmac = t.router_mac("acme-ent")
    desk = t.capture("acme-desk")
    ent = t.capture("acme-ent")
    s = t.sock("acme-ent")
    eth = Ether(src=ENT_MAC["acme"], dst=rmac, type=0x0800)
    ok = IP(src=ENT_IP, dst=DESK_IP) / UDP(sport=1, dport=9) / Raw(b"x" * 32)
    good = bytes(ok)
    cases = {
        "ip_header": [
            bytes(eth) + good[:12],                        # shorter than 20 bytes
            bytes(eth) + bytes([0x55]) + good[1:],         # not version 4
            bytes(eth) + bytes([0x44]) + good[1:],         # IHL 4
            bytes(eth / IP(src=ENT_IP, dst=DESK_IP, len=16) / Raw(b"x" * 40)),  # len < IHL*4
            bytes(eth / IP(src=ENT_IP, dst=DESK_IP, len=400) / Raw(b"x" * 40)),  # len > frame
        ],
        "ip_checksum": [bytes(eth / IP(src=ENT_IP, dst=DESK_IP, chksum=0x1234) / UDP())],
        "martian_source": [bytes(eth / IP(src=a, dst=DESK_IP) / UDP())
                           for a in ("127.0.0.1", "0.1.2.3", "224.0.0.5", "255.255.255.255")],
        "bad_destination": [bytes(eth / IP(src=ENT_IP, dst=a) / UDP())
                            for a in ("255.255.255.255", "224.1.1.1", "127.0.0.1", "0.0.0.9",
                                      "240.0.0.1")],
    }
    before = drops(t.vrfs(), "acme")
    for frames in cases.values():
        for f in frames:
            for _ in range(3):
                s.send(f)
    # A limited broadcast on the broadcast MAC is not for the router either.
    s.send(bytes(Ether(src=ENT_MAC["acme"], dst="ff:ff:ff:ff:ff:ff") /
                 IP(src=ENT_IP, dst="255.255.255.255") / UDP()))
    want = {k: 3 * len(v) for k, v in cases.items()}
    tess.wait_for(lambda: all(drops(t.vrfs(), "acme").get(k, 0) - before.get(k, 0) >= n
                              for k, n in want.items()), 5,
                  lambda: f"every drop counted: {drops(t.vrfs(), 'acme')}")
    after = drops(t.vrfs(), "acme")
    for k, n in want.items():
        assert after[k] - before.get(k, 0) == n, (k, after)
    assert after["not_router_mac"] - before.get("not_router_mac", 0) >= 1
    i = t.ifaces()["acme-ent"]["drops"]
    assert i["ip_checksum"] == 3 and i["martian_source"] == 12
    time.sleep(0.3)
    # Nothing forwarded, and no ICMP about any of it.
    assert not [f for f in desk.close() if UDP in Ether(f) and Ether(f)[UDP].dport == 9]
    assert not icmp_from(ent.close(), ENT_GW, ENT_IP)
    # A good one still goes through: TTL down by one, checksum right.
    desk = t.capture("acme-desk")
    s.send(bytes(eth / IP(src=ENT_IP, dst=DESK_IP, ttl=9) / UDP(sport=5, dport=7777)))
    tess.wait_for(lambda: any(UDP in Ether(f) and Ether(f)[UDP].dport == 7777
                              for f in desk.frames), 3, "the good packet at the desktop")
    p = next(Ether(f) for f in desk.close() if UDP in Ether(f) and Ether(f)[UDP].dport == 7777)
    assert p[IP].ttl == 8 and p.src.lower() == t.router_mac("acme-dc")
    chk = p[IP].chksum
    del p[IP].chksum
    assert IP(bytes(p[IP]))[IP].chksum == chk


def test_icmp_errors_follow_rfc1812_4_3_2_7_and_the_rate(cleanup, tmp_path):
    t = PeTopo(cleanup, tmp_path, router=router_config(icmp_rate=10))
    rmac = t.router_mac("acme-ent")
    ent = t.capture("acme-ent")
    s = t.sock("acme-ent")
    eth = Ether(src=ENT_MAC["acme"], dst=rmac)
    # Never about an ICMP error, nor a non-initial fragment.
    s.send(bytes(eth / IP(src=ENT_IP, dst=DESK_IP, ttl=1) / ICMP(type=3, code=1) /
                 Raw(b"q" * 28)))
    s.send(bytes(eth / IP(src=ENT_IP, dst=DESK_IP, ttl=1, frag=100) / Raw(b"f" * 40)))
    time.sleep(0.5)
    assert not icmp_from(ent.frames, ENT_GW, ENT_IP)
    # Time exceeded at 10 a second (plus a burst of 16) for 200 expiring packets.
    t0 = time.time()
    for i in range(200):
        s.send(bytes(eth / IP(src=ENT_IP, dst=DESK_IP, ttl=1) / UDP(sport=1000 + i, dport=33434)))
    spent = time.time() - t0
    time.sleep(0.5)
    errs = icmp_from(ent.close(), ENT_GW, ENT_IP, 11)
    assert 1 <= len(errs) <= 16 + 10 * (spent + 1), (len(errs), spent)
    e = errs[0]
    # The error quotes the header and data, from the router's address, under 576 bytes.
    assert e[IP].len <= 576 and e[ICMP].code == 0
    assert t.vrfs()["acme"]["drops"]["ttl_exceeded"] == 202


def test_fragmentation_and_df(cleanup, tmp_path):
    t = PeTopo(cleanup, tmp_path, dc_mtu=1400)
    trunk = t.capture_trunk()
    ns = t.ns["acme-ent"]
    # Without DF: fragmented toward the desktop, which reassembles and answers.
    assert t.ping("acme-ent", DESK_IP, count=3, extra=("-M", "dont", "-s", "1450")) == (3, 3)
    time.sleep(0.2)
    frags = [Ether(f) for f in trunk.close() if IP in Ether(f) and Ether(f)[IP].src == ENT_IP]
    assert len(frags) == 6 and all(p[IP].len <= 1400 and p[Dot1Q].vlan == 100 for p in frags)
    assert [(p[IP].flags.MF, p[IP].frag) for p in frags[:2]] == [(1, 0), (0, 172)]
    assert sum(p[IP].len - 20 for p in frags[:2]) == 1458
    # With DF: fragmentation needed, with the next-hop MTU.
    r = ns.run("ping", "-c", "2", "-W", "2", "-M", "do", "-s", "1450", DESK_IP, check=False)
    assert "mtu = 1400" in r.stdout or "mtu=1400" in r.stdout + r.stderr, r.stdout + r.stderr
    assert " 0 received" in r.stdout
    d = t.vrfs()["acme"]
    assert d["drops"]["fragmentation_needed"] >= 1 and d["icmp_sent"] >= 1


def test_ip_options_are_forwarded_with_record_route(cleanup, tmp_path):
    t = PeTopo(cleanup, tmp_path)
    r = t.ns["acme-ent"].run("ping", "-R", "-c", "2", "-i", "0.2", DESK_IP, check=False)
    assert " 2 received" in r.stdout, r.stdout
    rr = r.stdout[r.stdout.index("RR:"):]
    # The router records the address it leaves by, each way.
    assert DESK_GW in rr and ENT_GW in rr, r.stdout
    # Source routes are refused, and counted.
    rmac = t.router_mac("acme-ent")
    s = t.sock("acme-ent")
    lsrr = b"\x83\x07\x04" + bytes([192, 168, 50, 10]) + b"\x00"  # LSRR, padded to 8
    s.send(bytes(Ether(src=ENT_MAC["acme"], dst=rmac) /
                 IP(src=ENT_IP, dst=DESK_IP, options=[lsrr]) / UDP()))
    tess.wait_for(lambda: t.vrfs()["acme"]["drops"].get("source_route", 0) == 1, 3,
                  "the source route drop")
    # A malformed option: parameter problem pointing at it.
    ent = t.capture("acme-ent")
    bad = b"\x07\x01\x04\x00"  # record route of length 1
    s.send(bytes(Ether(src=ENT_MAC["acme"], dst=rmac) /
                 IP(src=ENT_IP, dst=DESK_IP, options=[bad]) / UDP()))
    tess.wait_for(lambda: icmp_from(ent.frames, ENT_GW, ENT_IP, 12), 3, "a parameter problem")
    assert icmp_from(ent.close(), ENT_GW, ENT_IP, 12)[0][ICMP].ptr == 21


def test_arp_resolution_aging_and_rules(cleanup, tmp_path):
    t = PeTopo(cleanup, tmp_path, router=router_config(neigh_reachable_sec=1,
                                                        neigh_stale_sec=2))
    assert t.ping("acme-ent", DESK_IP, count=1) == (1, 1)
    n = t.neigh("acme")[DESK_IP]
    # Resolved (reachable, or stale already if this machine took over a second since).
    assert n["state"] in ("reachable", "stale") and n["mac"].lower() == DESK_MAC["acme"]
    assert n["interface"] == "acme-dc"
    # Unused: reachable -> stale -> gone.
    tess.wait_for(lambda: t.neigh("acme").get(DESK_IP, {}).get("state") == "stale", 3,
                  "a stale entry")
    tess.wait_for(lambda: DESK_IP not in t.neigh("acme"), 5, "the entry gone")
    # In use: stale entries are probed and stay.
    p = subprocess.Popen(["ip", "netns", "exec", t.ns["acme-ent"].name, "ping", "-i", "0.2",
                          "-c", "30", DESK_IP], stdout=subprocess.PIPE, text=True)
    time.sleep(5)
    assert t.neigh("acme")[DESK_IP]["state"] in ("reachable", "stale", "probe")
    out = p.communicate(timeout=30)[0]
    assert " 0% packet loss" in out, out
    assert t.vrfs()["acme"]["arp_sent"] >= 2


def test_arp_rules_and_static_neighbours(cleanup, tmp_path):
    # Default timers: an entry learnt here must not age out while a loaded machine checks it;
    # waits of 10 s (each ends as soon as its condition holds) for the same reason.
    t = PeTopo(cleanup, tmp_path, router=router_config())
    rmac = t.router_mac("acme-dc")
    s = t.sock("acme-desk")
    mine = DESK_MAC["acme"]

    def arp(op, psrc, pdst, hwsrc=mine, dst="ff:ff:ff:ff:ff:ff"):
        s.send(bytes(Ether(src=hwsrc, dst=dst) /
                     ARP(op=op, hwsrc=hwsrc, psrc=psrc, pdst=pdst,
                         hwdst="00:00:00:00:00:00" if op == 1 else rmac)))

    before = t.vrfs()["acme"]["drops"].get("arp_ignored", 0)
    # A request for an address that is not the router's: neither answered nor learned.
    cap = t.capture("acme-desk")
    arp(1, "192.168.50.66", "192.168.50.77")
    # An unsolicited reply: not learned.
    arp(2, "192.168.50.67", DESK_GW, dst=rmac)
    # A request for the router's address on another interface: not answered here.
    arp(1, "192.168.50.68", ENT_GW)
    tess.wait_for(lambda: t.vrfs()["acme"]["drops"].get("arp_ignored", 0) - before == 3, 10,
                  "3 ARP ignored")
    nb = t.neigh("acme")
    assert not {"192.168.50.66", "192.168.50.67", "192.168.50.68"} & set(nb)
    time.sleep(0.2)
    assert not [f for f in cap.close() if ARP in Ether(f) and Ether(f)[ARP].op == 2]
    # A request for us is answered and teaches the asker.
    cap = t.capture("acme-desk")
    learned = t.vrfs()["acme"]["arp_learned"]
    arp(1, "192.168.50.69", DESK_GW, hwsrc="02:00:00:00:a0:69")
    tess.wait_for(lambda: t.neigh("acme").get("192.168.50.69", {}).get("mac", "").lower() ==
                  "02:00:00:00:a0:69", 10, "the asker learnt")
    assert t.vrfs()["acme"]["arp_learned"] > learned
    tess.wait_for(lambda: [f for f in cap.frames if ARP in Ether(f) and Ether(f)[ARP].op == 2
                           and Ether(f)[ARP].pdst == "192.168.50.69"], 10, "the ARP reply")
    rep = next(Ether(f) for f in cap.close() if ARP in Ether(f) and Ether(f)[ARP].op == 2)
    assert rep[ARP].psrc == DESK_GW and rep[ARP].hwsrc.lower() == rmac
    # A request with another MAC moves the entry; so does a gratuitous ARP.
    arp(1, "192.168.50.69", DESK_GW, hwsrc="02:00:00:00:a0:6a")
    tess.wait_for(lambda: t.neigh("acme")["192.168.50.69"]["mac"].lower() ==
                  "02:00:00:00:a0:6a", 10, "the entry moved by a request")
    arp(1, "192.168.50.69", "192.168.50.69", hwsrc="02:00:00:00:a0:70")
    tess.wait_for(lambda: t.neigh("acme")["192.168.50.69"]["mac"].lower() ==
                  "02:00:00:00:a0:70", 10, "the entry moved by the gratuitous ARP")
    # ... but creates none.
    arp(1, "192.168.50.71", "192.168.50.71", hwsrc="02:00:00:00:a0:71")
    time.sleep(0.3)
    assert "192.168.50.71" not in t.neigh("acme")
    # Static neighbours: added, kept, not overridden, flush spares them.
    t.pe.tessctl("neigh", "add", "192.168.50.80", "02:00:00:00:a0:80", "--vrf", "acme")
    arp(1, "192.168.50.80", DESK_GW, hwsrc="02:00:00:00:a0:81")
    time.sleep(0.3)
    n = t.neigh("acme")["192.168.50.80"]
    assert n["state"] == "static" and n["mac"].lower() == "02:00:00:00:a0:80"
    r = t.pe.ctl("neigh", "flush", "--vrf", "acme")
    assert r["flushed"] >= 1 and "192.168.50.80" in t.neigh("acme")
    assert "192.168.50.69" not in t.neigh("acme")
    assert any(n["ip"] == "192.168.50.80" for n in t.pe.ctl("config", "show")["router"]["neighbours"])
    t.pe.tessctl("neigh", "del", "192.168.50.80", "--vrf", "acme")
    assert "192.168.50.80" not in t.neigh("acme")
    assert t.pe.ctl("config", "show")["router"]["neighbours"] == []


def test_per_vrf_neighbour_limit(cleanup, tmp_path):
    t = PeTopo(cleanup, tmp_path, router=router_config(neigh_limit=2))
    for host in (20, 21, 22, 23):
        t.ns["acme-ent"].run("ping", "-c", "1", "-W", "1", f"192.168.50.{host}", check=False)
    assert len(t.neigh("acme")) == 2  # the enterprise host and one desktop address
    assert t.vrfs()["acme"]["drops"]["unresolved"] >= 2
    # The other VRF has its own budget.
    assert t.ping("bravo-ent", DESK_IP, count=1) == (1, 1)


def test_neighbour_shares_on_defaults(cleanup, tmp_path):
    # Review 3.4, second look: a PE with hundreds of tenants on default neigh_limit starts;
    # each VRF gets a share of router.neigh_capacity, re-computed on every commit.
    d = tess.Tessd(cleanup, tmp_path)
    d.config["router"] = {"vrfs": [{"name": f"t{i}", "id": i + 1} for i in range(200)]}
    d.start()
    shares = {v["name"]: v["neigh_limit_effective"] for v in d.ctl("vrf", "list")}
    assert len(shares) == 200 and set(shares.values()) == {65536 // 200}
    # An explicit limit comes first; the automatic VRFs share what it leaves.
    d.tessctl("vrf", "add", "big", "--id", "4000", "--neigh-limit", "32768")
    shares = {v["name"]: v["neigh_limit_effective"] for v in d.ctl("vrf", "list")}
    assert shares["big"] == 32768 and shares["t7"] == (65536 - 32768) // 200
    assert "NEIGH-LIMIT" in d.tessctl("vrf", "list").stdout
    # Every commit computes the shares again.
    d.tessctl("vrf", "set", "t0", "--neigh-limit", "100")
    shares = {v["name"]: v["neigh_limit_effective"] for v in d.ctl("vrf", "list")}
    assert shares["t0"] == 100 and shares["t7"] == (65536 - 32768 - 100) // 199
    # Explicit limits past the capacity: refused at the VRF's path, nothing changes.
    r = d.tessctl("vrf", "add", "huge", "--id", "4001", "--neigh-limit", "32769", check=False)
    assert r.returncode == 1 and "router.neigh_capacity" in r.stderr, r.stderr
    assert len(d.ctl("vrf", "list")) == 201


def test_neighbour_share_error_names_the_edited_vrf(cleanup, tmp_path):
    # Review of 3.4's shares (item 5): a vrf.set or vrf.add whose neigh_limit does not fit
    # is refused at its own element (/params/neigh_limit), not at whichever VRF of the array
    # the running sum or the automatic share first fails at; nothing changes.
    d = tess.Tessd(cleanup, tmp_path)
    d.config["router"] = {"neigh_capacity": 1024, "vrfs": [
        {"name": "a", "id": 1, "neigh_limit": 200}, {"name": "b", "id": 2, "neigh_limit": 400},
        {"name": "c", "id": 3}]}
    d.start()
    # Explicit limits over the capacity: the sum first passes it at b.
    r = d.tessctl("call", "vrf.set", json.dumps({"name": "a", "neigh_limit": 700}), check=False)
    assert r.returncode != 0 and "/params/neigh_limit" in r.stderr, r.stderr
    # c's automatic share under the floor: the error was c's.
    r = d.tessctl("call", "vrf.add", json.dumps({"name": "d", "id": 4, "neigh_limit": 410}),
                  check=False)
    assert r.returncode != 0 and "/params/neigh_limit" in r.stderr, r.stderr
    limits = {v["name"]: v["neigh_limit_effective"] for v in d.ctl("vrf", "list")}
    assert limits == {"a": 200, "b": 400, "c": 424}, limits


def test_group_shares_add_up_to_the_group_ids(cleanup, tmp_path):
    # Review 3.2 (third look): next-hop group limits are shares of the 65,535 group ids,
    # like neighbour limits: automatic ones shrink as VRFs are added (vrf.list says what is
    # in force), explicit ones may not add up to more, and a vrf.add or vrf.set that would
    # is refused at its own element (/params/max_nexthop_groups) with nothing changed.
    d = tess.Tessd(cleanup, tmp_path)
    d.config["router"] = {"vrfs": [{"name": f"v{i}", "id": i + 1} for i in range(20)]}
    d.start()
    limits = {v["name"]: v["max_nexthop_groups_effective"] for v in d.ctl("vrf", "list")}
    assert set(limits.values()) == {65535 // 20}, limits
    d.tessctl("call", "vrf.set", json.dumps({"name": "v0", "max_nexthop_groups": 60000}))
    limits = {v["name"]: v["max_nexthop_groups_effective"] for v in d.ctl("vrf", "list")}
    assert limits["v0"] == 60000 and limits["v1"] == (65535 - 60000) // 19, limits
    r = d.tessctl("call", "vrf.add", json.dumps({"name": "w", "id": 30,
                                                 "max_nexthop_groups": 5600}), check=False)
    assert r.returncode != 0 and "/params/max_nexthop_groups" in r.stderr, r.stderr
    assert "next-hop group ids" in r.stderr, r.stderr
    r = d.tessctl("call", "vrf.set", json.dumps({"name": "v1", "max_nexthop_groups": 5536}),
                  check=False)
    assert r.returncode != 0 and "/params/max_nexthop_groups" in r.stderr, r.stderr
    after = {v["name"]: v["max_nexthop_groups_effective"] for v in d.ctl("vrf", "list")}
    assert after == limits, after


def test_punt_budget_is_per_vrf_and_arp_has_its_own(cleanup, tmp_path):
    # Review 3.1: a TTL=1 flood into acme, well over acme's punt budget (set low here so
    # that scapy exceeds it), must starve neither bravo's resolution and pings nor acme's
    # own ARP: each VRF has its budget, and ARP a class of its own in it.
    t = PeTopo(cleanup, tmp_path, router=router_config(punt_pps=100, arp_pps=200))
    rmac = t.router_mac("acme-ent")
    flood = bytes(Ether(src=ENT_MAC["acme"], dst=rmac) /
                  IP(src=ENT_IP, dst=DESK_IP, ttl=1) / UDP(sport=1, dport=33434))
    stop = threading.Event()
    sent = [0]

    def flooder():
        s = t.sock("acme-ent")
        # A few thousand a second: 20 times acme's budget, yet no more than the TAP link
        # carries without dropping the ARP sent next to it.
        while not stop.is_set():
            for _ in range(20):
                s.send(flood)
            sent[0] += 20
            time.sleep(0.01)

    th = threading.Thread(target=flooder, daemon=True)
    cleanup.add(lambda: (stop.set(), th.join(5)))
    before = t.vrfs()
    th.start()
    try:
        tess.wait_for(lambda: t.vrfs()["acme"]["drops"].get("punt_limit", 0) >
                      before["acme"]["drops"].get("punt_limit", 0) + 1000, 30,
                      "acme over its punt budget")
        # bravo resolves a neighbour it never had, and pings without loss.
        assert DESK_IP not in t.neigh("bravo")
        assert t.ping("bravo-ent", DESK_IP, count=5) == (5, 5)
        # acme's ARP is answered: the flood is in acme's other class. (Counted by the
        # router: a capture next to the flood would lose frames of its own.)
        replied = t.vrfs()["acme"]["arp_replied"]
        a = t.sock("acme-ent")
        for i in range(5):
            a.send(bytes(Ether(src=ENT_MAC["acme"], dst="ff:ff:ff:ff:ff:ff") /
                         ARP(op=1, hwsrc=ENT_MAC["acme"], psrc=ENT_IP, pdst=ENT_GW)))
            time.sleep(0.1)
        tess.wait_for(lambda: t.vrfs()["acme"]["arp_replied"] - replied >= 5, 10,
                      lambda: f"5 ARP replies to acme during the flood: {t.vrfs()['acme']}")
        assert th.is_alive()
    finally:
        stop.set()
        th.join(5)
    after = t.vrfs()
    assert after["bravo"]["drops"].get("punt_limit", 0) == \
        before["bravo"]["drops"].get("punt_limit", 0)


def test_ecmp_spreads_flows(cleanup, tmp_path):
    nh = {"192.168.50.20": "02:00:00:00:0e:20", "192.168.50.21": "02:00:00:00:0e:21"}
    t = PeTopo(cleanup, tmp_path, router=router_config(
        routes=[{"vrf": "acme", "prefix": "10.200.0.0/16",
                 "nexthops": [{"via": ip} for ip in nh]}],
        neighbours=[{"vrf": "acme", "ip": ip, "mac": mac} for ip, mac in nh.items()]))
    r = t.pe.ctl("route", "show", "--vrf", "acme", "10.200.1.1")
    assert len(r) == 1 and [n["via"] for n in r[0]["nexthops"]] == list(nh)
    trunk = t.capture_trunk()
    s = t.sock("acme-ent")
    eth = Ether(src=ENT_MAC["acme"], dst=t.router_mac("acme-ent"))
    for rep in range(2):
        for sport in range(2000, 2064):
            s.send(bytes(eth / IP(src=ENT_IP, dst="10.200.0.1") / UDP(sport=sport, dport=53)))
    time.sleep(0.5)
    flows = {}
    for f in trunk.close():
        p = Ether(f)
        if UDP in p and p[IP].dst == "10.200.0.1":
            assert p[Dot1Q].vlan == 100
            flows.setdefault(p[UDP].sport, set()).add(p.dst.lower())
    assert len(flows) == 64
    assert all(len(m) == 1 for m in flows.values()), "a flow changed path"
    per = {mac: sum(1 for m in flows.values() if mac in m) for mac in nh.values()}
    assert min(per.values()) >= 12, per


def test_routes_change_under_traffic_without_loss(cleanup, tmp_path):
    t = PeTopo(cleanup, tmp_path)
    # Neighbours resolved first: the loss counted below is the route changes', not the few
    # packets past neigh_queue that a slow first ARP drops.
    for vrf in ("acme", "bravo"):
        assert t.ping(f"{vrf}-ent", DESK_IP, count=1) == (1, 1)
    p = subprocess.Popen(["ip", "netns", "exec", t.ns["acme-ent"].name, "ping", "-i", "0.01",
                          "-c", "400", "-W", "1", DESK_IP], stdout=subprocess.PIPE, text=True)
    q = subprocess.Popen(["ip", "netns", "exec", t.ns["bravo-ent"].name, "ping", "-i", "0.02",
                          "-c", "200", "-W", "1", DESK_IP], stdout=subprocess.PIPE, text=True)
    added = 0
    deadline = time.time() + 3
    while time.time() < deadline:
        for vrf in ("acme", "bravo"):
            t.pe.tessctl("route", "add", f"10.{added % 250}.{added // 250}.0/24", "--vrf", vrf,
                         "--via", "192.168.50.20")
        # Covering and more specific routes around the pinged prefix come and go too.
        if added % 3 == 0:
            t.pe.tessctl("route", "add", "192.168.50.128/25", "--vrf", "acme", "--blackhole")
            t.pe.tessctl("route", "del", "192.168.50.128/25", "--vrf", "acme")
        added += 1
    for k in range(added):
        t.pe.tessctl("route", "del", f"10.{k % 250}.{k // 250}.0/24", "--vrf", "acme")
    out = p.communicate(timeout=60)[0] + q.communicate(timeout=60)[0]
    assert out.count(" 0% packet loss") == 2, out
    v = {x["name"]: x for x in t.pe.ctl("vrf", "list")}
    assert v["acme"]["routes"] == 6 and v["bravo"]["routes"] == 6 + added
    assert len(t.pe.ctl("config", "show")["router"]["routes"]) == added


def test_irb_routes_into_a_vswitch_group_of_the_same_tessd(cleanup, tmp_path):
    u = tess.uid()
    ent_if, desk_if, desk2_if = f"ie{u}", f"id{u}", f"ix{u}"
    t = tess.Tessd(cleanup, tmp_path, ports=[
        tess.tap_port("ent", ent_if, 0),
        tess.tap_port("d1", desk_if, 1, mode="access", group="acme"),
        tess.tap_port("d2", desk2_if, 2, mode="access", group="acme")])
    t.config["switch"] = {"groups": [{"name": "acme", "vlan": 100}]}
    t.config["router"] = {
        "vrfs": [{"name": "acme", "id": 100}],
        "interfaces": [{"name": "ent", "vrf": "acme", "port": "ent",
                        "addresses": [ENT_GW + "/24"]},
                       {"name": "irb", "vrf": "acme", "group": "acme",
                        "addresses": [DESK_GW + "/24"]}]}
    t.start()
    ns = {name: tess.peer(cleanup, ifc, ip + "/24", gw, mac=mac)
          for name, ifc, mac, ip, gw in (("ent", ent_if, ENT_MAC["acme"], ENT_IP, ENT_GW),
                                         ("d1", desk_if, DESK_MAC["acme"], DESK_IP, DESK_GW),
                                         ("d2", desk2_if, "02:00:00:00:a0:11", "192.168.50.11",
                                          DESK_GW))}
    assert ns["ent"].ping(DESK_IP, count=3) == (3, 3)
    assert ns["d2"].ping(ENT_IP, count=3) == (3, 3)
    assert ns["d1"].ping(DESK_GW, count=2) == (2, 2)
    # Desktops of the group still switch between themselves.
    assert ns["d1"].ping("192.168.50.11", count=2) == (2, 2)
    irb = next(i for i in t.ctl("interface", "list") if i["name"] == "irb")
    assert irb["mac"].lower().startswith("02:7e:") and irb["state"] == "up"
    stats = t.ctl("stats")
    st = {i["name"]: i for i in stats["interfaces"]}
    assert st["irb"]["tx_packets"] >= 5 and st["irb"]["rx_packets"] >= 5
    # The group's router frames passed the vswitch's stage, then the router's "ip4" arc.
    stages = {s["name"]: s for s in stats["stages"]}
    assert stages["vswitch"]["module"] == "vswitch" and stages["vswitch"]["packets"] >= 5
    for name in ("ip4-port", "ip4-input", "ip4-route"):
        assert stages[name]["module"] == "router" and stages[name]["packets"] >= 5, stages
    assert stages["ip4-input"]["arc"] == stages["ip4-route"]["arc"] == "ip4"
    assert stages["ip4-route"]["cycles"] > 0 and stages["ip4-route"]["calls"] > 0


def test_runtime_vrfs_and_interfaces(cleanup, tmp_path):
    t = PeTopo(cleanup, tmp_path, router={"vrfs": [], "interfaces": []})
    assert t.ping("acme-ent", ENT_GW, count=1, extra=("-W", "1")) == (1, 0)
    t.pe.tessctl("vrf", "add", "acme", "--id", "100", "--icmp-rate", "50")
    t.pe.tessctl("interface", "add", "acme-ent", "--vrf", "acme", "--port", "ent_acme",
                 "--address", ENT_GW + "/24")
    t.pe.tessctl("interface", "add", "acme-dc", "--vrf", "acme", "--port", "trunk",
                 "--vlan", "100", "--address", DESK_GW + "/24", "--address", "10.9.9.1/30")
    assert t.ping("acme-ent", DESK_IP, count=3) == (3, 3)
    r = t.pe.ctl("route", "show", "--vrf", "acme")
    assert {x["prefix"] for x in r if x["origin"] == "connected"} == {
        "192.168.10.0/24", "192.168.50.0/24", "10.9.9.0/30"}
    t.pe.tessctl("route", "add", "10.50.0.0/16", "--vrf", "acme", "--via", "10.9.9.2")
    # In use: refused, and nothing changes.
    r = t.pe.tessctl("interface", "del", "acme-dc", check=False)
    assert r.returncode == 1 and "10.50.0.0/16" in r.stderr
    r = t.pe.tessctl("vrf", "del", "acme", check=False)
    assert r.returncode == 1 and "acme-ent" in r.stderr
    t.pe.tessctl("route", "del", "10.50.0.0/16", "--vrf", "acme")
    t.pe.tessctl("interface", "del", "acme-dc")
    assert t.ping("acme-ent", DESK_IP, count=1, extra=("-W", "1")) == (1, 0)
    t.pe.tessctl("interface", "del", "acme-ent")
    t.pe.tessctl("vrf", "del", "acme")
    assert t.pe.ctl("vrf", "list") == [] and t.pe.ctl("route", "show") == []
    # The ports are plain again: nothing routes.
    assert t.ping("acme-ent", ENT_GW, count=1, extra=("-W", "1")) == (1, 0)


def test_routes_found_after_a_vrf_and_its_routes_go(cleanup, tmp_path):
    """vrf.del takes its static routes along: the other VRFs' routes are still
    found (route.del) and still refused twice (route.add)."""
    t = PeTopo(cleanup, tmp_path)
    t.pe.tessctl("vrf", "add", "temp", "--id", "300")
    t.pe.tessctl("route", "add", "10.61.0.0/16", "--vrf", "temp", "--blackhole")
    t.pe.tessctl("route", "add", "10.62.0.0/16", "--vrf", "acme", "--blackhole")
    t.pe.tessctl("route", "add", "10.63.0.0/16", "--vrf", "acme", "--blackhole")
    t.pe.tessctl("vrf", "del", "temp")
    r = t.pe.tessctl("route", "add", "10.63.0.0/16", "--vrf", "acme", "--blackhole",
                     check=False)
    assert r.returncode == 1 and "already has a static route" in r.stderr, r.stderr
    t.pe.tessctl("route", "del", "10.62.0.0/16", "--vrf", "acme")
    t.pe.tessctl("route", "del", "10.63.0.0/16", "--vrf", "acme")
    assert not {x["prefix"] for x in t.pe.ctl("route", "show", "--vrf", "acme")} & {
        "10.62.0.0/16", "10.63.0.0/16"}


def test_api_errors_change_nothing(cleanup, tmp_path):
    t = PeTopo(cleanup, tmp_path)
    before = t.pe.ctl("config", "show")
    routes = t.pe.ctl("route", "show")
    bad = [
        (("vrf", "add", "acme", "--id", "7"), "exists"),
        (("vrf", "add", "other", "--id", "100"), "already VRF 'acme'"),
        (("vrf", "add", "other", "--id", "5000"), "4095"),
        (("vrf", "del", "acme"), "has interfaces"),
        (("vrf", "del", "nope"), "no VRF"),
        (("interface", "add", "x", "--vrf", "acme", "--port", "trunk", "--vlan", "100",
          "--address", "10.1.1.1/24"), "already interface"),
        (("interface", "add", "x", "--vrf", "acme", "--port", "trunk", "--vlan", "300",
          "--group", "g", "--address", "10.1.1.1/24"), "one of port, group"),
        (("interface", "add", "x", "--vrf", "acme", "--port", "trunk", "--vlan", "300",
          "--address", "192.168.50.7/25"), "overlaps"),
        (("interface", "add", "x", "--vrf", "acme", "--port", "trunk", "--vlan", "300",
          "--address", "10.1.1.255/24"), "broadcast"),
        (("interface", "add", "x", "--vrf", "nope", "--port", "trunk", "--vlan", "300"),
         "no VRF"),
        (("interface", "add", "x", "--vrf", "acme", "--port", "trunk", "--vlan", "300",
          "--mtu", "9000"), "more than port"),
        (("interface", "del", "nope"), "no interface"),
        (("route", "add", "10.0.0.0/8", "--vrf", "acme"), "needs next hops"),
        (("route", "add", "10.0.0.1/8", "--vrf", "acme", "--via", DESK_IP), "host bits"),
        (("route", "add", "10.0.0.0/8", "--vrf", "acme", "--via", "172.16.0.1"),
         "not on a connected subnet"),
        (("route", "add", "10.0.0.0/8", "--vrf", "acme", "--via", DESK_GW), "address of this"),
        (("route", "add", "10.0.0.0/8", "--vrf", "acme", "--via", DESK_IP + "@bravo-dc"),
         "in VRF bravo"),
        (("route", "add", "192.168.50.0/24", "--vrf", "acme", "--blackhole"), "connected"),
        (("route", "add", "10.0.0.0/8", "--vrf", "acme", "--to-vrf", "acme"), "own VRF"),
        (("route", "add", "10.0.0.0/33", "--vrf", "acme", "--blackhole"), "prefix"),
        (("route", "del", "192.168.50.0/24", "--vrf", "acme"), "connected route"),
        (("route", "del", "10.0.0.0/8", "--vrf", "acme"), "no route"),
        (("route", "show", "--vrf", "acme", "banana"), "neither"),
        (("neigh", "add", DESK_GW, "02:00:00:00:00:01", "--vrf", "acme"), "address of this"),
        (("neigh", "add", "172.16.0.1", "02:00:00:00:00:01", "--vrf", "acme"), "subnet"),
        (("neigh", "add", DESK_IP, "01:00:00:00:00:01", "--vrf", "acme"), "mac"),
        (("neigh", "del", "192.168.50.99", "--vrf", "acme"), "no neighbour"),
        (("stats", "--vrf", "nope"), "no VRF"),
        (("port", "del", "trunk"), "carries router interface"),
        (("port", "set", "trunk", "--mode", "access", "--group", "g"), "no group"),
    ]
    for args, msg in bad:
        r = t.pe.tessctl(*args, check=False)
        assert r.returncode != 0, args
        assert msg.lower() in r.stderr.lower(), (args, r.stderr)
    t.pe.tessctl("route", "add", "10.0.0.0/8", "--vrf", "acme", "--blackhole")
    r = t.pe.tessctl("route", "add", "10.0.0.0/8", "--vrf", "acme", "--reject", check=False)
    assert r.returncode == 1 and "already has a static route" in r.stderr
    t.pe.tessctl("route", "del", "10.0.0.0/8", "--vrf", "acme")
    assert t.pe.ctl("config", "show") == before
    assert t.pe.ctl("route", "show") == routes
    # Switch ports cannot carry interfaces; the router still works after all of it.
    assert t.ping("acme-ent", DESK_IP, count=2) == (2, 2)
    # Raw requests with wrong types.
    for params in ({"name": 5, "id": 1}, {"name": "x", "id": "1"}, {"name": "x"},
                   {"name": "x", "id": 1, "bogus": 1}):
        r = subprocess.run([tess.TESSCTL, "-s", t.pe.socket, "--json", "call", "vrf.add",
                            json.dumps(params)], capture_output=True, text=True)
        assert r.returncode != 0, params
    assert t.pe.ctl("config", "show") == before


def test_startup_config_and_check(cleanup, tmp_path):
    cfg = {"router": router_config(routes=[
        {"vrf": "acme", "prefix": "10.1.0.0/16", "nexthops": [{"via": "192.168.50.20"}]},
        {"vrf": "acme", "prefix": "10.2.0.0/16", "type": "vrf", "target_vrf": "bravo"}],
        neighbours=[{"vrf": "acme", "ip": "192.168.50.20", "mac": "02:00:00:00:0e:20"}])}
    t = PeTopo(cleanup, tmp_path, router=cfg["router"])
    r = {x["prefix"]: x for x in t.pe.ctl("route", "show", "--vrf", "acme")}
    assert r["10.1.0.0/16"]["origin"] == "static"
    assert r["10.2.0.0/16"]["type"] == "vrf" and r["10.2.0.0/16"]["target_vrf"] == "bravo"
    assert t.neigh("acme")["192.168.50.20"]["state"] == "static"
    # A leak into bravo reaches bravo's desktop, tagged 200... for bravo's routes only.
    t.pe.tessctl("route", "add", "10.2.0.0/16", "--vrf", "bravo", "--via", DESK_IP)
    trunk = t.capture_trunk()
    s = t.sock("acme-ent")
    s.send(bytes(Ether(src=ENT_MAC["acme"], dst=t.router_mac("acme-ent")) /
                 IP(src=ENT_IP, dst="10.2.3.4") / UDP(sport=4, dport=4444)))
    s.send(bytes(Ether(src=ENT_MAC["acme"], dst=t.router_mac("acme-ent")) /
                 IP(src=ENT_IP, dst="10.2.3.4") / UDP(sport=4, dport=4444)))
    time.sleep(0.5)
    got = [Ether(f) for f in trunk.close() if UDP in Ether(f) and Ether(f)[UDP].dport == 4444]
    assert got and all(p[Dot1Q].vlan == 200 for p in got)
    # tessd --check names the broken part of a router config.
    bad = json.loads(json.dumps(t.pe.config))
    bad["router"]["routes"][0]["nexthops"][0]["via"] = "172.16.0.1"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    r = subprocess.run([tess.TESSD, "-c", str(path), "--check"], capture_output=True, text=True)
    assert r.returncode == 1 and "/router/routes/0/nexthops/0/via" in r.stderr, r.stderr
