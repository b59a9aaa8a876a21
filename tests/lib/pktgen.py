# SPDX-License-Identifier: BSD-3-Clause
"""DPDK's pktgen as a traffic generator on net_virtio_user ports, as testpmd's flowgen is
(tests/lib/flowgen.py): on the generator CPU, into the DUT's vhost-user sockets, counted
at its own ports. Debian has no pktgen package: build-pktgen, in the project's shared tree
next to the repository (../shared/tools, not in a clone), builds 23.06.1 with Lua into
/opt/pktgen (`make bench-deps` runs it); without it the bench uses testpmd.

pktgen wants a terminal and has no batch mode that reports back: it runs on a pseudo-
terminal (its screen drained into a log) with its Lua socket (-g) open, and the bench
drives it line by line over that socket, as a user drives its console. That socket runs
any Lua (os.execute too) as root, and 23.06.1 binds it to every address whatever -g
says: pktgen runs in a network namespace of its own with only lo up, and the bench
connects from a thread that joined it (tess.in_netns()). Range
mode varies VLAN ids, addresses and ports per frame (range()); pcap mode replays given
frames (pcaps=)."""
import fcntl
import json
import os
import pty
import signal
import socket
import struct
import subprocess
import termios
import threading
import time

from tess import in_netns, uid

PKTGEN = os.environ.get("TESS_PKTGEN", "/opt/pktgen/bin/pktgen")
HOW_TO_BUILD = ("build it with build-pktgen from the project's shared tree next to the "
                "repository (../shared/tools, the pktgen 23.06.1 tarball in ../shared/vendor; "
                "not in the repository: `make bench-deps` runs it where it is there), or "
                "build pktgen 23.06.1 with Lua yourself and set TESS_PKTGEN to its path")
# What it allocates: five pools of 24,576 10-KiB mbufs per port (RX, and TX for each of its
# modes), about 1.3 GiB a port, all of it hugepages.
MEMORY_MB = 3072
# Entries of each virtio ring (virtio-user's default: 256). Its one lcore spins sending on
# one port while the DUT, given CPU again at a quota period's start, sends the backlog of
# both its RX rings at once: 256 entries lost some 340 frames a port per period, counted
# as the DUT's full-TX drops (testpmd io's, tessd's), and OVS's cost per frame was half
# as high again as with 1024 (README, Benchmarks).
QUEUE_SIZE = 1024
POOL_FRAMES = 24576  # frames of a range it builds once and sends over and over (range())


class PktgenError(RuntimeError):
    pass


def check():
    """Raises PktgenError saying how to build pktgen if it is not where the bench looks."""
    if not os.access(PKTGEN, os.X_OK):
        raise PktgenError(f"pktgen: {PKTGEN} is missing: {HOW_TO_BUILD}")


def lua_value(name, v):
    """A range field's integer value as pktgen.range takes it: a MAC or an IPv4 address
    as a string, others as a number."""
    if name.endswith("_mac"):
        return '"' + ":".join(f"{b:02x}" for b in v.to_bytes(6, "big")) + '"'
    if name.endswith("_ip"):
        return '"' + socket.inet_ntoa(struct.pack("!I", v)) + '"'
    return str(v)


LUA_PORT = 22022  # in its own network namespace: no other listener to collide with


def _own_netns(pid):
    """Whether process pid is in a network namespace other than ours (unshare has run)."""
    try:
        return os.stat(f"/proc/{pid}/ns/net").st_ino != os.stat("/proc/self/ns/net").st_ino
    except OSError:
        return False


class Pktgen:
    """pktgen on lcores 0 (its console) and 1 (both ports' RX and TX), both on cpu, with a
    net_virtio_user port on each of socks (MACs macs). pcaps: a pcap file per port to
    replay (pcap mode) instead of range mode. Stopped with quit, else its process group is
    killed (kill())."""

    def __init__(self, cleanup, socks, macs, cpu, log_path, pcaps=None, timeout=90):
        check()
        self.ports = tuple(range(len(socks)))
        self.portlist = f"0-{len(socks) - 1}"
        self.prefix = f"pg{uid()}"
        # Its own network namespace, lo up (the Lua socket's), then pktgen in the same
        # process; its ports are vhost-user and telemetry's socket a path: no network.
        cmd = ["unshare", "--net", "--", "sh", "-c", 'ip link set lo up && exec "$0" "$@"',
               PKTGEN, f"--lcores=0@{cpu},1@{cpu}", "--no-pci", "--in-memory",
               "--single-file-segments", f"--file-prefix={self.prefix}"]
        for i, s in enumerate(socks):
            cmd += ["--vdev", f"net_virtio_user{i},path={s},queues=1,queue_size={QUEUE_SIZE},"
                    f"mac={macs[i]}"]
        cmd += ["--", "-m", f"1.[{self.portlist}]", "-g", f"localhost:{LUA_PORT}"]
        for i, p in enumerate(pcaps or ()):
            cmd += ["-s", f"{i}:{p}"]
        self.cmdline = cmd
        self.log = open(log_path, "wb")
        self.sock = self.tel = None
        master, slave = pty.openpty()
        # A screen big enough that its page fits (it draws by cursor position).
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 60, 160, 0, 0))
        self.proc = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave,
                                     start_new_session=True, env=dict(os.environ, TERM="vt100"))
        os.close(slave)
        self.console = master
        self.pgid = self.proc.pid  # its own session, so its own process group
        cleanup.add(self.quit)
        # Its screen must be read, or it blocks writing to the terminal.
        self._drain = threading.Thread(target=self._read_screen, args=(master,), daemon=True)
        self._drain.start()
        self._connect(timeout)
        self._quiet_console()
        self.wait_links()
        if pcaps:
            self.lua(f'pktgen.pcap("{self.portlist}", "on")')

    def _read_screen(self, fd):
        try:
            while True:
                d = os.read(fd, 65536)
                if not d:
                    break
                self.log.write(d)
        except OSError:
            pass  # EIO: pktgen is gone

    def _connect(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise PktgenError(f"pktgen exited ({self.proc.returncode}), see {self.log.name}")
            try:
                # Not before unshare has run: else it would be our namespace's port.
                if _own_netns(self.proc.pid):
                    self.sock = in_netns(f"/proc/{self.proc.pid}/ns/net",
                                         lambda: socket.create_connection(
                                             ("127.0.0.1", LUA_PORT), timeout=5))
                    self.rfile = self.sock.makefile("rb")
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise PktgenError(f"pktgen's Lua socket not open after {timeout}s, see {self.log.name}")

    def _quiet_console(self):
        """Its console's main loop polls the terminal without waiting and its timer thread
        spins: on the one CPU the generator has they would take two thirds of it from the
        lcore that sends. They run at SCHED_IDLE (the counters the bench reads are the
        ports' own, not the timer's)."""
        for tid in os.listdir(f"/proc/{self.proc.pid}/task"):
            try:
                with open(f"/proc/{self.proc.pid}/task/{tid}/comm") as f:
                    comm = f.read().strip()
                if comm == "pktgen":  # the main thread and the timer thread it made
                    os.sched_setscheduler(int(tid), os.SCHED_IDLE, os.sched_param(0))
            except OSError:
                pass  # a thread gone

    def lua(self, code, timeout=30):
        """Runs Lua code (one statement list; may `return` a value) in pktgen; the value,
        as a string. Errors come back as PktgenError."""
        line = ("local ok, r = pcall(function() " + " ".join(code.split("\n")) + " end) "
                "io.write(ok and '@@ok ' or '@@err ', tostring(r), '\\n') io.flush()\n")
        self.sock.settimeout(timeout)
        try:
            self.sock.sendall(line.encode())
            while True:
                ans = self.rfile.readline()
                if not ans:
                    raise PktgenError(f"pktgen closed its Lua socket, see {self.log.name}")
                ans = ans.decode(errors="replace").rstrip("\n")
                if ans.startswith("@@ok "):
                    return ans[5:]
                if ans.startswith("@@err "):
                    raise PktgenError(f"pktgen: {code}: {ans[6:]}")
        except socket.timeout:
            raise PktgenError(f"pktgen: no answer to {code} in {timeout}s") from None

    def telemetry(self, cmd):
        """A DPDK telemetry command's answer (its value). pktgen's Lua has the ports'
        counters only as its timer thread copied them, once a second; telemetry reads them
        (rte_eth_stats_get) when asked."""
        if self.tel is None:
            path = f"/var/run/dpdk/{self.prefix}/dpdk_telemetry.v2"
            self.tel = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            self.tel.settimeout(10)
            self.tel.connect(path)
            self.tel.recv(1 << 16)  # its greeting: version, pid, max_output_len
        self.tel.send(cmd.encode())
        return next(iter(json.loads(self.tel.recv(1 << 20)).values()))

    def wait_links(self, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            st = [self.telemetry(f"/ethdev/link_status,{p}")["status"] for p in self.ports]
            if all(x == "UP" for x in st):
                return
            time.sleep(0.2)
        raise PktgenError(f"pktgen: links not up after {timeout}s: {st}")

    def range(self, port, fields, size=64, vlan=True):
        """Range mode on port: fields {name: (start, inc, min, max)}, names those of
        pktgen.range (dst_mac, src_mac, src_ip, dst_ip, src_port, dst_port, vlan_id),
        values integers; UDP/IPv4 frames of size bytes (with the FCS), VLAN-tagged if
        vlan. Each frame adds inc to the last one's value, past max it wraps to min.
        pktgen builds the frames into its mbufs once, when sending starts: what it sends
        cycles through its pool's POOL_FRAMES of them."""
        p = f'"{port}"'
        self.lua(f'pktgen.range.set_type({p}, "ipv4") pktgen.range.ip_proto({p}, "udp")')
        # A call per field: its socket reads lines of at most 8 KiB.
        for name, val in dict(fields, pkt_size=(size, 0, size, size)).items():
            self.lua(" ".join(f'pktgen.range.{name}({p}, "{what}", {lua_value(name, v)})'
                              for what, v in zip(("start", "inc", "min", "max"), val)))
        self.lua(f'pktgen.set({p}, "burst", 32) pktgen.set_range({p}, "on")'
                 + (f' pktgen.vlan({p}, "on")' if vlan else ""))

    # What switching.measure() calls on a generator.
    def traffic(self, on):
        self.lua(f'pktgen.{"start" if on else "stop"}("{self.portlist}")')

    def tx_dropped(self, ports):
        """None: pktgen retries a full TX ring until it takes the burst, it drops nothing
        (the DUT not keeping up slows it down instead)."""
        return None

    def port_stats(self, port):
        """A port's counters now, by testpmd's names (Testpmd.port_stats())."""
        st = self.telemetry(f"/ethdev/stats,{port}")
        return {"rx_packets": st["ipackets"], "tx_packets": st["opackets"],
                "rx_bytes": st["ibytes"], "tx_bytes": st["obytes"]}

    def quit(self, timeout=10):
        """`quit` typed on its console (it stops its ports and exits), else kill().
        pktgen.quit() from the Lua socket's thread crashes it (the console it closes is
        the main lcore's)."""
        if self.proc.poll() is None:
            try:
                os.write(self.console, b"quit\r")
            except OSError:
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        self.kill()

    def kill(self):
        if self.proc.poll() is None:
            pgid = self.pgid
            # Never a group that is not pktgen's own: not init's, not ours.
            if pgid > 1 and pgid != os.getpgrp():
                try:
                    os.killpg(pgid, signal.SIGKILL)
                except ProcessLookupError:
                    pass  # gone meanwhile
            else:
                self.proc.kill()
            self.proc.wait(10)
        for s in (self.sock, self.tel):
            if s:
                s.close()
        self.sock = self.tel = None
        self._drain.join(5)
        if self.console is not None:
            os.close(self.console)  # after the thread reading it is done
            self.console = None
        self.log.close()
