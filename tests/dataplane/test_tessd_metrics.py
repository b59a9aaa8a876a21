# SPDX-License-Identifier: BSD-3-Clause
"""tessctl metrics: tessd's stats.get in Prometheus' text exposition format 0.0.4 (read with
a strict parser), for node_exporter's textfile collector: per-port, per-worker, per-stage and
drop counters move with a ping through tessd, and --output replaces its file atomically.
tessd's own listener (control.metrics_listen) serves the same series on GET /metrics,
loopback only, and a client that stalls never holds the control thread."""
import http.client
import json
import os
import re
import resource
import socket
import subprocess
import time

import pytest

import tess
from prom import get, parse


def metrics(t, *args):
    return t.tessctl("metrics", *args).stdout


def test_counters_follow_a_ping(cleanup, tmp_path):
    t, (na, ia), (nb, ib) = tess.tap_pair(cleanup, tmp_path)
    t.tessctl("stats", "--reset")
    s, types = parse(metrics(t))
    before = get(s, "tessera_tessd_ports_rx_packets_total", name="a")
    assert before is not None and types["tessera_tessd_ports_rx_packets_total"] == "counter"
    assert na.ping("10.77.0.2", count=5) == (5, 5)
    s, types = parse(metrics(t))
    st = t.port_stats()
    for p in ("a", "b"):
        for f in ("rx_packets", "tx_packets", "rx_bytes", "tx_bytes"):
            assert get(s, f"tessera_tessd_ports_{f}_total", name=p) == st[p][f], (p, f)
    assert get(s, "tessera_tessd_ports_rx_packets_total", name="a") >= before + 5
    # Drops by reason per port (their sum, drops_total, is not repeated), and by module.
    assert get(s, "tessera_tessd_ports_drops_total", name="a", reason="no_output") == 0
    assert get(s, "tessera_tessd_ports_drops_total", name="a") is None
    # Workers are named by their index, stages by their strings.
    w = get(s, "tessera_tessd_workers_packets_total", worker="0")
    assert w == st["a"]["rx_packets"] + st["b"]["rx_packets"]
    assert get(s, "tessera_tessd_stages_packets_total", name="xconnect", module="xconnect",
               arc="xconnect") == w
    assert types["tessera_tessd_workers_busy_pct"] == "untyped"
    # Groups and VRFs come the same way, labelled by their strings.
    t.tessctl("group", "add", "g1", "--vlan", "10", "--tenant", 'acme')
    t.tessctl("vrf", "add", "v1", "--id", "7")
    s, types = parse(metrics(t))
    names = {k for k in s if k[0].startswith(("tessera_tessd_groups_", "tessera_tessd_vrfs_"))}
    assert ("tessera_tessd_groups_rx_packets_total",
            (("name", "g1"), ("tenant", "acme"))) in names, sorted(names)
    assert any(k[0].startswith("tessera_tessd_vrfs_") and ("name", "v1") in k[1]
               for k in names), sorted(names)
    # Nothing of tessd's own stats is left out (two fields of one name, names too long).
    # A gauge: what this scrape left out, back to 0 when a clash goes.
    assert types["tessera_tessd_metrics_skipped"] == "gauge"
    for why in ("name_clash", "label_clash", "too_long"):
        assert get(s, "tessera_tessd_metrics_skipped", reason=why) == 0, why


def test_drops_by_module_and_reason(cleanup, tmp_path):
    # A port nothing forwards from: what it receives is a core drop, no_output.
    u = tess.uid()
    t = tess.Tessd(cleanup, tmp_path, ports=[tess.tap_port("a", f"tm{u}", 0)]).start()
    ns = tess.Netns(cleanup)
    ns.attach(f"tm{u}", "10.78.0.1/24", None)
    ns.ping("10.78.0.2", count=2)
    s, _ = parse(metrics(t))
    stats = t.ctl("stats")
    n = stats["drops"]["core"]["no_output"]
    assert n >= 1
    assert get(s, "tessera_tessd_drops_total", module="core", reason="no_output") == n
    assert get(s, "tessera_tessd_ports_drops_total", name="a", reason="no_output") == n


def test_output_file_is_replaced_atomically(cleanup, tmp_path):
    t, _, _ = tess.tap_pair(cleanup, tmp_path)
    out = os.path.join(tmp_path, "tessd.prom")
    t.tessctl("metrics", "--output", out)
    assert not os.path.exists(out + ".tmp")
    with open(out) as f:
        s, _ = parse(f.read())
    assert get(s, "tessera_tessd_ports_rx_packets_total", name="b") is not None
    ino = os.stat(out).st_ino
    t.tessctl("metrics", "--output", out)
    assert os.stat(out).st_ino != ino  # a new file renamed over it, never rewritten in place
    # A directory that cannot be written: an error, and the old file untouched.
    r = t.tessctl("metrics", "--output", os.path.join(tmp_path, "nope", "x.prom"), check=False)
    assert r.returncode != 0 and "nope" in r.stderr
    r = t.tessctl("metrics", "--bogus", check=False)
    assert r.returncode == 2


@pytest.mark.parametrize("bad", ["tessera_tessd_x 1\n"])
def test_the_parser_is_strict(bad):
    with pytest.raises(AssertionError):
        parse(bad)


def free_port(host="127.0.0.1"):
    """A port free now: another process may take it before tessd binds it (listening)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def listening(start, host="127.0.0.1", tries=5):
    """(port, start(port)): start(port) starts a tessd listening on host:port, and is called
    again with another port while the one free_port() found was taken in between (tessd
    exits: "cannot listen on ...: Address already in use")."""
    for n in range(tries):
        port = free_port(host)
        try:
            return port, start(port)
        except tess.TessdError as e:
            if "Address already in use" not in str(e) or n == tries - 1:
                raise


def scrape(port, path="/metrics", method="GET", host="127.0.0.1"):
    c = http.client.HTTPConnection(host, port, timeout=10)
    try:
        c.request(method, path)
        r = c.getresponse()
        return r.status, dict(r.getheaders()), r.read().decode()
    finally:
        c.close()


def test_listener_serves_what_tessctl_prints(cleanup, tmp_path):
    port, (t, (na, _), _) = listening(lambda p: tess.tap_pair(cleanup, tmp_path, tessd_kw={
        "control": {"metrics_listen": f"127.0.0.1:{p}"}}))
    t.tessctl("stats", "--reset")
    code, hdr, body = scrape(port)
    assert code == 200 and hdr["Content-Type"].startswith("text/plain; version=0.0.4")
    s0, _ = parse(body)
    assert na.ping("10.77.0.2", count=5) == (5, 5)
    time.sleep(1.1)  # past the cached body's second
    code, _, body = scrape(port)
    s1, types = parse(body)
    for f in ("rx_packets", "tx_packets"):
        k = f"tessera_tessd_ports_{f}_total"
        assert get(s1, k, name="a") >= get(s0, k, name="a") + 5, f
    assert get(s1, "tessera_tessd_workers_packets_total", worker="0") >= 10
    # The same series as tessctl metrics: one walker for both (dataplane/prom_stats.c).
    s2, types2 = parse(metrics(t))
    assert types == types2
    assert set(s1) == set(s2)
    # Only GET /metrics.
    assert scrape(port, "/nope")[0] == 404
    assert scrape(port, "/metrics", method="POST")[0] == 405
    assert scrape(port, "/metrics?x=1")[0] == 200
    st = t.ctl("status")
    assert st["metrics_scrapes"] == 3 and st["metrics_errors"] == 2, st
    assert st["metrics_renders"] <= 3, st


def test_scrapes_within_a_second_share_a_body(cleanup, tmp_path):
    """The body is kept for 1 s: scrapes within it are answered from it (status'
    metrics_renders counts the bodies built), even when the counters moved between them;
    after it a scrape builds a new one."""
    port, (t, (na, _), _) = listening(lambda p: tess.tap_pair(cleanup, tmp_path, tessd_kw={
        "control": {"metrics_listen": f"127.0.0.1:{p}"}}))
    assert na.ping("10.77.0.2", count=1) == (1, 1)
    t0 = time.monotonic()
    first = scrape(port)[2]
    t.tessctl("stats", "--reset")  # every counter moves back to 0
    bodies = [scrape(port)[2] for _ in range(9)]
    took = time.monotonic() - t0
    st = t.ctl("status")
    assert st["metrics_scrapes"] == 10, st
    # One body a second at most (two if the run crossed one window's end).
    assert 1 <= st["metrics_renders"] <= 2 + int(took), (st, took)
    if st["metrics_renders"] == 1:
        assert all(b == first for b in bodies)
    s, _ = parse(first)
    assert get(s, "tessera_tessd_ports_rx_packets_total", name="a") >= 1
    time.sleep(1.1)
    s, _ = parse(scrape(port)[2])
    assert t.ctl("status")["metrics_renders"] == st["metrics_renders"] + 1
    assert get(s, "tessera_tessd_ports_rx_packets_total", name="a") == 0


def test_a_port_taken_meanwhile_is_tried_again(cleanup, tmp_path, monkeypatch):
    """free_port() cannot hold the port it found: a process that takes it before tessd
    binds it makes tessd exit, and listening() starts it again on another."""
    taken = socket.socket()
    cleanup.add(taken.close)
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    ports = [taken.getsockname()[1]]
    real = free_port
    monkeypatch.setitem(globals(), "free_port",
                        lambda host="127.0.0.1": ports.pop() if ports else real(host))
    port, t = listening(lambda p: tess.Tessd(
        cleanup, tmp_path, control={"metrics_listen": f"127.0.0.1:{p}"}).start())
    assert port != taken.getsockname()[1] and not ports
    assert scrape(port)[0] == 200


def test_ipv6_loopback(cleanup, tmp_path):
    port, t = listening(lambda p: tess.Tessd(
        cleanup, tmp_path, control={"metrics_listen": f"[::1]:{p}"}).start(), host="::1")
    code, _, body = scrape(port, host="::1")
    assert code == 200
    parse(body)
    assert t.ctl("status")["metrics_scrapes"] == 1


@pytest.mark.parametrize("addr,msg", [
    ("0.0.0.0:9480", "not a loopback address"),
    ("[::]:9480", "not a loopback address"),
    ("localhost:9480", "no names"),
    ("127.0.0.1:0", "port must be 1 to 65535"),
    ("127.0.0.1", "not ADDRESS:PORT"),
])
def test_non_loopback_refused(tmp_path, addr, msg):
    u = tess.uid()
    cfg = {"control": {"socket": os.path.join(tmp_path, f"m{u}.sock"), "metrics_listen": addr}}
    path = os.path.join(tmp_path, "m.json")
    with open(path, "w") as f:
        json.dump(cfg, f)
    r = subprocess.run([tess.TESSD, "-c", path, "--check"], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 1 and "/control/metrics_listen" in r.stderr and msg in r.stderr, \
        r.stderr
    cfg["control"]["metrics_listen"] = "127.0.0.2:9480"
    with open(path, "w") as f:
        json.dump(cfg, f)
    r = subprocess.run([tess.TESSD, "-c", path, "--check"], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr


def test_stalled_clients_do_not_hold_tessd(cleanup, tmp_path):
    port, (t, (na, _), _) = listening(lambda p: tess.tap_pair(cleanup, tmp_path, tessd_kw={
        "control": {"metrics_listen": f"127.0.0.1:{p}"}}))
    # Every connection slot held by a client that sent one byte and stalls.
    stalled = []
    for _ in range(8):
        c = socket.create_connection(("127.0.0.1", port))
        c.sendall(b"G")
        stalled.append(c)
    cleanup.add(lambda: [c.close() for c in stalled])
    t0 = time.monotonic()
    t.tessctl("status", timeout=5)
    assert na.ping("10.77.0.2", count=3) == (3, 3)
    assert time.monotonic() - t0 < 5
    # One more is refused at once (503), not queued behind them.
    code, _, _ = scrape(port)
    assert code == 503
    # They go at their request head's deadline (2 s from their accept); then scrapes work.
    tess.wait_for(lambda: t.ctl("status")["metrics_timed_out"] == 8, 20, "stalled dropped")
    st = t.ctl("status")
    assert st["metrics_refused"] == 1, st
    assert all(c.recv(16) == b"" for c in stalled)
    assert scrape(port)[0] == 200
    # A request head over 4 KiB: 431, and closed.
    c = socket.create_connection(("127.0.0.1", port))
    c.sendall(b"GET /metrics HTTP/1.1\r\nX: " + b"a" * 5000)
    assert c.recv(64).startswith(b"HTTP/1.1 431")
    c.close()


def test_silent_clients_go_after_two_seconds(cleanup, tmp_path):
    """Clients that open and say nothing hold the slots for the request head's deadline
    (2 s), not the whole connection's (10 s): a scrape gets through within about 3 s."""
    port, t = listening(lambda p: tess.Tessd(
        cleanup, tmp_path, control={"metrics_listen": f"127.0.0.1:{p}"}).start())
    silent = []
    cleanup.add(lambda: [c.close() for c in silent])
    for _ in range(8):
        silent.append(socket.create_connection(("127.0.0.1", port)))
    t0 = time.monotonic()
    assert scrape(port)[0] == 503
    tess.wait_for(lambda: scrape(port)[0] == 200, 10, "a scrape through")
    took = time.monotonic() - t0
    # The tick checks once a second: 2 to 3 s after their accept. The upper bound leaves
    # room for a loaded machine and still tells the 2 s deadline from the 10 s one.
    assert 1.5 <= took <= 6, took
    assert t.ctl("status")["metrics_timed_out"] == 8
    assert all(c.recv(16) == b"" for c in silent)


def thread_cpu_seconds(pid, tid):
    """utime + stime of one thread, in seconds."""
    with open(f"/proc/{pid}/task/{tid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_out_of_descriptors_does_not_spin(cleanup, tmp_path):
    """accept4 failing with EMFILE leaves the connection queued and the level-triggered
    listener ready: the control thread (tessd's main thread) must pause the listener, not
    spin on it; scrapes work again once descriptors are back."""
    port, t = listening(lambda p: tess.Tessd(
        cleanup, tmp_path, control={"metrics_listen": f"127.0.0.1:{p}"}).start())
    pid = t.proc.pid
    fds = [int(x) for x in os.listdir(f"/proc/{pid}/fd")]
    was = resource.prlimit(pid, resource.RLIMIT_NOFILE)
    resource.prlimit(pid, resource.RLIMIT_NOFILE, (max(fds) + 1, was[1]))
    clients = []
    cleanup.add(lambda: [c.close() for c in clients])
    for _ in range(8 + 4):  # more than the holes below the limit: EMFILE
        clients.append(socket.create_connection(("127.0.0.1", port)))
    time.sleep(0.5)
    cpu0, t0 = thread_cpu_seconds(pid, pid), time.monotonic()
    time.sleep(2)
    busy = (thread_cpu_seconds(pid, pid) - cpu0) / (time.monotonic() - t0)
    # Spinning took 19% of a CPU on a loaded 2-core machine (100% idle), paused 1%.
    assert busy < 0.1, f"control thread {busy:.0%} busy"
    assert "cannot accept a metrics client: Too many open files; pausing for 1 s" in t.log()
    for c in clients:
        c.close()
    clients.clear()
    resource.prlimit(pid, resource.RLIMIT_NOFILE, was)
    tess.wait_for(lambda: scrape(port)[0] == 200, 10, "scrapes again")


def test_answer_whole_when_the_client_sent_more(cleanup, tmp_path):
    """A client that sends more than the request head (a body tessd never reads) still gets
    the whole answer: closing with unread data would send a RST that cuts it."""
    port, t = listening(lambda p: tess.Tessd(
        cleanup, tmp_path, control={"metrics_listen": f"127.0.0.1:{p}"}).start())
    whole = scrape(port)[2]
    for _ in range(3):
        c = socket.socket()
        cleanup.add(c.close)
        # A small window: most of the answer waits in tessd's send queue when it closes.
        c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        c.connect(("127.0.0.1", port))
        c.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n" + b"x" * 65536)
        time.sleep(0.5)  # tessd answers and closes before we read a byte
        got = b""
        while True:
            try:
                b = c.recv(65536)
            except ConnectionResetError:
                break
            if not b:
                break
            got += b
        head, _, body = got.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200"), got[:200]
        n = int(re.search(rb"Content-Length: (\d+)", head).group(1))
        assert len(body) == n and abs(n - len(whole)) < len(whole) // 10, (n, len(body))
