# SPDX-License-Identifier: BSD-3-Clause
"""The host vswitch with real frames: two tenants on the same addresses, VLAN rules on access
and trunk ports, learning, limits, aging, moves, anti-spoofing, storm control, runtime changes."""
import errno
import json
import os
import threading
import time

from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import ARP, Dot1Q, Ether
from scapy.packet import Raw

import tess
from testpmd import Testpmd
from vsw_topo import IPS, MAC, UPLINK_IP, UPLINK_MAC, Topo

BCAST = "ff:ff:ff:ff:ff:ff"


def marked(frames, marker):
    return [f for f in frames if marker in f]


def test_tenants_with_the_same_addresses_stay_apart(cleanup, tmp_path):
    t = Topo(cleanup, tmp_path)
    caps = {n: t.capture(n) for n in ("a1", "a2", "b1", "b2")}
    # Same IPs and MACs in both tenants; each tenant's pings carry their own pattern.
    assert t.ping("a1", IPS[2], pattern="aa") == (3, 3)
    assert t.ping("b1", IPS[2], pattern="bb") == (3, 3)
    assert t.ping("a2", IPS[1], pattern="aa") == (3, 3)
    assert t.ping("b2", IPS[1], pattern="bb") == (3, 3)
    # Through the trunk, each tenant reaches the uplink's host on its own VLAN.
    assert t.ping("a1", UPLINK_IP, pattern="aa") == (3, 3)
    assert t.ping("b1", UPLINK_IP, pattern="bb") == (3, 3)
    neigh = t.ns["a1"].run("ip", "neigh", "show", UPLINK_IP).stdout
    assert UPLINK_MAC[100] in neigh.lower()
    neigh = t.ns["b1"].run("ip", "neigh", "show", UPLINK_IP).stdout
    assert UPLINK_MAC[200] in neigh.lower()
    time.sleep(0.3)
    frames = {n: c.close() for n, c in caps.items()}
    # No frame of one tenant is ever seen in the other's network.
    for n in ("a1", "a2"):
        assert marked(frames[n], b"\xaa" * 16) and not marked(frames[n], b"\xbb" * 16), n
    for n in ("b1", "b2"):
        assert marked(frames[n], b"\xbb" * 16) and not marked(frames[n], b"\xaa" * 16), n
    # On the trunk, acme is VLAN 100 and bravo VLAN 200, always tagged.
    assert t.endpoint.untagged == 0
    vids = {"aa": set(), "bb": set()}
    for vid, inner, pkt in t.endpoint.seen:
        raw = bytes(pkt)
        for p in vids:
            if bytes.fromhex(p) * 16 in raw:
                vids[p].add(vid)
    assert vids == {"aa": {100}, "bb": {200}}
    # The FDB holds the same MACs once per tenant.
    fdb = t.fdb()
    got = sorted((e["group"], e["mac"].lower(), e["port"]) for e in fdb
                 if e["mac"].lower() in MAC.values())
    assert got == [("acme", MAC[1], "a1"), ("acme", MAC[2], "a2"),
                   ("bravo", MAC[1], "b1"), ("bravo", MAC[2], "b2")]
    g = t.groups()
    assert g["acme"]["tenant"] == "Acme Corp" and g["acme"]["vlan"] == 100
    for name in ("acme", "bravo"):
        assert g[name]["rx_packets"] > 0 and g[name]["tx_packets"] > 0 and g[name]["flooded"] > 0
    # Human tables.
    out = t.tessd.tessctl("stats").stdout
    assert "GROUP" in out and "Acme Corp" in out
    out = t.tessd.tessctl("group", "list").stdout
    assert "acme" in out and "a1 a2 up" in out
    out = t.tessd.tessctl("fdb", "show", "--group", "bravo").stdout
    assert "bravo" in out and "acme" not in out


def test_vlan_rules_on_access_and_trunk(cleanup, tmp_path):
    t = Topo(cleanup, tmp_path)
    caps = {n: t.capture(n) for n in ("a1", "a2", "b1", "b2")}
    s = t.sock("a1")
    src = MAC[1]

    def send_a1(*layers, marker):
        pkt = Ether(src=src, dst=BCAST)
        for lay in layers:
            pkt = pkt / lay
        s.send(bytes(pkt / Raw(marker + b"." * 40)))

    t.tessd.tessctl("stats", "--reset")
    send_a1(Dot1Q(vlan=200, type=0x88b5), marker=b"HOP1")  # tagged into bravo: no
    send_a1(Dot1Q(vlan=0), Dot1Q(vlan=200, type=0x88b5), marker=b"HOP2")  # priority + tag: no
    send_a1(Dot1Q(vlan=0, prio=5, type=0x88b5), marker=b"PRIO")  # priority tag = untagged
    send_a1(Dot1Q(vlan=0), Dot1Q(vlan=0, type=0x88b5), marker=b"PRI2")  # two: no
    t.endpoint.send(Ether(src="02:00:00:00:00:fe", dst=BCAST) / Dot1Q(vlan=100) /
                    Dot1Q(vlan=200, type=0x88b5) / Raw(b"QINQ" + b"." * 40))
    t.endpoint.send(Ether(src="02:00:00:00:00:fe", dst=BCAST) / Dot1Q(vlan=300, type=0x88b5) /
                    Raw(b"V300" + b"." * 40))
    t.endpoint.send(Ether(src="02:00:00:00:00:fe", dst=BCAST, type=0x88b5) /
                    Raw(b"UNTG" + b"." * 40))
    time.sleep(0.5)
    frames = {n: c.close() for n, c in caps.items()}
    everywhere = [f for fs in frames.values() for f in fs]
    for m in (b"HOP1", b"HOP2", b"PRI2", b"V300", b"UNTG"):
        assert not marked(everywhere, m), m
    # The priority-tagged frame reached the other acme desktop untagged.
    prio = marked(frames["a2"], b"PRIO")
    assert len(prio) == 1 and prio[0][12:14] == b"\x88\xb5"
    # A double-tagged frame from the trunk stays in the outer VLAN's group,
    # inner tag and all: it never reaches bravo.
    qinq = marked(frames["a1"], b"QINQ") + marked(frames["a2"], b"QINQ")
    assert len(qinq) == 2 and all(Ether(f)[Dot1Q].vlan == 200 for f in qinq)
    assert not marked(frames["b1"] + frames["b2"], b"QINQ")
    st = t.port_stats()
    assert st["a1"]["drops"]["tagged_on_access"] == 1, st["a1"]
    assert st["a1"]["drops"]["priority_stacked"] == 2, st["a1"]
    assert st["up"]["drops"]["vlan_not_carried"] == 1, st["up"]
    assert st["up"]["drops"]["untagged_on_trunk"] == 1, st["up"]
    # The same drops by module and reason, as VPP's `show errors`.
    drops = t.tessd.ctl("stats")["drops"]
    assert drops["vswitch"] == {"tagged_on_access": 1, "priority_stacked": 2,
                                "vlan_not_carried": 1, "untagged_on_trunk": 1}, drops
    assert "DROP-REASON" in t.tessd.tessctl("stats").stdout
    s.close()


def send_from(sock, src, n, marker, dst=BCAST):
    for i in range(n):
        sock.send(bytes(Ether(src=src, dst=dst, type=0x88b5) / Raw(marker + b"%04d" % i + b"." * 40)))


def test_mac_limits(cleanup, tmp_path):
    t = Topo(cleanup, tmp_path, trunk=False, port_kw={"a1": {"mac_limit": 2}},
             switch={"groups": [{"name": "acme", "vlan": 100},
                                {"name": "bravo", "vlan": 200, "mac_limit": 1}]})
    cap = t.capture("a2")
    s = t.sock("a1")
    macs = [f"02:00:00:00:0a:{i:02x}" for i in range(5)]
    for m in macs:
        send_from(s, m, 1, b"LIM")
    time.sleep(0.3)
    learned = [e for e in t.fdb(port="a1")]
    assert len(learned) == 2, learned
    # The refused ones still get through, by flooding: only the sender can suffer.
    assert len(marked(cap.close(), b"LIM")) == 5
    ps = {p["name"]: p for p in t.tessd.ctl("port", "list")}
    assert ps["a1"]["learn_refused"] >= 3 and ps["a1"]["fdb_learned"] == 2
    # Group limit: bravo holds one learned MAC at most.
    send_from(t.sock("b1"), "02:00:00:00:0b:01", 1, b"G1")
    send_from(t.sock("b2"), "02:00:00:00:0b:02", 1, b"G2")
    time.sleep(0.3)
    assert len(t.fdb(group="bravo")) == 1
    assert t.groups()["bravo"]["learn_refused"] >= 1
    s.close()


def test_aging_move_and_flush(cleanup, tmp_path):
    t = Topo(cleanup, tmp_path, trunk=False, switch={"aging_sec": 2})
    s1, s2 = t.sock("a1"), t.sock("a2")
    x = "02:00:00:00:0c:01"
    send_from(s1, x, 1, b"MV")
    t.wait_fdb(lambda f: any(e["mac"].lower() == x and e["port"] == "a1" for e in f))
    # The same MAC now talks from a2: the entry moves.
    send_from(s2, x, 1, b"MV")
    t.wait_fdb(lambda f: any(e["mac"].lower() == x and e["port"] == "a2" for e in f),
               what="the move to a2")
    assert len([e for e in t.fdb() if e["mac"].lower() == x]) == 1
    # Unicast to it now goes to a2 only.
    cap1, cap2 = t.capture("a1"), t.capture("a2")
    bs = t.sock("b1")  # another tenant cannot reach it at all
    send_from(bs, "02:00:00:00:0c:09", 1, b"XT", dst=x)
    s1.send(bytes(Ether(src=MAC[1], dst=x, type=0x88b5) / Raw(b"UNI" + b"." * 40)))
    time.sleep(0.3)
    assert len(marked(cap2.close(), b"UNI")) == 1
    f1 = cap1.close()
    assert not marked(f1, b"UNI") and not marked(f1, b"XT")
    # Silent for more than aging_sec: gone.
    t.wait_fdb(lambda f: not any(e["mac"].lower() == x for e in f), timeout=6,
               what="the entry to age out")
    # Flush by port.
    send_from(s1, "02:00:00:00:0c:02", 1, b"FL")
    send_from(s2, "02:00:00:00:0c:03", 1, b"FL")
    t.wait_fdb(lambda f: len(f) >= 2)
    assert t.tessd.ctl("fdb", "flush", "--port", "a1")["flushed"] >= 1
    assert all(e["port"] != "a1" for e in t.fdb())
    for s in (s1, s2, bs):
        s.close()


def test_anti_spoofing_and_ip_source_guard(cleanup, tmp_path):
    t = Topo(cleanup, tmp_path, trunk=False, port_kw={
        "a1": {"anti_spoof": "on", "allowed_macs": [MAC[1]]},
        "a2": {"anti_spoof": "on"},  # locks to the first source MAC
        "b1": {"allowed_ips": [IPS[1]], "allowed_macs": [MAC[1]]},  # auto: on, by the lists
    })
    # The tap spoke (IPv6 solicitations) with its first MAC before the test set the desktop's:
    # that locked a2. Changing its rules unlocks it, so the next frame locks again.
    ports = {p["name"]: p for p in t.tessd.ctl("port", "list")}
    assert ports["a2"].get("locked_mac", "").lower() != MAC[2]
    t.tessd.ctl("port", "set", "a2", "--anti-spoof", "off")
    t.tessd.ctl("port", "set", "a2", "--anti-spoof", "on")
    assert t.ping("a1", IPS[2]) == (3, 3)
    ports = {p["name"]: p for p in t.tessd.ctl("port", "list")}
    assert ports["a2"]["locked_mac"].lower() == MAC[2] and ports["a1"]["anti_spoof"]
    assert "locked_mac" not in ports["a1"]
    t.tessd.tessctl("stats", "--reset")
    send_from(t.sock("a1"), "02:00:00:00:0d:01", 3, b"SP1")
    send_from(t.sock("a2"), "02:00:00:00:0d:02", 2, b"SP2")
    time.sleep(0.3)
    st = t.port_stats()
    assert st["a1"]["drops"]["spoofed_mac"] == 3 and st["a2"]["drops"]["spoofed_mac"] == 2
    assert t.groups()["acme"]["drops"]["spoofed_mac"] == 5
    assert not any(e["mac"].startswith("02:00:00:00:0D") for e in t.fdb())
    # IP source guard on b1: its own address works, others do not, ARP included.
    assert t.ping("b1", IPS[2]) == (3, 3)
    sb = t.sock("b1")
    cap = t.capture("b2")
    sb.send(bytes(Ether(src=MAC[1], dst=MAC[2]) / IP(src="192.168.1.77", dst=IPS[2]) /
                  UDP(dport=9) / Raw(b"IPSPOOF")))
    sb.send(bytes(Ether(src=MAC[1], dst=BCAST) /
                  ARP(op=1, hwsrc=MAC[1], psrc="192.168.1.77", pdst=IPS[2])))
    # Behind two priority tags the spoofed source is still refused.
    sb.send(bytes(Ether(src=MAC[1], dst=MAC[2]) / Dot1Q(vlan=0) / Dot1Q(vlan=0) /
                  IP(src="192.168.1.77", dst=IPS[2]) / UDP(dport=9) / Raw(b"IPSPOOF2")))
    # Address-less DHCP and ARP probes pass.
    sb.send(bytes(Ether(src=MAC[1], dst=BCAST) / IP(src="0.0.0.0", dst="255.255.255.255") /
                  UDP(sport=68, dport=67) / Raw(b"DHCPDISC")))
    sb.send(bytes(Ether(src=MAC[1], dst=BCAST) /
                  ARP(op=1, hwsrc=MAC[1], psrc="0.0.0.0", pdst="192.168.1.9")))
    time.sleep(0.3)
    got = cap.close()
    assert not marked(got, b"IPSPOOF") and marked(got, b"DHCPDISC")
    assert t.port_stats()["b1"]["drops"]["spoofed_ip"] == 2
    assert t.port_stats()["b1"]["drops"]["priority_stacked"] == 1
    # Changing a port's rules drops its lock.
    t.tessd.ctl("port", "set", "a2", "--anti-spoof", "off")
    ports = {p["name"]: p for p in t.tessd.ctl("port", "list")}
    assert "locked_mac" not in ports["a2"] and not ports["a2"]["anti_spoof"]
    sb.close()


def test_arp_sender_mac_must_be_the_frame_source(cleanup, tmp_path):
    """Review 3.3: an ARP whose sender MAC is not the frame's source (ARP spoofing of a
    neighbour or the gateway) is refused: spoofed_ip under the IP source guard, spoofed_mac
    under the MAC guard alone (the ports tessmgrd makes)."""
    t = Topo(cleanup, tmp_path, trunk=False, port_kw={
        "a1": {"anti_spoof": "on", "allowed_macs": [MAC[1]]},
        "b1": {"allowed_ips": [IPS[1]], "allowed_macs": [MAC[1]]},
    })
    other = "02:00:00:00:0e:01"
    capa, capb = t.capture("a2"), t.capture("b2")
    t.tessd.tessctl("stats", "--reset")
    for port in ("a1", "b1"):
        s = t.sock(port)
        # The sender's own IP, but another MAC claimed for it: a request and a reply.
        s.send(bytes(Ether(src=MAC[1], dst=BCAST) /
                     ARP(op=1, hwsrc=other, psrc=IPS[1], pdst="192.168.1.9")))
        s.send(bytes(Ether(src=MAC[1], dst=MAC[2]) /
                     ARP(op=2, hwsrc=other, psrc=IPS[1], hwdst=MAC[2], pdst=IPS[2])))
        # Its own MAC: passes.
        s.send(bytes(Ether(src=MAC[1], dst=BCAST) /
                     ARP(op=1, hwsrc=MAC[1], psrc=IPS[1], pdst="192.168.1.8")))
        s.close()
    tess.wait_for(lambda: t.port_stats()["a1"]["drops"].get("spoofed_mac", 0) == 2 and
                  t.port_stats()["b1"]["drops"].get("spoofed_ip", 0) == 2, 5,
                  lambda: f"two spoofed ARPs counted per port: {t.port_stats()}")
    time.sleep(0.3)
    for cap in (capa, capb):
        arps = [Ether(f)[ARP] for f in cap.close() if ARP in Ether(f)]
        assert not [a for a in arps if a.hwsrc.lower() == other], arps
        assert [a for a in arps if a.pdst == "192.168.1.8"], arps


def test_group_guard_keeps_desktops_to_ipv4_and_off_the_gateway(cleanup, tmp_path):
    """A group's ipv4_only drops what its access ports send that is neither IPv4 nor ARP
    (IPv6 between desktops), its dhcp_guard a DHCP server's offer, its protected_ips IPv4
    from and ARP claiming the gateway's address (ARP spoofing of the gateway, behind a
    priority tag too): in acme only; bravo, same addresses, as before. They come and go at
    runtime, and bad values are refused with their paths."""
    gw = UPLINK_IP
    t = Topo(cleanup, tmp_path, switch={"groups": [
        {"name": "acme", "tenant": "Acme Corp", "vlan": 100, "ipv4_only": True,
         "dhcp_guard": True, "protected_ips": [gw, "192.168.1.254"]},
        {"name": "bravo", "tenant": "Bravo Ltd", "vlan": 200}]})

    def call(method, params, check=True):
        r = t.tessd.tessctl("call", method, json.dumps(params), json_out=True, check=check)
        return json.loads(r.stdout) if r.returncode == 0 else r

    def burst(port, tag):
        s = t.sock(port)
        frames = [
            # IPv6 to the neighbour (link-local needs no router): ethertype 0x86dd.
            Ether(src=MAC[1], dst=MAC[2], type=0x86dd) / Raw(b"`" + b"\0" * 39 + tag + b"V6"),
            # The gateway's address claimed: a gratuitous ARP, a reply to the neighbour.
            Ether(src=MAC[1], dst=BCAST) / ARP(op=1, hwsrc=MAC[1], psrc=gw, pdst=gw),
            Ether(src=MAC[1], dst=MAC[2]) /
            ARP(op=2, hwsrc=MAC[1], psrc=gw, hwdst=MAC[2], pdst=IPS[2]),
            # IPv4 from the gateway's address.
            Ether(src=MAC[1], dst=MAC[2]) / IP(src=gw, dst=IPS[2]) / UDP(dport=9) /
            Raw(tag + b"FORGED"),
            # The claim behind a priority tag (popped before the check).
            Ether(src=MAC[1], dst=MAC[2]) / Dot1Q(vlan=0) /
            ARP(op=2, hwsrc=MAC[1], psrc=gw, hwdst=MAC[2], pdst=IPS[2]),
            # A DHCP server's offer from the desktop's own address (naming itself router),
            # and one from another port (a client's raw socket takes it all the same).
            Ether(src=MAC[1], dst=BCAST) / IP(src=IPS[1], dst="255.255.255.255") /
            UDP(sport=67, dport=68) / Raw(tag + b"OFFER"),
            Ether(src=MAC[1], dst=BCAST) / IP(src=IPS[1], dst="255.255.255.255") /
            UDP(sport=4067, dport=68) / Raw(tag + b"OFFER2"),
            # Its own: IPv4, ARP for the gateway, an ARP probe of the gateway's address.
            Ether(src=MAC[1], dst=MAC[2]) / IP(src=IPS[1], dst=IPS[2]) / UDP(dport=9) /
            Raw(tag + b"OWN"),
            Ether(src=MAC[1], dst=BCAST) / ARP(op=1, hwsrc=MAC[1], psrc=IPS[1], pdst=gw),
            Ether(src=MAC[1], dst=BCAST) / ARP(op=1, hwsrc=MAC[1], psrc="0.0.0.0", pdst=gw),
        ]
        for f in frames:
            s.send(bytes(f))
        s.close()

    def arps(frames):
        """(op, sender address) of the ARPs a1 or b1 sent (MAC[1]): not the uplink's."""
        return [(a.op, a.psrc) for a in (Ether(f)[ARP] for f in frames if ARP in Ether(f))
                if a.hwsrc == MAC[1]]

    capa, capb = t.capture("a2"), t.capture("b2")
    t.tessd.tessctl("stats", "--reset")
    burst("a1", b"A")
    burst("b1", b"B")
    tess.wait_for(lambda: t.port_stats()["a1"]["drops"].get("spoofed_ip", 0) == 4, 5,
                  lambda: f"four frames of the gateway's address dropped: {t.port_stats()}")
    time.sleep(0.3)
    got_a, got_b = capa.close(), capb.close()
    st = t.port_stats()
    assert st["a1"]["drops"].get("not_ipv4") == 1 and st["a1"]["drops"]["spoofed_ip"] == 4
    assert st["a1"]["drops"].get("rogue_dhcp") == 2
    assert t.groups()["acme"]["drops"]["not_ipv4"] == 1
    assert not any(st["b1"]["drops"].get(k) for k in ("not_ipv4", "spoofed_ip", "rogue_dhcp"))
    assert not marked(got_a, b"AV6") and not marked(got_a, b"AFORGED")
    assert not marked(got_a, b"AOFFER") and marked(got_b, b"BOFFER")
    assert marked(got_b, b"BOFFER2")
    assert marked(got_a, b"AOWN") and (1, IPS[1]) in arps(got_a) and (1, "0.0.0.0") in arps(
        got_a)
    assert gw not in [p for _, p in arps(got_a)]
    # bravo has neither rule: everything reaches b2.
    assert marked(got_b, b"BV6") and marked(got_b, b"BFORGED") and marked(got_b, b"BOWN")
    assert (2, gw) in arps(got_b)
    # A desktop still reaches the gateway and its neighbour.
    assert t.ping("a1", gw) == (3, 3) and t.ping("a1", IPS[2]) == (3, 3)

    # Bad values: each refused with its path, nothing applied.
    acme = {"name": "acme", "tenant": "Acme Corp", "vlan": 100}
    for bad, path in ((["0.0.0.0"], "/protected_ips/0"), (["224.0.0.1"], "/protected_ips/0"),
                      ([gw, gw], "/protected_ips/1"), (["1.2.3.4"] * 5, "/protected_ips"),
                      (["192.168.1.300"], "/protected_ips/0")):
        r = call("config.batch", {"edits": [{"op": "set", "array": "/switch/groups",
                                            "match": {"name": "acme"},
                                            "item": dict(acme, protected_ips=bad)}]},
                 check=False)
        assert r.returncode != 0 and path in r.stdout + r.stderr, (bad, r.stdout, r.stderr)
    r = call("port.set", {"name": "a1", "allowed_ips": [IPS[1], gw]}, check=False)
    assert r.returncode != 0 and "/allowed_ips/1" in r.stdout + r.stderr, (r.stdout, r.stderr)
    assert "protects this address" in r.stdout + r.stderr
    grp = [g for g in t.tessd.ctl("config", "show")["switch"]["groups"] if g["name"] == "acme"]
    assert grp[0]["ipv4_only"] and grp[0]["protected_ips"] == [gw, "192.168.1.254"]
    rows = {ln.split()[0]: ln for ln in t.tessd.tessctl("group", "list").stdout.splitlines()}
    assert f"ipv4-only dhcp-guard protect={gw},192.168.1.254" in rows["acme"], rows
    assert "ipv4-only" not in rows["bravo"] and "protect=" not in rows["bravo"], rows
    # tessctl's options come from the schema: a third group made with them.
    t.tessd.tessctl("group", "add", "carol", "--vlan", "300", "--ipv4-only", "--dhcp-guard",
                    "--protected-ips", "10.0.0.1,10.0.0.2")
    (g,) = [g for g in t.tessd.ctl("group", "list") if g["name"] == "carol"]
    assert g["ipv4_only"] and g["dhcp_guard"], g
    assert g["protected_ips"] == ["10.0.0.1", "10.0.0.2"], g

    # Taken away at runtime: the same frames pass.
    call("config.batch", {"edits": [{"op": "set", "array": "/switch/groups",
                                     "match": {"name": "acme"}, "item": acme}]})
    capa = t.capture("a2")
    t.tessd.tessctl("stats", "--reset")
    burst("a1", b"C")
    tess.wait_for(lambda: marked(list(capa.frames), b"CFORGED"), 5, "the forged frame through")
    got_a = capa.close()
    assert marked(got_a, b"CV6") and (2, gw) in arps(got_a)
    assert not t.port_stats()["a1"]["drops"].get("spoofed_ip")


def test_trunk_native_group_is_untagged_both_ways(cleanup, tmp_path):
    t = Topo(cleanup, tmp_path, port_kw={"up": {"native_group": "acme"}})
    caps = {n: t.capture(n) for n in ("a1", "b1")}
    t.endpoint.send(Ether(src="02:00:00:00:00:fe", dst=BCAST, type=0x88b5) /
                    Raw(b"NATIVE" + b"." * 40))
    t.endpoint.send(Ether(src="02:00:00:00:00:fe", dst=BCAST) / Dot1Q(vlan=0) /
                    Dot1Q(vlan=200, type=0x88b5) / Raw(b"NATHOP" + b"." * 40))
    s = t.sock("a1")
    send_from(s, MAC[1], 1, b"FROMA")
    send_from(t.sock("b1"), MAC[1], 1, b"FROMB")
    time.sleep(0.4)
    frames = {n: c.close() for n, c in caps.items()}
    # Untagged from the trunk lands in acme (untagged), never in bravo.
    assert len(marked(frames["a1"], b"NATIVE")) == 1 and not marked(frames["b1"], b"NATIVE")
    # A priority tag with a real tag behind it does not sneak into the native group.
    assert not marked(frames["a1"] + frames["b1"], b"NATHOP")
    assert t.port_stats()["up"]["drops"]["priority_stacked"] == 1
    # acme leaves the trunk untagged (its native group), bravo tagged.
    assert [v for v, _, p in t.endpoint.seen if b"FROMB" in bytes(p)] == [200]
    assert not [v for v, _, p in t.endpoint.seen if b"FROMA" in bytes(p)]
    assert t.endpoint.untagged >= 1
    s.close()


def test_a_mac_storm_does_not_stop_others_learning(cleanup, tmp_path):
    """A port sending from ever new MACs is held to its learn rate; other ports still learn."""
    t = Topo(cleanup, tmp_path, trunk=False)
    s = t.sock("a1")
    for i in range(6000):
        s.send(bytes(Ether(src=f"02:00:{i >> 16:02x}:{(i >> 8) & 255:02x}:{i & 255:02x}:01",
                           dst=BCAST, type=0x88b5) / Raw(b"STORMMAC")))
    send_from(t.sock("b1"), "02:00:00:00:0b:0b", 1, b"QUIET")
    t.wait_fdb(lambda f: any(e["mac"].lower() == "02:00:00:00:0b:0b" for e in f), timeout=2,
               what="bravo's MAC to be learned")
    w = t.tessd.ctl("stats")["workers"][0]
    assert w["learn_limited"] > 0 and w["learn_lost"] == 0, w
    assert t.tessd.ctl("status")["ports"] == 4  # the control thread kept serving
    # Like every counter, they start again from zero at a reset.
    t.tessd.tessctl("stats", "--reset")
    w = t.tessd.ctl("stats")["workers"][0]
    assert w["learn_limited"] == 0 and w["learn_lost"] == 0, w
    s.close()


def tagged_from(vlan, src, marker):
    return bytes(Ether(src=src, dst=BCAST) / Dot1Q(vlan=vlan, type=0x88b5) /
                 Raw(marker + b"." * 40))


def test_a_trunk_learns_each_group_up_to_its_limit(cleanup, tmp_path):
    """A trunk's mac_limit bounds each group it carries: acme's MACs arriving over the trunk
    (its desktops on other hosts) do not use up what bravo learns over it."""
    t = Topo(cleanup, tmp_path, port_kw={"up": {"mac_limit": 4}})
    s = t.sock("up")
    for i in range(10):
        s.send(tagged_from(100, f"02:00:00:00:ac:{i:02x}", b"ACME"))

    def on_up(group):
        return [e for e in t.fdb(group=group) if e["port"] == "up"]

    up = lambda: next(p for p in t.tessd.ctl("port", "list") if p["name"] == "up")  # noqa: E731
    tess.wait_for(lambda: up()["learn_refused"] >= 6, 5, lambda: f"acme's refusals: {up()}")
    assert len(on_up("acme")) == 4
    for i in range(6):
        s.send(tagged_from(200, f"02:00:00:00:b0:{i:02x}", b"BRAVO"))
    tess.wait_for(lambda: up()["learn_refused"] >= 8, 5, lambda: f"bravo's refusals: {up()}")
    assert len(on_up("bravo")) == 4 and len(on_up("acme")) == 4
    assert up()["fdb_learned"] == 8
    # A limit raised to 5 lets each group learn one more over the trunk (the counts kept).
    t.tessd.ctl("port", "set", "up", "--mac-limit", "5")
    for i in range(2):
        s.send(tagged_from(100, f"02:00:00:00:ac:{0x40 + i:02x}", b"ACME"))
        s.send(tagged_from(200, f"02:00:00:00:b0:{0x40 + i:02x}", b"BRAVO"))
    tess.wait_for(lambda: up()["learn_refused"] >= 10, 5, lambda: f"raised limit: {up()}")
    assert len(on_up("bravo")) == 5 and len(on_up("acme")) == 5
    s.close()


def test_a_tenants_mac_storm_on_a_trunk_does_not_stop_anothers_learning(cleanup, tmp_path):
    """A trunk's learn rate is per group: acme sending from ever new MACs over the trunk, above
    the rate, leaves bravo's new MACs over the same trunk learned."""
    t = Topo(cleanup, tmp_path)
    stop = threading.Event()

    sent = [0]

    def storm():
        s = t.sock("up")
        frame = bytearray(tagged_from(100, "02:01:00:00:00:01", b"STORM"))
        i = 0
        while not stop.is_set():  # far above the learn rate: the source MAC patched in place
            frame[8:11] = (i & 0xffffff).to_bytes(3, "big")
            s.send(frame)
            i += 1
        sent[0] = i
        s.close()

    th = threading.Thread(target=storm)
    th.start()
    try:
        time.sleep(0.5)
        s = t.sock("up")
        macs = [f"02:00:00:00:b1:{i:02x}" for i in range(10)]
        for m in macs:
            s.send(tagged_from(200, m, b"QUIET"))
            time.sleep(0.05)
        t.wait_fdb(lambda f: all(any(e["mac"].lower() == m for e in f) for m in macs),
                   timeout=2, what="bravo's MACs learned during acme's storm")
        s.close()
    finally:
        stop.set()
        th.join()
    w = t.tessd.ctl("stats")["workers"][0]
    assert sent[0] > 5000 and w["learn_limited"] > 0, (sent, w)


def test_a_new_mac_wakes_the_control_thread_to_learn_it(cleanup, tmp_path):
    """A worker's learn event kicks the control thread (status control_kicks), so the MAC is
    learnt at once rather than at its next 10 ms tick (frames to it flooded until then)."""
    t = Topo(cleanup, tmp_path, trunk=False)
    kicks = lambda: t.tessd.ctl("status")["control_kicks"]
    s = t.sock("a1")
    for i in range(3):
        x = f"02:00:00:00:0d:{i:02x}"
        k0 = kicks()
        send_from(s, x, 1, b"KICK")
        t.wait_fdb(lambda f: any(e["mac"].lower() == x for e in f), what=f"{x} to be learned")
        assert kicks() > k0, (i, k0)
    s.close()


def test_default_mac_limits_keep_the_fdb_for_others(cleanup, tmp_path):
    """Review 3.4: with no mac_limit set, a port holds at most a sixteenth of the FDB (a
    group a quarter): one port sending from ever new MACs cannot fill it for the others."""
    t = Topo(cleanup, tmp_path, trunk=False, switch={"fdb_size": 1024})
    s = t.sock("a1")
    for i in range(1200):
        s.send(bytes(Ether(src=f"02:00:00:{i >> 8:02x}:{i & 255:02x}:01", dst=BCAST,
                           type=0x88b5) / Raw(b"MANYMAC")))
        if i % 100 == 99:
            time.sleep(0.1)  # under the learn rate: every one is asked for
    s.close()

    def a1():
        return next(p for p in t.tessd.ctl("port", "list") if p["name"] == "a1")
    tess.wait_for(lambda: a1()["fdb_learned"] + a1()["learn_refused"] >= 1100, 10,
                  lambda: f"a1's MACs learned or refused: {a1()}")
    assert a1()["fdb_learned"] <= 1024 // 16, a1()
    send_from(t.sock("b1"), "02:00:00:00:0b:0c", 1, b"NEWMAC")
    t.wait_fdb(lambda f: any(e["mac"].lower() == "02:00:00:00:0b:0c" for e in f), timeout=3,
               what="bravo's new MAC learned")


def test_storm_control(cleanup, tmp_path):
    t = Topo(cleanup, tmp_path, trunk=False, port_kw={"a1": {"storm_pps": 100}})
    cap = t.capture("a2")
    s = t.sock("a1")
    t0 = time.time()
    send_from(s, "02:00:00:00:0e:01", 600, b"STORM")
    elapsed = time.time() - t0
    time.sleep(0.3)
    passed = len(marked(cap.close(), b"STORM"))
    st = t.port_stats()["a1"]
    assert st["drops"]["storm"] + passed == 600
    # A 16-frame burst plus 100 per second, and a little slack for timing.
    assert passed <= 16 + 100 * (elapsed + 0.5) and st["drops"]["storm"] > 300, (passed, elapsed)
    assert t.groups()["acme"]["drops"]["storm"] == st["drops"]["storm"]
    s.close()


def test_runtime_ports_and_groups_lose_nothing_elsewhere(cleanup, tmp_path):
    t = Topo(cleanup, tmp_path, trunk=False)
    assert t.ping("b1", IPS[2], count=2) == (2, 2)
    result = {}
    pinger = threading.Thread(target=lambda: result.update(
        r=t.ping("b1", IPS[2], count=400, interval=0.005)))
    pinger.start()
    u = tess.uid()
    changes = 0
    while pinger.is_alive() or changes < 6:
        name = f"x{changes}"
        t.tessd.ctl("port", "add", name, f"net_tap{10 + changes % 3},iface=x{u}{changes}"[:60],
                    "--mode", "access", "--group", "acme")
        t.tessd.ctl("port", "set", "a2", "--mac-limit", str(changes + 1))
        t.tessd.ctl("group", "add", f"g{changes}", "--vlan", str(1000 + changes))
        t.tessd.ctl("group", "del", f"g{changes}")
        t.tessd.ctl("port", "del", name)
        changes += 1
    pinger.join()
    assert result["r"] == (400, 400)
    assert t.ping("a1", IPS[2], count=2) == (2, 2)


def test_runtime_port_joins_and_leaves(cleanup, tmp_path):
    t = Topo(cleanup, tmp_path, trunk=False)
    u = tess.uid()
    ifc = f"n{u}"[:15]
    r = t.tessd.ctl("port", "add", "a3", f"net_tap9,iface={ifc}", "--mode", "access",
                    "--group", "acme")
    assert r["mode"] == "access"
    ns = tess.Netns(cleanup)
    ns.attach(ifc, "192.168.1.3/24")
    assert ns.ping(IPS[1], count=3) == (3, 3)
    # Moved into bravo: now it reaches bravo's .1, learned there, and its acme entries are gone.
    t.tessd.ctl("port", "set", "a3", "--group", "bravo")
    assert not any(e["port"] == "a3" and e["group"] == "acme" for e in t.fdb())
    assert ns.ping(IPS[1], count=3) == (3, 3)
    assert any(e["port"] == "a3" and e["group"] == "bravo" for e in t.fdb())
    # Config shows it; deleting it takes its tap away.
    cfg = t.tessd.ctl("config", "show")
    assert [p for p in cfg["ports"] if p["name"] == "a3"][0]["group"] == "bravo"
    assert t.tessd.ctl("port", "del", "a3") == {"name": "a3"}
    assert ns.run("ip", "link", "show", ifc, check=False).returncode != 0
    assert not any(e["port"] == "a3" for e in t.fdb())


def test_api_errors_change_nothing(cleanup, tmp_path):
    t = Topo(cleanup, tmp_path, trunk=False)
    before = t.tessd.ctl("config", "show")

    def err(*args):
        r = t.tessd.tessctl("--json", *args, check=False)
        assert r.returncode != 0, args
        return json.loads(r.stdout)["error"] if r.stdout else {"message": r.stderr}

    e = err("group", "del", "acme")
    assert e["code"] == errno.EBUSY and '"a1"' in e["message"]
    e = err("group", "add", "dup", "--vlan", "100")
    assert e["code"] == errno.EEXIST and e["path"] == "/params/vlan"
    e = err("group", "add", "big", "--vlan", "4095")
    assert e["code"] == errno.ERANGE and e["path"] == "/params/vlan"
    e = err("group", "add", "acme", "--vlan", "300")
    assert e["code"] == errno.EEXIST
    e = err("port", "set", "a1", "--group", "nope")
    assert e["code"] == errno.ENOENT and e["path"] == "/params/group"
    e = err("port", "set", "a1", "--mode", "trunk")
    assert e["path"] == "/params/group"  # a trunk has no group
    e = err("port", "set", "a1", "--mtu", "1400")
    assert e["path"] == "/params/mtu" and "delete and add" in e["message"]
    e = err("port", "set", "a1", "--allow-mac", "01:00:5e:00:00:01")
    assert e["path"] == "/params/allowed_macs/0" and "multicast" in e["message"]
    e = err("port", "set", "zz", "--mac-limit", "3")
    assert e["code"] == errno.ENOENT
    e = err("port", "add", "a1", "net_tap20,iface=qq")
    assert e["code"] == errno.EEXIST
    e = err("port", "add", "n1", "net_tap0,iface=qq")
    assert e["path"] == "/params/devargs"
    e = err("port", "add", "n2", "net_memif7,role=bogus", "--mode", "access", "--group", "acme")
    assert e["path"] == "/params/devargs" and "cannot probe" in e["message"]
    e = err("port", "add", "n2", "net_bogus0", "--mode", "access", "--group", "acme")
    assert e["path"] == "/params/devargs" and "not allowed" in e["message"]
    e = err("fdb", "add", "acme", MAC[1], "b1")
    assert "not in group" in e["message"]
    e = err("fdb", "del", "acme", "02:00:00:00:77:77")
    assert e["code"] == errno.ENOENT
    e = err("fdb", "show", "--group", "nope")
    assert e["code"] == errno.ENOENT and e["path"] == "/params/group"
    r = t.tessd.tessctl("port", "set", "a1", "--mac-limit", "x", check=False)
    assert r.returncode == 2
    assert t.tessd.ctl("config", "show") == before
    # Static MACs: pinned, never moved by learning, and part of the config.
    t.tessd.ctl("fdb", "add", "acme", "02:00:00:00:0f:01", "a1")
    send_from(t.sock("a2"), "02:00:00:00:0f:01", 1, b"ST")
    time.sleep(0.3)
    e = [x for x in t.fdb() if x["mac"].lower() == "02:00:00:00:0f:01"]
    assert e == [dict(e[0], port="a1", type="static")]
    e = err("port", "del", "a1")
    assert e["code"] == errno.EBUSY and "static MAC" in e["message"]
    cfg = t.tessd.ctl("config", "show")
    acme = [g for g in cfg["switch"]["groups"] if g["name"] == "acme"][0]
    assert acme["static_macs"] == [{"mac": "02:00:00:00:0f:01", "port": "a1"}]
    t.tessd.ctl("fdb", "del", "acme", "02:00:00:00:0f:01")
    assert not [x for x in t.fdb() if x["mac"].lower() == "02:00:00:00:0f:01"]


def test_vm_desktops_on_vhost_user_and_memif(cleanup, tmp_path):
    """VMs are desktops like the taps: two vhost-user VMs (testpmd's virtio-user), one per
    tenant and with the same MAC, and a memif desktop in acme."""
    socks = [os.path.join(tmp_path, f"vm{i}.sock") for i in (0, 1)]
    msock = os.path.join(tmp_path, "memif.sock")
    vm_mac = "02:00:00:00:00:77"
    vm_bytes = bytes.fromhex(vm_mac.replace(":", ""))
    t = Topo(cleanup, tmp_path, trunk=False, tessd_kw={"main_cpu": 1}, extra_ports=[
        {"name": "vma", "devargs": f"net_vhost5,iface={socks[0]},queues=1", "mode": "access",
         "group": "acme"},
        {"name": "vmb", "devargs": f"net_vhost6,iface={socks[1]},queues=1", "mode": "access",
         "group": "bravo"},
        {"name": "mem", "devargs": f"net_memif0,role=server,socket={msock}", "mode": "access",
         "group": "acme"}])
    caps = {n: t.capture(n) for n in ("a1", "a2", "b1", "b2")}
    tp = Testpmd(cleanup, [f"net_virtio_user0,path={socks[0]},queues=1,mac={vm_mac}",
                           f"net_virtio_user1,path={socks[1]},queues=1,mac={vm_mac}",
                           f"net_memif0,role=client,socket={msock},mac=02:00:00:00:00:88"],
                 lcores="0@0,1@0", memory_mb=256,
                 args=["--forward-mode=rxonly", "--total-num-mbufs=8192", "--txd=512",
                       "--rxd=512"], log_path=os.path.join(tmp_path, "vm.log"))
    for p in range(3):
        tp.wait_link(p)
        tp.cmd(f"set eth-peer {p} {BCAST}")
    tp.cmd("start tx_first 2")  # 64 broadcasts from each VM
    time.sleep(0.5)
    frames = {n: c.close() for n, c in caps.items()}
    for n in ("a1", "a2", "b1", "b2"):
        from_vm = [f for f in frames[n] if f[6:12] == vm_bytes]
        assert len(from_vm) == 64, (n, len(from_vm))  # its own tenant's VM only, not both
    for n in ("a1", "a2"):
        assert len([f for f in frames[n] if f[6:12] == bytes.fromhex("020000000088")]) == 64
    for n in ("b1", "b2"):
        assert not [f for f in frames[n] if f[6:12] == bytes.fromhex("020000000088")]
    # The same MAC, learned and locked once per tenant (anti-spoofing is on for vhost-user).
    ports = {p["name"]: p for p in t.tessd.ctl("port", "list")}
    assert ports["vma"]["locked_mac"].lower() == vm_mac == ports["vmb"]["locked_mac"].lower()
    assert not ports["mem"]["anti_spoof"]
    fdb = {(e["group"], e["port"]) for e in t.fdb() if e["mac"].lower() == vm_mac}
    assert fdb == {("acme", "vma"), ("bravo", "vmb")}
    # Unicast to that MAC from each tenant reaches that tenant's VM only.
    tp.cmd("clear port stats all")
    sa, sb = t.sock("a1"), t.sock("b1")
    for i in range(10):
        sa.send(bytes(Ether(src=MAC[1], dst=vm_mac, type=0x88b5) / Raw(b"TOVM" + b"." * 50)))
    for i in range(7):
        sb.send(bytes(Ether(src=MAC[1], dst=vm_mac, type=0x88b5) / Raw(b"TOVM" + b"." * 50)))
    tess.wait_for(lambda: tp.port_stats(0)["rx_packets"] >= 10 and
                  tp.port_stats(1)["rx_packets"] >= 7, 3, "the frames at the VMs")
    time.sleep(0.2)
    assert [tp.port_stats(p)["rx_packets"] for p in range(3)] == [10, 7, 0]
    tp.quit()
    sa.close()
    sb.close()
