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
import socket
import struct
import subprocess
import tempfile
import threading
import time

import pytest

import tess
from mgr import ACME, PROVIDER, Mgr


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
    """A datagram socket read all the time, as journald does: the daemons' journal output
    drops (and counts) what does not fit a queue of net.unix.max_dgram_qlen (10) entries."""

    def __init__(self, cleanup, tmp_path):
        # A short directory: pytest's tmp_path comes near sun_path's 108 bytes.
        d = tempfile.mkdtemp(prefix="tj-", dir="/tmp")
        self.path = os.path.join(d, "j.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.1)
        self.q = queue.Queue()
        self.stop = False
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()
        cleanup.add(lambda: shutil.rmtree(d, ignore_errors=True))
        cleanup.add(self.sock.close)
        cleanup.add(self._stop)
        self.seen = []

    def _read(self):
        while not self.stop:
            try:
                self.q.put(parse_journal(self.sock.recv(65536)))
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


def test_mgr_journal_fields_and_runtime_level(cleanup, tmp_path):
    j = Journal(cleanup, tmp_path)
    m = Mgr(cleanup, tmp_path)
    m.env = journal_env(m.log_path, j)
    m.start()
    ready = j.wait(lambda e: e["MESSAGE"].startswith("ready: http://"))
    assert ready["PRIORITY"] == "5" and ready["SYSLOG_IDENTIFIER"] == "tessmgrd", ready
    assert m.ok("GET", "log") == {"level": "info", "output": "journal"}
    setup_objects(m)
    tenant = m.ok("GET", "tenants/acme")["id"]
    host = m.ok("GET", "hosts/h1")["id"]
    d1 = m.desktop("d1", ACME)["id"]
    done = j.wait(lambda e: "create of desktop" in e["MESSAGE"])
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
