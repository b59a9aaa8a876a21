# SPDX-License-Identifier: BSD-3-Clause
"""The DHCP server of router interfaces: two tenants in their own VRFs, on the same
addresses, with the same client MACs and the same pools; real clients (busybox udhcpc),
reservations, exhaustion, a tessd restart that keeps leases, malformed packets.

    acme  (ns) client --tap-- PE tessd  VRF acme:  lan 10.20.0.1/24, DHCP .100-.103
    bravo (ns) client --tap--           VRF bravo: lan 10.20.0.1/24, DHCP .100-.103
"""
import json
import os
import random
import threading
import time

import pytest

from scapy.layers.dhcp import BOOTP, DHCP
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether

import tess

GW = "10.20.0.1"
CLIENT_MAC = "02:00:00:00:c1:01"  # the same in both tenants
RESV_MAC = "02:00:00:00:c1:99"
RESV_IP = "10.20.0.50"
TENANTS = ("acme", "bravo")

def dhcp_server(iface, **kw):
    s = {"interface": iface, "pools": [{"start": "10.20.0.100", "end": "10.20.0.103"}],
         "lease_sec": 600, "dns": ["10.20.0.53"], "domain": "tenant.example",
         "routes": [{"prefix": "10.99.0.0/16", "via": GW}]}
    s.update(kw)
    return s


class DhcpTopo:
    def __init__(self, cleanup, tmp_path, servers=None, dhcp_kw=None, **vrf_kw):
        u = tess.uid()
        self.cleanup, self.tmp = cleanup, str(tmp_path)
        self.ifs = {t: f"d{t[0]}{u}"[:15] for t in TENANTS}
        ports = [tess.tap_port(f"p_{t}", self.ifs[t], i) for i, t in enumerate(TENANTS)]
        self.pe = tess.Tessd(cleanup, tmp_path, ports=ports)
        self.pe.config["router"] = {
            "vrfs": [dict({"name": t, "id": 100 + i}, **vrf_kw) for i, t in enumerate(TENANTS)],
            "interfaces": [{"name": f"{t}-lan", "vrf": t, "port": f"p_{t}",
                            "addresses": [GW + "/24"]} for t in TENANTS],
        }
        self.pe.config["dhcp"] = {"servers": servers if servers is not None else [
            dhcp_server("acme-lan", reservations=[
                {"mac": RESV_MAC, "address": RESV_IP, "hostname": "printer"}]),
            dhcp_server("bravo-lan")]}
        self.pe.config["dhcp"].update(dhcp_kw or {})
        self.pe.start()
        self.ns = {t: tess.peer(cleanup, self.ifs[t], mac=CLIENT_MAC) for t in TENANTS}

    def udhcpc(self, t, mac=None, extra=()):
        """Runs udhcpc once in tenant t's namespace: (address, mask, router, rest) or None."""
        ns = self.ns[t]
        if mac:
            ns.run("ip", "link", "set", ns.ifc, "address", mac)
        lease, _ = ns.udhcpc(ns.ifc, self.tmp, *extra)
        if lease is None:
            return None
        return (lease["ip"], lease["mask"], (lease["router"].split() or [""])[0],
                [lease["dns"], lease["domain"], lease["staticroutes"]])

    def gw_mac(self, iface):
        return next(i["mac"] for i in self.pe.ctl("interface", "list") if i["name"] == iface)

    def stats(self):
        return {s["interface"]: s for s in self.pe.ctl("stats")["dhcp"]}

    def leases(self, *args):
        return self.pe.ctl("dhcp", "leases", *args)


def mac_bytes(mac):
    return bytes(int(x, 16) for x in mac.split(":"))


def discover(mac, xid, **opts):
    o = [("message-type", "discover")] + list(opts.items()) + ["end"]
    return (Ether(src=mac, dst="ff:ff:ff:ff:ff:ff") / IP(src="0.0.0.0", dst="255.255.255.255")
            / UDP(sport=68, dport=67) / BOOTP(chaddr=mac_bytes(mac), xid=xid, flags=0x8000)
            / DHCP(options=o))


def request(mac, xid, ip, server=GW):
    o = [("message-type", "request"), ("requested_addr", ip), ("server_id", server), "end"]
    return (Ether(src=mac, dst="ff:ff:ff:ff:ff:ff") / IP(src="0.0.0.0", dst="255.255.255.255")
            / UDP(sport=68, dport=67) / BOOTP(chaddr=mac_bytes(mac), xid=xid, flags=0x8000)
            / DHCP(options=o))


def replies(sock, xid, want=1, timeout=5):
    def match(f):
        p = Ether(f)
        return BOOTP in p and p[BOOTP].op == 2 and p[BOOTP].xid == xid
    return [Ether(f) for f in tess.recv_frames(sock, match, want, timeout)]


def msg_type(p):
    for o in p[DHCP].options:
        if isinstance(o, tuple) and o[0] == "message-type":
            return o[1]
    return None


def exchange(sock, frame, xid, timeout=5):
    """Sends frame (retried: the first may race the tap coming up), returns the reply or None."""
    for _ in range(3):
        sock.send(bytes(frame))
        got = replies(sock, xid, timeout=timeout / 3)
        if got:
            return got[0]
    return None


def test_two_tenants_same_macs_and_pools_each_get_a_lease(cleanup, tmp_path):
    t = DhcpTopo(cleanup, tmp_path)
    got = {n: t.udhcpc(n) for n in TENANTS}
    for n in TENANTS:
        assert got[n], f"{n}: no lease\n{t.pe.log()}"
        ip, mask, router, rest = got[n]
        assert ip.startswith("10.20.0.10") and mask == "24" and router == GW, got[n]
        assert rest[0] == "10.20.0.53" and rest[1] == "tenant.example", rest
        assert t.ns[n].ping(GW, count=2) == (2, 2)
    # Same MAC, same pool, separate tables: each tenant has its own lease of its own.
    leases = t.leases()
    by_if = {(l["vrf"], l["interface"]): l for l in leases}
    assert set(by_if) == {("acme", "acme-lan"), ("bravo", "bravo-lan")}
    for n in TENANTS:
        lease = by_if[(n, f"{n}-lan")]
        assert lease["mac"].lower() == CLIENT_MAC and lease["state"] == "bound"
        assert lease["address"] == got[n][0] and lease["expires_in"] > 500
    assert [l["vrf"] for l in t.leases("--vrf", "bravo")] == ["bravo"]
    # A config change elsewhere (a new snapshot, every module synced) keeps the leases.
    t.pe.tessctl("vrf", "add", "extra", "--id", "300")
    assert {(l["interface"], l["address"]) for l in t.leases()} == {
        (f"{n}-lan", got[n][0]) for n in TENANTS}
    assert t.stats()["acme-lan"]["ack"] >= 1  # and the counters
    s = t.stats()
    for n in TENANTS:
        c = s[f"{n}-lan"]
        assert c["discover"] >= 1 and c["offer"] >= 1 and c["ack"] >= 1 and c["nak"] == 0
        assert c["malformed"] == 0 and c["leases"] == 1
    out = t.pe.tessctl("dhcp", "leases", "--vrf", "acme").stdout
    assert "acme-lan" in out and "bravo-lan" not in out and got["acme"][0] in out
    # A reservation: its MAC always gets its address (and its host name).
    t.ns["acme"].run("ip", "addr", "flush", "dev", t.ns["acme"].ifc)
    r = t.udhcpc("acme", mac=RESV_MAC)
    assert r and r[0] == RESV_IP, r
    # RELEASE, unicast to the server from the client's address, frees it.
    sa = t.ns["acme"].raw_socket(t.ns["acme"].ifc)
    rel = (Ether(src=RESV_MAC, dst=t.gw_mac("acme-lan")) / IP(src=RESV_IP, dst=GW)
           / UDP(sport=68, dport=67) / BOOTP(chaddr=mac_bytes(RESV_MAC), xid=5, ciaddr=RESV_IP)
           / DHCP(options=[("message-type", "release"), ("server_id", GW), "end"]))
    sa.send(bytes(rel))
    tess.wait_for(lambda: not [l for l in t.leases("--vrf", "acme") if l["address"] == RESV_IP],
                  10, "the release")
    assert t.stats()["acme-lan"]["release"] >= 1
    # The admin clears a lease.
    t.pe.tessctl("dhcp", "release", "bravo-lan", got["bravo"][0])
    assert t.leases("--vrf", "bravo") == []
    r = t.pe.tessctl("dhcp", "release", "bravo-lan", "10.20.0.200", check=False)
    assert r.returncode != 0 and "no lease" in r.stderr


def test_exhaustion_nak_decline_and_lease_limit(cleanup, tmp_path):
    t = DhcpTopo(cleanup, tmp_path, servers=[
        dhcp_server("acme-lan", exclude=[{"start": "10.20.0.101"}]),
        dhcp_server("bravo-lan", max_leases=1)])
    sa = t.ns["acme"].raw_socket(t.ns["acme"].ifc)
    macs = [f"02:00:00:00:d0:{i:02x}" for i in range(4)]
    # A REQUEST for another server (10.20.0.2) from a client holding only our offer
    # withdraws the offer, unanswered (its address free again).
    only_offer = "02:00:00:00:d0:10"
    off = exchange(sa, discover(only_offer, 90), 90)
    assert off is not None and msg_type(off) == 2
    assert [l["state"] for l in t.leases("--vrf", "acme") if l["mac"].lower() == only_offer] \
        == ["offered"]
    assert exchange(sa, request(only_offer, 91, off[BOOTP].yiaddr, server="10.20.0.2"), 91,
                    timeout=3) is None
    assert not [l for l in t.leases("--vrf", "acme") if l["mac"].lower() == only_offer]
    assert t.stats()["acme-lan"]["ignored"] >= 1
    got = []
    for i, mac in enumerate(macs[:3]):
        off = exchange(sa, discover(mac, 100 + i), 100 + i)
        assert off is not None and msg_type(off) == 2, f"no offer for {mac}\n{t.pe.log()}"
        ack = exchange(sa, request(mac, 200 + i, off[BOOTP].yiaddr), 200 + i)
        assert ack is not None and msg_type(ack) == 5
        got.append(off[BOOTP].yiaddr)
    # Three addresses in the pool once .101 is excluded: all given, never .101.
    assert sorted(got) == ["10.20.0.100", "10.20.0.102", "10.20.0.103"]
    assert exchange(sa, discover(macs[3], 300), 300, timeout=3) is None
    s = t.stats()["acme-lan"]
    assert s["pool_exhausted"] >= 1 and s["leases"] == 3
    # Another client asking for a taken address gets a NAK.
    nak = exchange(sa, request(macs[3], 301, got[0]), 301)
    assert nak is not None and msg_type(nak) == 6
    assert t.stats()["acme-lan"]["nak"] >= 1
    # A bound client's REQUEST for another server is ignored; its lease stays.
    ignored = t.stats()["acme-lan"]["ignored"]
    assert exchange(sa, request(macs[2], 311, got[2], server="10.20.0.2"), 311,
                    timeout=3) is None
    assert t.stats()["acme-lan"]["ignored"] > ignored and t.stats()["acme-lan"]["leases"] == 3
    # DECLINE: the address is held back, no client's.
    dec = (Ether(src=macs[0], dst="ff:ff:ff:ff:ff:ff") / IP(src="0.0.0.0", dst="255.255.255.255")
           / UDP(sport=68, dport=67) / BOOTP(chaddr=mac_bytes(macs[0]), xid=400)
           / DHCP(options=[("message-type", "decline"), ("requested_addr", got[0]),
                           ("server_id", GW), "end"]))
    sa.send(bytes(dec))
    tess.wait_for(lambda: any(l["state"] == "declined" for l in t.leases("--vrf", "acme")),
                  10, "the decline")
    assert t.stats()["acme-lan"]["decline"] == 1
    # bravo's share is one lease: a second client gets nothing, counted; acme is unaffected.
    sb = t.ns["bravo"].raw_socket(t.ns["bravo"].ifc)
    assert exchange(sb, discover(macs[0], 500), 500) is not None
    assert exchange(sb, request(macs[0], 501, "10.20.0.100"), 501) is not None
    assert exchange(sb, discover(macs[1], 502), 502, timeout=3) is None
    assert t.stats()["bravo-lan"]["lease_limit"] >= 1


def test_restart_keeps_leases(cleanup, tmp_path):
    t = DhcpTopo(cleanup, tmp_path)
    first = t.udhcpc("acme", mac="02:00:00:00:e0:01")
    second = t.udhcpc("acme", mac="02:00:00:00:e0:02")
    assert first and second and first[0] != second[0]
    path = os.path.join(str(tmp_path), "tessd-dhcp-leases.json")
    tess.wait_for(lambda: os.path.exists(path) and second[0] in open(path).read(), 10,
                  "the leases file")
    t.pe.stop()
    t.pe.start()
    for n in TENANTS:  # tessd's taps went with it: the new ones into the namespaces again
        t.ns[n].attach(t.ifs[n], mac=CLIENT_MAC)
    leases = {l["mac"].lower(): l for l in t.leases("--vrf", "acme")}
    assert leases["02:00:00:00:e0:02"]["address"] == second[0]
    # A fresh server would give the first pool address; the kept lease gives its own.
    again = t.udhcpc("acme", mac="02:00:00:00:e0:02")
    assert again and again[0] == second[0], again
    # Renewing (unicast from the client's address, ciaddr set): ACKed, same address.
    sa = t.ns["acme"].raw_socket(t.ns["acme"].ifc)
    mac = "02:00:00:00:e0:02"
    renew = (Ether(src=mac, dst=t.gw_mac("acme-lan")) / IP(src=second[0], dst=GW) / UDP(sport=68, dport=67)
             / BOOTP(chaddr=mac_bytes(mac), xid=777, ciaddr=second[0])
             / DHCP(options=[("message-type", "request"), "end"]))
    ack = exchange(sa, renew, 777)
    assert ack is not None and msg_type(ack) == 5 and ack[BOOTP].yiaddr == second[0]
    assert ack[IP].dst == second[0]


@pytest.mark.parametrize("point", ["dhcp.sync", "dhcp.table"])
def test_leases_file_read_after_a_failed_first_sync(cleanup, tmp_path, monkeypatch, point):
    """The first config sync of a restart runs out of memory, once: for the servers
    (dhcp.sync) or for acme's table (dhcp.table; bravo's is made). The servers are set up
    again a second later and acme's leases of the file come back then; they are not lost
    (the file was read only by a first sync that worked, and the next save wrote over it)."""
    t = DhcpTopo(cleanup, tmp_path)
    mac = "02:00:00:00:e0:05"
    got = t.udhcpc("acme", mac=mac)
    assert got
    path = os.path.join(str(tmp_path), "tessd-dhcp-leases.json")
    tess.wait_for(lambda: os.path.exists(path) and got[0] in open(path).read(), 10,
                  "the leases file")
    t.pe.stop()
    monkeypatch.setenv("TESS_FAULT", f"{point}:once")
    try:
        t.pe.start()
    finally:
        monkeypatch.delenv("TESS_FAULT", raising=False)
    if not t.pe.ctl("status").get("fault_points"):
        pytest.skip("a build without fault points")
    for n in TENANTS:
        t.ns[n].attach(t.ifs[n], mac=CLIENT_MAC)
    tess.wait_for(lambda: any(l["mac"].lower() == mac for l in t.leases("--vrf", "acme")), 10,
                  "acme's lease back by the second sync")
    log = t.pe.log()
    assert f"fault injected at {point}" in log
    assert "every server has its lease table again" in log
    if point == "dhcp.table":
        assert "0 leases loaded" in log and "1 waiting for their server" in log, log
        assert "1 leases set aside loaded, 0 dropped" in log
    assert t.pe.ctl("stats")["dhcp_sync_errors"] == 1
    again = t.udhcpc("acme", mac=mac)
    assert again and again[0] == got[0], again


def test_a_pool_change_counts_the_leases_it_drops(cleanup, tmp_path):
    """A config change keeps the leases that still fit the server's new pools; the others
    go, counted (leases_dropped) and logged, not silently."""
    t = DhcpTopo(cleanup, tmp_path)
    first = t.udhcpc("acme", mac="02:00:00:00:e0:01")
    second = t.udhcpc("acme", mac="02:00:00:00:e0:02")
    assert (first[0], second[0]) == ("10.20.0.100", "10.20.0.101"), (first, second)
    assert t.stats()["acme-lan"]["leases_dropped"] == 0
    server = dhcp_server("acme-lan", pools=[{"start": "10.20.0.101", "end": "10.20.0.110"}])
    t.pe.ctl("call", "config.batch", json.dumps({"edits": [
        {"op": "set", "array": "/dhcp/servers", "match": {"interface": "acme-lan"},
         "item": server}]}))
    leases = {l["mac"].lower(): l["address"] for l in t.leases("--vrf", "acme")}
    assert leases == {"02:00:00:00:e0:02": "10.20.0.101"}, leases
    s = t.stats()
    assert s["acme-lan"]["leases_dropped"] == 1 and s["bravo-lan"]["leases_dropped"] == 0
    assert "1 leases of acme-lan dropped by the config change" in t.pe.log()


def test_malformed_counted_and_dropped(cleanup, tmp_path):
    t = DhcpTopo(cleanup, tmp_path)
    sa = t.ns["acme"].raw_socket(t.ns["acme"].ifc)
    mac = "02:00:00:00:f0:01"
    good = discover(mac, 900)
    assert exchange(sa, good, 900) is not None  # the path works
    raw = bytes(good[BOOTP])
    eth_ip_udp = Ether(src=mac, dst="ff:ff:ff:ff:ff:ff") / IP(src="0.0.0.0",
                                                              dst="255.255.255.255") / UDP(
        sport=68, dport=67)
    cookie = 236
    bad = [
        raw[:100],                                         # truncated
        raw[:cookie] + b"\x00\x00\x00\x00" + raw[cookie + 4:],  # no magic cookie
        b"\x02" + raw[1:],                                 # op BOOTREPLY
        raw[:1] + b"\x06" + raw[2:],                       # htype not Ethernet
        raw[:cookie + 4] + b"\x35\x01\x01\x32\x09\x0a",    # option length past the end
        raw[:cookie + 4] + b"\x35\x01\x01\x34\x01\x07\xff",  # overload value 7
        raw[:cookie + 4] + b"\x35\x01\x09\xff",            # unknown message type
        raw[:cookie + 4] + b"\x35\x01\x01",                # no end option
    ]
    rnd = random.Random(12)
    for _ in range(40):  # and random garbage after a valid header
        bad.append(raw[:cookie + 4] + bytes(rnd.randrange(256) for _ in range(rnd.randrange(60))))
    before = t.stats()["acme-lan"]["malformed"]
    for b in bad[:8]:
        sa.send(bytes(eth_ip_udp / b))
    bad_sum = Ether(bytes(discover(mac, 902)))
    bad_sum[UDP].chksum ^= 0x5555
    sa.send(bytes(bad_sum))
    tess.wait_for(lambda: t.stats()["acme-lan"]["malformed"] - before >= 9, 10,
                  "malformed counted")
    for b in bad[8:]:
        sa.send(bytes(eth_ip_udp / b))
    time.sleep(0.5)
    assert t.pe.proc.poll() is None
    assert exchange(sa, discover(mac, 901), 901) is not None  # still serving
    # A DISCOVER flood stays within the VRF's service budget: counted, and bravo still served.
    # The flood runs while bravo's client asks: bravo is served during it, not after.
    flood = bytes(discover("02:00:00:00:f0:02", 950))
    stop = threading.Event()
    sent = [0]

    def flooding():
        while not stop.is_set():
            for _ in range(100):
                sa.send(flood)
            sent[0] += 100

    th = threading.Thread(target=flooding, daemon=True)
    th.start()
    try:
        tess.wait_for(lambda: t.stats()["acme-lan"]["rate_limited"] > 0, 10, "rate limiting")
        got = t.udhcpc("bravo")
        limited = t.stats()["acme-lan"]["rate_limited"]
        assert th.is_alive() and not stop.is_set()  # still flooding when bravo got its lease
    finally:
        stop.set()
        th.join(10)
    assert got is not None, t.pe.log()
    assert limited > 0 and sent[0] >= 3000


def test_irb_interface_and_config_errors(cleanup, tmp_path):
    """A server on a vswitch group's router interface (IRB); a bad DHCP config refused with
    its path; an interface a server uses cannot be removed."""
    u = tess.uid()
    ifc = f"di{u}"[:15]
    pe = tess.Tessd(cleanup, tmp_path, ports=[
        tess.tap_port("desk", ifc, 0, mode="access", group="corp")])
    pe.config["switch"] = {"groups": [{"name": "corp", "tenant": "Corp", "vlan": 300}]}
    pe.config["router"] = {
        "vrfs": [{"name": "corp", "id": 300}],
        "interfaces": [{"name": "corp-irb", "vrf": "corp", "group": "corp",
                        "addresses": [GW + "/24"]}]}
    bad = dict(pe.config, dhcp={"servers": [dhcp_server(
        "corp-irb", pools=[{"start": "10.20.0.200", "end": "10.20.0.255"}])]})
    pe.write_config(bad)
    r = tess.sh(tess.TESSD, "--check", "-c", pe.config_path, check=False)
    assert r.returncode != 0
    assert "/dhcp/servers/0/pools/0/end" in r.stdout + r.stderr, r.stdout + r.stderr
    pe.config["dhcp"] = {"servers": [dhcp_server("corp-irb")]}
    pe.start()
    ns = tess.peer(cleanup, ifc, mac=CLIENT_MAC)
    t = DhcpTopo.__new__(DhcpTopo)  # its client helper, on this tessd
    t.pe, t.tmp, t.ns = pe, str(tmp_path), {"corp": ns}
    got = t.udhcpc("corp")
    assert got and got[0].startswith("10.20.0.10"), f"{got}\n{pe.log()}"
    assert ns.ping(GW, count=2) == (2, 2)
    assert t.stats()["corp-irb"]["ack"] >= 1
    out = pe.tessctl("stats").stdout
    assert "dhcp:" in out and "corp-irb" in out and "ack=" in out
    r = pe.tessctl("interface", "del", "corp-irb", check=False)
    assert r.returncode != 0 and "/dhcp/servers/0/interface" in r.stderr, r.stderr
    assert [l["address"] for l in t.leases()] == [got[0]]


def test_conflict_probe_skips_an_address_in_use(cleanup, tmp_path):
    """A host holds a pool address without a lease: the ARP probe before the offer finds it,
    the address is held back (declined) and the next one is offered."""
    t = DhcpTopo(cleanup, tmp_path)
    ns = t.ns["acme"]
    ns.run("ip", "addr", "add", "10.20.0.100/24", "dev", ns.ifc)  # squatting the first one
    sa = ns.raw_socket(ns.ifc)
    off = exchange(sa, discover("02:00:00:00:e1:01", 600), 600)
    assert off is not None and msg_type(off) == 2, t.pe.log()
    assert off[BOOTP].yiaddr == "10.20.0.101"
    s = t.stats()["acme-lan"]
    assert s["conflict"] == 1 and s["offer"] == 1
    held = [l for l in t.leases("--vrf", "acme") if l["address"] == "10.20.0.100"]
    assert held and held[0]["state"] == "declined"
    # bravo's identical pool is not affected: its first address is free there.
    sb = t.ns["bravo"].raw_socket(t.ns["bravo"].ifc)
    off = exchange(sb, discover("02:00:00:00:e1:01", 601), 601)
    assert off is not None and off[BOOTP].yiaddr == "10.20.0.100"
    assert t.stats()["bravo-lan"]["conflict"] == 0


def test_forged_chaddr_dropped_and_probe_slots_never_refuse(cleanup, tmp_path):
    """A chaddr other than the frame's source is dropped (chaddr_mismatch); new MACs filling
    every probe slot do not lock out the next client: it is offered without a probe."""
    t = DhcpTopo(cleanup, tmp_path, servers=[dhcp_server(
        "acme-lan", pools=[{"start": "10.20.0.100", "end": "10.20.0.200"}]), dhcp_server(
        "bravo-lan")], dhcp_kw={"probe_ms": 5000})
    sa = t.ns["acme"].raw_socket(t.ns["acme"].ifc)
    forged = discover("02:00:00:00:a0:02", 701)
    forged[Ether].src = "02:00:00:00:a0:03"

    def sent_forged():  # resent: the first may race the tap coming up
        sa.send(bytes(forged))
        return t.stats()["acme-lan"]["chaddr_mismatch"] >= 1
    tess.wait_for(sent_forged, 10, "chaddr_mismatch")
    assert t.stats()["acme-lan"]["discover"] == 0 and replies(sa, 701, timeout=1) == []
    # Eight new MACs take the eight probe slots (probe_ms 5000); the ninth is offered at once.
    for i in range(8):
        sa.send(bytes(discover(f"02:00:00:00:b0:{i:02x}", 710 + i)))
    tess.wait_for(lambda: t.stats()["acme-lan"]["discover"] >= 8, 10, "the eight")
    off = exchange(sa, discover("02:00:00:00:b1:00", 720), 720, timeout=3)
    assert off is not None and msg_type(off) == 2, t.pe.log()
    assert t.stats()["acme-lan"]["probe_busy"] >= 1
    # INIT-REBOOT (option 50, no server id, no ciaddr) from a client with no record: silence.
    reboot = (Ether(src="02:00:00:00:a0:09", dst="ff:ff:ff:ff:ff:ff")
              / IP(src="0.0.0.0", dst="255.255.255.255") / UDP(sport=68, dport=67)
              / BOOTP(chaddr=mac_bytes("02:00:00:00:a0:09"), xid=730, flags=0x8000)
              / DHCP(options=[("message-type", "request"), ("requested_addr", "10.20.0.150"),
                              "end"]))
    ignored = t.stats()["acme-lan"]["ignored"]
    assert exchange(sa, reboot, 730, timeout=3) is None
    assert t.stats()["acme-lan"]["ignored"] > ignored and t.stats()["acme-lan"]["ack"] == 0


def test_corrupt_leases_file_kept_aside(cleanup, tmp_path):
    """An unreadable leases file is moved to <file>.bad (counted), not overwritten."""
    path = os.path.join(str(tmp_path), "tessd-dhcp-leases.json")
    with open(path, "w") as f:
        f.write('{"version": 1, "leases": [ truncated')
    t = DhcpTopo(cleanup, tmp_path)
    assert os.path.exists(path + ".bad") and "truncated" in open(path + ".bad").read()
    assert t.pe.ctl("stats")["dhcp_load_errors"] == 1
    got = t.udhcpc("acme")
    assert got, t.pe.log()
    tess.wait_for(lambda: os.path.exists(path) and got[0] in open(path).read(), 10,
                  "the new leases file")
    assert "truncated" in open(path + ".bad").read()


def dhcp_opts(p):
    return {o[0]: o[1:] for o in p[DHCP].options if isinstance(o, tuple)}


def test_inform_gets_options_and_no_lease(cleanup, tmp_path):
    """INFORM (RFC 2131 3.4, 4.3.5) from a client that configured its address itself: an ACK
    to that address with the options and no lease time or yiaddr; no lease is recorded.
    Without ciaddr it is malformed and unanswered."""
    t = DhcpTopo(cleanup, tmp_path)
    ns = t.ns["acme"]
    ns.run("ip", "addr", "add", "10.20.0.77/24", "dev", ns.ifc)  # outside the pool
    sa = ns.raw_socket(ns.ifc)
    inform = (Ether(src=CLIENT_MAC, dst=t.gw_mac("acme-lan")) / IP(src="10.20.0.77", dst=GW)
              / UDP(sport=68, dport=67)
              / BOOTP(chaddr=mac_bytes(CLIENT_MAC), xid=1200, ciaddr="10.20.0.77")
              / DHCP(options=[("message-type", "inform"), "end"]))
    ack = exchange(sa, inform, 1200)
    assert ack is not None and msg_type(ack) == 5, t.pe.log()
    assert ack[IP].dst == "10.20.0.77" and ack[IP].src == GW and ack[Ether].dst == CLIENT_MAC
    assert ack[BOOTP].ciaddr == "10.20.0.77" and ack[BOOTP].yiaddr == "0.0.0.0"
    o = dhcp_opts(ack)
    assert o["subnet_mask"] == ("255.255.255.0",) and o["router"] == (GW,), o
    assert o["name_server"] == ("10.20.0.53",) and o["server_id"] == (GW,), o
    assert o["domain"][0] in (b"tenant.example", "tenant.example"), o
    assert "classless_static_routes" in o, o
    assert not {"lease_time", "renewal_time", "rebinding_time"} & set(o), o
    s = t.stats()["acme-lan"]
    assert s["inform"] >= 1 and s["inform"] == s["ack"], s  # the exchange may have resent it
    assert s["leases"] == 0 and s["discover"] == 0 and s["malformed"] == 0, s
    assert t.leases() == []
    # No ciaddr: nothing to answer to; counted malformed, still no lease.
    informs = s["inform"]
    bare = inform.copy()
    bare[BOOTP].ciaddr = "0.0.0.0"
    bare[BOOTP].xid = 1201
    sa.send(bytes(bare))
    assert replies(sa, 1201, timeout=1.5) == []
    s = t.stats()["acme-lan"]
    assert s["inform"] == informs + 1 and s["malformed"] == 1 and s["ack"] == informs, s
    assert t.leases() == [] and t.stats()["bravo-lan"]["inform"] == 0
