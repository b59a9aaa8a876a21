# SPDX-License-Identifier: BSD-3-Clause
"""`make image` (README "Appliance image"): the appliance is built from the Tessera .debs
(`make deb`, or the files in $TESS_IMAGE_DEBS), booted in QEMU (TCG) through its own disk
and bootloader, exactly as a user gets it, and checked over its serial console: root logs
in (no password on the console), tessd is active with the package's
/etc/tessera/tessd.json, `tessctl status` answers, `tessd --version` prints, the kernel
reserved the hugepages of its command line.

The image is kept in $TESS_IMAGE_CACHE/images (default /var/cache/tessera-image) under the
hash of the .debs and of image/, so a second run boots without building; apt's downloads
are kept there too. Building needs the Debian mirror: when it cannot be reached the test
is skipped, saying so, except under CI=true where it fails."""
import glob
import hashlib
import os
import re
import subprocess
import threading
import time

import pytest

from debs import ROOT, built, require_mirror, run

CACHE = os.environ.get("TESS_IMAGE_CACHE", "/var/cache/tessera-image")
BOOT_TIMEOUT = int(os.environ.get("TESS_IMAGE_BOOT_TIMEOUT", "900"))


@pytest.fixture(scope="module")
def debs(tmp_path_factory):
    given = os.environ.get("TESS_IMAGE_DEBS")
    if given:
        found = sorted(glob.glob(given))
        found = [d for d in found if "-dbgsym_" not in d]
        assert found, f"no .debs match {given}"
        return found
    return built(tmp_path_factory.mktemp("deb"))


@pytest.fixture(scope="module")
def image(debs):
    h = hashlib.sha256()
    for f in sorted(debs) + sorted(glob.glob(os.path.join(ROOT, "image", "*"))):
        h.update(os.path.basename(f).encode())
        with open(f, "rb") as fh:
            h.update(hashlib.sha256(fh.read()).digest())
    path = os.path.join(CACHE, "images", f"tessera-appliance-{h.hexdigest()[:16]}.qcow2")
    if os.path.exists(path):
        print(f"image: reusing {path}")
        return path
    require_mirror("the image cannot be built")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    for old in glob.glob(os.path.join(CACHE, "images", "*.qcow2")):
        os.unlink(old)  # one image is kept, the newest
    t0 = time.monotonic()
    r = run("make", "-C", ROOT, "image", f"IMAGE={path}", "IMAGE_DEBS=" + " ".join(debs),
            timeout=3600)
    print(r.stdout.splitlines()[-1])
    print(f"make image: {time.monotonic() - t0:.0f} s")
    return path


class Console:
    """The guest's serial console on QEMU's stdio: everything read is kept (and logged)."""

    def __init__(self, argv, log):
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT)
        self.buf = ""
        self.lock = threading.Lock()
        self.log = open(log, "w")
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        while True:
            b = self.p.stdout.read1(4096)
            if not b:
                return
            s = b.decode(errors="replace")
            self.log.write(s)
            self.log.flush()
            with self.lock:
                self.buf += s

    def expect(self, pattern, timeout, start=0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                m = re.compile(pattern, re.S).search(self.buf, start)
            if m:
                return m
            if self.p.poll() is not None:
                raise AssertionError(f"QEMU exited {self.p.returncode}:\n{self.buf[-3000:]}")
            time.sleep(0.2)
        raise AssertionError(f"no {pattern!r} in {timeout} s:\n{self.buf[-3000:]}")

    def send(self, text):
        self.p.stdin.write(text.encode())
        self.p.stdin.flush()

    def sh(self, cmd, timeout=120):
        """cmd's output and exit status; the markers are built by the shell so that the
        echoed command line does not match them."""
        with self.lock:
            start = len(self.buf)
        n = os.urandom(4).hex()
        self.send(f"echo T{n}''B; {cmd}; echo T{n}''E $?\n")
        m = self.expect(rf"T{n}B\r?\n(.*?)T{n}E (\d+)", timeout, start)
        return m.group(1).replace("\r", ""), int(m.group(2))

    def close(self):
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait()
        self.log.close()


@pytest.fixture(scope="module")
def guest(image, tmp_path_factory):
    d = tmp_path_factory.mktemp("boot")
    # The image's own MBR, extlinux and kernel command line: no -kernel/-append. The
    # overlay keeps the cached image unchanged; tessd's example needs 2 CPUs (workers [1]).
    argv = ["qemu-system-x86_64", "-machine", "pc", "-accel", "tcg,thread=multi", "-cpu", "max",
            "-smp", "2", "-m", "1536", "-nodefaults", "-no-user-config", "-display", "none",
            "-serial", "stdio", "-drive", f"file={image},if=virtio,snapshot=on",
            # A management NIC (user networking, DHCP from QEMU), as an appliance has.
            "-nic", "user,model=virtio-net-pci"]
    t0 = time.monotonic()
    con = Console(argv, str(d / "console.log"))
    try:
        con.expect(r"tessera login:", BOOT_TIMEOUT)
        print(f"boot to login: {time.monotonic() - t0:.0f} s (TCG)")
        con.send("root\n")
        con.expect(r"root@tessera:~# ", 120)
        # Kernel messages on ttyS0 would mix with the commands' output.
        con.send("dmesg -n 1; export TERM=dumb PAGER=cat SYSTEMD_PAGER=; stty -echo\n")
        yield con
    finally:
        con.close()


def test_booted_through_its_own_bootloader(guest):
    assert "SYSLINUX" in guest.buf or "EXTLINUX" in guest.buf, guest.buf[:2000]
    out, rc = guest.sh("cat /proc/cmdline")
    assert "console=ttyS0" in out and "hugepages=" in out, out
    want = int(re.search(r"hugepages=(\d+)", out).group(1))
    out, _ = guest.sh("grep HugePages_Total /proc/meminfo")
    assert int(out.split()[1]) == want, out


def test_tessd_active(guest):
    deadline = time.monotonic() + 180
    while True:
        out, _ = guest.sh("systemctl is-active tessd")
        if out.strip() == "active" or time.monotonic() > deadline:
            break
        assert out.strip() in ("activating", "inactive"), \
            guest.sh("systemctl status --no-pager -l tessd; journalctl -b -u tessd --no-pager")[0]
        time.sleep(3)
    assert out.strip() == "active", guest.sh("journalctl -b -u tessd --no-pager")[0]
    out, _ = guest.sh("systemctl is-enabled tessd")
    assert out.strip() == "enabled", out


def test_tessctl_status_answers(guest):
    out, rc = guest.sh("tessctl status")
    assert rc == 0, out
    assert "0.1" in out or "version" in out, out
    out, rc = guest.sh("tessctl --json status")
    assert rc == 0 and '"hugepages"' in out, out


def test_tessd_version(guest):
    out, rc = guest.sh("tessd --version")
    assert rc == 0 and out.startswith("tessd "), out
    assert "DPDK" in out, out
    out, rc = guest.sh("dpkg-query -W -f '${Status}' tessera")
    assert out.strip() == "install ok installed", out


def test_no_failed_units(guest):
    out, _ = guest.sh("systemctl --failed --no-legend --plain")
    assert out.strip() == "", out
