# SPDX-License-Identifier: BSD-3-Clause
"""Frames arriving on an interface of a namespace, read in the background."""
import socket
import threading

import tess


class Listener:
    """Calls self.on_frame for every frame arriving on iface in ns, in the background."""

    def __init__(self, ns, iface):
        self.sock = ns.raw_socket(iface)
        self.stop = False
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        self.sock.settimeout(0.2)
        while not self.stop:
            try:
                data, kind = tess.recv_frame(self.sock)
            except socket.timeout:
                continue
            except OSError:
                return
            if kind != tess.PACKET_OUTGOING:
                self.on_frame(data)

    def close(self):
        self.stop = True
        self.t.join(2)
        self.sock.close()


class Capture(Listener):
    """Every frame arriving in a namespace's interface."""

    def __init__(self, ns, iface):
        self.frames = []
        super().__init__(ns, iface)

    def on_frame(self, data):
        self.frames.append(data)

    def close(self):
        super().close()
        return self.frames
