# SPDX-License-Identifier: BSD-3-Clause
"""What the stateful benchmarks (nat, firewall) share: the wires (two veth pairs into a
namespace), the generator (testpmd flowgen out of af_packet), the kernel and tessd as DUTs
on those wires, the DUT's CPU quota and busy share, and the two-window runner: new
connections per second from an empty table, then established-flow Mpps and Mpps per busy
core (see README "Benchmarks").

tessd takes the same frames through its own I/O (--tessd-io pmd, the default): the same
flowgen into a vhost-user port, out of a net_null port (firewall: out of a second
vhost-user port to a testpmd answering every frame). On the veths (--tessd-io af_packet)
the kernel's packet sockets copy every frame in and out on the DUT's CPU and bound it well
below what tessd itself costs, which is not what a poll-mode NIC driver does."""
import json
import os
import re
import signal
import statistics
import sys
import time

import tess
from flowgen import DUT_CPU, FLOWGEN_DST_MAC, GEN_CPU
from testpmd import Testpmd

IN_MAC = FLOWGEN_DST_MAC  # flowgen sends to it: the inside interface's MAC
IN_ADDR, OUT_ADDR, NEXTHOP = "192.0.2.1/30", "198.51.100.1/24", "198.51.100.2"


def read(path):
    with open(path) as f:
        return f.read().strip()


def write(path, value):
    with open(path, "w") as f:
        f.write(value)


def cpu_busy(cpu):
    """(busy, total) jiffies of one CPU from /proc/stat (idle and iowait are not busy)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in next(ln for ln in f if ln.startswith(f"cpu{cpu} ")).split()[1:]]
    return sum(v) - v[3] - v[4], sum(v)


def cpu_cgroup(cleanup, pct):
    """A new cgroup with pct% of one CPU (cgroup v2's cpu.max if the cpu controller is there,
    else v1's cpu.cfs_quota_us); returns its cgroup.procs. Made before the process it will
    hold, so that the cleanup removes it after that process is gone (last in, first out)."""
    period = 100000
    name = f"tess-bench-{tess.uid()}"
    if os.path.exists("/sys/fs/cgroup/cgroup.controllers") and "cpu" in read(
            "/sys/fs/cgroup/cgroup.subtree_control").split():
        d = os.path.join("/sys/fs/cgroup", name)
        limits = {"cpu.max": f"{period * pct // 100} {period}"}
    else:
        d = os.path.join("/sys/fs/cgroup/cpu", name)
        limits = {"cpu.cfs_period_us": str(period), "cpu.cfs_quota_us": str(period * pct // 100)}
    os.mkdir(d)
    cleanup.add(rmdir_cgroup, d)
    for k, v in limits.items():
        write(os.path.join(d, k), v)
    return os.path.join(d, "cgroup.procs")


def cgroup_cpu(cgroup):
    """The DUT's cgroup (its cgroup.procs path) so far: its quota's periods and throttled
    periods (cpu.stat, v1 and v2 alike), the CPU time of its processes (v2's cpu.stat
    usage_usec, v1's cpuacct.usage where cpuacct shares the hierarchy, else the tasks'
    /proc schedstat) and the monotonic clock then, in ns; None without one."""
    if not cgroup:
        return None
    d = os.path.dirname(cgroup)
    with open(os.path.join(d, "cpu.stat")) as f:
        st = dict(ln.split()[:2] for ln in f if ln.strip())
    if "usage_usec" in st:
        cpu_ns = int(st["usage_usec"]) * 1000
    elif os.path.exists(os.path.join(d, "cpuacct.usage")):
        cpu_ns = int(read(os.path.join(d, "cpuacct.usage")))
    else:
        cpu_ns = 0
        for tid in read(os.path.join(d, "tasks")).split():
            try:
                cpu_ns += int(read(f"/proc/{tid}/schedstat").split()[0])
            except (OSError, IndexError, ValueError):
                pass  # a thread gone
    return {"periods": int(st["nr_periods"]), "throttled": int(st["nr_throttled"]),
            "cpu_ns": cpu_ns, "ns": time.monotonic_ns()}


def quota_window(q0, q1):
    """From cgroup_cpu() at a window's start and end: its quota periods, those in which the
    quota stopped the DUT (throttled), and cpu_share, the CPU time the DUT got over the
    window's wall time."""
    return {"periods": q1["periods"] - q0["periods"],
            "throttled": q1["throttled"] - q0["throttled"],
            "cpu_share": (q1["cpu_ns"] - q0["cpu_ns"]) / (q1["ns"] - q0["ns"])}


# With --dut-cpu-pct, a run measured its DUT's cost only if the quota stopped the DUT in
# nearly every period of the window (a polling DUT uses its quota up in each one) and the
# generator could not send all it made (the DUT's rings were full: the DUT was the limit;
# on the veths, the DUT's packet socket dropped them instead).
# A generator that waits for room instead (pktgen) says nothing of that: its run must stay
# clearly below what it sends into a DUT that takes all (its free-running rate).
MIN_THROTTLED = 0.9  # of the window's quota periods
MIN_GEN_DROPPED = 0.05  # of the frames the generator made
MAX_OF_FREE = 0.9  # of the generator's free-running rate


def quota_problem(r):
    """With --dut-cpu-pct, why a run's window was not bound by the DUT's quota, or None.
    cpu.stat's counts since the cgroup was made would not tell: start-up and warm-up are
    in them, and a polling DUT uses up its quota in every period whatever bounds it."""
    p, t = r["periods"], r["throttled"]
    if not p or t < MIN_THROTTLED * p:
        return f"the CPU quota stopped the DUT in only {t} of the window's {p} periods"
    if r["gen_dropped_share"] is None:  # a generator that waits for room (pktgen)
        free = r.get("gen_free_mpps")
        if not free:
            return "the generator drops nothing and its free-running rate is not known"
        if r["mpps"] > MAX_OF_FREE * free:
            return (f"{r['mpps']:.3f} Mpps is {100 * r['mpps'] / free:.0f}% of the "
                    f"generator's free-running {free:.3f}: it, not the DUT, was the limit")
    elif r["gen_dropped_share"] < MIN_GEN_DROPPED:
        return (f"the DUT took all but {100 * r['gen_dropped_share']:.1f}% of what the "
                "generator made: the generator, not the DUT, was the limit")
    return None


def tx_dropped(gen, ports):
    """Frames the generator's forwarding could not send out of ports (testpmd's TX-dropped,
    since its start): what a full ring, a DUT not keeping up, turned away; None from a
    generator that never drops (its own tx_dropped())."""
    if hasattr(gen, "tx_dropped"):
        return gen.tx_dropped(ports)
    out = gen.cmd("show fwd stats all")
    return sum(int(n) for p, n in re.findall(
        r"Forward statistics for port (\d+).*?TX-dropped:\s+(\d+)", out, re.S)
        if int(p) in ports)


def rmdir_cgroup(d, timeout=10):
    """Removes cgroup d: kills what is still in it (its DUT's own cleanup ran first; a
    daemon that did not exit would keep the cgroup, and its quota, forever), then waits for
    the processes to be gone (a killed daemon, such as OVS, may take a moment to exit)."""
    kill = os.path.join(d, "cgroup.kill")
    if os.path.exists(kill):  # cgroup v2
        write(kill, "1")
    else:
        for pid in read(os.path.join(d, "cgroup.procs")).split():
            try:
                os.kill(int(pid), signal.SIGKILL)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + timeout
    while True:
        try:
            os.rmdir(d)
            return
        except OSError as e:
            if time.monotonic() > deadline:
                left = read(os.path.join(d, "cgroup.procs")).split()
                raise RuntimeError(f"cgroup {d} not removed ({e}); processes in it: "
                                   f"{' '.join(left) or 'none'}") from e
            time.sleep(0.1)


def run_cleanup(c):
    """Runs c's undo actions and prints what failed (a cgroup left behind, a process that
    would not stop): Cleanup.run() keeps going and only returns them."""
    for e in c.run():
        print(f"bench: cleanup failed: {e}", file=sys.stderr, flush=True)


def wires(c):
    """Two veth pairs, generator ends here, DUT ends in a namespace: frames from the
    generator arrive on `in`, leave on `out`. RPS puts the DUT ends' receive work on the DUT
    CPU and the generator's on its own (a veth's receive otherwise runs on the sender's CPU)."""
    ns = tess.Netns(c)
    (g_in, d_in), (g_out, d_out) = tess.veth(c), tess.veth(c)
    ns.attach(d_in, mac=IN_MAC)
    ns.attach(d_out)
    ns.run("sh", "-c", f"echo {1 << DUT_CPU:x} > /sys/class/net/{d_in}/queues/rx-0/rps_cpus")
    ns.run("sh", "-c", f"echo {1 << DUT_CPU:x} > /sys/class/net/{d_out}/queues/rx-0/rps_cpus")
    for g in (g_in, g_out):
        write(f"/sys/class/net/{g}/queues/rx-0/rps_cpus", f"{1 << GEN_CPU:x}")
    return ns, g_in, g_out, d_in, d_out, read(f"/sys/class/net/{g_out}/address")


def generator(c, tmp, g_in, args, tag, flows=None):
    """testpmd flowgen out of the inside veth only: UDP from 10.254.0.0:1000 to flows
    (--flows) destinations from 10.253.0.0 on (a connection each), port 1001."""
    tp = Testpmd(c, [tess.af_packet_port("g", 0, g_in)["devargs"]],
                 lcores=f"0@{GEN_CPU},1@{GEN_CPU}", memory_mb=256,
                 args=["--forward-mode=flowgen", f"--flowgen-flows={flows or args.flows}",
                       "--port-topology=loop", f"--txpkts={args.size}", "--burst=32",
                       "--total-num-mbufs=16384"],
                 log_path=os.path.join(tmp, f"gen-{tag}.log"))
    tp.wait_link(0)
    return tp


def kernel_router(c, ns, d_in, d_out, sink_mac, args, entries=None):
    """The Linux kernel forwarding in the namespace from d_in out of d_out toward the sink,
    with a conntrack table and hash as large as tessd's (entries, else 2 x --flows);
    returns conntrack's count."""
    ns.run("sysctl", "-qw", "net.ipv4.ip_forward=1")
    for k in ("all", "default", d_in, d_out):
        ns.run("sysctl", "-qw", f"net.ipv4.conf.{k}.rp_filter=0")
    ns.run("ip", "addr", "add", IN_ADDR, "dev", d_in)
    ns.run("ip", "addr", "add", OUT_ADDR, "dev", d_out)
    ns.run("ip", "neigh", "replace", NEXTHOP, "lladdr", sink_mac, "dev", d_out, "nud",
           "permanent")
    ns.run("ip", "route", "add", "default", "via", NEXTHOP)
    # Room for every flow, and a hash as large as tessd's index (the defaults fit 262,144
    # entries in 65,536 buckets); both are the host's, put back afterwards.
    for path in ("/proc/sys/net/netfilter/nf_conntrack_max",
                 "/sys/module/nf_conntrack/parameters/hashsize"):
        was = read(path)
        c.add(write, path, was)
        write(path, str(max(int(was), entries or 2 * args.flows)))

    def connections():
        return int(ns.run("cat", "/proc/sys/net/netfilter/nf_conntrack_count").stdout)
    return connections


def vhost_generator(c, tmp, sock, args, tag, flows=None, mode="flowgen", mac=None):
    """The same flowgen frames as generator() (over flows, else --flows), into tessd's
    vhost-user port at sock; or (mode "5tswap") a peer on that port answering every frame
    (MACs, addresses and ports swapped), its port's MAC mac. Drops what it receives else."""
    fwd = [f"--forward-mode={mode}"]
    if mode == "flowgen":
        fwd.append(f"--flowgen-flows={flows or args.flows}")
    # The peer takes turns with flowgen on the generator's CPU, and while flowgen runs
    # tessd forwards what it sends: the peer's ring must hold that until the peer runs
    # (with 1,024 it took 150k of 3M frames a second).
    ring = 1024 if mode == "flowgen" else 8192
    vdev = f"net_virtio_user0,path={sock},queues=1" + (f",queue_size={ring}" if ring > 1024
                                                       else "")
    tp = Testpmd(c, [vdev + (f",mac={mac}" if mac else "")],
                 lcores=f"0@{GEN_CPU},1@{GEN_CPU}", memory_mb=256,
                 args=fwd + ["--port-topology=loop", f"--txpkts={args.size}", "--burst=32",
                             f"--txd={ring}", f"--rxd={ring}",
                             f"--total-num-mbufs={max(16384, 4 * ring)}"],
                 log_path=os.path.join(tmp, f"gen-{tag}.log"))
    tp.wait_link(0)
    return tp


def tessd_port_tx(dut, port, *drops):
    """A function reading the packets tessd's port sent, plus its drops of those reasons."""
    def count():
        p = next(p for p in dut.ctl("stats")["ports"] if p["name"] == port)
        return p["tx_packets"] + sum(p["drops"][d] for d in drops)
    return count


def tessd_dut(c, tmp, ns, d_in, d_out, args, config, table_mb, io="af_packet", replies=False):
    """tessd in the namespace with ports `in` and `out`: the veths through net_af_packet,
    or (io "pmd") vhost-user in (dut.vhost_sock) and net_null out, or with replies a
    second vhost-user port out (dut.vhost_out_sock) for a peer answering what it gets;
    config, table_mb of hugepages for its connections, in a cgroup if --dut-cpu-pct."""
    sock = out_sock = None
    if io == "pmd":
        sock = os.path.join(tmp, f"in-{tess.uid()}.sock")
        out_sock = os.path.join(tmp, f"out-{tess.uid()}.sock") if replies else None
        ports = [{"name": "in", "devargs": f"net_vhost0,iface={sock},queues=1"},
                 {"name": "out", "devargs": f"net_vhost1,iface={out_sock},queues=1"
                  if replies else "net_null0,no-rx=1"}]
    else:
        ports = [tess.af_packet_port("in", 0, d_in), tess.af_packet_port("out", 1, d_out)]
    dut = tess.Tessd(c, tmp, main_cpu=DUT_CPU, workers=[DUT_CPU], netns=ns,
                     memory_mb=256 + table_mb, ports=ports)
    dut.vhost_sock, dut.vhost_out_sock = sock, out_sock
    dut.config.update(config)
    dut.cgroup = cpu_cgroup(c, args.dut_cpu_pct) if args.dut_cpu_pct else None
    dut.start(timeout=120)
    if dut.cgroup:
        write(dut.cgroup, str(dut.proc.pid))  # all its threads
    return dut


def new_window(gen, connections, seconds, warmup=0):
    """Starts the generator into an empty table: (new connections per second over the
    window, after warmup seconds of traffic, and connections at its end)."""
    gen.cmd("start")
    time.sleep(warmup)
    s0, t0 = connections(), time.monotonic()
    time.sleep(seconds)
    s1, t1 = connections(), time.monotonic()
    return (s1 - s0) / (t1 - t0), s1


def established_window(gen, dut, delivered, offered, seconds, on_start=lambda: None,
                       extra=None):
    """Mpps delivered over the window with the generator running, and the DUT's busy share;
    stops the generator. on_start() is called as the window starts (tessd's counters reset).
    extra ({name: packet counter}): each one's Mpps over the same window, reported as name.
    tessd in a cgroup (--dut-cpu-pct): its cycles per packet scaled by the CPU time it got,
    and quota_problem, why the quota did not bound it (None if it did)."""
    extra = extra or {}
    cgroup = dut.cgroup if dut else None
    if dut:
        dut.tessctl("stats", "--reset")
    on_start()
    e0 = {k: f() for k, f in extra.items()}
    q0, g0 = (cgroup_cpu(cgroup), tx_dropped(gen, (0,))) if cgroup else (None, 0)
    b0, p0, o0, t0 = cpu_busy(DUT_CPU), delivered(), offered(), time.monotonic()
    time.sleep(seconds)
    b1, p1, o1, t1 = cpu_busy(DUT_CPU), delivered(), offered(), time.monotonic()
    q1, g1 = (cgroup_cpu(cgroup), tx_dropped(gen, (0,))) if cgroup else (None, 0)
    e1 = {k: f() for k, f in extra.items()}
    gen.cmd("stop")
    mpps = (p1 - p0) / (t1 - t0) / 1e6
    # The CPU's busy share; a polling tessd keeps its CPU busy whatever it forwards, so
    # its own share of cycles spent on packets (its worker's busy_pct) stands for it.
    busy = (b1[0] - b0[0]) / max(1, b1[1] - b0[1])
    if dut:
        busy = dut.ctl("stats")["workers"][0]["busy_pct"] / 100
    r = {"mpps": mpps, "dut_cpu_busy": busy, "mpps_per_core": mpps / busy if busy else 0.0,
         "offered_mpps": (o1 - o0) / (t1 - t0) / 1e6,
         **{k: (e1[k] - e0[k]) / (t1 - t0) / 1e6 for k in extra}}
    if dut:
        st = dut.ctl("stats")
        r["drops"] = {k: n for v in st["vrfs"] for k, n in v["drops"].items() if n}
        r["cycles_per_pkt"] = r["cycles_per_pkt_tsc"] = st["workers"][0]["cycles_per_packet"]
        r["rx_missed"] = sum(p.get("rx_missed", 0) for p in st["ports"])
    if cgroup:
        # What the generator made and the DUT did not pass: refused at its full ring
        # (vhost-user) or dropped by its packet socket (veths), as the quota held it back.
        made = (o1 - o0) + (g1 - g0)
        r.update(quota_window(q0, q1), gen_dropped_share=max(0, made - (p1 - p0)) / max(1, made))
        if r["cycles_per_pkt"]:  # TSC cycles, counted on while the quota stopped it
            r["cycles_per_pkt"] *= r["cpu_share"]
        r["quota_problem"] = quota_problem(r)
    return r


def veth_counters(g_in, g_out):
    """(delivered, offered): the sink veth's received packets, the generator's sent."""
    return (lambda: int(read(f"/sys/class/net/{g_out}/statistics/rx_packets")),
            lambda: int(read(f"/sys/class/net/{g_in}/statistics/tx_packets")))


def run_two_windows(dut_fn, args, tmp, rep, tag):
    """One run: new connections per second from an empty table (--flows exceeds what the
    window can create, so every packet is a new flow), then, once every flow has its
    connection, established-flow Mpps delivered, and the DUT CPU's busy share over that
    window. dut_fn(c, tmp, ns, d_in, d_out, sink_mac, args) sets the DUT up and returns
    (its connection count function, the Tessd or None, a dict of what else to report)."""
    c = tess.Cleanup()
    try:
        ns, g_in, g_out, d_in, d_out, sink_mac = wires(c)
        sessions, dut, info = dut_fn(c, tmp, ns, d_in, d_out, sink_mac, args)
        if dut and dut.vhost_sock:
            gen = vhost_generator(c, tmp, dut.vhost_sock, args, f"{tag}{rep}")
            delivered = tessd_port_tx(dut, "out")

            def offered():
                return gen.port_stats(0)["tx_packets"]
        else:
            gen = generator(c, tmp, g_in, args, f"{tag}{rep}")
            delivered, offered = veth_counters(g_in, g_out)
        new_rate, s1 = new_window(gen, sessions, args.seconds)
        deadline = time.monotonic() + 120
        while sessions() < args.flows and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(args.warmup)
        # Whether the numbers mean what they say: the first window made new connections
        # only, and the second saw every flow established.
        valid = s1 < args.flows and sessions() >= args.flows
        r = established_window(gen, dut, delivered, offered, args.seconds)
        return {**r, "new_per_sec": new_rate, "sessions": sessions(),
                "valid": valid and not r.get("quota_problem"), **info}
    finally:
        run_cleanup(c)


def alternate(duts, args, tmp, noun, detail=lambda r: "", runner=run_two_windows):
    """Each of duts ((name, dut_fn), ...) --reps times through runner, alternating so that
    drift in the machine affects both alike; a line per run (detail(r) adds to it)."""
    runs = {name: [] for name, _ in duts}
    for rep in range(args.reps):
        for name, fn in duts:
            r = runner(fn, args, tmp, rep, name)
            runs[name].append(r)
            print(f"  rep {rep + 1}/{args.reps} {name:6s} {r['mpps']:.3f} Mpps established "
                  f"({r['offered_mpps']:.3f} offered), "
                  f"DUT CPU {100 * r['dut_cpu_busy']:.0f}% busy ({r['mpps_per_core']:.3f} Mpps"
                  f"/core), {r['new_per_sec']:.0f} new {noun}s/s, {r['sessions']} {noun}s"
                  + detail(r) + (f", drops {r['drops']}" if r.get("drops") else "")
                  + (f", throttled in {r['throttled']} of {r['periods']} periods, "
                     f"{100 * r['gen_dropped_share']:.0f}% of the frames made not passed"
                     if "periods" in r else "")
                  + ("" if r["valid"] else f" (INVALID: {r['quota_problem']})"
                     if r.get("quota_problem") else f" (INVALID: --flows too few for the "
                     f"first window, or not all flows got a {noun})"), flush=True)
    return runs


def medians(runs, metrics):
    """{dut: {metric: median over its runs}}."""
    return {k: {m: statistics.median(r[m] for r in v) for m in metrics}
            for k, v in runs.items()}


def pair_ratios(runs, metric, a="tessd", b="kernel"):
    """a / b of metric for each back-to-back pair (immune to the machine's slow drift)."""
    return [x[metric] / y[metric] if y[metric] else float("nan")
            for x, y in zip(runs[a], runs[b])]


def summary(runs, args, noun, metrics=("mpps", "mpps_per_core", "new_per_sec")):
    """The results' common part: medians, pair ratios tessd / kernel (printed), validity."""
    pairs, new_pairs = pair_ratios(runs, "mpps_per_core"), pair_ratios(runs, "new_per_sec")
    print(f"  per-core pair ratios {' '.join(f'{p:.2f}' for p in pairs)}; new-{noun} pair "
          f"ratios {' '.join(f'{p:.2f}' for p in new_pairs)}")
    return {"size": args.size, "flows": args.flows, "reps": args.reps, "seconds": args.seconds,
            "dut_cpu_pct": args.dut_cpu_pct, "medians": medians(runs, metrics),
            "pair_ratio_per_core_median": statistics.median(pairs),
            "pair_ratio_new_median": statistics.median(new_pairs), "runs": runs,
            "valid": all(r["valid"] for v in runs.values() for r in v)}


def finish(args, result, summary, path=None):
    """Writes result to path (else --json), prints the one-line summary (and INVALID if a
    run was not), and returns the exit status."""
    path = path or args.json
    if path:
        with open(path, "w") as f:
            json.dump(result, f, indent=2)
    print(summary)
    if not result["valid"]:
        print("INVALID: a run did not measure what it says (see the runs above)")
    return 0 if result["valid"] else 1
