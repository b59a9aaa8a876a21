# SPDX-License-Identifier: BSD-3-Clause
"""Real desktops on a host tessd: tiny Linux guests (a kernel and a busybox initramfs, QEMU
under a libvirtd of the test's own, TCG where KVM does not work) whose NIC is a vhost-user
client of a tessd net_vhost port. Each takes a lease from the DHCP server of the tenant's IRB
interface, pings its gateway and a host of its enterprise, and reports on its serial console.

    guest g0 --vhost-user-- desk0 \\                      VRF corp
    guest g1 --vhost-user-- desk1 -- group corp (IRB corp-irb 10.20.0.1/24, DHCP .100-.103)
                                                         ent 10.30.0.1/24 --tap-- ns 10.30.0.2
"""
import os
import time

import pytest

import guest
import tess
from libvirtd import Libvirtd

GW = "10.20.0.1"
ENT_HOST = "10.30.0.2"
POOL = [f"10.20.0.{i}" for i in range(100, 104)]


@pytest.fixture(scope="module")
def boot_files():
    """The kernel and initramfs (fetched and built once, cached across runs)."""
    return guest.boot_files()


def desk_port(i, sock, kind):
    """A desktop's port: a net_vhost ethdev, or a port of tessd's vhost backend serving the
    socket (vhost) or connecting to the one QEMU serves (vhost-client, as tessmgrd's)."""
    if kind == "net_vhost":
        return {"name": f"desk{i}", "devargs": f"net_vhost{i},iface={sock},queues=1"}
    return {"name": f"desk{i}", "vhost": {"path": sock, "client": kind == "vhost-client"}}


def host_topo(cleanup, tmp_path, lv, n, kind="net_vhost"):
    """A host tessd with n vhost-user desktop ports in group corp, its IRB serving DHCP, and
    an enterprise namespace behind a tap in the same VRF. The vhost sockets are in the
    libvirtd's directory."""
    u = tess.uid()
    ent_if = f"ge{u}"[:15]
    socks = [os.path.join(lv.dir, f"desk{i}.sock") for i in range(n)]
    ports = [dict(desk_port(i, s, kind), mode="access", group="corp")
             for i, s in enumerate(socks)]
    ports.append(tess.tap_port("ent", ent_if, n))
    t = tess.Tessd(cleanup, tmp_path, ports=ports, main_cpu=1, workers=[1])
    t.config["switch"] = {"groups": [{"name": "corp", "tenant": "Corp", "vlan": 300}]}
    t.config["router"] = {
        "vrfs": [{"name": "corp", "id": 300}],
        "interfaces": [
            {"name": "corp-irb", "vrf": "corp", "group": "corp", "addresses": [GW + "/24"]},
            {"name": "corp-ent", "vrf": "corp", "port": "ent", "addresses": ["10.30.0.1/24"]}]}
    t.config["dhcp"] = {"servers": [{
        "interface": "corp-irb", "pools": [{"start": POOL[0], "end": POOL[-1]}],
        "lease_sec": 600}]}
    t.start()
    ns = tess.Netns(cleanup)
    ns.attach(ent_if, addr=ENT_HOST + "/24", mac="02:00:00:0c:0e:02")  # not the port's MAC
    ns.run("ip", "route", "add", "default", "via", "10.30.0.1")
    return t, socks, ns


def start_guest(lv, name, files, sock, mac, **kw):
    console = os.path.join(lv.dir, f"{name}.console")
    xml = os.path.join(lv.dir, f"{name}.xml")
    with open(xml, "w") as f:
        f.write(guest.domain_xml(name, files[0], files[1], sock, console, mac, **kw))
    lv.virsh("create", xml)
    return console


# net_vhost ethdevs, and tessd's vhost ports served (QEMU connects) or connecting (QEMU serves,
# as tessmgrd's desktops): the guests' kernel virtio-net driver, its interrupts and kicks.
@pytest.mark.parametrize("kind", ["net_vhost", "vhost", "vhost-client"])
def test_guests_lease_and_ping_over_vhost_user(cleanup, tmp_path, boot_files, kind):
    """Two guests boot, each takes a different address of the pool from the IRB's DHCP
    server, and pings its gateway and the enterprise host; tessd counts their traffic on
    their vhost-user ports. One powers off when done, the other stays up, reachable from the
    enterprise; stopping the libvirtd leaves no QEMU behind."""
    lv = Libvirtd(cleanup, driver="qemu").start()
    t, socks, ns = host_topo(cleanup, tmp_path, lv, 2, kind)
    macs = ["52:54:00:0c:00:01", "52:54:00:0c:00:02"]
    t0 = time.time()
    # g0 stays up, g1 powers off once it has reported.
    consoles = [start_guest(lv, f"g{i}", boot_files, socks[i], macs[i], pings=[ENT_HOST],
                            after=after, qemu_serves=kind == "vhost-client")
                for i, after in enumerate(("stay", "poweroff"))]
    results = [guest.wait_console(c, timeout=180) for c in consoles]
    print(f"two guests booted and reported in {time.time() - t0:.1f}s "
          f"(kvm={guest.kvm_works()}, /init at {[r['up'] for r in results]}s of uptime, done at "
          f"{[r['done'] for r in results]}s)")

    leases = {l["mac"]: l for l in t.ctl("dhcp", "leases")}
    ips = []
    for r, mac in zip(results, macs):
        lease = r["lease"]
        assert lease, r
        assert lease["ip"] in POOL and lease["router"] == GW and lease["serverid"] == GW, r
        assert leases[mac]["address"] == lease["ip"], leases
        assert r["pings"][GW] == (3, 3), r
        assert r["pings"][ENT_HOST] == (3, 3), r
        ips.append(lease["ip"])
    assert len(set(ips)) == 2, ips
    st = t.port_stats()
    for p in ("desk0", "desk1"):
        assert st[p]["rx_packets"] >= 8 and st[p]["tx_packets"] >= 8, st[p]
    # g1 powered off: its domain is gone. g0 stays up, reachable from the enterprise.
    tess.wait_for(lambda: lv.virsh("list", "--name").stdout.split() == ["g0"], 30,
                  "g1 powered off")
    assert ns.ping(ips[0], count=2) == (2, 2)
    if kind != "net_vhost":
        # Between the guests' sparse frames their ports left the worker's list and came back
        # on the guests' kicks (lost no frame: every lease and ping above made it).
        ports = {p["name"]: p for p in t.ctl("port", "list")}
        assert ports["desk0"]["vhost"]["parks"] >= 1 and ports["desk0"]["vhost"]["wakes"] >= 1
        assert ports["desk0"]["link"]["up"] and not ports["desk1"]["link"]["up"], ports

    pids = lv.qemu_pids()
    assert len(pids) == 1
    lv.stop()
    assert not lv.qemu_pids() and not any(tess._pid_alive(p) for p in pids)

