# SPDX-License-Identifier: BSD-3-Clause
"""A libvirtd of a test's own, to stop and start under tessmgrd.

driver "test": run as user nobody (session mode: its sockets and state in a private
directory, nothing of the system's touched), serving libvirt's test driver to remote clients
(test+unix:///default?socket=...).

driver "qemu": real guests. A session libvirtd cannot tune CPUs (no cgroups), which every
desktop tessmgrd defines does, so this one runs as root in system mode, in a mount namespace
of its own where its directories (/etc/libvirt, /run/libvirt, /var/lib/libvirt,
/var/cache/libvirt, /var/log/libvirt) are bind mounts of a private directory: the system's
are not touched and its socket is reachable outside (qemu+unix:///system?socket=...). Its
qemu.conf runs QEMU as root (the test's tessd serves vhost-user sockets as root), with no
security driver or ownership changes and the guests' logs in files (no virtlogd spawned).
stop() destroys the guests before libvirtd stops (it leaves them running when it exits).

A QEMU libvirtd probes QEMU's capabilities at its first connection (about 8 s here), into its
cache directory: the probe's files are kept in CAPS_CACHE between runs and given to every
new libvirtd (libvirt checks them against the QEMU binary and itself, and probes again when
they do not match)."""
import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time

LIBVIRTD = shutil.which("libvirtd", path="/usr/sbin:/usr/bin:/sbin")
CAPS_CACHE = os.path.join(os.environ.get("TESS_GUEST_CACHE", "/var/tmp/tessera-guest"),
                          "libvirt-qemu-caps")
# A system-mode libvirtd's directories, each over one of the private directory.
MOUNTS = {"etc": "/etc/libvirt", "run": "/run/libvirt", "lib": "/var/lib/libvirt",
          "cache": "/var/cache/libvirt", "log": "/var/log/libvirt"}


class Libvirtd:
    def __init__(self, cleanup, driver="test"):
        # Not under pytest's tmp_path: its parents are root's alone (0700).
        self.dir = tempfile.mkdtemp(prefix="tess-libvirtd-")
        cleanup.add(shutil.rmtree, self.dir, ignore_errors=True)
        cleanup.add(self.stop)
        user = pwd.getpwnam("nobody")
        os.chown(self.dir, user.pw_uid, user.pw_gid)
        self.sock = os.path.join(self.dir, "run", "libvirt", "libvirt-sock")
        self.driver = driver
        if driver == "qemu":
            self.sock = os.path.join(self.dir, "run", "libvirt-sock")
            self.uri = f"qemu+unix:///system?socket={self.sock}"
            for d in MOUNTS:
                os.makedirs(os.path.join(self.dir, d))
            self.caps = os.path.join(self.dir, "cache", "qemu", "capabilities")
            os.makedirs(self.caps)
            for f in glob.glob(os.path.join(CAPS_CACHE, "*.xml")):
                shutil.copy2(f, self.caps)
            with open(os.path.join(self.dir, "etc", "qemu.conf"), "w") as f:
                f.write('user = "root"\ngroup = "root"\ndynamic_ownership = 0\n'
                        'remember_owner = 0\nsecurity_driver = "none"\n'
                        'stdio_handler = "file"\n')
            with open(os.path.join(self.dir, "etc", "libvirtd.conf"), "w") as f:
                f.write('unix_sock_rw_perms = "0700"\nauth_unix_rw = "none"\n')
        else:
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
        if self.driver == "qemu":
            script = "set -e; mount --make-rprivate /\n"
            for d, target in MOUNTS.items():
                script += f"mkdir -p {target}; mount --bind {os.path.join(self.dir, d)} {target}\n"
            script += f"exec {LIBVIRTD} --pid-file {os.path.join(self.dir, 'libvirtd.pid')}\n"
            cmd = ["unshare", "--mount", "sh", "-c", script]  # execs: libvirtd's pid
            env = {"PATH": env["PATH"], "HOME": self.dir}
        else:
            cmd = None
        with open(self.log_path, "a") as log:
            self.proc = subprocess.Popen(
                cmd or ["setpriv", "--reuid", "nobody", "--regid", "nogroup", "--clear-groups",
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

    def virsh(self, *args, check=True, timeout=60):
        r = subprocess.run(["virsh", "-q", "-c", self.uri] + list(args), capture_output=True,
                           text=True, timeout=timeout)
        if check and r.returncode != 0:
            raise RuntimeError(f"virsh {' '.join(args)}: rc {r.returncode}: {r.stderr.strip()}")
        return r

    def qemu_pids(self):
        """The pids of this libvirtd's running guests (from their pid files)."""
        pids = []
        # /run/libvirt/qemu/<name>.pid
        for p in glob.glob(os.path.join(self.dir, "run", "qemu", "*.pid")):
            try:
                with open(p) as f:
                    pid = int(f.read().strip())
                with open(f"/proc/{pid}/stat") as f:
                    state = f.read().rpartition(")")[2].split()[0]
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    qemu = b"qemu" in f.read()
            except (OSError, ValueError, IndexError):
                continue
            if state != "Z" and qemu:  # not a zombie, nor a pid reused
                pids.append(pid)
        return pids

    def stop_guests(self):
        """Destroys every running guest: through libvirtd when it answers, else their QEMUs
        killed by pid."""
        if self.driver != "qemu":
            return
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            r = self.virsh("list", "--name", check=False, timeout=30)
            for name in r.stdout.split() if r.returncode == 0 else []:
                self.virsh("destroy", name, check=False, timeout=30)
        for pid in self.qemu_pids():
            os.kill(pid, signal.SIGKILL)
        deadline = time.time() + 10
        while self.qemu_pids() and time.time() < deadline:
            time.sleep(0.05)

    def keep_caps(self):
        """Keeps the capabilities libvirtd probed for the next libvirtds."""
        os.makedirs(CAPS_CACHE, exist_ok=True)
        for f in glob.glob(os.path.join(self.caps, "*.xml")):
            tmp = os.path.join(CAPS_CACHE, f".{os.path.basename(f)}.{os.getpid()}")
            shutil.copy2(f, tmp)
            os.rename(tmp, os.path.join(CAPS_CACHE, os.path.basename(f)))

    def stop(self, sig=signal.SIGTERM):
        if self.driver == "qemu":
            self.keep_caps()
        self.stop_guests()
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.send_signal(sig)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
