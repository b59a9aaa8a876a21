# SPDX-License-Identifier: BSD-3-Clause
"""NAT44 and fragments: a tenant's large UDP datagrams, fragmented by its kernel, cross NAT
both ways and are reassembled at the far end; scapy fragments sent in order, shuffled after
the first, and with the first last (later fragments before it are dropped and counted).
Topology of test_nat.py."""
import itertools
import json
import random
import select
import subprocess
import time

import tess
from test_nat import IN_IP, NET_IP, POOL_ADDRS, NatTopo

# Echoes each UDP datagram back; prints its peer and length.
ECHO = r"""
import json, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((sys.argv[1], int(sys.argv[2])))
print("ready", flush=True)
while True:
    d, peer = s.recvfrom(65535)
    print(json.dumps([peer[0], peer[1], len(d)]), flush=True)
    s.sendto(d, peer)
"""

# One datagram of n bytes from a source port; prints the length of the answer.
CLIENT = r"""
import socket, sys
dst, port, sport, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("0.0.0.0", sport)); s.settimeout(3)
s.sendto(b"z" * n, (dst, port))
try:
    print(len(s.recvfrom(65535)[0]))
except OSError as e:
    print("error", e)
"""

# Fragments of one UDP datagram (id, size) sent in the order given, on a raw socket.
FRAGS = r"""
import socket, sys
from scapy.all import IP, UDP, Raw, fragment
src, dst, sport, dport, ident, n = sys.argv[1:7]
order = [int(i) for i in sys.argv[7].split(",")]
frags = fragment(IP(src=src, dst=dst, id=int(ident)) / UDP(sport=int(sport), dport=int(dport))
                 / Raw(b"f" * int(n)), fragsize=800)
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
for i in order:
    s.sendto(bytes(frags[i]), (dst, 0))
print(len(frags))
"""


# First fragments only (TCP SYNs, each datagram its own IP id from `first`), never the rest.
FIRSTS = r"""
import socket, sys
from scapy.all import IP, TCP, Raw
src, dst, first, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
# Made first, sent together: the records go 2 s idle, so a slow send would see them go.
tcp = TCP(sport=40100, dport=8003, flags="S") / Raw(b"f" * 800)
frames = [bytes(IP(src=src, dst=dst, id=i, flags="MF") / tcp) for i in range(first, first + n)]
for f in frames:
    s.sendto(f, (dst, 0))
"""


def line(p, timeout=5):
    """The next line the echo server printed, or None."""
    if not select.select([p.stdout], [], [], timeout)[0]:
        return None
    return json.loads(p.stdout.readline())


def echo(t):
    p = subprocess.Popen(["ip", "netns", "exec", t.ns["inet"].name, "/usr/bin/python3", "-c",
                          ECHO, NET_IP, "8002"], stdout=subprocess.PIPE, text=True)
    t.cleanup.add(p.kill)
    assert p.stdout.readline().strip() == "ready"
    return p


def test_large_datagrams_both_ways(cleanup, tmp_path):
    """3,000 and 9,000 bytes: the tenant's kernel fragments them, NAT translates the first
    fragment with its ports and the later ones by the fragment record, the internet host
    reassembles and echoes (fragmented too), the tenant reassembles the answer."""
    t = NatTopo(cleanup, tmp_path)
    srv = echo(t)
    for n, sport in ((3000, 40010), (9000, 40011)):
        r = t.ns["acme"].run("/usr/bin/python3", "-c", CLIENT, NET_IP, "8002", str(sport),
                             str(n), timeout=20)
        assert r.stdout.strip() == str(n), r.stdout
        ip, _, size = line(srv)
        assert ip in POOL_ADDRS["acme"] and size == n
    st = t.stats()["acme"]
    # Out: 3 + 7 fragments, 2 + 6 of them later ones; back the same.
    assert st["frag_translated"] == 2 * (2 + 6), st
    assert st["frag_unknown"] == 0 and st["frag_limit"] == 0, st


def test_scapy_fragments_in_and_out_of_order(cleanup, tmp_path):
    """scapy's fragments of a 3,000-byte datagram: in order and shuffled after the first
    they arrive whole; with the first last, the later ones find no record and are dropped
    (frag_unknown), so the datagram never completes."""
    t = NatTopo(cleanup, tmp_path)
    srv = echo(t)
    rng = random.Random(12)
    # The router's ARP entry for the internet host first: the fragments follow each other
    # too closely for the one packet it holds while resolving.
    assert t.ns["acme"].ping(NET_IP, count=1) == (1, 1)

    def send(ident, order, sport):
        r = t.ns["acme"].run("/usr/bin/python3", "-c", FRAGS, IN_IP, NET_IP, str(sport), "8002",
                             str(ident), "3000", ",".join(map(str, order)), timeout=30)
        assert r.stdout.strip() == "4", (r.stdout, r.stderr)

    send(101, [0, 1, 2, 3], 40020)
    got = line(srv)
    assert got, (t.stats()["acme"], t.pe.ctl("stats"))
    ip, _, size = got
    assert ip in POOL_ADDRS["acme"] and size == 3000
    rest = [1, 2, 3]
    rng.shuffle(rest)
    send(102, [0] + rest, 40021)
    ip, _, size = line(srv)
    assert ip in POOL_ADDRS["acme"] and size == 3000
    st = t.stats()["acme"]
    # Each: 3 later fragments out, 2 of the echo (fragmented by its kernel) back.
    assert (st["frag_translated"], st["frag_unknown"]) == (10, 0), st
    send(103, [3, 1, 2, 0], 40022)
    tess.wait_for(lambda: t.stats()["acme"]["frag_unknown"] == 3, 5, "later fragments dropped")
    st = t.stats()["acme"]
    assert st["frag_translated"] == 10, st
    # The first fragment alone went out: nothing reassembled (the echo server printed
    # nothing more); a datagram in order after it still goes through.
    assert line(srv, 2) is None  # 103 never completed
    send(104, [0, 1, 2, 3], 40023)
    ip, port, size = line(srv)
    assert size == 3000 and ip in POOL_ADDRS["acme"]
    assert t.stats()["acme"]["frag_translated"] == 15
    drops = json.dumps(t.pe.ctl("stats"))
    assert "nat_frag_unknown" in drops


def test_unfinished_datagrams_give_their_records_back(cleanup, tmp_path):
    """An instance keeps at most 1,024 fragment records: first fragments whose datagrams never
    end fill them (frag_limit beyond), and give them back within seconds, whatever their
    protocol (TCP's held them 240 s: every datagram then lost its later fragments)."""
    t = NatTopo(cleanup, tmp_path)
    srv = echo(t)
    assert t.ns["acme"].ping(NET_IP, count=1) == (1, 1)
    r = t.ns["acme"].run("/usr/bin/python3", "-c", FIRSTS, IN_IP, NET_IP, "1000", "1025",
                         timeout=60)
    assert r.returncode == 0, r.stderr
    tess.wait_for(lambda: t.stats()["acme"]["frag_limit"] == 1, 10, "the 1,025th refused")
    time.sleep(3)  # idle past 2 s; the expiry scan comes round once a second

    ids = itertools.count(5000)

    def crosses():
        """A datagram in order, a new id each time: whole at the far end (its later
        fragments dropped while the records are held)."""
        r = t.ns["acme"].run("/usr/bin/python3", "-c", FRAGS, IN_IP, NET_IP, "40030", "8002",
                             str(next(ids)), "3000", "0,1,2,3", timeout=30)
        assert r.stdout.strip() == "4", (r.stdout, r.stderr)
        got = line(srv, 1)
        return got is not None and got[2] == 3000
    tess.wait_for(crosses, 10, "a fragmented datagram across")
