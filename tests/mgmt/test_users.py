# SPDX-License-Identifier: BSD-3-Clause
"""End users (role user): /v1/users by provider and tenant admins, Argon2id hashes in the store
(never in an answer), login by tenant, user and password with one answer and about one time for
every failure, the per-user login limit, desktop assignment, what a user sees and may do, and
the sessions a password change, a user's or a tenant's deletion ends."""
import json
import os
import sqlite3
import subprocess
import time

import pytest

import tess
from mgr import ACME, BRAVO, PROVIDER, Mgr

PW = "correct horse battery"
PW2 = "another long password"


@pytest.fixture
def m(cleanup, tmp_path):
    m = Mgr(cleanup, tmp_path, {"users": {"argon2_memory_kib": 2048, "argon2_time": 1},
                                "http": {"login_failures_per_user": 3}}).start()
    m.site_h1("acme", "bravo")
    return m


def user(m, name, token=ACME, **kw):
    return m.ok("POST", "users", {"name": name, "password": PW, **kw}, token=token)


def login(m, name, password=PW, tenant="acme"):
    return m.session({"tenant": tenant, "user": name, "password": password})


def test_users_api_and_store(m):
    carol = user(m, "carol", display_name="Carol C.")
    dave = user(m, "dave", token=PROVIDER, tenant="acme")
    erin = user(m, "erin", token=BRAVO)
    assert carol["tenant"] == "acme" and carol["display_name"] == "Carol C."
    assert carol["desktops"] == [] and set(carol) == {"id", "name", "tenant", "display_name",
                                                      "created", "desktops"}
    # Who sees whom: the provider every tenant's (or one's), a tenant admin its own.
    names = lambda r: [u["name"] for u in r]  # noqa: E731
    assert names(m.ok("GET", "users")) == ["carol", "dave", "erin"]
    assert names(m.ok("GET", "users?tenant=bravo")) == ["erin"]
    assert names(m.ok("GET", "users?tenant=nope")) == []
    assert names(m.ok("GET", "users", token=ACME)) == ["carol", "dave"]
    assert m.call("GET", f"users/{erin['id']}", token=ACME)[0] == 404
    assert m.call("PUT", f"users/{erin['id']}", {"display_name": "x"}, token=ACME)[0] == 404
    assert m.call("DELETE", f"users/{erin['id']}", token=ACME)[0] == 404
    assert m.ok("GET", f"users/{dave['id']}", token=ACME)["name"] == "dave"
    # Refusals, each with nothing changed.
    bad = [
        ({"name": "carol", "password": PW}, ACME, 409),
        ({"name": "x", "password": "short"}, ACME, 400),
        ({"name": "x", "password": "p" * 257}, ACME, 400),
        ({"name": "x/y", "password": PW}, ACME, 400),
        ({"name": "", "password": PW}, ACME, 400),
        ({"name": "x"}, ACME, 400),
        ({"name": "x", "password": PW, "role": "provider"}, ACME, 400),
        ({"name": "x", "password": PW, "tenant": "bravo"}, ACME, 404),
        ({"name": "x", "password": PW}, PROVIDER, 400),
        ({"name": "x", "password": PW, "tenant": "nope"}, PROVIDER, 400),
        ({"name": "x", "password": 12345678901234}, ACME, 400),
        ({"name": "x", "password": PW, "display_name": "a\x1b[2Jb"}, ACME, 400),
        ({"name": "x", "password": PW, "display_name": "d" * 129}, ACME, 400),
    ]
    for body, token, status in bad:
        st, r = m.call("POST", "users", body, token=token)
        assert st == status, (body, r)
    assert names(m.ok("GET", "users")) == ["carol", "dave", "erin"]
    # PUT: display name and password; DELETE.
    assert m.ok("PUT", f"users/{carol['id']}", {"display_name": "C"}, token=ACME)[
        "display_name"] == "C"
    assert m.call("PUT", f"users/{carol['id']}", {}, token=ACME)[0] == 400
    assert m.call("PUT", f"users/{carol['id']}", {"name": "z"}, token=ACME)[0] == 400
    assert m.call("PUT", f"users/{carol['id']}", {"password": "short"}, token=ACME)[0] == 400
    m.ok("PUT", f"users/{carol['id']}", {"password": PW2}, token=ACME)
    assert m.ok("DELETE", f"users/{dave['id']}", token=ACME)["name"] == "dave"
    assert m.call("GET", f"users/{dave['id']}", token=ACME)[0] == 404
    # The store has Argon2id hashes with the configured parameters, and no password.
    db = sqlite3.connect(m.config["store"])
    rows = dict(db.execute("SELECT name, hash FROM users").fetchall())
    db.close()
    assert set(rows) == {"carol", "erin"}
    assert all(h.startswith("$argon2id$v=19$m=2048,t=1,p=1$") for h in rows.values()), rows
    with open(m.config["store"], "rb") as f:
        data = f.read()
    assert PW.encode() not in data and PW2.encode() not in data
    # No answer, audit row or log line has a password or a hash.
    text = str(m.ok("GET", "audit")) + m.log() + str(m.ok("GET", "users"))
    assert PW not in text and PW2 not in text and "$argon2" not in text
    audit = [(e["target"], e["tenant"]) for e in m.ok("GET", "audit")
             if e["action"] == "POST users" and e["result"] == "201 ok"]
    assert sorted(audit) == [("user acme/carol", "acme"), ("user acme/dave", "acme"),
                             ("user bravo/erin", "bravo")], audit


def test_login_by_password(m):
    user(m, "carol")
    s = login(m, "carol")
    got = s.call("GET", "session")[1]
    assert got["role"] == "user" and got["user"] == "carol" and got["tenant"] == "acme"
    assert got["principal"] == "carol"
    for body in ({"tenant": "acme", "user": "carol", "password": "x" * 12},
                 {"tenant": "acme", "user": "nobody", "password": PW},
                 {"tenant": "nope", "user": "carol", "password": PW}):
        st, r, _ = m.login(body)
        assert st == 401 and r["error"]["message"] == "login failed", (body, r)
    # The per-user limit (3 here): after carol's 3rd failure her logins are refused before
    # any check, her right password too; another user's from the same address are not.
    for _ in range(2):
        assert m.login({"tenant": "acme", "user": "carol", "password": "y" * 12})[0] == 401
    st, r, headers = m.login({"tenant": "acme", "user": "carol", "password": PW})
    assert st == 429 and int(headers["Retry-After"]) > 0, r
    dave = user(m, "dave")
    assert login(m, "dave").call("GET", "session")[0] == 200
    # Password change: sessions opened before end; the old password fails, the new works.
    d = login(m, "dave")
    m.ok("PUT", f"users/{dave['id']}", {"password": PW2}, token=ACME)
    assert d.call("GET", "desktops")[0] == 401
    assert m.login({"tenant": "acme", "user": "dave", "password": PW})[0] == 401
    assert login(m, "dave", PW2).call("GET", "desktops")[0] == 200


def test_unknown_users_take_as_long_as_wrong_passwords(cleanup, tmp_path):
    """The default Argon2id parameters (19 MiB, 2 passes: tens of ms, well above the noise of
    the HTTP round trip, and a machine under load): an unknown user or tenant is verified
    against a dummy hash (without it, ~100 times quicker)."""
    m = Mgr(cleanup, tmp_path, {"http": {"login_failures_per_user": 100}}).start()
    m.site_h1("acme")
    user(m, "carol")

    def timed(body):
        t = time.monotonic()
        st, r, _ = m.login(body)
        assert st == 401 and r["error"]["message"] == "login failed", (body, r)
        return time.monotonic() - t

    def median(body):
        return sorted(timed(body) for _ in range(5))[2]
    wrong = median({"tenant": "acme", "user": "carol", "password": "x" * 12})
    unknown = median({"tenant": "acme", "user": "nobody", "password": PW})
    no_tenant = median({"tenant": "nope", "user": "carol", "password": PW})
    assert wrong > 0.005, wrong  # the hash's work, not the round trip's
    for t in (unknown, no_tenant):
        assert wrong / 3 < t < wrong * 3, (wrong, unknown, no_tenant)


def test_assignment_and_what_users_see(m):
    d1, d2 = m.desktop("d1", ACME), m.desktop("d2", ACME)
    b1 = m.desktop("b1", BRAVO)
    carol, dave = user(m, "carol"), user(m, "dave")
    erin = user(m, "erin", token=BRAVO)
    assert m.ok("PUT", f"desktops/{d1['id']}/users", {"users": ["carol", "dave"]},
                token=ACME) == {"desktop": d1["id"], "users": ["carol", "dave"]}
    m.ok("PUT", f"desktops/{d2['id']}/users", {"users": ["dave"]})  # the provider may too
    m.ok("PUT", f"desktops/{b1['id']}/users", {"users": ["erin"]}, token=BRAVO)
    # Refusals: another tenant's desktop, another tenant's user, unknown names, bad bodies.
    for body, token, status in [
        ({"users": ["carol"]}, BRAVO, 404),
        ({"users": ["erin"]}, ACME, 400),
        ({"users": ["nobody"]}, ACME, 400),
        ({"users": "carol"}, ACME, 400),
        ({"users": [1]}, ACME, 400),
        ({"user": ["carol"]}, ACME, 400),
    ]:
        st, r = m.call("PUT", f"desktops/{d1['id']}/users", body, token=token)
        assert st == status, (body, r)
    assert m.ok("GET", f"desktops/{d1['id']}", token=ACME)["users"] == ["carol", "dave"]
    assert m.ok("GET", f"users/{dave['id']}", token=ACME)["desktops"] == [d1["id"], d2["id"]]
    assert m.call("GET", f"desktops/{d1['id']}/users", token=ACME)[0] == 405
    c, d = login(m, "carol"), login(m, "dave")
    ids = lambda s: [x["id"] for x in s.call("GET", "desktops")[1]]  # noqa: E731
    assert ids(c) == [d1["id"]] and ids(d) == [d1["id"], d2["id"]]
    # Another user's desktop, or another tenant's, by URL: 404 whatever the method.
    for path in (f"desktops/{d2['id']}", f"desktops/{b1['id']}", "desktops/999"):
        for method in ("GET", "DELETE"):
            assert c.call(method, path)[0] == 404, (method, path)
        for action in ("start", "stop", "reboot", "connect"):
            assert c.call("POST", f"{path}/{action}", {"from": "paris"})[0] == 404
    # Its own: read, start/stop/reboot, connect, the jobs of its desktops; no delete.
    assert c.call("GET", f"desktops/{d1['id']}")[1]["name"] == "d1"
    assert c.call("DELETE", f"desktops/{d1['id']}")[0] == 403
    st, r = c.call("POST", f"desktops/{d1['id']}/stop")
    assert st == 202, r
    assert m.wait_job(r["job"]["id"], token=ACME)["state"] == "succeeded"
    assert c.call("GET", f"jobs/{r['job']['id']}")[1]["state"] == "succeeded"
    jobs = m.ok("GET", "jobs", token=ACME)
    d2_job = [j for j in jobs if j["desktop_id"] == d2["id"]][0]["id"]
    assert c.call("GET", f"jobs/{d2_job}")[0] == 404
    assert d.call("GET", f"jobs/{d2_job}")[0] == 200
    st, r = c.call("POST", f"desktops/{d1['id']}/connect", {"from": "paris"})
    assert st == 200 and r["site"] == "paris", r
    # A deleted desktop's assignments go with it; a deleted user's too.
    st, r = m.call("DELETE", f"desktops/{d2['id']}", token=ACME)
    m.wait_job(r["job"]["id"], token=ACME)
    assert m.ok("GET", f"users/{dave['id']}", token=ACME)["desktops"] == [d1["id"]]
    m.ok("DELETE", f"users/{carol['id']}", token=ACME)
    assert m.ok("GET", f"desktops/{d1['id']}", token=ACME)["users"] == ["dave"]
    assert c.call("GET", "desktops")[0] == 401
    assert m.ok("GET", f"users/{erin['id']}", token=BRAVO)["desktops"] == [b1["id"]]


def test_tenant_deletion_deletes_its_users(m):
    m.tenant("charlie", 300)
    frank = user(m, "frank", token=PROVIDER, tenant="charlie")
    s = login(m, "frank", tenant="charlie")
    m.ok("DELETE", "tenants/charlie")
    assert m.call("GET", f"users/{frank['id']}")[0] == 404
    # Its session is refused at its next request (the user is checked at each one).
    st, r = s.call("GET", "desktops")
    assert st == 401 and "deleted" in r["error"]["message"], r
    assert s.call("GET", "desktops")[0] == 401
    # A new tenant of the same name has none of them.
    m.tenant("charlie", 300)
    assert m.ok("GET", "users?tenant=charlie") == []
    assert m.login({"tenant": "charlie", "user": "frank", "password": PW})[0] == 401


def test_tessctl_users(m):
    env = dict(os.environ, TESSMGR_URL=m.url, TESSMGR_TOKEN=ACME)

    def ctl(*args, stdin=None, check=True):
        r = subprocess.run([tess.TESSCTL] + list(args), capture_output=True, text=True,
                           env=env, timeout=60, input=stdin)
        if check and r.returncode:
            raise AssertionError(f"{args}: {r.returncode} {r.stderr}")
        return r
    d = m.desktop("d1", ACME)
    # The password from standard input, never an argument.
    out = ctl("user", "add", "carol", "--display-name", "Carol C.", stdin=PW + "\n").stdout
    assert "carol" in out and "Carol C." in out and PW not in out
    ctl("user", "add", "dave", stdin=PW + "\n")
    assert ctl("user", "add", "erin", stdin="", check=False).returncode == 2
    assert ctl("user", "add", "erin", "--password", "x", check=False).returncode == 2
    assert ctl("user", "add", "erin", stdin="short\n", check=False).returncode == 1
    users = {u["name"]: u["id"] for u in json.loads(ctl("--json", "user", "list").stdout)}
    assert sorted(users) == ["carol", "dave"]
    out = ctl("desktop", "assign", str(d["id"]), "--user", "carol", "--user", "dave").stdout
    assert out.strip() == f"desktop {d['id']}: carol dave"
    assert ctl("desktop", "assign", str(d["id"]), check=False).returncode == 2
    assert "carol" in ctl("user", "show", str(users["carol"])).stdout
    assert str(d["id"]) in ctl("user", "list").stdout
    # A new password (stdin) works, the old one no more.
    ctl("user", "set", str(users["carol"]), "--password", stdin=PW2 + "\n")
    assert m.login({"tenant": "acme", "user": "carol", "password": PW})[0] == 401
    assert m.login({"tenant": "acme", "user": "carol", "password": PW2})[0] == 200
    ctl("user", "set", str(users["carol"]), "--display-name", "C")
    assert m.ok("GET", f"users/{users['carol']}", token=ACME)["display_name"] == "C"
    ctl("user", "del", str(users["dave"]))
    out = ctl("desktop", "assign", str(d["id"]), "--none").stdout
    assert out.strip() == f"desktop {d['id']}: no users"
    assert ctl("user", "show", "nope", check=False).returncode == 2
    # The provider lists by tenant.
    env["TESSMGR_TOKEN"] = PROVIDER
    assert [u["name"] for u in json.loads(ctl("--json", "user", "list", "--tenant",
                                               "acme").stdout)] == ["carol"]
    assert json.loads(ctl("--json", "user", "list", "--tenant", "bravo").stdout) == []


def test_concurrent_failures_cannot_pass_the_limit(cleanup, tmp_path):
    """Logins in flight at once: each is counted before its ~0.1 s Argon2 check, so no more
    than the per-user limit (3) are ever checked; the rest are refused with 429 at once."""
    import concurrent.futures
    m = Mgr(cleanup, tmp_path, {"users": {"argon2_memory_kib": 32768, "argon2_time": 2},
                                "http": {"login_failures_per_user": 3,
                                         "login_failures_per_address": 1000}}).start()
    m.site_h1("acme")
    user(m, "carol")
    bad = {"tenant": "acme", "user": "carol", "password": "z" * 12}
    with concurrent.futures.ThreadPoolExecutor(16) as ex:
        got = [st for st, _, _ in ex.map(lambda _: m.login(bad), range(16))]
    assert got.count(401) <= 3 and got.count(429) >= 13 - got.count(503), got
    # The right password now is refused too (the limit holds), and no 200 slipped through.
    assert m.login({"tenant": "acme", "user": "carol", "password": PW})[0] == 429


def test_tenant_admin_session_ends_after_its_tenant(m):
    """A tenant admin's session whose tenant was deleted gets 403 on the API, yet may still
    read and end itself (logout is how a browser drops the cookie)."""
    s = m.session({"token": BRAVO})
    m.ok("DELETE", "quotas/bravo/std")
    m.ok("DELETE", "tenants/bravo")
    assert s.call("GET", "desktops")[0] == 403
    assert s.call("GET", "session")[0] == 200
    assert s.call("POST", "logout")[0] == 204
    assert s.call("GET", "session")[0] == 401


def test_login_rehashes_on_old_params(m):
    """A hash stored with other Argon2 parameters than the config's (the dummy verify of
    unknown users uses the config's) is made again at the user's next good login, with the
    same password and generation (no session ends)."""
    user(m, "carol")
    db = sqlite3.connect(m.config["store"])
    stored = lambda: db.execute("SELECT hash, gen FROM users WHERE name = 'carol'").fetchone()  # noqa: E731
    assert stored()[0].startswith("$argon2id$v=19$m=2048,t=1,p=1$")
    login(m, "carol")
    assert stored()[0].startswith("$argon2id$v=19$m=2048,t=1,p=1$")  # current: left alone
    m.stop()
    m.config["users"]["argon2_memory_kib"] = 4096
    m.start()
    before = stored()
    assert m.login({"tenant": "acme", "user": "carol", "password": "w" * 12})[0] == 401
    assert stored() == before  # a failed login changes nothing
    s = login(m, "carol")
    h, gen = stored()
    assert h.startswith("$argon2id$v=19$m=4096,t=1,p=1$") and gen == before[1], h
    assert s.call("GET", "desktops")[0] == 200  # its generation is the login's
    assert login(m, "carol").call("GET", "session")[0] == 200
    db.close()
