# SPDX-License-Identifier: BSD-3-Clause
"""vhost-user ports (server and client=1 reconnecting mode) with testpmd's virtio-user as the VM
side: frames of 60 to 9014 bytes cross a jumbo-MTU xconnect, and a VM that restarts reconnects."""
import os

import pytest

import tess
from testpmd import Testpmd


def vhost_setup(cleanup, tmp_path, mtu=9000):
    s0 = os.path.join(tmp_path, "vm0.sock")
    s1 = os.path.join(tmp_path, "vm1.sock")
    t = tess.Tessd(cleanup, tmp_path, main_cpu=1, workers=[1], memory_mb=256, ports=[
        {"name": "vm0", "devargs": f"net_vhost0,iface={s0},queues=1", "mtu": mtu},
        # tessd is the client here and keeps reconnecting to the VM's socket.
        {"name": "vm1", "devargs": f"net_vhost1,iface={s1},queues=1,client=1", "mtu": mtu},
    ], xconnects=[{"a": "vm0", "b": "vm1"}]).start()
    return t, s0, s1


def start_vm(cleanup, tmp_path, s0, s1, n=0):
    tp = Testpmd(cleanup, [f"net_virtio_user0,path={s0},queues=1",
                           f"net_virtio_user1,path={s1},queues=1,server=1"],
                 lcores="0@0,1@0", memory_mb=256,
                 args=["--mbuf-size=10240", "--max-pkt-len=9018", "--total-num-mbufs=4096",
                       "--txd=512", "--rxd=512", "--forward-mode=rxonly"],
                 log_path=os.path.join(tmp_path, f"testpmd{n}.log"))
    tp.wait_link(0)
    tp.wait_link(1)
    return tp


def burst(tp, size, bursts):
    """Sends `bursts` bursts of 32 frames of `size` bytes from each VM port; counts arrivals."""
    tp.cmd("stop")
    tp.cmd(f"set txpkts {size}")
    tp.cmd("clear port stats all")
    tp.cmd(f"start tx_first {bursts}")
    return tp


def wait_rx(tp, want, timeout=10):
    import time
    deadline = time.time() + timeout
    while True:
        s = [tp.port_stats(0), tp.port_stats(1)]
        if all(x["rx_packets"] >= want for x in s) or time.time() > deadline:
            return s
        time.sleep(0.2)


@pytest.mark.parametrize("mtu", [9000])
def test_vhost_jumbo_frames_both_ways_and_reconnect(cleanup, tmp_path, mtu):
    t, s0, s1 = vhost_setup(cleanup, tmp_path, mtu)
    tp = start_vm(cleanup, tmp_path, s0, s1)
    tess.wait_for(lambda: all(p["link"]["up"] for p in t.ctl("port", "list")), 10,
                  "vhost links up in tessd")

    for size in (60, 64, 1514, 2048, 4000, 9000, 9014):
        t.tessctl("stats", "--reset")
        burst(tp, size, 2)
        s = wait_rx(tp, 64)
        for port in (0, 1):
            assert s[port]["rx_packets"] == 64, (size, s)
            # testpmd counts bytes without the FCS, like tessd.
            assert s[port]["rx_bytes"] == 64 * size, (size, s)
        st = t.port_stats()
        assert st["vm0"]["rx_packets"] == 64 and st["vm1"]["tx_packets"] == 64, st
        assert st["vm1"]["rx_bytes"] == 64 * size and st["vm0"]["tx_bytes"] == 64 * size, st
        assert st["vm0"]["drops_total"] == 0 and st["vm1"]["drops_total"] == 0, st

    # One byte over the MTU (untagged) is dropped and counted on the port that would send it.
    t.tessctl("stats", "--reset")
    burst(tp, mtu + 15, 1)
    wait_rx(tp, 1, timeout=2)
    st = t.port_stats()
    assert st["vm0"]["drops"]["mtu_exceeded"] == 32 and st["vm1"]["drops"]["mtu_exceeded"] == 32

    # The VM goes away and comes back: the server port takes the new connection,
    # the client=1 port reconnects by itself.
    assert tp.quit() == 0
    tp = start_vm(cleanup, tmp_path, s0, s1, n=1)
    t.tessctl("stats", "--reset")
    burst(tp, 128, 1)
    s = wait_rx(tp, 32)
    assert s[0]["rx_packets"] == 32 and s[1]["rx_packets"] == 32, s
    tp.quit()
