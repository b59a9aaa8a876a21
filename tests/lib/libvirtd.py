# SPDX-License-Identifier: BSD-3-Clause
"""A libvirtd of a test's own, to stop and start under tessmgrd: run as user nobody (session
mode: its sockets and state in a private directory, nothing of the system's touched), serving
libvirt's test driver to remote clients (test+unix:///default?socket=...)."""
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time

LIBVIRTD = shutil.which("libvirtd", path="/usr/sbin:/usr/bin:/sbin")


class Libvirtd:
    def __init__(self, cleanup):
        # Not under pytest's tmp_path: its parents are root's alone (0700).
        self.dir = tempfile.mkdtemp(prefix="tess-libvirtd-")
        cleanup.add(shutil.rmtree, self.dir, ignore_errors=True)
        cleanup.add(self.stop)
        user = pwd.getpwnam("nobody")
        os.chown(self.dir, user.pw_uid, user.pw_gid)
        self.sock = os.path.join(self.dir, "run", "libvirt", "libvirt-sock")
        self.uri = f"test+unix:///default?socket={self.sock}"
        self.log_path = os.path.join(self.dir, "libvirtd.log")
        self.proc = None

    def start(self, timeout=30):
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": self.dir,
               "XDG_RUNTIME_DIR": os.path.join(self.dir, "run"),
               "XDG_CONFIG_HOME": os.path.join(self.dir, "config"),
               "XDG_CACHE_HOME": os.path.join(self.dir, "cache")}
        if os.path.exists(self.sock):
            os.unlink(self.sock)
        with open(self.log_path, "a") as log:
            self.proc = subprocess.Popen(
                ["setpriv", "--reuid", "nobody", "--regid", "nogroup", "--clear-groups",
                 LIBVIRTD], env=env, stdout=log, stderr=subprocess.STDOUT, cwd=self.dir)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"libvirtd exited with {self.proc.returncode}")
            if os.path.exists(self.sock):
                return self
            time.sleep(0.05)
        raise RuntimeError(f"libvirtd: no socket {self.sock} after {timeout}s")

    def freeze(self, frozen=True):
        """SIGSTOP (a peer that hangs, its socket open) or SIGCONT."""
        self.proc.send_signal(signal.SIGSTOP if frozen else signal.SIGCONT)

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.send_signal(sig)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
