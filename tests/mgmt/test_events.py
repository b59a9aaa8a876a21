# SPDX-License-Identifier: BSD-3-Clause
"""GET /v1/events and tessctl monitor --mgr: job transitions and hosts up and down stream as
they happen, one JSON object a line; a tenant token sees only its tenant's events, the
provider all; a stream that is not read misses events without holding tessmgrd."""
import json
import os
import signal
import socket
import subprocess
import threading
import time

import pytest

import tess
from libvirtd import LIBVIRTD
from mgr import (ACME, BRAVO, PROVIDER, TOKENS, Mgr, libvirt_hosts, scrape, token_entry,
                 write_tokens)
from prom import get, parse


def stream(cleanup, m, token):
    """tessctl monitor --mgr with a token."""
    return tess.Monitor(cleanup, ["--mgr"], env=dict(os.environ, TESSMGR_URL=m.url,
                                                       TESSMGR_TOKEN=token))


def job(desktop, state, kind="create"):
    return lambda evs: any(e["event"] == "job" and e["desktop"] == desktop and
                           e["state"] == state and e["kind"] == kind for e in evs)


def streams(m):
    return m.ok("GET", "stats")["events"]["streams"]


@pytest.fixture
def m(cleanup, tmp_path):
    m = Mgr(cleanup, tmp_path).start()
    m.site()
    m.test_host("h1", shape=(1, 4, 2), memory_mb=32768)
    m.model()
    for name, vlan in (("acme", 100), ("bravo", 200)):
        m.tenant(name, vlan)
        m.quota(name, cpus=4, memory_mb=1 << 20)
    return m


def test_job_transitions_by_tenant(cleanup, m):
    prov, acme, bravo = (stream(cleanup, m, t) for t in (PROVIDER, ACME, BRAVO))
    tess.wait_for(lambda: streams(m) == 3, 10, "three streams")
    a1 = m.desktop("a1", ACME)
    m.desktop("b1", BRAVO)
    for s in (prov, acme):
        evs = s.read_until(job("a1", "succeeded"), 30)
        states = [e["state"] for e in evs if e["event"] == "job" and e["desktop"] == "a1"]
        assert states == ["queued", "running", "succeeded"], states
        mine = [e for e in evs if e["event"] == "job" and e["desktop"] == "a1"]
        assert all(e["tenant"] == "acme" and e["host"] == "h1" and e["kind"] == "create" and
                   isinstance(e["time"], float) for e in mine), mine
    prov.read_until(job("b1", "succeeded"), 30)
    bravo.read_until(job("b1", "succeeded"), 30)
    # Each tenant sees its own jobs only.
    assert all(e.get("tenant") == "acme" for e in acme.events), acme.events
    assert all(e.get("tenant") == "bravo" for e in bravo.events), bravo.events
    # A delete's job too.
    m.ok("DELETE", f"desktops/{a1['id']}", token=ACME)
    # (Once deleted, a desktop has no name: its id says which it was.)
    acme.read_until(lambda evs: any(e["event"] == "job" and e["kind"] == "delete" and
                                    e["state"] == "succeeded" and e["desktop_id"] == a1["id"]
                                    for e in evs), 30)
    assert not any(e.get("tenant") == "acme" for e in bravo.events)


@pytest.mark.skipif(LIBVIRTD is None, reason="libvirtd is not installed (tests/env/deps.sh)")
def test_host_down_and_up_stream_to_the_provider(cleanup, tmp_path):
    """A host's libvirtd stopped: one host.down on the provider's stream, with its reason,
    and tessera_mgr_host_up 0; started again: one host.up and 1. Tenants' streams get
    neither. libvirt.health_sec 1: seconds each way."""
    (lv,), m = libvirt_hosts(cleanup, tmp_path, 1)
    m.tenant("acme", 100)
    m.model(vcpus=1, memory_mb=256)  # the test driver's host is small
    m.quota("acme")
    prov, acme = stream(cleanup, m, PROVIDER), stream(cleanup, m, ACME)
    tess.wait_for(lambda: streams(m) == 2, 10, "two streams")

    def host_up():
        status, _, text = scrape(m)
        assert status == 200, text
        return get(parse(text)[0], "tessera_mgr_host_up", host="r1")

    def host_events(evs):
        return [e for e in evs if e["event"].startswith("host.")]

    assert host_up() == 1
    lv.stop()
    evs = prov.read_until(lambda evs: host_events(evs), 30)
    (down,) = host_events(evs)
    assert down["event"] == "host.down" and down["host"] == "r1", down
    assert down["reason"] == "libvirt connection lost" and isinstance(down["time"], float), down
    assert host_up() == 0
    assert not m.ok("GET", "hosts/r1")["up"]
    lv.start()
    evs = prov.read_until(lambda evs: len(host_events(evs)) == 2, 30)
    up = host_events(evs)[1]
    assert up["event"] == "host.up" and up["host"] == "r1" and up["reason"] == "", up
    assert host_up() == 1
    # A desktop placed on it after: its job reaches acme, which saw no host event.
    m.desktop("a1", ACME)
    acme.read_until(job("a1", "succeeded"), 30)
    assert not host_events(acme.events), acme.events
    assert len(host_events(prov.read_until(job("a1", "succeeded"), 30))) == 2


def test_count_timeout_and_refusals(cleanup, m):
    env = dict(os.environ, TESSMGR_URL=m.url, TESSMGR_TOKEN=ACME)
    p = subprocess.Popen([tess.TESSCTL, "monitor", "--mgr", "--count", "3", "--timeout", "30"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    cleanup.add(lambda: p.poll() is None and p.kill())
    tess.wait_for(lambda: streams(m) == 1, 10, "a stream")
    m.desktop("a1", ACME)
    out, err = p.communicate(timeout=30)
    assert p.returncode == 0, err
    lines = out.splitlines()
    assert len(lines) == 3 and all(" job " in ln and "desktop=a1" in ln for ln in lines), lines
    # A quiet stream ends at --timeout with status 0.
    t0 = time.monotonic()
    r = subprocess.run([tess.TESSCTL, "monitor", "--mgr", "--timeout", "1"], env=env,
                       capture_output=True, text=True, timeout=20)
    assert r.returncode == 0 and r.stdout == "" and time.monotonic() - t0 < 10, r.stderr
    # No token, a wrong method.
    st, _ = m.call("GET", "events", token=None)
    assert st == 401
    st, _ = m.call("POST", "events", {}, token=ACME)
    assert st == 405
    tess.wait_for(lambda: streams(m) == 0, 10, "streams closed")


def test_quiet_stream_lives_on_beats(m):
    """A stream with no event for longer than tessctl's 20 s silence limit lives on
    tessmgrd's beats (a newline every 5 s) until --timeout: it once ended at 20 s with "no
    data", libcurl's low-speed limit (1 byte a second) counting the beats as silence."""
    env = dict(os.environ, TESSMGR_URL=m.url, TESSMGR_TOKEN=PROVIDER)
    t0 = time.monotonic()
    r = subprocess.run([tess.TESSCTL, "monitor", "--mgr", "--timeout", "24"], env=env,
                       capture_output=True, text=True, timeout=60)
    took = time.monotonic() - t0
    assert r.returncode == 0 and r.stdout == "" and r.stderr == "", r
    assert 23 < took < 40, took


def test_unread_stream_does_not_hold_tessmgrd(cleanup, m):
    # A client that asks for the stream and never reads it.
    host, port = m.url.split("//")[1].rsplit(":", 1)
    s = socket.create_connection((host, int(port)))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    cleanup.add(s.close)
    s.sendall(f"GET /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {PROVIDER}\r\n"
              "\r\n".encode())
    tess.wait_for(lambda: streams(m) == 1, 10, "a stream")
    # Desktops come and go meanwhile, their jobs answered as usual.
    for i in range(2):
        m.desktop(f"a{i}", ACME)
    assert m.ok("GET", "desktops", token=ACME)
    s.close()
    tess.wait_for(lambda: streams(m) == 0, 20, "the stream ended with its client")


def monitor_of_fake_server(cleanup, *args):
    """`tessctl monitor --mgr *args` against a server of the test's: (the process, the
    connection it made, its request read; the test answers)."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    cleanup.add(srv.close)
    env = dict(os.environ, TESSMGR_URL="http://127.0.0.1:%d" % srv.getsockname()[1],
               TESSMGR_TOKEN=ACME)
    p = subprocess.Popen([tess.TESSCTL, "monitor", "--mgr", *args], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=env)
    cleanup.add(lambda: p.poll() is None and p.kill())
    conn, _ = srv.accept()
    cleanup.add(conn.close)
    conn.recv(4096)
    return p, conn


def test_silent_server_ends_monitor(cleanup):
    """A server that sends its headers and one chunk, then goes silent without closing (a host
    that died, a cut cable): monitor --mgr gives up within 20 s of silence, with an error,
    instead of waiting forever (tessmgrd beats every 5 s)."""
    t0 = time.monotonic()
    p, conn = monitor_of_fake_server(cleanup)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\n"
                 b"Transfer-Encoding: chunked\r\n\r\n1\r\n\n\r\n")
    try:
        out, err = p.communicate(timeout=40)
    except subprocess.TimeoutExpired:
        pytest.fail("tessctl monitor --mgr still waits on a silent server after 40 s")
    assert p.returncode not in (0, None), (p.returncode, err)
    assert time.monotonic() - t0 < 30 and err.strip(), err


def test_monitor_option_bounds():
    """--kind filters tessd's events only: with --mgr it is refused, not ignored; --timeout is
    bounded (its milliseconds once overflowed an int)."""
    env = dict(os.environ, TESSMGR_URL="http://127.0.0.1:9", TESSMGR_TOKEN=ACME)
    for args in (["--mgr", "--kind", "job"], ["--mgr", "--timeout", "4294968"],
                 ["--timeout", "99999999999"]):
        r = subprocess.run([tess.TESSCTL, "monitor", *args], env=env, capture_output=True,
                           text=True, timeout=20)
        assert r.returncode == 2 and r.stderr, (args, r.returncode, r.stderr)


def test_monitor_escapes_control_characters(cleanup):
    """Event strings come from the server (tenant names, tessd's error text): an escape
    sequence or a newline in one is printed escaped, never sent to the terminal."""
    p, conn = monitor_of_fake_server(cleanup, "--count", "1")
    line = b'{"event":"job\\u001b[2J","time":1,"desktop":"a\\u001b]0;x\\u0007\\nfake 1"}\n'
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\n"
                 b"Content-Length: %d\r\n\r\n" % len(line) + line)
    out, err = p.communicate(timeout=20)
    assert p.returncode == 0, err
    assert "\x1b" not in out and "\x07" not in out and out.count("\n") == 1, repr(out)
    assert "\\x1b" in out, repr(out)


def test_stream_ends_when_token_revoked_or_tenant_deleted(cleanup, m):
    """A stream is its token's: a token file reload ends it (a revoked token must not keep
    receiving its tenant's events), and so does its tenant's deletion."""
    acme, bravo = stream(cleanup, m, ACME), stream(cleanup, m, BRAVO)
    tess.wait_for(lambda: streams(m) == 2, 10, "two streams")
    # bravo's token revoked: only acme's (and the provider's) stay in the file.
    write_tokens(m.tokens, {"tokens": TOKENS["tokens"][:2]})
    m.proc.send_signal(signal.SIGHUP)
    assert bravo.p.wait(15) is not None
    assert m.call("GET", "events", token=BRAVO)[0] == 401
    # acme's stream ended too (every stream re-authenticates after a reload); a new one
    # is taken and ends with acme's deletion.
    assert acme.p.wait(15) is not None
    acme = stream(cleanup, m, ACME)
    tess.wait_for(lambda: streams(m) == 1, 10, "acme's new stream")
    m.ok("DELETE", "quotas/acme/std")
    m.ok("DELETE", "tenants/acme")
    assert acme.p.wait(15) is not None
    tess.wait_for(lambda: streams(m) == 0, 10, "no stream left")


def open_stream(m, token):
    """A raw GET /v1/events: (status, socket, the rest of its answer once refused)."""
    host, port = m.url.split("//")[1].rsplit(":", 1)
    s = socket.create_connection((host, int(port)), timeout=10)
    s.sendall(f"GET /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
              "Connection: close\r\n\r\n".encode())
    head = b""
    while b"\r\n" not in head:
        chunk = s.recv(4096)
        assert chunk, head
        head += chunk
    status = int(head.split()[1])
    if status == 200:
        return status, s, None
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        head += chunk
    s.close()
    return status, None, json.loads(head.split(b"\r\n\r\n", 1)[1])


def test_tenant_tokens_cannot_take_every_stream(cleanup, tmp_path):
    """The 16 streams are shared: a tenant token holds at most 4 (then 429), tenants together
    at most 12 (then 503), so the provider's monitor always finds one."""
    more = [f"acme-extra-token-{i}-0123456789" for i in range(3)]
    m = Mgr(cleanup, tmp_path)
    write_tokens(m.tokens, {"tokens": TOKENS["tokens"] +
                            [token_entry(t, f"a{i}", "tenant", "acme")
                             for i, t in enumerate(more)]})
    m.start()
    m.site()
    m.tenant("acme", 100)
    m.tenant("bravo", 200)
    held = []

    def take(token, n):
        for _ in range(n):
            st, s, err = open_stream(m, token)
            assert st == 200, (st, err)
            cleanup.add(s.close)
            held.append(s)

    take(ACME, 4)
    st, _, err = open_stream(m, ACME)
    assert st == 429 and "4 event streams" in err["error"]["message"], (st, err)
    take(more[0], 4)
    take(more[1], 4)
    # Twelve tenant streams: the tenants' share is full, for every tenant token.
    for token in (more[2], BRAVO):
        st, _, err = open_stream(m, token)
        assert st == 503 and "tenants already" in err["error"]["message"], (st, err)
    tess.wait_for(lambda: streams(m) == 12, 10, "twelve streams")
    # The provider still gets its four; then all sixteen are taken.
    take(PROVIDER, 4)
    st, _, err = open_stream(m, PROVIDER)
    assert st == 503 and "16 event streams" in err["error"]["message"], (st, err)
    # A stream closed frees its slot for its token.
    held[0].close()
    tess.wait_for(lambda: streams(m) == 15, 20, "a stream closed")
    take(ACME, 1)
    r = subprocess.run([tess.TESSCTL, "monitor", "--mgr", "--timeout", "1"], capture_output=True,
                       text=True, timeout=20,
                       env=dict(os.environ, TESSMGR_URL=m.url, TESSMGR_TOKEN=BRAVO))
    assert r.returncode != 0 and "503" in r.stderr, (r.returncode, r.stderr)
    # With --json the error's body goes to stdout too, as other tessmgrd commands print it.
    r = subprocess.run([tess.TESSCTL, "--json", "monitor", "--mgr", "--timeout", "1"],
                       capture_output=True, text=True, timeout=20,
                       env=dict(os.environ, TESSMGR_URL=m.url, TESSMGR_TOKEN=BRAVO))
    assert r.returncode != 0 and "503" in r.stderr, (r.returncode, r.stderr)
    assert json.loads(r.stdout)["error"]["status"] == 503, r.stdout


def paused_mgr(cleanup, tmp_path):
    """tessmgrd that pauses 2 s in each GET /v1/events between its token's lookup and the
    stream's admission (fault point events.admit), with tenants acme and bravo."""
    m = Mgr(cleanup, tmp_path)
    m.env = {"TESS_FAULT": "events.admit:pause"}
    m.start()
    m.site()
    m.tenant("acme", 100)
    m.tenant("bravo", 200)
    return m


def test_token_revoked_during_admission_ends_stream(cleanup, tmp_path):
    """The stream keeps the token file generation its token was looked up in: a reload
    between the lookup and the admission (which may have revoked it) ends it too."""
    m = paused_mgr(cleanup, tmp_path)
    bravo = stream(cleanup, m, BRAVO)
    tess.wait_for(lambda: "fault point events.admit" in m.log(), 10, "the admission paused")
    write_tokens(m.tokens, {"tokens": TOKENS["tokens"][:2]})
    m.proc.send_signal(signal.SIGHUP)
    assert bravo.p.wait(15) is not None
    tess.wait_for(lambda: streams(m) == 0, 10, "no stream left")


def test_tenant_deleted_during_admission_gets_no_stream(cleanup, tmp_path):
    """A tenant deleted while its token's stream is being admitted: the stream is refused
    (403), not left open for good (the delete ended the streams it found)."""
    m = paused_mgr(cleanup, tmp_path)
    box = {}
    t = threading.Thread(target=lambda: box.setdefault("r", open_stream(m, BRAVO)))
    t.start()
    tess.wait_for(lambda: "fault point events.admit" in m.log(), 10, "the admission paused")
    m.ok("DELETE", "tenants/bravo")
    t.join(15)
    st, s, err = box["r"]
    if s is not None:
        cleanup.add(s.close)
    assert st == 403 and "does not exist" in err["error"]["message"], (st, err)
    assert streams(m) == 0
