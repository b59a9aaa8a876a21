# SPDX-License-Identifier: BSD-3-Clause
"""A tessd control socket played by the test itself, for what a real tessd will not do on
cue: hang, race, garble a line."""
import socket
import threading


def read_line(s):
    """What socket s sends up to a newline, or to its end."""
    buf = b""
    while b"\n" not in buf:
        d = s.recv(65536)
        if not d:
            break
        buf += d
    return buf


class FakeTessd:
    """A socket at path: a thread accepts its connections and gives each to handle(), one at
    a time, or each on a thread of its own with threaded (an OSError or ValueError there
    ends that one)."""
    threaded = False

    def __init__(self, cleanup, path):
        self.path = path
        self.srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.srv.bind(path)
        self.srv.listen(16)
        cleanup.add(self.srv.close)
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                c, _ = self.srv.accept()
            except OSError:
                return
            if self.threaded:
                threading.Thread(target=self.handle_one, args=(c,), daemon=True).start()
            else:
                self.handle_one(c)

    def handle_one(self, c):
        try:
            self.handle(c)
        except (OSError, ValueError):
            pass

    def handle(self, c):
        raise NotImplementedError
