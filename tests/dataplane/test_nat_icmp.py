# SPDX-License-Identifier: BSD-3-Clause
"""NAT44's ICMP errors (RFC 5508): traceroute from a tenant through NAT shows every hop,
a frag-needed from outside reaches the inside host with its quoted packet translated back,
an inside host's port unreachable leaves with the pool address, and errors quoting unknown
or malformed packets are counted and dropped. Topology of test_nat.py, plus a "far"
namespace behind the internet namespace (a router) on 192.0.2.0/24."""
import json
import subprocess

import tess
from test_nat import IN_IP, NET_IP, NET_IP2, POOL_ADDRS, NatTopo, peer

FAR_IP, FAR_GW = "192.0.2.2", "192.0.2.1"

# Sniffs ICMP on an interface of its namespace; prints each as JSON with every checksum
# recomputed from the bytes (outer IP, ICMP, quoted IP, quoted UDP/TCP when whole).
SNIFF = r"""
import json, struct, sys
from scapy.all import AsyncSniffer, ICMP, IP
iface, secs, want = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
def fold(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack(f"!{len(b)//2}H", b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return s
def l4ok(ip, l4):
    ph = ip[12:20] + struct.pack("!BBH", 0, ip[9], len(l4))
    return fold(ph + l4) == 0xffff
def show(p):
    raw = bytes(p[IP]); h = (raw[0] & 15) * 4; ic = raw[h:]
    o = {"src": p[IP].src, "dst": p[IP].dst, "type": ic[0], "code": ic[1],
         "mtu": struct.unpack("!H", ic[6:8])[0], "ip_ok": fold(raw[:h]) == 0xffff,
         "icmp_ok": fold(ic) == 0xffff}
    q = ic[8:]; qh = (q[0] & 15) * 4; ql4 = q[qh:]
    o.update(isrc=".".join(map(str, q[12:16])), idst=".".join(map(str, q[16:20])),
             iproto=q[9], iip_ok=fold(q[:qh]) == 0xffff,
             isport=struct.unpack("!H", ql4[0:2])[0], idport=struct.unpack("!H", ql4[2:4])[0])
    if q[9] == 1:
        o["iid"] = struct.unpack("!H", ql4[4:6])[0]  # a quoted echo's id
    whole = struct.unpack("!H", q[2:4])[0] == len(q)
    if whole and q[9] in (6, 17):
        o["il4_ok"] = l4ok(q, ql4) or (q[9] == 17 and ql4[6:8] == b"\0\0")
    print(json.dumps(o), flush=True)
# "ready" once the capture socket is open (a router's error can come back within a millisecond).
s = AsyncSniffer(iface=iface, lfilter=lambda p: ICMP in p and p[ICMP].type in (3, 11, 12),
                 prn=show, store=False, count=want,
                 started_callback=lambda: print("ready", flush=True))
s.start()
s.join(secs)
if s.running:
    s.stop()
"""

# Sends one packet built by scapy from an expression (argv[1]) on a raw socket: the
# namespace routes it (and resolves the gateway).
SEND = r"""
import socket, sys
from scapy.all import *
p = eval(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
s.sendto(bytes(p), (p[IP].dst, 0))
"""


def sniffer(t, who, secs, want=0):
    """Sniffs until want errors came (0: for secs)."""
    p = subprocess.Popen(["ip", "netns", "exec", t.ns[who].name, "/usr/bin/python3", "-c",
                          SNIFF, t.ifs[who], str(secs), str(want)], stdout=subprocess.PIPE,
                         text=True)
    t.cleanup.add(p.kill)
    assert p.stdout.readline().strip() == "ready"
    return p


def sniffed(p):
    out = p.communicate(timeout=30)[0]
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def send(t, who, expr):
    t.ns[who].run("/usr/bin/python3", "-c", SEND, expr, timeout=30)


def far_namespace(t):
    """A host behind the internet namespace, which routes (and answers errors at once)."""
    u = tess.uid()
    a, b = f"nfa{u}"[:15], f"nfb{u}"[:15]
    tess.sh("ip", "link", "add", a, "type", "veth", "peer", "name", b)
    far = tess.Netns(t.cleanup)
    t.ns["inet"].attach(a, FAR_GW + "/24")
    far.attach(b, FAR_IP + "/24")
    far.run("ip", "route", "add", "default", "via", FAR_GW)
    for ns in (t.ns["inet"], far):
        ns.run("sysctl", "-qw", "net.ipv4.icmp_ratelimit=0")
    t.ns["inet"].run("sysctl", "-qw", "net.ipv4.ip_forward=1")
    r = t.call("route.add", {"vrf": "inet", "prefix": "192.0.2.0/24",
                             "nexthops": [{"via": NET_IP}]})
    assert "error" not in r, r
    return far


def test_traceroute_through_nat(cleanup, tmp_path):
    """UDP and ICMP traceroutes from a tenant show the router, the internet router and the
    far host: time exceeded and port unreachable come back translated."""
    t = NatTopo(cleanup, tmp_path)
    far_namespace(t)
    for extra in ((), ("-I",)):
        r = t.ns["acme"].run("traceroute", "-n", "-q", "1", "-w", "2", "-m", "4", *extra,
                             FAR_IP, timeout=60)
        hops = [line.split()[1] for line in r.stdout.splitlines()[1:]]
        assert hops == ["10.0.0.1", NET_IP, FAR_IP], r.stdout
    st = t.stats()["acme"]
    assert st["icmp_translated"] >= 2, st  # UDP: time exceeded, port unreachable
    assert st["icmp_bad"] == 0 and st["icmp_no_session"] == 0, st


def test_frag_needed_from_outside(cleanup, tmp_path):
    """A router outside reports frag-needed about a tenant's UDP flow: the inside host gets
    it with the outer destination and the quoted packet translated back, every checksum
    right, the MTU kept."""
    t = NatTopo(cleanup, tmp_path)
    t.server("inet", f"udp:{NET_IP}:8001")
    pool_ip, pool_port = peer(t.client("acme", "udp", NET_IP, 8001, 40001))
    assert pool_ip in POOL_ADDRS["acme"]
    sn = sniffer(t, "acme", 20, 1)
    send(t, "inet",
         f"IP(src='{NET_IP2}', dst='{pool_ip}')/"
         f"ICMP(type=3, code=4, nexthopmtu=1280)/IP(src='{pool_ip}', dst='{NET_IP}', flags='DF')"
         f"/UDP(sport={pool_port}, dport=8001)/Raw(b'x' * 40)")
    got = sniffed(sn)
    assert len(got) == 1, (got, t.stats()["acme"], t.pe.ctl("stats"))
    g = got[0]
    assert (g["src"], g["dst"], g["type"], g["code"], g["mtu"]) == (NET_IP2, IN_IP, 3, 4, 1280), g
    assert (g["isrc"], g["idst"], g["isport"], g["idport"]) == (IN_IP, NET_IP, 40001, 8001), g
    assert g["ip_ok"] and g["icmp_ok"] and g["iip_ok"] and g["il4_ok"], g
    assert t.stats()["acme"]["icmp_translated"] == 1


def test_port_unreachable_from_inside(cleanup, tmp_path):
    """A datagram from outside on a tenant's mapping to a closed port: the inside host's port
    unreachable leaves with the pool address outside and inside the quote."""
    t = NatTopo(cleanup, tmp_path)
    t.server("inet", f"udp:{NET_IP}:8001")
    pool_ip, pool_port = peer(t.client("acme", "udp", NET_IP, 8001, 40002))
    sn = sniffer(t, "inet", 20, 1)
    send(t, "inet", f"IP(src='{NET_IP}', dst='{pool_ip}')/"
                    f"UDP(sport=8001, dport={pool_port})/Raw(b'late')")
    got = sniffed(sn)
    assert len(got) == 1, (got, t.stats()["acme"], t.pe.ctl("stats"))
    g = got[0]
    assert (g["src"], g["dst"], g["type"], g["code"]) == (pool_ip, NET_IP, 3, 3), g
    assert (g["isrc"], g["idst"], g["isport"], g["idport"]) == (NET_IP, pool_ip, 8001,
                                                               pool_port), g
    assert g["ip_ok"] and g["icmp_ok"] and g["iip_ok"] and g["il4_ok"], g


def test_unknown_and_malformed_errors_dropped(cleanup, tmp_path):
    """Errors to a pool address quoting no session, a truncated quote or an error about an
    error are counted and dropped: nothing reaches the tenant."""
    t = NatTopo(cleanup, tmp_path)
    pool_ip = sorted(POOL_ADDRS["acme"])[1]
    sn = sniffer(t, "acme", 8)
    base = f"IP(src='{NET_IP2}', dst='{pool_ip}')/ICMP(type=11)"
    send(t, "inet", base + f"/IP(src='{pool_ip}', dst='{NET_IP}')/UDP(sport=1999, dport=53)")
    send(t, "inet", base + f"/Raw(bytes(IP(src='{pool_ip}', dst='{NET_IP}', proto=17))[:20]"
                           " + b'\\x07\\xcf')")
    send(t, "inet", base + f"/IP(src='{pool_ip}', dst='{NET_IP}')/ICMP(type=3)/Raw(b'12345678')")
    assert sniffed(sn) == []
    st = t.stats()["acme"]
    assert (st["icmp_no_session"], st["icmp_bad"], st["icmp_translated"]) == (1, 2, 0), st
    drops = t.pe.ctl("stats")
    text = json.dumps(drops)
    assert "nat_icmp_bad" in text and "nat_icmp_no_session" in text
