# SPDX-License-Identifier: BSD-3-Clause
"""firewall: tessd's stateful firewall holding --rules rules against the Linux kernel
forwarding in a namespace with nftables holding the same rules, on the same frames (see
README "Benchmarks")."""
import ipaddress
import json
import os
import random
import re
import socket
import statistics
import struct
import sys
import time
import types

import tess
from flowgen import FLOWGEN_SRC_MAC
from stateful import (IN_ADDR, IN_MAC, NEXTHOP, OUT_ADDR, alternate, established_window, finish,
                      generator, kernel_router, new_window, read, run_cleanup, summary,
                      tessd_dut, tessd_port_tx, vhost_generator, veth_counters, wires)

# What flowgen sends (testpmd 22.11's fixed addresses and ports) and where replies go back.
GEN_SRC, GEN_DST, GEN_SPORT, GEN_DPORT = "10.254.0.0", "10.253.0.0", 1000, 1001
# Replies go back to the generator's address only: flows past the 65,536th go to 10.254.x.y.
GEN_NET, GEN_HOST, IN_PEER = "10.254.0.0/16", "10.254.0.0/32", "192.0.2.2"
# The first window's flows, more than a window can make: every packet there is a new flow.
NEW_FLOWS = 4000000
# --tessd-io pmd: flowgen offers millions of packets a second there, so it comes round 4M
# flows within a window; over these it does not (checked), while the table still holds 4M.
PMD_NEW_FLOWS = 1 << 25
# --tessd-io pmd: tessd's outside interface, and the 5tswap peer's port behind it (the next
# hop); the peer swaps MACs, so its replies are addressed to OUT_MAC.
OUT_MAC, REPLY_MAC = "02:00:00:00:20:01", "02:00:00:00:20:02"
BENCH_RULE = {"action": "accept", "proto": "udp", "src": GEN_NET, "dport": str(GEN_DPORT)}
PROTOS = ("tcp",) * 9 + ("udp",) * 6 + ("icmp",) * 2 + ("any", "47", "50")
PORTS = (22, 25, 53, 80, 110, 123, 143, 161, 389, 443, 445, 465, 587, 993, 995, 1194, 1433,
         1521, 3306, 3389, 5060, 5432, 5900, 6379, 8080, 8443, 9090, 27017)


def random_prefix(rng):
    """A prefix somewhere in 1.0.0.0-223.255.255.255, mostly /24 to /32."""
    length = rng.choice((8, 12, 16, 20, 22, 24, 24, 24, 26, 28, 29, 30, 32, 32, 32, 32))
    addr = rng.randrange(1 << 24, 224 << 24)
    return str(ipaddress.ip_network((addr, length), strict=False))


def random_ports(rng):
    """A service port, a random one, or a range."""
    x = rng.random()
    if x < 0.5:
        return str(rng.choice(PORTS))
    if x < 0.75:
        return str(rng.randrange(1, 65536))
    lo = rng.randrange(1, 65536)
    return f"{lo}-{rng.randrange(lo, min(65535, lo + rng.choice((10, 100, 1000, 30000))) + 1)}"


def random_rule(rng):
    """One 5-tuple rule as a tessd rule (the nftables one is written from it)."""
    r = {"action": "accept" if rng.random() < 0.6 else "drop", "proto": rng.choice(PROTOS)}
    if rng.random() < 0.6:
        r["src"] = random_prefix(rng)
    if rng.random() < 0.8 or r["proto"] == "any":
        r["dst"] = random_prefix(rng)
    if r["proto"] in ("tcp", "udp"):
        if rng.random() < 0.2:
            r["sport"] = random_ports(rng)
        if rng.random() < 0.85:
            r["dport"] = random_ports(rng)
    elif r["proto"] == "icmp" and rng.random() < 0.5:
        r["icmp_type"] = rng.choice((0, 3, 8, 11))
    return r


def in_range(spec, port):
    lo, _, hi = spec.partition("-")
    return int(lo) <= port <= int(hi or lo)


def matches_bench(r):
    """Whether the bench's frames (either window's flows) could match rule r."""
    gen_dst = (int(ipaddress.ip_address(GEN_DST)),
               int(ipaddress.ip_address(GEN_DST)) + PMD_NEW_FLOWS)

    def dst_overlaps(p):
        n = ipaddress.ip_network(p)
        return int(n.network_address) < gen_dst[1] and int(n.broadcast_address) >= gen_dst[0]
    return (r["proto"] in ("any", "udp")
            and ("src" not in r or ipaddress.ip_address(GEN_SRC) in ipaddress.ip_network(r["src"]))
            and ("dst" not in r or dst_overlaps(r["dst"]))
            and ("sport" not in r or in_range(r["sport"], GEN_SPORT))
            and ("dport" not in r or in_range(r["dport"], GEN_DPORT)))


def rule_set(n, seed=1):
    """n distinct rules: n - 1 random ones the bench's frames do not match, then the one
    accepting them (so each new flow is classified against all n)."""
    rng, rules, seen = random.Random(seed), [], set()
    while len(rules) < n - 1:
        r = random_rule(rng)
        key = json.dumps(r, sort_keys=True)
        if key not in seen and not matches_bench(r):
            seen.add(key)
            rules.append(r)
    return rules + [BENCH_RULE]


def nft_rule(r, counter=""):
    """Rule r as nftables writes it, in the forward chain."""
    parts = [f"ip saddr {r['src']}"] if "src" in r else []
    parts += [f"ip daddr {r['dst']}"] if "dst" in r else []
    proto = r["proto"]
    ports = [f"{proto} {k} {r[k]}" for k in ("sport", "dport") if k in r]
    if ports:
        parts += ports
    elif "icmp_type" in r:
        parts.append(f"icmp type {r['icmp_type']}")
    elif proto != "any":
        parts.append(f"ip protocol {proto}")
    return " ".join(parts + [counter, r["action"]]).replace("  ", " ")


def nft_load(rules):
    """The forward chain's rules replaced at once, as one `nft -f` file: established and
    related first (tessd's connection table passes them before its rules), then rules."""
    lines = ["flush chain ip bench forward",
             "add rule ip bench forward ct state established,related accept"]
    bench = 'counter name "bench"'
    lines += [f"add rule ip bench forward {nft_rule(r, bench if r is BENCH_RULE else '')}"
              for r in rules]
    return "\n".join(lines) + "\n"


def nft_counter(ns, name):
    out = ns.run("nft", "list", "counter", "ip", "bench", name).stdout
    return int(re.search(r"packets (\d+)", out).group(1))


def kernel_fw(c, tmp, w, args):
    """The kernel forwarding in the namespace with nftables' forward chain holding the rules,
    policy drop; replies go back to the generator's side. Returns (connections, None,
    info); info's `ruled` counts the packets the rules accepted."""
    ns = w.ns
    connections = kernel_router(c, ns, w.d_in, w.d_out, w.sink_mac, args, NEW_FLOWS + args.flows)
    ns.run("ip", "neigh", "replace", IN_PEER, "lladdr", w.src_mac, "dev", w.d_in, "nud",
           "permanent")
    ns.run("ip", "route", "add", GEN_HOST, "via", IN_PEER)
    base = os.path.join(tmp, "fw-base.nft")
    with open(base, "w") as f:
        f.write("table ip bench {\n counter bench {}\n chain forward {\n"
                "  type filter hook forward priority filter; policy drop;\n }\n}\n")
    ns.run("nft", "-f", base)
    # tessd keeps an answered UDP flow 300 s; the kernel 30 s until it has been busy for 2 s:
    # the flows answered first must outlive the establishing of the rest.
    ns.run("sysctl", "-qw", "net.netfilter.nf_conntrack_udp_timeout=300")
    path = os.path.join(tmp, f"fw-{len(args.rule_set)}.nft")
    with open(path, "w") as f:
        f.write(nft_load(args.rule_set))
    t0 = time.monotonic()
    ns.run("nft", "-f", path)
    load = time.monotonic() - t0
    return connections, None, {"load_sec": load, "ruled": lambda: nft_counter(ns, "bench")}


def fw_accepted(dut, name):
    """Packets the rules of set name's `in` context accepted."""
    return next(x for x in dut.ctl("stats")["firewall"]
                if x["ruleset"] == name and x["direction"] == "in")["accepted"]["packets"]


def tessd_fw(c, tmp, w, args):
    """tessd in the namespace routing between its two interfaces (on the same veths, or,
    --tessd-io pmd, on vhost-user ports: flowgen in, a 5tswap peer answering out), set
    `inside` attached in on the inside one (its rules, default drop: loaded through the
    API, timed), `outside` in on the outside one (no rules, default drop: replies pass as
    established only)."""
    pmd = args.tessd_io == "pmd"
    # The first window's connections stay (answered: UDP's 300 s) while the second one's
    # are made: room for both, or the last flows go untracked and meet the rules forever.
    # On poll-mode ports that window makes up to about 800,000 a second.
    cap = (2 * NEW_FLOWS if pmd else NEW_FLOWS) + args.flows
    out = {"name": "fw-out", "vrf": "fw", "port": "out", "addresses": [OUT_ADDR]}
    if pmd:
        out["mac"] = OUT_MAC
    config = {"router": {
        "vrfs": [{"name": "fw", "id": 10}],
        "interfaces": [{"name": "fw-in", "vrf": "fw", "port": "in", "mac": IN_MAC,
                        "addresses": [IN_ADDR]}, out],
        "routes": [{"vrf": "fw", "prefix": "0.0.0.0/0", "nexthops": [{"via": NEXTHOP}]},
                   {"vrf": "fw", "prefix": GEN_HOST, "nexthops": [{"via": IN_PEER}]}],
        "neighbours": [{"vrf": "fw", "ip": NEXTHOP, "mac": REPLY_MAC if pmd else w.sink_mac},
                       {"vrf": "fw", "ip": IN_PEER,
                        "mac": FLOWGEN_SRC_MAC if pmd else w.src_mac}]}, "firewall": {
        "conn_capacity": cap, "conn_vrf_limit": cap,
        "rulesets": [{"name": "inside", "default_in": "drop", "rules": [BENCH_RULE]},
                     {"name": "outside", "default_in": "drop", "rules": []}],
        "attach": [{"interface": "fw-in", "in": "inside"},
                   {"interface": "fw-out", "in": "outside"}]}}
    dut = tessd_dut(c, tmp, w.ns, w.d_in, w.d_out, args, config, cap * 100 // 2**20,
                    io=args.tessd_io, replies=True)
    path = os.path.join(tmp, f"fw-{len(args.rule_set)}.json")
    with open(path, "w") as f:
        json.dump({"name": "inside", "default_in": "drop", "rules": args.rule_set}, f)
    t0 = time.monotonic()  # validated, built, swapped in
    dut.tessctl("firewall", "set", path, timeout=300)
    load = time.monotonic() - t0

    def connections():
        return dut.ctl("stats")["firewall_conn"]["live"]
    return connections, dut, {"load_sec": load, "ruled": lambda: fw_accepted(dut, "inside")}


def udp_frame(dmac, smac, src, dst, sport, dport, size):
    """An Ethernet/IPv4/UDP frame of size bytes (less the FCS)."""
    ip_len = size - 4 - 14
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, ip_len, 0, 0, 64, 17, 0, src, dst)
    s = sum(struct.unpack("!10H", hdr))
    s = (s & 0xFFFF) + (s >> 16)
    s = (s & 0xFFFF) + (s >> 16)
    hdr = hdr[:10] + struct.pack("!H", ~s & 0xFFFF) + hdr[12:]
    udp = struct.pack("!HHHH", sport, dport, ip_len - 20, 0)
    return (bytes.fromhex(dmac.replace(":", "")) + bytes.fromhex(smac.replace(":", ""))
            + b"\x08\x00" + hdr + udp + bytes(ip_len - 28))


def paced_send(sock, frames, counter, stall=0.5):
    """frames out of sock until the DUT has passed them all (counter, the far veth's
    received packets, grew by as many); sent again if it lost some (a full queue), at most
    5 times."""
    for _ in range(5):
        c0 = counter()
        for f in frames:
            sock.send(f)
        t = time.monotonic()
        while counter() - c0 < len(frames) and time.monotonic() - t < stall:
            time.sleep(0.005)
        if counter() - c0 >= len(frames):
            return


def establish(w, args, chunk=500):
    """Every flow of the second window recorded (a packet the rules accept) and at once
    answered (a reply from the sink's side, passed as established), a chunk of flows at a
    time: from then on the connection table, not the rules, passes them in both DUTs."""
    delivered, answered = veth_counters(w.g_in, w.g_out)[0], veth_counters(w.g_out, w.g_in)[0]
    src, base = socket.inet_aton(GEN_SRC), int(ipaddress.ip_address(GEN_DST))
    socks = []
    try:
        for iface in (w.g_in, w.g_out):
            socks.append(socket.socket(socket.AF_PACKET, socket.SOCK_RAW))
            socks[-1].bind((iface, 0))
        for i in range(0, args.flows, chunk):
            dsts = [struct.pack("!I", base + k) for k in range(i, min(args.flows, i + chunk))]
            paced_send(socks[0], [udp_frame(IN_MAC, w.src_mac, src, d, GEN_SPORT, GEN_DPORT,
                                            args.size) for d in dsts], delivered)
            paced_send(socks[1], [udp_frame(w.out_mac, w.sink_mac, d, src, GEN_DPORT,
                                            GEN_SPORT, args.size) for d in dsts], answered)
    finally:
        for s in socks:
            s.close()


def veth_windows(c, tmp, w, dut, connections, rule_hits, args, tag, info):
    """The two windows on the veths: flowgen out of af_packet, the second window's flows
    recorded and answered from Python first. Returns (new flows/s, connections after the
    first window, the second window's results, packets that met the rules in it)."""
    gen = generator(c, tmp, w.g_in, args, f"{tag}-new", NEW_FLOWS)
    # After a warmup: tessd's first second of af_packet traffic makes a fraction of
    # the flows it makes later (4k against 70k a second, 1,000 rules).
    new_rate, s1 = new_window(gen, connections, args.seconds, args.warmup)
    gen.cmd("stop")
    gen.quit()
    t0 = time.monotonic()
    establish(w, args)
    info["establish_sec"] = time.monotonic() - t0
    gen = generator(c, tmp, w.g_in, args, tag, args.flows)
    gen.cmd("start")
    time.sleep(args.warmup)
    a0 = []
    r = established_window(gen, dut, *veth_counters(w.g_in, w.g_out), args.seconds,
                           lambda: a0.append(rule_hits()))
    return new_rate, s1, r, rule_hits() - a0[0]


def pmd_windows(c, tmp, w, dut, connections, rule_hits, args, tag, info):
    """The two windows on tessd's vhost-user ports: flowgen into `in`, and out of `out` to
    a testpmd in 5tswap mode whose reply to every frame establishes its flow (routed back
    out of `in`, where flowgen drops it); both testpmds on the generator's CPU. The second
    window's flows are established by flowgen over them until no packet meets the rules.
    Mpps is the forward direction that tessd passed (`out`'s transmitted packets and those
    the peer's full ring refused, which tessd had done all its work for: the testpmds'
    limit on the shared CPU, not tessd's; delivered_mpps without them), reply_mpps the
    replies it passed (`in`'s, counted alike)."""
    peer = vhost_generator(c, tmp, dut.vhost_out_sock, args, f"{tag}-5tswap", mode="5tswap",
                           mac=REPLY_MAC)
    peer.cmd("start")
    gen = vhost_generator(c, tmp, dut.vhost_sock, args, f"{tag}-new", PMD_NEW_FLOWS)
    new_rate, s1 = new_window(gen, connections, args.seconds, args.warmup)
    gen.cmd("stop")
    # Whether flowgen came round to a flow it had sent: that packet was not a new flow.
    info["first_window_sent"] = gen.port_stats(0)["tx_packets"]
    if info["first_window_sent"] >= PMD_NEW_FLOWS:
        s1 = NEW_FLOWS
    gen.quit()
    t0 = time.monotonic()
    gen = vhost_generator(c, tmp, dut.vhost_sock, args, tag, args.flows)
    gen.cmd("start")
    # A flow is established once a reply has passed; until then its packets meet the
    # rules. Established when a pass over all flows (at least 0.5 s) met them no more.
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        h, p0 = rule_hits(), gen.port_stats(0)["tx_packets"]
        time.sleep(0.5)
        while gen.port_stats(0)["tx_packets"] - p0 < args.flows and time.monotonic() < deadline:
            time.sleep(0.2)
        if rule_hits() == h and connections() >= args.flows:
            break
    info["establish_sec"] = time.monotonic() - t0
    time.sleep(args.warmup)
    a0 = []
    r = established_window(gen, dut, tessd_port_tx(dut, "out", "tx_full"),
                           lambda: gen.port_stats(0)["tx_packets"], args.seconds,
                           lambda: a0.append(rule_hits()),
                           extra={"reply_mpps": tessd_port_tx(dut, "in", "tx_full"),
                                  "delivered_mpps": tessd_port_tx(dut, "out")})
    return new_rate, s1, r, rule_hits() - a0[0]


def run_firewall(dut_fn, args, tmp, rep, tag):
    """One run: the rules loaded (timed); new connections per second from a table empty
    but for --warmup's flows (flowgen over NEW_FLOWS flows, so every packet is a new
    flow); then --flows flows established, and flowgen over them: established-flow Mpps,
    valid if the table holds them all and the rules took none of that window's packets."""
    c = tess.Cleanup()
    try:
        w = types.SimpleNamespace(**dict(zip(("ns", "g_in", "g_out", "d_in", "d_out",
                                               "sink_mac"), wires(c))))
        w.src_mac = read(f"/sys/class/net/{w.g_in}/address")
        w.out_mac = w.ns.run("cat", f"/sys/class/net/{w.d_out}/address").stdout.strip()
        connections, dut, info = dut_fn(c, tmp, w, args)
        rule_hits = info.pop("ruled")
        windows = pmd_windows if dut and dut.vhost_sock else veth_windows
        new_rate, s1, r, ruled = windows(c, tmp, w, dut, connections, rule_hits, args,
                                         f"{tag}{rep}", info)
        live = connections()
        return {**r, **info, "new_per_sec": new_rate, "sessions": live,
                "ruled_in_window": ruled,
                "valid": (s1 < NEW_FLOWS and ruled == 0 and live >= args.flows
                          and not r.get("quota_problem"))}
    finally:
        run_cleanup(c)


def firewall(args):
    """tessd against nftables, alternating, for each --rules count: one summary line each."""
    tmp = tess.scratch_dir("tess-bench-fw-")
    # flowgen's destinations are 10.253.0.0 + i: the 65,537th is the generator's own address,
    # routed back to it, never answered, so on poll-mode ports its flow never establishes.
    args.flows = args.flows or 65536
    if args.tessd_io == "pmd" and args.flows > 65536:
        sys.exit("bench: firewall --tessd-io pmd takes at most 65536 --flows (flowgen's "
                 "destinations past 10.253.255.255 reach the generator's own address)")
    ok = 0
    for n in args.rules or (1000, 10000):
        args.rule_set = rule_set(n)
        print(f" {n} rules", flush=True)
        runs = alternate((("tessd", tessd_fw), ("kernel", kernel_fw)), args, tmp, "connection",
                         lambda r: (f", {r['delivered_mpps']:.3f} Mpps delivered, "
                                    f"{r['reply_mpps']:.3f} Mpps replies"
                                    if "reply_mpps" in r else "")
                         + f", rules loaded in {r['load_sec']:.2f} s, flows "
                         f"established in {r['establish_sec']:.1f} s"
                         + (f", {r['ruled_in_window']} packets met the rules"
                            if r["ruled_in_window"] else ""), run_firewall)
        result = {"scenario": "firewall", "rules": n, "new_flows": NEW_FLOWS,
                  **summary(runs, args, "flow", ("mpps", "mpps_per_core", "new_per_sec",
                                                 "load_sec"))}
        valid, med = result["valid"], result["medians"]
        root, ext = os.path.splitext(args.json or "")
        path = f"{root}-{n}{ext}" if args.json and len(args.rules or (0, 0)) > 1 else None
        t, k = med["tessd"], med["kernel"]
        replies = [r["reply_mpps"] for r in runs["tessd"] if "reply_mpps" in r]
        ok = finish(args, result,
                    f"scenario=firewall rules={n} flows={args.flows} valid={int(valid)} "
                    f"tessd_new_per_sec={t['new_per_sec']:.0f} "
                    f"kernel_new_per_sec={k['new_per_sec']:.0f} "
                    f"ratio_new={result['pair_ratio_new_median']:.2f} "
                    f"tessd_mpps={t['mpps']:.3f} kernel_mpps={k['mpps']:.3f} "
                    f"tessd_mpps_per_core={t['mpps_per_core']:.3f} "
                    f"kernel_mpps_per_core={k['mpps_per_core']:.3f} "
                    f"ratio_per_core={result['pair_ratio_per_core_median']:.2f} "
                    f"tessd_load_sec={t['load_sec']:.2f} kernel_load_sec={k['load_sec']:.2f}"
                    + (f" tessd_reply_mpps={statistics.median(replies):.3f}" if replies else "")
                    + f" tessd_io={args.tessd_io}",
                    path) or ok
    return ok
