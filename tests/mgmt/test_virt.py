# SPDX-License-Identifier: BSD-3-Clause
"""tessmgrd's libvirt connections: a host reconnected (PUT) while other requests use its
connection (review 1.1); a connection lost and a host that was down come back by themselves,
against a libvirtd of the test's own (review 1.10)."""
import os
import sqlite3
import threading

import pytest

import tess
from libvirtd import LIBVIRTD, Libvirtd
from mgr import ACME, Mgr, libvirt_hosts, wait_host


@pytest.fixture
def m(cleanup, tmp_path):
    return Mgr(cleanup, tmp_path).start()


def host_body(name):
    return {"name": name, "site": "paris", "shared": True, "vcpu_ratio": 1.0,
            "memory_overalloc": 1.0, "vlans": [100, 200],
            "test_host": {"sockets": 1, "cores": 4, "threads": 2, "memory_mb": 32768}}


def test_host_reconnect_while_readers_use_its_connection(m):
    """Review 1.1: a provider PUT of a host reconnects it; requests using the old connection
    meanwhile (usage, reconcile, a desktop's libvirt view) must not use it after it is freed."""
    m.site()
    for name in ("h1", "h2"):
        m.ok("POST", "hosts", host_body(name))
    m.tenant("acme", 100)
    m.model()
    m.quota("acme")
    desk = m.desktop("d0", ACME)
    done = threading.Event()
    errors = []

    def reader(method, path, token=None):
        kw = {"token": token} if token else {}
        try:
            while not done.is_set():
                status, r = m.call(method, path, **kw)
                if status != 200:
                    errors.append((path, status, r))
                    return
        except Exception as e:  # tessmgrd died: the connection is refused or reset
            errors.append((path, repr(e)))

    readers = [threading.Thread(target=reader, args=a) for a in
               (("GET", "usage"), ("GET", "reconcile"), ("GET", f"desktops/{desk['id']}", ACME))]
    for t in readers:
        t.start()
    try:
        for _ in range(200):
            status, r = m.call("PUT", "hosts/h1", host_body("h1"))
            if status != 200:
                errors.append(("PUT hosts/h1", status, r))
                break
    except Exception as e:
        errors.append(("PUT hosts/h1", repr(e)))
    finally:
        done.set()
        for t in readers:
            t.join(60)
    assert m.proc.poll() is None, f"tessmgrd died:\n{m.log()[-4000:]}"
    assert not errors, errors[:5]
    assert m.ok("GET", "hosts/h1")["up"]
    d = m.ok("GET", f"desktops/{desk['id']}", token=ACME)
    assert d["libvirt"]["state"] == "running"


@pytest.mark.skipif(LIBVIRTD is None, reason="libvirtd is not installed (tests/env/deps.sh)")
def test_host_connection_lost_and_back_by_itself(cleanup, tmp_path):
    """Review 1.10: a host whose libvirtd is not there at first comes up once it is; when
    libvirtd goes away it turns down; when libvirtd is back it comes up, with no PUT."""
    lv = Libvirtd(cleanup)
    m = Mgr(cleanup, tmp_path, config={"libvirt": {"health_sec": 1, "backoff_max_sec": 2}})
    m.start()
    m.site()
    h = m.ok("POST", "hosts", {"name": "r1", "site": "paris", "uri": lv.uri, "vlans": [100]})
    assert not h["up"] and h["down_reason"]
    lv.start()
    h = wait_host(m, "r1", True)
    assert h["cpus"] > 0 and h["reconnects"] == 1
    lv.stop()
    h = wait_host(m, "r1", False)
    # Why: the connection lost, or the reconnect tried at once that failed.
    assert h["down_reason"] and h["connection_lost"] == 1
    # A host down takes nothing new.
    assert all(not x["up"] for x in m.ok("GET", "usage")["hosts"])
    lv.start()
    h = wait_host(m, "r1", True)
    assert h["reconnects"] == 2 and h["connection_lost"] == 1
    assert m.proc.poll() is None


@pytest.mark.skipif(LIBVIRTD is None, reason="libvirtd is not installed (tests/env/deps.sh)")
def test_host_whose_libvirtd_hangs_turns_down(cleanup, tmp_path):
    """Review 1.10: a peer that stops answering with its socket open (a hung daemon, a dead
    ssh session) is dropped by keepalives; the host comes back once it answers again."""
    (lv,), m = libvirt_hosts(cleanup, tmp_path, 1)
    lv.freeze()
    try:
        h = wait_host(m, "r1", False)
        assert h["connection_lost"] == 1
        # The API answers meanwhile: nothing waits on the hung daemon under a lock.
        assert not m.ok("GET", "usage")["hosts"][0]["up"]
    finally:
        lv.freeze(False)
    h = wait_host(m, "r1", True)
    assert h["reconnects"] >= 1
    assert m.proc.poll() is None


def test_jobs_on_a_host_down_fail_cleanly_and_run_once_it_is_back(cleanup, tmp_path):
    """Review 1.10: a job on a host whose connection is gone fails at once with the reason
    (no hang, no crash, the desktop as it was); once the host is back, jobs run again."""
    lv = Libvirtd(cleanup)  # never started: the host's URI reaches nothing
    m = Mgr(cleanup, tmp_path, config={"libvirt": {"health_sec": 1, "backoff_max_sec": 2}})
    m.start()
    m.site()
    m.ok("POST", "hosts", host_body("h1"))
    m.tenant("acme", 100)
    m.model()
    m.quota("acme")
    desk = m.desktop("d0", ACME)
    body = host_body("h1")
    del body["test_host"]
    body["uri"] = lv.uri
    assert not m.ok("PUT", "hosts/h1", body)["up"]
    r = m.ok("POST", f"desktops/{desk['id']}/stop", token=ACME)
    j = m.wait_job(r["job"]["id"])  # the provider's: the tenant's error is general
    assert j["state"] == "failed" and "not connected" in j["error"], j
    assert m.ok("GET", f"desktops/{desk['id']}", token=ACME)["state"] == "running"
    # New desktops go nowhere while it is down.
    status, r = m.call("POST", "desktops", {"name": "d1", "model": "std"}, token=ACME)
    assert status == 409, r
    # Back (its test driver again): the desktop is there and its jobs run.
    assert m.ok("PUT", "hosts/h1", host_body("h1"))["up"]
    r = m.ok("POST", f"desktops/{desk['id']}/stop", token=ACME)
    assert m.wait_job(r["job"]["id"], token=ACME)["state"] == "succeeded"
    assert m.ok("GET", f"desktops/{desk['id']}", token=ACME)["state"] == "stopped"
    assert m.proc.poll() is None


@pytest.mark.skipif(LIBVIRTD is None, reason="libvirtd is not installed (tests/env/deps.sh)")
def test_a_hung_host_does_not_hold_up_the_others_checks(cleanup, tmp_path):
    """A host whose libvirtd accepts and never answers (frozen: libvirt has no connect
    timeout) holds its own health check only: another host's loss and return are noticed
    meanwhile, the hung host's check is skipped and counted while it runs, and tessmgrd still
    stops promptly."""
    (lv1, lv2), m = libvirt_hosts(cleanup, tmp_path, 2)
    lv1.freeze()
    try:
        # Keepalives drop it; its reconnect then waits on the frozen daemon for ever.
        wait_host(m, "r1", False)
        # The other host: lost and back, each noticed by its own checks.
        lv2.stop()
        h = wait_host(m, "r2", False)
        assert h["connection_lost"] == 1
        lv2.start()
        h = wait_host(m, "r2", True)
        assert h["reconnects"] >= 1
        # The hung one's check is still running: skipped, and counted, each period.
        tess.wait_for(lambda: m.ok("GET", "hosts/r1")["checks_skipped"] >= 2, 60,
                      "r1's checks skipped while its reconnect hangs")
        assert m.ok("GET", "hosts/r1")["check_running"]
        assert m.proc.poll() is None
        # A check still hung does not hold the stop up.
        assert m.stop() == 0, m.log()[-3000:]
        assert "still waiting on libvirt" in m.log()
    finally:
        lv1.freeze(False)


@pytest.mark.skipif(LIBVIRTD is None, reason="libvirtd is not installed (tests/env/deps.sh)")
def test_hung_checks_do_not_use_up_the_health_threads(cleanup, tmp_path):
    """A check hung on a frozen libvirtd (no connect timeout) holds a thread slot only until
    libvirt.check_timeout_sec (default 2 x health_sec): past it the host is marked hung and
    counted, and with health_threads=1 another host's loss and return are still noticed
    (checks of up hosts never wait for a slot)."""
    (lv1, lv2), m = libvirt_hosts(cleanup, tmp_path, 2, health_threads=1)
    lv1.freeze()
    try:
        # Keepalives drop it; its reconnect then waits on the frozen daemon for ever,
        # on the only health thread.
        wait_host(m, "r1", False)
        tess.wait_for(lambda: m.ok("GET", "hosts/r1")["check_running"], 60,
                      "r1's reconnect hangs")
        lv2.stop()
        h = wait_host(m, "r2", False)
        assert h["connection_lost"] == 1
        lv2.start()
        h = wait_host(m, "r2", True)
        assert h["reconnects"] >= 1
        h = m.ok("GET", "hosts/r1")
        assert h["check_hung"] and h["checks_hung"] >= 1, h
        assert not h["up"] and "hung" in h["down_reason"], h
        assert m.proc.poll() is None
    finally:
        lv1.freeze(False)


@pytest.mark.skipif(LIBVIRTD is None, reason="libvirtd is not installed (tests/env/deps.sh)")
def test_put_of_a_host_whose_check_hangs_is_refused_and_stop_completes(cleanup, tmp_path):
    """A PUT of a host whose health check hangs on its frozen libvirtd (which holds the host's
    connect lock) waits libvirt.connect_lock_wait_sec at most, then is refused with 409 and
    changes nothing (counted in connects_refused); tessmgrd still stops on SIGTERM, the HTTP
    threads not held."""
    lv = Libvirtd(cleanup).start()
    m = Mgr(cleanup, tmp_path, config={"libvirt": {"health_sec": 1, "backoff_max_sec": 2}})
    m.start()
    m.site()
    body = {"name": "r1", "site": "paris", "uri": lv.uri, "vlans": [100]}
    assert m.ok("POST", "hosts", body)["up"]
    lv.freeze()
    try:
        wait_host(m, "r1", False)
        tess.wait_for(lambda: m.ok("GET", "hosts/r1")["check_running"], 60,
                      "r1's reconnect hangs")
        status, r = m.call("PUT", "hosts/r1", dict(body, vlans=[100, 200]))
        assert status == 409, r
        assert "health check" in r["error"]["message"], r
        h = m.ok("GET", "hosts/r1")
        assert h["vlans"] == [100] and h["connects_refused"] == 1, h
        assert m.stop() == 0, m.log()[-3000:]
    finally:
        lv.freeze(False)


@pytest.mark.skipif(LIBVIRTD is None, reason="libvirtd is not installed (tests/env/deps.sh)")
def test_stop_with_a_check_still_hung_closes_the_store(cleanup, tmp_path):
    """At stop, a check still hung in libvirt after the 5 s wait may yet use the state and the
    config: tessmgrd frees nothing and runs no library destructors then (_exit), but closes
    the store first (checkpointed, its WAL gone), which passes integrity_check and serves a
    restart."""
    (lv,), m = libvirt_hosts(cleanup, tmp_path, 1)
    lv.freeze()
    try:
        wait_host(m, "r1", False)
        tess.wait_for(lambda: m.ok("GET", "hosts/r1")["check_running"], 60,
                      "r1's reconnect hangs")
        assert m.stop() == 0, m.log()[-3000:]
        assert "still waiting on libvirt" in m.log()
    finally:
        lv.freeze(False)
    store = m.config["store"]
    assert not os.path.exists(store + "-wal"), "the store was not closed"
    with sqlite3.connect(store) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    m.start()
    assert m.ok("GET", "hosts/r1")["name"] == "r1"
    assert m.stop() == 0, m.log()[-3000:]
