# SPDX-License-Identifier: BSD-3-Clause
"""Observability: --version, live capture with dpdk-dumpcap (rte_pdump), and DPDK
telemetry's /tessd/ commands giving the control API's numbers."""
import glob
import json
import os
import re
import socket
import subprocess
import time

from scapy.layers.inet import ICMP
from scapy.utils import rdpcap

import tess

MESON_VERSION = re.search(r"version:\s*'([^']+)'", open(
    os.path.join(os.path.dirname(__file__), "..", "..", "meson.build")).read()).group(1)


def test_version_of_every_binary():
    tessmgrd = os.path.join(tess.BUILD, "mgmt", "tessmgrd")
    for exe, name in ((tess.TESSD, "tessd"), (tess.TESSCTL, "tessctl"), (tessmgrd, "tessmgrd")):
        r = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=10)
        assert r.returncode == 0, r.stderr
        assert r.stdout.splitlines()[0] == f"{name} {MESON_VERSION}", r.stdout
        h = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=10)
        assert "--version" in h.stdout, h.stdout
    r = subprocess.run([tess.TESSD, "--version"], capture_output=True, text=True, timeout=10)
    assert re.fullmatch(r"DPDK \d+\.\d+\.\d+.*", r.stdout.splitlines()[1]), r.stdout


def _shared_tap_pair(cleanup, tmp_path):
    # Secondaries (dumpcap) map the primary's memory: hugepages, not --in-memory. They map
    # it at the primary's addresses, which EAL picks from 4 GiB up; under ASan that is shadow
    # memory, so an ASan tessd got addresses near its libraries, where dumpcap's libraries
    # may be (dumpcap then fails to start, at random). 32 TiB is free in both processes.
    t, a, b = tess.tap_pair(cleanup, tmp_path,
                            tessd_kw={"in_memory": False, "hugepages": "on",
                                      "extra_eal": ("--base-virtaddr=0x200000000000",)})

    def drop_hugepage_files():
        # EAL keeps them after exit for secondaries (until a primary of this prefix starts).
        t._kill()
        with open("/proc/mounts") as m:
            mounts = [ln.split()[1] for ln in m if ln.split()[2] == "hugetlbfs"]
        for d in mounts:
            for f in glob.glob(os.path.join(d, f"{t.config['eal']['file_prefix']}map_*")):
                os.unlink(f)
    cleanup.add(drop_hugepage_files)
    return t, a, b


def _telemetry(prefix, cmd):
    path = f"/var/run/dpdk/{prefix}/dpdk_telemetry.v2"
    with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as s:
        s.settimeout(10)
        s.connect(path)
        json.loads(s.recv(16384))  # the greeting
        s.send(cmd.encode())
        return json.loads(s.recv(65536))[cmd.split(",")[0]]


def test_telemetry_gives_the_api_numbers(cleanup, tmp_path):
    t, (na, _), _ = _shared_tap_pair(cleanup, tmp_path)
    prefix = t.config["eal"]["file_prefix"]
    assert na.ping("10.77.0.2", count=3) == (3, 3)
    status = _telemetry(prefix, "/tessd/status")
    assert status["pid"] == t.proc.pid and status["version"] == MESON_VERSION, status
    assert status["ports"] == 2 and status["port_capacity/ethdev/used"] == 2, status
    assert sorted(_telemetry(prefix, "/tessd/ports")) == ["a", "b"]
    # Quiet now: the same counters through both.
    time.sleep(0.5)
    api = t.port_stats()["a"]
    tel = _telemetry(prefix, "/tessd/ports,a")
    for k in ("rx_packets", "rx_bytes", "tx_packets", "tx_bytes", "drops_total"):
        assert tel[k] == api[k], (k, tel, api)
    assert tel["rx_packets"] >= 3
    for reason, n in api["drops"].items():
        assert tel.get(f"drops/{reason}", 0) == n, (reason, tel)
    assert "ports" in _telemetry(prefix, "/tessd/stats")
    api_drops = t.ctl("stats")["drops"]
    tel_drops = _telemetry(prefix, "/tessd/drops")
    want = {f"{m}/{r}": n for m, rs in api_drops.items() for r, n in rs.items()}
    assert {k: v for k, v in tel_drops.items()} == want, (tel_drops, api_drops)
    assert _telemetry(prefix, "/tessd/ports,nosuch") is None


def test_dumpcap_captures_a_port_live(cleanup, tmp_path):
    t, (na, _), _ = _shared_tap_pair(cleanup, tmp_path)
    prefix = t.config["eal"]["file_prefix"]
    out = os.path.join(tmp_path, "a.pcapng")
    dump = subprocess.Popen(["dpdk-dumpcap", f"--file-prefix={prefix}", "-i", "0", "-c", "8",
                             "-q", "-w", out], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    cleanup.add(lambda: dump.poll() is None and (dump.kill(), dump.wait()))
    time.sleep(2)  # dumpcap attaches and enables capture
    deadline = time.time() + 20
    while dump.poll() is None and time.time() < deadline:
        na.ping("10.77.0.2", count=2, interval=0.2)
    assert dump.wait(10) == 0, dump.stdout.read()
    pkts = rdpcap(out)
    echoes = [p for p in pkts if p.haslayer(ICMP)]
    assert {p[ICMP].type for p in echoes} >= {0, 8}, [p.summary() for p in pkts]
    assert t.ctl("status")["pid"] == t.proc.pid  # tessd lives on


def test_tessd_stops_cleanly_while_a_capture_runs(cleanup, tmp_path):
    """pdump's stats are freed by rte_pdump_uninit: tessd must stop its workers (whose
    capture callbacks use them) first. Frames flow through the captured port while it stops."""
    t, (na, _), _ = _shared_tap_pair(cleanup, tmp_path)
    prefix = t.config["eal"]["file_prefix"]
    dump = subprocess.Popen(["dpdk-dumpcap", f"--file-prefix={prefix}", "-i", "0", "-q", "-w",
                             os.path.join(tmp_path, "b.pcapng")], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    cleanup.add(lambda: dump.poll() is None and (dump.kill(), dump.wait()))
    time.sleep(2)  # dumpcap attaches and enables capture
    flood = subprocess.Popen(["ip", "netns", "exec", na.name, "ping", "-q", "-i", "0.002",
                              "-w", "10", "10.77.0.2"], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    cleanup.add(lambda: flood.poll() is None and (flood.kill(), flood.wait()))
    time.sleep(1)
    assert t.stop() == 0, t.log()
