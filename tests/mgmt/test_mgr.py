# SPDX-License-Identifier: BSD-3-Clause
"""tessmgrd with real libvirt (test-driver hosts), real qcow2 overlays and SQLite: set-up over
HTTP, quotas, concurrent placement, per-tenant CPU partitions, throttling, lifecycle, failures
that leave nothing behind, restarts, roles, bad input, the audit log, and a real tessd."""
import json
import os
import re
import sqlite3
import subprocess
import threading
import time
import urllib.error
import urllib.request

import pytest

import tess
from mgr import ACME, BASE_IMAGE, BRAVO, PROVIDER, TOKENS, Mgr, token_entry, write_tokens


def overlay_info(path):
    return json.loads(tess.sh("qemu-img", "info", "--output=json", path).stdout)


def pins(m, desk_id, token):
    d = m.ok("GET", f"desktops/{desk_id}", token=token)
    return d, [set(cpus(s)) for s in d["libvirt"]["vcpu_pins"]]


def cpus(text):
    out = []
    for part in filter(None, text.split(",")):
        a, _, b = part.partition("-")
        out += range(int(a), int(b or a) + 1)
    return out


@pytest.fixture
def m(cleanup, tmp_path):
    return Mgr(cleanup, tmp_path).start()


def test_setup_provisioning_quota_and_delete(m):
    m.site()
    h = m.test_host("h1", shape=(1, 4, 2), memory_mb=32768, ratio=2.0, overalloc=1.5)
    assert h["up"] and h["cpus"] == 8 and h["cpu_capacity"] == 16
    assert h["memory_capacity_mb"] == 49152
    m.tenant("acme", 100)
    m.model()
    m.quota("acme", cpus=6, memory_mb=1 << 20)
    # Seed 000 FIG. 4: the hosts that cover the quota, associated with it.
    r = m.ok("POST", "quotas/acme/std/hosts")
    assert r == {"hosts": [{"host": "h1", "desktops": 8}], "covered": 3, "wanted": 3}
    assert m.ok("GET", "quotas/acme/std")["hosts"] == ["h1"]
    made = [m.desktop(f"d{i}", ACME) for i in range(3)]
    # The linked clone is a real qcow2 overlay on the site's base image.
    info = overlay_info(made[0]["overlay"])
    assert info["format"] == "qcow2"
    assert info["backing-filename"] == os.path.join(m.storage, BASE_IMAGE)
    assert info["backing-filename-format"] == "qcow2"
    d = m.ok("GET", f"desktops/{made[0]['id']}", token=ACME)
    assert d["state"] == "running" and d["libvirt"]["state"] == "running"
    assert d["libvirt"]["vlan_name"] == "acme-net" and d["libvirt"]["tenant"] == "acme"
    # Beyond the quota: 409 with the numbers, nothing made.
    status, r = m.call("POST", "desktops", {"name": "d3", "model": "std"}, token=ACME)
    assert status == 409 and "quota exceeded" in r["error"]["message"]
    assert r["error"]["detail"] == {"need_cpus": 2, "need_memory_mb": 4096, "cpus_used": 6,
                                    "max_cpus": 6, "memory_used_mb": 12288,
                                    "max_memory_mb": 1 << 20}
    u = m.ok("GET", "usage")
    t = u["tenants"][0]
    assert t["desktops"] == 3 and t["running"] == 3
    assert t["active"] == {"domains": 3, "vcpus": 6, "memory_mb": 12288}
    assert u["hosts"][0]["vcpus_used"] == 6
    # Delete: domain, overlay, quota use all go.
    r = m.ok("DELETE", f"desktops/{made[0]['id']}", token=ACME)
    assert m.wait_job(r["job"]["id"])["state"] == "succeeded"
    assert not os.path.exists(made[0]["overlay"])
    assert m.call("GET", f"desktops/{made[0]['id']}", token=ACME)[0] == 404
    assert m.ok("GET", "quotas/acme/std")["cpus_used"] == 4
    assert m.ok("GET", "reconcile")["hosts"][0]["not_in_store"] == []


def test_concurrent_requests_never_exceed_quota_or_capacity(m):
    m.site()
    # 16 CPUs, ratio 2: 32 vCPUs; 64 GiB: 16 desktops of 2 vCPUs / 4 GiB.
    m.test_host("h1", shape=(1, 8, 2), memory_mb=65536, ratio=2.0)
    m.tenant("acme", 100)
    m.tenant("bravo", 200)
    m.model()
    m.quota("acme", cpus=20)        # 10 desktops
    m.quota("bravo", cpus=1000)     # capacity binds: what acme leaves

    def burst(token, prefix, n=50):
        results = [None] * n

        def one(i):
            results[i] = m.call("POST", "desktops", {"name": f"{prefix}{i}", "model": "std"},
                                token=token)
        threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return results

    acme = burst(ACME, "a")
    assert sum(1 for s, _ in acme if s == 202) == 10
    assert all(s == 409 for s, _ in acme if s != 202)
    bravo = burst(BRAVO, "b")
    assert sum(1 for s, _ in bravo if s == 202) == 6
    refused = [r for s, r in bravo if s == 409]
    assert refused and all("no host can take" in r["error"]["message"] for r in refused)
    jobs = m.wait_idle()
    assert all(j["state"] == "succeeded" for j in jobs), [j for j in jobs if j["error"]]
    h = m.ok("GET", "hosts/h1")
    assert h["vcpus_used"] == 32 <= h["cpu_capacity"]
    assert m.ok("GET", "quotas/acme/std")["cpus_used"] == 20
    assert len(m.ok("GET", "desktops", token=ACME)) == 10
    assert len(m.ok("GET", "desktops", token=BRAVO)) == 6


def small_host(m, *tenants):
    """A site with host h1 of 1 socket x 4 cores x 2 threads (core k is CPUs k and k+4), ratio
    1, and the tenants given (acme on VLAN 100, bravo on 200) with a model and quotas."""
    vlans = {"acme": 100, "bravo": 200}
    m.site()
    m.test_host("h1", shape=(1, 4, 2), ratio=1.0)
    for t in tenants:
        m.tenant(t, vlans[t])
    m.model()
    for t in tenants:
        m.quota(t)


def test_two_tenants_never_share_a_physical_cpu(m):
    small_host(m, "acme", "bravo")
    a1 = m.desktop("a1", ACME)
    a2 = m.desktop("a2", ACME)
    b1 = m.desktop("b1", BRAVO)

    def check():
        sets = {}
        for d, token in ((a1, ACME), (a2, ACME), (b1, BRAVO)):
            desk, p = pins(m, d["id"], token)
            # Every vCPU pinned to the tenant's partition, live and in the saved XML.
            assert all(s == set(cpus(desk["cpus"])) for s in p), (desk, p)
            assert f"cpuset='{desk['cpus']}'" in desk["libvirt"]["saved_cputune"]
            sets.setdefault(token, set()).update(*p)
        assert not sets[ACME] & sets[BRAVO]
        for s in sets.values():  # whole cores
            assert all((c + 4) % 8 in s for c in s)
        return sets

    s = check()
    assert len(s[ACME]) == 4 and len(s[BRAVO]) == 2  # 4 vCPUs: 2 cores; 2 vCPUs: 1 core
    # Acme grows: its partition takes the free core and its desktops are re-pinned.
    a3 = m.desktop("a3", ACME)
    s = check()
    assert len(s[ACME]) == 6
    desk, p = pins(m, a3["id"], ACME)
    assert p[0] == s[ACME]
    # h1 is full: refused with the reason...
    status, r = m.call("POST", "desktops", {"name": "b2", "model": "std"}, token=BRAVO)
    assert status == 409
    assert r["error"]["detail"]["hosts"]["h1"] == "has no vCPU capacity left"
    # ... or placed on another host that can.
    m.test_host("h2", shape=(1, 2, 2), ratio=1.0)
    b2 = m.desktop("b2", BRAVO)
    assert b2["host"] == "h2"
    # A tenant leaving shrinks its partition back.
    m.wait_job(m.ok("DELETE", f"desktops/{a3['id']}", token=ACME)["job"]["id"])
    s = check()
    assert len(s[ACME]) == 4
    parts = {p["tenant"]: p for p in m.ok("GET", "hosts/h1")["partitions"]}
    assert parts["acme"]["vcpus"] == 4 and parts["bravo"]["vcpus"] == 2


def test_long_cpu_lists_are_kept_whole_across_a_restart(m):
    """Review 1.3: two tenants placing alternately on a 1024-CPU host get every other core, and
    with siblings ncores apart each core is 8 list items: over 1000 characters of text.
    Pinning, the host view and the store keep it whole, and a restart loads it."""
    m.site()
    # 1 socket x 128 cores x 8 threads: core k is CPUs k, k+128, ..., k+896. Ratio 1/8: a
    # 1-vCPU desktop needs one whole core, so each placement grows its tenant by a core.
    m.test_host("h1", shape=(1, 128, 8), memory_mb=1 << 20, ratio=0.125)
    m.tenant("acme", 100)
    m.tenant("bravo", 200)
    m.model(vcpus=1, memory_mb=256)
    m.quota("acme", cpus=64)
    m.quota("bravo", cpus=64)
    n = 36
    desks = {ACME: [], BRAVO: []}
    for i in range(n):  # placing alternately
        desks[ACME].append(m.desktop(f"a{i}", ACME))
        desks[BRAVO].append(m.desktop(f"b{i}", BRAVO))
    want = {t: {k + 128 * j for k in range(first, 2 * n, 2) for j in range(8)}
            for t, first in ((ACME, 0), (BRAVO, 1))}

    def check():
        for token, ds in desks.items():
            for d in (ds[0], ds[-1]):
                desk, p = pins(m, d["id"], token)
                assert set(cpus(desk["cpus"])) == want[token], desk["cpus"]
                assert p and all(s == want[token] for s in p)
                assert f"cpuset='{desk['cpus']}'" in desk["libvirt"]["saved_cputune"]
        parts = {p["tenant"]: set(cpus(p["cpus"])) for p in m.ok("GET", "hosts/h1")["partitions"]}
        assert parts == {"acme": want[ACME], "bravo": want[BRAVO]}

    assert len(m.ok("GET", f"desktops/{desks[ACME][-1]['id']}", token=ACME)["cpus"]) > 1024
    check()
    assert m.stop() == 0
    m.start()
    check()


def test_a_partition_that_cannot_grow_sends_desktops_elsewhere(m):
    # 2 cores x 2 threads, ratio 4: 16 vCPUs, but each tenant's share is whole cores.
    m.site_h1("acme", "bravo", shape=(1, 2, 2), ratio=4.0)
    m.desktop("b1", BRAVO)
    for i in range(4):  # 8 vCPUs: 2 CPUs, the one core bravo left
        m.desktop(f"a{i}", ACME)
    status, r = m.call("POST", "desktops", {"name": "a4", "model": "std"}, token=ACME)
    assert status == 409, r
    assert r["error"]["detail"]["hosts"]["h1"] == \
        "has no free cores left for the tenant's CPU partition"
    assert m.ok("GET", "hosts/h1")["vcpus_used"] == 10  # 6 vCPUs of capacity are left
    m.test_host("h2", shape=(1, 2, 2), ratio=4.0)
    assert m.desktop("a4", ACME)["host"] == "h2"


def test_throttling_applied_and_released(cleanup, tmp_path):
    m = Mgr(cleanup, tmp_path, config={"resources": {"sample_sec": 1, "hold_samples": 2}}).start()
    m.site()
    # 2 cores x 2 threads, ratio 4: three 2-vCPU desktops need 2 CPUs (one core).
    m.test_host("h1", shape=(1, 2, 2), ratio=4.0)
    m.tenant("acme", 100)
    m.model()
    m.quota("acme")
    ds = [m.desktop(f"d{i}", ACME) for i in range(3)]
    assert m.ok("GET", "hosts/h1")["partitions"][0]["cpus"] == "0,2"

    def throttled():
        return [m.ok("GET", f"desktops/{d['id']}", token=ACME) for d in ds]

    def capped(d):  # "throttled" is the decision; the re-pin writes the XML after it
        return "<quota>" in d["libvirt"]["saved_cputune"]

    # The test driver's domains each use a whole CPU: 3 CPUs of demand on a 2-CPU partition.
    deadline = time.time() + 15
    while time.time() < deadline and not all(d["throttled"] and capped(d) for d in throttled()):
        time.sleep(0.5)
    now = throttled()
    assert all(d["throttled"] for d in now), now
    # Capped at its share: 2/3 of a CPU over 2 vCPUs, per 100 ms period.
    assert all("<quota>33333</quota>" in d["libvirt"]["saved_cputune"] for d in now)
    assert all("<period>100000</period>" in d["libvirt"]["saved_cputune"] for d in now)
    # One stops: the other two fit their shares, and are released.
    m.wait_job(m.ok("POST", f"desktops/{ds[0]['id']}/stop", token=ACME)["job"]["id"])
    deadline = time.time() + 15
    while time.time() < deadline and any(d["throttled"] or capped(d) for d in throttled()[1:]):
        time.sleep(0.5)
    now = throttled()
    assert not any(d["throttled"] for d in now[1:]), now
    assert all("<quota>" not in d["libvirt"]["saved_cputune"] for d in now[1:])


def test_lifecycle(m):
    m.site_h1("acme")
    d = m.desktop("d1", ACME)

    def act(action, want="succeeded"):
        r = m.ok("POST", f"desktops/{d['id']}/{action}", token=ACME)
        assert r["job"]["priority"] == "light"
        assert m.wait_job(r["job"]["id"])["state"] == want
        return m.ok("GET", f"desktops/{d['id']}", token=ACME)

    assert act("stop")["libvirt"]["state"] == "shutoff"
    now = m.ok("GET", f"desktops/{d['id']}", token=ACME)
    assert now["state"] == "stopped"
    status, r = m.call("POST", f"desktops/{d['id']}/reboot", token=ACME)
    assert status == 409 and "stopped" in r["error"]["message"]
    assert act("start")["state"] == "running"
    assert act("reboot")["state"] == "running"
    status, r = m.call("POST", f"desktops/{d['id']}/explode", token=ACME)
    assert status == 404
    r = m.ok("DELETE", f"desktops/{d['id']}", token=ACME)
    assert r["job"]["priority"] == "heavy" and r["desktop"]["state"] == "deleting"
    status, answer = m.call("POST", f"desktops/{d['id']}/start", token=ACME)
    # Refused while it is deleted; gone (404) if the delete job was quicker than this request.
    assert (status == 409 and "deleting" in answer["error"]["message"]) or status == 404, answer
    m.wait_job(r["job"]["id"])
    assert m.ok("GET", "usage")["tenants"][0]["desktops"] == 0


def test_failures_roll_back_and_leave_nothing(cleanup, tmp_path):
    m = Mgr(cleanup, tmp_path)
    # A domain libvirt has that tessmgrd never made (on the host before tessmgrd).
    os.makedirs(os.path.join(m.state, "hosts"))
    with open(os.path.join(m.state, "hosts", "h1.xml"), "w") as f:
        f.write("<node><cpu><nodes>1</nodes><sockets>1</sockets><cores>4</cores>"
                "<threads>2</threads></cpu><memory>33554432</memory>"
                "<domain type='test'><name>acme+taken</name><memory unit='MiB'>512"
                "</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain></node>")
    m.start()
    m.site()
    m.test_host("h1")
    m.tenant("acme", 100)
    m.model()
    m.model("nobase", image="missing.qcow2")
    m.quota("acme")
    m.quota("acme", "nobase")

    def fails(name, model, words):
        r = m.ok("POST", "desktops", {"name": name, "model": model}, token=ACME)
        j = m.wait_job(r["job"]["id"])
        assert j["state"] == "failed" and words in j["error"], j
        assert not os.path.exists(r["desktop"]["overlay"])
        assert m.call("GET", f"desktops/{r['desktop']['id']}", token=ACME)[0] == 404
    # qemu-img fails: no base image.
    fails("d1", "nobase", "missing.qcow2")
    # libvirt fails to define the domain: its name is taken.
    fails("taken", "std", "already exists")
    # Nothing used, nothing defined; the foreign domain reported, never deleted.
    assert all(q["cpus_used"] == 0 for q in m.ok("GET", "quotas"))
    rep = m.ok("GET", "reconcile")["hosts"][0]
    assert [d["name"] for d in rep["not_in_store"]] == ["acme+taken"]
    assert rep["missing_in_libvirt"] == []
    # tessd refuses the port (the host's vhost_dir is none of its port_dirs): rolled back too.
    elsewhere = os.path.join(str(tmp_path), "elsewhere")
    os.makedirs(elsewhere)
    t = tess.Tessd(cleanup, tmp_path, control={"port_dirs": [elsewhere]}).start()
    m.ok("PUT", "hosts/h1", m.host_spec("h1", tessd=t.socket))
    fails("d2", "std", "vhost.path")
    assert m.ok("GET", "hosts/h1")["vcpus_used"] == 0 and t.ctl("port", "list") == []
    # tessd unreachable: placement does not take the host (tests/mgmt/test_hosts.py).
    m.ok("PUT", "hosts/h1", m.host_spec("h1", tessd=os.path.join(m.dir, "no.sock")))
    status, r = m.call("POST", "desktops", {"name": "d3", "model": "std"}, token=ACME)
    assert status == 409 and "tessd" in r["error"]["detail"]["hosts"]["h1"], r
    assert m.ok("GET", "hosts/h1")["vcpus_used"] == 0


def test_host_put_checks_the_new_shape(m):
    """Review 1.15: a host PUT was checked against the old topology, so a smaller test_host
    shape passed with more vCPUs allocated than it has, or partitions it cannot hold."""
    small_host(m, "acme", "bravo")
    m.desktop("a1", ACME)
    m.desktop("a2", ACME)
    m.desktop("b1", BRAVO)  # 6 vCPUs: acme 2 cores, bravo 1
    shape = m.ok("GET", "hosts/h1")["test_host"]
    for sockets, cores, threads, words in ((1, 2, 2, "capacity"), (1, 1, 8, "partition")):
        new = dict(shape, sockets=sockets, cores=cores, threads=threads)
        status, r = m.call("PUT", "hosts/h1", m.host_spec("h1", test_host=new))
        assert status == 409 and words in r["error"]["message"], r
    h = m.ok("GET", "hosts/h1")
    assert h["test_host"] == shape and h["cpus"] == 8 and h["vcpus_used"] == 6
    assert h["up"] and h["vcpus_used"] <= h["cpu_capacity"]
    # A shape that holds them is taken.
    new = dict(shape, sockets=1, cores=3, threads=2)
    m.ok("PUT", "hosts/h1", m.host_spec("h1", test_host=new))
    deadline = time.time() + 30
    while m.ok("GET", "hosts/h1")["cpus"] != 6 and time.time() < deadline:
        time.sleep(0.1)
    h = m.ok("GET", "hosts/h1")
    assert h["cpus"] == 6 and h["up"]
    parts = [set(cpus(p["cpus"])) for p in h["partitions"]]
    assert sum(len(p) for p in parts) == 6 and not parts[0] & parts[1]


def test_host_reconnect_with_a_new_topology_repins_its_desktops(m):
    """Review 1.15: a host that reconnects with another topology (a PUT of its test_host
    shape here; a health-check reconnect takes the same path) is partitioned again, and its
    desktops follow: their CPUs synced (API and store) and their vCPUs re-pinned."""
    small_host(m, "acme", "bravo")
    desks = [(m.desktop("a1", ACME), ACME), (m.desktop("a2", ACME), ACME),
             (m.desktop("b1", BRAVO), BRAVO)]
    before = {d["id"]: pins(m, d["id"], t)[0]["cpus"] for d, t in desks}
    shape = m.ok("GET", "hosts/h1")["test_host"]
    m.ok("PUT", "hosts/h1", m.host_spec("h1", test_host=dict(shape, cores=6)))
    deadline = time.time() + 30
    while m.ok("GET", "hosts/h1")["cpus"] != 12 and time.time() < deadline:
        time.sleep(0.1)
    h = m.ok("GET", "hosts/h1")
    assert h["cpus"] == 12 and h["up"], h
    m.wait_idle()

    def follows():
        parts = {p["tenant"]: p["cpus"] for p in m.ok("GET", "hosts/h1")["partitions"]}
        for d, token in desks:
            desk, p = pins(m, d["id"], token)
            if desk["cpus"] != parts[{ACME: "acme", BRAVO: "bravo"}[token]]:
                return False, ("cpus", desk, parts)
            if not all(s == set(cpus(desk["cpus"])) for s in p):
                return False, ("pins", desk, p)
        return True, None

    deadline = time.time() + 30
    ok, why = follows()
    while not ok and time.time() < deadline:
        time.sleep(0.2)
        ok, why = follows()
    assert ok, (before, why)
    # And the store has them: the same after a restart.
    now = {d["id"]: pins(m, d["id"], t)[0]["cpus"] for d, t in desks}
    assert now != before
    m.stop()
    m.start()
    assert {d["id"]: pins(m, d["id"], t)[0]["cpus"] for d, t in desks} == now


def test_failed_create_puts_the_partition_back(m):
    """Review 1.15: a create that fails at its store commit gives its partition growth back,
    and the tenant's other desktops there follow it back (they were left on the grown set)."""
    small_host(m, "acme")
    a1 = m.desktop("a1", ACME)
    assert set(cpus(m.ok("GET", f"desktops/{a1['id']}", token=ACME)["cpus"])) == {0, 4}
    # Another writer holds the store: the create's commit fails (after tessmgrd's busy wait).
    m.http_timeout = 120
    db = sqlite3.connect(m.config["store"], timeout=0, isolation_level=None)
    db.execute("BEGIN EXCLUSIVE")
    try:
        status, r = m.call("POST", "desktops", {"name": "a2", "model": "std"}, token=ACME)
    finally:
        db.execute("ROLLBACK")
        db.close()
    assert status == 500, r
    part = {p["tenant"]: p for p in m.ok("GET", "hosts/h1")["partitions"]}["acme"]
    assert set(cpus(part["cpus"])) == {0, 4} and part["vcpus"] == 2
    assert set(cpus(m.ok("GET", f"desktops/{a1['id']}", token=ACME)["cpus"])) == {0, 4}
    # And growing works afterwards, both desktops on the grown set.
    a2 = m.desktop("a2", ACME)
    for d in (a1, a2):
        assert set(cpus(m.ok("GET", f"desktops/{d['id']}", token=ACME)["cpus"])) == {0, 1, 4, 5}
    assert m.stop() == 0
    m.start()
    for d in (a1, a2):
        assert set(cpus(m.ok("GET", f"desktops/{d['id']}", token=ACME)["cpus"])) == {0, 1, 4, 5}


def test_restart_keeps_state_and_fails_interrupted_jobs(cleanup, tmp_path):
    slow = os.path.join(str(tmp_path), "slow-qemu-img")
    with open(slow, "w") as f:
        f.write("#!/bin/sh\nsleep 5\nexec qemu-img \"$@\"\n")
    os.chmod(slow, 0o755)
    m = Mgr(cleanup, tmp_path).start()
    m.site_h1("acme")
    kept = m.desktop("kept", ACME)
    assert m.stop() == 0
    # Restarted: the desktop is there, running, in libvirt too (the host kept it).
    m.config["qemu_img"] = slow
    m.start()
    d = m.ok("GET", f"desktops/{kept['id']}", token=ACME)
    assert d["state"] == "running" and d["libvirt"]["state"] == "running"
    rep = m.ok("GET", "reconcile")["hosts"][0]
    assert rep["not_in_store"] == [] and rep["missing_in_libvirt"] == []
    # A create job killed mid-way (qemu-img sleeping) ...
    r = m.ok("POST", "desktops", {"name": "mid", "model": "std"}, token=ACME)
    deadline = time.time() + 5
    while m.ok("GET", f"jobs/{r['job']['id']}")["state"] != "running" and time.time() < deadline:
        time.sleep(0.05)
    m.stop(sig=9)
    del m.config["qemu_img"]
    time.sleep(6)  # no orphaned qemu-img may make the clone later
    m.start()
    j = m.ok("GET", f"jobs/{r['job']['id']}")
    assert j["state"] == "failed" and "interrupted by a restart" in j["error"]
    assert m.call("GET", f"desktops/{r['desktop']['id']}", token=ACME)[0] == 404
    assert not os.path.exists(r["desktop"]["overlay"])
    assert m.ok("GET", "quotas/acme/std")["cpus_used"] == 2
    # And the store is consistent for more work.
    m.desktop("after", ACME)


@pytest.mark.parametrize("damage", ["set back", "deleted"])
def test_ids_are_never_reused_after_a_lost_next_ids(m, damage):
    """Review 1.9: an object row with next_ids still at its id (a crash between the two writes,
    now one commit) must not make the next add reuse the id and overwrite the object."""
    m.site("s1")
    m.site("s2")
    m.test_host("h1", site="s1")
    m.tenant("acme", 100, site="s1")
    m.model()
    assert m.stop() == 0
    db = sqlite3.connect(m.config["store"])
    with db:
        if damage == "deleted":
            db.execute("DELETE FROM meta WHERE key = 'next_ids'")
        else:
            db.execute("UPDATE meta SET value = '[1,1,1,1,1,1,1,1]' WHERE key = 'next_ids'")
    db.close()
    m.start()
    m.site("s3")
    m.test_host("h2", site="s1")
    m.tenant("bravo", 200, site="s1")
    m.model("big", vcpus=4)
    assert m.stop() == 0
    m.start()
    sites = m.ok("GET", "sites")
    assert sorted(s["name"] for s in sites) == ["s1", "s2", "s3"]
    assert len({s["id"] for s in sites}) == 3
    for kind, names in (("hosts", ["h1", "h2"]), ("tenants", ["acme", "bravo"]),
                        ("models", ["big", "std"])):
        objs = m.ok("GET", kind)
        assert sorted(o["name"] for o in objs) == names, kind
        assert len({o["id"] for o in objs}) == len(names), kind


def test_tenants_cannot_collide_by_name(cleanup, tmp_path):
    """Review 1.13: a vlan_name shared by two tenants mixed their usage and made the second
    one's tessd group fail; domain names TENANT-DESKTOP collided (a + b-c, a-b + c)."""
    m = Mgr(cleanup, tmp_path)
    tokens = {"a": "tenant-a-token-0123456789", "a-b": "tenant-ab-token-0123456789"}
    with open(m.tokens, "w") as f:
        json.dump({"tokens": TOKENS["tokens"] + [
            {"token": tok, "principal": t, "role": "tenant", "tenant": t}
            for t, tok in tokens.items()]}, f)
    m.start()
    m.site()
    m.test_host("h1", vlans=(100, 200, 300))
    m.ok("POST", "tenants", {"name": "a", "org_id": "org-a", "datacenter": "paris",
                             "vlan": 100, "vlan_name": "shared-net"})
    body = {"name": "a-b", "org_id": "org-ab", "datacenter": "paris", "vlan": 200,
            "vlan_name": "shared-net"}
    status, r = m.call("POST", "tenants", body)
    assert status == 409, r
    assert "vlan_name" in r["error"]["message"] and r["error"]["path"] == "/vlan_name"
    body["vlan_name"] = "ab-net"
    m.ok("POST", "tenants", body)
    # Nor by renaming into another tenant's vlan_name.
    body["vlan_name"] = "shared-net"
    assert m.call("PUT", "tenants/a-b", body)[0] == 409
    assert m.ok("GET", "tenants/a-b")["vlan_name"] == "ab-net"
    m.model()
    m.quota("a")
    m.quota("a-b")
    # Both on h1 (one shared host): neither name can take the other's domain.
    d1 = m.desktop("b-c", tokens["a"])
    d2 = m.desktop("c", tokens["a-b"])
    names = set()
    for d, t in ((d1, "a"), (d2, "a-b")):
        v = m.ok("GET", f"desktops/{d['id']}", token=tokens[t])
        assert v["host"] == "h1" and v["libvirt"]["state"] == "running"
        names.add(v["libvirt"]["name"])
    assert len(names) == 2


def test_desktops_stored_before_keep_their_domain_name(m):
    """Review 1.13: desktops made before domain names became TENANT+DESKTOP keep the
    TENANT-DESKTOP domain they were defined with (a redefine under another name fails)."""
    small_host(m, "acme")
    old = m.desktop("old", ACME)
    assert m.ok("GET", f"desktops/{old['id']}", token=ACME)["libvirt"]["name"] == "acme+old"
    assert m.stop() == 0
    # As an older tessmgrd left them: no "domain" in the stored desktop, the domain named
    # TENANT-DESKTOP on the host.
    db = sqlite3.connect(m.config["store"])
    with db:
        body = json.loads(db.execute("SELECT body FROM desktops WHERE id = ?",
                                     (old["id"],)).fetchone()[0])
        del body["domain"]
        db.execute("UPDATE desktops SET body = ? WHERE id = ?", (json.dumps(body), old["id"]))
    db.close()
    node = os.path.join(m.state, "hosts", "h1.xml")
    with open(node) as f:
        text = f.read()
    with open(node, "w") as f:
        f.write(text.replace("<name>acme+old</name>", "<name>acme-old</name>"))
    m.start()
    # Growing the partition redefines the old desktop's domain with its new pinning.
    new = m.desktop("new", ACME)
    want = {0, 1, 4, 5}
    d = m.ok("GET", f"desktops/{old['id']}", token=ACME)
    deadline = time.time() + 30
    while set(cpus(d["libvirt"]["vcpu_pins"][0])) != want and time.time() < deadline:
        time.sleep(0.1)
        d = m.ok("GET", f"desktops/{old['id']}", token=ACME)
    assert d["libvirt"]["name"] == "acme-old" and set(cpus(d["cpus"])) == want
    assert set(cpus(d["libvirt"]["vcpu_pins"][0])) == want
    assert m.ok("GET", f"desktops/{new['id']}", token=ACME)["libvirt"]["name"] == "acme+new"
    rep = m.ok("GET", "reconcile")["hosts"][0]
    assert rep["not_in_store"] == [] and rep["missing_in_libvirt"] == []


def test_roles(m):
    m.site_h1("acme", "bravo")
    d = m.desktop("d1", ACME)
    job = m.ok("GET", "jobs")[0]["id"]
    host = m.host_spec("h1")
    site = {"name": "paris", "latitude": 1, "longitude": 2, "storage": m.storage}
    tenant = {"name": "acme", "org_id": "org-acme", "datacenter": "paris", "vlan": 100,
              "vlan_name": "acme-net"}
    model = {"name": "std", "vcpus": 2, "memory_mb": 4096, "base_image": BASE_IMAGE}
    quota = {"tenant": "acme", "model": "std", "max_cpus": 16, "max_memory_mb": 1 << 20}
    # Users of acme (role user, by their sessions): U is assigned d1, V nothing.
    d2 = m.desktop("d2", ACME)
    pw = "correct horse battery"
    for name in ("carol", "dave"):
        m.ok("POST", "users", {"name": name, "password": pw}, token=ACME)
    m.ok("PUT", f"desktops/{d['id']}/users", {"users": ["carol"]}, token=ACME)
    U, V = (m.session({"tenant": "acme", "user": n, "password": pw}) for n in ("carol", "dave"))
    uid = m.ok("GET", "users")[0]["id"]
    P, A, B = PROVIDER, ACME, BRAVO
    # (method, path, body, {token or session: expected status})
    matrix = [
        ("GET", "sites", None, {P: 200, A: 403, B: 403}),
        ("POST", "sites", dict(site, name="lyon"), {A: 403, B: 403, P: 201}),
        ("GET", "sites/paris", None, {P: 200, A: 403}),
        ("PUT", "sites/paris", site, {A: 403, P: 200}),
        ("DELETE", "sites/lyon", None, {A: 403, B: 403, P: 200}),
        ("GET", "hosts", None, {P: 200, A: 403, B: 403}),
        ("GET", "hosts/h1", None, {P: 200, A: 403}),
        ("PUT", "hosts/h1", host, {A: 403, B: 403, P: 200}),
        ("POST", "hosts", dict(host, name="h9"), {A: 403}),
        ("DELETE", "hosts/h1", None, {A: 403, P: 409}),
        ("GET", "tenants", None, {P: 200, A: 200, B: 200}),
        ("GET", "tenants/acme", None, {P: 200, A: 200, B: 404}),
        ("PUT", "tenants/acme", tenant, {A: 403, B: 403, P: 200}),
        ("POST", "tenants", dict(tenant, name="c", vlan=300), {A: 403, B: 403}),
        ("DELETE", "tenants/acme", None, {A: 403, B: 403, P: 409}),
        ("GET", "models", None, {P: 200, A: 200, B: 200}),
        ("GET", "models/std", None, {P: 200, A: 200, B: 200}),
        ("PUT", "models/std", model, {A: 403, P: 200}),
        ("POST", "models", dict(model, name="m2"), {A: 403, B: 403}),
        ("DELETE", "models/std", None, {A: 403, P: 409}),
        ("GET", "quotas", None, {P: 200, A: 200, B: 200}),
        ("GET", "quotas/acme/std", None, {P: 200, A: 200, B: 404}),
        ("PUT", "quotas/acme/std", quota, {A: 403, B: 403, P: 200}),
        ("POST", "quotas", quota, {A: 403, P: 409}),
        ("POST", "quotas/acme/std/hosts", None, {A: 403, B: 403, P: 200}),
        ("DELETE", "quotas/acme/std", None, {A: 403, P: 409}),
        ("GET", "desktops", None, {P: 403, A: 200, B: 200}),
        ("POST", "desktops", {"name": "x", "model": "nope"}, {P: 403, A: 400}),
        ("GET", f"desktops/{d['id']}", None, {P: 403, A: 200, B: 404}),
        ("POST", f"desktops/{d['id']}/reboot", None, {P: 403, B: 404, A: 202}),
        ("DELETE", f"desktops/{d['id']}", None, {P: 403, B: 404}),
        ("GET", "jobs", None, {P: 200, A: 200, B: 200}),
        ("GET", f"jobs/{job}", None, {P: 200, A: 200, B: 404}),
        ("GET", "usage", None, {P: 200, A: 200, B: 200}),
        ("GET", "audit", None, {P: 200, A: 200, B: 200}),
        ("GET", "reconcile", None, {P: 200, A: 403, B: 403}),
    ]
    # Every route: a user reaches only its own desktops (others': 404) and their jobs.
    user_rows = {
        ("GET", "desktops"): {U: 200, V: 200},
        ("POST", "desktops"): {U: 403},
        ("GET", f"desktops/{d['id']}"): {U: 200, V: 404},
        ("POST", f"desktops/{d['id']}/reboot"): {V: 404},  # U's: stop, below
        ("DELETE", f"desktops/{d['id']}"): {V: 404, U: 403},
        ("GET", f"jobs/{job}"): {U: 200, V: 404},
    }
    for row in matrix:
        row[3].update(user_rows.get((row[0], row[1]), {U: 403, V: 403}))
    matrix += [
        ("GET", f"desktops/{d2['id']}", None, {U: 404, V: 404, A: 200}),
        ("POST", f"desktops/{d2['id']}/stop", None, {U: 404, V: 404}),
        ("POST", f"desktops/{d['id']}/connect", {"from": "paris"}, {V: 404, U: 200, B: 404}),
        # A console: every role that sees the desktop (a test-driver one has none: 409).
        ("POST", f"desktops/{d['id']}/console", {"type": "vnc"},
         {P: 409, A: 409, U: 409, B: 404, V: 404}),
        ("GET", "console/" + "A" * 43, None, {P: 400, A: 400, B: 400, U: 400, V: 400}),
        ("POST", f"desktops/{d['id']}/migrate", {"host": "h1"}, {U: 403, A: 403}),
        ("PUT", f"desktops/{d['id']}/users", {"users": ["carol"]},
         {U: 403, V: 403, B: 404, A: 200, P: 200}),
        ("GET", "users", None, {P: 200, A: 200, B: 200, U: 403, V: 403}),
        ("POST", "users", {"name": "x", "password": pw}, {U: 403, V: 403, P: 400}),
        ("GET", f"users/{uid}", None, {P: 200, A: 200, B: 404, U: 403}),
        ("PUT", f"users/{uid}", {"display_name": "C"}, {U: 403, B: 404, A: 200}),
        ("DELETE", f"users/{uid}", None, {U: 403, V: 403, B: 404}),
        ("GET", "session", None, {U: 200, V: 200, P: 401, A: 401}),
        ("POST", f"desktops/{d['id']}/stop", None, {V: 404, U: 202}),
    ] + [("GET", path, None, {U: 403, V: 403}) for path in (
        "routers", "images", "stats", "log", "events", "rates", "chargeback", "tasks",
        "usage/history")]
    for method, path, body, want in matrix:
        for token, status in want.items():
            if isinstance(token, str):
                got, r = m.call(method, path, body, token=token)
            else:
                got, r = token.call(method, path, body)
            who = token[:5] if isinstance(token, str) else "user " + ("V", "U")[token is U]
            assert got == status, (method, path, who, got, r)
        # Without a token, or with a wrong one: 401.
        assert m.call(method, path, body, token=None)[0] == 401, (method, path)
        assert m.call(method, path, body, token="x" * 20)[0] == 401, (method, path)
    # GET /metrics, outside /v1/ (Prometheus' default path): provider only.
    for token, status in {P: 200, A: 403, B: 403, U: 403, None: 401, "x" * 20: 401}.items():
        req = urllib.request.Request(m.url + "/metrics")
        if token is U:
            req.add_header("Cookie", f"tess_session={U.cookie}")
        elif token:
            req.add_header("Authorization", f"Bearer {token}")
        try:
            got = urllib.request.urlopen(req, timeout=30).status
        except urllib.error.HTTPError as e:
            got = e.code
        assert got == status, ("/metrics", token is U or token and token[:5], got)
    # What each sees of lists.
    assert [t["name"] for t in m.ok("GET", "tenants", token=ACME)] == ["acme"]
    assert [q["tenant"] for q in m.ok("GET", "quotas", token=BRAVO)] == ["bravo"]
    assert m.ok("GET", "desktops", token=BRAVO) == []
    assert all(j["tenant_id"] == 1 for j in m.ok("GET", "jobs", token=ACME))
    assert m.ok("GET", "jobs", token=BRAVO) == []
    u = m.ok("GET", "usage", token=BRAVO)
    assert "hosts" not in u and [t["tenant"] for t in u["tenants"]] == ["bravo"]
    assert all(e["tenant"] == "bravo" for e in m.ok("GET", "audit", token=BRAVO))
    assert [x["name"] for x in U.call("GET", "desktops")[1]] == ["d1"]
    assert V.call("GET", "desktops")[1] == []


def test_tenant_token_without_its_tenant_sees_nothing(cleanup, tmp_path):
    """Review 8d02519 1.2: a tenant token whose tenant was never created, or was deleted,
    must be refused everywhere; it must not get the provider's view (hosts, every tenant)."""
    ghost, gone = "ghost-admin-token-01234567", "gone-admin-token-012345678"
    m = Mgr(cleanup, tmp_path)
    write_tokens(m.tokens, {"tokens": TOKENS["tokens"] + [
        token_entry(ghost, "gina", "tenant", "charlie"),
        token_entry(gone, "dave", "tenant", "delta"),
    ]})
    m.start()
    m.site_h1("acme", "bravo")
    m.tenant("delta", 300)
    d = m.desktop("d1", ACME)
    job = m.ok("GET", "jobs")[0]["id"]
    assert m.ok("GET", "usage", token=gone)["tenants"][0]["tenant"] == "delta"
    m.ok("DELETE", "tenants/delta")
    requests = [("GET", p) for p in (
        "usage", "sites", "sites/paris", "hosts", "hosts/h1", "tenants", "tenants/acme",
        "models", "models/std", "quotas", "quotas/acme/std", "desktops", f"desktops/{d['id']}",
        "jobs", f"jobs/{job}", "audit", "reconcile", "images")]
    requests += [("POST", "desktops", {"name": "x", "model": "std"}),
                 ("POST", f"desktops/{d['id']}/reboot", None),
                 ("DELETE", f"desktops/{d['id']}", None)]
    for token in (ghost, gone):
        for method, path, *body in requests:
            got, r = m.call(method, path, body[0] if body else None, token=token)
            assert got == 403, (method, path, token[:5], got, r)
            text = json.dumps(r)
            assert not any(w in text for w in ("h1", "acme", "bravo", "paris")), (path, r)
    assert m.ok("GET", f"desktops/{d['id']}", token=ACME)["state"] == "running"
    # The token works again once its tenant exists, and sees only that tenant.
    m.tenant("charlie", 400)
    u = m.ok("GET", "usage", token=ghost)
    assert "hosts" not in u and [t["tenant"] for t in u["tenants"]] == ["charlie"]


def test_bad_input(m):
    m.site()
    cases = [
        ("POST", "sites", b"{not json", 400, ""),
        ("POST", "sites", b"[1, 2]", 400, ""),
        ("POST", "sites", b'{"name": "a", "name": "b"}', 400, ""),
        ("POST", "sites", {"name": "x", "latitude": 91, "longitude": 0, "storage": "/s"}, 400,
         "/latitude"),
        ("POST", "sites", {"name": "x", "latitude": 1, "longitude": 0, "storage": "rel"}, 400,
         "/storage"),
        ("POST", "sites", {"name": "x", "latitude": 1, "longitude": 0, "storage": "/s",
                           "bogus": 1}, 400, "/bogus"),
        ("POST", "sites", {"name": "x", "latitude": 1, "longitude": 0, "storage": "/s",
                           "client_prefixes": ["10.0.0.0/33"]}, 400, "/client_prefixes/0"),
        ("POST", "sites", {"name": "bad name", "latitude": 1, "longitude": 0, "storage": "/s"},
         400, "/name"),
        ("POST", "hosts", {"name": "h", "site": "paris"}, 400, "/"),
        ("POST", "hosts", {"name": "h", "site": "nowhere", "uri": "test:///default"}, 400,
         "/site"),
        ("POST", "hosts", {"name": "h", "site": "paris", "uri": "test:///default",
                           "vcpu_ratio": 0}, 400, "/vcpu_ratio"),
        ("POST", "hosts", {"name": "h", "site": "paris", "uri": "test:///default",
                           "vlans": [5000]}, 400, "/vlans/0"),
        ("POST", "tenants", {"name": "t", "org_id": "o", "datacenter": "paris", "vlan": 0,
                             "vlan_name": "n"}, 400, "/vlan"),
        ("POST", "tenants", {"name": "t", "org_id": "o", "datacenter": "mars", "vlan": 7,
                             "vlan_name": "n"}, 400, "/datacenter"),
        ("POST", "models", {"name": "m", "vcpus": 0, "memory_mb": 1024, "base_image": "b"}, 400,
         "/vcpus"),
        ("POST", "quotas", {"tenant": "nope", "model": "m", "max_cpus": 1, "max_memory_mb": 1},
         400, "/tenant"),
        ("POST", "sites", {"name": "paris", "latitude": 1, "longitude": 0, "storage": "/s"},
         409, "/name"),
        ("PUT", "sites/paris", {"name": "lyon", "latitude": 1, "longitude": 0, "storage": "/s"},
         400, "/name"),
        ("GET", "nothing", None, 404, ""),
        ("PATCH", "sites/paris", {}, 405, ""),
        ("DELETE", "audit", None, 405, ""),
    ]
    for method, path, body, status, where in cases:
        raw = body if isinstance(body, bytes) else None
        got, r = m.call(method, path, None if raw else body, raw=raw)
        assert got == status, (method, path, body, got, r)
        assert r["error"]["path"] == where, (body, r)
    # Too large a body: 413 before reading it.
    got, r = m.call("POST", "sites", raw=b"{" + b" " * 70000 + b"}")
    assert got == 413
    assert m.call("GET", "v2/x")[0] == 404
    # Nothing of it changed anything.
    assert [s["name"] for s in m.ok("GET", "sites")] == ["paris"]
    assert m.ok("GET", "hosts") == [] and m.ok("GET", "tenants") == []


def test_dot_names_are_refused(m):
    """Review 1.14: names become path components (overlays under storage/overlays/TENANT,
    images under storage/images/NAME): "." and ".." would name the directory or its parent."""
    m.site_h1("acme")
    site = {"latitude": 1, "longitude": 0, "storage": m.storage}
    tenant = {"org_id": "o", "datacenter": "paris", "vlan": 300, "vlan_name": "dots-net"}
    model = {"vcpus": 1, "memory_mb": 1024, "base_image": BASE_IMAGE}
    for name in (".", ".."):
        cases = [
            ("POST", "sites", dict(site, name=name), PROVIDER, "/name"),
            ("POST", "hosts", {"name": name, "site": "paris", "uri": "test:///default"},
             PROVIDER, "/name"),
            ("POST", "tenants", dict(tenant, name=name), PROVIDER, "/name"),
            ("POST", "tenants", dict(tenant, name="t", vlan_name=name), PROVIDER, "/vlan_name"),
            ("POST", "models", dict(model, name=name), PROVIDER, "/name"),
            ("POST", "models", dict(model, name="m", base_image=name), PROVIDER, "/base_image"),
            ("POST", "desktops", {"name": name, "model": "std"}, ACME, "/name"),
        ]
        for method, path, body, token, where in cases:
            got, r = m.call(method, path, body, token=token)
            assert got == 400, (path, body, got, r)
            assert r["error"]["path"] == where, (path, body, r)
        got, r = m.call("POST", f"images/{name.replace('.', '%2E')}/push",
                        {"site": "paris", "file": "x"})
        assert got == 400 and f"'{name}' is not an image name" in r["error"]["message"], r
    assert [t["name"] for t in m.ok("GET", "tenants")] == ["acme"]
    assert m.ok("GET", "desktops", token=ACME) == []


def test_audit_log(m):
    m.site_h1("acme")
    m.desktop("d1", ACME)
    m.call("POST", "desktops", {"name": "d1", "model": "std"}, token=ACME)  # 409
    m.call("DELETE", "sites/paris", token=ACME)  # 403
    log = m.ok("GET", "audit?limit=100")
    got = [(e["principal"], e["role"], e["action"], e["target"], e["result"].split()[0])
           for e in reversed(log)]
    assert got == [
        ("ops", "provider", "POST sites", "site paris", "201"),
        ("ops", "provider", "POST hosts", "host h1", "201"),
        ("ops", "provider", "POST tenants", "tenant acme", "201"),
        ("ops", "provider", "POST models", "model std", "201"),
        ("ops", "provider", "POST quotas", "quota acme/std", "201"),
        ("alice", "tenant", "POST desktops", "desktop d1", "202"),
        ("alice", "tenant", "POST desktops", "desktop d1", "409"),
        ("alice", "tenant", "DELETE sites", "/v1/sites/paris", "403"),
    ]
    assert [e["tenant"] for e in log[:3]] == ["acme"] * 3
    assert m.ok("GET", "audit?action=POST%20desktops")[0]["result"].startswith("409")
    # Append-only, in the store itself.
    db = sqlite3.connect(m.config["store"])
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("DELETE FROM audit")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("UPDATE audit SET result = 'x'")


def test_desktop_ports_in_a_real_tessd(cleanup, tmp_path):
    t = tess.Tessd(cleanup, tmp_path).start()
    m = Mgr(cleanup, tmp_path).start()
    m.site_h1("acme", "bravo", tessd=t.socket, vhost_dir=m.vhost_dir())
    a = m.desktop("a1", ACME)
    b = m.desktop("b1", BRAVO)
    ports = {p["name"]: p for p in t.ctl("port", "list")}
    groups = {g["name"]: g for g in t.ctl("group", "list")}
    # Each desktop's vhost-user port is in its tenant's group (made by tessmgrd), locked to its MAC.
    assert groups["acme-net"]["vlan"] == 100 and groups["bravo-net"]["vlan"] == 200
    assert ports[a["port"]]["mode"] == "access" and ports[a["port"]]["groups"] == ["acme-net"]
    assert ports[b["port"]]["groups"] == ["bravo-net"]
    assert ports[a["port"]]["anti_spoof"] is True
    # A port of tessd's vhost backend (no ethdev): a host takes hundreds of desktops.
    assert ports[a["port"]]["vhost"]["path"] == a["vhost_socket"]
    assert ports[a["port"]]["driver"] == "vhost" and ports[a["port"]]["devargs"] == ""
    # tessd is the client of the socket QEMU serves (no QEMU with the test driver: not up).
    assert ports[a["port"]]["vhost"]["client"] is True
    assert ports[a["port"]]["link"]["up"] is False
    d = m.ok("GET", f"desktops/{a['id']}", token=ACME)
    assert d["libvirt"]["vlan_name"] == "acme-net"
    m.wait_job(m.ok("DELETE", f"desktops/{a['id']}", token=ACME)["job"]["id"])
    assert a["port"] not in {p["name"] for p in t.ctl("port", "list")}
    assert b["port"] in {p["name"] for p in t.ctl("port", "list")}


def test_store_with_the_old_tessd_socket_key(cleanup, tmp_path):
    """Stores written before ssh:// addresses name a host's tessd "tessd_socket" (a path):
    read as "tessd", rewritten so at the host's next write; unix:// is the same socket."""
    t = tess.Tessd(cleanup, tmp_path).start()
    m = Mgr(cleanup, tmp_path).start()
    m.site_h1("acme", tessd=t.socket, vhost_dir=m.vhost_dir())
    m.stop()
    db = sqlite3.connect(m.config["store"])
    (body,) = db.execute("SELECT body FROM objects WHERE name = 'h1'").fetchone()
    old = json.loads(body)
    old["tessd_socket"] = old.pop("tessd")
    db.execute("UPDATE objects SET body = ? WHERE name = 'h1'", (json.dumps(old),))
    db.commit()
    db.close()
    m.start()
    assert m.ok("GET", "hosts/h1")["tessd"] == t.socket
    a = m.desktop("a1", ACME)
    assert a["port"] in {p["name"] for p in t.ctl("port", "list")}
    m.ok("PUT", "hosts/h1", m.host_spec("h1", tessd="unix://" + t.socket))
    db = sqlite3.connect(m.config["store"])
    (body,) = db.execute("SELECT body FROM objects WHERE name = 'h1'").fetchone()
    db.close()
    assert json.loads(body)["tessd"] == "unix://" + t.socket and "tessd_socket" not in body
    a2 = m.desktop("a2", ACME)
    assert a2["port"] in {p["name"] for p in t.ctl("port", "list")}
    assert "tessd_tunnel" not in m.ok("GET", "hosts/h1")  # no tunnel for a local socket
    # The API takes the new key only.
    code, ans = m.call("PUT", "hosts/h1", {**m.host_spec("h1"), "tessd_socket": t.socket})
    assert code == 400 and "tessd_socket" in json.dumps(ans), ans


def tessctl(m, token, *args, check=True):
    """tessctl against m's tessmgrd as the bearer of token."""
    r = subprocess.run([tess.TESSCTL, "-T", token] + list(args), capture_output=True,
                       text=True, env=dict(os.environ, TESSMGR_URL=m.url), timeout=60)
    if check and r.returncode:
        raise AssertionError(f"{args}: {r.returncode} {r.stderr}")
    return r


def test_tessctl_drives_tessmgrd(m):
    def ctl(token, *args, check=True):
        return tessctl(m, token, *args, check=check)

    ctl(PROVIDER, "site", "add", "paris", "--lat", "48.85", "--lon", "2.35", "--storage",
        m.storage)
    ctl(PROVIDER, "host", "add", "h1", "--site", "paris", "--test-host", "1x4x2", "--memory-mb",
        "16384", "--vcpu-ratio", "2", "--vlans", "100,200")
    ctl(PROVIDER, "tenant", "add", "acme", "--org", "o1", "--datacenter", "paris", "--vlan",
        "100", "--vlan-name", "acme-net")
    ctl(PROVIDER, "model", "add", "std", "--vcpus", "2", "--memory-mb", "2048", "--image",
        BASE_IMAGE)
    ctl(PROVIDER, "quota", "add", "acme", "std", "--cpus", "4", "--memory-mb", "8192")
    out = ctl(PROVIDER, "quota", "hosts", "acme", "std").stdout
    assert "h1" in out and "covers 2 of the 2" in out
    out = ctl(ACME, "desktop", "create", "d1", "--model", "std", "--wait").stdout
    assert "job 1 succeeded" in out
    out = ctl(ACME, "desktop", "list").stdout
    assert "d1" in out and "running" in out
    r = ctl(ACME, "desktop", "create", "d2", "--model", "std")
    r = ctl(ACME, "desktop", "create", "d3", "--model", "std", check=False)
    assert r.returncode == 1 and "error 409: quota exceeded" in r.stderr
    out = ctl(PROVIDER, "usage").stdout
    assert "tenant acme (VLAN 100): 2 desktops" in out
    r = ctl(PROVIDER, "desktop", "list", check=False)
    assert r.returncode == 1 and "403" in r.stderr
    r = ctl("wrong-token-000000000", "usage", check=False)
    assert r.returncode == 1 and "401" in r.stderr
    assert json.loads(ctl(ACME, "--json", "job", "list").stdout)[0]["kind"] == "create"
    out = ctl(PROVIDER, "audit", "--limit", "5").stdout
    assert "alice" in out and "TIME (UTC)" in out
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", out), out


def test_tessctl_options_come_from_the_schemas(m):
    """Review of 8d02519 (architecture): tessctl's add|set options for tessmgrd are the
    objects' schemas (--some-key for some_key, booleans --key/--no-key), as tessd's are, with
    the older flags kept as aliases: keys no hand table had work, --help lists them all."""
    tessctl(m, PROVIDER, "site", "add", "paris", "--lat", "48.85", "--longitude", "2.35",
            "--storage", m.storage)
    # --dedicated (an alias) and keys the old tables lacked: --max-ports, --virt-type.
    tessctl(m, PROVIDER, "host", "add", "h2", "--site", "paris", "--test-host", "1x2x1",
            "--memory-mb", "4096", "--dedicated", "--max-ports", "3", "--virt-type", "qemu",
            "--vlans", "100,200")
    h = json.loads(tessctl(m, PROVIDER, "--json", "host", "show", "h2").stdout)
    assert (h["shared"], h["max_ports"], h["virt_type"], h["vlans"]) == \
        (False, 3, "qemu", [100, 200]), h
    # The mechanical form of the same; set (the whole object) through the schema too.
    tessctl(m, PROVIDER, "host", "add", "h3", "--site", "paris", "--test-host", "1x2x1",
            "--memory-mb", "4096", "--no-shared")
    assert json.loads(tessctl(m, PROVIDER, "--json", "host", "show", "h3").stdout)[
        "shared"] is False
    tessctl(m, PROVIDER, "site", "set", "paris", "--latitude", "45.76", "--lon", "4.84",
            "--storage", m.storage, "--prefixes", "10.0.0.0/8", "--prefixes", "192.0.2.0/24")
    site = json.loads(tessctl(m, PROVIDER, "--json", "site", "show", "paris").stdout)
    assert (site["latitude"], site["client_prefixes"]) == \
        (45.76, ["10.0.0.0/8", "192.0.2.0/24"]), site
    # Bad flags and values are refused before any request, naming what is wrong.
    r = tessctl(m, PROVIDER, "site", "add", "x", "--latt", "1", check=False)
    assert r.returncode == 2 and "unknown option '--latt'" in r.stderr, r.stderr
    r = tessctl(m, PROVIDER, "host", "add", "h4", "--vcpu-ratio", "fast", check=False)
    assert r.returncode == 2 and "--vcpu-ratio takes a number, not 'fast'" in r.stderr
    r = tessctl(m, PROVIDER, "quota", "add", "acme", "std", "--max-cpus", check=False)
    assert r.returncode == 2 and "--max-cpus needs a value" in r.stderr, r.stderr
    # --help: every option, with its alias, type and default.
    out = tessctl(m, PROVIDER, "site", "add", "--help").stdout
    assert "--latitude X (or --lat)" in out and "number -90..90, required" in out, out
    out = tessctl(m, PROVIDER, "host", "add", "--help").stdout
    assert "--shared, --no-shared (--dedicated: --no-shared)" in out and "--max-ports N" in out
    out = tessctl(m, PROVIDER, "task", "set", "t", "--help").stdout
    assert "--args ARGS,... (or --arg ONE)" in out, out
    # Completion offers the schema's options of add|set.
    out = subprocess.run([tess.TESSCTL, "__complete", "model", "add", "m", "--ker"],
                         capture_output=True, text=True, timeout=30).stdout
    assert "--kernel" in out.split(), out
