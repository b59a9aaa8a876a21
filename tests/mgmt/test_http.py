# SPDX-License-Identifier: BSD-3-Clause
"""tessmgrd's HTTP front end as a hostile or merely careless client meets it (review 1.11):
unauthenticated bodies answered before they are read, per-address connection limits, idle
timeouts, JSON nesting; and tessctl's HTTP client against broken servers (review 5)."""
import http.client
import json
import signal
import socket
import subprocess
import threading

import pytest

import tess
import mgr
from mgr import ACME, PROVIDER, TOKENS, Mgr


def vm_kib(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise KeyError(key)


def head(path, length, token=None, method="POST"):
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    return (f"{method} /v1/{path} HTTP/1.1\r\nHost: x\r\n{auth}"
            f"Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n").encode()


def read_status(s, timeout):
    """The status of the answer on socket s (None if it closed without one)."""
    s.settimeout(timeout)
    data = b""
    try:
        while b"\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    except ConnectionResetError:
        pass
    if not data.startswith(b"HTTP/1."):
        return None
    return int(data.split()[1])


def get(m, path, token=PROVIDER, source="127.0.0.2", timeout=30):
    """GET over a connection from another loopback address (the per-address limit is per
    address): (status, JSON)."""
    host, port = m.url[len("http://"):].split(":")
    c = http.client.HTTPConnection(host, int(port), timeout=timeout, source_address=(source, 0))
    try:
        c.request("GET", "/v1/" + path, headers={"Authorization": f"Bearer {token}"})
        r = c.getresponse()
        return r.status, json.loads(r.read() or b"null")
    finally:
        c.close()


@pytest.fixture
def m(cleanup, tmp_path):
    return Mgr(cleanup, tmp_path, {"max_body": 8 << 20}).start()


def test_unauthenticated_body_is_refused_before_it_is_read(m):
    # Headers and a little of an 8 MiB body: the answer must not wait for the rest.
    for token in (None, "not-a-known-token-0123"):
        with socket.create_connection(("127.0.0.1", int(m.url.rsplit(":", 1)[1]))) as s:
            s.sendall(head("sites", 8 << 20, token) + b'{"name": "')
            assert read_status(s, 30) == 401
    st = m.ok("GET", "stats")["http"]
    assert st["unauthenticated"] == 2
    # A known token's body is read and parsed as before.
    assert m.call("POST", "sites", raw=b'{"name": 1}')[0] == 400


def test_unauthenticated_large_bodies_do_not_grow_memory(m):
    pid = m.proc.pid
    port = int(m.url.rsplit(":", 1)[1])
    body = b'{"name": "' + b"x" * ((8 << 20) - 16) + b'"}'
    statuses = []

    def client():
        for _ in range(4):
            with socket.create_connection(("127.0.0.1", port)) as s:
                try:
                    s.sendall(head("sites", len(body)) + body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # answered and closed before the body was read: the point
                statuses.append(read_status(s, 60))

    before = vm_kib(pid, "VmHWM")
    threads = [threading.Thread(target=client) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    grown = vm_kib(pid, "VmHWM") - before
    # 32 bodies of 8 MiB, 8 at a time: buffered and parsed they took hundreds of MiB.
    assert grown < 64 << 10, f"peak RSS grew by {grown} KiB"
    # Every answer that arrived before the close was a 401.
    assert statuses and set(statuses) <= {401, None}, statuses
    assert m.ok("GET", "stats")["http"]["unauthenticated"] >= statuses.count(401)


def test_per_address_connection_limit(cleanup, tmp_path):
    m = Mgr(cleanup, tmp_path, {"http": {"per_ip_connections": 4}}).start()
    port = int(m.url.rsplit(":", 1)[1])
    idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(4)]
    # Each held by the server: a request on the fourth is still served (the limit is 4).
    idle[3].sendall(b"GET /v1/usage HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                    + PROVIDER.encode() + b"\r\n\r\n")
    assert read_status(idle[3], 30) == 200
    # Beyond the limit from this address: closed at once, without an answer.
    extra = [socket.create_connection(("127.0.0.1", port)) for _ in range(4)]
    for s in extra:
        s.settimeout(30)
        try:
            assert s.recv(100) == b""
        except ConnectionResetError:
            pass
        s.close()
    # Another address is not locked out, and sees the refusals counted.
    status, st = get(m, "stats")
    assert status == 200 and st["http"]["connections_refused"] >= 4, st
    for s in idle:
        s.close()
    # Once the idle ones are gone (the server sees them close), this address is served again.
    def served():
        try:
            return get(m, "usage", source="127.0.0.1")[0] == 200
        except ConnectionError:
            return False
    tess.wait_for(served, 30, "a GET served from 127.0.0.1")


def test_default_limits_leave_room_for_other_addresses(m):
    """The review's case with the default limits: many idle connections from one address
    (here 200; 1024 took every slot) leave another address served."""
    port = int(m.url.rsplit(":", 1)[1])
    idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(200)]
    try:
        status, st = get(m, "stats")
        assert status == 200
        tess.wait_for(lambda: get(m, "stats")[1]["http"]["connections_refused"] >= 200 - 64,
                      30, "the connections over per_ip_connections (64) refused")
    finally:
        for s in idle:
            s.close()


def test_idle_connection_times_out(cleanup, tmp_path):
    m = Mgr(cleanup, tmp_path, {"http": {"timeout_sec": 1}}).start()
    port = int(m.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.settimeout(60)
        s.sendall(b"GET /v1/usage HTTP/1.1\r\n")  # and never the rest
        try:
            assert s.recv(100) == b""
        except ConnectionResetError:
            pass


def test_json_nesting_depth_is_bounded(cleanup, tmp_path):
    m = Mgr(cleanup, tmp_path, {"http": {"max_json_depth": 8}}).start()
    deep = b'{"name": "s", "x": ' + b"[" * 8 + b"]" * 8 + b"}"
    status, r = m.call("POST", "sites", raw=deep)
    assert status == 400 and "nested deeper than 8" in r["error"]["message"], r
    # Brackets inside strings are not nesting.
    status, r = m.call("POST", "sites", raw=b'{"name": "[[[[[[[[[[[[", "latitude": 1}')
    assert status == 400 and "nested" not in r["error"]["message"], r
    assert m.ok("GET", "stats")["http"]["json_too_deep"] == 1
    # The default bound is explicit, not jansson's own.
    m2 = Mgr(cleanup, tmp_path / "2").start()
    status, r = m2.call("POST", "sites", raw=b"[" * 100 + b"]" * 100)
    assert status == 400 and "nested deeper than 32" in r["error"]["message"], r


def test_token_looked_up_once_per_request(m):
    """A request's bearer token is looked up (hashed and compared with every token) once, at
    its headers, and what was found is what the handler acts as: not looked up again."""
    before = m.ok("GET", "stats")["http"]["token_lookups"]
    requests = [("GET", "usage", None, None), ("GET", "hosts/nope", None, None),
                ("POST", "sites", {"name": "x"}, None), ("GET", "desktops", None, ACME),
                ("POST", "desktops", {"name": "d"}, ACME), ("GET", "usage", None, "nope")]
    for method, path, body, token in requests:
        m.call(method, path, body, **({"token": token} if token else {}))
    after = m.ok("GET", "stats")["http"]["token_lookups"]
    # The requests, and the second stats read itself.
    assert after - before == len(requests) + 1, (before, after)


def test_token_revoked_while_the_body_uploads(m):
    """The principal found at a request's headers is kept with the token table's generation:
    a SIGHUP that reloads the token file while the body is still on its way makes the handler
    look the token up again, so a revoked token acts no more (looked up twice, counted)."""
    late = "late-provider-token-0123456789"
    reloads = [0]

    def reload(tokens):
        mgr.write_tokens(m.tokens, tokens)
        m.proc.send_signal(signal.SIGHUP)
        reloads[0] += 1
        tess.wait_for(lambda: m.log().count("tokens reloaded") >= reloads[0], 30,
                      "the token file reloaded")

    reload({"tokens": TOKENS["tokens"] + [mgr.token_entry(late, "late", "provider")]})
    body = json.dumps({"name": "late", "latitude": 48.85, "longitude": 2.35,
                       "storage": m.storage, "client_prefixes": ["10.9.0.0/16"]}).encode()
    before = m.ok("GET", "stats")["http"]["token_lookups"]
    polls = [0]

    def looked_up():
        polls[0] += 1
        n = m.ok("GET", "stats")["http"]["token_lookups"]
        return n - before - polls[0] >= 1  # each stats read counts its own lookup

    with socket.create_connection(("127.0.0.1", int(m.url.rsplit(":", 1)[1]))) as s:
        s.sendall(head("sites", len(body), late))
        tess.wait_for(looked_up, 30, "the request's headers looked up")
        reload(TOKENS)  # the late token revoked
        s.sendall(body)
        assert read_status(s, 30) == 401
    after = m.ok("GET", "stats")["http"]["token_lookups"]
    # At its headers and again at its body; the polls and this stats read.
    assert after - before - polls[0] - 1 == 2, (before, after, polls[0])
    assert m.call("GET", "sites/late")[0] == 404


def test_chunked_body_over_max_body(cleanup, tmp_path):
    m = Mgr(cleanup, tmp_path).start()  # max_body 65536
    port = int(m.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(b"POST /v1/sites HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                  + PROVIDER.encode() + b"\r\nTransfer-Encoding: chunked\r\n\r\n")
        chunk = b" " * 16384
        try:
            for _ in range(8):
                s.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            s.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        assert read_status(s, 30) == 413
    assert m.ok("GET", "stats")["http"]["body_too_large"] >= 1
    # Tenants do not see the front end's counters.
    assert m.call("GET", "stats", token=ACME)[0] == 403


# ---- tessctl's client (review 5) ----

class FakeServer:
    """Accepts one connection, reads the request, sends `answer`, closes."""

    def __init__(self, answer):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.port = self.sock.getsockname()[1]
        self.answer = answer
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        c, _ = self.sock.accept()
        c.settimeout(10)
        try:
            c.recv(65536)
            if callable(self.answer):
                self.answer(c)
            else:
                c.sendall(self.answer)
        except OSError:
            pass  # tessctl gave up reading: the point of the huge answer
        finally:
            c.close()
            self.sock.close()


def tessctl(port, *args):
    return subprocess.run([tess.TESSCTL, "-m", f"http://127.0.0.1:{port}", "-T", "t" * 20,
                           "-t", "60", *args], capture_output=True, text=True, timeout=120)


def check_clean(r):
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    assert "Sanitizer" not in r.stderr and "runtime error" not in r.stderr, r.stderr


@pytest.mark.parametrize("answer", [b"HTTP/1.", b"HTTP/1.1 200 OK\r\n", b"HTTP/1.1 200 OK\r\n\r\n{"])
def test_tessctl_truncated_answer(answer):
    srv = FakeServer(answer)
    r = tessctl(srv.port, "usage")
    check_clean(r)
    assert "no HTTP answer" in r.stderr or "not JSON" in r.stderr, r.stderr


def test_tessctl_huge_answer():
    def huge(c):
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n[")
        block = b"0," * 32768
        for _ in range((1 << 30) // len(block)):  # 1 GiB, unless tessctl stops reading
            c.sendall(block)

    srv = FakeServer(huge)
    r = tessctl(srv.port, "usage")
    check_clean(r)
    assert "answer larger than" in r.stderr, r.stderr
    srv.thread.join(60)
    assert not srv.thread.is_alive()


def test_tessctl_refuses_names_that_change_the_route(m):
    """A name with '/' (the server decodes %2F before it splits the path), '.' or '..'
    (resolved by libcurl), or one too long for the path (it was sent empty: the list route) is
    a usage error, and nothing is sent."""
    base = [tess.TESSCTL, "-m", m.url, "-T", PROVIDER]
    long = "x" * 600
    for args in (["tenant", "show", "a/b"], ["tenant", "show", ".."], ["tenant", "show", "."],
                 ["tenant", "show", long], ["quota", "show", "acme", long],
                 ["quota", "show", "acme", ".."], ["desktop", "show", "../tenants"]):
        r = subprocess.run(base + args, capture_output=True, text=True, timeout=30)
        assert r.returncode == 2 and r.stdout == "", (args, r.returncode, r.stdout, r.stderr)
        assert "name" in r.stderr, (args, r.stderr)
