# SPDX-License-Identifier: BSD-3-Clause
"""The router's own ICMP errors about packets NAT translated (vrf/nat/nat_router_err.c):
path MTU discovery through NAT (a frag-needed about a translated packet reaches the inside
host translated back, and its kernel learns the path MTU, so a TCP upload completes), net
unreachable in the outside VRF, errors about hairpinned flows (the host's and the
router's) reaching their sender with its view of the addresses, and an error NAT cannot
translate counted and dropped. Topology of test_nat.py (test_nat_icmp.py's sniffer)."""
import subprocess

import tess
from test_nat import IN_GW, IN_IP, NET_GW, NET_IP, NET_IP2, POOL_ADDRS, NatTopo, nat_instance, peer
from test_nat_icmp import send, sniffed, sniffer

NOWHERE = "192.0.2.77"  # no route in the inet VRF; never leaves tessd


def error_ok(g, src, dst, type_, code, isrc, idst, iproto):
    assert (g["src"], g["dst"], g["type"], g["code"]) == (src, dst, type_, code), g
    assert (g["isrc"], g["idst"], g["iproto"]) == (isrc, idst, iproto), g
    assert g["ip_ok"] and g["icmp_ok"] and g["iip_ok"], g


def test_pmtud_through_nat(cleanup, tmp_path):
    """Outside link MTU 1280: a desktop's DF echo of 1400 bytes gets frag-needed (MTU 1280)
    from its gateway quoting its own packet (inside address and echo id), its kernel caches
    the path MTU, and a TCP upload of 2 MB to an internet server completes."""
    t = NatTopo(cleanup, tmp_path, mtu={"inet-up": 1280}, ifprefix="M")
    sn = sniffer(t, "acme", 20, 1)
    send(t, "acme", f"IP(src='{IN_IP}', dst='{NET_IP}', flags='DF')/"
                    "ICMP(id=0x4e41, seq=1)/Raw(b'x' * 1372)")
    got = sniffed(sn)
    assert len(got) == 1, (got, t.stats()["acme"], t.pe.ctl("stats"))
    g = got[0]
    error_ok(g, IN_GW, IN_IP, 3, 4, IN_IP, NET_IP, 1)
    assert g["mtu"] == 1280 and g["iid"] == 0x4e41, g
    # ping's own socket takes the error: the kernel learns the path MTU.
    r = t.ns["acme"].run("ping", "-c", "1", "-W", "2", "-M", "do", "-s", "1372", NET_IP,
                         check=False, timeout=20)
    assert "mtu = 1280" in r.stdout, r.stdout
    r = t.ns["acme"].run("ip", "route", "get", NET_IP)
    assert "mtu 1280" in r.stdout, r.stdout
    # TCP to the other server address (no cached MTU yet): its own frag-needed, TCP quoted.
    t.ns["acme"].run("dd", "if=/dev/urandom", f"of={tmp_path}/up", "bs=64k", "count=32",
                     "status=none")
    srv = subprocess.Popen(["ip", "netns", "exec", t.ns["inet"].name, "sh", "-c",
                            f"exec nc -l 5001 > {tmp_path}/down"])
    cleanup.add(srv.kill)
    t.ns["inet"].run("sh", "-c", "for i in $(seq 50); do ss -ltn | grep -q :5001 && exit 0;"
                                 " sleep 0.1; done; exit 1")
    r = t.ns["acme"].run("timeout", "20", "sh", "-c", f"nc -N {NET_IP2} 5001 < {tmp_path}/up",
                         check=False, timeout=30)
    assert r.returncode == 0, (r.returncode, r.stderr, t.stats()["acme"])
    srv.wait(timeout=10)
    with open(f"{tmp_path}/up", "rb") as a, open(f"{tmp_path}/down", "rb") as b:
        assert a.read() == b.read()
    assert "mtu 1280" in t.ns["acme"].run("ip", "route", "get", NET_IP2).stdout
    st = t.stats()["acme"]
    assert st["router_icmp_translated"] >= 2 and st["router_icmp_dropped"] == 0, st


def test_net_unreachable_in_outside_vrf(cleanup, tmp_path):
    """No route in the outside VRF: the desktop's ping gets net unreachable from its gateway
    about its own packet; an error about a pool-sourced packet without a session (a spoofed
    one from outside) is counted and dropped."""
    t = NatTopo(cleanup, tmp_path, ifprefix="M")
    sn = sniffer(t, "acme", 20, 1)
    r = t.ns["acme"].run("ping", "-c", "1", "-W", "2", NOWHERE, check=False, timeout=20)
    assert "Net Unreachable" in r.stdout, r.stdout
    got = sniffed(sn)
    assert len(got) == 1, got
    error_ok(got[0], IN_GW, IN_IP, 3, 0, IN_IP, NOWHERE, 1)
    assert t.stats()["acme"]["router_icmp_translated"] == 1
    pool_ip = sorted(POOL_ADDRS["acme"])[1]
    t.ns["inet"].run("ip", "route", "add", NOWHERE, "via", NET_GW)
    send(t, "inet", f"IP(src='{pool_ip}', dst='{NOWHERE}')/UDP(sport=4000, dport=53)")
    # The error is built on the control thread after ARP for the gateway: wait for it.
    tess.wait_for(lambda: t.stats()["acme"]["router_icmp_dropped"] == 1, 10,
                  "the untranslatable error counted")
    st = t.stats()["acme"]
    assert (st["router_icmp_dropped"], st["router_icmp_translated"]) == (1, 1), st
    assert "nat_router_icmp_untranslatable" in str(t.pe.ctl("stats"))


def test_hairpin_errors(cleanup, tmp_path):
    """acme reaches bravo's published UDP port through its pool (hairpin): bravo's port
    unreachable, and the router's frag-needed about bravo's smaller link, reach acme's host
    quoting its packet as it sent it (its address and port, bravo's public address); the
    router's time exceeded about a packet from outside to that port quotes the public
    address, not bravo's private one."""
    pub = "203.0.113.101"
    t = NatTopo(cleanup, tmp_path, mtu={"bravo-lan": 1280}, ifprefix="M", instances=[
        nat_instance("acme"),
        nat_instance("bravo", statics=[{"outside": pub, "inside": IN_IP, "proto": "udp",
                                        "outside_port": 9999}])])
    for ns in t.ns.values():
        ns.run("sysctl", "-qw", "net.ipv4.icmp_ratelimit=0")
    t.server("inet", f"udp:{NET_IP}:8001")
    assert peer(t.client("acme", "udp", NET_IP, 8001, 40001))[0] in POOL_ADDRS["acme"]
    sn = sniffer(t, "acme", 20, 2)
    send(t, "acme", f"IP(src='{IN_IP}', dst='{pub}')/UDP(sport=40002, dport=9999)/Raw(b'hi')")
    send(t, "acme", f"IP(src='{IN_IP}', dst='{pub}', flags='DF')/UDP(sport=40003, dport=9999)"
                    "/Raw(b'x' * 1372)")
    got = sorted(sniffed(sn), key=lambda g: g["code"])
    assert len(got) == 2, (got, t.stats(), t.pe.ctl("stats"))
    host, router = got
    error_ok(host, pub, IN_IP, 3, 3, IN_IP, pub, 17)
    assert (host["isport"], host["idport"]) == (40002, 9999) and host["il4_ok"], host
    error_ok(router, IN_GW, IN_IP, 3, 4, IN_IP, pub, 17)
    assert (router["isport"], router["idport"], router["mtu"]) == (40003, 9999, 1280), router
    # TTL expiring after an inbound translation: the quote shows the public address.
    sn = sniffer(t, "inet", 20, 1)
    send(t, "inet", f"IP(src='{NET_IP}', dst='{pub}', ttl=1)/UDP(sport=7000, dport=9999)"
                    "/Raw(b'hi')")
    got = sniffed(sn)
    assert len(got) == 1, (got, t.stats())
    error_ok(got[0], NET_GW, NET_IP, 11, 0, NET_IP, pub, 17)
    assert (got[0]["isport"], got[0]["idport"]) == (7000, 9999) and got[0]["il4_ok"], got
    st = t.stats()
    assert st["bravo"]["icmp_translated"] == 1 and st["acme"]["icmp_translated"] == 1, st
    assert st["bravo"]["router_icmp_translated"] == 2, st
    assert st["acme"]["router_icmp_translated"] == 1, st
