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
