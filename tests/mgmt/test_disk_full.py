# SPDX-License-Identifier: BSD-3-Clause
"""Disk full (issue 14's fault matrix): tessmgrd's store and a site's storage on tmpfs file
systems of a few MiB, filled up. Requests and jobs fail with a clear error, nothing is half
done, and once there is room again everything works, after a restart too."""
import os
import sqlite3

import pytest

import tess
from mgr import ACME, Mgr


def tmpfs(cleanup, path, size):
    os.makedirs(path)
    tess.sh("mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", path)
    cleanup.add(tess.sh, "umount", "-l", path, check=False)
    return path


def fill(path):
    """Fills the file system of path; returns the filler's name (delete it to make room)."""
    filler = os.path.join(path, "filler")
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        for size in (65536, 512, 1):  # down to the last byte
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError:
                pass
    finally:
        os.close(fd)
    return filler


def integrity(path):
    with sqlite3.connect(path) as db:
        return db.execute("PRAGMA integrity_check").fetchone()[0]


def provision(m):
    m.site()
    m.test_host("h1")
    m.tenant("acme", 100)
    m.model()
    m.quota("acme", cpus=8)


def nothing_used(m):
    assert m.ok("GET", "hosts/h1")["vcpus_used"] == 0
    assert all(q["cpus_used"] == 0 for q in m.ok("GET", "quotas"))
    rep = m.ok("GET", "reconcile")["hosts"][0]
    assert rep["not_in_store"] == [] and rep["missing_in_libvirt"] == []


def test_store_disk_full(cleanup, tmp_path):
    fs = tmpfs(cleanup, str(tmp_path / "storefs"), "2m")
    m = Mgr(cleanup, tmp_path, {"store": os.path.join(fs, "store.db")}).start()
    provision(m)
    d1 = m.desktop("d1", ACME)
    filler = fill(fs)
    # Creates are refused or fail as jobs, with a reason; none is half made.
    for i in range(5):
        status, r = m.call("POST", "desktops", {"name": f"full{i}", "model": "std"}, token=ACME)
        assert status in (202, 500, 503, 507), (status, r)
        if status == 202:
            j = m.wait_job(r["job"]["id"], token=ACME)
            assert j["state"] == "failed" and j["error"], j
        else:
            assert r["error"]["message"], r
    # Deleting needs the store too: refused or failed, the desktop still whole.
    status, r = m.call("DELETE", f"desktops/{d1['id']}", token=ACME)
    if status == 202:
        m.wait_job(r["job"]["id"], token=ACME)
    names = {d["name"] for d in m.ok("GET", "desktops", token=ACME)}
    assert names <= {"d1"}, names
    assert m.proc.poll() is None, m.log()
    # Room again: everything works, and after a restart the store is whole.
    os.unlink(filler)
    d2 = m.desktop("d2", ACME)
    assert m.ok("GET", f"desktops/{d2['id']}", token=ACME)["state"] == "running"
    m.stop()
    assert integrity(m.config["store"]) == "ok"
    m.start()
    names = {d["name"] for d in m.ok("GET", "desktops", token=ACME)}
    assert "d2" in names and not any(n.startswith("full") for n in names), names
    for d in m.ok("GET", "desktops", token=ACME):
        m.wait_job(m.ok("DELETE", f"desktops/{d['id']}", token=ACME)["job"]["id"], token=ACME)
    nothing_used(m)


def test_site_storage_full(cleanup, tmp_path):
    m = Mgr(cleanup, tmp_path)
    # The site's storage on a small file system, with the base image on it.
    fs = tmpfs(cleanup, str(tmp_path / "sitefs"), "4m")
    tess.sh("qemu-img", "create", "-q", "-f", "qcow2", os.path.join(fs, "win11.qcow2"), "16M")
    m.start()
    m.site(storage=fs)
    m.test_host("h1")
    m.tenant("acme", 100)
    m.model()
    m.quota("acme", cpus=8)
    filler = fill(fs)
    r = m.ok("POST", "desktops", {"name": "d1", "model": "std"}, token=ACME)
    j = m.wait_job(r["job"]["id"])  # the provider's: the tenant's error is general
    assert j["state"] == "failed" and "space" in j["error"].lower(), j
    # Rolled back: no desktop, no overlay, no room or quota held, no domain.
    assert m.ok("GET", "desktops", token=ACME) == []
    assert not [f for _, _, fs_ in os.walk(os.path.join(fs, "overlays")) for f in fs_]
    nothing_used(m)
    os.unlink(filler)
    d1 = m.desktop("d1", ACME)
    assert m.ok("GET", f"desktops/{d1['id']}", token=ACME)["state"] == "running"


@pytest.fixture(autouse=True)
def _root():
    if os.geteuid() != 0:
        pytest.fail("needs root (tmpfs mounts)")
