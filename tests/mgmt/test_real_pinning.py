# SPDX-License-Identifier: BSD-3-Clause
"""Live pinning, shares and burst throttling of real desktops through libvirt's QEMU driver
(tests/lib/libvirtd.py), checked in libvirt (virsh vcpupin, emulatorpin, schedinfo, the saved
config) and in the kernel: the QEMU threads' affinity (/proc/PID/task/*/status) and the cgroup
cpu controller's files of the domain (cpu.shares and cpu.cfs_quota_us on cgroup v1; cpu.weight
and cpu.max on v2), which the test libvirtd makes under machine/ without systemd.

One tenant's two 1-vCPU desktops on a dedicated host of 2 CPUs (vcpu_ratio 2), CPU 0 reserved
for tessd and the system: the partition is CPU 1. The reservation moves to CPU 1 (the partition
to CPU 0, every thread of both QEMUs with it), the idle model's cpu_shares rises to 4096 (its
desktop's cgroup follows), and the other desktop's guest keeps its vCPU busy: past its share
(1024 of 5120 shares of the CPU) in a saturated partition, it is throttled to that share (a CFS
quota on its vCPU's cgroup), and let go once the partition is no longer saturated."""
import os
import re

import guest
import tess
from mgr import ACME, Mgr
from real_host import RealHost

GW = "10.21.0.1"


def affinity(pid):
    """{thread name: Cpus_allowed_list} of every thread of a QEMU (vCPUs: "CPU n/TCG")."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                name = f.read().strip()
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                cpus = re.search(r"^Cpus_allowed_list:\s*(\S+)", f.read(), re.M).group(1)
        except (OSError, AttributeError):
            continue  # a thread that ended meanwhile
        out[f"{name} ({tid})"] = cpus
    return out


def vcpu_tid(pid):
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/comm") as f:
            if re.match(r"CPU 0/(TCG|KVM)$", f.read().strip()):
                return tid
    raise AssertionError(f"no vCPU 0 thread in QEMU {pid}: {affinity(pid)}")


def cpu_cgroup(pid, tid):
    """(directory of the thread's cpu cgroup, v2?) from /proc and the mounts."""
    v1 = v2 = None
    with open(f"/proc/{pid}/task/{tid}/cgroup") as f:
        for line in f:
            _, ctrls, path = line.rstrip("\n").split(":", 2)
            if "cpu" in ctrls.split(","):
                v1 = path
            elif ctrls == "":
                v2 = path
    mounts = {}
    with open("/proc/self/mountinfo") as f:
        for line in f:
            pre, _, post = line.partition(" - ")
            fstype, _, opts = post.split()[:3]
            if fstype == "cgroup" and "cpu" in opts.split(","):
                mounts["v1"] = pre.split()[4]
            elif fstype == "cgroup2":
                mounts.setdefault("v2", pre.split()[4])
    if v1 is not None and "v1" in mounts:
        return mounts["v1"] + v1, False
    return mounts["v2"] + v2, True


def read(path):
    with open(path) as f:
        return f.read().strip()


class Domain:
    def __init__(self, lv, name, pid):
        self.lv, self.name, self.pid = lv, name, pid
        self.vcpu_dir, self.v2 = cpu_cgroup(pid, vcpu_tid(pid))
        # libvirt's layout: <domain>/vcpu0, <domain>/emulator.
        assert os.path.basename(self.vcpu_dir) == "vcpu0", self.vcpu_dir
        self.dir = os.path.dirname(self.vcpu_dir)

    def pins(self, *flags):
        """(vCPU 0's pin, the emulator's) as virsh says (live, or --config)."""
        v = self.lv.virsh("vcpupin", self.name, *flags).stdout.split()
        e = self.lv.virsh("emulatorpin", self.name, *flags).stdout.split()
        return v[1], e[-1]

    def sched(self):
        out = self.lv.virsh("schedinfo", self.name).stdout
        return dict((k.strip(), v.strip()) for k, _, v in
                    (l.partition(":") for l in out.splitlines()) if v)

    def shares(self):
        """The cgroup's weight: cpu.shares (v1) or cpu.weight (v2)."""
        return int(read(os.path.join(self.dir, "cpu.weight" if self.v2 else "cpu.shares")))

    def quota(self):
        """vCPU 0's CFS quota in us (-1: none)."""
        if self.v2:
            q = read(os.path.join(self.vcpu_dir, "cpu.max")).split()[0]
            return -1 if q == "max" else int(q)
        return int(read(os.path.join(self.vcpu_dir, "cpu.cfs_quota_us")))

    def threads_on(self, cpus):
        a = affinity(self.pid)
        return all(v == cpus for v in a.values()) and len(a) > 1


def weight(shares, v2):
    # libvirt's conversion on cgroup v2 (vircgroupv2.c).
    return 1 + ((shares - 2) * 9999) // 262142 if v2 else shares


def test_repin_shares_and_throttle_reach_the_qemu_threads_and_cgroups(cleanup, tmp_path):
    vmlinuz, initrd = guest.boot_files()
    h = RealHost(cleanup, tmp_path, GW, ("10.21.0.100", "10.21.0.109"))
    lv, dirs = h.lv, h.dirs
    # Samples every second; a decision holds 3 of them; saturated at 30% of the partition
    # busy (the machine is shared with other tests: a TCG vCPU may not get all of its CPU, and
    # throttled to 20% it is no longer saturated).
    m = Mgr(cleanup, tmp_path, config={"resources": {
        "sample_sec": 1, "hold_samples": 3, "saturation_pct": 30}}).start()
    m.site(storage=dirs["storage"])
    body = h.body(shared=False, vcpu_ratio=2.0, reserved_cpus="0")
    m.ok("POST", "hosts", body)
    m.tenant("acme", 100)
    for name, after in (("idle", "stay"), ("busy", "burn")):
        m.ok("POST", "models", {"name": name, "vcpus": 1, "memory_mb": 96, "cpu_shares": 1024,
                                "base_image": "tiny.qcow2", "kernel": vmlinuz,
                                "initrd": initrd,
                                "cmdline": guest.CMDLINE + f" tess.after={after}"})
        m.quota("acme", model=name, cpus=1, memory_mb=256)
    desks = {n: m.desktop(n, ACME, model=n) for n in ("idle", "busy")}
    # Booted, and the busy one spinning (after its DHCP, whose lease is not this test's).
    for d in desks.values():
        guest.wait_console(os.path.join(dirs["console"], f"desk{d['id']}.log"), 180)
    doms = {}
    for n, d in desks.items():
        uuid = m.ok("GET", f"desktops/{d['id']}", token=ACME)["uuid"]
        name = lv.virsh("domname", uuid).stdout.strip()
        pid = int(read(os.path.join(lv.dir, "run", "qemu", f"{name}.pid")))
        doms[n] = Domain(lv, name, pid)

    # Placed: CPU 1, every thread of both QEMUs (vCPU and emulator) there.
    for n, dom in doms.items():
        assert dom.pins() == ("1", "1") and dom.pins("--config") == ("1", "1"), n
        assert dom.threads_on("1"), (n, affinity(dom.pid))
        assert dom.sched()["cpu_shares"] == "1024" and dom.shares() == weight(1024, dom.v2)
        assert dom.quota() == -1 and dom.sched()["vcpu_quota"] in ("-1", "0")

    # The reservation moves: the partition follows, live and in the saved config.
    m.ok("PUT", "hosts/q1", dict(body, reserved_cpus="1"))
    for n, dom in doms.items():
        tess.wait_for(lambda: dom.threads_on("0") and dom.pins() == ("0", "0"), 30,
                      lambda: f"{n} repinned to CPU 0: {dom.pins()} {affinity(dom.pid)}")
        assert dom.pins("--config") == ("0", "0"), n
        assert m.ok("GET", f"desktops/{desks[n]['id']}", token=ACME)["cpus"] == "0"

    # A model's shares change: its running desktop's cgroup follows; the other's stays.
    model = m.ok("GET", "models/idle")
    model.pop("id")
    m.ok("PUT", "models/idle", dict(model, cpu_shares=4096))
    busy, idle = doms["busy"], doms["idle"]
    tess.wait_for(lambda: idle.shares() == weight(4096, idle.v2), 30,
                  lambda: f"idle's cgroup weight: {idle.shares()}")
    assert idle.sched()["cpu_shares"] == "4096"
    assert "<shares>4096</shares>" in lv.virsh("dumpxml", "--inactive", idle.name).stdout
    assert busy.shares() == weight(1024, busy.v2) and busy.sched()["cpu_shares"] == "1024"

    # The busy desktop bursts in a saturated partition: capped at its share (1024 of 5120
    # shares of one CPU: 1/5 of a period) on its vCPU's cgroup; the idle one is not.
    def capped():
        d = m.ok("GET", f"desktops/{desks['busy']['id']}", token=ACME)
        q = re.search(r"<quota>(\d+)</quota>", d["libvirt"]["saved_cputune"])
        return d["throttled"] and q and busy.quota() == int(q.group(1)) and int(q.group(1))

    quota = tess.wait_for(capped, 60, lambda: f"busy throttled: quota {busy.quota()}, "
                          f"{m.ok('GET', 'desktops/' + str(desks['busy']['id']), token=ACME)}")
    assert 15000 <= quota <= 25000, quota
    assert busy.sched()["vcpu_period"] == "100000"
    assert idle.quota() == -1
    # Capped, the partition is no longer saturated: it is let go, no quota on its cgroup.
    tess.wait_for(lambda: busy.quota() == -1, 60, lambda: f"busy released: {busy.quota()}")
    assert busy.threads_on("0") and idle.threads_on("0")
