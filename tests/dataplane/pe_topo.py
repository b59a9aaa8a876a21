# SPDX-License-Identifier: BSD-3-Clause
"""A provider edge and a host: two enterprises with the same addresses.

    acme-ent  (ns) 192.168.10.10 --tap-- PE tessd --trunk (veth, af_packet)-- host tessd
    bravo-ent (ns) 192.168.10.10 --tap--  VRF acme:  ent 192.168.10.1/24,     groups acme (100),
                                                     dc  trunk.100 192.168.50.1/24   bravo (200)
                                          VRF bravo: the same, trunk.200
    host tessd: access ports into desktop namespaces, both 192.168.50.10/24 gw .1:
        acme-desk (VLAN 100), bravo-desk (VLAN 200)

This kernel has no 802.1Q or bridge support, so the "host network" is
Tessera's own host vswitch; the trunk is a veth pair whose ends both
tessds open with net_af_packet, and on which tests read the tags. The host
tessd runs in a namespace of its own: net_af_packet names its fanout
group after pid ^ ifindex, which two tessds on the two ends of one veth
pair (consecutive ifindexes, often consecutive pids) can share by chance.
"""
import tess
from capture import Capture

ENT_IP, ENT_GW = "192.168.10.10", "192.168.10.1"
DESK_IP, DESK_GW = "192.168.50.10", "192.168.50.1"
VLAN = {"acme": 100, "bravo": 200}
DESK_MAC = {"acme": "02:00:00:00:a0:10", "bravo": "02:00:00:00:b0:10"}
ENT_MAC = {"acme": "02:00:00:00:a1:10", "bravo": "02:00:00:00:b1:10"}


def router_config(dc_mtu=1500, routes=(), neighbours=(), **vrf_kw):
    vrfs, ifaces = [], []
    for t in ("acme", "bravo"):
        vrfs.append(dict({"name": t, "id": VLAN[t]}, **vrf_kw))
        ifaces.append({"name": f"{t}-ent", "vrf": t, "port": f"ent_{t}",
                       "addresses": [ENT_GW + "/24"]})
        ifaces.append({"name": f"{t}-dc", "vrf": t, "port": "trunk", "vlan": VLAN[t],
                       "mtu": dc_mtu, "addresses": [DESK_GW + "/24"]})
    return {"vrfs": vrfs, "interfaces": ifaces, "routes": list(routes),
            "neighbours": list(neighbours)}


class PeTopo:
    def __init__(self, cleanup, tmp_path, dc_mtu=1500, router=None, pe_kw=None):
        u = tess.uid()
        self.cleanup = cleanup
        self.ifs = {n: f"{n}{u}"[:15] for n in ("ea", "eb", "da", "db")}
        self.trunk_pe, self.trunk_host = tess.veth(cleanup)
        pe_ports = [
            tess.tap_port("ent_acme", self.ifs["ea"], 0),
            tess.tap_port("ent_bravo", self.ifs["eb"], 1),
            tess.af_packet_port("trunk", 2, self.trunk_pe),
        ]
        self.pe = tess.Tessd(cleanup, tmp_path, ports=pe_ports, **(pe_kw or {}))
        self.pe.config["router"] = router or router_config(dc_mtu)
        host_ports = [
            tess.af_packet_port("up", 0, self.trunk_host, mode="trunk",
                                groups=["acme", "bravo"]),
            tess.tap_port("desk_acme", self.ifs["da"], 1, mode="access", group="acme"),
            tess.tap_port("desk_bravo", self.ifs["db"], 2, mode="access", group="bravo"),
        ]
        self.host_ns = tess.Netns(cleanup)
        tess.sh("ip", "link", "set", self.trunk_host, "netns", self.host_ns.name)
        self.host_ns.run("ip", "link", "set", self.trunk_host, "up")
        self.host = tess.Tessd(cleanup, tmp_path, ports=host_ports, netns=self.host_ns)
        self.host.config["switch"] = {"groups": [
            {"name": "acme", "tenant": "Acme Corp", "vlan": 100},
            {"name": "bravo", "tenant": "Bravo Ltd", "vlan": 200}]}
        self.pe.start()
        self.host.start()
        self.ns = {}
        for t in ("acme", "bravo"):
            self.ns[f"{t}-ent"] = self._endpoint(self.ifs["e" + t[0]], ENT_MAC[t], ENT_IP,
                                                 ENT_GW)
            self.ns[f"{t}-desk"] = self._endpoint(self.ifs["d" + t[0]], DESK_MAC[t], DESK_IP,
                                                  DESK_GW, src=self.host_ns)

    def _endpoint(self, ifc, mac, ip, gw, src=None):
        return tess.peer(self.cleanup, ifc, ip + "/24", gw, src=src, mac=mac)

    def ping(self, who, dst, count=3, interval=0.2, extra=()):
        return self.ns[who].ping(dst, count=count, interval=interval, extra=extra)

    def capture(self, who):
        ns = self.ns[who]
        c = Capture(ns, ns.ifc)
        self.cleanup.add(c.close)
        return c

    def capture_trunk(self):
        """Frames from the PE as they reach the host, tags included."""
        c = Capture(self.host_ns, self.trunk_host)
        self.cleanup.add(c.close)
        return c

    def vrfs(self):
        return {v["name"]: v for v in self.pe.ctl("stats")["vrfs"]}

    def ifaces(self):
        return {v["name"]: v for v in self.pe.ctl("stats")["interfaces"]}

    def router_mac(self, iface):
        return next(i["mac"].lower() for i in self.pe.ctl("interface", "list")
                    if i["name"] == iface)

    def sock(self, who):
        ns = self.ns[who]
        return ns.raw_socket(ns.ifc)

    def neigh(self, vrf):
        return {n["ip"]: n for n in self.pe.ctl("neigh", "show", "--vrf", vrf)}
