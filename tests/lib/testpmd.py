# SPDX-License-Identifier: BSD-3-Clause
"""Drives DPDK testpmd interactively: the VM side of vhost-user ports, a
traffic generator, or (in benchmarks) the reference DUT."""
import os
import re
import shutil
import subprocess
import time

from tess import uid

TESTPMD = shutil.which("dpdk-testpmd") or "/usr/bin/dpdk-testpmd"
PROMPT = b"testpmd> "


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
        os.set_blocking(self.proc.stdout.fileno(), False)
        cleanup.add(self.kill)
        self.out = b""
        self._read_until(PROMPT, 60)

    def _read_until(self, token, timeout):
        buf = b""
        deadline = time.time() + timeout
        while time.time() < deadline:
            d = self.proc.stdout.read()
            if d:
                buf += d
                if self.log:
                    self.log.write(d)
                    self.log.flush()
                if token in buf:
                    self.out += buf
                    return buf.decode(errors="replace")
            elif self.proc.poll() is not None:
                raise TestpmdError(f"testpmd exited ({self.proc.returncode}): "
                                   f"{(self.out + buf).decode(errors='replace')[-3000:]}")
            else:
                time.sleep(0.02)
        raise TestpmdError(f"testpmd: no prompt after {timeout}s: "
                           f"{(self.out + buf).decode(errors='replace')[-3000:]}")

    def cmd(self, line, timeout=30):
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
        if self.log:
            self.log.close()
