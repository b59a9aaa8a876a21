# SPDX-License-Identifier: BSD-3-Clause
"""What the benchmarks over two vhost-user ports share (xconnect, router, vswitch, policer):
the generator (testpmd flowgen through net_virtio_user, tests/lib/flowgen.py) on its CPU,
the measurement window, testpmd io as the ceiling and tessd as the vswitch, each DUT pinned
to the DUT CPU and, given a CPU share, in a cgroup of its own."""
import os
import tempfile
import time

import tess
from flowgen import DUT_CPU, generator
from stateful import cgroup_cpu, cpu_cgroup, quota_window, run_cleanup, tx_dropped, write
from testpmd import Testpmd


def measure(gen, seconds, warmup, on_window_start=None, cgroup=None):
    """Delivered packets per second at the generator, over a fixed window after a warmup:
    (delivered Mpps, offered Mpps). Left in gen: delivered_gbps (frames without their FCS),
    and window, what the window says of the run (window_fields())."""
    ports = getattr(gen, "dut_ports", (0, 1))  # the IMIX generator's are 1 and 3
    traffic(gen, True)
    time.sleep(warmup)
    q0, d0 = cgroup_cpu(cgroup), tx_dropped(gen, ports)
    before = [gen.port_stats(p) for p in ports]
    t0 = time.monotonic()
    if on_window_start:
        on_window_start()
    time.sleep(seconds)
    q1, d1 = cgroup_cpu(cgroup), tx_dropped(gen, ports)
    after = [gen.port_stats(p) for p in ports]
    t1 = time.monotonic()
    traffic(gen, False)
    rx = sum(a["rx_packets"] - b["rx_packets"] for a, b in zip(after, before))
    tx = sum(a["tx_packets"] - b["tx_packets"] for a, b in zip(after, before))
    gen.delivered_gbps = sum(a["rx_bytes"] - b["rx_bytes"]
                             for a, b in zip(after, before)) * 8 / (t1 - t0) / 1e9
    gen.window = {"gen_dropped_share": None if d0 is None else (d1 - d0) / max(1, tx + d1 - d0)}
    if cgroup:
        gen.window.update(quota_window(q0, q1))
    return rx / (t1 - t0) / 1e6, tx / (t1 - t0) / 1e6


def traffic(gen, on):
    """Starts or stops a generator: testpmd's forwarding, or what another one has."""
    if hasattr(gen, "traffic"):
        gen.traffic(on)
    else:
        gen.cmd("start" if on else "stop")


def window_fields(gen):
    """For a run's result, what measure()'s window said: gen_dropped_share, the share of
    its frames the generator could not send (a full ring: the DUT did not keep up); with a
    cgroup, its quota periods and those in which the quota stopped the DUT (throttled), and
    cpu_share, the CPU time the DUT got over the wall time (its cycles/pkt: cpu_cycles())."""
    return dict(gen.window)


def cpu_cycles(cycles, gen):
    """{"cycles_per_pkt": cycles, "cycles_per_pkt_tsc": as counted} for a run's result.
    tessd's worker and OVS's PMD count TSC cycles, which run on while the quota has the DUT
    descheduled: under a quota, the count is scaled by the CPU time the DUT got over the
    window's wall time (wherever the descheduled time lands, busy or idle polls, the busy
    count grows by as much as the busy share of the CPU time)."""
    share = gen.window.get("cpu_share")
    return {"cycles_per_pkt": cycles * share if cycles and share is not None else cycles,
            "cycles_per_pkt_tsc": cycles}


def run_testpmd_io(args, tmp, rep, cpu_pct=0, gen_fn=generator):
    """testpmd io forwarding between the two ports: what the ports and the CPU allow;
    traffic from gen_fn (flowgen.generator()'s arguments)."""
    c = tess.Cleanup()
    try:
        socks = [os.path.join(tmp, f"c{rep}-{i}.sock") for i in (0, 1)]
        cgroup = cpu_cgroup(c, cpu_pct) if cpu_pct else None
        dut = Testpmd(c, [f"net_vhost{i},iface={s},queues=1" for i, s in enumerate(socks)],
                      lcores=f"0@{DUT_CPU},1@{DUT_CPU}", memory_mb=512,
                      args=["--forward-mode=io", "--burst=32", "--txd=1024", "--rxd=1024",
                            "--total-num-mbufs=16384"],
                      log_path=os.path.join(tmp, f"ceiling{rep}.log"))
        if cgroup:
            write(cgroup, str(dut.proc.pid))  # all its threads
        dut.cmd("start")
        gen = gen_fn(c, tmp, socks, args.size, f"ceiling{rep}")
        d0 = []
        mpps, offered = measure(gen, args.seconds, args.warmup,
                                lambda: d0.append(tx_dropped(dut, (0, 1))), cgroup=cgroup)
        d1 = tx_dropped(dut, (0, 1))
        dut.cmd("stop")
        # dut_tx_dropped: frames it could not send on in the window (a full ring toward the
        # generator), for the callers that judge on them.
        return {"mpps": mpps, "offered_mpps": offered, "gbps": gen.delivered_gbps,
                "dut_tx_dropped": d1 - d0[0], **window_fields(gen)}
    finally:
        run_cleanup(c)


def bench_port(i, sock, kind):
    """A traffic port of the DUT: a net_vhost ethdev, or a port of tessd's vhost backend."""
    if kind == "vhost":
        return {"name": f"vm{i}", "vhost": {"path": sock}}
    return {"name": f"vm{i}", "devargs": f"net_vhost{i},iface={sock},queues=1"}


def idle_poll_cost(dut, seconds=1.0):
    """Before the traffic: the vhost ports the worker polls, and its cycles per empty poll
    over `seconds` (what each poll costs with no frame anywhere: grows with polled ports)."""
    time.sleep(DP_VHOST_IDLE_S * 4)  # the silent connected ports park too
    polled = dut.ctl("status").get("vhost_polled", 0)
    dut.tessctl("stats", "--reset")
    time.sleep(seconds)
    w = dut.ctl("stats")["workers"][0]
    return polled, (w["idle_cycles"] / w["idle_polls"] if w["idle_polls"] else None)


DP_VHOST_IDLE_S = 0.05  # dataplane/vhost.h DP_VHOST_IDLE_MS


def run_tessd_vswitch(args, tmp, rep, policers=(), cpu_pct=0, tag="tessd", idle_ports=0,
                      binary=None):
    """tessd (this build's, or binary) switching the two ports as access ports of one group
    (config's `policers` too); besides the delivered rate, the rate tessd received and handled
    (policed drops count). idle_ports: that many more vhost ports (another group's desktops,
    no guest), which the workers should not poll at all."""
    c = tess.Cleanup()
    try:
        socks = [os.path.join(tmp, f"s{tag}{rep}-{i}.sock") for i in (0, 1)]
        kind = getattr(args, "port_kind", "net_vhost")
        ports = [dict(bench_port(i, s, kind), mode="access", group="bench", anti_spoof="off")
                 for i, s in enumerate(socks)]
        groups = [{"name": "bench", "tenant": "bench", "vlan": 100}]
        if idle_ports:
            idir = tempfile.mkdtemp(prefix=f"idle{rep}-", dir=tmp)
            ports += [{"name": f"idle{k}", "vhost": {"path": os.path.join(idir, f"{k}.sock")},
                       "mode": "access", "group": "idle"} for k in range(idle_ports)]
            groups.append({"name": "idle", "tenant": "idle", "vlan": 200})
        dut = tess.Tessd(c, tmp, main_cpu=DUT_CPU, workers=[DUT_CPU], memory_mb=512,
                         ports=ports)
        dut.binary = binary or dut.binary
        dut.config["switch"] = {"groups": groups}
        if policers:
            dut.config["policers"] = list(policers)
        cgroup = cpu_cgroup(c, cpu_pct) if cpu_pct else None
        dut.start(timeout=120)
        if cgroup:
            write(cgroup, str(dut.proc.pid))  # all its threads
        gen = generator(c, tmp, socks, args.size, f"{tag}{rep}")
        polled_before, idle_poll = (idle_poll_cost(dut) if getattr(args, "idle_ports", 0)
                                    else (0, None))
        mpps, offered = measure(gen, args.seconds, args.warmup,
                                lambda: dut.tessctl("stats", "--reset"), cgroup)
        st = dut.ctl("stats")
        w = st["workers"][0]
        flooded = sum(g["flooded"] for g in st["groups"])
        rx = sum(p["rx_packets"] for p in st["ports"])
        return {"mpps": mpps, "offered_mpps": offered, "gbps": gen.delivered_gbps,
                **cpu_cycles(w["cycles_per_packet"], gen),
                "busy_pct": w["busy_pct"], "flooded_in_window": flooded,
                "handled_mpps": rx / st["seconds"] / 1e6 if st["seconds"] else 0.0,
                "policers": st.get("policers", []), "idle_ports": idle_ports,
                "vhost_polled": polled_before, "idle_poll_cycles": idle_poll,
                **window_fields(gen)}
    finally:
        run_cleanup(c)
