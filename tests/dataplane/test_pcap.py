# SPDX-License-Identifier: BSD-3-Clause
"""net_pcap ports replay crafted frames the kernel would never send (runts), so every
drop reason of the cross-connect is exercised and nothing bad leaves tessd."""
import os

from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether
from scapy.packet import Raw
from scapy.utils import rdpcap, wrpcap

import tess


def test_pcap_replay_counts_each_bad_frame(cleanup, tmp_path):
    good = [Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IP(dst="10.0.0.2") /
            UDP(dport=7) / Raw(bytes([i]) * (18 + i)) for i in range(5)]
    big = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / Raw(b"\x00" * 1600)
    runts = [Raw(b"\x02" * n) for n in (1, 6, 13)]
    frames = [runts[0], good[0], good[1], runts[1], big, good[2], runts[2], good[3], good[4]]
    rx, empty = os.path.join(tmp_path, "in.pcap"), os.path.join(tmp_path, "empty.pcap")
    out_a, out_b = os.path.join(tmp_path, "out_a.pcap"), os.path.join(tmp_path, "out_b.pcap")
    wrpcap(rx, frames)
    wrpcap(empty, [])
    t = tess.Tessd(cleanup, tmp_path, ports=[
        {"name": "a", "devargs": f"net_pcap0,rx_pcap={rx},tx_pcap={out_a}"},
        {"name": "b", "devargs": f"net_pcap1,rx_pcap={empty},tx_pcap={out_b}"},
    ], xconnects=[{"a": "a", "b": "b"}]).start()
    tess.wait_for(lambda: t.port_stats()["a"]["rx_packets"] == len(frames), 5,
                  "the pcap to be replayed")
    st = t.port_stats()
    assert st["a"]["drops"]["bad_frame"] == 3, st
    assert st["b"]["drops"]["mtu_exceeded"] == 1, st
    assert st["b"]["tx_packets"] == 5 and st["a"]["drops_total"] == 3, st
    assert st["b"]["tx_bytes"] == sum(len(g) for g in good), st
    assert t.stop() == 0  # closing the ports flushes the pcap writers
    sent = rdpcap(out_b)
    assert [bytes(p) for p in sent] == [bytes(g) for g in good]
    assert len(rdpcap(out_a)) == 0
