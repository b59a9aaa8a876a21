# SPDX-License-Identifier: BSD-3-Clause
"""DHCP relay mode: two tenants with the same subnets, each relayed (option 82) to its own
DHCP server (dnsmasq) behind another interface of its VRF; scapy servers and clients for
what a relay must refuse.

    acme  (ns) client --tap-- acme-lan 10.20.0.1/24  PE tessd  acme-srv 10.30.0.1/24 --tap-- server (ns) 10.30.0.2
    bravo (ns) client --tap-- bravo-lan 10.20.0.1/24           bravo-srv 10.30.0.1/24 --tap-- server (ns) 10.30.0.2
"""
import os
import signal
import subprocess

from scapy.layers.dhcp import BOOTP, DHCP
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether

import tess
from capture import Capture

GW, SRV_GW, SRV = "10.20.0.1", "10.30.0.1", "10.30.0.2"
CLIENT_MAC = "02:00:00:00:c1:01"  # the same in both tenants
SRV_MAC = "02:00:00:00:5e:01"  # the servers' (the tap's own would be the router's)
TENANTS = ("acme", "bravo")
# Each tenant's server hands out its own part of the (same) subnet: whose lease is whose.
RANGES = {"acme": ("10.20.0.100", "10.20.0.109"), "bravo": ("10.20.0.150", "10.20.0.159")}


class RelayTopo:
    def __init__(self, cleanup, tmp_path, relays):
        u = tess.uid()
        self.tmp = str(tmp_path)
        self.cleanup = cleanup
        taps = {(t, r): f"rly{t[0]}{r[0]}{u}"[:15] for t in TENANTS for r in ("lan", "srv")}
        ports = [tess.tap_port(f"p_{t}_{r}", taps[(t, r)], i)
                 for i, (t, r) in enumerate(sorted(taps))]
        self.pe = tess.Tessd(cleanup, tmp_path, ports=ports)
        ifs = []
        for t in TENANTS:
            ifs.append({"name": f"{t}-lan", "vrf": t, "port": f"p_{t}_lan",
                        "addresses": [GW + "/24"]})
            ifs.append({"name": f"{t}-srv", "vrf": t, "port": f"p_{t}_srv",
                        "addresses": [SRV_GW + "/24"]})
        self.pe.config["router"] = {
            "vrfs": [{"name": t, "id": 110 + i} for i, t in enumerate(TENANTS)],
            "interfaces": ifs}
        self.pe.config["dhcp"] = {"relays": relays}
        self.pe.start()
        self.client, self.server = {}, {}
        for t in TENANTS:
            self.client[t] = tess.peer(cleanup, taps[(t, "lan")], mac=CLIENT_MAC)
            self.server[t] = tess.peer(cleanup, taps[(t, "srv")], SRV + "/24", SRV_GW,
                                       mac=SRV_MAC)

    def dnsmasq(self, t):
        """The tenant's own DHCP server, in its server namespace (stopped at clean-up)."""
        lo, hi = RANGES[t]
        log = open(os.path.join(self.tmp, f"dnsmasq-{t}.log"), "w")
        p = subprocess.Popen(
            ["ip", "netns", "exec", self.server[t].name, "dnsmasq", "--no-daemon",
             "--conf-file=/dev/null", "--port=0", "--pid-file=", "--user=root",
             f"--dhcp-range={lo},{hi},255.255.255.0,10m", "--dhcp-option=3," + GW,
             f"--dhcp-leasefile={self.tmp}/dnsmasq-{t}.leases", "--no-ping", "--log-dhcp"],
            stdout=log, stderr=subprocess.STDOUT)
        self.cleanup.add(log.close)
        self.cleanup.add(stop, p)
        return p

    def udhcpc(self, t):
        """(address, mask, router) of the lease tenant t's client takes, or None."""
        lease, _ = self.client[t].udhcpc(self.client[t].ifc, self.tmp)
        return lease and [lease["ip"], lease["mask"], *lease["router"].split()]

    def relays(self, *args):
        return {r["interface"]: r for r in self.pe.ctl("dhcp", "relays", *args)}

    def mac(self, iface):
        return next(i["mac"] for i in self.pe.ctl("interface", "list") if i["name"] == iface)


def stop(p):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(5)


def mac_bytes(mac):
    return bytes(int(x, 16) for x in mac.split(":"))


def agent_subopts(p):
    """Option 82 of a DHCP packet as {sub-option: bytes}, or None."""
    for o in p[DHCP].options:
        if isinstance(o, tuple) and o[0] in ("relay_agent_information", 82):
            raw, subs = bytes(o[1]), {}
            while len(raw) >= 2:
                subs[raw[0]] = raw[2:2 + raw[1]]
                raw = raw[2 + raw[1]:]
            return subs
    return None


def agent_opt(circuit, remote):
    """Option 82's value as the relay builds it."""
    return bytes([1, len(circuit)]) + circuit + bytes([2, len(remote)]) + remote


def bootp_in(frames, op):
    return [Ether(f) for f in frames if BOOTP in Ether(f) and Ether(f)[BOOTP].op == op]


def test_two_tenants_relayed_to_their_own_servers(cleanup, tmp_path):
    t = RelayTopo(cleanup, tmp_path, relays=[
        {"interface": "acme-lan", "servers": [SRV]},
        {"interface": "bravo-lan", "servers": [SRV], "circuit_id": "bravo-rack1",
         "remote_id": "bravo-pe"}])
    for n in TENANTS:
        t.dnsmasq(n)
    caps = {n: Capture(t.server[n], t.server[n].ifc) for n in TENANTS}
    got = {n: t.udhcpc(n) for n in TENANTS}
    frames = {n: caps[n].close() for n in TENANTS}
    logs = {n: open(os.path.join(t.tmp, f"dnsmasq-{n}.log")).read() for n in TENANTS}
    for n in TENANTS:
        lo, hi = RANGES[n]
        assert got[n], f"{n}: no lease\n{t.relays()}\n{t.pe.ctl('stats')['vrfs']}\n{logs[n]}"
        ip, mask, router = got[n]
        # Its own tenant's server gave it: from that server's range, on the same subnet.
        assert lo <= ip <= hi and len(ip) == len(lo) and mask == "24" and router == GW, got[n]
        r = t.client[n].ping(GW, count=2)
        assert r == (2, 2), (r, t.pe.ctl("stats")["vrfs"], t.pe.ctl("neigh", "show"))
        assert t.client[n].ping(SRV, count=2) == (2, 2)  # routed through its VRF
    # What reached each server: giaddr, a hop, option 82 with the expected ids.
    want = {"acme": (b"p_acme_lan", mac_bytes(t.mac("acme-lan"))),
            "bravo": (b"bravo-rack1", b"bravo-pe")}
    for n in TENANTS:
        reqs = bootp_in(frames[n], 1)
        assert reqs, f"{n}: nothing relayed to its server"
        for p in reqs:
            assert p[IP].src == GW and p[IP].dst == SRV and p[UDP].sport == 67
            assert p[BOOTP].giaddr == GW and p[BOOTP].hops == 1
            assert p[BOOTP].chaddr[:6] == mac_bytes(CLIENT_MAC)
            assert agent_subopts(p) == {1: want[n][0], 2: want[n][1]}, p[DHCP].options
    # The servers echo option 82 (dnsmasq does); the relay took it out before the client.
    rel = t.relays()
    for n in TENANTS:
        r = rel[f"{n}-lan"]
        assert r["vrf"] == n and r["servers"] == [SRV] and r["giaddr"] == GW
        assert r["forwarded"] >= 2 and r["replies"] >= 2, r
        for k in ("option82_mismatch", "bad_giaddr", "unknown_server", "hops_exceeded",
                  "untrusted_option82", "no_route", "malformed"):
            assert r[k] == 0, (k, r)
    assert rel["acme-lan"]["circuit_id"] == "p_acme_lan"
    assert rel["acme-lan"]["remote_id"] == t.mac("acme-lan")
    assert rel["bravo-lan"]["remote_id"] == "bravo-pe"
    assert [r["vrf"] for r in t.pe.ctl("stats", "--vrf", "bravo")["dhcp_relays"]] == ["bravo"]
    out = t.pe.tessctl("dhcp", "relays", "--vrf", "acme").stdout
    assert "acme-lan" in out and "p_acme_lan" in out and "bravo" not in out
    r = t.pe.tessctl("dhcp", "relays", "--interface", "acme-srv", check=False)
    assert r.returncode != 0 and "no DHCP relay" in r.stderr


def reply(giaddr, yiaddr, option82=None, xid=7, flags=0, mac=CLIENT_MAC, extra=()):
    o = [("message-type", "offer"), ("server_id", SRV), ("lease_time", 600)]
    if option82 is not None:
        o.append(("relay_agent_information", option82))
    return (BOOTP(op=2, xid=xid, flags=flags, yiaddr=yiaddr, giaddr=giaddr,
                  chaddr=mac_bytes(mac)) / DHCP(options=o + list(extra) + ["end"]))


def test_relay_refuses_what_it_must(cleanup, tmp_path):
    # acme-srv relays too (to a server it has no route to): the replies to acme-lan's
    # giaddr that come in on it are still acme-lan's relay's, not its own.
    t = RelayTopo(cleanup, tmp_path, relays=[
        {"interface": "acme-lan", "servers": [SRV, "10.30.0.3"], "circuit_id": "acme-c",
         "remote_id": "acme-r", "max_hops": 4},
        {"interface": "acme-srv", "servers": ["192.0.2.7"]},
        {"interface": "bravo-lan", "servers": [SRV, "192.0.2.1"]}])
    ours = agent_opt(b"acme-c", b"acme-r")
    srv, cli = t.server["acme"], t.client["acme"]
    srv.run("ip", "addr", "add", "10.30.0.3/24", "dev", srv.ifc)
    ss, sc = srv.raw_socket(srv.ifc), cli.raw_socket(cli.ifc)
    srv_gw_mac = t.mac("acme-srv")

    def counters():
        return t.relays()["acme-lan"]

    def to_relay(bootp, dst=GW):
        return bytes(Ether(dst=srv_gw_mac, src=SRV_MAC) / IP(src=SRV, dst=dst)
                     / UDP(sport=67, dport=67) / bootp)

    def from_client(hops=0, giaddr="0.0.0.0", extra=(), xid=1):
        return bytes(Ether(src=CLIENT_MAC, dst="ff:ff:ff:ff:ff:ff")
                     / IP(src="0.0.0.0", dst="255.255.255.255") / UDP(sport=68, dport=67)
                     / BOOTP(chaddr=mac_bytes(CLIENT_MAC), xid=xid, hops=hops, giaddr=giaddr)
                     / DHCP(options=[("message-type", "discover")] + list(extra) + ["end"]))

    def at_server(xid, want, timeout=3):
        def match(f):
            p = Ether(f)
            return BOOTP in p and p[BOOTP].op == 1 and p[BOOTP].xid == xid
        return [Ether(f) for f in tess.recv_frames(ss, match, want, timeout)]

    def at_client(xid, timeout=2, xids=()):
        def match(f):
            p = Ether(f)
            return BOOTP in p and p[BOOTP].op == 2 and p[BOOTP].xid in (xid,) + tuple(xids)
        return [Ether(f) for f in tess.recv_frames(sc, match, 1, timeout)]

    # A DISCOVER goes to each server (both addresses of the server namespace), hop 1.
    got = []
    for i in range(3):  # the first may race the tap coming up (and ARP)
        cli_frame = from_client(xid=10 + i)
        sc.send(cli_frame)
        got = at_server(10 + i, 2)
        if len(got) == 2:
            break
    assert sorted(p[IP].dst for p in got) == [SRV, "10.30.0.3"], got
    assert all(p[BOOTP].hops == 1 and agent_subopts(p) == {1: b"acme-c", 2: b"acme-r"}
               for p in got)
    # A reply with our option 82: stripped, unicast to yiaddr at chaddr (no broadcast asked).
    ss.send(to_relay(reply(GW, "10.20.0.120", ours, xid=20)))
    r = at_client(20)
    assert r and r[0][Ether].dst == CLIENT_MAC and r[0][IP].dst == "10.20.0.120", r
    assert r[0][IP].src == GW and r[0][UDP].dport == 68 and agent_subopts(r[0]) is None
    # ... broadcast when the client asked; a server that sent no option 82 is still heard.
    ss.send(to_relay(reply(GW, "10.20.0.120", None, xid=21, flags=0x8000)))
    r = at_client(21)
    assert r and r[0][Ether].dst == "ff:ff:ff:ff:ff:ff" and r[0][IP].dst == "255.255.255.255"
    assert counters()["replies"] == 2
    # Another relay's option 82, a wrong giaddr, malformed replies: dropped, counted.
    ss.send(to_relay(reply(GW, "10.20.0.120", agent_opt(b"other", b"acme-r"), xid=22)))
    ss.send(to_relay(reply("10.20.0.9", "10.20.0.120", ours, xid=23)))
    bad_len = bytes(reply(GW, "10.20.0.120", None, xid=24))
    bad_len = bad_len[:240] + bytes([53, 1, 2, 51, 40, 0]) + b"\xff"  # an option past the end
    ss.send(to_relay(bad_len))
    ss.send(to_relay(bytes(reply(GW, "10.20.0.120", None, xid=25))[:200]))  # truncated
    no_end = bytes(reply(GW, "10.20.0.120", None, xid=26))
    ss.send(to_relay(no_end[:no_end.rindex(b"\xff")]))  # no end option
    assert not at_client(22, xids=(23, 24, 25, 26))
    tess.wait_for(lambda: counters()["malformed"] == 3, 5, "malformed replies counted")
    c = counters()
    assert c["option82_mismatch"] == 1 and c["bad_giaddr"] == 1 and c["replies"] == 2, c
    # Replies only from a server, never the client side: giaddr and option 82 are anyone's
    # to copy, so a host could hand a victim its own router and DNS. From a host of the
    # LAN, from the LAN with a server's address, from a host beside the servers: dropped.
    rogue = [("router", "10.20.0.66"), ("name_server", "10.20.0.66")]

    def on_lan(bootp, src):
        return bytes(Ether(src="02:00:00:00:c1:66", dst=t.mac("acme-lan"))
                     / IP(src=src, dst=GW) / UDP(sport=67, dport=67) / bootp)

    sc.send(on_lan(reply(GW, "10.20.0.120", ours, xid=27, extra=rogue), "10.20.0.66"))
    sc.send(on_lan(reply(GW, "10.20.0.120", ours, xid=28, extra=rogue), SRV))
    ss.send(bytes(Ether(dst=srv_gw_mac, src=SRV_MAC) / IP(src="10.30.0.4", dst=GW)
                  / UDP(sport=67, dport=67) / reply(GW, "10.20.0.120", ours, xid=29)))
    assert not at_client(27, xids=(28, 29))  # one wait: a frame of 28 would pass a wait for 27
    tess.wait_for(lambda: counters()["unknown_server"] == 3, 5, "replies of non-servers")
    # The second server is heard as the first.
    ss.send(bytes(Ether(dst=srv_gw_mac, src=SRV_MAC) / IP(src="10.30.0.3", dst=GW)
                  / UDP(sport=67, dport=67) / reply(GW, "10.20.0.121", ours, xid=19)))
    r = at_client(19)
    assert r and r[0][IP].dst == "10.20.0.121" and counters()["replies"] == 3, r
    # None of them was taken by the relay of acme-srv, where they came in.
    o = t.relays()["acme-srv"]
    assert all(o[k] == 0 for k in ("replies", "bad_giaddr", "unknown_server", "malformed",
                                   "option82_mismatch", "forwarded")), o
    # Client side: option 82 is untrusted; too many hops; both dropped, counted.
    sc.send(from_client(xid=30, extra=[("relay_agent_information", agent_opt(b"x", b"y"))]))
    sc.send(from_client(hops=5, xid=31))
    assert not at_server(30, 1, 1) and not at_server(31, 1, 1)
    c = counters()
    assert c["untrusted_option82"] == 1 and c["hops_exceeded"] == 1, c
    # max_hops itself passes (RFC 1542 4.1.1 discards above it); a request another relay
    # forwarded keeps its giaddr, gets no 82.
    sc.send(from_client(hops=4, xid=32))
    p = at_server(32, 2)
    assert p and p[0][BOOTP].hops == 5
    sc.send(from_client(hops=1, giaddr="10.77.0.1", xid=33))
    p = at_server(33, 2)
    assert p and p[0][BOOTP].giaddr == "10.77.0.1" and agent_subopts(p[0]) is None
    assert p[0][BOOTP].hops == 2 and counters()["from_relay"] == 1
    # ... with that relay's option 82 too: forwarded unchanged but for the hop (RFC 3046
    # 2.1.1; only a first hop's, giaddr 0, is the client's forgery).
    far = from_client(hops=1, giaddr="10.77.0.1", xid=35,
                      extra=[("relay_agent_information", agent_opt(b"far-c", b"far-r"))])
    sc.send(far)
    p = at_server(35, 2)
    sent = bytearray(bytes(Ether(far)[BOOTP]))
    sent[3] = 2
    assert len(p) == 2 and all(bytes(q[BOOTP]) == bytes(sent) for q in p), p
    c = counters()
    assert c["from_relay"] == 2 and c["untrusted_option82"] == 1, c
    # A RELEASE unicast to the interface's address (a client with a lease) is relayed too.
    sc.send(bytes(Ether(src=CLIENT_MAC, dst=t.mac("acme-lan")) / IP(src="10.20.0.120", dst=GW)
                  / UDP(sport=68, dport=67)
                  / BOOTP(chaddr=mac_bytes(CLIENT_MAC), xid=34, ciaddr="10.20.0.120")
                  / DHCP(options=[("message-type", "release"), ("server_id", SRV), "end"])))
    p = at_server(34, 2)
    assert len(p) == 2 and p[0][BOOTP].giaddr == GW and p[0][BOOTP].ciaddr == "10.20.0.120"
    assert agent_subopts(p[0]) == {1: b"acme-c", 2: b"acme-r"}
    # A server with no route in the VRF (bravo's second): counted, the first still served.
    sb = t.client["bravo"].raw_socket(t.client["bravo"].ifc)
    sb.send(from_client(xid=40))
    tess.wait_for(lambda: t.relays()["bravo-lan"]["no_route"] >= 1, 5, "no route counted")
    assert t.relays()["bravo-lan"]["forwarded"] >= 1
    # Counters reset with the others.
    t.pe.tessctl("stats", "--reset")
    assert counters()["malformed"] == 0 and counters()["forwarded"] == 0
