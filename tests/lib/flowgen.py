# SPDX-License-Identifier: BSD-3-Clause
"""testpmd flowgen as a traffic generator on vhost-user ports, and a router config that
forwards what it sends: shared by the benchmarks (tests/bench) and the soak (tests/soak)."""
import os

from testpmd import Testpmd

GEN_CPU, DUT_CPU = 0, 1  # the generator's CPU and the device under test's

GEN_MACS = ("02:00:00:00:10:00", "02:00:00:00:10:01")
# What testpmd 22.11's flowgen puts in every frame, out of either port: it has no
# per-port addresses (--eth-peer does not reach it).
FLOWGEN_SRC_MAC, FLOWGEN_DST_MAC = "00:01:02:03:04:00", "00:01:02:03:04:01"
# Its 1024 flows (the default) go to 10.253.0.0-10.253.3.255.
FLOWGEN_SRC_IP, FLOWGEN_DST_NET = "10.254.0.0", "10.253.0.0/16"


def generator(cleanup, tmp, socks, size, tag, server=False):
    """testpmd flowgen on two virtio-user ports: UDP frames from FLOWGEN_SRC_MAC and
    FLOWGEN_SRC_IP to FLOWGEN_DST_MAC and 1024 destinations, out of both ports."""
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
