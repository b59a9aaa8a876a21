# SPDX-License-Identifier: BSD-3-Clause
"""dhcp: tessd's DHCP server against dnsmasq with the same /16 pool, leases persisted, DORA
exchanges from new clients by tests/bench/dhcpgen.py (see README "Benchmarks"). Each DUT in
a namespace on the same veth, the clients in another namespace on its peer end;
alternating, medians and pair ratios."""
import json
import os
import time

import tess
from flowgen import DUT_CPU, GEN_CPU
from services import dnsmasq, generator_run, service_wire, versus_dnsmasq
from stateful import cpu_busy, run_cleanup, tessd_dut

DUT_ADDR, PREFIX = "10.60.0.1", 16
POOL = ("10.60.1.0", "10.60.255.254")  # 65,278 addresses: more than a run leases
GEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "dhcpgen.py")


def tessd_dhcp(c, tmp, ns, d_in, d_out, args, leases):
    """tessd's server on the router interface (its af_packet port on the veth), leases
    written to a file as configured in production (save_ms 1000). The VRF's service_pps is
    lifted to its maximum (capacity, not the limit, is measured); no ARP probe before an
    offer (probe_ms 0), as dnsmasq runs with --no-ping."""
    config = {"router": {
        "vrfs": [{"name": "bench", "id": 10, "service_pps": 1000000}],
        "interfaces": [{"name": "lan", "vrf": "bench", "port": "in",
                        "addresses": [f"{DUT_ADDR}/{PREFIX}"]}]},
        "dhcp": {"leases_file": leases, "probe_ms": 0, "servers": [
            {"interface": "lan", "pools": [{"start": POOL[0], "end": POOL[1]}],
             "lease_sec": 3600, "dns": [DUT_ADDR], "domain": "bench.test",
             "max_leases": 65536}]}}
    dut = tessd_dut(c, tmp, ns, d_in, d_out, args, config, 16)

    def persisted():
        with open(leases) as f:
            return len(json.load(f)["leases"]) if os.path.getsize(leases) else 0
    return dut, persisted


def dnsmasq_dhcp(c, tmp, ns, d_in, d_out, args, leases):
    """dnsmasq (DHCP only) on the same veth end with the same pool, options and lease time;
    it rewrites its lease file at each change (its default)."""
    ns.run("ip", "addr", "add", f"{DUT_ADDR}/{PREFIX}", "dev", d_in)
    dnsmasq(c, ns, args, "--port=0", f"--interface={d_in}",
            f"--dhcp-range={POOL[0]},{POOL[1]},255.255.0.0,1h", "--dhcp-lease-max=65536",
            "--dhcp-authoritative", "--no-ping", f"--dhcp-leasefile={leases}",
            f"--dhcp-option=option:dns-server,{DUT_ADDR}", "--domain=bench.test")

    def persisted():
        with open(leases) as f:
            return sum(1 for _ in f)
    tess.wait_for(lambda: os.path.exists(leases), 10, "dnsmasq's lease file")
    return None, persisted


def clients(gen, iface, seconds, window, first):
    """dhcpgen.py on CPU 0: new clients numbered from first, window in flight."""
    out, cpu = generator_run(["ip", "netns", "exec", gen.name, "taskset", "-c", str(GEN_CPU),
                              "python3", GEN, iface, str(seconds), str(window), str(first)],
                             seconds + 60)
    return dict(json.loads(out), gen_cpu_share=cpu / seconds)


def run_dhcp(dut_fn, args, tmp, rep, tag):
    """One run: a short warm-up of clients, then --seconds of new clients' DORAs; the leases
    persisted are counted from the DUT's lease file afterwards."""
    c = tess.Cleanup()
    try:
        ns, d_in, d_out, gen, g_in = service_wire(c)
        leases = os.path.join(tmp, f"leases-{tag}{rep}")
        dut, persisted = dut_fn(c, tmp, ns, d_in, d_out, args, leases)
        warm = clients(gen, g_in, args.warmup, args.window, 1)
        if warm["completed"] == 0:
            raise RuntimeError(f"{tag}: no DHCP exchange completed in the warm-up: {warm}")
        if dut:
            dut.tessctl("stats", "--reset")
        b0 = cpu_busy(DUT_CPU)
        r = clients(gen, g_in, args.seconds, args.window, 1 << 24)  # new MACs
        b1 = cpu_busy(DUT_CPU)
        r["exchanges_per_sec"] = r["completed"] / r["seconds"]
        r["dut_cpu_busy"] = (b1[0] - b0[0]) / max(1, b1[1] - b0[1])
        # tessd writes its file every save_ms (1 s); dnsmasq rewrites its own in place
        # (empty while it does) and may still be answering clients the generator left.
        want = warm["completed"] + r["completed"]
        deadline = time.monotonic() + 10
        while (r.setdefault("persisted", 0) < want) and time.monotonic() < deadline:
            time.sleep(0.2)
            r["persisted"] = persisted()
        if dut:
            s = dut.ctl("stats")["dhcp"][0]
            r["dut"] = {k: s[k] for k in ("discover", "offer", "request", "ack", "nak",
                                          "rate_limited", "malformed", "chaddr_mismatch",
                                          "no_mbuf", "leases")}
        # Valid: exchanges completed, each with an address no other client got, no NAK,
        # every lease in the DUT's file, and none refused by a rate limit of tessd's.
        r["valid"] = (r["completed"] > 0 and r["duplicates"] == 0 and r["naks"] == 0
                      and r["persisted"] >= want
                      and not r.get("dut", {}).get("rate_limited"))
        return r
    finally:
        run_cleanup(c)


def dhcp(args):
    tmp = tess.scratch_dir("tess-bench-dhcp-")
    fns = {"tessd": tessd_dhcp, "dnsmasq": dnsmasq_dhcp}

    def line(r):
        return (f"{r['exchanges_per_sec']:.0f} DORA/s completed, {r['timeouts']} dropped (no "
                f"answer in 1 s), {r['naks']} NAKs, {r['persisted']} leases in the file, DUT "
                f"CPU {100 * r['dut_cpu_busy']:.0f}% busy, dhcpgen "
                f"{100 * r['gen_cpu_share']:.0f}% of a CPU"
                + ("" if r["valid"] else "; no exchange, an address given twice, a NAK, "
                   "leases missing from the file, or a rate limit"))

    def summary(t, d, ratio):
        return (f"window={args.window} tessd_dora_per_sec={t['exchanges_per_sec']:.0f} "
                f"dnsmasq_dora_per_sec={d['exchanges_per_sec']:.0f} ratio={ratio:.2f} "
                f"tessd_dropped={t['timeouts']:.0f} dnsmasq_dropped={d['timeouts']:.0f}")
    return versus_dnsmasq(args, "dhcp", lambda name, rep: run_dhcp(fns[name], args, tmp, rep,
                                                                   name),
                          line, "exchanges_per_sec", ("exchanges_per_sec", "timeouts"),
                          summary)
