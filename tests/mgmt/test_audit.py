# SPDX-License-Identifier: BSD-3-Clause
"""tessmgrd's audit log under hostile or merely busy clients (review 1.6): unauthenticated
requests are counted per interval, not stored one by one; queries are bounded, run outside the
global lock and keep rows whose text is not UTF-8; retention prunes only the oldest rows,
through the retention job, and says so in the log itself."""
import sqlite3
import threading
import time

import pytest

from mgr import ACME, PROVIDER, Mgr


def rows(m, where="1"):
    db = sqlite3.connect(m.config["store"], timeout=30)
    db.text_factory = lambda b: b.decode(errors="replace")
    try:
        return db.execute(f"SELECT id, time, principal, action, target, result FROM audit "
                          f"WHERE {where} ORDER BY id").fetchall()
    finally:
        db.close()


def wait_for(what, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        got = what()
        if got:
            return got
        time.sleep(0.1)
    raise AssertionError(f"not true after {timeout}s")


def test_unauthenticated_requests_are_counted_not_stored(cleanup, tmp_path):
    m = Mgr(cleanup, tmp_path, {"audit": {"unauth_interval_sec": 1}}).start()
    m.site()
    m.tenant("acme", 100)
    before = len(rows(m))
    n = 300
    for i in range(n):
        assert m.call("POST", "sites", {"name": f"s{i}"}, token=None)[0] == 401
        assert m.call("DELETE", "sites/paris", token="not-a-known-token-000")[0] == 401
    # Not one row per request: at most a summary per interval went in meanwhile.
    assert len(rows(m)) - before < 20, rows(m)[-5:]

    # Each interval's requests are one summary row, with the counts.
    def summed():
        got = m.ok("GET", "audit?action=unauthenticated&limit=1000")
        return sum(int(e["target"].split()[0]) for e in got) >= 2 * n and got

    got = wait_for(summed)
    assert all(e["principal"] == "-" and e["tenant"] == "" for e in got)
    assert "no token" in got[0]["result"] and "unknown token" in " ".join(
        e["result"] for e in got)
    # Tenants do not see them; the counter does.
    assert m.ok("GET", "audit?action=unauthenticated", token=ACME) == []
    assert m.ok("GET", "stats")["audit"]["unauthenticated"] >= 2 * n
    assert m.call("GET", "stats", token=ACME)[0] == 403


def test_audit_limit_is_bounded(cleanup, tmp_path):
    m = Mgr(cleanup, tmp_path, {"audit": {"max_limit": 50}}).start()
    m.site()
    for q in ("limit=51", "limit=4294967295", "limit=-1", "limit=abc", "limit=", "limit=0",
              "limit=10x", "since=abc", "since=-", "since=99999999999999999999999"):
        status, r = m.call("GET", "audit?" + q)
        assert status == 400, (q, r)
        assert r["error"]["path"] in ("limit", "since"), r
    assert "at most 50" in m.call("GET", "audit?limit=51")[1]["error"]["message"]
    assert len(m.ok("GET", "audit?limit=50")) == 1
    assert len(m.ok("GET", "audit")) == 1  # the default fits under the maximum
    assert m.ok("GET", "stats")["audit"]["queries_refused"] == 11


def test_audit_query_does_not_hold_the_global_lock(cleanup, tmp_path):
    m = Mgr(cleanup, tmp_path).start()
    m.site()
    # A large log, written straight into the store (tessmgrd reads it through WAL).
    db = sqlite3.connect(m.config["store"], timeout=30)
    db.executemany("INSERT INTO audit (time, principal, role, tenant, action, target, result) "
                   "VALUES (?, 'x', 'tenant', 'acme', 'POST desktops', 'desktop 1', '202 ok')",
                   ((1000,) for _ in range(1_000_000)))
    db.commit()
    db.close()
    done = threading.Event()
    answer = []

    def scan():
        # Nothing is this recent: the query reads the whole table.
        answer.append(m.call("GET", "audit?since=4000000000&limit=10"))
        done.set()

    t = threading.Thread(target=scan)
    t.start()
    # While the scan runs, other clients are served: many GET /v1/hosts answer before it
    # (under the global lock, only those that came before the scan took it).
    served = 0
    while not done.is_set():
        status, _ = m.call("GET", "hosts")
        assert status == 200
        served += not done.is_set()
    t.join()
    assert answer[0] == (200, [])
    assert served >= 10, served


def test_non_utf8_text_is_escaped_not_dropped(cleanup, tmp_path):
    m = Mgr(cleanup, tmp_path).start()
    m.site()
    m.test_host("h1")
    m.tenant("acme", 100)
    status, r = m.call("POST", "%ff")
    assert status == 404 and "\\xff" in r["error"]["message"], r
    status, r = m.call("POST", "desktops/%ff%fe/start", token=ACME)
    assert status == 404, r
    got = m.ok("GET", "audit")
    assert [e["target"] for e in got[:2]] == ["desktop \\xff\\xfe", "/v1/\\xff"], got[:2]
    # A row written before this release (or by hand) is escaped when read.
    db = sqlite3.connect(m.config["store"], timeout=30)
    db.execute("INSERT INTO audit (time, principal, role, tenant, action, target, result) "
               "VALUES (1, 'x', 'provider', '', 'POST x', CAST(X'41FF42' AS TEXT), '200 ok')")
    db.commit()
    db.close()
    assert m.ok("GET", "audit?limit=1")[0]["target"] == "A\\xffB"
    assert len(m.ok("GET", "audit")) == len(rows(m))


def test_action_filter_has_an_index(cleanup, tmp_path):
    m = Mgr(cleanup, tmp_path).start()
    db = sqlite3.connect(m.config["store"], timeout=30)
    plan = db.execute("EXPLAIN QUERY PLAN SELECT id FROM audit WHERE action = 'x' "
                      "ORDER BY id DESC LIMIT 10").fetchall()
    db.close()
    assert any("INDEX" in p[-1] and "action" in p[-1] for p in plan), plan


def test_retention_prunes_only_the_oldest_and_says_so(cleanup, tmp_path):
    m = Mgr(cleanup, tmp_path, {"audit": {"max_rows": 20, "max_age_days": 1}}).start()
    # Rows older than max_age_days go at the next write.
    db = sqlite3.connect(m.config["store"], timeout=30)
    db.executemany("INSERT INTO audit (time, principal, role, tenant, action, target, result) "
                   "VALUES (1000, 'old', 'provider', '', 'POST sites', 'x', '201 ok')",
                   ((),) * 5)
    db.commit()
    db.close()
    m.site()
    assert not rows(m, "principal = 'old'")
    for i in range(60):
        assert m.call("POST", "sites", {"name": f"s{i}"})[0] == 400
    left = rows(m)
    assert len(left) <= 20, len(left)
    ids = [r[0] for r in left]
    assert ids == list(range(ids[0], ids[0] + len(ids)))  # only a prefix went
    prunes = [r for r in left if r[3] == "audit prune"]
    assert prunes and prunes[-1][2] == "tessmgrd", left
    db = sqlite3.connect(m.config["store"], timeout=30)
    mark = int(db.execute("SELECT value FROM meta WHERE key = 'audit_pruned_through'")
               .fetchone()[0])
    assert mark == ids[0] - 1
    # By hand, nothing above the mark can go, nor be changed.
    for sql in ("DELETE FROM audit", f"DELETE FROM audit WHERE id = {ids[-1]}",
                "UPDATE audit SET result = 'x'", "UPDATE meta SET value = '0' WHERE key = "
                "'audit_pruned_through'", "DELETE FROM meta WHERE key = 'audit_pruned_through'"):
        with pytest.raises(sqlite3.DatabaseError, match="append-only|only grows"):
            db.execute(sql)
    db.close()
    assert m.ok("GET", "stats")["audit"]["pruned"] >= 45
    assert m.call("GET", "audit", token=PROVIDER)[0] == 200
