# SPDX-License-Identifier: BSD-3-Clause
"""Ports of tessd's vhost backend ("vhost": {"path": ...}): vhost-user sockets served by DPDK's
vhost library directly, no ethdev each. testpmd's net_virtio_user plays the VMs."""
import os
import time

import pytest

import tess
from testpmd import Testpmd


def vport(name, path, client=False, **kw):
    p = {"name": name, "vhost": {"path": path, "client": client}}
    p.update(kw)
    return p


def start_vms(cleanup, tmp_path, paths, n=0, servers=(), jumbo=False):
    """One testpmd holding a virtio_user VM port per path (rxonly until told otherwise); the
    VM serves the sockets in `servers` (tessd's port is the client there)."""
    vdevs = [f"net_virtio_user{i},path={p},queues=1" + (",server=1" if p in servers else "")
             for i, p in enumerate(paths)]
    tp = Testpmd(cleanup, vdevs, lcores="0@0,1@0", memory_mb=256,
                 args=["--total-num-mbufs=8192", "--txd=512", "--rxd=512",
                       "--forward-mode=rxonly"] +
                 (["--mbuf-size=10240", "--max-pkt-len=9018"] if jumbo else []),
                 log_path=os.path.join(tmp_path, f"testpmd{n}.log"))
    for i in range(len(paths)):
        tp.wait_link(i)
    return tp


def send(tp, size=128, bursts=1):
    tp.cmd("stop")
    tp.cmd(f"set txpkts {size}")
    tp.cmd("clear port stats all")
    tp.cmd(f"start tx_first {bursts}")


def wait_rx(tp, ports, want, timeout=10):
    deadline = time.time() + timeout
    while True:
        s = [tp.port_stats(i) for i in ports]
        if all(x["rx_packets"] >= want for x in s) or time.time() > deadline:
            return s
        time.sleep(0.2)


def test_vhost_port_xconnect_both_ways(cleanup, tmp_path):
    """A server port and a client one (the VM serves), frames and drops counted as on ethdevs;
    tessctl's port table and `port add-vhost --client`."""
    s0, s1 = (os.path.join(tmp_path, f"vm{i}.sock") for i in range(2))
    t = tess.Tessd(cleanup, tmp_path, main_cpu=1, workers=[1], memory_mb=256,
                   ports=[vport("vm0", s0, mtu=9000), vport("vm1", s1, client=True, mtu=9000)],
                   xconnects=[{"a": "vm0", "b": "vm1"}]).start()
    ports = t.ctl("port", "list")
    assert [p["driver"] for p in ports] == ["vhost", "vhost"], ports
    assert all(p["port_id"] >= 32 and not p["link"]["up"] for p in ports), ports
    # The client port again, through tessctl (it starts connecting at once).
    t.tessctl("xconnect", "del", "vm0")
    t.tessctl("port", "del", "vm1")
    t.tessctl("port", "add-vhost", "vm1", s1, "--client", "--mtu", "9000")
    assert {p["name"]: p for p in t.ctl("port", "list")}["vm1"]["vhost"]["client"] is True
    t.tessctl("xconnect", "add", "vm0", "vm1")
    tp = start_vms(cleanup, tmp_path, [s0, s1], servers=[s1], jumbo=True)
    tess.wait_for(lambda: all(p["link"]["up"] for p in t.ctl("port", "list")), 10, "links up")
    # The log says so, without a speed vhost does not have.
    line = tess.wait_for(lambda: [ln for ln in t.log().splitlines() if "port vm0 link up" in ln],
                         10, "vm0's link line")[0]
    assert "link up," not in line and "None" not in line, line
    table = t.tessctl("port", "list").stdout
    vm0 = [line.split() for line in table.splitlines() if line.startswith("vm0 ")][0]
    assert vm0[2] == "vhost" and "up" in vm0 and "0M" not in table, table
    for size in (60, 1514, 9014):  # 9014: chained mbufs in tessd both ways
        t.tessctl("stats", "--reset")
        send(tp, size, 2)
        s = wait_rx(tp, (0, 1), 64)
        assert s[0]["rx_packets"] == 64 and s[1]["rx_packets"] == 64, (size, s)
        assert s[0]["rx_bytes"] == 64 * size, (size, s)
        st = t.port_stats()
        assert st["vm0"]["rx_packets"] == 64 and st["vm1"]["tx_packets"] == 64, st
        assert st["vm0"]["tx_bytes"] == 64 * size and st["vm1"]["rx_bytes"] == 64 * size, st
        assert st["vm0"]["drops_total"] == 0 and st["vm1"]["drops_total"] == 0, st
    # One byte over the MTU: dropped and counted on the port that would send it.
    t.tessctl("stats", "--reset")
    send(tp, 9015, 1)
    tess.wait_for(lambda: t.port_stats()["vm1"]["drops"]["mtu_exceeded"] == 32, 5, "mtu drops")
    assert t.port_stats()["vm0"]["drops"]["mtu_exceeded"] == 32
    tp.quit()
    # No guest on the other side: what would go to it is a TX drop of that port.
    tp = start_vms(cleanup, tmp_path, [s0], n=1)
    tess.wait_for(lambda: not t.ctl("port", "list")[1]["link"]["up"], 10, "vm1 gone")
    t.tessctl("stats", "--reset")
    send(tp, 100, 1)
    tess.wait_for(lambda: t.port_stats()["vm1"]["drops"]["tx_full"] == 32, 5, "tx drops")
    assert t.port_stats()["vm0"]["rx_packets"] == 32
    tp.quit()


def test_a_second_front_end_of_a_server_port_is_refused(cleanup, tmp_path):
    """A server socket takes any number of connections, a port has one guest: a front-end that
    connects while one is connected is not taken (counted once, though the library offers it
    at each of its messages) and the first keeps the port (the second took it over before,
    leaving the first's frames unread)."""
    s0, s1 = (os.path.join(tmp_path, f"vm{i}.sock") for i in range(2))
    t = tess.Tessd(cleanup, tmp_path, main_cpu=1, workers=[1], memory_mb=256,
                   ports=[vport("vm0", s0), vport("vm1", s1)],
                   xconnects=[{"a": "vm0", "b": "vm1"}]).start()
    tp = start_vms(cleanup, tmp_path, [s0, s1])
    tess.wait_for(lambda: all(p["link"]["up"] for p in t.ctl("port", "list")), 10, "links up")
    other = Testpmd(cleanup, [f"net_virtio_user0,path={s0},queues=1"], lcores="0@0,1@0",
                    memory_mb=256, args=["--total-num-mbufs=8192", "--forward-mode=rxonly"],
                    log_path=os.path.join(tmp_path, "other.log"))

    def vm0():
        return {p["name"]: p for p in t.ctl("port", "list")}["vm0"]["vhost"]
    tess.wait_for(lambda: vm0()["refused"] == 1, 10, "the second front-end refused")
    assert vm0()["connects"] == 1 and vm0()["connected"], vm0()
    assert "refused a second front-end" in t.log()
    for rounds in range(2):  # with the other front-end there, then gone
        t.tessctl("stats", "--reset")
        send(tp, 128, 1)
        s = wait_rx(tp, (1,), 32)
        assert s[0]["rx_packets"] == 32, (rounds, s)
        assert t.port_stats()["vm0"]["rx_packets"] == 32
        other.quit()
    assert vm0()["connected"] and vm0()["disconnects"] == 0, vm0()
    assert vm0()["refused"] == 1 and t.log().count("refused a second front-end") == 1
    tp.quit()


def polled(t):
    return t.ctl("status")["vhost_polled"]


@pytest.mark.parametrize("workers", [[1], [1, 1]])
def test_vhost_idle_ports_are_not_polled_and_wake_on_traffic(cleanup, tmp_path, workers):
    """Two workers: each port is polled by one, sent to by both."""
    paths = [os.path.join(tmp_path, f"vm{i}.sock") for i in range(2)]
    t = tess.Tessd(cleanup, tmp_path, main_cpu=1, workers=workers, memory_mb=256,
                   ports=[vport(f"vm{i}", p) for i, p in enumerate(paths)],
                   xconnects=[{"a": "vm0", "b": "vm1"}]).start()
    tp = start_vms(cleanup, tmp_path, paths)
    # Connected but silent: both leave the worker's list.
    tess.wait_for(lambda: polled(t) == 0, 10, "idle vhost ports parked")
    ports = {p["name"]: p for p in t.ctl("port", "list")}
    assert ports["vm0"]["vhost"]["connected"] and ports["vm0"]["vhost"]["parks"] >= 1, ports
    for rnd in range(3):
        t.tessctl("stats", "--reset")
        send(tp, 256, 1)
        s = wait_rx(tp, (0, 1), 32)
        assert s[0]["rx_packets"] == 32 and s[1]["rx_packets"] == 32, (rnd, s)
        tp.cmd("stop")
        tess.wait_for(lambda: polled(t) == 0, 10, "parked again")
    ports = {p["name"]: p for p in t.ctl("port", "list")}
    assert ports["vm0"]["vhost"]["wakes"] >= 3, ports
    tp.quit()


N_PORTS = 500


def test_vhost_500_ports_few_connected(cleanup, tmp_path):
    """500 vhost ports in one tessd, 4 with a guest: traffic between those, the idle ones
    polled by no worker; a port removed and added again; a guest that leaves and returns."""
    d = os.path.join(tmp_path, "socks")
    os.mkdir(d)
    paths = [os.path.join(d, f"p{i}.sock") for i in range(N_PORTS)]
    t = tess.Tessd(cleanup, tmp_path, main_cpu=1, workers=[1], memory_mb=256,
                   ports=[vport(f"p{i}", p) for i, p in enumerate(paths)],
                   xconnects=[{"a": "p0", "b": "p1"}, {"a": "p2", "b": "p3"}]).start(timeout=60)
    st = t.ctl("status")
    assert st["ports"] == N_PORTS and st["vhost_polled"] == 0, st
    ids = sorted(p["port_id"] for p in t.ctl("port", "list"))
    assert len(set(ids)) == N_PORTS and ids[-1] >= N_PORTS, ids[-5:]  # beyond ethdev ids

    tp = start_vms(cleanup, tmp_path, paths[:4])
    tess.wait_for(lambda: polled(t) == 0, 10, "connected but idle ports parked")
    t.tessctl("stats", "--reset")
    send(tp, 200, 2)
    s = wait_rx(tp, range(4), 64)
    assert all(x["rx_packets"] == 64 for x in s), s
    st = t.port_stats()
    for i in range(4):
        assert st[f"p{i}"]["rx_packets"] == 64 and st[f"p{i}"]["tx_packets"] == 64, st[f"p{i}"]
        assert st[f"p{i}"]["tx_bytes"] == 64 * 200 and st[f"p{i}"]["drops_total"] == 0
    assert all(st[f"p{i}"]["rx_packets"] == 0 for i in range(4, N_PORTS))
    tp.cmd("stop")
    tess.wait_for(lambda: polled(t) == 0, 10, "parked after the traffic")

    # An idle port goes and comes back (same socket), and takes a guest.
    last = paths[-1]
    t.tessctl("port", "del", f"p{N_PORTS - 1}")
    assert not os.path.exists(last)
    assert t.ctl("status")["ports"] == N_PORTS - 1
    t.tessctl("port", "add-vhost", f"p{N_PORTS - 1}", last, "--mtu", "1500")
    assert os.path.exists(last)
    tp2 = start_vms(cleanup, tmp_path, [last], n=1)
    tess.wait_for(lambda: {p["name"]: p for p in t.ctl("port", "list")}[f"p{N_PORTS - 1}"]
                  ["link"]["up"], 10, "re-added port connected")
    # Removed with its guest connected, then the guest goes.
    t.tessctl("port", "del", f"p{N_PORTS - 1}")
    assert f"p{N_PORTS - 1}" not in {p["name"] for p in t.ctl("port", "list")}
    tp2.quit()

    # The guests leave and return: the ports take them again and forward.
    assert tp.quit() == 0
    tess.wait_for(lambda: not any(p["link"]["up"] for p in t.ctl("port", "list")), 10,
                  "all guests gone")
    assert polled(t) == 0
    tp = start_vms(cleanup, tmp_path, paths[:4], n=2)
    t.tessctl("stats", "--reset")
    send(tp, 64, 1)
    s = wait_rx(tp, range(4), 32)
    assert all(x["rx_packets"] == 32 for x in s), s
    ports = {p["name"]: p for p in t.ctl("port", "list")}
    assert ports["p0"]["vhost"]["connects"] == 2 and ports["p0"]["vhost"]["disconnects"] == 1
    tp.quit()


def test_vhost_ports_switched_in_a_group_and_api_confined(cleanup, tmp_path):
    """Desktop-style ports (access, anti-spoof on by default) switched in a group; port.add of
    a vhost port keeps to control.port_dirs like net_vhost's iface=."""
    paths = [os.path.join(tmp_path, f"d{i}.sock") for i in range(3)]
    t = tess.Tessd(cleanup, tmp_path, main_cpu=1, workers=[1], memory_mb=256,
                   ports=[vport(f"d{i}", p, mode="access", group="desk")
                          for i, p in enumerate(paths[:2])])
    t.config["switch"] = {"groups": [{"name": "desk", "vlan": 10}]}
    t.start()
    r = t.tessctl("call", "port.add", '{"name": "x", "vhost": {"path": "/tmp/x.sock"}}',
                  check=False)
    assert r.returncode != 0 and "port_dirs" in r.stderr, r.stderr
    r = t.tessctl("port", "add-vhost", "d2", paths[2], "--mode", "access", "--group", "desk")
    assert r.stdout.startswith("port d2 (id ") and "vhost" in r.stdout, r.stdout
    ports = {p["name"]: p for p in t.ctl("port", "list")}
    assert ports["d2"]["anti_spoof"] is True and ports["d2"]["vhost"]["path"] == paths[2]
    tp = start_vms(cleanup, tmp_path, paths)
    t.tessctl("stats", "--reset")
    # Each VM sends 32 frames to an unknown MAC: flooded to the two others.
    send(tp, 100, 1)
    s = wait_rx(tp, range(3), 64)
    assert all(x["rx_packets"] == 64 for x in s), s
    st = t.port_stats()
    for i in range(3):
        assert st[f"d{i}"]["rx_packets"] == 32 and st[f"d{i}"]["tx_packets"] == 64, st
        assert st[f"d{i}"]["flooded"] == 32, st
    tp.quit()


def test_status_reports_the_port_capacity(cleanup, tmp_path):
    """status' port_capacity: ethdev ids (DPDK's 32) and vhost slots (1024) used and free, the
    vhost library's fd set (1023 slots: a server port takes two, listener and guest, a client
    port one) bounding the client ports that still fit."""
    u = tess.uid()
    d = os.path.join(tmp_path, "socks")
    os.mkdir(d)
    t = tess.Tessd(cleanup, tmp_path, main_cpu=1, workers=[1], memory_mb=256,
                   ports=[{"name": "n0", "devargs": f"net_null{u}"},
                          vport("srv", os.path.join(d, "srv.sock")),
                          vport("cli", os.path.join(d, "cli.sock"), client=True)]).start()

    def cap():
        return t.ctl("status")["port_capacity"]

    c = cap()
    assert c["ethdev"] == {"max": 32, "used": 1, "free": 31}, c
    assert c["vhost"] == {"max": 1024, "used": 2, "free": 1023 - 3, "server": 1, "client": 1,
                          "connected": 0, "fd_set_max": 1023, "fd_set_committed": 3}, c
    t.tessctl("port", "add-vhost", "cli2", os.path.join(d, "cli2.sock"), "--client")
    c = cap()["vhost"]
    assert (c["used"], c["client"], c["fd_set_committed"], c["free"]) == (3, 2, 4, 1019), c
    t.tessctl("port", "del", "srv")
    c = cap()["vhost"]
    assert (c["used"], c["server"], c["fd_set_committed"], c["free"]) == (2, 0, 2, 1021), c


def test_vhost_1024_ports_and_not_one_more(cleanup, tmp_path):
    """The backend's limit: 1024 vhost ports (client mode: only connected sockets sit in the
    vhost library's poll set); the next one is refused with the reason, the rest untouched."""
    d = os.path.join(tmp_path, "socks")
    os.mkdir(d)
    paths = [os.path.join(d, f"p{i}.sock") for i in range(1025)]
    t = tess.Tessd(cleanup, tmp_path, main_cpu=1, workers=[1], memory_mb=256,
                   ports=[vport(f"p{i}", p, client=True) for i, p in enumerate(paths[:1024])],
                   xconnects=[{"a": "p0", "b": "p1023"}]).start(timeout=120)
    assert t.ctl("status")["ports"] == 1024
    r = t.tessctl("call", "port.add", '{"name": "x", "vhost": {"path": "%s"}}' % paths[1024],
                  check=False)
    assert r.returncode != 0 and "all 1024 vhost ports are in use" in r.stderr, r.stderr
    assert t.ctl("status")["ports"] == 1024
    # No slot left, and more client ports than the vhost library's fd set holds connected.
    c = t.ctl("status")["port_capacity"]["vhost"]
    assert (c["used"], c["free"], c["client"], c["fd_set_committed"]) == (1024, 0, 1024, 1024), c
    tp = start_vms(cleanup, tmp_path, [paths[0], paths[1023]], servers=[paths[0], paths[1023]])
    send(tp, 100, 1)
    s = wait_rx(tp, (0, 1), 32)
    assert s[0]["rx_packets"] == 32 and s[1]["rx_packets"] == 32, s
    assert t.ctl("status")["port_capacity"]["vhost"]["connected"] == 2
    tp.quit()
