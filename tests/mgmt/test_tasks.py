# SPDX-License-Identifier: BSD-3-Clause
"""Workflow tasks (issue 16): programs a provider attaches to desktop jobs (before/after a
create, before a delete, after a move), scoped by model and tenant, run by tessmgrd's job
threads with the libvirt test driver: their arguments, results in the job, a failing task
failing and rolling back its job, timeouts, continue_on_error, disabled tasks, bad input,
roles, the audit log, and a restart."""
import json
import os
import signal
import subprocess
import time

import tess
from mgr import ACME, BRAVO, PROVIDER, TESSMGRD, Mgr


def recorder(tmp_path):
    """A program that appends its arguments (and two TESS_ variables) to a file."""
    log = os.path.join(str(tmp_path), "tasks.log")
    prog = os.path.join(str(tmp_path), "rec")
    with open(prog, "w") as f:
        f.write(f"#!/bin/sh\necho \"$TESS_WHEN job=$TESS_JOB $*\" >> {log}\necho recorded\n")
    os.chmod(prog, 0o755)
    return prog, log


def lines(log):
    if not os.path.exists(log):
        return []
    with open(log) as f:
        return [ln.rstrip("\n") for ln in f]


def alive_in_group(pgid):
    """The processes of group pgid that are not zombies (a killed task's orphans may wait
    for a reaper that the test's container does not run)."""
    alive = []
    for pid in os.listdir("/proc"):
        try:
            with open(f"/proc/{pid}/stat") as f:
                stat = f.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(stat[2]) == pgid and stat[0] != "Z":
            alive.append(int(pid))
    return alive


def task(name, when, program, args=(), **kw):
    return dict({"name": name, "when": when, "program": program, "args": list(args)}, **kw)


VARS = ["${desktop}", "${tenant}", "${host}", "${address}"]


def prepare(cleanup, tmp_path):
    m = Mgr(cleanup, tmp_path).start()
    m.site_h1("acme", "bravo")
    m.test_host("h2")
    m.model("small", vcpus=1, memory_mb=1024)
    m.quota("acme", "small")
    return m


def test_tasks_run_with_their_jobs(cleanup, tmp_path):
    m = prepare(cleanup, tmp_path)
    rec, log = recorder(tmp_path)
    for t in (task("all-before", "before_create", rec, ["all"] + VARS),
              task("acme-std", "after_create", rec, ["acme-std"] + VARS, tenant="acme",
                   model="std"),
              task("bravo-only", "after_create", rec, ["bravo"] + VARS, tenant="bravo"),
              task("off", "after_create", rec, ["off"], enabled=False),
              task("leave", "before_delete", rec, ["leave", "${desktop}"]),
              task("moved", "after_move", rec, ["moved", "${desktop}", "${host}"])):
        r = m.ok("POST", "tasks", t)
        assert r["name"] == t["name"] and r["ok_codes"] == [0] and r["timeout_sec"] == 60, r
    assert [t["name"] for t in m.ok("GET", "tasks")] == [
        "all-before", "acme-std", "bravo-only", "off", "leave", "moved"]

    r = m.ok("POST", "desktops", {"name": "d1", "model": "std"}, token=ACME)
    j = m.wait_job(r["job"]["id"])
    assert j["state"] == "succeeded", j
    # The tenant sees which tasks ran and whether they were ok, not what they said.
    jt = m.ok("GET", f"jobs/{j['id']}", token=ACME)
    assert [sorted(t) for t in jt["tasks"]] == [["ms", "name", "ok", "timed_out", "when"]] * 2
    d = m.ok("GET", f"desktops/{r['desktop']['id']}", token=ACME)
    jid = j["id"]
    assert [(t["name"], t["when"], t["rc"], t["ok"], t["output"]) for t in j["tasks"]] == [
        ("all-before", "before_create", 0, True, "recorded\n"),
        ("acme-std", "after_create", 0, True, "recorded\n")], j
    assert all(t["ms"] >= 0 and not t["timed_out"] for t in j["tasks"])
    host = d["host"]
    assert lines(log) == [
        f"before_create job={jid} all d1 acme {host} {d['mac']}",
        f"after_create job={jid} acme-std d1 acme {host} {d['mac']}"]

    # Scoping: bravo's desktop gets the task for all and bravo's; acme's of model small
    # only the one for all.
    b = m.desktop("b1", BRAVO)
    jb = m.wait_job(m.ok("GET", "jobs")[-1]["id"])
    assert [t["name"] for t in jb["tasks"]] == ["all-before", "bravo-only"], jb
    s = m.ok("POST", "desktops", {"name": "s1", "model": "small"}, token=ACME)
    js = m.wait_job(s["job"]["id"], token=ACME)
    assert [t["name"] for t in js["tasks"]] == ["all-before"], js
    assert not any(" off" in ln for ln in lines(log))
    assert sum(ln.startswith("after_create") and " bravo b1 bravo " in ln
               for ln in lines(log)) == 1, lines(log)

    # A move: the task sees the target host.
    to = "h2" if host == "h1" else "h1"
    mv = m.ok("POST", f"desktops/{d['id']}/migrate", {"host": to})
    jm = m.wait_job(mv["job"]["id"])
    assert jm["state"] == "succeeded", jm
    assert [t["name"] for t in jm["tasks"]] == ["moved"]
    assert lines(log)[-1] == f"after_move job={jm['id']} moved d1 {to}"

    # A delete.
    dl = m.ok("DELETE", f"desktops/{d['id']}", token=ACME)
    jd = m.wait_job(dl["job"]["id"], token=ACME)
    assert jd["state"] == "succeeded" and [t["name"] for t in jd["tasks"]] == ["leave"], jd
    assert lines(log)[-1] == f"before_delete job={jd['id']} leave d1"
    assert m.call("GET", f"desktops/{d['id']}", token=ACME)[0] == 404
    # Jobs of other kinds run no task.
    st = m.ok("POST", f"desktops/{b['id']}/stop", token=BRAVO)
    assert m.wait_job(st["job"]["id"], token=BRAVO)["tasks"] == []

    # Tasks and the results in their jobs outlive a restart.
    m.stop()
    m.start()
    assert len(m.ok("GET", "tasks")) == 6
    assert [t["name"] for t in m.ok("GET", f"jobs/{jid}")["tasks"]] == ["all-before",
                                                                          "acme-std"]


def usage(m):
    """GET /v1/usage without when its running domains were listed (a job's end lists again)."""
    u = m.ok("GET", "usage")
    del u["active_listed_at"]
    return u


def test_failing_and_slow_tasks(cleanup, tmp_path):
    m = prepare(cleanup, tmp_path)
    usage0 = usage(m)
    m.ok("POST", "tasks", task("boom", "after_create", "/bin/sh",
                               ["-c", "echo boom on $0; exit 5", "${desktop}"],
                               tenant="acme"))
    r = m.ok("POST", "desktops", {"name": "d1", "model": "std"}, token=ACME)
    j = m.wait_job(r["job"]["id"])
    assert j["state"] == "failed" and j["error"] == "task boom failed: exit code 5", j
    assert j["tasks"] == [dict(j["tasks"][0], name="boom", rc=5, ok=False,
                               output="boom on d1\n")], j
    # The jobs list leaves the output out (GET /v1/jobs/ID has it); the log has it too.
    listed = [x for x in m.ok("GET", "jobs") if x["id"] == j["id"]][0]
    assert listed["tasks"] == [{k: v for k, v in j["tasks"][0].items() if k != "output"}]
    assert f"job {j['id']}: task boom output, bytes 0-11 of 11: boom on d1\\n" in m.log()
    # Rolled back as a failing step is: no desktop, nothing reserved.
    assert m.ok("GET", "desktops", token=ACME) == []
    assert usage(m) == usage0

    # 3 is a success code too; or the task may fail without failing the job.
    t = m.ok("GET", "tasks/boom")
    del t["id"]
    m.ok("PUT", "tasks/boom", dict(t, continue_on_error=True))
    r = m.ok("POST", "desktops", {"name": "d2", "model": "std"}, token=ACME)
    j = m.wait_job(r["job"]["id"], token=ACME)
    assert j["state"] == "succeeded" and j["tasks"][0]["ok"] is False, j
    m.ok("PUT", "tasks/boom", dict(t, args=["-c", "exit 3"], ok_codes=[0, 3]))
    r = m.ok("POST", "desktops", {"name": "d3", "model": "std"}, token=ACME)
    j = m.wait_job(r["job"]["id"], token=ACME)
    assert j["state"] == "succeeded" and j["tasks"][0]["ok"] is True, j
    m.ok("DELETE", "tasks/boom")

    # A task past its timeout is killed with what it started; its job fails and the desktop
    # stays as it was.
    mark = os.path.join(str(tmp_path), "late")
    m.ok("POST", "tasks", task("slow", "before_delete", "/bin/sh",
                               ["-c", f"(sleep 3; touch {mark}) & sleep 30"],
                               timeout_sec=1))
    t0 = time.time()
    dl = m.ok("DELETE", f"desktops/{r['desktop']['id']}", token=ACME)
    j = m.wait_job(dl["job"]["id"])
    assert time.time() - t0 < 10
    assert j["state"] == "failed" and j["error"] == "task slow failed: timed out: killed", j
    assert j["tasks"][0]["timed_out"] is True and j["tasks"][0]["rc"] == -1
    assert m.ok("GET", f"desktops/{r['desktop']['id']}", token=ACME)["state"] == "running"
    time.sleep(3)
    assert not os.path.exists(mark), "the task's process group outlived its timeout"

    # SIGTERM does not wait for a running task: it is killed with its group, and tessmgrd
    # stops at once.
    pidfile = os.path.join(str(tmp_path), "pid")
    m.ok("DELETE", "tasks/slow")
    m.ok("POST", "tasks", task("long", "before_create", "/bin/sh",
                               ["-c", f"echo $$ > {pidfile}; sleep 60"], timeout_sec=600))
    m.ok("POST", "desktops", {"name": "d9", "model": "std"}, token=ACME)
    deadline = time.time() + 20
    while not (os.path.exists(pidfile) and open(pidfile).read().strip()):
        assert time.time() < deadline
        time.sleep(0.05)
    pgid = int(open(pidfile).read())
    t0 = time.time()
    assert m.stop() == 0
    assert time.time() - t0 < 10
    assert alive_in_group(pgid) == [], "the task's process group outlived tessmgrd"


def hold(tmp_path, name):
    """A task program that appends its process id to a file and then runs for two minutes."""
    pids = os.path.join(str(tmp_path), name + ".pids")
    return pids, ["-c", f"echo $$ >> {pids}; sleep 120"]


def wait_pids(pids, n=1, timeout=30):
    deadline = time.time() + timeout
    while len(lines(pids)) < n or not all(lines(pids)):
        assert time.time() < deadline, "the task did not start"
        time.sleep(0.05)
    return [int(p) for p in lines(pids)]


def killpg(pgid):
    """Kills process group pgid (never through kill(1): procps reads `kill -KILL -N` as
    kill(-1), every process)."""
    assert pgid > 1
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def crash(m, cleanup, pgids):
    """SIGKILLs tessmgrd (its running task is left to run: killed by the test's cleanup)."""
    for g in pgids:
        cleanup.add(lambda g=g: killpg(g))
    m.proc.kill()
    m.proc.wait(10)
    m.logf.close()


def test_restart_during_tasks(cleanup, tmp_path):
    """A restart never runs tasks: it is prompt, and a delete or create whose tasks were cut
    short is not finished (its desktop kept, or rolled back); one whose tasks were done is."""
    m = prepare(cleanup, tmp_path)
    d = m.desktop("d1", ACME)
    pids, args = hold(tmp_path, "leave")
    m.ok("POST", "tasks", task("leave", "before_delete", "/bin/sh", args, timeout_sec=600))
    dl = m.ok("DELETE", f"desktops/{d['id']}", token=ACME)
    crash(m, cleanup, wait_pids(pids))
    t0 = time.time()
    m.start(timeout=30)
    assert time.time() - t0 < 10
    assert m.ok("GET", f"desktops/{d['id']}", token=ACME)["state"] == "running"
    assert m.ok("GET", f"jobs/{dl['job']['id']}")["state"] == "failed"
    assert len(lines(pids)) == 1, "the restart ran the task again"
    # It can be deleted again.
    m.ok("DELETE", "tasks/leave")
    dl = m.ok("DELETE", f"desktops/{d['id']}", token=ACME)
    assert m.wait_job(dl["job"]["id"])["state"] == "succeeded"

    # An after_create task cut short: the desktop is rolled back, its room given back.
    usage0 = usage(m)
    pids, args = hold(tmp_path, "join")
    m.ok("POST", "tasks", task("join", "after_create", "/bin/sh", args, timeout_sec=600))
    r = m.ok("POST", "desktops", {"name": "d2", "model": "std"}, token=ACME)
    crash(m, cleanup, wait_pids(pids))
    t0 = time.time()
    m.start(timeout=30)
    assert time.time() - t0 < 10
    assert m.ok("GET", "desktops", token=ACME) == []
    assert m.ok("GET", f"jobs/{r['job']['id']}")["state"] == "failed"
    assert usage(m) == usage0
    assert len(lines(pids)) == 1
    m.ok("DELETE", "tasks/join")

    if "delete.after_undefine" not in subprocess.run(
            [TESSMGRD, "--fault-points"], capture_output=True, text=True).stdout.split():
        return  # built without -Dfault_points=true
    # Its tasks done, a delete cut short is finished at the restart, without them.
    rec, log = recorder(tmp_path)
    m.ok("POST", "tasks", task("rec", "before_delete", rec, ["${desktop}"]))
    d = m.desktop("d3", ACME)
    m.stop()
    m.env = {"TESS_FAULT": "delete.after_undefine:kill"}
    m.start()
    m.call("DELETE", f"desktops/{d['id']}", token=ACME)
    assert m.proc.wait(30) == -9
    m.logf.close()
    m.env = {}
    m.start()
    m.wait_idle()
    assert m.call("GET", f"desktops/{d['id']}", token=ACME)[0] == 404
    assert len([ln for ln in lines(log) if ln.startswith("before_delete")]) == 1, lines(log)


def test_task_time_is_not_the_jobs(cleanup, tmp_path):
    """jobs.timeout_sec bounds a job's own steps: its tasks' time (3 s here, each task under
    its own timeout_sec) does not count against it (2 s)."""
    m = Mgr(cleanup, tmp_path)
    m.config["jobs"]["timeout_sec"] = 2
    m.start()
    m.site_h1("acme")
    for when in ("before_create", "after_create"):
        m.ok("POST", "tasks", task(when, when, "/bin/sleep", ["1.5"], timeout_sec=10))
    r = m.ok("POST", "desktops", {"name": "d1", "model": "std"}, token=ACME)
    j = m.wait_job(r["job"]["id"])
    assert j["state"] == "succeeded", j
    assert sum(t["ms"] for t in j["tasks"]) >= 3000, j


def test_task_input_roles_and_audit(cleanup, tmp_path):
    m = prepare(cleanup, tmp_path)
    good = task("t", "before_create", "/bin/true", ["${desktop}"])
    # Programs others than root and tessmgrd's user could change: writable by group or world,
    # owned by someone else, or in a directory writable by others.
    unsafe = []
    for name, mode, owner in (("ww", 0o757, 0), ("gw", 0o775, 0), ("nobody", 0o755, 65534)):
        prog = os.path.join(str(tmp_path), name)
        with open(prog, "w") as f:
            f.write("#!/bin/sh\n")
        os.chmod(prog, mode)
        os.chown(prog, owner, -1)
        unsafe.append(prog)
    open_dir = os.path.join(str(tmp_path), "open")
    os.mkdir(open_dir)
    os.chmod(open_dir, 0o777)
    unsafe.append(os.path.join(open_dir, "prog"))
    with open(unsafe[-1], "w") as f:
        f.write("#!/bin/sh\n")
    os.chmod(unsafe[-1], 0o755)
    bad = [(dict(good, program=p), "/program") for p in unsafe] + [
        (dict(good, when="after_delete"), "/when"),
        (dict(good, program="true"), "/program"),
        (dict(good, program="/nonexistent/prog"), "/program"),
        (dict(good, program=str(tmp_path)), "/program"),
        (dict(good, args=["ok", "${desktp}"]), "/args/1"),
        (dict(good, ok_codes=[]), "/ok_codes"),
        (dict(good, ok_codes=[300]), "/ok_codes/0"),
        (dict(good, timeout_sec=0), "/timeout_sec"),
        (dict(good, model="nope"), "/model"),
        (dict(good, tenant="nope"), "/tenant"),
        (dict(good, name="a b"), "/name"),
        (dict(good, extra=1), "/extra"),
    ]
    for body, path in bad:
        status, r = m.call("POST", "tasks", body)
        assert status == 400 and r["error"]["path"] == path, (body, status, r)
    assert m.ok("GET", "tasks") == []
    # A symlink is followed: to a safe program, from anywhere.
    link = os.path.join(open_dir, "true")
    os.symlink("/bin/true", link)
    m.ok("POST", "tasks", dict(good, name="via-link", program=link))
    m.ok("DELETE", "tasks/via-link")
    m.ok("POST", "tasks", good)
    status, r = m.call("POST", "tasks", good)
    assert status == 409, r
    status, r = m.call("PUT", "tasks/t", dict(good, name="u"))
    assert status == 400 and r["error"]["path"] == "/name", r
    assert m.call("GET", "tasks/none")[0] == 404
    # Provider admins only.
    for method, path, body in (("GET", "tasks", None), ("GET", "tasks/t", None),
                               ("POST", "tasks", dict(good, name="x")),
                               ("PUT", "tasks/t", good), ("DELETE", "tasks/t", None)):
        for tok in (ACME, BRAVO):
            assert m.call(method, path, body, token=tok)[0] == 403, (method, path)
        assert m.call(method, path, body, token=None)[0] == 401
    m.ok("DELETE", "tasks/t")
    assert m.ok("GET", "tasks") == []
    audit = m.ok("GET", "audit?limit=1000")
    acts = [(e["action"], e["target"]) for e in audit if e["action"].endswith(" tasks")]
    assert ("POST", "task t") in [(a.split()[0], t) for a, t in acts], acts
    assert ("DELETE", "task t") in [(a.split()[0], t) for a, t in acts], acts


def test_tenants_and_models_named_by_tasks_stay(cleanup, tmp_path):
    """A task matches its tenant and model by name when a job runs: deleting one that tasks
    name is refused (409 naming them, nothing changed), so that no task is left that never
    runs, or that later takes a new tenant or model made under the name."""
    m = prepare(cleanup, tmp_path)
    m.model("tiny", vcpus=1, memory_mb=512)
    m.ok("DELETE", "quotas/bravo/std")
    for t in (task("b1", "before_create", "/bin/true", tenant="bravo"),
              task("b2", "after_create", "/bin/true", tenant="bravo", model="tiny"),
              task("all", "after_create", "/bin/true")):
        m.ok("POST", "tasks", t)
    tenants, models = m.ok("GET", "tenants"), m.ok("GET", "models")
    status, r = m.call("DELETE", "tenants/bravo")
    assert status == 409 and r["error"]["message"] == (
        "tenant bravo is named by tasks b1, b2: delete them or change their tenant first"), r
    status, r = m.call("DELETE", "models/tiny")
    assert status == 409 and r["error"]["message"] == (
        "model tiny is named by tasks b2: delete them or change their model first"), r
    assert m.ok("GET", "tenants") == tenants and m.ok("GET", "models") == models
    assert len(m.ok("GET", "tasks")) == 3
    # Once no task names them, they go.
    t = m.ok("GET", "tasks/b2")
    del t["id"]
    m.ok("PUT", "tasks/b2", dict(t, model=""))
    m.ok("DELETE", "models/tiny")
    m.ok("DELETE", "tasks/b1")
    m.ok("DELETE", "tasks/b2")
    m.ok("DELETE", "tenants/bravo")
    # A tenant made again under the name is a new one: no task of the old one takes it.
    m.tenant("bravo", 200)
    assert [t["name"] for t in m.ok("GET", "tasks")] == ["all"]


def test_tessctl_tasks(cleanup, tmp_path):
    m = prepare(cleanup, tmp_path)
    env = dict(os.environ, TESSMGR_URL=m.url)

    def ctl(*args, token=PROVIDER):
        return subprocess.run([tess.TESSCTL, "-T", token] + list(args), capture_output=True,
                              text=True, env=env, timeout=60)

    r = ctl("task", "add", "join", "--when", "after_create", "--program", "/bin/echo", "--args",
            "${desktop},${address}", "--tenant", "acme", "--model", "std", "--timeout", "30",
            "--ok-codes", "0,3", "--continue-on-error", "--disabled")
    assert r.returncode == 0, r.stderr
    t = m.ok("GET", "tasks/join")
    assert (t["args"], t["ok_codes"], t["timeout_sec"], t["continue_on_error"], t["enabled"],
            t["tenant"], t["model"]) == (["${desktop}", "${address}"], [0, 3], 30, True, False,
                                         "acme", "std"), t
    # --args splits at commas; --arg takes one argument whole, repeated in order.
    r = ctl("task", "add", "commas", "--when", "after_create", "--program", "/bin/echo",
            "--args", "x", "--arg", "a,b", "--arg", "c")
    assert r.returncode == 0, r.stderr
    assert m.ok("GET", "tasks/commas")["args"] == ["x", "a,b", "c"]
    m.ok("DELETE", "tasks/commas")
    r = ctl("task", "list")
    assert r.returncode == 0 and "join" in r.stdout and "after_create" in r.stdout, r.stdout
    r = ctl("--json", "task", "show", "join")
    assert r.returncode == 0 and json.loads(r.stdout)["program"] == "/bin/echo", r
    r = ctl("task", "set", "join", "--when", "before_create", "--program", "/bin/echo")
    assert r.returncode == 0, r.stderr
    assert m.ok("GET", "tasks/join")["enabled"] is True
    r = ctl("task", "add", "bad", "--when", "sometime", "--program", "/bin/echo")
    assert r.returncode != 0 and "/when" in r.stderr, (r.stdout, r.stderr)
    assert ctl("task", "list", token=ACME).returncode != 0
    assert ctl("task", "del", "join").returncode == 0
    assert m.ok("GET", "tasks") == []
