# SPDX-License-Identifier: BSD-3-Clause
"""tessmgrd's job queue under a tenant that floods it (review 1.7): a job of the kind of its
desktop's newest queued job is refused, a tenant's queued jobs are capped (429, counted), and
another tenant's heavy job on the same host runs while light jobs keep coming."""
import os
import threading
import time

import pytest

import tess
from mgr import ACME, BRAVO, PROVIDER, Mgr


class Hold:
    """qemu-img that waits while a file exists: a create job that runs until released, so
    that the jobs behind it on its host stay queued."""

    def __init__(self, tmp_path):
        self.file = os.path.join(str(tmp_path), "hold")
        self.tool = os.path.join(str(tmp_path), "held-qemu-img")
        with open(self.tool, "w") as f:
            f.write(f"#!/bin/sh\nwhile [ -e {self.file} ]; do sleep 0.05; done\n"
                    "exec qemu-img \"$@\"\n")
        os.chmod(self.tool, 0o755)

    def on(self):
        open(self.file, "w").close()

    def off(self):
        os.unlink(self.file)


def prepare(cleanup, tmp_path, **jobs):
    hold = Hold(tmp_path)
    m = Mgr(cleanup, tmp_path, {"qemu_img": hold.tool,
                                "jobs": dict({"per_host": 1}, **jobs)}).start()
    m.site_h1("acme", "bravo", ratio=4.0)
    desks = [m.desktop(f"d{i}", ACME)["id"] for i in range(4)]
    return m, hold, desks


def running(m, job_id):
    deadline = time.time() + 30
    while m.ok("GET", f"jobs/{job_id}")["state"] != "running":
        assert time.time() < deadline, "the blocking job never ran"
        time.sleep(0.05)


def test_duplicate_jobs_refused_and_tenant_cap(cleanup, tmp_path):
    m, hold, desks = prepare(cleanup, tmp_path, per_tenant=5)
    hold.on()
    # The host's one job slot is taken: what follows stays queued.
    blk = m.ok("POST", "desktops", {"name": "blk", "model": "std"}, token=ACME)
    running(m, blk["job"]["id"])
    d1 = desks[0]
    assert m.call("POST", f"desktops/{d1}/start", token=ACME)[0] == 202
    status, r = m.call("POST", f"desktops/{d1}/start", token=ACME)
    assert status == 409 and "already queued" in r["error"]["message"], r
    assert m.call("POST", f"desktops/{d1}/stop", token=ACME)[0] == 202
    # The newest queued job decides: start, stop, start must end started.
    assert m.call("POST", f"desktops/{d1}/start", token=ACME)[0] == 202
    assert m.call("POST", f"desktops/{d1}/start", token=ACME)[0] == 409
    assert m.call("POST", f"desktops/{desks[1]}/stop", token=ACME)[0] == 202
    assert m.call("POST", f"desktops/{desks[2]}/stop", token=ACME)[0] == 202
    # Five queued (the running create does not count): the sixth is 429, of any kind.
    status, r = m.call("POST", f"desktops/{desks[3]}/stop", token=ACME)
    assert status == 429 and "jobs.per_tenant" in r["error"]["message"], r
    assert m.call("POST", "desktops", {"name": "more", "model": "std"}, token=ACME)[0] == 429
    # Another tenant is not held by acme's cap.
    b = m.ok("POST", "desktops", {"name": "b1", "model": "std"}, token=BRAVO)
    stats = m.ok("GET", "stats")["jobs"]
    assert stats["duplicate_refused"] == 2 and stats["tenant_refused"] == 2, stats
    hold.off()
    assert m.wait_job(b["job"]["id"])["state"] == "succeeded"
    jobs = m.wait_idle()
    assert all(j["state"] == "succeeded" for j in jobs), [j for j in jobs
                                                          if j["state"] != "succeeded"]
    assert m.ok("GET", f"desktops/{d1}", token=ACME)["state"] == "running"
    # Once they ran, the desktop takes the same kind of job again.
    r = m.ok("POST", f"desktops/{d1}/start", token=ACME)
    assert m.wait_job(r["job"]["id"])["state"] == "succeeded"


def test_heavy_job_of_another_tenant_runs_while_light_jobs_flood(cleanup, tmp_path):
    m, hold, desks = prepare(cleanup, tmp_path)
    hold.on()
    blk = m.ok("POST", "desktops", {"name": "blk", "model": "std"}, token=ACME)
    running(m, blk["job"]["id"])
    stop = threading.Event()
    sent = [0]

    def flood(desk):
        # Start and stop as fast as answers come, until bravo's create is done.
        while not stop.is_set():
            for action in ("start", "stop"):
                m.call("POST", f"desktops/{desk}/{action}", token=ACME)
                sent[0] += 1

    threads = [threading.Thread(target=flood, args=(d,)) for d in desks]
    for t in threads:
        t.start()
    try:
        b = m.ok("POST", "desktops", {"name": "b1", "model": "std"}, token=BRAVO)
        while sent[0] < 40:
            time.sleep(0.05)
        hold.off()
        deadline = time.time() + 60
        while m.ok("GET", f"jobs/{b['job']['id']}", token=BRAVO)["state"] != "succeeded":
            assert time.time() < deadline, "bravo's create starved behind acme's light jobs"
            time.sleep(0.1)
        # acme was still flooding when bravo's create finished.
        assert all(t.is_alive() for t in threads)
    finally:
        stop.set()
        for t in threads:
            t.join()
    m.wait_idle()


def wrapper(tmp_path, name, body):
    """A qemu-img wrapper script running body before the real qemu-img."""
    path = os.path.join(str(tmp_path), name)
    with open(path, "w") as f:
        f.write(f"#!/bin/sh\n{body}\nexec qemu-img \"$@\"\n")
    os.chmod(path, 0o755)
    return path


def monitors(cleanup, m):
    """tessctl monitor --mgr of the provider and of acme, both streams open."""
    mons = [tess.Monitor(cleanup, ["--mgr"], env=dict(os.environ, TESSMGR_URL=m.url,
                                                       TESSMGR_TOKEN=t))
            for t in (PROVIDER, ACME)]
    tess.wait_for(lambda: m.ok("GET", "stats")["events"]["streams"] == 2, 10, "two streams")
    return mons


def test_hung_qemu_img_is_killed_and_the_job_fails(cleanup, tmp_path):
    """Review 1.15: a qemu-img that hangs (a dead NFS base) is killed after
    qemu_img_timeout_sec, its job fails saying so and leaves nothing behind."""
    pids = os.path.join(str(tmp_path), "pids")
    tool = wrapper(tmp_path, "hung-qemu-img",
                   f"echo $$ >> {pids}\ncase \"$1\" in create) sleep 3600;; esac")
    m = Mgr(cleanup, tmp_path, {"qemu_img": tool, "qemu_img_timeout_sec": 2}).start()
    m.site_h1("acme", ratio=4.0)
    prov, acme = monitors(cleanup, m)
    r = m.ok("POST", "desktops", {"name": "d1", "model": "std"}, token=ACME)
    j = m.wait_job(r["job"]["id"], token=ACME, timeout=60)
    failed = [e for s in (prov, acme) for e in s.read_until(
        lambda evs: any(e.get("state") == "failed" for e in evs), 30) if e.get("state") == "failed"]
    assert "timed out after 2s" in failed[0]["error"], failed
    assert failed[1]["error"] == f"the create failed: ask the provider about job {j['id']}", failed
    # The tenant reads it in general terms with the job's id; the provider the full text
    # (which names the provider's tool and storage).
    assert j["state"] == "failed" and j["error"] == \
        f"the create failed: ask the provider about job {j['id']}", j
    assert m.ok("GET", "jobs", token=ACME)[-1]["error"] == j["error"]
    j = m.ok("GET", f"jobs/{j['id']}")
    assert j["state"] == "failed" and "timed out after 2s" in j["error"], j
    assert any(f"job {j['id']}" in line and "timed out after 2s" in line
               for line in m.log().splitlines()), m.log()
    # Rolled back: the desktop is gone, and no overlay is left.
    assert m.call("GET", f"desktops/{r['desktop']['id']}", token=ACME)[0] == 404
    assert [f for _, _, fs in os.walk(os.path.join(m.storage, "overlays")) for f in fs] == []
    assert m.ok("GET", "hosts/h1")["vcpus_used"] == 0
    assert m.ok("GET", "stats")["jobs"]["qemu_img_timeouts"] == 1
    # The wrapper and its sleep are gone, not left hanging.
    with open(pids) as f:
        for pid in f.read().split():
            assert not os.path.exists(f"/proc/{pid}") or \
                open(f"/proc/{pid}/stat").read().split()[2] == "Z"


def test_qemu_img_runs_with_no_signal_blocked(cleanup, tmp_path):
    """Review 1.15: tessmgrd blocks SIGINT/TERM/HUP for its signal thread; qemu-img must not
    inherit that mask (it could not be stopped)."""
    out = os.path.join(str(tmp_path), "sigblk")
    # Python, not sh: dash clears its signal mask when it starts.
    tool = os.path.join(str(tmp_path), "sig-qemu-img")
    with open(tool, "w") as f:
        f.write("#!/usr/bin/python3\nimport os, sys\n"
                f"with open('/proc/self/status') as s, open('{out}', 'a') as o:\n"
                "    o.write([x for x in s if x.startswith('SigBlk')][0])\n"
                "os.execvp('qemu-img', ['qemu-img'] + sys.argv[1:])\n")
    os.chmod(tool, 0o755)
    m = Mgr(cleanup, tmp_path, {"qemu_img": tool}).start()
    m.site_h1("acme", ratio=4.0)
    m.desktop("d1", ACME)
    with open(out) as f:
        lines = f.read().split("\n")
    assert lines[0] and all(int(x.split()[1], 16) == 0 for x in lines if x), lines


def test_tenant_misses_a_job_event_it_cannot_be_given(cleanup, tmp_path):
    """A failed job's tenant line that could not be made (events.split:fail stands in for a
    json_pack that fails) is missed by the tenant's stream, counted, never replaced by the
    provider's full text."""
    tool = wrapper(tmp_path, "failing-qemu-img",
                   'case "$1" in create) echo "no room on /srv/provider" >&2; exit 1;; esac')
    m = Mgr(cleanup, tmp_path, {"qemu_img": tool})
    m.env = {"TESS_FAULT": "events.split:fail"}
    m.start()
    m.site_h1("acme", ratio=4.0)
    prov, acme = monitors(cleanup, m)
    r = m.ok("POST", "desktops", {"name": "d1", "model": "std"}, token=ACME)
    j = m.wait_job(r["job"]["id"], timeout=60)
    assert j["state"] == "failed" and j["error"], j
    prov.read_until(lambda evs: any(e.get("state") == "failed" for e in evs), 30)
    acme.read_until(lambda evs: any(e.get("state") == "running" for e in evs), 30)
    with pytest.raises(AssertionError):  # read for 3 s: no "failed" comes
        acme.read_until(lambda evs: any(e.get("state") == "failed" for e in evs), 3)
    assert m.ok("GET", "stats")["events"]["dropped"] >= 1


def test_job_error_cut_inside_a_character_stays_text(cleanup, tmp_path):
    """A failed job's error cut to its 511 bytes inside a UTF-8 character (qemu-img's long
    message) is cut at the character before: the job is stored and shown, its event sent."""
    tool = wrapper(tmp_path, "wordy-qemu-img",
                   'case "$1" in create) printf "%0.sé" $(seq 400) >&2; exit 1;; esac')
    m = Mgr(cleanup, tmp_path, {"qemu_img": tool}).start()
    m.site_h1("acme", ratio=4.0)
    prov, acme = monitors(cleanup, m)
    r = m.ok("POST", "desktops", {"name": "d1", "model": "std"}, token=ACME)
    j = m.wait_job(r["job"]["id"], timeout=60)
    assert j["state"] == "failed" and j["error"].startswith("qemu-img create failed: éé"), j
    assert j["error"].endswith("é") and len(j["error"].encode()) >= 400, j
    ev = [e for e in prov.read_until(lambda evs: any(e.get("state") == "failed" for e in evs),
                                     30) if e.get("state") == "failed"][0]
    assert ev["error"] == j["error"], ev
    acme.read_until(lambda evs: any(e.get("state") == "failed" for e in evs), 30)
    assert "cannot store" not in m.log()
