# SPDX-License-Identifier: BSD-3-Clause
"""Test harness: tessd processes, network namespaces, tap ports and raw sockets.

Everything a test creates is registered in a Cleanup and removed even when
the test fails. Names carry the pid so that parallel or crashed runs never
collide, and stale ones from dead runs are swept at start.
"""
import atexit
import ctypes
import itertools
import json
import os
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time

BUILD = os.environ.get("TESS_BUILD", os.path.join(os.path.dirname(__file__), "../../build"))
TESSD = os.path.join(BUILD, "dataplane", "tessd")
TESSCTL = os.path.join(BUILD, "mgmt", "tessctl")

PID = os.getpid()
_seq = itertools.count(1)


def _terminated(signum, frame):
    # A runner's timeout (meson, timeout(1)) sends SIGTERM: unwind so that every
    # Cleanup and fixture teardown still runs.
    raise SystemExit(128 + signum)


if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
    signal.signal(signal.SIGTERM, _terminated)
NS_PREFIX = "tess-"  # netns names: tess-<pid>-<n>


def uid():
    """A short unique token for names (interfaces allow 15 characters)."""
    return f"{PID % 100000}{next(_seq)}"


def scratch_dir(prefix):
    """A temporary directory removed when the process exits (kept with TESS_KEEP_TMP=1, to
    read its logs after a failure)."""
    d = tempfile.mkdtemp(prefix=prefix)
    if not os.environ.get("TESS_KEEP_TMP"):
        atexit.register(shutil.rmtree, d, True)
    return d


def sh(*cmd, check=True, ns=None, timeout=60, capture=True):
    if ns:
        cmd = ("ip", "netns", "exec", ns) + cmd
    r = subprocess.run(cmd, capture_output=capture, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({r.returncode}): {r.stdout}{r.stderr}")
    return r


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def sweep_stale():
    """Removes namespaces left by test runs whose process is gone."""
    out = sh("ip", "netns", "list", check=False).stdout
    for line in out.splitlines():
        name = line.split()[0] if line.split() else ""
        m = re.match(rf"{NS_PREFIX}(\d+)-\d+$", name)
        if m and not _pid_alive(int(m.group(1))):
            sh("ip", "netns", "del", name, check=False)


SANITIZED = os.environ.get("TESS_SANITIZED") == "1"
SAN_DIR = f"/tmp/tess-san-{PID}"
_SAN_MARK = re.compile(r"runtime error:|ERROR: \w+Sanitizer")
_san_logs = []  # the daemons' output files
_san_found = []  # reports seen in captured output


def sanitizer_setup():
    """Under ASan+UBSan (the build-asan run), every process the tests start writes its ASan
    and LeakSanitizer reports into SAN_DIR, whatever it does with its output. UBSan next to
    ASan ignores log_path (GCC 12) and writes on stderr: the daemons' logs and tessctl's
    stderr are read for its reports (and it aborts the process, which tests see)."""
    if not SANITIZED:
        return
    os.makedirs(SAN_DIR, exist_ok=True)
    opts = os.environ.get("ASAN_OPTIONS", "")
    os.environ["ASAN_OPTIONS"] = f"{opts}:log_path={SAN_DIR}/asan".lstrip(":")


def sanitizer_watch(log_path):
    """Reads this daemon's output file for reports after the test."""
    if SANITIZED:
        _san_logs.append(log_path)


def sanitizer_scan(text, who):
    """Keeps a report found in a captured output."""
    if SANITIZED and _SAN_MARK.search(text or ""):
        _san_found.append(f"--- {who}\n{text}")


def sanitizer_reports(last=False):
    """The reports made since the last call, as text (each read once)."""
    out = _san_found[:]
    _san_found.clear()
    for path in _san_logs:
        try:
            with open(path, errors="replace") as f:
                text = f.read()
        except OSError:
            continue
        m = _SAN_MARK.search(text)
        if m:
            start = text.rfind("\n", 0, m.start()) + 1
            out.append(f"--- {path}\n{text[start:start + 8000]}")
    _san_logs.clear()
    if os.path.isdir(SAN_DIR):
        for name in sorted(os.listdir(SAN_DIR)):
            path = os.path.join(SAN_DIR, name)
            with open(path, errors="replace") as f:
                out.append(f"--- {name}\n{f.read()}")
            os.unlink(path)
        if last:
            os.rmdir(SAN_DIR)
    return "\n".join(out)


def wait_for(cond, timeout, what, interval=0.1):
    """Polls cond() until it is true and returns its value; fails naming what it waited for
    (what may be a callable, called at the failure for the state to report). cond() is tried
    once more after the deadline, so a slow poll never fails a test."""
    deadline = time.time() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.time() > deadline:
            raise AssertionError(
                f"timed out after {timeout}s waiting for {what() if callable(what) else what}")
        time.sleep(interval)


def sweep_runtime_dirs():
    """EAL leaves /var/run/dpdk/<prefix> behind (even in memory): remove this run's."""
    import glob
    import shutil
    tag = str(PID % 100000)
    for d in glob.glob("/var/run/dpdk/*"):
        if re.fullmatch(rf"(tessd_|cfg|tpmd){tag}\d+", os.path.basename(d)):
            shutil.rmtree(d, ignore_errors=True)


class Cleanup:
    """Undo actions run in reverse order."""

    def __init__(self):
        self.actions = []

    def add(self, fn, *args, **kw):
        self.actions.append((fn, args, kw))

    def run(self):
        errors = []
        while self.actions:
            fn, args, kw = self.actions.pop()
            try:
                fn(*args, **kw)
            except Exception as e:  # keep cleaning
                errors.append(e)
        return errors


UDHCPC_HOOK = """#!/bin/sh
# udhcpc's hook: the address (and default route) it got, and its lease noted for the test.
case "$1" in
bound|renew)
    ip addr flush dev "$interface"
    ip addr add "$ip/$mask" dev "$interface"
    [ -n "$router" ] && ip route replace default via "${router%% *}" dev "$interface"
    printf 'ip=%s\\nmask=%s\\nrouter=%s\\ndns=%s\\ndomain=%s\\nstaticroutes=%s\\n' "$ip" "$mask" \\
        "$router" "$dns" "$domain" "$staticroutes" > "$NOTE"
    ;;
esac
exit 0
"""


class Netns:
    def __init__(self, cleanup):
        self.name = f"{NS_PREFIX}{PID}-{next(_seq)}"
        sh("ip", "netns", "add", self.name)
        cleanup.add(sh, "ip", "netns", "del", self.name)
        self.run("ip", "link", "set", "lo", "up")
        # No IPv6 chatter (router solicitations, MLD) in the counters.
        self.run("sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1")
        self.run("sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1")

    def run(self, *cmd, check=True, timeout=60):
        return sh(*cmd, ns=self.name, check=check, timeout=timeout)

    def attach(self, iface, addr=None, mtu=None, src=None, mac=None):
        """Moves an interface (e.g. tessd's tap) in here, from namespace src or this one's
        parent, and brings it up."""
        sh("ip", "link", "set", iface, "netns", self.name, ns=src.name if src else None)
        self.run("sysctl", "-qw", f"net.ipv6.conf.{iface}.disable_ipv6=1")
        if mac:
            self.run("ip", "link", "set", iface, "address", mac)
        if mtu:
            self.run("ip", "link", "set", iface, "mtu", str(mtu))
        if addr:
            self.run("ip", "addr", "add", addr, "dev", iface)
        self.run("ip", "link", "set", iface, "up")

    def ping(self, dst, count=3, interval=0.2, timeout=30, extra=()):
        r = self.run("ping", "-c", str(count), "-i", str(interval), "-W", "2", *extra, dst,
                     check=False, timeout=timeout)
        m = re.search(r"(\d+) packets transmitted, (\d+) received", r.stdout)
        if not m:
            raise RuntimeError(f"ping output not understood: {r.stdout}{r.stderr}")
        return int(m.group(1)), int(m.group(2))

    def raw_socket(self, iface):
        return raw_socket(self.name, iface)

    def udhcpc(self, iface, tmpdir, *extra):
        """Runs busybox udhcpc once on iface (extra: more of its options), which takes the
        address it is given and the default route: (its lease, a dict of udhcpc's ip, mask,
        router, dns, domain and staticroutes, or None; the run, for its output)."""
        hook = os.path.join(str(tmpdir), "udhcpc.sh")
        if not os.path.exists(hook):
            with open(hook, "w") as f:
                f.write(UDHCPC_HOOK)
            os.chmod(hook, 0o700)
        note = os.path.join(str(tmpdir), f"lease-{self.name}-{iface}")
        if os.path.exists(note):
            os.unlink(note)
        r = self.run("env", f"NOTE={note}", "udhcpc", "-i", iface, "-f", "-q", "-n", "-t", "5",
                     "-T", "2", "-A", "1", "-s", hook, *extra, check=False)
        if r.returncode != 0 or not os.path.exists(note):
            return None, r
        with open(note) as f:
            return dict(line.split("=", 1) for line in f.read().splitlines()), r

    def send(self, iface, frames):
        """Sends each frame (bytes or a scapy packet) out of iface."""
        s = self.raw_socket(iface)
        try:
            for f in frames:
                s.send(bytes(f))
        finally:
            s.close()


def peer(cleanup, iface, addr=None, gw=None, **attach):
    """A namespace on iface (its ifc) for a test's peer: addr on it and, with gw, its default
    route (attach: Netns.attach's other arguments)."""
    ns = Netns(cleanup)
    ns.attach(iface, addr, **attach)
    if gw:
        ns.run("ip", "route", "add", "default", "via", gw)
    ns.ifc = iface
    return ns


_libc = ctypes.CDLL("libc.so.6", use_errno=True)
CLONE_NEWNET = 0x40000000
ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
SOL_PACKET = 263
PACKET_AUXDATA = 8
TP_STATUS_VLAN_VALID = 0x10
TP_STATUS_VLAN_TPID_VALID = 0x40


def _open_raw(iface):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((iface, 0))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    # The kernel moves a received VLAN tag into metadata; ask for it back.
    s.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
    return s


def raw_socket(ns, iface):
    """An AF_PACKET socket bound to iface inside namespace ns."""
    return in_netns(f"/var/run/netns/{ns}", lambda: _open_raw(iface))


def in_netns(path, fn):
    """fn()'s value, fn run in the network namespace at path (/var/run/netns/NAME,
    /proc/PID/ns/net). setns() affects only the calling thread, so a short-lived thread
    enters the namespace and runs fn; a socket fn opens stays in that namespace."""
    out = {}

    def work():
        try:
            fd = os.open(path, os.O_RDONLY)
            try:
                if _libc.setns(fd, CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), "setns")
            finally:
                os.close(fd)
            out["v"] = fn()
        except Exception as e:
            out["e"] = e

    t = threading.Thread(target=work)
    t.start()
    t.join()
    if "e" in out:
        raise out["e"]
    return out["v"]


def recv_frame(sock):
    """(frame, pkttype) with any VLAN tag the kernel took out put back, as on the wire."""
    data, anc, _, addr = sock.recvmsg(65536, socket.CMSG_SPACE(20))
    for level, kind, cdata in anc:
        if level == SOL_PACKET and kind == PACKET_AUXDATA and len(cdata) >= 20:
            status, _, _, _, _, tci, tpid = struct.unpack("=IIIHHHH", cdata[:20])
            if status & TP_STATUS_VLAN_VALID:
                if not status & TP_STATUS_VLAN_TPID_VALID:
                    tpid = 0x8100
                data = data[:12] + struct.pack("!HH", tpid, tci) + data[12:]
    return data, addr[2]


def recv_frames(sock, match, want, timeout=5.0):
    """Incoming frames for which match(bytes) is true, until want arrive or timeout."""
    got = []
    deadline = time.time() + timeout
    while len(got) < want:
        left = deadline - time.time()
        if left <= 0:
            break
        sock.settimeout(left)
        try:
            data, kind = recv_frame(sock)
        except socket.timeout:
            break
        if kind == PACKET_OUTGOING:
            continue
        if match(data):
            got.append(data)
    return got


def read_log(path):
    """A daemon's log so far ("" before it has one)."""
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def end_daemon(proc, logf):
    """A test's cleanup of a daemon it started (proc, a Popen, may be None), and closes its log
    file logf (may be None)."""
    if proc and proc.poll() is None and SANITIZED:
        # A clean exit, so that LeakSanitizer looks at it too.
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            pass
    if proc and proc.poll() is None:
        proc.kill()
        proc.wait(10)
    if logf and not logf.closed:
        logf.close()


class TessdError(RuntimeError):
    pass


class Tessd:
    """A tessd process with its own config, socket and DPDK file prefix."""

    def __init__(self, cleanup, tmpdir, ports=(), xconnects=(), workers=(1,), main_cpu=0,
                 memory_mb=256, hugepages="auto", control=None, extra_eal=(), in_memory=True,
                 netns=None):
        self.cleanup = cleanup
        self.netns = netns  # run inside this namespace (a Netns), for its interfaces
        self.dir = str(tmpdir)
        self.name = f"tessd-{uid()}"
        self.socket = os.path.join(self.dir, f"{self.name}.sock")
        self.config_path = os.path.join(self.dir, f"{self.name}.json")
        self.log_path = os.path.join(self.dir, f"{self.name}.log")
        # port.add may use paths in this test's temp directory and its siblings
        # (vhost-user sockets of tessmgrd's tests), not elsewhere (control.port_dirs).
        ctl = {"socket": self.socket, "port_dirs": [os.path.dirname(os.path.abspath(self.dir))]}
        ctl.update(control or {})
        self.config = {
            "eal": {"main_cpu": main_cpu, "workers": list(workers), "memory_mb": memory_mb,
                    "hugepages": hugepages, "file_prefix": self.name.replace("-", "_"),
                    "in_memory": in_memory, "args": list(extra_eal)},
            "control": ctl,
            "ports": list(ports),
            "xconnects": list(xconnects),
        }
        self.proc = None
        self.wrap = []  # a command that execs tessd's argv (e.g. in a mount namespace)
        self.binary = TESSD  # or another build's (the benchmarks' --baseline)

    def write_config(self, config=None):
        with open(self.config_path, "w") as f:
            json.dump(config if config is not None else self.config, f, indent=2)

    def start(self, wait=True, timeout=30):
        self.write_config()
        self.logf = open(self.log_path, "w")
        cmd = [*self.wrap, self.binary, "-c", self.config_path]
        if self.netns:
            cmd = ["ip", "netns", "exec", self.netns.name] + cmd  # it execs: same pid
        self.proc = subprocess.Popen(cmd, stdout=self.logf, stderr=subprocess.STDOUT)
        self.cleanup.add(self._kill)
        sanitizer_watch(self.log_path)
        if wait:
            self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise TessdError(f"tessd exited with {self.proc.returncode}:\n{self.log()}")
            if os.path.exists(self.socket):
                r = self.tessctl("status", check=False)
                if r.returncode == 0:
                    return
            time.sleep(0.1)
        raise TessdError(f"tessd not ready after {timeout}s:\n{self.log()}")

    def log(self):
        return read_log(self.log_path)

    def tessctl(self, *args, check=True, json_out=False, timeout=30):
        cmd = [TESSCTL, "-s", self.socket] + (["--json"] if json_out else []) + list(args)
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        sanitizer_scan(r.stderr, " ".join(cmd))
        if check and r.returncode != 0:
            raise TessdError(f"{' '.join(cmd)}: rc {r.returncode}: {r.stderr}")
        return r

    def ctl(self, *args):
        """tessctl --json, parsed."""
        return json.loads(self.tessctl(*args, json_out=True).stdout)

    def port_stats(self):
        return {p["name"]: p for p in self.ctl("stats")["ports"]}

    def stop(self, sig=signal.SIGTERM, timeout=20):
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        finally:
            self.logf.close()

    def _kill(self):
        end_daemon(self.proc, getattr(self, "logf", None))


def tap_port(name, iface, idx, **kw):
    p = {"name": name, "devargs": f"net_tap{idx},iface={iface}"}
    p.update(kw)
    return p


def tap_pair(cleanup, tmpdir, tessd_kw=None, mtu=None, addrs=("10.77.0.1/24", "10.77.0.2/24"),
             port_kw=None):
    """tessd with taps a and b cross-connected, each in its own namespace."""
    u = uid()
    ifa, ifb = f"ta{u}", f"tb{u}"
    port_kw = dict(port_kw or {})
    if mtu:
        port_kw["mtu"] = mtu
    t = Tessd(cleanup, tmpdir, ports=[tap_port("a", ifa, 0, **port_kw),
                                      tap_port("b", ifb, 1, **port_kw)],
              xconnects=[{"a": "a", "b": "b"}], **(tessd_kw or {})).start()
    na, nb = Netns(cleanup), Netns(cleanup)
    na.attach(ifa, addrs[0], mtu)
    nb.attach(ifb, addrs[1], mtu)
    return t, (na, ifa), (nb, ifb)


def af_packet_port(name, idx, iface, mtu=1500, **kw):
    """A net_af_packet port on a host interface.

    The af_packet PMD walks its ring at framesz strides, so blocksz must be a
    multiple of framesz.
    """
    framesz = 1 << max(11, (mtu + 64 - 1).bit_length())
    blocksz = max(4096, framesz)
    p = {"name": name, "mtu": mtu,
         "devargs": f"net_af_packet{idx},iface={iface},framesz={framesz},blocksz={blocksz},"
                    f"framecnt=512"}
    p.update(kw)
    return p


def veth(cleanup, mtu=1500):
    """A veth pair in this namespace, both ends up; returns their names."""
    u = uid()
    a, b = f"vh{u}", f"vp{u}"
    sh("ip", "link", "add", a, "mtu", str(mtu), "type", "veth", "peer", "name", b,
       "mtu", str(mtu))
    cleanup.add(sh, "ip", "link", "del", a, check=False)
    for end in (a, b):
        sh("sysctl", "-qw", f"net.ipv6.conf.{end}.disable_ipv6=1", check=False)
        sh("ip", "link", "set", end, "up")
    return a, b


def veth_port(cleanup, name, idx, mtu=1500, **kw):
    """A net_af_packet port on the host end of a veth pair; returns (port, peer iface).

    Move the peer into a namespace with Netns.attach.
    """
    u = uid()
    host, peer = f"vh{u}", f"vp{u}"
    sh("ip", "link", "add", host, "mtu", str(mtu), "type", "veth", "peer", "name", peer,
       "mtu", str(mtu))
    cleanup.add(sh, "ip", "link", "del", host, check=False)
    sh("ip", "link", "set", host, "up")
    return af_packet_port(name, idx, host, mtu, **kw), peer


class Monitor:
    """`tessctl --json monitor ARGS` running (tessd's or, with --mgr, tessmgrd's events),
    its JSON lines read as they come."""

    def __init__(self, cleanup, args, env=None):
        self.p = subprocess.Popen([TESSCTL, "--json", "monitor", *args], env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        cleanup.add(self.stop)
        self.events, self.buf = [], b""

    def read_until(self, want, timeout):
        """Reads events until want(events) holds; returns them."""
        deadline = time.monotonic() + timeout
        fd = self.p.stdout.fileno()
        while not want(self.events):
            left = deadline - time.monotonic()
            assert left > 0, f"events so far: {self.events}"
            if select.select([fd], [], [], left)[0]:
                d = os.read(fd, 65536)
                assert d, f"monitor ended: {self.p.stderr.read()}"
                self.buf += d
                *lines, self.buf = self.buf.split(b"\n")
                self.events += [json.loads(ln) for ln in lines if ln]
        return self.events

    def stop(self):
        if self.p.poll() is None:
            self.p.terminate()
            self.p.wait(10)
