# SPDX-License-Identifier: BSD-3-Clause
"""policer: what policing and metering cost tessd's vswitch (see README "Benchmarks").
The same two access ports and generator as `vswitch`: tessd without policers, with a
policer on each port both ways at a rate far above the offered load (every frame green:
the metering alone), at a rate far below it (nearly every frame red and dropped at the
port: the drop path), and testpmd io as the ceiling; alternating, medians and pair ratios."""
import json
import statistics
from functools import partial

import tess

from flowgen import IMIX
from stateful import medians, pair_ratios, quota_problem
from switching import run_tessd_vswitch, run_testpmd_io

# cir_kbps's maximum (100 Gbit/s): far above two ports' worth of virtio-user frames.
GREEN_KBPS = 100000000
# 10 Mbit/s: some 20,000 64-byte frames a second per port pass, the rest is red.
RED_KBPS = 10000


def profile(kbps):
    return [{"name": "bench", "cir_kbps": kbps, "ports": ["vm0", "vm1"], "direction": "both"}]


def colours(r):
    """Green and red frames over the policer's attachments in the window."""
    att = [a for p in r.get("policers", []) for a in p["attachments"]]
    return sum(a["green_packets"] for a in att), sum(a["red_packets"] for a in att)


def valid(name, r):
    """Whether a run measured what it says: no policer, all green, or mostly red (what
    passes a port's `in` meets the other port's `out` meter, green again)."""
    green, red = colours(r)
    if name == "green":
        return green > 0 and red == 0
    if name == "red":
        return red > green
    return True


def policer(args):
    tmp = tess.scratch_dir("tess-bench-policer-")
    pct = args.dut_cpu_pct
    duts = (("none", partial(run_tessd_vswitch, cpu_pct=pct, tag="none")),
            ("green", partial(run_tessd_vswitch, policers=profile(GREEN_KBPS), cpu_pct=pct,
                              tag="green")),
            ("red", partial(run_tessd_vswitch, policers=profile(RED_KBPS), cpu_pct=pct,
                            tag="red")),
            ("ceiling", partial(run_testpmd_io, cpu_pct=pct)))
    runs = {name: [] for name, _ in duts}
    for rep in range(args.reps):
        # Alternate the DUTs so that drift in the machine affects all alike.
        for name, fn in duts:
            r = fn(args, tmp, rep)
            r["green_packets"], r["red_packets"] = colours(r)
            problem = quota_problem(r) if pct else None  # the quota did not bound the DUT
            colours_ok = valid(name, r)
            r["valid"] = colours_ok and not problem
            runs[name].append(r)
            print(f"  rep {rep + 1}/{args.reps} {name:8s} {r['mpps']:.3f} Mpps delivered "
                  f"({r['offered_mpps']:.3f} offered)"
                  + (f", {r['handled_mpps']:.3f} Mpps handled, {r['cycles_per_pkt']:.1f} "
                     f"cycles/pkt" if "cycles_per_pkt" in r else "")
                  + (f", green {r['green_packets']} red {r['red_packets']}"
                     if name in ("green", "red") else "")
                  + ("" if colours_ok else " (INVALID: the policer's colours are not "
                     "what this run measures)")
                  + (f" (INVALID: {problem})" if problem else ""), flush=True)
    tessd = ("none", "green", "red")
    med = medians({k: runs[k] for k in tessd}, ("mpps", "handled_mpps", "cycles_per_pkt"))
    med["ceiling"] = {"mpps": statistics.median(r["mpps"] for r in runs["ceiling"])}
    ratios = {"green_mpps": pair_ratios(runs, "mpps", "green", "none"),
              "green_cycles": pair_ratios(runs, "cycles_per_pkt", "green", "none"),
              "red_handled_mpps": pair_ratios(runs, "handled_mpps", "red", "none"),
              "red_cycles": pair_ratios(runs, "cycles_per_pkt", "red", "none"),
              "none_ceiling_mpps": pair_ratios(runs, "mpps", "none", "ceiling")}
    for k, v in ratios.items():
        print(f"  {k} pair ratios {' '.join(f'{p:.3f}' for p in v)}, "
              f"median {statistics.median(v):.3f}")
    ok = all(r["valid"] for v in runs.values() for r in v)
    result = {"scenario": "policer", "size": args.size, "reps": args.reps,
              "seconds": args.seconds, "dut_cpu_pct": pct, "green_kbps": GREEN_KBPS,
              "red_kbps": RED_KBPS, "medians": med,
              "pair_ratio_medians": {k: statistics.median(v) for k, v in ratios.items()},
              "runs": runs, "valid": ok}
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
    pr = result["pair_ratio_medians"]
    print(f"scenario=policer valid={int(ok)} tessd_mpps={med['none']['mpps']:.3f} "
          f"green_mpps={med['green']['mpps']:.3f} "
          f"red_handled_mpps={med['red']['handled_mpps']:.3f} "
          f"ceiling_mpps={med['ceiling']['mpps']:.3f} "
          f"tessd_cycles_per_pkt={med['none']['cycles_per_pkt']:.1f} "
          f"green_cycles_per_pkt={med['green']['cycles_per_pkt']:.1f} "
          f"red_cycles_per_pkt={med['red']['cycles_per_pkt']:.1f} "
          f"ratio_green={pr['green_mpps']:.3f} ratio_green_cycles={pr['green_cycles']:.3f} "
          f"ratio_red_cycles={pr['red_cycles']:.3f} ratio_ceiling={pr['none_ceiling_mpps']:.3f}"
          + (f" frames=imix tessd_gbps={statistics.median(r['gbps'] for r in runs['none']):.3f}"
             f" ceiling_gbps={statistics.median(r['gbps'] for r in runs['ceiling']):.3f}"
             if args.size == IMIX else ""))
    return 0 if ok else 1
