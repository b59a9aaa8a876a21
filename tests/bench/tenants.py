# SPDX-License-Identifier: BSD-3-Clause
"""The scenarios with many tenants in every burst, as a provider edge and a host vswitch
really see traffic (issue 17): every frame of a burst for another tenant (VLAN, VRF or
group) and destination, where flowgen (tests/lib/flowgen.py) keeps one VRF per direction.

  router-tenants:  tessd as PE router, --tenants VRFs, each with a VLAN sub-interface on
                   the hosts' trunk (vm0) and one on the enterprises' trunk (vm1), the
                   tenant's VLAN on both, and the same --routes prefixes in every VRF.
  vswitch-tenants: tessd as host vswitch, --tenants groups on two trunks and --macs MACs
                   learned (half behind each trunk), against OVS-DPDK with the same.

The generator is pktgen (tests/lib/pktgen.py; --generator testpmd: testpmd io replaying
the same set of frames from pcaps, in another order where pktgen ignores a range's start
values) on the generator CPU; testpmd io forwarding the same frames is the ceiling."""
from collections import Counter
from math import gcd
import json
import os
import re
import socket
import statistics
import struct
import time

import tess
from flowgen import DUT_CPU, GEN_CPU, GEN_MACS, pcap_generator, udp_frame, write_pcap
from ovs import Ovs
from pktgen import POOL_FRAMES, Pktgen
from stateful import cpu_cgroup, run_cleanup, write
from summary import cycles_line, pair_line, run_line, runs_valid
from switching import (bench_port, cpu_cycles, measure, run_testpmd_io, traffic,
                       window_fields)

ROUTER_MAC = "02:00:00:00:20:00"  # every interface's: the router's MAC on both trunks
HOSTS_NET, HOSTS_VIA = "192.0.2.1/24", "192.0.2.2"  # each VRF's interface toward the hosts
ENT_NET, ENT_VIA = "198.51.100.1/24", "198.51.100.2"  # and toward its enterprise
ROUTES_BASE = 20 << 24  # route j: 20.0.0.0/24 + j (j even toward the enterprise)
MAX_FRAMES = 16384  # frames per port in a pcap (net_pcap holds them all in mbufs)
LEARN_TIMEOUT = 120  # seconds for a DUT to learn every MAC
FREE_RUNS = 3  # runs of the generator into testpmd io without a quota; the best counts
DP_BURST = 32  # frames tessd takes from an RX queue at a time (dataplane/dp.h)
FULL_POLLS = 0.9  # of full bursts a DUT-bound tessd finds at its polls


def _ip(v):
    return socket.inet_ntoa(struct.pack("!I", v))


def _mac(v):
    return ":".join(f"{b:02x}" for b in v.to_bytes(6, "big"))


def _mac_int(m):
    return int(m.replace(":", ""), 16)


def sequence(fields, count):
    """The first count frames' field values of pktgen's range mode ({name: (start, inc, min,
    max)}): each frame adds inc to the last value, past max it wraps to min."""
    cur = {k: v[0] for k, v in fields.items()}
    for _ in range(count):
        yield dict(cur)
        for k, (_, inc, lo, hi) in fields.items():
            cur[k] = lo if cur[k] + inc > hi else cur[k] + inc


def period(fields):
    """Frames before the range repeats itself (at most MAX_FRAMES)."""
    n = 1
    for _, inc, lo, hi in fields.values():
        cycle = (hi - lo) // inc + 1 if inc else 1
        n = n * cycle // gcd(n, cycle)
    return min(n, MAX_FRAMES)


def range_frames(fields, size):
    """The frames of a range, for a pcap."""
    return [udp_frame(_mac(v["dst_mac"]), _mac(v["src_mac"]), v["src_ip"], v["dst_ip"], size,
                      v["src_port"], v["dst_port"], v["vlan_id"])
            for v in sequence(fields, period(fields))]


def router_ranges(n, routes):
    """Per port, pktgen's range: into the hosts' trunk (port 0) every frame another tenant's
    VLAN (1 to n) and another of the routes toward the enterprise (even j), from another
    desktop address and port; into the enterprises' trunk (port 1) likewise to the routes
    toward the hosts (odd j)."""
    out = []
    for port in (0, 1):
        # The routes of this parity it cycles through: as many as there are, less until the
        # count is coprime to the VLANs' n, else each tenant would meet the same few routes
        # (lcm(1000, 50) = 1000: each VLAN always one route).
        m = (routes - port + 1) // 2
        while gcd(m, n) != 1:
            m -= 1
        dst = (ROUTES_BASE + 256 * port + 1, 512, ROUTES_BASE + 256 * port + 1,
               ROUTES_BASE + 256 * (port + 2 * (m - 1)) + 1)
        src0 = (10 << 24) + ((port + 1) << 16) + 1  # 10.1.0.1 and on, 10.2.0.1 and on
        out.append({"dst_mac": (_mac_int(ROUTER_MAC), 0, _mac_int(ROUTER_MAC),
                                _mac_int(ROUTER_MAC)),
                    "src_mac": (_mac_int(GEN_MACS[port]), 0, _mac_int(GEN_MACS[port]),
                                _mac_int(GEN_MACS[port])),
                    "vlan_id": (1, 1, 1, n), "dst_ip": dst, "src_ip": (src0, 1, src0, src0 + 253),
                    "src_port": (1024, 1, 1024, 2047), "dst_port": (2000, 1, 2000, 2063)})
    return out


def pairs_covered(ranges, frames):
    """The (VRF, route) pairs the frames of ranges look up, frames(fields) of each port's."""
    return sum(len({(v["vlan_id"], v["dst_ip"]) for v in sequence(f, frames(f))})
               for f in ranges)


def router_config(n, routes):
    """n VRFs t0.. (ids 1..n), each with interfaces on VLAN k + 1 of vm0 (hosts) and of vm1
    (enterprise), the router's MAC on all, the same addresses in every VRF; routes /24s
    from 20.0.0.0 in each, even ones via the enterprise's neighbour, odd ones via the
    hosts' (static neighbours with the generator's MACs)."""
    vrfs, ifs, neigh, rts = [], [], [], []
    for k in range(n):
        v = f"t{k}"
        vrfs.append({"name": v, "id": k + 1})
        ifs += [{"name": f"{v}-dc", "vrf": v, "port": "vm0", "vlan": k + 1, "mac": ROUTER_MAC,
                 "addresses": [HOSTS_NET]},
                {"name": f"{v}-ent", "vrf": v, "port": "vm1", "vlan": k + 1, "mac": ROUTER_MAC,
                 "addresses": [ENT_NET]}]
        neigh += [{"vrf": v, "ip": HOSTS_VIA, "mac": GEN_MACS[0]},
                  {"vrf": v, "ip": ENT_VIA, "mac": GEN_MACS[1]}]
        rts += [{"vrf": v, "prefix": f"{_ip(ROUTES_BASE + 256 * j)}/24",
                 "nexthops": [{"via": ENT_VIA if j % 2 == 0 else HOSTS_VIA}]}
                for j in range(routes)]
    return {"vrfs": vrfs, "interfaces": ifs, "routes": rts, "neighbours": neigh}


def switch_macs(port, n, macs):
    """The MACs behind a trunk (port 0 or 1): macs / 2 of them, MAC i in VLAN 1 + i % n."""
    return [(((2 << 40) | ((port + 1) << 32) | i), 1 + i % n) for i in range(macs // 2)]


def switch_frames(port, n, macs, size):
    """Into trunk port: from each of its MACs to the other trunk's MAC of the same index
    (so the same VLAN), in turn: every frame of a burst another group and destination."""
    mine, theirs = switch_macs(port, n, macs), switch_macs(1 - port, n, macs)
    return [udp_frame(_mac(d), _mac(s), (10 << 24) + i, (11 << 24) + i, size,
                      1024 + i % 1024, 2000, vlan)
            for i, ((s, vlan), (d, _)) in enumerate(zip(mine, theirs))]


class Traffic:
    """What a scenario sends: per port a pktgen range ({name: (start, inc, min, max)}) or
    the frames themselves; make() is flowgen.generator()'s stand-in."""

    def __init__(self, args, ranges=None, frames=None):
        self.args, self.ranges, self.frames = args, ranges, frames

    def pcaps(self, tmp):
        paths = []
        for port in (0, 1):
            path = os.path.join(tmp, f"tenants-{port}.pcap")
            if not os.path.exists(path):
                write_pcap(path, self.frames[port] if self.frames else
                           range_frames(self.ranges[port], self.args.size))
            paths.append(path)
        return paths

    def make(self, c, tmp, socks, size, tag):
        if self.args.generator == "testpmd":
            return pcap_generator(c, tmp, socks, self.pcaps(tmp), tag)
        g = Pktgen(c, socks, GEN_MACS, GEN_CPU, os.path.join(tmp, f"pktgen-{tag}.log"),
                   pcaps=self.pcaps(tmp) if self.frames else None)
        for port, fields in enumerate(self.ranges or ()):
            g.range(port, fields, size)
        return g


def tessd(c, tmp, args, tag, ports, config_key, config, timeout=180, binary=None):
    """tessd (this build's, or binary) on the DUT CPU with two vhost-user ports of
    --port-kind (extra keys of ports), config_key set to config; in a cgroup with
    --dut-cpu-pct of its CPU if given: (tessd, cgroup, the sockets)."""
    socks = [os.path.join(tmp, f"{tag}-{i}.sock") for i in (0, 1)]
    dut = tess.Tessd(c, tmp, main_cpu=DUT_CPU, workers=[DUT_CPU], memory_mb=1024, ports=[
        {**bench_port(i, s, args.port_kind), **ports} for i, s in enumerate(socks)])
    dut.binary = binary or dut.binary
    dut.config[config_key] = config
    cgroup = cpu_cgroup(c, args.dut_cpu_pct) if args.dut_cpu_pct else None
    dut.start(timeout=timeout)
    if cgroup:
        write(cgroup, str(dut.proc.pid))  # all its threads
    return dut, cgroup, socks


def tessd_result(args, dut, gen, mpps, offered):
    """tessd's run r (and its stats): INVALID if, held to --dut-cpu-pct, its polls did not
    find full bursts waiting (below FULL_POLLS of DP_BURST from each port): bound by
    its CPU share, it finds its RX rings full at every poll; otherwise it waited for the
    generator, which was then a limit."""
    st = dut.ctl("stats")
    w = st["workers"][0]
    per_poll = w["packets"] / max(1, w["busy_polls"])
    r = {"mpps": mpps, "offered_mpps": offered, "gbps": gen.delivered_gbps,
         **cpu_cycles(w["cycles_per_packet"], gen), "busy_pct": w["busy_pct"],
         "pkts_per_busy_poll": per_poll,
         "received": sum(p["rx_packets"] for p in st["ports"]), **window_fields(gen)}
    full = DP_BURST * len(st["ports"])  # its one worker polls a queue of each port
    if args.dut_cpu_pct and per_poll < FULL_POLLS * full:
        invalid(r, f"{per_poll:.1f} frames per busy poll of {full}: tessd waited for the "
                "generator, which was the limit")
    return st, r


def judge_drops(st, r):
    """r with tessd's drops in the window: every VRF's and every port's (a frame is dropped
    before any VRF for an unknown VLAN, after it for a full TX ring), their reasons summed
    (a drop may count on its port and its VRF both: the total errs on the strict side;
    a full TX ring, tx_full, is the generator not taking what tessd sent).
    Every frame has a route and a neighbour, or a MAC learned: drops say the config is not
    what the frames need, or the generator did not take what tessd sent, and the run
    measured something else (INVALID)."""
    drops = Counter()
    for p in st["ports"]:
        drops.update({f"{p['name']}:{k}": n for k, n in p["drops"].items() if n})
    for v in st.get("vrfs", ()):
        drops.update({f"vrf:{k}": n for k, n in v["drops"].items() if n})
    total = sum(p["drops_total"] for p in st["ports"]) + sum(
        v["drops_total"] for v in st.get("vrfs", ()))
    r.update(drops=dict(drops), drops_total=total)
    if total > 0.001 * max(1, r["received"]):
        invalid(r, f"tessd dropped {total} of {r['received']} received: {dict(drops)}")
    return r


def invalid(r, why):
    """Marks run r INVALID for why, keeping any reason it had already."""
    r["invalid"] = f"{r['invalid']}; {why}" if r.get("invalid") else why


def run_router(args, tmp, rep, binary=None):
    """tessd (or binary) routing router_ranges()' frames with router_config()."""
    c = tess.Cleanup()
    try:
        dut, cgroup, socks = tessd(c, tmp, args, f"rt{rep}", {}, "router",
                                   router_config(args.tenants, args.routes), binary=binary)
        gen = args.traffic.make(c, tmp, socks, args.size, f"tessd{rep}")
        mpps, offered = measure(gen, args.seconds, args.warmup,
                                lambda: dut.tessctl("stats", "--reset"), cgroup)
        st, r = tessd_result(args, dut, gen, mpps, offered)
        r.update(forwarded=sum(v["forwarded"] for v in st["vrfs"]),
                 vrfs_forwarding=sum(1 for v in st["vrfs"] if v["forwarded"]))
        judge_drops(st, r)
        if r["vrfs_forwarding"] < args.tenants:
            # A VRF that forwarded nothing was not in the mix the run says it measured.
            invalid(r, f"only {r['vrfs_forwarding']} of {args.tenants} VRFs forwarded")
        return r
    finally:
        run_cleanup(c)


def wait_learned(count, want, what):
    """Until count() >= want (the generator sending meanwhile): seconds it took."""
    t0 = time.monotonic()
    tess.wait_for(lambda: count() >= want, LEARN_TIMEOUT, f"{what} learning {want} MACs",
                  interval=0.2)
    return time.monotonic() - t0


def run_vswitch(args, tmp, rep, binary=None):
    """tessd (or binary) switching between two trunks carrying every group, each of the
    --macs MACs learned from the generator's frames before the window."""
    c = tess.Cleanup()
    try:
        groups = [{"name": f"g{k}", "tenant": f"t{k}", "vlan": k + 1}
                  for k in range(args.tenants)]
        dut, cgroup, socks = tessd(c, tmp, args, f"sw{rep}", {
            "mode": "trunk", "all_groups": True, "mac_limit": args.macs}, "switch",
            {"groups": groups, "fdb_size": max(65536, 4 * args.macs)}, binary=binary)
        gen = args.traffic.make(c, tmp, socks, args.size, f"tessd{rep}")

        def learned():
            return sum(g["fdb_learned"] for g in dut.ctl("stats")["groups"])

        traffic(gen, True)
        learn_sec = wait_learned(learned, args.macs, "tessd")
        mpps, offered = measure(gen, args.seconds, args.warmup,
                                lambda: dut.tessctl("stats", "--reset"), cgroup)
        st, r = tessd_result(args, dut, gen, mpps, offered)
        flooded = sum(g["flooded"] for g in st["groups"])
        r.update(learn_sec=learn_sec, fdb_learned=sum(g["fdb_learned"] for g in st["groups"]),
                 flooded_in_window=flooded)
        judge_drops(st, r)  # a full TX ring's (tx_full) among them
        if flooded > 0.01 * max(1, r["received"]):
            invalid(r, f"{flooded} of {r['received']} frames flooded: MACs not learned")
        return r
    finally:
        run_cleanup(c)


def run_ovs(args, tmp, rep):
    """OVS-DPDK switching the same frames between two trunks (every VLAN), its MAC table
    large enough for --macs, each MAC learned before the window."""
    c = tess.Cleanup()
    try:
        ovs = Ovs(c, tmp, f"t{rep}", cpu_pct=args.dut_cpu_pct, vlan=None,
                  mac_table_size=2 * args.macs)
        gen = args.traffic.make(c, tmp, ovs.socks, args.size, f"ovs{rep}")
        # fdb/show: a header line, then a line per MAC.
        traffic(gen, True)
        learn_sec = wait_learned(lambda: len(ovs.appctl("fdb/show", "br0").splitlines()) - 1,
                                 args.macs, "OVS")
        d0 = []

        def window_start():
            ovs.appctl("dpif-netdev/pmd-stats-clear")
            d0.append(ovs.tx_dropped())

        mpps, offered = measure(gen, args.seconds, args.warmup, window_start, ovs.cgroup)
        m = re.search(r"avg processing cycles per packet: ([\d.]+)",
                      ovs.appctl("dpif-netdev/pmd-stats-show"))
        return judge_tx_dropped({
            "mpps": mpps, "offered_mpps": offered, "gbps": gen.delivered_gbps,
            "learn_sec": learn_sec, **cpu_cycles(float(m.group(1)) if m else None, gen),
            **window_fields(gen)}, ovs.tx_dropped() - d0[0], args.seconds)
    finally:
        run_cleanup(c)


def judge_tx_dropped(r, dropped, seconds):
    """r with the frames its DUT could not send in the window (dut_tx_dropped): the
    generator did not take them, so it, not the DUT, was a limit (INVALID above 0.1% of
    what was delivered)."""
    r["dut_tx_dropped"] = dropped
    if dropped > 0.001 * max(1, r["mpps"] * 1e6 * seconds):
        invalid(r, f"the DUT could not send {dropped} frames: the generator did not take them")
    return r


def run_ceiling(args, tmp, rep):
    r = run_testpmd_io(args, tmp, rep, cpu_pct=args.dut_cpu_pct, gen_fn=args.traffic.make)
    return judge_tx_dropped(r, r["dut_tx_dropped"], args.seconds)


def free_running(args, tmp):
    """pktgen's free-running rate on these frames: into testpmd io without a quota, which
    forwards faster than pktgen on one CPU makes frames, so the generator is the limit.
    pktgen waits for room rather than drop, so a DUT-bound run has no unsent share to show
    that the DUT was the limit: its rate must stay below MAX_OF_FREE of this one
    (stateful.quota_problem()). The best of FREE_RUNS runs: what the generator can do, which
    the machine's noise only lowers (one run read 8.1 Mpps, then quota-bound runs 8.2)."""
    mpps = max(run_testpmd_io(args, tmp, f"free{i}", gen_fn=args.traffic.make)["mpps"]
               for i in range(FREE_RUNS))
    print(f"  generator's free-running rate (testpmd io, no quota, best of {FREE_RUNS}): "
          f"{mpps:.3f} Mpps", flush=True)
    return mpps


def with_baseline(args, duts):
    """duts, and with --baseline the other build's tessd next to this one's (as
    "baseline", run by the same function), so that each pair is back to back."""
    if not args.baseline:
        return duts
    fn = duts[0][1]
    return (duts[0], ("baseline", lambda a, t, r: fn(a, t, r, binary=args.baseline)),
            *duts[1:])


def rep_order(args, duts, rep):
    """duts in rep's order: with a baseline, each of the two builds goes first in every
    other rep."""
    return (duts[1], duts[0], *duts[2:]) if args.baseline and rep % 2 else duts


def alternate(args, duts):
    """Each DUT in turn, --reps times: {name: [run results]}."""
    duts = with_baseline(args, duts)
    tmp = tess.scratch_dir("tess-bench-tenants-")
    runs = {name: [] for name, _ in duts}
    free = free_running(args, tmp) if args.dut_cpu_pct and args.generator == "pktgen" else None
    for rep in range(args.reps):
        for name, fn in rep_order(args, duts, rep):
            r = fn(args, tmp, rep)
            if free:
                r["gen_free_mpps"] = free
            runs[name].append(r)
            run_line(args, rep, name, r)
    return runs


def report(args, scenario, runs, peer, fields):
    """Pair ratios tessd/peer (and tessd/ceiling), the summary line, the JSON; the exit
    status (1 if a run is INVALID)."""
    med = {k: statistics.median(r["mpps"] for r in v) for k, v in runs.items()}
    cpp = statistics.median(r["cycles_per_pkt"] for r in runs["tessd"])
    if args.baseline:
        fields = {**fields, "baseline_cycles_per_pkt": round(statistics.median(
            r["cycles_per_pkt"] for r in runs["baseline"]), 1)}
    ok = runs_valid(args, runs)
    pairs = {}
    for other in dict.fromkeys((peer, "ceiling", *(["baseline"] if args.baseline else []))):
        pairs[other], pairs_ok = pair_line(f"tessd/{other} ", runs, "tessd", other)
        ok = ok and pairs_ok
    result = {"scenario": scenario, "generator": args.generator, "port_kind": args.port_kind,
              "size": args.size,
              "reps": args.reps, "seconds": args.seconds, "dut_cpu_pct": args.dut_cpu_pct,
              **fields, **{f"{k}_mpps": v for k, v in med.items()},
              **{f"pair_ratio_{k}_median": v for k, v in pairs.items()},
              "tessd_cycles_per_pkt": cpp, "runs": runs, "valid": ok}
    cycles_line(runs, result)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
    print(f"scenario={scenario} generator={args.generator} port_kind={args.port_kind} "
          + " ".join(f"{k}={v}" for k, v in fields.items()) + " "
          + " ".join(f"{k}_mpps={v:.3f}" for k, v in med.items()) + " "
          + " ".join(f"pair_ratio_{k}={v:.3f}" for k, v in pairs.items())
          + f" tessd_cycles_per_pkt={cpp:.1f}"
          + (f" dut_cpu_pct={args.dut_cpu_pct}" if args.dut_cpu_pct else ""))
    if not ok:
        print("INVALID: a run did not measure what it says (see the runs above)")
    return 0 if ok else 1


def router_tenants(args):
    """tessd's router with --tenants VRFs of --routes routes, every frame another tenant
    and destination, against testpmd io on the same frames."""
    if not 1 <= args.tenants <= 4094 or args.routes < 2:
        raise SystemExit("router-tenants: --tenants 1-4094 (a VLAN each), --routes >= 2")
    args.traffic = Traffic(args, ranges=router_ranges(args.tenants, args.routes))
    # What the generator sends over and over: pktgen its mbuf pool's frames, built once;
    # testpmd the pcap's.
    pairs = pairs_covered(args.traffic.ranges, period if args.generator == "testpmd"
                          else lambda f: POOL_FRAMES)
    runs = alternate(args, (("tessd", run_router), ("ceiling", run_ceiling)))
    active = min(r["vrfs_forwarding"] for r in runs["tessd"])
    print(f"  VRFs that forwarded in every window: {active} of {args.tenants}; (VRF, route) "
          f"pairs looked up: {pairs} of {args.tenants * args.routes}")
    return report(args, "router-tenants", runs, "ceiling",
                  {"tenants": args.tenants, "routes": args.routes, "vrfs_forwarding": active,
                   "pairs": pairs})


def vswitch_tenants(args):
    """tessd's vswitch with --tenants groups and --macs learned MACs, mixed in every burst,
    against OVS-DPDK with the same and testpmd io on the same frames."""
    if not 1 <= args.tenants <= 4094 or not args.tenants <= args.macs // 2 <= MAX_FRAMES:
        raise SystemExit(f"vswitch-tenants: --tenants 1-4094, --macs from twice that to "
                         f"{2 * MAX_FRAMES}")
    args.traffic = Traffic(args, frames=[switch_frames(p, args.tenants, args.macs, args.size)
                                         for p in (0, 1)])
    runs = alternate(args, (("tessd", run_vswitch), ("ovs", run_ovs), ("ceiling", run_ceiling)))
    learn = statistics.median(r["learn_sec"] for r in runs["tessd"])
    return report(args, "vswitch-tenants", runs, "ovs",
                  {"groups": args.tenants, "macs": args.macs, "tessd_learn_sec": round(learn, 1)})
