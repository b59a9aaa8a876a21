# SPDX-License-Identifier: BSD-3-Clause
"""Debian's OpenSSH server (openssh-server, run directly) as the ssh end of a remote host in
tessmgrd's tests: its host key and a client key made here, the client key authorized as
README advises (`restrict,port-forwarding`), a known_hosts line for the client, and its
config; started on a port of ours."""
import os
import signal
import subprocess

import tess

SSHD = "/usr/sbin/sshd"


def keys(d, host, port):
    """Under d: host_key, id_ed25519 (the client's), authorized_keys, known_hosts (for
    [host]:port); their paths by those names."""
    k = {name: os.path.join(d, name) for name in
         ("host_key", "id_ed25519", "authorized_keys", "known_hosts")}
    for name in ("host_key", "id_ed25519"):
        tess.sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", k[name])
    with open(k["id_ed25519"] + ".pub") as f, open(k["authorized_keys"], "w") as out:
        out.write("restrict,port-forwarding " + f.read())  # as README advises
    with open(k["host_key"] + ".pub") as f, open(k["known_hosts"], "w") as out:
        kind, key = f.read().split()[:2]
        out.write(f"[{host}]:{port} {kind} {key}\n")
    return k


def config(path, host, port, k, log_level="VERBOSE"):
    """sshd_config at path: listening on host:port, keys k (keys()), root by key only."""
    with open(path, "w") as f:
        f.write(f"Port {port}\nListenAddress {host}\nHostKey {k['host_key']}\n"
                f"AuthorizedKeysFile {k['authorized_keys']}\nPidFile none\nUsePAM no\n"
                "StrictModes no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
                "PermitRootLogin prohibit-password\nAllowStreamLocalForwarding yes\n"
                f"LogLevel {log_level}\n")


def _children():
    """{pid: parent pid} of every process."""
    out = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    out[int(d)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                pass
    return out


class Sshd:
    """sshd on 127.0.0.1:port in the test's own namespaces (keys and config made at once,
    started by start()), its log at log (DEBUG1: the channels it opens, a -W's
    direct-tcpip included)."""

    def __init__(self, cleanup, d, port):
        os.makedirs(d, exist_ok=True)
        self.cleanup, self.port, self.host = cleanup, port, "127.0.0.1"
        self.keys = keys(d, self.host, port)
        self.config = os.path.join(d, "sshd_config")
        self.log = os.path.join(d, "sshd.log")
        self.proc = None
        config(self.config, self.host, port, self.keys, "DEBUG1")

    def start(self):
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # its privilege separation dir
        self.proc = subprocess.Popen([SSHD, "-D", "-f", self.config, "-E", self.log])
        self.cleanup.add(self.stop)
        tess.wait_for(lambda: subprocess.run(
            ["ss", "-Hltn", f"sport = :{self.port}"], capture_output=True,
            text=True).stdout.strip(), 10, "sshd listening")
        return self

    def stop(self):
        """sshd and its sessions (which outlive the listener)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        parents, doomed = _children(), {self.proc.pid}
        grew = True
        while grew:
            more = {p for p, pp in parents.items() if pp in doomed} - doomed
            doomed |= more
            grew = bool(more)
        for pid in doomed:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait(10)

    def said(self):
        with open(self.log) as f:
            return f.read()
