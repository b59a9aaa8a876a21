# SPDX-License-Identifier: BSD-3-Clause
"""DPDK's l3fwd sample (LPM lookup) as the router benchmark's peer: built once from the
Debian dpdk-doc package's examples into build/bench/l3fwd, given the routes of
flowgen.flat_routes() (what tessd's flat config holds) and run on the same two net_vhost
sockets, pinned to the DUT CPU, forwarding what the generator sends."""
import fcntl
import hashlib
import os
import shutil
import subprocess
import time

import tess
from flowgen import DUT_CPU, FLOWGEN_SRC_MAC
from stateful import cpu_cgroup, write

EXAMPLES = "/usr/share/dpdk/examples"  # Debian's dpdk-doc (tests/env/deps.sh bench)

# What l3fwd 22.11 needs changed to run on net_vhost ports with our routes, as (file, text,
# replacement); each text must occur exactly once, or the build stops (a new DPDK moved it).
PATCHES = (
    # It asks for RX checksum offload, which net_vhost does not have: rte_eth_dev_configure
    # fails. Its LPM path does not read the checksum flags (it checks no checksums).
    ("main.c", ".offloads = RTE_ETH_RX_OFFLOAD_CHECKSUM,",
     ".offloads = 0, /* tess bench: net_vhost has no RX checksum offload */"),
    # Its LPM table holds 1024 IPv4 routes; the router benchmark gives it 10,002.
    ("l3fwd_lpm.c", "#define IPV4_L3FWD_LPM_MAX_RULES         1024",
     "#define IPV4_L3FWD_LPM_MAX_RULES         65536 /* tess bench: 10,000+ routes */"),
)
# net_vhost reports no packet types, which l3fwd's LPM path needs: --parse-ptype (below)
# makes it parse them in software, as an RX callback.


def _versions():
    out = subprocess.run(["dpkg-query", "-W", "-f=${Package} ${Version}\n", "dpdk-doc",
                          "libdpdk-dev"], capture_output=True, text=True)
    return out.stdout


def build():
    """The path of the patched l3fwd, built now if the cache (build/bench/l3fwd) is missing
    or was built from other patches or another DPDK."""
    if not os.path.isdir(os.path.join(EXAMPLES, "l3fwd")):
        raise RuntimeError(f"{EXAMPLES}/l3fwd is missing: install dpdk-doc (make bench-deps)")
    top = os.path.join(tess.BUILD, "bench", "l3fwd")
    src = os.path.join(top, "l3fwd")
    exe = os.path.join(src, "build", "l3fwd-shared")
    key = hashlib.sha256((repr(PATCHES) + _versions()).encode()).hexdigest()
    stamp = os.path.join(top, "stamp")
    os.makedirs(top, exist_ok=True)
    with open(os.path.join(top, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one build at a time
        if os.path.exists(exe) and os.path.exists(stamp) and open(stamp).read() == key:
            return exe
        for d in ("l3fwd", "common"):  # its Makefile includes ../common
            shutil.rmtree(os.path.join(top, d), ignore_errors=True)
            shutil.copytree(os.path.join(EXAMPLES, d), os.path.join(top, d))
        for name, old, new in PATCHES:
            path = os.path.join(src, name)
            with open(path) as f:
                text = f.read()
            if text.count(old) != 1:
                raise RuntimeError(f"l3fwd: {name} has {text.count(old)} of {old!r}, not 1")
            with open(path, "w") as f:
                f.write(text.replace(old, new))
        r = subprocess.run(["make", "-C", src, "shared"], capture_output=True, text=True)
        if r.returncode:
            raise RuntimeError(f"l3fwd: build failed: {r.stderr[-3000:]}")
        with open(stamp, "w") as f:
            f.write(key)
        return exe


def route_files(tmp, routes, tag):
    """l3fwd's two route files (v4 from routes, [(prefix, port)]; v6 a single route, as
    l3fwd falls back to its built-in routes unless given both, and its parser takes no
    prefix length 0); their paths."""
    r4, r6 = os.path.join(tmp, f"l3fwd-{tag}.v4"), os.path.join(tmp, f"l3fwd-{tag}.v6")
    with open(r4, "w") as f:
        f.writelines(f"R{p} {port}\n" for p, port in routes)
    with open(r6, "w") as f:
        f.write("R2001:db8::/32 0\n")
    return r4, r6


class L3fwd:
    """l3fwd on net_vhost ports at socks (server side, as tessd's), one lcore on the DUT
    CPU polling both, LPM, routes [(prefix, port)], frames sent on to FLOWGEN_SRC_MAC (the
    neighbour tessd's flat config has); in a cgroup with cpu_pct% of a CPU if given."""

    def __init__(self, cleanup, tmp, socks, routes, tag, cpu_pct=0):
        exe = build()
        r4, r6 = route_files(tmp, routes, tag)
        self.log_path = os.path.join(tmp, f"l3fwd-{tag}.log")
        cmd = [exe, "-l", str(DUT_CPU), "--no-pci", "--in-memory", "-m", "512",
               f"--file-prefix=l3fwd{tess.uid()}"]
        for i, s in enumerate(socks):
            cmd += ["--vdev", f"net_vhost{i},iface={s},queues=1"]
        cmd += ["--", "-p", hex((1 << len(socks)) - 1),
                "--config=" + ",".join(f"({i},0,{DUT_CPU})" for i in range(len(socks))),
                "--lookup=lpm", "--parse-ptype", f"--rule_ipv4={r4}", f"--rule_ipv6={r6}"]
        cmd += [f"--eth-dest={i},{FLOWGEN_SRC_MAC}" for i in range(len(socks))]
        self.cgroup = cpu_cgroup(cleanup, cpu_pct) if cpu_pct else None
        self.logf = open(self.log_path, "w")
        self.proc = subprocess.Popen(cmd, stdout=self.logf, stderr=subprocess.STDOUT)
        cleanup.add(self.stop)
        if self.cgroup:
            write(self.cgroup, str(self.proc.pid))  # all its threads
        # It makes the vhost-user sockets as it starts its ports, then waits (up to 9 s)
        # for their links: the generator connects to them meanwhile.
        tess.wait_for(lambda: all(os.path.exists(s) for s in socks) or self._exited(), 60,
                      "l3fwd's vhost-user sockets")
        if self.proc.poll() is not None:
            raise RuntimeError(f"l3fwd exited ({self.proc.returncode}): {self.log()[-3000:]}")

    def _exited(self):
        return self.proc.poll() is not None

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def wait_forwarding(self, timeout=30):
        """Until its lcore is in the main loop (links up, routes in)."""
        tess.wait_for(lambda: "entering main loop" in self.log() or self._exited(), timeout,
                      "l3fwd's main loop")
        if self.proc.poll() is not None:
            raise RuntimeError(f"l3fwd exited ({self.proc.returncode}): {self.log()[-3000:]}")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(2)  # it stops its ports and closes on SIGINT
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.logf.close()
        time.sleep(0.2)
