# SPDX-License-Identifier: BSD-3-Clause
"""Port cross-connect with real taps in namespaces: both ways, sizes, MTU, drops, runtime changes."""
import struct
import threading

from scapy.layers.l2 import Ether
from scapy.packet import Raw

import tess

ETHERTYPE_TEST = 0x88B5  # IEEE local experimental: the kernel ignores it


def frame(src, dst, size, seq, marker):
    """An Ethernet frame of exactly `size` bytes (no FCS) carrying marker and seq."""
    head = bytes(Ether(src=src, dst=dst, type=ETHERTYPE_TEST))
    body = marker + struct.pack("!I", seq)
    return head + body + b"\x5a" * (size - len(head) - len(body))


def matcher(marker):
    return lambda data: len(data) >= 18 and data[12:14] == b"\x88\xb5" and data[14:14 + len(marker)] == marker


def mac_of(ns, iface):
    return ns.run("cat", f"/sys/class/net/{iface}/address").stdout.strip()


def test_ping_both_ways_and_counters(cleanup, tmp_path):
    t, (na, ia), (nb, ib) = tess.tap_pair(cleanup, tmp_path)
    t.tessctl("stats", "--reset")
    assert na.ping("10.77.0.2", count=5) == (5, 5)
    assert nb.ping("10.77.0.1", count=5) == (5, 5)
    st = t.port_stats()
    # Each ping: request and reply, plus ARP the first time. Both ports saw both directions.
    for p in ("a", "b"):
        assert st[p]["rx_packets"] >= 10 and st[p]["tx_packets"] >= 10, st
        assert st[p]["drops_total"] == 0, st
    assert st["a"]["rx_packets"] == st["b"]["tx_packets"]
    assert st["b"]["rx_packets"] == st["a"]["tx_packets"]
    assert st["a"]["rx_bytes"] == st["b"]["tx_bytes"]
    stats = t.ctl("stats")
    w = stats["workers"]
    assert len(w) == 1 and w[0]["packets"] == st["a"]["rx_packets"] + st["b"]["rx_packets"]
    assert w[0]["busy_cycles"] > 0 and w[0]["cycles_per_packet"] > 0
    # Every packet went through the cross-connect's stage, and nothing was dropped.
    stages = {s["name"]: s for s in stats["stages"]}
    assert stages["xconnect"]["packets"] == w[0]["packets"], stages
    assert stages["xconnect"]["module"] == "xconnect" and stages["xconnect"]["cycles"] > 0
    assert all(not reasons for reasons in stats["drops"].values()), stats["drops"]
    # The human tables show the same ports, and the stage.
    out = t.tessctl("stats").stdout
    assert "CYCLES/PKT" in out and "\na " in out and "\nb " in out
    assert "\nxconnect " in out


def send_and_count(na, ia, nb, ib, sizes, marker, count_each=3):
    sa, sb = na.raw_socket(ia), nb.raw_socket(ib)
    src, dst = mac_of(na, ia), mac_of(nb, ib)
    seq = 0
    for size in sizes:
        for _ in range(count_each):
            sa.send(frame(src, dst, size, seq, marker))
            seq += 1
    got = tess.recv_frames(sb, matcher(marker), seq, timeout=5)
    sa.close()
    sb.close()
    return sorted(len(g) for g in got)


def test_driver_frame_limit_is_reported(cleanup, tmp_path):
    """DPDK 22.11's net_tap takes frames up to 1522 bytes: a jumbo MTU is refused clearly."""
    t = tess.Tessd(cleanup, tmp_path, ports=[tess.tap_port("a", f"ta{tess.uid()}", 0, mtu=9000)])
    try:
        t.start()
        raise AssertionError("tessd started with MTU 9000 on a tap")
    except tess.TessdError as e:
        assert "/ports/0/mtu: driver net_tap takes frames up to 1522 bytes: MTU 1504 at most" in str(e)


def test_af_packet_ports_on_veth(cleanup, tmp_path):
    pa, peer_a = tess.veth_port(cleanup, "a", 0)
    pb, peer_b = tess.veth_port(cleanup, "b", 1)
    t = tess.Tessd(cleanup, tmp_path, ports=[pa, pb], xconnects=[{"a": "a", "b": "b"}]).start()
    na, nb = tess.Netns(cleanup), tess.Netns(cleanup)
    na.attach(peer_a, "10.77.0.1/24")
    nb.attach(peer_b, "10.77.0.2/24")
    assert na.ping("10.77.0.2", count=3) == (3, 3)
    assert nb.ping("10.77.0.1", count=3, extra=("-s", "1472", "-M", "do")) == (3, 3)
    assert {p["driver"] for p in t.ctl("port", "list")} == {"net_af_packet"}


def test_no_output_after_delete_then_readd(cleanup, tmp_path):
    t, (na, ia), (nb, ib) = tess.tap_pair(cleanup, tmp_path)
    assert na.ping("10.77.0.2", count=2) == (2, 2)
    assert t.ctl("xconnect", "del", "a") == {"a": "a", "b": "b"}
    assert t.ctl("xconnect", "list") == []
    t.tessctl("stats", "--reset")
    sent, recv = na.ping("10.77.0.2", count=3, extra=("-I", ia))
    assert recv == 0
    assert t.port_stats()["a"]["drops"]["no_output"] >= 3
    assert t.ctl("xconnect", "add", "b", "a") == {"a": "b", "b": "a"}
    assert na.ping("10.77.0.2", count=3) == (3, 3)
    ports = {p["name"]: p for p in t.ctl("port", "list")}
    assert ports["a"]["xconnect"] == "b" and ports["b"]["xconnect"] == "a"


def test_changes_while_traffic_flows_lose_nothing(cleanup, tmp_path):
    """xconnect add/del on one pair while a fast ping crosses the other."""
    u = tess.uid()
    ifs = [f"t{c}{u}" for c in "abcd"]
    t = tess.Tessd(cleanup, tmp_path,
                   ports=[tess.tap_port(n, i, k) for k, (n, i) in enumerate(zip("abcd", ifs))],
                   xconnects=[{"a": "a", "b": "b"}, {"a": "c", "b": "d"}]).start()
    ns = [tess.Netns(cleanup) for _ in range(4)]
    for k, (n, i) in enumerate(zip(ns, ifs)):
        n.attach(i, f"10.78.{k // 2}.{k % 2 + 1}/24")
    assert ns[2].ping("10.78.1.2", count=2) == (2, 2)

    result = {}
    pinger = threading.Thread(target=lambda: result.update(
        r=ns[0].ping("10.78.0.2", count=400, interval=0.005, timeout=60)))
    pinger.start()
    changes = 0
    while pinger.is_alive():
        t.ctl("xconnect", "del", "c")
        t.ctl("xconnect", "add", "c", "d")
        changes += 2
    pinger.join()
    assert changes >= 10
    assert result["r"] == (400, 400)
    assert t.ctl("status")["snapshot_gen"] >= changes
    assert ns[2].ping("10.78.1.2", count=2) == (2, 2)


def test_two_workers_share_the_ports(cleanup, tmp_path):
    """Two workers (both on CPU 1 here), two RX queues per port, a TX queue per worker."""
    t, (na, ia), (nb, ib) = tess.tap_pair(cleanup, tmp_path,
                                          tessd_kw={"workers": [1, 1], "memory_mb": 384})
    ports = t.ctl("port", "list")
    assert all(p["rx_queues"] == 2 and p["tx_queues"] == 2 for p in ports)
    w = t.ctl("stats")["workers"]
    assert sorted(q for x in w for q in x["rx_queues"]) == ["a:0", "a:1", "b:0", "b:1"]
    assert all(len(x["rx_queues"]) == 2 for x in w)
    t.tessctl("stats", "--reset")
    # Many flows, so the kernel spreads them over the tap's queues.
    sa, sb = na.raw_socket(ia), nb.raw_socket(ib)
    from scapy.layers.inet import IP, UDP
    src, dst = mac_of(na, ia), mac_of(nb, ib)
    n = 0
    for sport in range(2000, 2400):
        sa.send(bytes(Ether(src=src, dst=dst) / IP(src="10.77.0.1", dst="10.77.0.2") /
                      UDP(sport=sport, dport=9) / Raw(b"FLOWS")))
        n += 1
    got = tess.recv_frames(sb, lambda d: b"FLOWS" in d, n, timeout=5)
    assert len(got) == n
    w = t.ctl("stats")["workers"]
    assert all(x["packets"] > 0 for x in w), w
    assert sum(x["packets"] for x in w) >= n
    assert na.ping("10.77.0.2", count=3) == (3, 3)
    sa.close()
    sb.close()


def test_mbufs_fit_ports_that_cannot_chain(cleanup, tmp_path):
    """Jumbo ports whose drivers cannot chain mbufs (here vhost: no RX scatter; null: no
    multi-segment TX) get mbufs that hold a whole frame; standard MTUs keep 2 KiB mbufs."""
    def start(mtu):
        u = tess.uid()
        t = tess.Tessd(cleanup, tmp_path, ports=[
            {"name": "vm", "devargs": f"net_vhost{u},iface={tmp_path}/v{u}.sock", "mtu": mtu},
            {"name": "o", "devargs": f"net_null{u}", "mtu": mtu}]).start()
        ports = {p["name"]: p for p in t.ctl("port", "list")}
        assert t.stop() == 0
        return ports, t.log()

    ports, log = start(9000)
    assert not ports["vm"]["scatter"] and not ports["o"]["tx_multiseg"]
    assert "mbufs of 9152 bytes" in log
    ports, log = start(1500)
    assert "mbufs of 2176 bytes" in log
