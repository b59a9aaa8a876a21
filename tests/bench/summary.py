# SPDX-License-Identifier: BSD-3-Clause
"""How the benchmarks over two vhost-user ports report: a line per run, pair ratios of
back-to-back runs, whether every run measured what it says."""
import statistics

from flowgen import IMIX
from stateful import quota_problem


def run_line(args, rep, name, r):
    """A run's line: delivered and offered Mpps, cycles/pkt, and with --dut-cpu-pct the
    window's quota periods that stopped the DUT and the generator's unsent share (INVALID
    if the quota did not bound the DUT: quota_problem())."""
    cpp = r.get("cycles_per_pkt")
    line = (f"  rep {rep + 1}/{args.reps} {name:10s} {r['mpps']:.3f} Mpps delivered "
            f"({r['offered_mpps']:.3f} offered)" + (f", {cpp:.1f} cycles/pkt" if cpp else ""))
    if args.size == IMIX:
        line += f", {r['gbps']:.2f} Gbit/s"
    if "pkts_per_busy_poll" in r:
        line += f", {r['pkts_per_busy_poll']:.1f} frames per busy poll"
    if args.dut_cpu_pct:
        unsent, free = r["gen_dropped_share"], r.get("gen_free_mpps")
        line += (f", throttled in {r['throttled']} of {r['periods']} periods, generator "
                 + (f"could not send {100 * unsent:.0f}%" if unsent is not None else
                    "dropped nothing (it waits for room)"
                    + (f", {r['mpps'] / free:.2f}x its free-running rate" if free else "")))
        if quota_problem(r):
            line += f" (INVALID: {quota_problem(r)})"
    if r.get("invalid"):
        line += f" (INVALID: {r['invalid']})"
    print(line, flush=True)


def runs_valid(args, runs):
    """Whether every run measured what it says: with --dut-cpu-pct, each bound by its DUT's
    quota (quota_problem()); and none found wanting by its runner (r["invalid"])."""
    return all((not args.dut_cpu_pct or not quota_problem(r)) and not r.get("invalid")
               for v in runs.values() for r in v)


def pair_line(label, runs, a, b, digits=3, tail=""):
    """a / b for each back-to-back pair, printed (then tail): (their median, whether every
    pair had one). A pair in which a run delivered nothing has no ratio: it is left out of
    the median (a NaN among the ratios makes statistics.median arbitrary) and the caller
    marks the result INVALID."""
    pairs = [x["mpps"] / y["mpps"] if x["mpps"] and y["mpps"] else None
             for x, y in zip(runs[a], runs[b])]
    have = [p for p in pairs if p is not None]
    med = statistics.median(have) if have else float("nan")
    shown = " ".join("n/a" if p is None else f"{p:.{digits}f}" for p in pairs)
    print(f"  {label}pair ratios {shown}, median {med:.{digits}f}{tail}"
          + ("" if len(have) == len(pairs) else " (INVALID: a run delivered nothing)"),
          flush=True)
    return med, len(have) == len(pairs)


def cycles_line(runs, result):
    """Each DUT's cycles/pkt, median and lowest, printed and into result["cycles_per_pkt"]
    ({name: {"median", "lowest"}}). This host flips between a quiet state and one about a
    hundred cycles a frame slower from rep to rep: the lowest says what each costs when
    quiet, beside the pair ratios' median."""
    seen = {}
    for name, v in runs.items():
        cpp = [r["cycles_per_pkt"] for r in v if r.get("cycles_per_pkt")]
        if cpp:
            seen[name] = {"median": statistics.median(cpp), "lowest": min(cpp)}
    if seen:
        print("  cycles/pkt median (lowest): " + ", ".join(
            f"{k} {c['median']:.1f} ({c['lowest']:.1f})" for k, c in seen.items()),
            flush=True)
    result["cycles_per_pkt"] = seen


def imix_fields(args, runs, names):
    """With --imix, the summary's frames=imix and each DUT's median delivered Gbit/s."""
    if args.size != IMIX:
        return ""
    return " frames=imix" + "".join(
        f" {n}_gbps={statistics.median(r['gbps'] for r in runs[n]):.3f}" for n in names)
