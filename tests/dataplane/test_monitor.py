# SPDX-License-Identifier: BSD-3-Clause
"""tessctl monitor and events.subscribe: tessd streams port link changes, MAC learns, route
changes and config commits as they happen, one JSON object a line; a subscriber that never
reads misses events (counted) without holding traffic or the control API."""
import json
import socket
import subprocess
import time

import tess


def vsw(cleanup, tmp_path):
    """Two veth ports in one access group, their peers in namespaces 10.79.0.1 and .2, and a
    tap port "c" left in this namespace (its link follows the tap's: af_packet has none)."""
    pa, peer_a = tess.veth_port(cleanup, "a", 0, mode="access", group="g")
    pb, peer_b = tess.veth_port(cleanup, "b", 1, mode="access", group="g")
    tap = f"tc{tess.uid()}"
    t = tess.Tessd(cleanup, tmp_path, ports=[pa, pb, tess.tap_port("c", tap, 2)])
    t.tap = tap
    t.config["switch"] = {"groups": [{"name": "g", "vlan": 10}]}
    t.start()
    na, nb = tess.Netns(cleanup), tess.Netns(cleanup)
    na.attach(peer_a, "10.79.0.1/24")
    nb.attach(peer_b, "10.79.0.2/24")
    return t, (na, peer_a), (nb, peer_b)


def has(kind, **fields):
    return lambda evs: any(e["event"] == kind and all(e.get(k) == v for k, v in fields.items())
                           for e in evs)


def test_events_of_links_learns_routes_and_commits(cleanup, tmp_path):
    t, (na, _), _ = vsw(cleanup, tmp_path)
    m = tess.Monitor(cleanup, ["--tessd", t.socket])
    tess.wait_for(lambda: t.ctl("status")["event_subscribers"] == 1, 10, "subscribed")
    # A learn for each end of a ping (anything learned before forgotten first).
    t.tessctl("fdb", "flush")
    assert na.ping("10.79.0.2", count=2) == (2, 2)
    m.read_until(has("fdb.learn", port="a", group="g", vlan=10), 10)
    m.read_until(has("fdb.learn", port="b", group="g"), 10)
    # The tap's link down and up: the port's follows (polled once a second).
    tess.sh("ip", "link", "set", t.tap, "down")
    m.read_until(has("port.link", port="c", up=False), 10)
    tess.sh("ip", "link", "set", t.tap, "up")
    m.read_until(has("port.link", port="c", up=True), 10)
    # A route through the API: its commit, and the FIB change.
    t.tessctl("vrf", "add", "v1", "--id", "7")
    t.tessctl("route", "add", "10.200.0.0/16", "--vrf", "v1", "--blackhole")
    m.read_until(has("route.add", vrf="v1", prefix="10.200.0.0/16", origin="static"), 10)
    t.tessctl("route", "del", "10.200.0.0/16", "--vrf", "v1")
    evs = m.read_until(has("route.del", vrf="v1", prefix="10.200.0.0/16"), 10)
    assert any(e["event"] == "config.commit" and e["generation"] > 0 for e in evs)
    assert all(isinstance(e["time"], float) for e in evs)
    st = t.ctl("status")
    assert st["events_emitted"] >= len(evs) and st["events_dropped"] == 0


def test_count_kind_and_timeout(cleanup, tmp_path):
    t, (na, _), _ = vsw(cleanup, tmp_path)
    # --kind keeps a prefix's events; --count ends after N; human lines by default.
    p = subprocess.Popen([tess.TESSCTL, "-s", t.socket, "monitor", "--kind", "fdb",
                          "--count", "2", "--timeout", "20"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    cleanup.add(lambda: p.poll() is None and p.kill())
    tess.wait_for(lambda: t.ctl("status")["event_subscribers"] == 1, 10, "subscribed")
    t.tessctl("vrf", "add", "v1", "--id", "7")  # a commit: not an fdb event
    t.tessctl("fdb", "flush")
    assert na.ping("10.79.0.2", count=2) == (2, 2)
    out, err = p.communicate(timeout=20)
    assert p.returncode == 0, err
    lines = out.splitlines()
    assert len(lines) == 2 and all(" fdb.learn mac=" in ln for ln in lines), lines
    # --timeout ends a quiet monitor with status 0.
    t0 = time.monotonic()
    r = t.tessctl("monitor", "--kind", "route", "--timeout", "1", timeout=10)
    assert r.stdout == "" and time.monotonic() - t0 < 5
    r = t.tessctl("monitor", "--kind", "Bad!", "--timeout", "1", check=False)
    assert r.returncode == 1 and "/params/kinds/0" in r.stderr
    r = t.tessctl("monitor", "--count", "0", check=False)
    assert r.returncode == 2


def call(path, method, params):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(30)
    s.connect(path)
    s.sendall((json.dumps({"id": 1, "method": method, "params": params}) + "\n").encode())
    buf = b""
    while b"\n" not in buf:
        d = s.recv(65536)
        assert d
        buf += d
    s.close()
    return json.loads(buf.split(b"\n", 1)[0])


def test_slow_subscriber_loses_events_not_tessd(cleanup, tmp_path):
    t, (na, _), _ = vsw(cleanup, tmp_path)
    t.tessctl("vrf", "add", "v1", "--id", "7")
    # A subscriber that never reads, with a small receive buffer.
    slow = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    slow.connect(t.socket)
    cleanup.add(slow.close)
    slow.sendall(b'{"id": 1, "method": "events.subscribe", "params": {"kinds": ["route"]}}\n')
    tess.wait_for(lambda: t.ctl("status")["event_subscribers"] == 1, 10, "subscribed")
    # 8000 routes in 8 commits: some 800 KB of events, more than a subscriber may hold.
    t0 = time.monotonic()
    for b in range(8):
        edits = [{"op": "add", "array": "/router/routes",
                  "item": {"vrf": "v1", "prefix": f"10.{100 + b * 4 + i // 256}.{i % 256}.0/24",
                           "type": "blackhole"}} for i in range(1000)]
        r = call(t.socket, "config.batch", {"edits": edits})
        assert "result" in r, r
    # The API and forwarding answer at once all the same.
    t.tessctl("status", timeout=5)
    assert na.ping("10.79.0.2", count=3) == (3, 3)
    assert time.monotonic() - t0 < 15
    st = t.ctl("status")
    assert st["events_dropped"] > 0 and st["event_subscribers"] == 1, st
    assert t.ctl("stats")["events_lost"] == st["events_dropped"]
    # What it holds is bounded: it reads the first events, whole lines, then a gap.
    slow.settimeout(5)
    data = b""
    while True:
        try:
            d = slow.recv(1 << 20)
        except socket.timeout:
            break
        if not d:
            break
        data += d
    lines = data.split(b"\n")
    first = json.loads(lines[0])
    assert first == {"id": 1, "result": {"subscribed": True, "kinds": ["route"]}}
    evs = [json.loads(x) for x in lines[1:] if x]
    assert all(e["event"] == "route.add" for e in evs)
    assert 0 < len(evs) < 8000
    assert len(data) < 1 << 20
