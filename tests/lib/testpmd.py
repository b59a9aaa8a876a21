# SPDX-License-Identifier: BSD-3-Clause
"""Drives DPDK testpmd interactively: the VM side of vhost-user ports, a
traffic generator, or (in benchmarks) the reference DUT."""
import os
import re
import shutil
import subprocess
import threading
import time

from tess import uid

TESTPMD = shutil.which("dpdk-testpmd") or "/usr/bin/dpdk-testpmd"
PROMPT = b"testpmd> "
OUTPUT_TAIL = 65536  # bytes of its output kept for error messages
OUTPUT_KEPT = 4 << 20  # bytes of output kept between commands (they are logs)


class TestpmdError(RuntimeError):
    pass


class Testpmd:
    __test__ = False  # not a pytest class

    def __init__(self, cleanup, vdevs, lcores="0@0,1@0", memory_mb=512, args=(), eal=(),
                 log_path=None):
        self.prefix = f"tpmd{uid()}"
        # stdbuf: testpmd prints with stdio, which a pipe would buffer past the prompt.
        cmd = ["stdbuf", "-o0", "-e0", TESTPMD, f"--lcores={lcores}", "--no-pci",
               "--in-memory", "--single-file-segments", "-m", str(memory_mb),
               f"--file-prefix={self.prefix}"]
        for v in vdevs:
            cmd += ["--vdev", v]
        cmd += list(eal) + ["--", "-i"] + list(args)
        self.cmdline = cmd
        self.log = open(log_path, "wb") if log_path else None
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        # Read all the time, not only while a command waits: between commands testpmd logs
        # (vhost-user messages, port events, a burst of them per memory hotplug of a
        # virtio-user peer), and once the pipe's 64 KiB are full its vhost thread blocks
        # writing them mid-handshake, so its peer waits forever for a reply.
        self._cv = threading.Condition()
        self._buf = b""  # output not yet returned by a command
        self._tail = b""  # the last of all output, for errors
        self._eof = False
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()
        cleanup.add(self.kill)
        self._read_until(PROMPT, 60)

    def _drain(self):
        fd = self.proc.stdout.fileno()
        while True:
            try:
                d = os.read(fd, 65536)
            except OSError:
                d = b""
            with self._cv:
                if not d:
                    self._eof = True
                    self._cv.notify_all()
                    return
                self._buf = (self._buf + d)[-OUTPUT_KEPT:]  # a command's is far less
                self._tail = (self._tail + d)[-OUTPUT_TAIL:]
                if self.log and not self.log.closed:
                    self.log.write(d)
                    self.log.flush()
                self._cv.notify_all()

    def _read_until(self, token, timeout):
        """The output up to and including token (the rest stays for the next call)."""
        deadline = time.monotonic() + timeout
        with self._cv:
            while token not in self._buf:
                left = deadline - time.monotonic()
                if self._eof:
                    self.proc.wait(10)
                    raise TestpmdError(f"testpmd exited ({self.proc.returncode}): "
                                       f"{self._tail.decode(errors='replace')[-3000:]}")
                if left <= 0:
                    raise TestpmdError(f"testpmd: no prompt after {timeout}s: "
                                       f"{self._tail.decode(errors='replace')[-3000:]}")
                self._cv.wait(left)
            end = self._buf.index(token) + len(token)
            out, self._buf = self._buf[:end], self._buf[end:]
        return out.decode(errors="replace")

    def cmd(self, line, timeout=30):
        with self._cv:
            self._buf = b""  # what it logged since the last prompt is not this command's
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()
        return self._read_until(PROMPT, timeout)

    def port_stats(self, port):
        out = self.cmd(f"show port stats {port}")

        def num(label):
            m = re.search(rf"{label}:\s+(\d+)", out)
            if not m:
                raise TestpmdError(f"no {label} in: {out}")
            return int(m.group(1))

        return {"rx_packets": num("RX-packets"), "rx_bytes": num("RX-bytes"),
                "rx_missed": num("RX-missed"), "rx_errors": num("RX-errors"),
                "tx_packets": num("TX-packets"), "tx_bytes": num("TX-bytes"),
                "tx_errors": num("TX-errors")}

    def link_up(self, port):
        return "Link status: up" in self.cmd(f"show port info {port}")

    def wait_link(self, port, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.link_up(port):
                return
            time.sleep(0.2)
        raise TestpmdError(f"port {port} link still down after {timeout}s")

    def quit(self, timeout=20):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write(b"quit\n")
                self.proc.stdin.flush()
            except BrokenPipeError:
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        return self.proc.returncode

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self._reader.join(10)  # EOF once it is gone (a child holding the pipe: not waited)
        if self.log:
            with self._cv:
                self.log.close()
