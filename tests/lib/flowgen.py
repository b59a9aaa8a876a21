# SPDX-License-Identifier: BSD-3-Clause
"""testpmd flowgen as a traffic generator on vhost-user ports, and a router config that
forwards what it sends: shared by the benchmarks (tests/bench) and the soak (tests/soak)."""
import os
import socket
import struct

from testpmd import Testpmd

GEN_CPU, DUT_CPU = 0, 1  # the generator's CPU and the device under test's

GEN_MACS = ("02:00:00:00:10:00", "02:00:00:00:10:01")
# What testpmd 22.11's flowgen puts in every frame, out of either port: it has no
# per-port addresses (--eth-peer does not reach it).
FLOWGEN_SRC_MAC, FLOWGEN_DST_MAC = "00:01:02:03:04:00", "00:01:02:03:04:01"
# Its 1024 flows (the default) go to 10.253.0.0-10.253.3.255.
FLOWGEN_SRC_IP, FLOWGEN_DST_NET = "10.254.0.0", "10.253.0.0/16"


IMIX = "imix"  # a size for generator(): the IMIX mix instead of one frame size


def generator(cleanup, tmp, socks, size, tag, server=False):
    """testpmd flowgen on two virtio-user ports: UDP frames from FLOWGEN_SRC_MAC and
    FLOWGEN_SRC_IP to FLOWGEN_DST_MAC and 1024 destinations, out of both ports; with
    size IMIX the same frames in the IMIX mix (imix_generator())."""
    if size == IMIX:
        return imix_generator(cleanup, tmp, socks, tag, server)
    vdevs = [f"net_virtio_user{i},path={s},queues=1,mac={GEN_MACS[i]}" +
             (",server=1" if server else "") for i, s in enumerate(socks)]
    tp = Testpmd(cleanup, vdevs, lcores=f"0@{GEN_CPU},1@{GEN_CPU}", memory_mb=512,
                 args=["--forward-mode=flowgen", f"--txpkts={size}", "--burst=32",
                       "--txd=1024", "--rxd=1024", "--total-num-mbufs=16384"],
                 log_path=os.path.join(tmp, f"gen-{tag}.log"))
    for p in range(len(socks)):
        tp.wait_link(p)
    return tp


def router_config(other_routes):
    """Two VRFs, one per direction (flowgen sends the same destinations out of both ports):
    east routes from vm0 out of VLAN 10 on vm1, west from vm1 out of VLAN 20 on vm0. The
    ingress interfaces have the MAC flowgen sends to; each VRF holds the generated /24 and
    other_routes more, toward a static neighbour with flowgen's source MAC."""
    ifs, routes, neigh = [], [], []
    for vrf, vid, (inp, out) in (("east", 10, (0, 1)), ("west", 20, (1, 0))):
        ifs += [{"name": f"{vrf}-in", "vrf": vrf, "port": f"vm{inp}",
                 "mac": FLOWGEN_DST_MAC, "addresses": ["192.0.2.1/24"]},
                {"name": f"{vrf}-out", "vrf": vrf, "port": f"vm{out}", "vlan": vid,
                 "addresses": ["198.51.100.1/24"]}]
        neigh.append({"vrf": vrf, "ip": "198.51.100.2", "mac": FLOWGEN_SRC_MAC})
        routes.append({"vrf": vrf, "prefix": FLOWGEN_DST_NET,
                       "nexthops": [{"via": "198.51.100.2"}]})
        routes += [{"vrf": vrf, "prefix": f"{20 + k // 65536}.{k // 256 % 256}.{k % 256}.0/24",
                    "nexthops": [{"via": "198.51.100.2"}]} for k in range(other_routes)]
    return {"vrfs": [{"name": "east", "id": 1}, {"name": "west", "id": 2}],
            "interfaces": ifs, "routes": routes, "neighbours": neigh}


# The flat router: flowgen's destinations split in two, half of them back out of the port
# they came in by and half out of the other, as DPDK's l3fwd (its peer) can route them.
FLAT_VIA = ("192.0.2.2", "198.51.100.2")  # the next hop on vm0's interface, on vm1's


def flat_routes(other_routes):
    """[(prefix, port)]: 10.253.0.0/23 out of vm0, 10.253.2.0/23 out of vm1 (flowgen's
    1024 destinations, half each way), then other_routes /24s (20.0.0.0 on) alternating
    ports. Both tessd's flat config and l3fwd's route file come from this list."""
    routes = [("10.253.0.0/23", 0), ("10.253.2.0/23", 1)]
    routes += [(f"{20 + k // 65536}.{k // 256 % 256}.{k % 256}.0/24", k % 2)
               for k in range(other_routes)]
    return routes


def router_flat_config(other_routes):
    """One VRF, vm0 and vm1 untagged with the MAC flowgen sends to, the routes of
    flat_routes() via a static neighbour on each port with flowgen's source MAC: what
    l3fwd does (no VLAN, one table), so that the two compare on the same work."""
    ifs = [{"name": f"flat{i}", "vrf": "flat", "port": f"vm{i}", "mac": FLOWGEN_DST_MAC,
            "addresses": [f"{FLAT_VIA[i].rsplit('.', 1)[0]}.1/24"]} for i in (0, 1)]
    neigh = [{"vrf": "flat", "ip": FLAT_VIA[i], "mac": FLOWGEN_SRC_MAC} for i in (0, 1)]
    routes = [{"vrf": "flat", "prefix": p, "nexthops": [{"via": FLAT_VIA[port]}]}
              for p, port in flat_routes(other_routes)]
    return {"vrfs": [{"name": "flat", "id": 1}], "interfaces": ifs, "routes": routes,
            "neighbours": neigh}


# IMIX: 64, 594 and 1518-byte frames (with the FCS, as --txpkts counts them) at 7:4:1,
# in this order, shuffled once: each burst of 32 mixes all three sizes.
IMIX_PATTERN = (64, 594, 64, 64, 1518, 64, 594, 64, 594, 64, 64, 594)
IMIX_FLOWS = 1024  # flowgen's default flows: the same destinations


def _csum(data):
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    s = (s & 0xFFFF) + (s >> 16)
    return ~((s & 0xFFFF) + (s >> 16)) & 0xFFFF


def _mac(m):
    return bytes(int(x, 16) for x in m.split(":"))


def _addr(a):
    return struct.pack("!I", a) if isinstance(a, int) else socket.inet_aton(a)


def udp_frame(dst_mac, src_mac, src_ip, dst_ip, size, sport=1000, dport=1001, vlan=0):
    """An IPv4/UDP frame of size bytes with the FCS (which it leaves out), 802.1Q-tagged
    with vlan if not 0; addresses as strings, or src_ip/dst_ip as 32-bit integers."""
    n = size - 4
    tag = struct.pack("!HH", 0x8100, vlan) if vlan else b""
    l3 = n - 14 - len(tag)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, l3, 0, 0, 64, 17, 0, _addr(src_ip), _addr(dst_ip))
    ip = ip[:10] + struct.pack("!H", _csum(ip)) + ip[12:]
    udp = struct.pack("!HHHH", sport, dport, l3 - 20, 0)
    return (_mac(dst_mac) + _mac(src_mac) + tag + b"\x08\x00" + ip + udp
            + bytes(l3 - 28))


def write_pcap(path, frames):
    """A pcap (microseconds, Ethernet) of frames, which generators replay in turn."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for frame in frames:
            f.write(struct.pack("<IIII", 0, 0, len(frame), len(frame)) + frame)


def imix_pcap(path):
    """A pcap of flowgen's frames (its MACs, addresses and UDP ports, its IMIX_FLOWS
    destinations in turn) sized by IMIX_PATTERN in turn: 12,288 frames, each flow with
    each size: the pattern shifts by one on each pass over the flows (with k % 12 alone,
    1024 being a multiple of 4, each flow got 3 of the 12 slots and only a quarter of the
    flows any 1518-byte frame). The IMIX generator replays it over and over."""
    dst0 = struct.unpack("!I", socket.inet_aton(FLOWGEN_DST_NET.split("/")[0]))[0]
    write_pcap(path, (udp_frame(FLOWGEN_DST_MAC, FLOWGEN_SRC_MAC, FLOWGEN_SRC_IP,
                                dst0 + k % IMIX_FLOWS,
                                IMIX_PATTERN[(k + k // IMIX_FLOWS) % len(IMIX_PATTERN)])
                      for k in range(len(IMIX_PATTERN) * IMIX_FLOWS)))


def imix_generator(cleanup, tmp, socks, tag, server=False):
    """The IMIX frames (imix_pcap()) replayed by pcap_generator() out of every port."""
    pcap = os.path.join(tmp, "imix.pcap")
    if not os.path.exists(pcap):
        imix_pcap(pcap)
    return pcap_generator(cleanup, tmp, socks, [pcap] * len(socks), tag, server)


def pcap_generator(cleanup, tmp, socks, pcaps, tag, server=False):
    """testpmd io from pcaps (one per port, replayed by net_pcap's infinite_rx) into the
    virtio-user ports, and from those into net_pcap's drop: frames testpmd's flowgen and
    txonly cannot make (flowgen sends one size, one VLAN; txonly mixes sizes by chaining
    segments but never receives). Ports: pcap0, vu0, pcap1, vu1, paired (0-1, 2-3);
    gen.dut_ports are the virtio-user ones, which measure() reads."""
    vdevs = []
    for i, s in enumerate(socks):
        vdevs += [f"net_pcap{i},rx_pcap={pcaps[i]},infinite_rx=1",
                  f"net_virtio_user{i},path={s},queues=1,mac={GEN_MACS[i]}" +
                  (",server=1" if server else "")]
    # net_pcap holds the whole pcap in mbufs (12,288 per port for IMIX) and copies each out.
    tp = Testpmd(cleanup, vdevs, lcores=f"0@{GEN_CPU},1@{GEN_CPU}", memory_mb=512,
                 args=["--forward-mode=io", "--port-topology=paired", "--burst=32",
                       "--txd=1024", "--rxd=1024", "--total-num-mbufs=65536"],
                 log_path=os.path.join(tmp, f"gen-{tag}.log"))
    tp.dut_ports = tuple(2 * i + 1 for i in range(len(socks)))
    for p in tp.dut_ports:
        tp.wait_link(p)
    return tp
