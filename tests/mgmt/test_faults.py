# SPDX-License-Identifier: BSD-3-Clause
"""Crash safety of tessmgrd (issue 14, review 1.4 and 1.5): at every named fault point of
create, delete, cold move and image push (`tessmgrd --fault-points`, compiled in with
-Dfault_points=true), tessmgrd is killed there (TESS_FAULT=POINT:kill) or the step fails
(POINT:fail); restarted, nothing has leaked (no domain without a desktop, no overlay or
image file without a record, host and quota use equal to the desktops'), nothing is lost (a
desktop whose create had completed exists), the store passes PRAGMA integrity_check, and the
operation can be done again. Real libvirt test-driver hosts at two sites, real qcow2 files."""
import http.client
import os
import shutil
import sqlite3
import subprocess
import urllib.error

import pytest

import tess
from libvirtd import LIBVIRTD
from mgr import ACME, BASE_IMAGE, TESSMGRD, Mgr, libvirt_hosts, wait_host

SITES = {"paris": (48.8566, 2.3522, "10.1.0.0/16"), "london": (51.5074, -0.1278, "10.2.0.0/16")}
VCPUS = 2  # the model's


def fault_points():
    r = subprocess.run([TESSMGRD, "--fault-points"], capture_output=True, text=True, timeout=30)
    return r.stdout.split() if r.returncode == 0 else []


POINTS = fault_points()
# Which operation reaches a point: its prefix; job.* points are in every job.
OPS = {"create": ["create"], "delete": ["delete"], "migrate": ["migrate"], "push": ["push"],
       "job": ["create", "delete", "migrate"], "copy": ["migrate", "push"]}
CASES = [(p, op) for p in POINTS for op in OPS.get(p.split(".")[0], [])]
# Points of no operation, tested where they are: libvirt's event loop at start and stop, an
# event stream's admission, an event's tenant line, a chargeback's read, a usage listing.
ELSEWHERE = {"virt.wake_timer": "tests/unit/test_mgr_virt.c",
             "events.admit": "tests/mgmt/test_events.py",
             "events.split": "tests/mgmt/test_jobs.py",
             "chargeback.after_rates": "tests/mgmt/test_chargeback.py",
             "usage.list": "tests/mgmt/test_usage_active.py"}
# Points a create reaches once its domain runs (its after_create tasks, none here, not cut
# short): the desktop is the user's from there on.
CREATED = {"create.after_start", "create.after_tasks", "create.after_state",
           "create.after_repin", "job.store_finish"}


def test_fault_points_are_listed():
    if not POINTS:
        pytest.skip("tessmgrd built without -Dfault_points=true (the Makefile's test builds "
                    "have it)")
    # Every operation of the matrix has points; each point is reached by some operation.
    for prefix in ("create", "delete", "migrate", "push", "job", "copy"):
        assert any(p.startswith(prefix + ".") for p in POINTS), prefix
    assert all(OPS.get(p.split(".")[0]) or p in ELSEWHERE for p in POINTS), POINTS


class World:
    """tessmgrd with a test host at paris and one at london (each site its own storage with
    the base image), tenant acme, and two running desktops made before any fault: keep (never
    touched) and target (deleted or moved by the operation under test)."""

    def __init__(self, cleanup, tmp_path):
        self.m = m = Mgr(cleanup, tmp_path)
        self.storage = {}
        for name in SITES:
            st = os.path.join(str(tmp_path), f"storage-{name}")
            os.makedirs(st, exist_ok=True)
            shutil.copy2(os.path.join(m.storage, BASE_IMAGE), os.path.join(st, BASE_IMAGE))
            self.storage[name] = st
        m.start()
        for name, (lat, lon, prefix) in SITES.items():
            m.site(name, lat, lon, (prefix,), storage=self.storage[name])
            m.test_host(f"h-{name}", site=name, ratio=2.0)
        m.tenant("acme", 100)
        m.model(vcpus=VCPUS)
        m.quota("acme")
        self.keep, self.target = (m.ok("GET", f"desktops/{m.desktop(n, ACME)['id']}",
                                       token=ACME) for n in ("keep", "target"))
        # A new version of the base image to push.
        self.v2 = os.path.join(m.imports, "v2.qcow2")
        tess.sh("qemu-img", "create", "-q", "-f", "qcow2", self.v2, "32M")
        assert m.stop() == 0

    def other_host(self, d):
        return "h-london" if d["host"] == "h-paris" else "h-paris"

    def start_op(self, op):
        """Starts op; its job id (None for a push, which answers when done)."""
        m = self.m
        if op == "create":
            r = m.ok("POST", "desktops", {"name": "new", "model": "std"}, token=ACME)
            return r["job"]["id"]
        if op == "delete":
            return m.ok("DELETE", f"desktops/{self.target['id']}", token=ACME)["job"]["id"]
        if op == "migrate":
            d = m.ok("GET", f"desktops/{self.target['id']}", token=ACME)
            r = m.ok("POST", f"desktops/{self.target['id']}/migrate",
                     {"host": self.other_host(d)})
            return r["job"]["id"]
        return self.push()

    def push(self):
        status, r = self.m.call("POST", f"images/{BASE_IMAGE}/push",
                                {"site": "paris", "file": "v2.qcow2"})
        return status, r

    def files(self, sub, suffix=""):
        return sorted(os.path.join(dp, f) for st in self.storage.values()
                      for dp, _, fs in os.walk(os.path.join(st, sub)) for f in fs
                      if f.endswith(suffix))

    def check(self, what):
        """Nothing leaked, nothing half-made; the desktops (by name)."""
        m = self.m
        con = sqlite3.connect(m.config["store"], timeout=30)
        try:
            assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)], what
        finally:
            con.close()
        desks = m.ok("GET", "desktops", token=ACME)
        by_name = {d["name"]: d for d in desks}
        assert len(by_name) == len(desks), desks
        for d in desks:
            assert d["state"] in ("running", "stopped"), (what, d)
        rep = m.ok("GET", "reconcile")["hosts"]
        for h in rep:
            assert h["reachable"] and h["not_in_store"] == [] and \
                h["missing_in_libvirt"] == [], (what, rep)
        # Overlays: one per desktop, where its record says; no partial copy anywhere.
        assert self.files("overlays") == sorted(d["overlay"] for d in desks), (what, desks)
        leftovers = [f for st in self.storage.values() for dp, _, fs in os.walk(st)
                     for f in fs if f.endswith((".part", ".tmp"))]
        assert leftovers == [], what
        # Host and quota use are the desktops'.
        u = m.ok("GET", "usage")
        for h in u["hosts"]:
            n = sum(d["host"] == h["host"] for d in desks)
            assert h["vcpus_used"] == VCPUS * n, (what, h, desks)
        q = m.ok("GET", "quotas/acme/std")
        assert q["cpus_used"] == VCPUS * len(desks), (what, q)
        t = [x for x in u["tenants"] if x["tenant"] == "acme"][0]
        assert t["desktops"] == len(desks), (what, t)
        running = sum(d["state"] == "running" for d in desks)
        assert t["active"]["domains"] == running, (what, t)
        # Image files: each one recorded.
        recorded = {s["path"] for img in m.ok("GET", "images") for v in img["versions"]
                    for s in v["sites"]}
        stray = [f for f in self.files("images") if f not in recorded]
        assert stray == [], (what, stray)
        return by_name


def wait_dead(m, timeout=90):
    try:
        return m.proc.wait(timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(f"tessmgrd still runs: the fault point was not reached\n{m.log()[-3000:]}")


@pytest.mark.parametrize("action", ["kill", "fail"])
@pytest.mark.parametrize("point,op", CASES, ids=[f"{p}-{o}" for p, o in CASES])
def test_fault(cleanup, tmp_path, point, op, action):
    w = World(cleanup, tmp_path)
    m = w.m
    m.env = {"TESS_FAULT": f"{point}:{action}"}
    m.start()
    job = None
    try:
        job = w.start_op(op)
    except (urllib.error.URLError, ConnectionError, http.client.HTTPException):
        assert action == "kill"  # a push dies with tessmgrd
    if action == "kill":
        assert wait_dead(m) == -9
        m.logf.close()
    else:
        if op != "push":
            m.wait_job(job)
        assert m.stop() == 0
    assert f"fault point {point}: {action}" in m.log(), "the point was not reached"
    # Restarted without faults.
    m.env = {}
    m.start()
    m.wait_idle()
    what = f"{point}:{action} during {op}"
    desks = w.check(what)
    # Nothing lost: keep as it was; the target deleted or whole, never half.
    assert desks["keep"]["state"] == "running", what
    assert desks["keep"]["uuid"] == w.keep["uuid"], what
    if op == "create" and point in CREATED and action == "kill":
        assert "new" in desks and desks["new"]["state"] == "running", (what, desks)
        assert m.ok("GET", f"jobs/{job}")["state"] == "succeeded", what
    if op in ("push", "create", "migrate"):
        # A move cut short leaves it whole at one host or the other, running as it was.
        assert desks["target"]["state"] == "running", (what, desks)
        assert desks["target"]["uuid"] == w.target["uuid"], (what, desks)
    # And the operation can be done again (a leftover domain name, file or record would
    # make it fail).
    if op == "create" and "new" not in desks:
        m.desktop("new", ACME)
    elif op == "delete" and "target" in desks:
        j = m.ok("DELETE", f"desktops/{desks['target']['id']}", token=ACME)["job"]["id"]
        assert m.wait_job(j)["state"] == "succeeded", what
    elif op == "migrate" and desks["target"]["host"] == w.target["host"]:
        j = m.ok("POST", f"desktops/{w.target['id']}/migrate",
                 {"host": w.other_host(desks["target"])})["job"]["id"]
        assert m.wait_job(j)["state"] == "succeeded", (what, m.log()[-2000:])
    elif op == "push":
        status, r = w.push()
        assert status == 200 and {s["state"] for s in r["sites"]} <= {"published", "present"}, \
            (what, r)
        assert len(r["sites"]) == 2, (what, r)
    m.wait_idle()
    w.check(what + ", then again")


def hold_domains(cleanup, lv):
    """libvirtd's test driver keeps its domains while a client is connected: this one, while
    tessmgrd is not (killed, restarted, or cut off from the host)."""
    holder = subprocess.Popen(["virsh", "-q", "-c", lv.uri], stdin=subprocess.PIPE,
                              stdout=subprocess.DEVNULL, text=True)
    cleanup.add(holder.kill)
    holder.stdin.write("list --all\n")
    holder.stdin.flush()


# A create cut short after its domain was defined, and the desktop's state when its host is
# back: undone (the domain defined, not started) or kept (running: every step was done).
HOST_DOWN_CASES = {"create.after_define": None, "create.after_start": "running"}


@pytest.mark.skipif(LIBVIRTD is None, reason="libvirtd is not installed (tests/env/deps.sh)")
@pytest.mark.parametrize("point", sorted(HOST_DOWN_CASES))
def test_create_interrupted_while_its_host_is_down(cleanup, tmp_path, point):
    """Review 1.4/1.5: tessmgrd killed in a create after the domain was defined, restarted
    while the host does not answer. Whether the domain exists is not known then, so the
    desktop is neither forgotten (its domain would come back with the host, unaccounted) nor
    kept: it stays creating, its room held, its job failed saying why, through another
    restart too. Once the host is back, the create is undone (nothing left in libvirt, the
    room given back) or, its domain running, kept."""
    if point not in POINTS:
        pytest.skip("tessmgrd built without -Dfault_points=true")
    (lv,), m = libvirt_hosts(cleanup, tmp_path, 1)
    hold_domains(cleanup, lv)
    m.tenant("acme", 100)
    m.model(vcpus=VCPUS, memory_mb=256)  # libvirt's test node has 8 GiB
    m.quota("acme")
    keep = m.ok("GET", f"desktops/{m.desktop('keep', ACME)['id']}", token=ACME)
    before = set(lv.virsh("list", "--all", "--name").stdout.split())
    assert m.stop() == 0
    m.env = {"TESS_FAULT": f"{point}:kill"}
    m.start()
    try:
        job = m.ok("POST", "desktops", {"name": "new", "model": "std"}, token=ACME)["job"]["id"]
    except (urllib.error.URLError, ConnectionError, http.client.HTTPException):
        job = None
    assert wait_dead(m) == -9
    m.logf.close()
    new = set(lv.virsh("list", "--all", "--name").stdout.split()) - before
    assert len(new) == 1, (before, new)
    # The host's socket moved away: libvirtd runs on, with its domains, unreachable.
    os.rename(lv.sock, lv.sock + ".away")
    m.env = {}
    m.start()
    assert not m.ok("GET", "hosts/r1")["up"]
    desks = {d["name"]: d for d in m.ok("GET", "desktops", token=ACME)}
    assert desks["new"]["state"] == "creating", desks
    assert m.ok("GET", "quotas/acme/std")["cpus_used"] == 2 * VCPUS
    if job is not None:
        j = m.ok("GET", f"jobs/{job}")
        assert j["state"] == "failed" and "did not answer" in j["error"], j
    assert "does not answer: its create is undone once it is back" in m.log()
    # Another restart, the host still away: its job ended, the desktop still waits for it.
    assert m.stop() == 0
    m.start()
    assert m.ok("GET", f"desktops/{desks['new']['id']}", token=ACME)["state"] == "creating"
    os.rename(lv.sock + ".away", lv.sock)
    wait_host(m, "r1", True)
    want = HOST_DOWN_CASES[point]

    def settled():
        d = {x["name"]: x for x in m.ok("GET", "desktops", token=ACME)}
        return d if ("new" in d) == (want is not None) and \
            d.get("new", {}).get("state") != "creating" else None

    desks = tess.wait_for(settled, 30, lambda: f"new's create to end: {m.log()[-2000:]}")
    assert desks["keep"]["state"] == "running" and desks["keep"]["uuid"] == keep["uuid"]
    left = set(lv.virsh("list", "--all", "--name").stdout.split())
    assert left == (before if want is None else before | new), (before, new, left)
    n = 1 if want is None else 2
    assert m.ok("GET", "quotas/acme/std")["cpus_used"] == n * VCPUS
    if want is not None:
        assert desks["new"]["state"] == want, desks
        if job is not None:
            assert m.ok("GET", f"jobs/{job}")["state"] == "succeeded"
    (rep,) = m.ok("GET", "reconcile")["hosts"]
    # "test": the test driver's own domain.
    assert [d["name"] for d in rep["not_in_store"]] == ["test"], rep
    assert rep["missing_in_libvirt"] == [], rep
    # And the name can be used again (no domain of it is left).
    if want is None:
        m.desktop("new", ACME)


def domains(lv):
    """The UUIDs of the domains lv's libvirtd has."""
    return set(lv.virsh("list", "--all", "--uuid").stdout.split())


def move_left_on_a_host_down(cleanup, tmp_path, n):
    """n hosts and desktop mover; tessmgrd killed in its cold move to another host once the
    domain was defined there, then restarted with that host's socket away. Returns (m, lvs,
    the desktop, the host it is on, the target's name, its libvirtd, the failed job)."""
    lvs, m = libvirt_hosts(cleanup, tmp_path, n)
    for lv in lvs:
        hold_domains(cleanup, lv)
    m.tenant("acme", 100)
    m.model(vcpus=VCPUS, memory_mb=256)
    m.quota("acme")
    d = m.ok("GET", f"desktops/{m.desktop('mover', ACME)['id']}", token=ACME)
    dst = "r2" if d["host"] == "r1" else "r1"
    lv_dst = lvs[int(dst[1]) - 1]
    assert d["uuid"] not in domains(lv_dst)
    assert m.stop() == 0
    m.env = {"TESS_FAULT": "migrate.after_define:kill"}
    m.start()
    try:
        m.ok("POST", f"desktops/{d['id']}/migrate", {"host": dst})
    except (urllib.error.URLError, ConnectionError, http.client.HTTPException):
        pass
    assert wait_dead(m) == -9
    m.logf.close()
    assert d["uuid"] in domains(lv_dst)
    # The target's socket moved away: its libvirtd runs on, with the definition, unreachable.
    os.rename(lv_dst.sock, lv_dst.sock + ".away")
    m.env = {}
    m.start()
    assert not m.ok("GET", f"hosts/{dst}")["up"]
    (job,) = [j for j in m.ok("GET", "jobs") if j["kind"] == "migrate"]
    return m, lvs, d, dst, lv_dst, job


def assert_accounted(m):
    for rep in m.ok("GET", "reconcile")["hosts"]:
        # "test": the test driver's own domain.
        assert [x["name"] for x in rep["not_in_store"]] == ["test"], rep
        assert rep["missing_in_libvirt"] == [], rep


@pytest.mark.skipif(LIBVIRTD is None, reason="libvirtd is not installed (tests/env/deps.sh)")
def test_move_rolled_back_while_its_target_is_down(cleanup, tmp_path):
    """tessmgrd killed in a cold move after the target's domain was defined, restarted while
    the target host does not answer: the move is rolled back to the source (running again),
    and the definition on the target, which would come back with the host unaccounted, is
    kept on the job (through another restart too) and removed once the host is back."""
    if "migrate.after_define" not in POINTS:
        pytest.skip("tessmgrd built without -Dfault_points=true")
    m, _, d, dst, lv_dst, job = move_left_on_a_host_down(cleanup, tmp_path, 2)
    hosts = {h["name"]: h["id"] for h in m.ok("GET", "hosts")}
    assert job["state"] == "failed" and job["leftover_host_id"] == hosts[dst], job
    assert job["leftover_uuid"] == d["uuid"], job
    # The provider's machines: not in the tenant's view.
    assert "leftover_host_id" not in m.ok("GET", f"jobs/{job['id']}", token=ACME)
    assert f"does not answer: the definition of desktop {d['id']} there is removed" in m.log()
    back = m.ok("GET", f"desktops/{d['id']}", token=ACME)
    assert back["host"] == d["host"] and back["state"] == "running", back
    # Another restart, the host still away: the job still holds the host.
    assert m.stop() == 0
    m.start()
    assert m.ok("GET", f"jobs/{job['id']}")["leftover_host_id"] == hosts[dst]
    os.rename(lv_dst.sock + ".away", lv_dst.sock)
    wait_host(m, dst, True)
    tess.wait_for(lambda: "leftover_host_id" not in m.ok("GET", f"jobs/{job['id']}"), 30,
                  lambda: f"the leftover to be removed: {m.log()[-2000:]}")
    assert d["uuid"] not in domains(lv_dst)
    assert "the definition its roll-back left there is removed" in m.log()
    assert_accounted(m)
    assert m.ok("GET", f"desktops/{d['id']}", token=ACME)["state"] == "running"


@pytest.mark.skipif(LIBVIRTD is None, reason="libvirtd is not installed (tests/env/deps.sh)")
def test_leftover_removed_when_a_move_under_way_at_the_connect_ends(cleanup, tmp_path):
    """The host of a rolled-back move's leftover definition comes back while another move of
    the desktop (to a third host, held at its steps) runs: that move owns the desktop's
    definitions, so the connect leaves the leftover, and the move's end removes it."""
    pauses = ["migrate.after_stop", "migrate.after_port", "migrate.after_define",
              "migrate.after_src_port"]
    if any(p not in POINTS for p in pauses):
        pytest.skip("tessmgrd built without -Dfault_points=true")
    m, _, d, dst, lv_dst, job = move_left_on_a_host_down(cleanup, tmp_path, 3)
    third = ({"r1", "r2", "r3"} - {d["host"], dst}).pop()
    assert m.stop() == 0
    m.env = {"TESS_FAULT": ",".join(p + ":pause" for p in pauses)}  # 2 s each
    m.start()
    move = m.ok("POST", f"desktops/{d['id']}/migrate", {"host": third})["job"]["id"]
    tess.wait_for(lambda: m.ok("GET", f"desktops/{d['id']}", token=ACME)["state"] ==
                  "migrating", 30, "the move to start")
    os.rename(lv_dst.sock + ".away", lv_dst.sock)
    wait_host(m, dst, True)
    assert m.ok("GET", f"jobs/{move}")["state"] == "running", "the host came back too late"
    assert "leftover_host_id" in m.ok("GET", f"jobs/{job['id']}")
    assert m.wait_job(move)["state"] == "succeeded"
    tess.wait_for(lambda: "leftover_host_id" not in m.ok("GET", f"jobs/{job['id']}"), 30,
                  lambda: f"the leftover to be removed: {m.log()[-2000:]}")
    assert d["uuid"] not in domains(lv_dst)
    at = m.ok("GET", f"desktops/{d['id']}", token=ACME)
    assert at["host"] == third and at["state"] == "running", at
    assert_accounted(m)
