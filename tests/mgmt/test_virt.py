# SPDX-License-Identifier: BSD-3-Clause
"""tessmgrd's libvirt connections: a host reconnected (PUT) while other requests use its
connection (review 1.1)."""
import threading

import pytest

from mgr import ACME, Mgr


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

