# SPDX-License-Identifier: BSD-3-Clause
"""A stand-in for systemd's notify socket: a datagram socket a daemon started with
NOTIFY_SOCKET pointing at it sends READY=1, WATCHDOG=1, STOPPING=1... to (sd_notify(3))."""
import os
import socket
import time

import tess


class NotifySocket:
    def __init__(self, cleanup, tmp_path, abstract=False):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        if abstract:
            name = f"tess-notify-{tess.uid()}"
            self.sock.bind("\0" + name)
            self.env = "@" + name
        else:
            self.env = os.path.join(str(tmp_path), f"notify-{tess.uid()}.sock")
            self.sock.bind(self.env)
        cleanup.add(self.sock.close)
        self.seen = []  # (monotonic time, message) in arrival order

    def recv(self, timeout):
        """The next message, or None after timeout seconds."""
        self.sock.settimeout(timeout)
        try:
            msg = self.sock.recv(4096).decode()
        except socket.timeout:
            return None
        self.seen.append((time.monotonic(), msg))
        return msg

    def wait_for(self, want, timeout, on_each=None):
        """Messages until one whose lines include want; on_each(msg) sees each first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msg = self.recv(max(0.01, deadline - time.monotonic()))
            if msg is None:
                break
            if on_each:
                on_each(msg)
            if want in msg.split("\n"):
                return msg
        raise AssertionError(f"no {want} in {timeout}s; got {[m for _, m in self.seen]}")

    def count(self, want, seconds):
        """How many messages with want arrive in the next seconds."""
        n = 0
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            msg = self.recv(max(0.01, deadline - time.monotonic()))
            if msg is not None and want in msg.split("\n"):
                n += 1
        return n
