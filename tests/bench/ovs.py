# SPDX-License-Identifier: BSD-3-Clause
"""Open vSwitch with DPDK as the vswitch benchmarks' peer: ovsdb-server and ovs-vswitchd in
a private directory, pinned to the DUT CPU."""
import glob
import os
import re
import signal
import subprocess
import time

import tess
from flowgen import DUT_CPU, generator
from stateful import cpu_cgroup, run_cleanup, write
from switching import cpu_cycles, measure, window_fields


class Ovs:
    """ovsdb-server and ovs-vswitchd (DPDK) in a private directory, vswitchd pinned to the DUT
    CPU with one PMD there: two dpdkvhostuser ports with the same tag (access ports of VLAN
    vlan), or with vlan None trunks carrying every VLAN, NORMAL switching, mac_table_size
    MACs learned at most (OVS's default 2048 if None); ovs-vswitchd (its PMD thread too) in
    a cgroup with cpu_pct% of a CPU if given."""

    def __init__(self, cleanup, tmp, tag, cpu_pct=0, vlan=100, mac_table_size=None):
        # Before stop() is registered: the cgroup goes after ovs-vswitchd (last in, first out).
        self.cgroup = cpu_cgroup(cleanup, cpu_pct) if cpu_pct else None
        self.dir = os.path.join(tmp, f"ovs-{tag}")
        os.makedirs(self.dir)
        self.env = dict(os.environ, OVS_RUNDIR=self.dir, OVS_DBDIR=self.dir,
                        OVS_LOGDIR=self.dir)
        db, sock = os.path.join(self.dir, "conf.db"), os.path.join(self.dir, "db.sock")
        self.vsctl = ["ovs-vsctl", f"--db=unix:{sock}", "--timeout=30"]
        cleanup.add(self.stop)
        self.sh("ovsdb-tool", "create", db, "/usr/share/openvswitch/vswitch.ovsschema")
        self.sh("ovsdb-server", db, f"--remote=punix:{sock}", "--detach",
                f"--pidfile={self.dir}/ovsdb.pid", f"--log-file={self.dir}/ovsdb.log")
        mask = hex(1 << DUT_CPU)
        self.sh(*self.vsctl, "--no-wait", "init")
        self.sh(*self.vsctl, "--no-wait", "set", "Open_vSwitch", ".",
                "other_config:dpdk-init=true", f"other_config:dpdk-lcore-mask={mask}",
                f"other_config:pmd-cpu-mask={mask}", "other_config:dpdk-socket-mem=1024",
                f"other_config:dpdk-extra=--file-prefix=ovs{tess.uid()} --no-pci")
        self.sh("taskset", "-c", str(DUT_CPU), "/usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk",
                f"unix:{sock}", "--detach", f"--pidfile={self.dir}/vswitchd.pid",
                f"--log-file={self.dir}/vswitchd.log")
        if self.cgroup:
            write(self.cgroup, str(self.pid("vswitchd")))  # all its threads, the PMD's too
        self.sh(*self.vsctl, "add-br", "br0", "--", "set", "bridge", "br0",
                "datapath_type=netdev", *([f"other_config:mac-table-size={mac_table_size}"]
                                          if mac_table_size else []))
        for i in (0, 1):
            self.sh(*self.vsctl, "add-port", "br0", f"vhu{i}", "--", "set", "Interface",
                    f"vhu{i}", "type=dpdkvhostuser",
                    *(["--", "set", "Port", f"vhu{i}", f"tag={vlan}"] if vlan else []))
        self.socks = [os.path.join(self.dir, f"vhu{i}") for i in (0, 1)]

    def sh(self, *cmd):
        r = subprocess.run(cmd, env=self.env, capture_output=True, text=True, timeout=60)
        if r.returncode:
            raise RuntimeError(f"{' '.join(cmd)}: {r.stderr}")
        return r.stdout

    def appctl(self, *cmd):
        # The control socket is named after the binary: ovs-vswitchd-dpdk.<pid>.ctl.
        ctl = glob.glob(os.path.join(self.dir, f"ovs-vswitchd*.{self.pid('vswitchd')}.ctl"))
        return self.sh("ovs-appctl", "-t", ctl[0], *cmd)

    def tx_dropped(self):
        """Frames its vhost-user ports could not send since it started (the guest's ring was
        full: the generator did not take them), read from the ports now (dpctl/show -s;
        the Interface table's statistics lag by seconds)."""
        port, total = None, 0
        for ln in self.appctl("dpctl/show", "-s").splitlines():
            # A port whose stats it could not read ends its line with the next port's.
            m = re.search(r"port \d+: (\S+)", ln)
            if m:
                port = m.group(1)
            m = re.match(r"\s*TX packets:\S+ errors:\S+ dropped:(\d+)", ln)
            if m and port and port.startswith("vhu"):
                total += int(m.group(1))
        return total

    def pid(self, name):
        with open(os.path.join(self.dir, f"{name}.pid")) as f:
            return int(f.read())

    def stop(self, timeout=10):
        """Each daemon told to exit (ovs-appctl exit: vswitchd frees its hugepages and
        sockets), waited for, and killed if it is still there after timeout."""
        for name, binary in (("vswitchd", "ovs-vswitchd*"), ("ovsdb", "ovsdb-server")):
            try:
                pid = self.pid(name)
            except (OSError, ValueError):
                continue  # never started
            ctl = glob.glob(os.path.join(self.dir, f"{binary}.{pid}.ctl"))
            if ctl:
                subprocess.run(["ovs-appctl", "-t", ctl[0], "exit"], env=self.env,
                               capture_output=True, timeout=30)
            deadline = time.monotonic() + timeout
            while _alive(pid) and time.monotonic() < deadline:
                time.sleep(0.05)
            # Only the daemon's own pid: never init's or ours.
            if _alive(pid) and pid > 1 and pid != os.getpid():
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass  # gone meanwhile


def _alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def run_ovs(args, tmp, rep):
    """OVS switching flowgen's frames between two access ports of one VLAN."""
    c = tess.Cleanup()
    try:
        ovs = Ovs(c, tmp, rep, cpu_pct=args.dut_cpu_pct)
        gen = generator(c, tmp, ovs.socks, args.size, f"ovs{rep}")
        mpps, offered = measure(gen, args.seconds, args.warmup,
                                lambda: ovs.appctl("dpif-netdev/pmd-stats-clear"), ovs.cgroup)
        out = ovs.appctl("dpif-netdev/pmd-stats-show")
        m = re.search(r"avg processing cycles per packet: ([\d.]+)", out)
        return {"mpps": mpps, "offered_mpps": offered, "gbps": gen.delivered_gbps,
                **cpu_cycles(float(m.group(1)) if m else None, gen),
                **window_fields(gen)}
    finally:
        run_cleanup(c)
