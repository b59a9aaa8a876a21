# SPDX-License-Identifier: BSD-3-Clause
"""dns: tessd's DNS responder against dnsmasq answering the same names, queried by dnsperf
(see README "Benchmarks"). Each DUT in a namespace on the same veth, dnsperf in another
namespace on its peer end; alternating, medians and pair ratios."""
import os
import re

import tess
from flowgen import DUT_CPU, GEN_CPU
from services import dnsmasq, generator_run, service_wire, versus_dnsmasq
from stateful import cpu_busy, run_cleanup, tessd_dut

ZONE = "bench.test"
DUT_ADDR, GEN_ADDR = "10.50.0.1", "10.50.255.254"
PREFIX = 16
REVERSE = "50.10.in-addr.arpa"


def name_addr(i):
    """The i-th record: h<i>.<zone> at 10.50.<1 + i / 256>.<i % 256>."""
    return f"h{i}", f"10.50.{1 + i // 256}.{i % 256}"


def ptr_name(addr):
    return ".".join(reversed(addr.split("."))) + ".in-addr.arpa"


def query_file(tmp, names, nx_share=0.1):
    """Of every 10 queries 8 are A of a record (NOERROR), 1 a PTR of a record's address
    (NOERROR) and 1 an A of a name not in the zone (NXDOMAIN); dnsperf loops over them. With
    nx_share, that share of the queries are NXDOMAIN instead (1: a flood of names not in the
    zone, the random-subdomain attack), spread evenly."""
    path = os.path.join(tmp, "queries.txt")
    with open(path, "w") as f:
        for i in range(10 * names):
            k = i % names
            if int((i + 1) * nx_share) > int(i * nx_share):
                f.write(f"nx{k}.{ZONE} A\n")
            elif i % 10 == 8:
                f.write(f"{ptr_name(name_addr(k)[1])} PTR\n")
            else:
                f.write(f"{name_addr(k)[0]}.{ZONE} A\n")
    return path


def expected_rcode(qname):
    return "NXDOMAIN" if qname.startswith("nx") else "NOERROR"


def tessd_dns(c, tmp, ns, d_in, d_out, args):
    """tessd's responder on the router interface (its af_packet port on the veth). Its rate
    limits (the VRF's service_pps, the server's qps, dns.vrf_qps) are lifted to their
    maxima, so that its capacity is measured, not a limit."""
    records = [{"name": n, "address": a} for n, a in map(name_addr, range(args.names))]
    config = {"router": {
        "vrfs": [{"name": "bench", "id": 10, "service_pps": 1000000}],
        "interfaces": [{"name": "lan", "vrf": "bench", "port": "in",
                        "addresses": [f"{DUT_ADDR}/{PREFIX}"]}]},
        "dns": {"vrf_qps": 1000000, "servers": [
            {"interface": "lan", "domain": ZONE, "records": records, "qps": 100000,
             "max_records": args.names}]}}
    dut = tessd_dut(c, tmp, ns, d_in, d_out, args, config, 0)

    def stats():
        return dut.ctl("stats")["dns"][0]
    return stats, dut


def dnsmasq_dns(c, tmp, ns, d_in, d_out, args):
    """dnsmasq on the same veth end (the kernel's UDP stack) with the same names in a hosts
    file, authoritative for the zone and its reverse (--local: NXDOMAIN, never forwarded)."""
    ns.run("ip", "addr", "add", f"{DUT_ADDR}/{PREFIX}", "dev", d_in)
    hosts = os.path.join(tmp, "hosts")
    with open(hosts, "w") as f:
        for n, a in map(name_addr, range(args.names)):
            f.write(f"{a} {n}.{ZONE}\n")
    dnsmasq(c, ns, args, "--port=53", f"--listen-address={DUT_ADDR}", "--no-resolv",
            "--no-hosts", f"--addn-hosts={hosts}", f"--local=/{ZONE}/", f"--local=/{REVERSE}/")
    return None, None


def parse(out):
    """dnsperf's summary and its -v lines: per query `> RCODE qname qtype latency`."""
    def num(key):
        m = re.search(rf"{key}:\s+([\d.]+)", out)
        return float(m.group(1)) if m else 0.0
    rcodes = dict((k, int(v)) for k, v in re.findall(r"(\w+) (\d+) \([\d.]+%\)",
                  re.search(r"Response codes:(.*)", out).group(1))) \
        if "Response codes:" in out else {}
    lat, wrong = [], 0
    for m in re.finditer(r"^> (\w+) (\S+) (\w+) ([\d.]+)$", out, re.M):
        rcode, qname = m.group(1), m.group(2)
        lat.append(float(m.group(4)))
        wrong += rcode != expected_rcode(qname)
    lat.sort()

    def pct(p):
        return lat[min(len(lat) - 1, int(p / 100 * len(lat)))] * 1e3 if lat else float("nan")
    return {"sent": int(num("Queries sent")), "completed": int(num("Queries completed")),
            "lost": int(num("Queries lost")), "qps": num("Queries per second"),
            "rcodes": rcodes, "wrong": wrong, "checked": len(lat),
            "lat_p50_ms": pct(50), "lat_p99_ms": pct(99), "lat_p999_ms": pct(99.9)}


def run_dns(dut_fn, args, tmp, queries, rep, tag):
    """One run: dnsperf (CPU 0) at its maximum rate (-q outstanding, -Q if --qps) for
    --seconds against the DUT; every answer's rcode checked against its name."""
    c = tess.Cleanup()
    try:
        ns, d_in, d_out, gen, _ = service_wire(c, f"{GEN_ADDR}/{PREFIX}")
        stats, dut = dut_fn(c, tmp, ns, d_in, d_out, args)
        tess.wait_for(lambda: "10.50.1.0" in gen.run(
            "dig", f"@{DUT_ADDR}", f"h0.{ZONE}", "+short", "+time=1", "+tries=1",
            check=False).stdout, 20, f"{tag} answering")
        cmd = ["ip", "netns", "exec", gen.name, "taskset", "-c", str(GEN_CPU), "dnsperf",
               "-s", DUT_ADDR, "-d", queries, "-l", str(args.seconds), "-c", "8",
               "-q", str(args.outstanding), "-t", "1", "-v"]
        if args.qps:
            cmd += ["-Q", str(args.qps)]
        if dut:
            dut.tessctl("stats", "--reset")
        b0 = cpu_busy(DUT_CPU)
        out, gen_cpu = generator_run(cmd, args.seconds + 60)
        b1 = cpu_busy(DUT_CPU)
        with open(os.path.join(tmp, f"dnsperf-{tag}{rep}.txt"), "w") as f:
            f.write(out)
        r = parse(out)
        r["dut_cpu_busy"] = (b1[0] - b0[0]) / max(1, b1[1] - b0[1])
        r["gen_cpu_share"] = gen_cpu / args.seconds
        if stats:
            s = stats()
            r["dut"] = {k: s[k] for k in ("queries", "answered", "nxdomain", "rate_limited",
                                          "service_limited", "no_mbuf", "malformed")}
        # Valid: answers came, each with the rcode its name has (so the mix is the file's),
        # and no limit of tessd's dropped any (its capacity was measured, not a limit).
        r["valid"] = (r["completed"] > 0 and r["wrong"] == 0 and r["checked"] == r["completed"]
                      and set(r["rcodes"]) <= {"NOERROR", "NXDOMAIN"}
                      and not (r.get("dut", {}).get("rate_limited")
                               or r.get("dut", {}).get("service_limited")))
        return r
    finally:
        run_cleanup(c)


def dns(args):
    tmp = tess.scratch_dir("tess-bench-dns-")
    queries = query_file(tmp, args.names, args.nxdomain_share)
    fns = {"tessd": tessd_dns, "dnsmasq": dnsmasq_dns}

    def line(r):
        return (f"{r['qps']:.0f} qps answered, {r['lost']} lost of {r['sent']}, rcodes "
                f"{r['rcodes']}, latency p50 {r['lat_p50_ms']:.3f} p99 {r['lat_p99_ms']:.3f} "
                f"p99.9 {r['lat_p999_ms']:.3f} ms, DUT CPU {100 * r['dut_cpu_busy']:.0f}% busy, "
                f"dnsperf {100 * r['gen_cpu_share']:.0f}% of a CPU"
                + ("" if r["valid"] else f"; {r['wrong']} wrong rcodes, {r['checked']} of "
                   f"{r['completed']} answers checked, or a rate limit dropped queries"))

    def summary(t, d, ratio):
        return (f"names={args.names} nxdomain_share={args.nxdomain_share} tessd_qps={t['qps']:.0f} dnsmasq_qps={d['qps']:.0f} "
                f"ratio={ratio:.2f} tessd_lost={t['lost']:.0f} dnsmasq_lost={d['lost']:.0f} "
                f"tessd_p99_ms={t['lat_p99_ms']:.3f} dnsmasq_p99_ms={d['lat_p99_ms']:.3f}")
    return versus_dnsmasq(args, "dns", lambda name, rep: run_dns(fns[name], args, tmp, queries,
                                                                 rep, name),
                          line, "qps", ("qps", "lost", "lat_p50_ms", "lat_p99_ms"), summary)
