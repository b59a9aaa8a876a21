# SPDX-License-Identifier: BSD-3-Clause
"""Browser sessions: POST /v1/login with a token gives an HttpOnly SameSite=Strict cookie and
a CSRF token; cookie-authenticated mutating requests without that token are refused and change
nothing; GET /v1/session, logout, idle expiry, a token file reload that drops the token, and the
limit on failed logins (429 with Retry-After, counted, audited without secrets)."""
import json
import signal
import time
import urllib.request

import pytest

import tess
from mgr import ACME, PROVIDER, TOKENS, Mgr, write_tokens


@pytest.fixture
def m(cleanup, tmp_path):
    return Mgr(cleanup, tmp_path, {"http": {"session_idle_sec": 3,
                                            "login_failures_per_address": 4}}).start()


def test_login_by_token_cookie_and_session(m):
    m.site_h1("acme")
    status, r, headers = m.login({"token": ACME})
    assert status == 200, r
    cookie = headers["Set-Cookie"]
    value = cookie.split(";")[0].split("=", 1)
    attrs = [a.strip() for a in cookie.split(";")[1:]]
    assert value[0] == "tess_session" and len(value[1]) == 43, cookie
    assert sorted(attrs) == ["HttpOnly", "Path=/", "SameSite=Strict"], cookie  # no Secure: HTTP
    assert r["principal"] == "alice" and r["role"] == "tenant" and r["tenant"] == "acme"
    assert r["user"] == "" and len(r["csrf"]) == 43 and r["csrf"] != value[1]
    assert r["idle_sec"] == 3 and abs(r["expires"] - (time.time() + 43200)) < 60
    s = m.session({"token": ACME})
    assert s.cookie != value[1] and s.csrf != r["csrf"]  # each login its own
    # The cookie authenticates as the token does; GET /v1/session gives the login's answer.
    assert s.call("GET", "tenants")[1][0]["name"] == "acme"
    got = s.call("GET", "session")[1]
    assert got["csrf"] == s.csrf and got["principal"] == "alice" and got["role"] == "tenant"
    # A bearer has no session (and wins over a cookie).
    assert m.call("GET", "session", token=ACME)[0] == 401
    assert s.call("GET", "sites", headers={"Authorization": f"Bearer {PROVIDER}"})[0] == 200
    assert s.call("GET", "sites")[0] == 403
    # Unknown and bad cookies: 401.
    for bad in ("x" * 43, s.cookie[:-1], ""):
        st, r = m.call("GET", "tenants", token=None, headers={"Cookie": f"tess_session={bad}"})
        assert st == 401, (bad, r)
    assert m.call("GET", "session", token=None)[0] == 401
    # The audit has the login, by the token's principal, and no token nor cookie.
    rows = [e for e in m.ok("GET", "audit") if e["action"] == "POST login"]
    assert rows and rows[0]["principal"] == "alice" and rows[0]["result"] == "200 ok", rows
    log = m.log() + str(m.ok("GET", "audit"))
    assert ACME not in log and s.cookie not in log and s.csrf not in log


def test_csrf_refused_changes_nothing(m):
    m.site_h1("acme")
    s = m.session({"token": ACME})
    body = {"name": "d1", "model": "std"}
    for csrf in (False, "", "x" * 43, s.csrf[:-1], s.csrf + "x", s.cookie):
        st, r = s.call("POST", "desktops", body, csrf=csrf)
        assert st == 403 and r["error"]["message"] == "CSRF token missing or wrong", (csrf, r)
    assert s.call("GET", "desktops") == (200, [])
    assert m.ok("GET", "jobs", token=ACME) == []
    # Logout is mutating too.
    assert s.call("POST", "logout", csrf=False)[0] == 403
    assert s.call("GET", "session")[0] == 200
    # With the token: done.
    st, r = s.call("POST", "desktops", body)
    assert st == 202, r
    m.wait_job(r["job"]["id"], token=ACME)
    assert [d["name"] for d in s.call("GET", "desktops")[1]] == ["d1"]
    # Bearer requests need no CSRF token.
    assert m.call("POST", f"desktops/{r['desktop']['id']}/stop", token=ACME)[0] == 202


def test_logout(m):
    s = m.session({"token": PROVIDER})
    assert s.call("GET", "sites")[0] == 200
    st, r = s.call("POST", "logout")
    assert st == 204
    assert s.call("GET", "sites")[0] == 401
    assert s.call("GET", "session")[0] == 401
    assert s.call("POST", "logout")[0] == 401


def test_logout_clears_the_cookie(m):
    s = m.session({"token": PROVIDER})
    req = urllib.request.Request(m.url + "/v1/logout", method="POST", headers={
        "Cookie": f"tess_session={s.cookie}", "X-CSRF-Token": s.csrf})
    with urllib.request.urlopen(req, timeout=30) as r:
        assert r.status == 204 and r.read() == b""
        cookie = r.headers["Set-Cookie"]
    assert cookie.startswith("tess_session=;") and "Max-Age=0" in cookie, cookie


def test_idle_expiry(m):
    s = m.session({"token": PROVIDER})
    for _ in range(3):  # used within session_idle_sec (3 s): it lives on
        time.sleep(1.5)
        assert s.call("GET", "sites")[0] == 200
    time.sleep(3.5)
    st, r = s.call("GET", "sites")
    assert st == 401 and r["error"]["message"] == "session expired", r
    assert s.call("GET", "sites")[0] == 401


def test_token_reload_ends_its_sessions(m):
    acme, ops = m.session({"token": ACME}), m.session({"token": PROVIDER})
    # acme's token dropped; the provider's stays as it was.
    write_tokens(m.tokens, {"tokens": [TOKENS["tokens"][0], TOKENS["tokens"][2]]})
    m.proc.send_signal(signal.SIGHUP)
    tess.wait_for(lambda: acme.call("GET", "tenants")[0] == 401, 10, "acme's session ended")
    assert ops.call("GET", "sites")[0] == 200
    # A token whose principal changed: its sessions end too.
    changed = dict(TOKENS["tokens"][0], principal="ops2")
    write_tokens(m.tokens, {"tokens": [changed]})
    m.proc.send_signal(signal.SIGHUP)
    tess.wait_for(lambda: ops.call("GET", "sites")[0] == 401, 10, "ops' session ended")
    assert m.session({"token": PROVIDER}).call("GET", "session")[1]["principal"] == "ops2"


def test_failed_logins_are_limited(m):
    bad = {"token": "not-a-token-0123456789"}
    for _ in range(4):
        st, r, _ = m.login(bad)
        assert st == 401 and r["error"]["message"] == "login failed", r
    # Over login_failures_per_address (4): 429, the good token too, with Retry-After.
    for body in (bad, {"token": PROVIDER}):
        st, r, headers = m.login(body)
        assert st == 429, r
        assert 0 < int(headers["Retry-After"]) <= 300, headers
    stats = m.ok("GET", "stats")["login"]
    assert stats["failed"] == 4 and stats["rate_limited"] == 2 and stats["succeeded"] == 0
    # Failures are audited (401, not the 429s), without the token tried.
    rows = [e for e in m.ok("GET", "audit") if e["action"] == "POST login"]
    assert len(rows) == 4 and all(e["result"] == "401 login failed" for e in rows), rows
    assert "not-a-token" not in str(rows) and "not-a-token" not in m.log()
    # Bearer requests are not limited by it.
    assert m.call("GET", "sites")[0] == 200


@pytest.mark.parametrize("body", [
    {}, {"token": 5}, {"token": ACME, "user": "a"}, {"tenant": "acme", "user": "a"},
    {"token": ACME, "extra": 1},
])
def test_bad_login_bodies(m, body):
    st, r, _ = m.login(body)
    assert st == 400, (body, r)
    assert m.call("GET", "session", token=None)[0] == 401


def test_unknown_user_login_fails_like_a_bad_token(m):
    st, r, _ = m.login({"tenant": "acme", "user": "nobody", "password": "x" * 12})
    assert st == 401 and r["error"]["message"] == "login failed"


def post(m, path, data, headers):
    """(status, Set-Cookie) of a raw POST /v1/path."""
    req = urllib.request.Request(m.url + "/v1/" + path, data=data, method="POST",
                                 headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.headers["Set-Cookie"]
    except urllib.error.HTTPError as e:
        return e.code, e.headers["Set-Cookie"]


def test_login_csrf_refused(m):
    """A hostile page cannot log the victim's browser into the attacker's principal: a form's
    text/plain body is not JSON to tessmgrd (415), and a login that a browser marks as from
    another site (Sec-Fetch-Site, Origin) is refused (403); no cookie is set."""
    body = ('{"token": "%s"}' % PROVIDER).encode()
    assert post(m, "login", body, {"Content-Type": "text/plain"}) == (415, None)
    assert post(m, "login", body, {}) == (415, None)
    assert post(m, "login", body, {"Content-Type": "application/jsonx"}) == (415, None)
    # Every body, not only a login's.
    st = post(m, "tenants", b'{"name": "evil"}', {"Authorization": f"Bearer {PROVIDER}",
                                                  "Content-Type": "text/plain"})[0]
    assert st == 415 and m.call("GET", "tenants/evil")[0] == 404
    js = {"Content-Type": "application/json; charset=utf-8"}
    for bad in ({"Origin": "http://evil.example"}, {"Origin": "null"},
                {"Sec-Fetch-Site": "cross-site"},
                {"Origin": m.url + ".evil.example"}):
        assert post(m, "login", body, {**js, **bad}) == (403, None), bad
    # The portal's own page: same origin.
    st, cookie = post(m, "login", body, {**js, "Origin": m.url, "Sec-Fetch-Site": "same-origin"})
    assert st == 200 and cookie.startswith("tess_session="), (st, cookie)


def test_events_stream_ends_with_its_session(cleanup, tmp_path):
    """A /v1/events stream opened with a session cookie is that session's: it ends within a
    beat (5 s) of the logout, while a bearer's stream goes on."""
    import socket
    m = Mgr(cleanup, tmp_path).start()
    s = m.session({"token": PROVIDER})
    host, port = m.url.split("//")[1].rsplit(":", 1)

    def stream(auth):
        sock = socket.create_connection((host, int(port)), timeout=20)
        cleanup.add(sock.close)
        sock.sendall(f"GET /v1/events HTTP/1.1\r\nHost: x\r\n{auth}\r\n"
                     "Connection: close\r\n\r\n".encode())
        assert sock.recv(4096).startswith(b"HTTP/1.1 200")
        return sock

    by_cookie = stream(f"Cookie: tess_session={s.cookie}")
    by_bearer = stream(f"Authorization: Bearer {PROVIDER}")
    time.sleep(1)
    assert s.call("POST", "logout")[0] == 204
    t0 = time.monotonic()
    while by_cookie.recv(4096):
        assert time.monotonic() - t0 < 12, "the stream outlived its session"
    by_bearer.settimeout(7)
    assert by_bearer.recv(4096)  # a beat: still open


def memory_holds(pid, secret):
    """How many times secret is in the writable memory of process pid."""
    n = 0
    with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as mem:
        for line in maps:
            addr, perms = line.split()[:2]
            if not perms.startswith("rw"):
                continue
            a, b = (int(x, 16) for x in addr.split("-"))
            # In pieces (overlapping by the secret's length): a mapping can be larger than
            # what one read may allocate.
            step = 1 << 24
            for at in range(a, b, step):
                try:
                    mem.seek(at)
                    n += mem.read(min(step + len(secret) - 1, b - at)).count(secret)
                except OSError:
                    break
    return n


@pytest.mark.skipif(tess.SANITIZED, reason="ASan keeps freed blocks unwiped in its quarantine "
                    "and maps terabytes of shadow; the normal build's run checks the wiping")
def test_passwords_are_wiped(m):
    """A password leaves no copy in tessmgrd's memory once its request is answered: a good
    body's, one nested too deep, malformed JSON's, a non-JSON type's."""
    m.site_h1("acme")
    pw = "Wipe" + tess.uid() + "me0123456789"
    m.ok("POST", "users", {"name": "carol", "password": pw}, token=ACME)
    bodies = [json.dumps({"tenant": "acme", "user": "carol", "password": pw}).encode(),
              ('{"tenant": "acme", "user": "carol", "password": "%s", "x": %s}'
               % (pw, "[" * 80 + "]" * 80)).encode(),
              ('{"tenant": "acme", "user": "carol", "password": "%s"' % pw).encode()]
    for body in bodies:
        post(m, "login", body, {"Content-Type": "application/json"})
    post(m, "login", bodies[0], {"Content-Type": "text/plain"})
    m.ok("PUT", "users/1", {"password": pw[::-1]}, token=ACME)
    assert memory_holds(m.proc.pid, pw.encode()) == 0
    assert memory_holds(m.proc.pid, pw[::-1].encode()) == 0
