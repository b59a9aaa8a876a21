# SPDX-License-Identifier: BSD-3-Clause
"""nat: tessd NAT44 against nftables masquerade in a namespace, on the same frames
(see README "Benchmarks")."""
import json
import os
import statistics
import tempfile

from stateful import (IN_ADDR, IN_MAC, NEXTHOP, OUT_ADDR, alternate, kernel_router, medians,
                      pair_ratios, tessd_dut)


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
    tmp = tempfile.mkdtemp(prefix="tess-bench-nat-")
    runs = alternate((("tessd", tessd_nat), ("kernel", kernel_nat)), args, tmp, "session")
    med = medians(runs, ("mpps", "mpps_per_core", "new_per_sec"))
    pairs = pair_ratios(runs, "mpps_per_core")
    new_pairs = pair_ratios(runs, "new_per_sec")
    print(f"  per-core pair ratios {' '.join(f'{p:.2f}' for p in pairs)}; new-session pair "
          f"ratios {' '.join(f'{p:.2f}' for p in new_pairs)}")
    result = {"scenario": "nat", "size": args.size, "flows": args.flows, "reps": args.reps,
              "seconds": args.seconds, "dut_cpu_pct": args.dut_cpu_pct, "medians": med,
              "pair_ratio_per_core_median": statistics.median(pairs),
              "pair_ratio_new_median": statistics.median(new_pairs), "runs": runs,
              "valid": all(r["valid"] for v in runs.values() for r in v)}
    valid = result["valid"]
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
    t, k = med["tessd"], med["kernel"]
    print(f"scenario=nat flows={args.flows} valid={int(valid)} tessd_mpps={t['mpps']:.3f} "
          f"kernel_mpps={k['mpps']:.3f} tessd_mpps_per_core={t['mpps_per_core']:.3f} "
          f"kernel_mpps_per_core={k['mpps_per_core']:.3f} "
          f"ratio_per_core={result['pair_ratio_per_core_median']:.2f} "
          f"tessd_new_per_sec={t['new_per_sec']:.0f} kernel_new_per_sec={k['new_per_sec']:.0f}")
    return 0 if valid else 1
