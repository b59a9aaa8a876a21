# SPDX-License-Identifier: BSD-3-Clause
"""A real desktop provisioned by tessmgrd: a host whose URI is a QEMU libvirtd of the test's
own (tests/lib/libvirtd.py), a desktop model that boots a kernel and a busybox initramfs
directly (tests/lib/guest.py), the desktop's vhost-user port on the host's tessd (a client of
the socket QEMU serves) in the group of the tenant's VLAN, whose IRB interface serves DHCP.
The guest boots from the domain XML tessmgrd writes, takes a lease, pings its gateway and
reports on the serial console that tessmgrd's domain logs to console_dir.

    tessmgrd --qemu+unix:///system?socket=--> libvirtd (its own) --> QEMU (TCG) guest
             --tessd socket--> host tessd: group corp (VLAN 100), IRB 10.20.0.1/24 + DHCP
"""
import os

import guest
import tess
from mgr import ACME, Mgr
from real_host import RealHost

GW = "10.20.0.1"
POOL = [f"10.20.0.{i}" for i in range(100, 110)]


def test_tessmgrd_provisions_a_desktop_that_boots_and_gets_its_lease(cleanup, tmp_path):
    vmlinuz, initrd = guest.boot_files()
    h = RealHost(cleanup, tmp_path, GW, (POOL[0], POOL[-1]))
    lv, host, dirs = h.lv, h.tessd, h.dirs

    m = Mgr(cleanup, tmp_path).start()
    m.site(storage=dirs["storage"])
    m.ok("POST", "hosts", h.body())
    m.tenant("acme", 100)
    m.ok("POST", "models", {"name": "tiny", "vcpus": 1, "memory_mb": 96,
                            "base_image": "tiny.qcow2", "kernel": vmlinuz, "initrd": initrd,
                            "cmdline": guest.CMDLINE + " tess.after=stay"})
    model = m.ok("GET", "models/tiny")
    assert (model["kernel"], model["initrd"]) == (vmlinuz, initrd), model
    m.quota("acme", model="tiny", cpus=2, memory_mb=1024)
    d = m.desktop("d0", ACME, model="tiny")

    names = lv.virsh("list", "--name").stdout.split()
    assert len(names) == 1, names
    xml = lv.virsh("dumpxml", names[0]).stdout
    assert f"<kernel>{vmlinuz}</kernel>" in xml and f"<initrd>{initrd}</initrd>" in xml, xml
    assert "<source type='memfd'/>" in xml and "type='vhostuser'" in xml, xml
    r = guest.wait_console(os.path.join(dirs["console"], f"desk{d['id']}.log"), timeout=180)
    lease = r["lease"]
    assert lease and lease["ip"] in POOL and lease["router"] == GW, r
    assert r["pings"][GW] == (3, 3), r
    leases = [l for l in host.ctl("dhcp", "leases") if l["address"] == lease["ip"]]
    assert leases and leases[0]["mac"].lower() == d["mac"].lower(), (leases, d)
    port = [p for p in host.ctl("port", "list") if "corp" in p.get("groups", [])]
    assert len(port) == 1 and port[0]["link"]["up"], port

    # Deleting the desktop stops its QEMU and removes its port.
    m.wait_job(m.ok("DELETE", f"desktops/{d['id']}", token=ACME)["job"]["id"], token=ACME)
    tess.wait_for(lambda: not lv.qemu_pids(), 30, "the desktop's QEMU gone")
    assert not [p for p in host.ctl("port", "list") if "corp" in p.get("groups", [])]
