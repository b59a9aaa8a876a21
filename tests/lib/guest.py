# SPDX-License-Identifier: BSD-3-Clause
"""Tiny real desktops for the tests: a Linux kernel and a busybox initramfs, booted by QEMU
(TCG, or KVM where it answers) under a libvirtd of the test's own.

The kernel is the host's /boot/vmlinuz-* when there is one, else Debian's cloud kernel package,
fetched once with `apt-get download` and unpacked (dpkg-deb -x) into a cache directory: nothing
is installed on the host. The initramfs (cpio, built here, cached by its content) holds the
static busybox, an /init and the virtio modules the kernel has as modules. /init loads them,
takes an address with udhcpc on eth0, pings its gateway and any `tess.ping=` targets (with
`tess.psize=` data bytes, default 56; up to 3 rounds of 3 while none is answered), and
prints each result on the serial console (ttyS0) on a line of its own:

    TESS-GUEST up <uptime>
    TESS-LEASE ip=<ip> mask=<mask> router=<router> serverid=<server> lease=<seconds>
    TESS-NOLEASE
    TESS-PING <target> sent=<n> recv=<n>
    TESS-DONE <uptime>
    TESS-SEEN src=<mac> dst=<mac> type=<ethertype> vlan=<id|-> sip=<ip|-> dip=<ip|-> ...

TESS-SEEN lines come from tess-cap (guest_cap.c, built static here with gcc), a capture on
eth0 from before the lease on: each kind of frame the guest receives, the first time. Then
the guest stays up (`tess.after=stay`, the default; a test stops it), powers off
(`tess.after=poweroff`), keeps its vCPU busy (`tess.after=burn`: a desktop over its share) or
runs a shell on its serial console (`tess.after=shell`: a console test types commands).

`python3 tests/lib/guest.py` fetches and builds everything ahead of a run (and says where)."""
import fcntl
import glob
import hashlib
import io
import lzma
import os
import re
import shutil
import stat
import subprocess
import sys
import time

CACHE = os.environ.get("TESS_GUEST_CACHE", "/var/tmp/tessera-guest")
BUSYBOX = os.environ.get("TESS_GUEST_BUSYBOX", "/bin/busybox")
# The modules eth0 needs, with what they depend on (those built in are skipped).
MODULES = ("virtio_pci", "virtio_net")

INIT = r"""#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
echo "TESS-GUEST up $(cut -d' ' -f1 /proc/uptime)"
grep -q tess.probe /proc/cmdline && poweroff -f
for m in $(cat /etc/modules); do
	insmod "/lib/modules/$m" || echo "TESS-GUEST insmod $m failed"
done
after=stay
pings=""
psize=56
for a in $(cat /proc/cmdline); do
	case "$a" in
	tess.after=*) after="${a#tess.after=}" ;;
	tess.psize=*) psize="${a#tess.psize=}" ;;
	tess.ping=*) pings="$pings $(echo "${a#tess.ping=}" | tr , ' ')" ;;
	esac
done
ip link set lo up
n=0
while ! ip link show eth0 >/dev/null 2>&1 && [ $n -lt 100 ]; do
	sleep 0.1
	n=$((n + 1))
done
ip link set eth0 up || echo "TESS-GUEST no eth0"
/bin/tess-cap eth0 &
echo "TESS-GUEST eth0 $(cat /sys/class/net/eth0/address 2>/dev/null) $(cut -d' ' -f1 /proc/uptime)"
rm -f /tmp/lease
udhcpc -i eth0 -f -q -n -t 20 -T 1 -A 1 -s /etc/udhcpc.script >/dev/null 2>&1
if [ -s /tmp/lease ]; then
	. /tmp/lease
	echo "TESS-LEASE ip=$ip mask=$mask router=$router serverid=$serverid lease=$lease"
	for t in $router $pings; do
		# Up to 3 rounds while none is answered (a starved guest's first may time out).
		for round in 1 2 3; do
			r=$(ping -c 3 -i 0.2 -W 5 -s "$psize" "$t" 2>&1 | grep 'packets transmitted')
			s=$(echo "$r" | sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p')
			g=$(echo "$r" | sed -n 's/.* \([0-9]*\) packets received.*/\1/p')
			[ "${g:-0}" -gt 0 ] && break
		done
		echo "TESS-PING $t sent=${s:-0} recv=${g:-0}"
	done
else
	echo "TESS-NOLEASE"
fi
echo "TESS-DONE $(cut -d' ' -f1 /proc/uptime)"
[ "$after" = poweroff ] && poweroff -f
[ "$after" = shell ] && exec /bin/sh
if [ "$after" = burn ]; then while :; do :; done; fi
while :; do sleep 3600; done
"""

UDHCPC_SCRIPT = r"""#!/bin/sh
case "$1" in
bound|renew)
	ip addr flush dev "$interface"
	ip addr add "$ip/$mask" dev "$interface"
	[ -n "$router" ] && ip route replace default via "${router%% *}" dev "$interface"
	echo "ip=$ip mask=$mask router=${router%% *} serverid=$serverid lease=$lease" >/tmp/lease
	;;
esac
exit 0
"""


def _locked(name):
    """An exclusive lock on a file of the cache (parallel runs build the cache once)."""
    os.makedirs(CACHE, mode=0o755, exist_ok=True)
    os.chmod(CACHE, 0o755)
    f = open(os.path.join(CACHE, name + ".lock"), "w")
    fcntl.flock(f, fcntl.LOCK_EX)
    return f


def _run(*cmd, cwd=None, timeout=300):
    r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: rc {r.returncode}: {r.stderr.strip()}")
    return r.stdout


def _debian_kernel():
    """Debian's cloud kernel unpacked under the cache: (vmlinuz, modules dir)."""
    with _locked("kernel"):
        have = sorted(glob.glob(os.path.join(CACHE, "kernel", "boot", "vmlinuz-*")))
        if not have:
            # The package the metapackage depends on (linux-image-<abi>-cloud-amd64).
            deps = _run("apt-cache", "depends", "--important", "linux-image-cloud-amd64")
            m = re.search(r"Depends: (linux-image-\S+)", deps)
            if not m:
                raise RuntimeError(f"no kernel package behind linux-image-cloud-amd64:\n{deps}")
            dl = os.path.join(CACHE, "download")
            shutil.rmtree(dl, ignore_errors=True)
            os.makedirs(dl)
            os.chmod(dl, 0o777)  # apt's _apt user downloads into it
            _run("apt-get", "download", "-qq", m.group(1), cwd=dl)
            debs = glob.glob(os.path.join(dl, "*.deb"))
            tmp = os.path.join(CACHE, "kernel.tmp")
            shutil.rmtree(tmp, ignore_errors=True)
            _run("dpkg-deb", "-x", debs[0], tmp)
            ver = os.path.basename(glob.glob(os.path.join(tmp, "boot", "vmlinuz-*"))[0])[8:]
            # The package's modules.dep is made by its postinst: make it here.
            _run("depmod", "-b", tmp, ver)
            for p, dirs, files in os.walk(tmp):  # qemu runs as a user of its own
                for n in dirs + files:
                    os.chmod(os.path.join(p, n), 0o755 if n in dirs else 0o644)
            os.chmod(tmp, 0o755)
            os.rename(tmp, os.path.join(CACHE, "kernel"))
            shutil.rmtree(dl, ignore_errors=True)
            have = glob.glob(os.path.join(CACHE, "kernel", "boot", "vmlinuz-*"))
        vmlinuz = have[-1]
        ver = os.path.basename(vmlinuz)[8:]
        return vmlinuz, os.path.join(CACHE, "kernel", "lib", "modules", ver)


def kernel():
    """(vmlinuz, modules dir): the host's newest /boot/vmlinuz-* if readable, with its
    /lib/modules; else Debian's cloud kernel in the cache."""
    for v in sorted(glob.glob("/boot/vmlinuz-*"), reverse=True):
        mods = os.path.join("/lib/modules", os.path.basename(v)[8:])
        if os.access(v, os.R_OK) and os.path.exists(os.path.join(mods, "modules.dep")):
            return v, mods
    return _debian_kernel()


def module_files(mods, names=MODULES):
    """The module files (relative to mods) to load for `names`, dependencies first; modules
    built into the kernel need none."""
    deps = {}
    with open(os.path.join(mods, "modules.dep")) as f:
        for line in f:
            path, _, rest = line.partition(":")
            deps[path] = rest.split()
    by_name = {re.sub(r"\.ko(\.\w+)?$", "", os.path.basename(p)).replace("-", "_"): p
               for p in deps}
    builtin = set()
    bpath = os.path.join(mods, "modules.builtin")
    if os.path.exists(bpath):
        with open(bpath) as f:
            builtin = {re.sub(r"\.ko$", "", os.path.basename(l.strip())).replace("-", "_")
                       for l in f}
    order = []

    def add(path):
        # modules.dep lists a module's dependencies, the ones loaded last first.
        for d in reversed(deps[path]):
            add(d)
        if path not in order:
            order.append(path)

    for n in names:
        if n in by_name:
            add(by_name[n])
        elif n not in builtin:
            raise RuntimeError(f"kernel module {n} neither in {mods} nor built in")
    return order


def _module_bytes(path):
    with open(path, "rb") as f:
        data = f.read()
    if path.endswith(".xz"):
        return lzma.decompress(data)
    if path.endswith(".zst"):
        return subprocess.run(["zstd", "-dc", path], capture_output=True, check=True).stdout
    if path.endswith(".gz"):
        import gzip
        return gzip.decompress(data)
    return data


class _Cpio:
    """A newc cpio archive (what the kernel unpacks into its initial rootfs)."""

    def __init__(self):
        self.out = io.BytesIO()
        self.ino = 1

    def _entry(self, name, mode, data=b"", rdev=(0, 0)):
        name_b = name.encode() + b"\0"
        hdr = "070701" + "".join(f"{x:08x}" for x in (
            self.ino, mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1], len(name_b), 0))
        self.ino += 1
        self.out.write(hdr.encode() + name_b)
        self.out.write(b"\0" * (-(110 + len(name_b)) % 4))
        self.out.write(data)
        self.out.write(b"\0" * (-len(data) % 4))

    def dir(self, name):
        self._entry(name, stat.S_IFDIR | 0o755)

    def file(self, name, data, mode=0o644):
        self._entry(name, stat.S_IFREG | mode, data)

    def chardev(self, name, major, minor):
        self._entry(name, stat.S_IFCHR | 0o600, rdev=(major, minor))

    def close(self):
        self._entry("TRAILER!!!", 0)
        self.out.write(b"\0" * (-self.out.tell() % 512))
        return self.out.getvalue()


CAP_SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "guest_cap.c")


def tess_cap():
    """tess-cap, the guests' capture: built static (gcc, glibc's libc.a) into the cache when
    its source is new."""
    with open(CAP_SRC, "rb") as f:
        src = f.read()
    path = os.path.join(CACHE, f"tess-cap-{hashlib.sha256(src).hexdigest()[:16]}")
    with _locked("tess-cap"):
        if not os.path.exists(path):
            _run("gcc", "-static", "-Os", "-o", path + ".tmp", CAP_SRC)
            os.rename(path + ".tmp", path)
    with open(path, "rb") as f:
        return f.read()


def initramfs(mods):
    """The initramfs for the kernel whose modules are in `mods`: its path in the cache, built
    when its content (busybox, scripts, modules) is new."""
    with open(BUSYBOX, "rb") as f:
        busybox = f.read()
    if b"ld-linux" in busybox[:4096]:  # an interpreter: not the static build
        raise RuntimeError(f"{BUSYBOX} is not static: install busybox-static (make deps)")
    files = module_files(mods)
    c = _Cpio()
    for d in ("bin", "dev", "etc", "lib", "lib/modules", "proc", "sys", "tmp"):
        c.dir(d)
    c.chardev("dev/console", 5, 1)
    c.file("bin/busybox", busybox, 0o755)
    c.file("bin/tess-cap", tess_cap(), 0o755)
    c.file("init", INIT.encode(), 0o755)
    c.file("etc/udhcpc.script", UDHCPC_SCRIPT.encode(), 0o755)
    names = []
    for p in files:
        n = re.sub(r"\.(xz|zst|gz)$", "", os.path.basename(p))
        c.file("lib/modules/" + n, _module_bytes(os.path.join(mods, p)))
        names.append(n)
    c.file("etc/modules", ("\n".join(names) + "\n").encode())
    data = c.close()
    path = os.path.join(CACHE, f"initramfs-{hashlib.sha256(data).hexdigest()[:16]}.cpio")
    with _locked("initramfs"):
        if not os.path.exists(path):
            tmp = path + ".tmp"
            with open(tmp, "wb") as f:
                f.write(data)
            os.chmod(tmp, 0o644)
            os.rename(tmp, path)
    return path


def boot_files():
    """(vmlinuz, initramfs) to boot a guest with."""
    vmlinuz, mods = kernel()
    return vmlinuz, initramfs(mods)


_KVM = None


def kvm_works(timeout=8):
    """Whether guests run under KVM here: /dev/kvm may exist while nested KVM hangs (on this
    kind of VM a guest's first instructions run, the kernel's boot never ends). So the real
    kernel and initramfs boot under KVM until /init powers off (tess.probe), with a timeout
    (under a second where KVM works). Probed once per host boot, the answer kept in the cache;
    TESS_GUEST_ACCEL=tcg or kvm decides instead."""
    global _KVM
    forced = os.environ.get("TESS_GUEST_ACCEL")
    if forced in ("tcg", "kvm"):
        return forced == "kvm"
    if _KVM is not None:
        return _KVM
    _KVM = False
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return False
    with open("/proc/sys/kernel/random/boot_id") as f:
        boot = f.read().strip()
    with _locked("kvm"):
        known = os.path.join(CACHE, f"kvm-{boot}")
        if os.path.exists(known):
            with open(known) as f:
                _KVM = f.read().strip() == "yes"
            return _KVM
        vmlinuz, initrd = boot_files()
        cmd = ["qemu-system-x86_64", "-machine", "pc,accel=kvm", "-m", "96", "-nodefaults",
               "-no-user-config", "-display", "none", "-serial", "stdio", "-kernel", vmlinuz,
               "-initrd", initrd, "-append", CMDLINE + " tess.probe"]
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL)
        try:
            out, _ = p.communicate(timeout=timeout)
            _KVM = p.returncode == 0 and b"TESS-GUEST up" in out
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        for old in glob.glob(os.path.join(CACHE, "kvm-*")):
            os.unlink(old)
        with open(known, "w") as f:
            f.write("yes\n" if _KVM else "no\n")
    return _KVM


# pci=nomsi: QEMU 7.2 under TCG crashes (SIGSEGV in msix_set_vector_notifiers, from
# vhost_net_start) when a vhost-user virtio-net device has MSI-X on; INTx does here.
CMDLINE = "console=ttyS0 panic=-1 quiet pci=nomsi"


def domain_xml(name, vmlinuz, initrd, vhost_sock, console, mac, memory_mib=96,
               after="stay", pings=(), kvm=None, qemu_serves=False):
    """A desktop booting kernel+initramfs, its NIC a vhost-user client of vhost_sock (or its
    server with qemu_serves, as tessmgrd's desktops), its serial console written to the file
    `console`."""
    kvm = kvm_works() if kvm is None else kvm
    cmdline = CMDLINE + f" tess.after={after}"
    if pings:
        cmdline += " tess.ping=" + ",".join(pings)
    # TCG's translation cache is 1 GiB by default: a few MiB do for these guests.
    tcg = "" if kvm else "<tcg><tb-cache unit='MiB'>32</tb-cache></tcg>"
    return f"""<domain type='{"kvm" if kvm else "qemu"}'>
  <name>{name}</name>
  <memory unit='MiB'>{memory_mib}</memory>
  <vcpu>1</vcpu>
  <memoryBacking><source type='memfd'/><access mode='shared'/></memoryBacking>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>{vmlinuz}</kernel>
    <initrd>{initrd}</initrd>
    <cmdline>{cmdline}</cmdline>
  </os>
  <features><acpi/>{tcg}</features>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <interface type='vhostuser'>
      <mac address='{mac}'/>
      <source type='unix' path='{vhost_sock}' mode='{"server" if qemu_serves else "client"}'/>
      <model type='virtio'/>
    </interface>
    <serial type='file'><source path='{console}'/><target port='0'/></serial>
    <memballoon model='none'/>
  </devices>
</domain>
"""


def console_results(text):
    """The guest's result lines, parsed: {"up", "lease": {...} or None, "pings": {target:
    (sent, recv)}, "done": uptime or None, "seen": [TESS-SEEN fields], "other": [lines]}.
    Lines mangled on the way (a starved guest's serial port may cut one) are not taken:
    they are in "other", with the guest's notes (TESS-GUEST, TESS-NOLEASE), so that a
    failing check shows what the console said."""
    r = {"up": None, "lease": None, "pings": {}, "done": None, "seen": [], "other": []}

    def fields(line):
        kv = [x.split("=", 1) for x in line.split()[1:]]
        return dict(kv) if all(len(x) == 2 for x in kv) else None

    for line in text.splitlines():
        line = line.strip()
        if m := re.fullmatch(r"TESS-GUEST up ([\d.]+)", line):
            r["up"] = float(m.group(1))
        elif m := re.fullmatch(r"TESS-PING (\S+) sent=(\d+) recv=(\d+)", line):
            r["pings"][m.group(1)] = (int(m.group(2)), int(m.group(3)))
        elif m := re.fullmatch(r"TESS-DONE ([\d.]+)", line):
            r["done"] = float(m.group(1))
        elif line.startswith("TESS-LEASE ") and fields(line) and "ip" in fields(line):
            r["lease"] = fields(line)
        elif line.startswith("TESS-SEEN ") and fields(line) and len(fields(line)) == 8:
            r["seen"].append(fields(line))
        elif "TESS-" in line:
            r["other"].append(line)
    return r


def frame_seen(f):
    """What tess-cap prints of a frame (a TESS-SEEN line's fields), for a capture made
    outside a guest (tess.recv_frame's bytes, tags put back)."""
    mac = lambda b: ":".join(f"{x:02x}" for x in b)  # noqa: E731
    ip = lambda b: ".".join(str(x) for x in b)  # noqa: E731
    r = {"src": mac(f[6:12]), "dst": mac(f[0:6]), "vlan": "-", "sip": "-", "dip": "-",
         "proto": "-", "mark": "-"}
    typ, off = int.from_bytes(f[12:14], "big"), 14
    if typ in (0x8100, 0x88a8) and len(f) >= 18:
        r["vlan"] = str(int.from_bytes(f[14:16], "big") & 0xfff)
        typ, off = int.from_bytes(f[16:18], "big"), 18
    r["type"] = f"0x{typ:04x}"
    p = f[off:]
    if typ == 0x0800 and len(p) >= 20:
        ihl, tot = (p[0] & 15) * 4, int.from_bytes(p[2:4], "big")
        r.update(sip=ip(p[12:16]), dip=ip(p[16:20]), proto=str(p[9]))
        if p[9] == 1 and ihl + 8 < tot <= len(p) and p[ihl] in (0, 8):
            r["mark"] = f"{tot - ihl - 8:02x}"
    elif typ == 0x0806 and len(p) >= 28:
        r.update(sip=ip(p[14:18]), dip=ip(p[24:28]), proto=f"arp{p[7]}")
    return r


def wait_console(path, timeout=120, what="TESS-DONE"):
    """Waits for a line `what` on the console file; returns the parsed results, with the
    console's last 3000 characters as "console" for a failing check to show (and raises with
    them when the line does not come)."""
    deadline = time.time() + timeout
    text = ""
    while time.time() < deadline:
        try:
            with open(path, errors="replace") as f:
                text = f.read()
        except FileNotFoundError:
            pass
        if any(line.strip() == what or line.startswith(what + " ")
               for line in text.splitlines()) and text.endswith("\n"):
            return dict(console_results(text), console=text[-3000:])
        time.sleep(0.2)
    raise TimeoutError(f"no {what} on the guest's console in {timeout}s:\n{text[-3000:]}")


if __name__ == "__main__":
    k, i = boot_files()
    print(f"kernel {k}\ninitramfs {i}\nkvm {kvm_works()}")
    sys.exit(0)
