# SPDX-License-Identifier: BSD-3-Clause
"""What the tenant-service benchmarks (dhcp, dns) share: the wire (the DUT's veth end in a
namespace, the generator's in another), dnsmasq as the peer, and the alternating runner
with its medians, pair ratios and summary (see README "Benchmarks")."""
import resource
import signal
import statistics
import subprocess

import tess
from flowgen import DUT_CPU
from stateful import cpu_cgroup, finish, medians, pair_ratios, wires, write


def service_wire(c, gen_addr=None):
    """The first veth pair of stateful.wires: its DUT end d_in in ns, its other end g_in in
    a namespace of its own, gen; returns (ns, d_in, d_out, gen, g_in)."""
    ns, g_in, _, d_in, d_out, _ = wires(c)
    gen = tess.Netns(c)
    gen.attach(g_in, addr=gen_addr)
    # A veth leaves UDP checksums to be done (offload): tessd on af_packet would read them
    # as wrong (`malformed`); the kernel's stack does not check them.
    gen.run("ethtool", "-K", g_in, "tx", "off")
    return ns, d_in, d_out, gen, g_in


def dnsmasq(c, ns, args, *opts):
    """dnsmasq in ns pinned to the DUT CPU (in a cgroup if --dut-cpu-pct), with opts."""
    cgroup = cpu_cgroup(c, args.dut_cpu_pct) if args.dut_cpu_pct else None
    p = subprocess.Popen(
        ["ip", "netns", "exec", ns.name, "taskset", "-c", str(DUT_CPU), "dnsmasq",
         "--no-daemon", "--bind-interfaces", "--pid-file=", "--user=root",
         "--log-facility=/dev/null", *opts], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    c.add(stop, p)
    if cgroup:
        write(cgroup, str(p.pid))  # ip netns exec and taskset exec: the same pid
    return p


def stop(p):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        p.wait(10)


def versus_dnsmasq(args, scenario, run, line, metric, keep, summary):
    """tessd and dnsmasq, each run(name, rep) --reps times, alternating so that drift in
    the machine affects both alike; line(r) describes a run, keep names the metrics whose
    medians are reported, summary(medians, pair ratio median, valid) is the last line."""
    runs = {"tessd": [], "dnsmasq": []}
    for rep in range(args.reps):
        for name in runs:
            r = run(name, rep)
            runs[name].append(r)
            print(f"  rep {rep + 1}/{args.reps} {name:7s} {line(r)}"
                  + (f", tessd {r['dut']}" if "dut" in r else "")
                  + ("" if r["valid"] else " (INVALID)"), flush=True)
    med = medians(runs, keep)
    pairs = pair_ratios(runs, metric, "tessd", "dnsmasq")
    print(f"  tessd/dnsmasq {metric} pair ratios {' '.join(f'{p:.2f}' for p in pairs)}")
    valid = all(r["valid"] for v in runs.values() for r in v)
    result = {"scenario": scenario, "reps": args.reps, "seconds": args.seconds,
              "dut_cpu_pct": args.dut_cpu_pct, "medians": med,
              "pair_ratio_median": statistics.median(pairs), "valid": valid, "runs": runs}
    return finish(args, result, f"scenario={scenario} valid={int(valid)} "
                  + summary(med["tessd"], med["dnsmasq"], result["pair_ratio_median"]))


def generator_run(cmd, timeout):
    """Runs the generator to its end: (its stdout, the CPU seconds it used). Its CPU share
    tells whether it, not the DUT, bounded the run (near 1: it did)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if out.returncode not in (0,):
        raise RuntimeError(f"{' '.join(cmd)}: rc {out.returncode}: {out.stderr}")
    return out.stdout, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
