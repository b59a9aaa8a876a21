# SPDX-License-Identifier: BSD-3-Clause
"""A host vswitch with two tenants whose desktops use the same addresses.

    acme  (VLAN 100): a1 02:00:00:00:00:01 192.168.1.1   a2 ...:02 192.168.1.2
    bravo (VLAN 200): b1 02:00:00:00:00:01 192.168.1.1   b2 ...:02 192.168.1.2
    up: trunk carrying both, into namespace "uplink"

Desktops are namespaces behind tap access ports. This kernel has no 802.1Q
support, so the far end of the trunk is a userspace VLAN endpoint (scapy on
a raw socket): per VLAN it answers ARP and ping for 192.168.1.250 with a MAC
of its own, and records every tag it sees.
"""
from scapy.layers.inet import ICMP, IP
from scapy.layers.l2 import ARP, Dot1Q, Ether

import tess
from capture import Capture, Listener

MAC = {1: "02:00:00:00:00:01", 2: "02:00:00:00:00:02"}
IPS = {1: "192.168.1.1", 2: "192.168.1.2"}
UPLINK_IP = "192.168.1.250"
UPLINK_MAC = {100: "02:00:00:00:01:00", 200: "02:00:00:00:02:00"}


class VlanEndpoint(Listener):
    """Answers ARP and ICMP echo for UPLINK_IP on each VLAN of a trunk, tagged."""

    def __init__(self, ns, iface, vlans):
        self.vlans = vlans
        self.seen = []  # (vid, inner vid or None, Ether) of every tagged frame
        self.untagged = 0
        super().__init__(ns, iface)

    def send(self, frame):
        self.sock.send(bytes(frame))

    def on_frame(self, data):
        pkt = Ether(data)
        if Dot1Q not in pkt:
            self.untagged += 1
            return
        vid = pkt[Dot1Q].vlan
        inner = pkt[Dot1Q].payload
        self.seen.append((vid, inner.vlan if isinstance(inner, Dot1Q) else None, pkt))
        if vid not in self.vlans or isinstance(inner, Dot1Q):
            return
        me = UPLINK_MAC[vid]
        if ARP in pkt and pkt[ARP].op == 1 and pkt[ARP].pdst == UPLINK_IP:
            self.send(Ether(src=me, dst=pkt.src) / Dot1Q(vlan=vid) /
                      ARP(op=2, hwsrc=me, psrc=UPLINK_IP, hwdst=pkt.src, pdst=pkt[ARP].psrc))
        elif ICMP in pkt and pkt[ICMP].type == 8 and pkt[IP].dst == UPLINK_IP:
            ip = pkt[IP]
            self.send(Ether(src=me, dst=pkt.src) / Dot1Q(vlan=vid) /
                      IP(src=UPLINK_IP, dst=ip.src) /
                      ICMP(type=0, id=pkt[ICMP].id, seq=pkt[ICMP].seq) / pkt[ICMP].payload)


class Topo:
    def __init__(self, cleanup, tmp_path, port_kw=None, switch=None, trunk=True, extra_ports=(),
                 tessd_kw=None):
        u = tess.uid()
        self.cleanup = cleanup
        self.ifs = {n: f"{n}{u}"[:15] for n in ("a1", "a2", "b1", "b2", "up")}
        port_kw = port_kw or {}
        group_of = {"a1": "acme", "a2": "acme", "b1": "bravo", "b2": "bravo"}
        ports = []
        for k, name in enumerate(("a1", "a2", "b1", "b2")):
            p = tess.tap_port(name, self.ifs[name], k, mode="access", group=group_of[name])
            p.update(port_kw.get(name, {}))
            ports.append(p)
        if trunk:
            p = tess.tap_port("up", self.ifs["up"], 4, mode="trunk", groups=["acme", "bravo"])
            p.update(port_kw.get("up", {}))
            ports.append(p)
        ports += list(extra_ports)
        sw = {"groups": [{"name": "acme", "tenant": "Acme Corp", "vlan": 100},
                         {"name": "bravo", "tenant": "Bravo Ltd", "vlan": 200}]}
        sw.update(switch or {})
        self.tessd = tess.Tessd(cleanup, tmp_path, ports=ports, **(tessd_kw or {}))
        self.tessd.config["switch"] = sw
        self.tessd.start()
        self.ns = {}
        for name in ("a1", "a2", "b1", "b2"):
            ns = tess.Netns(cleanup)
            ns.attach(self.ifs[name], IPS[int(name[1])] + "/24", mac=MAC[int(name[1])])
            self.ns[name] = ns
        self.endpoint = None
        if trunk:
            up = tess.Netns(cleanup)
            up.attach(self.ifs["up"], mac="02:00:00:00:00:fe")
            self.ns["up"] = up
            self.endpoint = VlanEndpoint(up, self.ifs["up"], (100, 200))
            cleanup.add(self.endpoint.close)

    def ping(self, name, dst, count=3, interval=0.2, pattern=None):
        extra = ("-p", pattern) if pattern else ()
        return self.ns[name].ping(dst, count=count, interval=interval, extra=extra)

    def sock(self, name):
        return self.ns[name].raw_socket(self.ifs[name])

    def capture(self, name):
        c = Capture(self.ns[name], self.ifs[name])
        self.cleanup.add(c.close)
        return c

    def port_stats(self):
        return self.tessd.port_stats()

    def groups(self):
        return {g["name"]: g for g in self.tessd.ctl("stats")["groups"]}

    def fdb(self, **flt):
        args = []
        for k, v in flt.items():
            args += [f"--{k}", v]
        return self.tessd.ctl("fdb", "show", *args)

    def wait_fdb(self, cond, timeout=3, what="the FDB"):
        tess.wait_for(lambda: cond(self.fdb()), timeout, what)

