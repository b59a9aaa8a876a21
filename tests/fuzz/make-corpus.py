#!/usr/bin/python3
"""Writes the seed corpora of tests/fuzz/corpus/<target>/ (run from anywhere; they are in git).

Frames are made with scapy, in fuzz_tessd.h's record format; netlink messages are packed by
hand as the kernel sends them; control requests, configs and API requests are JSON. Each seed is
small: libFuzzer mutates from there."""
import glob
import json
import os
import shutil
import socket
import struct
import sys

from scapy.all import ARP, ICMP, IP, TCP, UDP, Dot1AD, Dot1Q, Ether, Raw, fragment  # noqa

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def out(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def rec(port, frame, split=False):
    b = bytes(frame)
    return bytes([port | (0x80 if split else 0)]) + struct.pack(">H", len(b)) + b


# ---- vswitch: ports 0 up (trunk, native acme 100), 1 a1, 2 a2 (guarded), 3 b1 (trunk) ----
M1, M2, M3 = "02:00:00:00:10:01", "02:00:00:00:10:02", "02:00:00:00:20:05"
BC = "ff:ff:ff:ff:ff:ff"
pay = Raw(b"x" * 46)
vsw = {
    "untagged-access": rec(1, Ether(src=M1, dst=M2) / IP(src="192.168.10.11") / pay),
    "guarded-ok": rec(2, Ether(src=M2, dst=M1) / IP(src="192.168.10.12") / pay),
    "guarded-spoof": rec(2, Ether(src=M2, dst=M1) / IP(src="192.168.10.99") / pay),
    "arp-bcast": rec(1, Ether(src=M1, dst=BC) / ARP(psrc="192.168.10.11", pdst="192.168.10.12")),
    "trunk-tagged": rec(0, Ether(src=M3, dst=BC) / Dot1Q(vlan=200) / IP() / pay),
    "trunk-native": rec(0, Ether(src=M3, dst=M1) / IP() / pay),
    "qinq": rec(0, Ether(src=M3, dst=BC) / Dot1AD(vlan=200) / Dot1Q(vlan=7) / IP() / pay),
    "priority-tag": rec(1, Ether(src=M1, dst=M2) / Dot1Q(vlan=0, prio=5) / IP() / pay),
    "tagged-on-access": rec(1, Ether(src=M1, dst=M2) / Dot1Q(vlan=100) / IP() / pay),
    "learn-then-unicast": rec(1, Ether(src=M1, dst=BC) / pay) + rec(3, Ether(
        src=M3, dst=M1) / Dot1Q(vlan=200) / pay) + rec(1, Ether(src=M1, dst=M3) / pay),
    "jumbo-split": rec(3, Ether(src=M3, dst=BC) / Dot1Q(vlan=4094) / Raw(b"j" * 3000), True),
    "multicast": rec(0, Ether(src=M3, dst="01:00:5e:00:00:01") / Dot1Q(vlan=200) / pay),
    "runt": rec(1, b"\x02\x00\x00\x00\x10\x02\x02"),
}
for k, v in vsw.items():
    out("vswitch", k, v)

# ---- router: port 0 wan (acme 192.168.10.1/24), 1 hosts (VLANs 100, 200, 4000), 2 lan ----
RM = "02:00:00:00:b0:01"
wan = lambda p: rec(0, Ether(src="02:00:00:00:a0:09", dst=BC if ARP in p else RM) / p)  # noqa
host = lambda vlan, p: rec(1, Ether(src="02:00:00:00:c0:09", dst=RM) / Dot1Q(vlan=vlan) / p)  # noqa
rt = {
    "arp-request": wan(ARP(op=1, psrc="192.168.10.2", pdst="192.168.10.1")),
    "arp-reply": wan(ARP(op=2, psrc="192.168.10.5", pdst="192.168.10.1")),
    "echo": wan(IP(src="192.168.10.7", dst="192.168.10.1") / ICMP()),
    "udp-closed": wan(IP(src="192.168.10.7", dst="192.168.10.1") / UDP(dport=9)),
    "forward": wan(IP(src="192.168.10.7", dst="10.1.2.3") / TCP()),
    "ttl1": wan(IP(src="192.168.10.7", dst="10.1.2.3", ttl=1) / UDP()),
    "options": wan(IP(src="192.168.10.7", dst="10.1.2.3", options=b"\x07\x07\x04" + b"\0" * 5)
                   / UDP()),
    "frag-needed": wan(IP(src="192.168.10.7", dst="192.168.50.9", flags="DF") / Raw(b"f" * 1000)),
    "fragment": wan(IP(src="192.168.10.7", dst="192.168.50.9") / Raw(b"f" * 1400)),
    "fragments-in": b"".join(wan(f) for f in fragment(
        IP(src="192.168.10.7", dst="192.168.10.1") / ICMP() / Raw(b"e" * 1200), 600)),
    "vlan-bravo": host(200, IP(src="192.168.50.7", dst="8.8.8.8") / UDP()),
    "blackhole": host(200, IP(src="192.168.50.7", dst="192.168.99.1") / UDP()),
    "reject": host(200, IP(src="192.168.50.7", dst="192.168.98.1") / UDP()),
    "vrf-leak": rec(0, Ether(src="02:00:00:00:a0:09", dst=RM) / IP(
        src="192.168.10.7", dst="172.31.0.9") / UDP()),
    "bad-checksum": wan(IP(src="192.168.10.7", dst="10.1.2.3", chksum=0x1234) / UDP()),
    "irb": rec(2, Ether(src="02:00:00:00:d0:09", dst=BC) / ARP(psrc="10.30.0.9",
                                                              pdst="10.30.0.1")),
    "jumbo-split": rec(1, Ether(src="02:00:00:00:c0:09", dst=RM) / Dot1Q(vlan=100) / IP(
        src="192.168.50.7", dst="192.168.10.9") / Raw(b"j" * 4000), True),
    "martian": wan(IP(src="127.0.0.1", dst="10.1.2.3") / UDP()),
}
# DHCP (servers on acme-ent and irb): a client's exchange, then what must be refused.
dmac = "02:00:00:00:a0:0d"


def dhcp(opts, port=0, src="0.0.0.0", dst="255.255.255.255", vlan=None, **bootp):
    from scapy.layers.dhcp import BOOTP, DHCP
    b = BOOTP(chaddr=bytes.fromhex(dmac.replace(":", "")), xid=7, flags=0x8000, **bootp)
    eth = Ether(src=dmac, dst=BC) / Dot1Q(vlan=vlan) if vlan else Ether(src=dmac, dst=BC)
    return rec(port, eth / IP(src=src, dst=dst) / UDP(sport=68, dport=67)
               / b / DHCP(options=opts + ["end"]))


rt.update({
    "dhcp-discover": dhcp([("message-type", "discover")]),
    "dhcp-exchange": dhcp([("message-type", "discover")]) + dhcp(
        [("message-type", "request"), ("requested_addr", "192.168.10.100"),
         ("server_id", "192.168.10.1")]) + dhcp(
        [("message-type", "release"), ("server_id", "192.168.10.1")],
        ciaddr="192.168.10.100"),
    "dhcp-init-reboot": dhcp([("message-type", "request"),
                              ("requested_addr", "192.168.10.101")]),
    "dhcp-decline": dhcp([("message-type", "decline"), ("requested_addr", "192.168.10.100")]),
    "dhcp-inform": dhcp([("message-type", "inform")], src="192.168.10.50",
                        ciaddr="192.168.10.50"),
    "dhcp-overload": dhcp([("message-type", "discover"), ("dhcp-option-overload", 3)],
                          file=b"\x0c\x03abc\xff", sname=b"\x32\x04\xc0\xa8\x0a\x65\xff"),
    "dhcp-irb": dhcp([("message-type", "discover")], port=2),
    "dhcp-subif": dhcp([("message-type", "discover")], port=1, vlan=100) + dhcp(
        [("message-type", "request"), ("requested_addr", "192.168.50.10")], port=1, vlan=100),
})
# DNS on acme-ent (zone acme.test, forwarder 192.168.10.2, TCP) and the IRB (bravo.test).
def dnsq(name, qtype="A", port=0, src="192.168.10.7", dst="192.168.10.1", **kw):
    from scapy.layers.dns import DNS, DNSQR
    q = DNS(id=7, rd=1, qd=DNSQR(qname=name, qtype=qtype), **kw)
    ip = IP(src=src, dst=dst) / UDP(sport=5353, dport=53) / q
    if port == 2:
        return rec(2, Ether(src="02:00:00:00:d0:09", dst=RM) / ip)
    return wan(ip)


def dns_tcp(payloads, sport=40001):
    """A TCP exchange with the acme-ent responder: SYN, then each segment (seq follows)."""
    base = IP(src="192.168.10.7", dst="192.168.10.1")
    out_ = wan(base / TCP(sport=sport, dport=53, flags="S", seq=1000, options=[("MSS", 536)]))
    seq = 1001
    for p in payloads:
        out_ += wan(base / TCP(sport=sport, dport=53, flags="PA", seq=seq, ack=1) / Raw(p))
        seq += len(p)
    return out_ + wan(base / TCP(sport=sport, dport=53, flags="FA", seq=seq, ack=1))


def dns_bytes(name):
    from scapy.layers.dns import DNS, DNSQR
    return bytes(DNS(id=9, qd=DNSQR(qname=name)))


framed = struct.pack(">H", len(dns_bytes("www.acme.test"))) + dns_bytes("www.acme.test")
rt.update({
    "dns-a": dnsq("www.acme.test"),
    "dns-ptr": dnsq("80.10.168.192.in-addr.arpa", "PTR"),
    "dns-nxdomain": dnsq("nobody.acme.test"),
    "dns-forward": dnsq("example.org"),
    "dns-edns": dnsq("www.acme.test", ar=__import__("scapy.layers.dns", fromlist=["DNSRROPT"])
                     .DNSRROPT(rclass=4096)),
    "dns-irb-refused": dnsq("www.acme.test", port=2, src="10.30.0.9", dst="10.30.0.1"),
    "dns-forward-reply": wan(IP(src="192.168.10.2", dst="192.168.10.1") / UDP(
        sport=53, dport=33333) / Raw(dns_bytes("example.org"))),
    "dns-tcp": dns_tcp([framed]),
    "dns-tcp-split": dns_tcp([framed[:1], framed[1:9], framed[9:]]),
    "dns-compression-loop": wan(IP(src="192.168.10.7", dst="192.168.10.1") / UDP(
        sport=5353, dport=53) / Raw(b"\x00\x07\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"
                                     b"\xc0\x0c\x00\x01\x00\x01")),
})
# NAT44: acme (192.168.10.0/24) into the shared VRF (172.31.0.0/24 on VLAN 4000), pool
# 203.0.113.0/28, a port forward 203.0.113.20:8080 -> 192.168.10.9:80.
svc = lambda p: host(4000, p)  # noqa: a host of the shared VRF, 172.31.0.9
rt.update({
    "nat-udp-out-in": wan(IP(src="192.168.10.7", dst="172.31.0.9") / UDP(sport=4000, dport=53))
    + svc(IP(src="172.31.0.9", dst="203.0.113.1") / UDP(sport=53, dport=1024)),
    "nat-tcp-out-in": wan(IP(src="192.168.10.7", dst="172.31.0.9") / TCP(
        sport=4001, dport=80, flags="S")) + svc(IP(src="172.31.0.9", dst="203.0.113.1") / TCP(
            sport=80, dport=1024, flags="SA")) + wan(IP(src="192.168.10.7", dst="172.31.0.9")
                                                    / TCP(sport=4001, dport=80, flags="F")),
    "nat-icmp-echo": wan(IP(src="192.168.10.7", dst="172.31.0.9") / ICMP(id=77)) + svc(
        IP(src="172.31.0.9", dst="203.0.113.1") / ICMP(type=0, id=1024)),
    "nat-icmp-error-in": wan(IP(src="192.168.10.7", dst="172.31.0.9") / UDP(
        sport=4002, dport=9)) + svc(IP(src="172.31.0.9", dst="203.0.113.1") / ICMP(
            type=3, code=3) / IP(src="203.0.113.1", dst="172.31.0.9") / UDP(sport=1024, dport=9)),
    "nat-port-forward": svc(IP(src="172.31.0.9", dst="203.0.113.20") / TCP(
        sport=5555, dport=8080, flags="S")),
    "nat-unknown-inbound": svc(IP(src="172.31.0.9", dst="203.0.113.5") / UDP(dport=7)),
    "nat-fragments": b"".join(wan(f) for f in fragment(
        IP(src="192.168.10.7", dst="172.31.0.9") / UDP(sport=4003, dport=9) / Raw(b"n" * 1200),
        500)),
    "nat-hairpin": wan(IP(src="192.168.10.7", dst="203.0.113.20") / TCP(
        sport=4004, dport=8080, flags="S")),
})
# The firewall: ent-in on acme-ent and the IRB, dc-out out of bravo-dc, the baseline.
rt.update({
    "fw-accept-ssh": wan(IP(src="192.168.10.7", dst="192.168.50.9") / TCP(dport=22, flags="S")),
    "fw-reject-udp": wan(IP(src="192.168.10.7", dst="192.168.50.9") / UDP(dport=5050)),
    "fw-reject-tcp": wan(IP(src="192.168.10.7", dst="192.168.50.9") / TCP(
        dport=3389, flags="S", seq=5)),
    "fw-drop-icmp": wan(IP(src="192.168.10.7", dst="192.168.50.9") / ICMP(type=13)),
    "fw-baseline-smtp": wan(IP(src="192.168.10.7", dst="192.168.50.9") / TCP(dport=25)),
    "fw-irb-reject": rec(2, Ether(src="02:00:00:00:d0:09", dst=RM) / IP(
        src="10.30.0.9", dst="192.168.50.9") / UDP(dport=5001)),
    "fw-out-drop-tcp": rec(2, Ether(src="02:00:00:00:d0:09", dst=RM) / IP(
        src="10.30.0.9", dst="10.20.0.2") / TCP(dport=80, flags="S")),
    "fw-established-reply": wan(IP(src="192.168.10.7", dst="192.168.50.9") / UDP(
        sport=6000, dport=53)) + host(100, IP(src="192.168.50.9", dst="192.168.10.7") / UDP(
            sport=53, dport=6000)),
    "fw-related-error": wan(IP(src="192.168.10.7", dst="192.168.50.9") / UDP(
        sport=6001, dport=9)) + host(100, IP(src="192.168.50.9", dst="192.168.10.7") / ICMP(
            type=3, code=3) / IP(src="192.168.10.7", dst="192.168.50.9") / UDP(
                sport=6001, dport=9)),
})
for k, v in rt.items():
    out("router", k, v)

# ---- netlink: route messages for table 254 of VRF acme (TAP ifindex 7) ----
RTM_NEWROUTE, RTM_DELROUTE, RTM_NEWLINK, RTM_DELADDR = 24, 25, 16, 21


def rta(t, payload):
    n = 4 + len(payload)
    return struct.pack("=HH", n, t) + payload + b"\0" * ((4 - n % 4) % 4)


def route(typ, dst, plen, gw=None, oif=7, rtype=1, proto=4, prio=None, flags=0, mp=None):
    body = struct.pack("=BBBBBBBBI", socket.AF_INET, plen, 0, 0, 254, proto, 0, rtype, 0)
    body += rta(1, socket.inet_aton(dst)) + rta(15, struct.pack("=I", 254))
    if gw:
        body += rta(5, socket.inet_aton(gw))
    if oif:
        body += rta(4, struct.pack("=i", oif))
    if prio is not None:
        body += rta(6, struct.pack("=I", prio))
    if mp:
        nhs = b""
        for g, ifi in mp:
            a = rta(5, socket.inet_aton(g))
            nhs += struct.pack("=HBBi", 8 + len(a), 0, 0, ifi) + a
        body += rta(9, nhs)
    return struct.pack("=IHHII", 16 + len(body), typ, flags, 1, 0) + body


def link(ifindex, up):
    body = struct.pack("=BBHiII", 0, 0, 1, ifindex, 1 if up else 0, 0)
    return struct.pack("=IHHII", 16 + len(body), RTM_NEWLINK, 0, 1, 0) + body


nl = {
    "add": route(RTM_NEWROUTE, "10.9.0.0", 16, gw="192.168.10.2"),
    "add-del": route(RTM_NEWROUTE, "10.9.0.0", 16, gw="192.168.10.2") +
    route(RTM_DELROUTE, "10.9.0.0", 16, gw="192.168.10.2"),
    "replace": route(RTM_NEWROUTE, "10.8.0.0", 24, prio=10) +
    route(RTM_NEWROUTE, "10.8.0.0", 24, gw="192.168.10.3", prio=10, flags=0x100),
    "metrics": route(RTM_NEWROUTE, "10.7.0.0", 24, prio=20) + route(
        RTM_NEWROUTE, "10.7.0.0", 24, gw="192.168.10.4", prio=5) + route(
        RTM_DELROUTE, "10.7.0.0", 24, prio=5),
    "multipath": route(RTM_NEWROUTE, "0.0.0.0", 0, oif=None,
                       mp=[("192.168.10.2", 7), ("192.168.10.3", 7)]),
    "blackhole": route(RTM_NEWROUTE, "10.6.0.0", 16, oif=None, rtype=6),
    "unreachable": route(RTM_NEWROUTE, "10.5.0.0", 16, oif=None, rtype=7),
    "kernel-proto": route(RTM_NEWROUTE, "192.168.10.0", 24, proto=2),
    "other-device": route(RTM_NEWROUTE, "10.4.0.0", 16, oif=3),
    "shadowed": route(RTM_NEWROUTE, "10.0.0.0", 8, gw="192.168.10.2"),
    "link-down": link(7, False),
}
for k, v in nl.items():
    out("netlink", k, v)

# ---- ctl: request lines, one or more per seed ----
reqs = {
    "stats.get": {}, "port.list": {}, "config.get": {},
    "port.add": {"name": "d", "devargs": "net_null9", "mode": "access", "group": "g1"},
    "port.set": {"name": "d", "mode": "trunk", "groups": ["g1"], "native_group": "g1"},
    "port.del": {"name": "d"},
    "xconnect.add": {"a": "c", "b": "d"}, "xconnect.del": {"port": "d"},
    "group.add": {"name": "g1", "tenant": "t", "vlan": 10, "mac_limit": 5,
                  "static_macs": [{"mac": "02:00:00:00:00:01", "port": "d"}]},
    "group.del": {"name": "g1"},
    "fdb.add": {"group": "g1", "mac": "02:00:00:00:00:01", "port": "d"},
    "fdb.show": {"group": "g1"}, "fdb.flush": {"group": "g1", "port": "d"},
    "vrf.add": {"name": "v1", "id": 7, "icmp_rate": 10, "kernel": {"netns": "v1"}},
    "vrf.del": {"name": "v1"},
    "interface.add": {"name": "i1", "vrf": "v1", "port": "d", "vlan": 5,
                      "addresses": ["10.0.0.1/24"], "mac": "02:00:00:00:00:02", "mtu": 1400},
    "route.add": {"vrf": "v1", "prefix": "10.1.0.0/16",
                  "nexthops": [{"via": "10.0.0.2", "interface": "i1"}]},
    "route.del": {"vrf": "v1", "prefix": "10.1.0.0/16"},
    "route.show": {"vrf": "v1", "prefix": "10.1.0.0/16"},
    "neigh.add": {"vrf": "v1", "ip": "10.0.0.2", "mac": "02:00:00:00:00:03", "interface": "i1"},
    "neigh.show": {"vrf": "v1"},
    "vrf.set": {"name": "v1", "icmp_rate": 20, "kernel": {"batch": 8, "buffer_kb": 64}},
    "events.subscribe": {"kinds": ["fdb", "route.add"]},
}
for i, (m, p) in enumerate(reqs.items()):
    out("ctl", m, json.dumps({"id": i, "method": m, "params": p}) + "\n")
out("ctl", "pipeline", "".join(json.dumps({"id": s, "method": "stats.get"}) + "\n"
                               for s in ("a", None, 3)))
out("ctl", "response", '{"id": 1, "error": {"code": 2, "message": "m", "path": "/params/a"}}\n')
out("ctl", "deep", "[" * 40 + "\n")

# ---- config: the examples and the unit tests' configs ----
for f in sorted(glob.glob(os.path.join(ROOT, "config", "examples", "*.json"))):
    shutil.copy(f, os.path.join(HERE, "corpus", "config", os.path.basename(f)))
out("config", "empty", "{}")
out("config", "dup-key", '{"ports": [], "ports": []}')

# ---- mgr_api: [token][method]path[?query]\nbody; tokens 0 provider, 1 acme, 2 bravo, 3 none ----
GET, POST, PUT, DELETE, PATCH = range(5)


def api(tok, method, path, body=None):
    return bytes([tok, method]) + path.encode() + b"\n" + (
        json.dumps(body).encode() if body is not None else b"")


mgr = {
    "usage": api(0, GET, "usage"), "usage-tenant": api(1, GET, "usage"),
    "reconcile": api(0, GET, "reconcile"), "capacity": api(0, GET, "capacity"),
    "hosts": api(0, GET, "hosts"), "host-put": api(0, PUT, "hosts/h1", {
        "site": "paris", "shared": True, "vcpu_ratio": 2.0, "vlans": [100, 200, 300],
        "test_host": {"sockets": 1, "cores": 4, "threads": 2, "memory_mb": 32768}}),
    "host-del": api(0, DELETE, "hosts/h2"),
    "tenant": api(0, POST, "tenants", {"name": "carol", "org_id": "org-c", "datacenter": "paris",
                                       "vlan": 300, "vlan_name": "carol-net"}),
    "model": api(0, POST, "models", {"name": "big", "vcpus": 8, "memory_mb": 16384,
                                     "base_image": "win11.qcow2", "cpu_shares": 2048}),
    "quota": api(0, POST, "quotas", {"tenant": "bravo", "model": "std", "max_cpus": 4,
                                     "max_memory_mb": 8192}),
    "desktop": api(1, POST, "desktops", {"name": "d1", "model": "std"}),
    "desktops": api(1, GET, "desktops"), "desktop-del": api(1, DELETE, "desktops/d1"),
    "desktop-move": api(1, POST, "desktops/d1/move", {"host": "h1"}),
    "jobs": api(1, GET, "jobs"), "audit": api(0, GET, "audit"),
    "events": api(1, GET, "events"), "events-provider": api(0, GET, "events"),
    "images": api(0, GET, "images"),
    "push": api(0, POST, "images/win11.qcow2/push", {"file": "/etc/hostname"}),
    "sites": api(0, GET, "sites"), "site": api(0, POST, "sites", {
        "name": "lyon", "latitude": 45.7, "longitude": 4.8, "storage": "/nonexistent",
        "client_prefixes": ["10.2.0.0/16"]}),
    "no-token": api(3, GET, "hosts"), "other-tenant": api(2, GET, "desktops/d1"),
    "dotdot": api(0, GET, "hosts/.."), "root": api(0, GET, "/"),
    # Query arguments (http_query): audit's filters and bounds, sites' from.
    "audit-query": api(0, GET, "audit?limit=5&since=0&action=POST%20tenants"),
    "audit-tenant": api(0, GET, "audit?tenant=acme&limit=1000000"),
    "audit-bad": api(1, GET, "audit?limit=-1&since=1e9&tenant=bravo"),
    "audit-empty": api(0, GET, "audit?limit=&since=&tenant"),
    "sites-from": api(0, GET, "sites?from=10.1.2.3"),
    "sites-from-bad": api(0, GET, "sites?from=999.1.2.3%00x"),
    "usage-tenant-query": api(0, GET, "usage?tenant=acme"),
    "jobs-state": api(1, GET, "jobs?state=queued&limit=2"),
    # The log's level at run time: kept at warning and stderr, the fuzzer's own output.
    "log": api(0, GET, "log"), "log-tenant": api(1, PUT, "log", {"level": "debug"}),
    "log-put": api(0, PUT, "log", {"level": "warning", "output": "stderr"}),
    "log-bad": api(0, PUT, "log", {"level": "loud", "output": 7}),
}
for k, v in mgr.items():
    out("mgr_api", k, v)
print("corpora written under", os.path.join(HERE, "corpus"), file=sys.stderr)
