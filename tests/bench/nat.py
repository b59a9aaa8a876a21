# SPDX-License-Identifier: BSD-3-Clause
"""nat: tessd NAT44 against nftables masquerade in a namespace, on the same frames
(see README "Benchmarks")."""
import os

import tess

from stateful import (IN_ADDR, IN_MAC, NEXTHOP, OUT_ADDR, alternate, finish, kernel_router,
                      summary, tessd_dut)


def kernel_nat(c, tmp, ns, d_in, d_out, sink_mac, args):
    """The Linux kernel forwarding in the namespace, nftables masquerading out of d_out."""
    sessions = kernel_router(c, ns, d_in, d_out, sink_mac, args)
    rules = os.path.join(tmp, "nat.nft")
    with open(rules, "w") as f:
        f.write(f"table ip bench {{\n chain post {{\n  type nat hook postrouting priority srcnat\n"
                f"  oifname \"{d_out}\" masquerade\n }}\n}}\n")
    ns.run("nft", "-f", rules)
    return sessions, None, {}


def tessd_nat(c, tmp, ns, d_in, d_out, sink_mac, args):
    """tessd in the namespace on the same veths (net_af_packet), NAT44 from VRF lan to inet."""
    cap = 3 * (args.flows + 1024)  # the instances' 3 x max_sessions fit the table
    config = {"router": {
        "vrfs": [{"name": "lan", "id": 10}, {"name": "inet", "id": 20}],
        "interfaces": [{"name": "lan-in", "vrf": "lan", "port": "in", "mac": IN_MAC,
                        "addresses": [IN_ADDR]},
                       {"name": "inet-out", "vrf": "inet", "port": "out",
                        "addresses": [OUT_ADDR]}],
        "routes": [{"vrf": "lan", "prefix": "0.0.0.0/0", "type": "vrf", "target_vrf": "inet"},
                   {"vrf": "inet", "prefix": "0.0.0.0/0", "nexthops": [{"via": NEXTHOP}]}],
        "neighbours": [{"vrf": "inet", "ip": NEXTHOP, "mac": sink_mac}]}, "nat": {
        "session_capacity": cap,
        "pools": [{"name": "bench", "prefix": "203.0.113.0/30"}],
        "instances": [{"name": "bench", "inside_vrf": "lan", "outside_vrf": "inet",
                       "pool": "bench", "max_sessions": args.flows + 1024}]}}
    dut = tessd_dut(c, tmp, ns, d_in, d_out, args, config, cap * 100 // 2**20, io=args.tessd_io)

    def sessions():
        return dut.ctl("nat", "stats")["instances"][0]["sessions"]
    return sessions, dut, {}


def nat(args):
    """tessd NAT44 against nftables masquerade on the same frames, alternating."""
    tmp = tess.scratch_dir("tess-bench-nat-")
    args.flows = args.flows or 1000000
    runs = alternate((("tessd", tessd_nat), ("kernel", kernel_nat)), args, tmp, "session")
    result = {"scenario": "nat", **summary(runs, args, "session")}
    med = result["medians"]
    t, k = med["tessd"], med["kernel"]
    return finish(args, result, f"scenario=nat flows={args.flows} valid={int(result['valid'])} "
                  f"tessd_mpps={t['mpps']:.3f} kernel_mpps={k['mpps']:.3f} "
                  f"tessd_mpps_per_core={t['mpps_per_core']:.3f} "
                  f"kernel_mpps_per_core={k['mpps_per_core']:.3f} "
                  f"ratio_per_core={result['pair_ratio_per_core_median']:.2f} "
                  f"tessd_new_per_sec={t['new_per_sec']:.0f} "
                  f"kernel_new_per_sec={k['new_per_sec']:.0f}")
