# SPDX-License-Identifier: BSD-3-Clause
"""A real desktop host for tessmgrd's tests: a QEMU libvirtd of the test's own
(tests/lib/libvirtd.py), the host's tessd serving the desktops' vhost-user ports in group corp
(VLAN 100), whose IRB interface (gw/24) serves DHCP from a pool, and a storage directory with a
tiny base image (tiny.qcow2)."""
import os

import guest
import tess
from libvirtd import Libvirtd


class RealHost:
    def __init__(self, cleanup, tmp_path, gw, pool):
        self.lv = Libvirtd(cleanup, driver="qemu").start()
        self.dirs = {d: os.path.join(str(tmp_path), d) for d in ("vhost", "console", "storage")}
        for d in self.dirs.values():
            os.makedirs(d)
        t = tess.Tessd(cleanup, tmp_path, main_cpu=1, workers=[1],
                       control={"port_dirs": [self.dirs["vhost"]]})
        t.config["switch"] = {"groups": [{"name": "corp", "tenant": "acme", "vlan": 100}]}
        t.config["router"] = {
            "vrfs": [{"name": "corp", "id": 100}],
            "interfaces": [{"name": "corp-irb", "vrf": "corp", "group": "corp",
                            "addresses": [gw + "/24"]}]}
        t.config["dhcp"] = {"servers": [{
            "interface": "corp-irb", "pools": [{"start": pool[0], "end": pool[1]}],
            "lease_sec": 600}]}
        self.tessd = t.start()
        tess.sh("qemu-img", "create", "-q", "-f", "qcow2",
                os.path.join(self.dirs["storage"], "tiny.qcow2"), "16M")

    def body(self, **kw):
        """tessmgrd's host q1 (site paris, VLAN 100) on this libvirtd and tessd."""
        return dict({"name": "q1", "site": "paris", "uri": self.lv.uri, "vlans": [100],
                     "virt_type": "kvm" if guest.kvm_works() else "qemu",
                     "tessd": self.tessd.socket, "vhost_dir": self.dirs["vhost"],
                     "console_dir": self.dirs["console"]}, **kw)
