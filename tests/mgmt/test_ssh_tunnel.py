# SPDX-License-Identifier: BSD-3-Clause
"""A remote host's tessd through an OpenSSH Unix-socket forward (ssh:// addresses).

A real sshd (Debian's openssh-server, run directly) listens on a non-standard port in a
network namespace of its own; the host tessd runs beside it in a mount namespace where its
control socket sits on a private tmpfs, so that tessmgrd (in the test's namespaces) can reach
it only through sshd.
"""
import json
import os
import signal
import subprocess
import time

import pytest

import sshd
import tess
from mgr import ACME, BRAVO, Mgr

SSHD = sshd.SSHD
PORT = 2222
pytestmark = pytest.mark.skipif(not os.path.exists(SSHD), reason="no sshd (make deps)")


def _pids_of(name, pred=lambda pid: True):
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/comm") as f:
                    if f.read().strip() == name and pred(int(d)):
                        out.append(int(d))
            except OSError:
                pass
    return out


def _cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


class Remote:
    """The remote host: a netns with an address, a mount namespace hiding tessd's socket,
    sshd and tessd in both."""

    def __init__(self, cleanup, tmp):
        self.cleanup, self.dir = cleanup, tmp
        n = os.getpid() % 100000
        self.ns = f"tsshfwd-{n}"
        out, inn = f"tsf{n}a", f"tsf{n}b"
        sub = os.getpid() % 250
        self.ip = f"10.250.{sub}.2"
        tess.sh("ip", "netns", "add", self.ns)
        cleanup.add(tess.sh, "ip", "netns", "del", self.ns, check=False)
        tess.sh("ip", "link", "add", out, "type", "veth", "peer", "name", inn)
        cleanup.add(tess.sh, "ip", "link", "del", out, check=False)
        tess.sh("ip", "link", "set", inn, "netns", self.ns)
        tess.sh("ip", "addr", "add", f"10.250.{sub}.1/30", "dev", out)
        tess.sh("ip", "link", "set", out, "up")
        tess.sh("ip", "addr", "add", f"{self.ip}/30", "dev", inn, ns=self.ns)
        tess.sh("ip", "link", "set", inn, "up", ns=self.ns)
        tess.sh("ip", "link", "set", "lo", "up", ns=self.ns)
        # The mount namespace: a holder process whose tmpfs hides the socket's directory.
        self.hidden = os.path.join(tmp, "hidden")
        os.makedirs(self.hidden)
        self.holder = subprocess.Popen(
            ["unshare", "--mount", "--propagation", "private", "sh", "-c",
             f"mount -t tmpfs -o mode=0700 tmpfs {self.hidden} && echo ok && exec sleep 100000"],
            stdout=subprocess.PIPE, text=True)
        cleanup.add(self._stop_holder)
        assert self.holder.stdout.readline().strip() == "ok"
        self.socket = os.path.join(self.hidden, "tessd.sock")
        self.prefix = ["nsenter", f"--mount=/proc/{self.holder.pid}/ns/mnt",
                       f"--net=/run/netns/{self.ns}", "--"]
        self._keys()

    def _stop_holder(self):
        self.holder.kill()
        self.holder.wait(10)

    def _keys(self):
        k = sshd.keys(self.dir, self.ip, PORT)
        self.id, self.known_hosts = k["id_ed25519"], k["known_hosts"]
        self.sshd_config = os.path.join(self.dir, "sshd_config")
        sshd.config(self.sshd_config, self.ip, PORT, k)

    def start_sshd(self):
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # its privilege separation dir
        self.sshd = subprocess.Popen(self.prefix + [SSHD, "-D", "-f", self.sshd_config, "-E",
                                                    os.path.join(self.dir, "sshd.log")])
        self.cleanup.add(self.stop_sshd)
        tess.wait_for(lambda: subprocess.run(
            ["ip", "netns", "exec", self.ns, "ss", "-Hltn", f"sport = :{PORT}"],
            capture_output=True, text=True).stdout.strip(), 10, "sshd listening")

    def sshd_pids(self):
        ns = os.stat(f"/run/netns/{self.ns}").st_ino
        return _pids_of("sshd", lambda p: os.stat(f"/proc/{p}/ns/net").st_ino == ns)

    def stop_sshd(self):
        """sshd and its session children (which outlive the listener)."""
        for pid in self.sshd_pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.sshd.wait(10)
        tess.wait_for(lambda: not self.sshd_pids(), 10, "sshd gone")

    def start_tessd(self):
        t = tess.Tessd(self.cleanup, self.dir, control={"socket": self.socket})
        t.socket = self.socket
        t.write_config()
        t.logf = open(t.log_path, "w")
        t.proc = subprocess.Popen(self.prefix + [tess.TESSD, "-c", t.config_path], stdout=t.logf,
                                  stderr=subprocess.STDOUT)
        self.cleanup.add(t._kill)
        self.tessd = t
        tess.wait_for(lambda: self.tessctl("status", check=False).returncode == 0, 30,
                      f"tessd ready:\n{t.log()}")
        return t

    def tessctl(self, *args, check=True):
        r = subprocess.run(self.prefix + [tess.TESSCTL, "-s", self.socket, "--json"] + list(args),
                           capture_output=True, text=True, timeout=30)
        if check and r.returncode:
            raise AssertionError(f"tessctl {args}: {r.stderr}")
        return r

    def ports(self):
        return {p["name"]: p for p in json.loads(self.tessctl("port", "list").stdout)}


def _ssh_children(m):
    """ssh processes that serve this tessmgrd's tunnels (their -L names its state dir)."""
    return [p for p in _pids_of("ssh") if os.path.join(m.state, "ssh") in _cmdline(p)]


def test_remote_tessd_through_an_ssh_tunnel(cleanup, tmp_path):
    r = Remote(cleanup, str(tmp_path))
    r.start_sshd()
    r.start_tessd()
    assert not os.path.exists(r.socket)  # only sshd's side of the world sees it
    m = Mgr(cleanup, tmp_path, config={"ssh": {
        "identity_file": r.id, "known_hosts": r.known_hosts, "connect_timeout_sec": 5,
        "alive_interval_sec": 2, "restart_max_sec": 2}, "libvirt": {"health_sec": 2}}).start()
    addr = f"ssh://root@{r.ip}:{PORT}{r.socket}"
    m.site_h1("acme", "bravo", tessd=addr, vhost_dir=m.vhost_dir())
    # Started on first use (tessmgrd's network ticker may be first).
    assert m.ok("GET", "hosts/h1")["tessd_tunnel"]["state"] in ("unused", "starting", "up")

    # A desktop's port appears on the remote tessd, in its tenant's group.
    a = m.desktop("a1", ACME)
    ports = r.ports()
    assert ports[a["port"]]["groups"] == ["acme-net"]
    h = m.ok("GET", "hosts/h1")
    assert h["tessd"] == addr and h["tessd_tunnel"]["state"] == "up", h
    pid = h["tessd_tunnel"]["pid"]
    assert _ssh_children(m) == [pid]

    # The ssh child dies: tessmgrd starts another, and the tunnel serves again.
    os.kill(pid, signal.SIGKILL)
    tess.wait_for(lambda: m.ok("GET", "hosts/h1")["tessd_tunnel"]["pid"] not in (0, pid) and
                  m.ok("GET", "hosts/h1")["tessd_tunnel"]["state"] == "up", 20, "tunnel back")
    t = m.ok("GET", "hosts/h1")["tessd_tunnel"]
    assert t["lost"] == 1 and t["starts"] == 2, t
    # A look at the host's tessd while the tunnel was down found it not answering: placement
    # takes the host again once a look finds it back.
    tess.wait_for(lambda: m.ok("GET", "hosts/h1")["tessd_status"]["up"], 20, "tessd back")
    a2 = m.desktop("a2", ACME)
    assert a2["port"] in r.ports()

    # sshd stops: the tunnel is down, shown as such; the host's tessd is found not answering
    # at its next look (every health_sec), naming the address; placement refuses the host,
    # and nothing changes (no port, no domain, no vCPUs used, no desktop).
    before = m.ok("GET", "hosts/h1")
    r.stop_sshd()
    tess.wait_for(lambda: m.ok("GET", "hosts/h1")["tessd_tunnel"]["state"] != "up", 20,
                  "tunnel down")
    t = m.ok("GET", "hosts/h1")["tessd_tunnel"]
    assert t["error"], t
    # The reason is the tunnel's last error: first how ssh died ("closed by remote host", or
    # "Connection refused" on the tunnel's own socket), then, once ssh was tried again, sshd's
    # refusal.
    def refused():
        why = m.ok("GET", "hosts/h1")["tessd_status"].get("down_reason", "")
        return "ssh tunnel to" in why and "Connection refused" in why
    tess.wait_for(refused, 30, "the host's tessd found not answering, its tunnel down, sshd "
                  "refusing")
    st = m.ok("GET", "hosts/h1")["tessd_status"]
    assert st["down_reason"].startswith(f"tessd {addr}: ssh tunnel to {r.ip} down"), st
    assert st["downs"] >= 1, st
    status, ans = m.call("POST", "desktops", {"name": "b1", "model": "std"}, token=BRAVO)
    assert status == 409, ans
    assert ans["error"]["detail"]["hosts"]["h1"] == \
        "has a tessd that does not answer (see its tessd.down_reason)", ans
    assert m.ok("GET", "hosts/h1")["vcpus_used"] == before["vcpus_used"]
    assert set(r.ports()) == {a["port"], a2["port"]}
    assert "bravo-net" not in {g["name"] for g in json.loads(r.tessctl("group", "list").stdout)}

    # tessmgrd stops: no ssh left behind.
    m.stop()
    assert _ssh_children(m) == []


def test_no_ssh_left_after_a_tessmgrd_crash(cleanup, tmp_path):
    r = Remote(cleanup, str(tmp_path))
    r.start_sshd()
    r.start_tessd()
    m = Mgr(cleanup, tmp_path, config={"ssh": {
        "identity_file": r.id, "known_hosts": r.known_hosts, "connect_timeout_sec": 5}}).start()
    m.site_h1("acme", tessd=f"ssh://root@{r.ip}:{PORT}{r.socket}", vhost_dir=m.vhost_dir())
    m.desktop("a1", ACME)
    pids = _ssh_children(m)
    assert len(pids) == 1
    m.proc.kill()  # SIGKILL: no shutdown code runs
    m.proc.wait(10)
    tess.wait_for(lambda: not os.path.exists(f"/proc/{pids[0]}"), 10, "ssh killed with tessmgrd")


def test_ssh_errors_name_the_host_and_the_address(cleanup, tmp_path):
    """Auth refused (a key sshd does not know) and a remote socket that is missing."""
    r = Remote(cleanup, str(tmp_path))
    r.start_sshd()
    r.start_tessd()
    other = os.path.join(str(tmp_path), "other_key")
    tess.sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", other)
    m = Mgr(cleanup, tmp_path, config={"ssh": {
        "identity_file": other, "known_hosts": r.known_hosts, "connect_timeout_sec": 5}}).start()
    addr = f"ssh://root@{r.ip}:{PORT}{r.socket}"
    m.site_h1("acme", tessd=addr, vhost_dir=m.vhost_dir())
    # The host's tessd was looked at when the host was added: its tunnel is down, and
    # placement does not take the host.
    h = m.ok("GET", "hosts/h1")
    assert h["up"] and not h["tessd_status"]["up"], h
    assert addr in h["tessd_status"]["down_reason"], h
    assert "Permission denied" in h["tessd_status"]["down_reason"], h
    assert h["tessd_tunnel"]["state"] == "down", h
    status, ans = m.call("POST", "desktops", {"name": "a1", "model": "std"}, token=ACME)
    assert status == 409, ans
    assert ans["error"]["detail"]["hosts"]["h1"] == \
        "has a tessd that does not answer (see its tessd.down_reason)", ans
    assert r.ports() == {}
    # Right key, wrong path on the remote host: the tunnel comes up, tessd is not there.
    m.stop()
    m.config["ssh"]["identity_file"] = r.id
    m.start()
    missing = f"ssh://root@{r.ip}:{PORT}/run/no-such-tessd.sock"
    body = m.host_spec("h1", tessd=missing)
    h = m.ok("PUT", "hosts/h1", body)
    assert not h["tessd_status"]["up"] and h["tessd_tunnel"]["state"] == "up", h
    assert missing in h["tessd_status"]["down_reason"], h
    assert "is tessd running there" in h["tessd_status"]["down_reason"], h
    assert m.call("POST", "desktops", {"name": "a2", "model": "std"}, token=ACME)[0] == 409
    # Addresses that are not one are refused at the host's path.
    for bad in ("ssh://root@h", "ssh://-oProxyCommand=x/tmp/s", "tcp://h/x", "rel/path",
                "ssh://h:99999/x"):
        body["tessd"] = bad
        code, ans = m.call("PUT", "hosts/h1", body)
        assert code == 400 and "/tessd" in json.dumps(ans), (bad, ans)
    # A tunnel no host has any more is stopped: the host given another address, or deleted.
    # (The events relay lets the old address's go within its next look, a second.)
    tess.wait_for(lambda: len(_ssh_children(m)) == 1, 10, "one tunnel")
    (old,) = _ssh_children(m)  # the missing path's tunnel
    body["tessd"] = addr
    m.ok("PUT", "hosts/h1", body)
    tess.wait_for(lambda: old not in _ssh_children(m), 10, "the old address's ssh stopped")
    a3 = m.desktop("a3", ACME)
    assert a3["port"] in r.ports() and len(_ssh_children(m)) == 1
    m.wait_job(m.ok("DELETE", f"desktops/{a3['id']}", token=ACME)["job"]["id"], token=ACME)
    assert r.ports() == {}
    # The same tessd written another way (the IPv4 host in brackets) is the same tunnel:
    # not started again, nor stopped as the old spelling's, and the relay keeps to it.
    (kept,) = _ssh_children(m)
    body["tessd"] = f"ssh://root@[{r.ip}]:{PORT}{r.socket}"
    h = m.ok("PUT", "hosts/h1", body)
    assert h["tessd_status"]["up"] and h["tessd_tunnel"]["pid"] == kept, h
    time.sleep(1.5)  # the relay's next look at the hosts (a second)
    assert _ssh_children(m) == [kept] and m.ok("GET", "hosts/h1")["tessd_tunnel"]["pid"] == kept
    m.ok("DELETE", "hosts/h1")
    tess.wait_for(lambda: not _ssh_children(m), 10, "the deleted host's ssh stopped")
