# SPDX-License-Identifier: BSD-3-Clause
"""Logs (issue 15): tessmgrd and tessd under a journal (a test datagram socket named by
$TESS_JOURNAL_SOCKET, picked because $JOURNAL_STREAM names their stderr, as systemd sets
it): PRIORITY, SYSLOG_IDENTIFIER and the TESS_* fields of a job's lines; the level changed
at run time through the API and tessctl, debug lines appearing and going; bad levels
refused with 400 (or the control API's error) and the path; the stderr line's fields."""
import json
import os
import queue
import re
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time

import pytest

import tess
from mgr import ACME, PROVIDER, Mgr, write_tokens


def parse_journal(data):
    """journald's native datagram: KEY=value lines, or KEY\\n + le64 length + value + \\n."""
    fields, i = {}, 0
    while i < len(data):
        nl = data.index(b"\n", i)
        line = data[i:nl]
        if b"=" in line:
            k, v = line.split(b"=", 1)
            i = nl + 1
        else:
            k = line
            (n,) = struct.unpack("<Q", data[nl + 1:nl + 9])
            v = data[nl + 9:nl + 9 + n]
            assert data[nl + 9 + n:nl + 10 + n] == b"\n", data
            i = nl + 10 + n
        fields[k.decode()] = v.decode()
    return fields


class Journal:
    """A datagram socket read all the time, as journald (or syslogd) does: the daemons'
    journal output drops (and counts) what does not fit a queue of net.unix.max_dgram_qlen
    (10) entries. Each datagram is parse's dict; the socket at path, or a new one."""

    def __init__(self, cleanup, tmp_path, path=None, parse=parse_journal):
        if path is None:
            # A short directory: pytest's tmp_path comes near sun_path's 108 bytes.
            d = tempfile.mkdtemp(prefix="tj-", dir="/tmp")
            cleanup.add(lambda: shutil.rmtree(d, ignore_errors=True))
            path = os.path.join(d, "j.sock")
        self.path, self.parse = path, parse
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.1)
        self.q = queue.Queue()
        self.stop = False
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()
        cleanup.add(self.sock.close)
        cleanup.add(self._stop)
        self.seen = []

    def _read(self):
        while not self.stop:
            try:
                self.q.put(self.parse(self.sock.recv(65536)))
            except socket.timeout:
                continue
            except OSError:
                return

    def _stop(self):
        self.stop = True
        self.thread.join()

    def drain(self, seconds=0.3):
        """Every entry that arrives within seconds of the last one."""
        got = []
        while True:
            try:
                got.append(self.q.get(timeout=seconds))
            except queue.Empty:
                break
        self.seen += got
        return got

    def wait(self, pred, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                e = self.q.get(timeout=max(0.01, deadline - time.time()))
            except queue.Empty:
                break
            self.seen.append(e)
            if pred(e):
                return e
        raise AssertionError(f"no such entry in {timeout}s; got {self.seen[-20:]}")


# What glibc's syslog(3) sends to /dev/log: <PRI>, an RFC 3164 time, ident[pid]: message.
SYSLOG = re.compile(rb"<(\d+)>([A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d) ([^\[ ]+)\[(\d+)\]: (.*)",
                    re.S)


def parse_syslog(data):
    m = SYSLOG.fullmatch(data)
    assert m, data
    return {"pri": int(m[1]), "ident": m[3].decode(), "pid": int(m[4]), "msg": m[5].decode()}


class DevLog:
    """A /dev/log of the test's for one process: `wrap` runs it in a mount namespace of its
    own (unshare -m) whose /dev is a directory of the test's, holding the socket `path` and
    a link to each entry of the real /dev (bind-mounted beside it, submounts too). glibc's
    syslog(3) has no other path than /dev/log, and nothing of the machine's /dev changes."""

    def __init__(self, cleanup):
        d = tempfile.mkdtemp(prefix="tsl-", dir="/tmp")
        # Only empty directories and links outside the namespace: nothing below /dev here.
        cleanup.add(shutil.rmtree, d, ignore_errors=True)
        real, dev = os.path.join(d, "real"), os.path.join(d, "dev")
        os.mkdir(real)
        os.mkdir(dev)
        for name in os.listdir("/dev"):
            if name != "log":
                os.symlink(os.path.join(real, name), os.path.join(dev, name))
        self.path = os.path.join(dev, "log")
        script = (f"set -e; mount --make-rprivate /; mount --rbind /dev {real}; "
                  f'mount --bind {dev} /dev; exec "$@"')
        self.wrap = ["unshare", "--mount", "sh", "-c", script, "sh"]  # execs: the pid is its


def journal_env(log_path, journal):
    """What systemd sets when stderr is the journal: our stderr is log_path, so its dev:ino."""
    open(log_path, "a").close()
    st = os.stat(log_path)
    return {"JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}", "TESS_JOURNAL_SOCKET": journal.path}


def tessctl_mgr(m, *args, token=PROVIDER):
    return subprocess.run([tess.TESSCTL, "-m", m.url, "-T", token] + list(args),
                          capture_output=True, text=True, timeout=30)


def setup_objects(m):
    m.site_h1("acme", ratio=4.0)


def first_job(m, log, key):
    """The objects and a desktop d1 made: (tenant id, host id, desktop id, the job's end
    line from log, whose text is at key)."""
    setup_objects(m)
    tenant = m.ok("GET", "tenants/acme")["id"]
    host = m.ok("GET", "hosts/h1")["id"]
    d = m.desktop("d1", ACME)["id"]
    return tenant, host, d, log.wait(lambda e: "create of desktop" in e[key])


def test_mgr_journal_fields_and_runtime_level(cleanup, tmp_path):
    j = Journal(cleanup, tmp_path)
    m = Mgr(cleanup, tmp_path)
    m.env = journal_env(m.log_path, j)
    m.start()
    ready = j.wait(lambda e: e["MESSAGE"].startswith("ready: http://"))
    assert ready["PRIORITY"] == "5" and ready["SYSLOG_IDENTIFIER"] == "tessmgrd", ready
    assert m.ok("GET", "log") == {"level": "info", "output": "journal"}
    tenant, host, d1, done = first_job(m, j, "MESSAGE")
    assert done["PRIORITY"] == "6", done
    assert done["MESSAGE"].endswith("succeeded"), done
    assert done["TESS_DESKTOP"] == str(d1) and done["TESS_TENANT"] == str(tenant), done
    assert done["TESS_HOST"] == str(host) and int(done["TESS_JOB"]) > 0, done
    # At info: neither the job's start nor the placement (debug).
    assert not [e for e in j.seen if e["PRIORITY"] == "7"], j.seen
    assert m.ok("GET", "stats")["log"] == {"dropped": 0}  # read all along: nothing lost

    # Debug through the API: the next job's start and its placement appear.
    assert m.ok("PUT", "log", {"level": "debug"}) == {"level": "debug", "output": "journal"}
    j.wait(lambda e: e["MESSAGE"].startswith("log level debug (was info)"))
    d2 = m.desktop("d2", ACME)["id"]
    placed = j.wait(lambda e: e["MESSAGE"].startswith("placement: a std desktop"))
    assert placed["PRIORITY"] == "7" and placed["TESS_HOST"] == str(host), placed
    started = j.wait(lambda e: e["MESSAGE"].endswith("started")
                     and e.get("TESS_DESKTOP") == str(d2))
    assert started["PRIORITY"] == "7" and started["TESS_TENANT"] == str(tenant), started
    j.drain()

    # Back to info through tessctl: no debug line for the next job.
    r = tessctl_mgr(m, "log", "level", "info")
    assert r.returncode == 0 and r.stdout == "level info, output journal\n", r
    m.desktop("d3", ACME)
    got = j.drain(1.0)
    assert [e for e in got if "create of desktop" in e["MESSAGE"]], got
    assert not [e for e in got if e["PRIORITY"] == "7"], got
    r = tessctl_mgr(m, "log", "level")
    assert r.returncode == 0 and r.stdout == "level info, output journal\n", r
    # PUT /log is a change: audited.
    audit = m.ok("GET", "audit?action=PUT%20log")
    assert len(audit) == 2 and audit[0]["result"] == "200 ok", audit


def test_mgr_bad_levels_refused(cleanup, tmp_path):
    m = Mgr(cleanup, tmp_path, config={"log": {"level": "notice"}})
    m.start()
    assert m.ok("GET", "log")["level"] == "notice"
    for body, path in (({"level": "loud"}, "/level"), ({"level": 3}, "/level"),
                       ({"output": "paper"}, "/output"), ({"colour": "red"}, "/colour")):
        status, r = m.call("PUT", "log", body)
        assert status == 400 and r["error"]["path"] == path, (body, status, r)
    status, r = m.call("PUT", "log", raw=b"[1]")
    assert status == 400, r
    # Nothing half-applied, and only the provider reads or changes it.
    assert m.ok("GET", "log") == {"level": "notice", "output": "stderr"}
    assert m.call("GET", "log", token=ACME)[0] == 403
    assert m.call("PUT", "log", {"level": "debug"}, token=ACME)[0] == 403
    assert m.call("DELETE", "log")[0] == 405
    r = tessctl_mgr(m, "log", "level", "loud")
    assert r.returncode == 1 and "error 400" in r.stderr and "(at /level)" in r.stderr, r
    # --json prints the error's body as every tessmgrd command does.
    r = tessctl_mgr(m, "--json", "log", "level", "loud")
    assert r.returncode == 1 and "error 400" in r.stderr, r
    assert json.loads(r.stdout)["error"]["path"] == "/level", r
    r = tessctl_mgr(m, "--json", "log", "level")
    assert r.returncode == 0 and json.loads(r.stdout) == {"level": "notice", "output": "stderr"}, r
    assert tessctl_mgr(m, "log", "level", "info", "--type", "x").returncode == 2
    # A config with a bad level does not start.
    bad = Mgr(cleanup, tmp_path / "bad", config={"log": {"level": "chatty"}})
    with open(bad.config_path, "w") as f:
        json.dump(bad.config, f)
    r = subprocess.run([os.path.join(tess.BUILD, "mgmt", "tessmgrd"), "-c", bad.config_path,
                        "--check"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and "/log/level" in r.stderr, r


def test_mgr_stderr_line_has_the_fields(cleanup, tmp_path):
    m = Mgr(cleanup, tmp_path)
    m.start()
    setup_objects(m)
    d = m.desktop("d1", ACME)["id"]
    tess.wait_for(lambda: "create of desktop" in m.log(), 10, "the job's line")
    line = [l for l in m.log().splitlines() if "create of desktop" in l][0]
    assert re.fullmatch(rf"tessmgrd: job \d+: create of desktop {d}: succeeded "
                        rf"\[tenant=\d+ host=\d+ desktop={d} job=\d+\]", line), line
    assert "tessmgrd: ready: http://" in m.log()


@pytest.mark.skipif(os.geteuid() != 0, reason="a mount namespace needs root")
def test_mgr_syslog_datagrams(cleanup, tmp_path):
    """log.output syslog: each line one datagram to /dev/log (a socket of the test's, read
    as syslogd would), facility daemon, the level in <PRI> only, ident tessmgrd[pid], the
    fields as on stderr; nothing on stderr; switched away and back at run time."""
    dev = DevLog(cleanup)
    s = Journal(cleanup, tmp_path, path=dev.path, parse=parse_syslog)
    m = Mgr(cleanup, tmp_path, config={"log": {"output": "syslog"}})
    m.wrap = dev.wrap
    m.start()
    daemon = 3 << 3  # LOG_DAEMON
    ready = s.wait(lambda e: e["msg"].startswith("ready: http://"))
    assert ready["pri"] == daemon + 5, ready  # notice
    assert ready["ident"] == "tessmgrd" and ready["pid"] == m.proc.pid, ready
    assert m.ok("GET", "log") == {"level": "info", "output": "syslog"}
    tenant, host, d, done = first_job(m, s, "msg")
    assert done["pri"] == daemon + 6, done  # info
    assert re.fullmatch(rf"job (\d+): create of desktop {d}: succeeded "
                        rf"\[tenant={tenant} host={host} desktop={d} job=\1\]", done["msg"]), done
    # A warning: its level is the priority's, not a "warning: " in the text as on stderr.
    down = m.ok("POST", "hosts", {"name": "gone", "site": "paris", "vlans": [100],
                                  "uri": "test+unix:///default?socket=/nonexistent/sock"})
    assert not down["up"]
    warn = s.wait(lambda e: e["msg"].startswith(f"host {down['id']} is down: "))
    assert warn["pri"] == daemon + 4 and warn["msg"].endswith(f" [host={down['id']}]"), warn
    # An error: a token file SIGHUP refuses (the old tokens stay).
    tokens = open(m.tokens).read()
    write_tokens(m.tokens, {"tokens": [{"sha256": "x", "principal": "p", "role": "provider"}]})
    m.proc.send_signal(signal.SIGHUP)
    err = s.wait(lambda e: e["msg"] == "SIGHUP: tokens kept (bad file)")
    assert err["pri"] == daemon + 3, err
    with open(m.tokens, "w") as f:
        f.write(tokens)
    # Debug at run time: the placement's line, <PRI> 7.
    m.ok("PUT", "log", {"level": "debug"})
    m.desktop("d2", ACME)
    placed = s.wait(lambda e: e["msg"].startswith("placement: a std desktop"))
    assert placed["pri"] == daemon + 7, placed
    assert placed["msg"].endswith(f" [tenant={tenant} host={host}]"), placed
    # Nothing of it on stderr.
    assert "create of desktop" not in m.log() and "ready: http" not in m.log(), m.log()

    # To stderr at run time, then back: each line goes to one output only.
    assert m.ok("PUT", "log", {"output": "stderr", "level": "info"})["output"] == "stderr"
    s.drain()
    m.desktop("d3", ACME)
    tess.wait_for(lambda: "create of desktop" in m.log(), 10, "the job's line on stderr")
    assert not [e for e in s.drain() if "create of desktop" in e["msg"]], s.seen[-5:]
    assert m.ok("PUT", "log", {"output": "syslog"})["output"] == "syslog"
    s.wait(lambda e: e["msg"].startswith("log level info (was info), output syslog (by ops)"))
    m.desktop("d4", ACME)
    s.wait(lambda e: "create of desktop" in e["msg"] and "succeeded" in e["msg"])
    assert m.log().count("create of desktop") == 1, m.log()


@pytest.mark.skipif(os.geteuid() != 0, reason="tessd needs root")
def test_tessd_lines_reach_syslog_by_eal(cleanup, tmp_path):
    """tessd has no syslog output of its own: on a plain stderr EAL copies rte_log's lines
    to syslog(3), facility daemon, ident tessd[pid], rte_log's level in <PRI>, with no
    fields (the port's line names it in its text only)."""
    dev = DevLog(cleanup)
    s = Journal(cleanup, tmp_path, path=dev.path, parse=parse_syslog)
    t = tess.Tessd(cleanup, tmp_path, ports=[
        {"name": "n0", "devargs": f"net_null{tess.uid()}", "tenant": "acme"}])
    t.wrap = dev.wrap
    t.start()
    ready = s.wait(lambda e: "tessd ready" in e["msg"])
    assert ready["pri"] == (3 << 3) + 5 and ready["ident"] == "tessd", ready
    assert ready["pid"] == t.proc.pid, ready
    port = [e for e in s.seen if e["msg"].startswith("tess.dp: port n0 (")]
    assert port and port[0]["pri"] == (3 << 3) + 6, s.seen
    assert "[" not in port[0]["msg"] and "acme" not in port[0]["msg"], port
    assert "tessd ready" in t.log()  # and on stderr as well


@pytest.mark.skipif(os.geteuid() != 0, reason="tessd needs root")
def test_tessd_journal_and_runtime_level(cleanup, tmp_path, monkeypatch):
    j = Journal(cleanup, tmp_path)
    t = tess.Tessd(cleanup, tmp_path, ports=[
        {"name": "n0", "devargs": f"net_null{tess.uid()}", "tenant": "acme"}])
    # A VRF bound to a netns tessd makes: its lines carry its name and tenant label.
    knet = f"lg{tess.uid()}"[:15]
    cleanup.add(tess.sh, "ip", "netns", "del", knet, check=False)
    t.config["router"] = {"vrfs": [{"name": "blue", "id": 7, "tenant": "acme",
                                    "kernel": {"netns": knet, "table": 254}}]}
    for k, v in journal_env(t.log_path, j).items():
        monkeypatch.setenv(k, v)
    t.start()
    # A port's lines carry its name and tenant label as fields.
    port = j.wait(lambda e: e["MESSAGE"].startswith("tess.dp: port n0 ("))
    assert port["PRIORITY"] == "6", port
    assert port["TESS_PORT"] == "n0" and port["TESS_TENANT"] == "acme", port
    vrf = j.wait(lambda e: e["MESSAGE"] == f"tess.dp: VRF blue: made netns {knet}")
    assert vrf["TESS_VRF"] == "blue" and vrf["TESS_TENANT"] == "acme", vrf
    assert "TESS_PORT" not in vrf, vrf
    ready = j.wait(lambda e: "tessd ready" in e["MESSAGE"])
    assert ready["PRIORITY"] == "5" and ready["SYSLOG_IDENTIFIER"] == "tessd", ready
    assert "TESS_PORT" not in ready, ready
    assert "tessd ready" not in t.log()  # in the journal, not on stderr
    types = {x["type"]: x["level"] for x in t.ctl("log", "level", "--tessd")["types"]}
    assert types["tess.dp"] == "info" and types["tess.ctl"] == "info", types
    j.drain()
    assert t.ctl("status")["log_dropped"] == 0
    assert not [e for e in j.drain() if e["PRIORITY"] == "7"]

    r = t.ctl("log", "level", "debug", "--tessd", "--type", "tess.ctl")
    assert r["types"] == [{"type": "tess.ctl", "level": "debug"}], r
    t.ctl("status")
    dbg = j.wait(lambda e: "tess.ctl: status: ok" in e["MESSAGE"])
    assert dbg["PRIORITY"] == "7", dbg
    r = t.tessctl("log", "level", "info", "--tessd")
    assert "tess.ctl" in r.stdout and "debug" not in r.stdout, r.stdout
    j.drain()
    t.ctl("status")
    assert not [e for e in j.drain() if e["PRIORITY"] == "7"]

    # Refused whole, with the path: a level, a pattern naming nothing, a bad character.
    r = t.tessctl("log", "level", "loud", "--tessd", check=False)
    assert r.returncode == 1 and "/params/level" in r.stderr, r
    r = t.tessctl("log", "level", "debug", "--tessd", "--type", "nope.*", check=False)
    assert r.returncode == 1 and "/params/type" in r.stderr and "no log type" in r.stderr, r
    r = t.tessctl("log", "level", "debug", "--tessd", "--type", "a b", check=False)
    assert r.returncode == 1 and "/params/type" in r.stderr, r
    types = {x["type"]: x["level"] for x in t.ctl("log", "level", "--tessd")["types"]}
    assert types["tess.dp"] == "info" and types["tess.ctl"] == "info", types
