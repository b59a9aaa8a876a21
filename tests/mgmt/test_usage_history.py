# SPDX-License-Identifier: BSD-3-Clause
"""tessmgrd's usage history (issue 16 C) on libvirt's test driver: a pass every
usage.sample_sec writes a row per desktop whose reservation sums match the model's vCPUs and
memory times the time it existed; GET /v1/usage/history shows a tenant admin its own tenant
only; downsampling sums old raw rows into hours and hours into days, and deletes days past
retention, in one pass; history survives a restart. Also measures the bytes a row takes, for
README's sizes."""
import os
import sqlite3
import time
import urllib.request

from mgr import ACME, BRAVO, PROVIDER, USAGE_ROW, Mgr

DAY = 86400
HOUR = 3600


def history(m, token=ACME, **q):
    q.setdefault("to", int(time.time()) + HOUR)
    query = "&".join(f"{k}={v}" for k, v in q.items())
    return m.ok("GET", "usage/history" + ("?" + query if query else ""), token=token)


def wait_rows(m, pred, timeout=20, **q):
    deadline = time.time() + timeout
    while True:
        r = history(m, **q)
        if pred(r["rows"]):
            return r["rows"]
        assert time.time() < deadline, r
        time.sleep(0.2)


def start(cleanup, tmp_path):
    m = Mgr(cleanup, tmp_path, {"usage": {"sample_sec": 1}}).start()
    m.site_h1("acme", "bravo")
    return m


def test_samples_sum_to_reservation_and_rbac(cleanup, tmp_path):
    m = start(cleanup, tmp_path)
    t0 = int(time.time())
    d1 = m.desktop("d1", ACME)
    m.desktop("e1", BRAVO)
    created = m.ok("GET", f"desktops/{d1['id']}", token=ACME)["created"]
    deadline = time.time() + 20
    while True:
        rows = history(m, step="raw", **{"from": t0}, desktop="d1")["rows"]
        if sum(r["run_s"] for r in rows) >= 4:
            break
        assert time.time() < deadline, rows
        time.sleep(0.2)
    now = int(time.time())
    secs = sum(r["secs"] for r in rows)
    # Reserved from its creation: the sum covers it within one interval (and a pass's slack).
    assert now - created - 2 <= secs <= now - created, (secs, now, created, rows)
    assert all(r["vcpu_s"] == 2 * r["secs"] and r["mem_mib_s"] == 4096 * r["secs"]
               for r in rows), rows
    assert all(r["tenant"] == "acme" and r["desktop"] == "d1" and r["model"] == "std"
               for r in rows), rows
    assert all(r["run_s"] <= r["secs"] for r in rows)
    # The test driver counts CPU time: a later sample of a running domain knows it.
    assert any(isinstance(r["cpu_ns"], int) and r["cpu_ns"] >= 0 for r in rows), rows
    # Raw rows are contiguous: each starts where the one before ended.
    for a, b in zip(rows, rows[1:]):
        assert b["t"] == a["t"] + a["secs"], rows
    # A stopped desktop still holds its reservation but runs no more.
    r = m.ok("POST", f"desktops/{d1['id']}/stop", token=ACME)
    assert m.wait_job(r["job"]["id"], token=ACME)["state"] == "succeeded"
    t1 = int(time.time()) + 1
    rows = wait_rows(m, lambda rs: sum(r["secs"] for r in rs) >= 3, step="raw",
                     **{"from": t1}, desktop="d1")
    assert all(r["run_s"] == 0 and r["vcpu_s"] == 2 * r["secs"] for r in rows), rows
    assert all(r["cpu_ns"] == 0 for r in rows), rows

    # Hour buckets sum the same samples.
    raw = history(m, step="raw", **{"from": t0 - HOUR, "to": now + HOUR})["rows"]
    hours = history(m, step="hour", **{"from": t0 - HOUR, "to": now + HOUR})["rows"]
    assert all(r["t"] % HOUR == 0 for r in hours)
    assert sum(r["vcpu_s"] for r in hours) == sum(r["vcpu_s"] for r in raw)

    # RBAC: a tenant admin sees its own tenant only; another's is not there (404).
    assert {r["tenant"] for r in raw} == {"acme"}
    bravo = history(m, token=BRAVO, step="raw", **{"from": t0})["rows"]
    assert bravo and {r["tenant"] for r in bravo} == {"bravo"}
    status, e = m.call("GET", "usage/history?tenant=acme", token=BRAVO)
    assert status == 404 and e["error"]["path"] == "tenant", e
    status, e = m.call("GET", "usage/history?tenant=bravo&desktop=d1", token=ACME)
    assert status == 404
    # The provider sees every tenant, or one.
    every = history(m, token=PROVIDER, step="raw", **{"from": t0})["rows"]
    assert {r["tenant"] for r in every} == {"acme", "bravo"}
    only = history(m, token=PROVIDER, tenant="bravo", step="raw", **{"from": t0})["rows"]
    assert {r["desktop"] for r in only} == {"e1"}
    # Bad arguments: 400 with where.
    for q, path in (("step=minute", "step"), ("from=abc", "from"), ("to=-1", "to"),
                    ("from=20&to=10", "from"), ("desktop=d1", "tenant"), ("desktop=", "desktop")):
        status, e = m.call("GET", "usage/history?" + q)
        assert status == 400 and e["error"]["path"] == path, (q, e)
    status, e = m.call("GET", "usage/history?tenant=nobody")
    assert status == 404, e
    status, e = m.call("POST", "usage/history", {}, token=ACME)
    assert status == 405
    # usage.max_rows bounds an answer.
    m.stop()
    m.config["usage"]["max_rows"] = 1
    m.start()
    status, e = m.call("GET", f"usage/history?step=raw&from={t0}", token=ACME)
    assert status == 400 and "usage.max_rows" in e["error"]["message"], e


def test_downsampling_retention_and_restart(cleanup, tmp_path):
    m = start(cleanup, tmp_path)
    d1 = m.desktop("d1", ACME)
    t0 = int(time.time()) - 5
    wait_rows(m, lambda rs: len(rs) >= 2, step="raw", **{"from": t0})
    m.stop()
    db = sqlite3.connect(m.config["store"])
    tenant_id, = db.execute("SELECT tenant_id FROM usage_desktops WHERE desktop_id = ?",
                            (d1["id"],)).fetchone()
    kept = db.execute("SELECT COUNT(*), SUM(vcpu_s) FROM usage WHERE step = 0").fetchone()
    now = int(time.time())
    old_hour = (now - 8 * DAY) // HOUR * HOUR          # raw past raw_days (7)
    old_day = (now - 100 * DAY) // DAY * DAY            # hourly past hourly_days (90)
    gone_day = (now - 2000 * DAY) // DAY * DAY          # daily past daily_days (1825)
    kept_day = (now - 1000 * DAY) // DAY * DAY
    rows = [(0, old_hour + i * 300, tenant_id, d1["id"], 300, 600, 300 * 4096, 300, 1000)
            for i in range(12)]
    rows += [(1, old_day + i * HOUR, tenant_id, d1["id"], HOUR, 2 * HOUR, 4096 * HOUR, 0,
              None) for i in range(24)]
    rows += [(2, gone_day, tenant_id, d1["id"], DAY, 2 * DAY, 4096 * DAY, 0, 0),
             (2, kept_day, tenant_id, d1["id"], DAY, 2 * DAY, 4096 * DAY, DAY, 5)]
    db.executemany(USAGE_ROW, rows)
    db.commit()
    db.close()
    m.start()
    # One pass later: raw summed into its hour, hours into their day, the oldest day gone.
    got = m.wait_compacted("usage", "t, secs, vcpu_s, run_s, cpu_ns", now - 2 * DAY)
    assert got[1] == [(old_hour, HOUR, 2 * HOUR, HOUR, 12000)], got
    assert got[2] == [(kept_day, DAY, 2 * DAY, DAY, 5), (old_day, DAY, 2 * DAY, 0, None)], got
    assert "raw rows summed into hours" in m.log()
    # The API: days sum everything coarser and finer; raw keeps only raw rows.
    r = history(m, tenant="acme", desktop="d1", step="day",
                **{"from": kept_day, "to": now + DAY})["rows"]
    assert [x["t"] for x in r][:3] == [kept_day, old_day, old_hour // DAY * DAY], r
    assert r[2]["secs"] == HOUR and r[2]["cpu_ns"] == 12000
    r = history(m, step="raw", **{"from": old_hour, "to": old_hour + HOUR})["rows"]
    assert r == []
    # The samples from before the restart are still there, and new ones follow.
    db = sqlite3.connect(m.config["store"], timeout=30)
    assert db.execute("SELECT COUNT(*), SUM(vcpu_s) FROM usage WHERE step = 0 AND t < ?",
                      (now,)).fetchone() == kept
    db.close()
    new = wait_rows(m, lambda rs: len(rs) >= 2, step="raw", **{"from": now})
    # Its first interval after the restart has no CPU baseline: unknown, and said so; the
    # next one is known whole; the hour that holds it says its sum lacks those seconds.
    assert new[0]["cpu_ns"] is None and new[0]["cpu_unknown_s"] == new[0]["secs"], new
    assert new[1]["cpu_ns"] is not None and new[1]["cpu_unknown_s"] == 0, new
    hour = [r for r in history(m, step="hour", **{"from": now - HOUR})["rows"]
            if r["t"] == new[0]["t"] // HOUR * HOUR][0]
    assert hour["cpu_unknown_s"] >= new[0]["secs"], hour


def test_a_desktop_deleted_between_passes_keeps_its_last_interval(cleanup, tmp_path):
    """A desktop deleted between two passes: the pass after it counts its reservation and
    running time up to its delete (nothing of its last interval lost to the chargeback)."""
    m = Mgr(cleanup, tmp_path, {"usage": {"sample_sec": 8}}).start()
    m.site_h1("acme")
    m.desktop("clock", ACME)  # its rows show when passes run
    t0 = int(time.time()) - 1
    seen = wait_rows(m, lambda rs: len(rs) >= 1, timeout=30, step="raw", **{"from": t0},
                     desktop="clock")
    d = m.desktop("short", ACME)
    created = m.ok("GET", f"desktops/{d['id']}", token=ACME)["created"]
    time.sleep(2)
    r = m.ok("DELETE", f"desktops/{d['id']}", token=ACME)
    assert m.wait_job(r["job"]["id"], token=ACME)["state"] == "succeeded"
    gone = time.time()
    wait_rows(m, lambda rs: len(rs) > len(seen), timeout=30, step="raw", **{"from": t0},
              desktop="clock")
    rows = history(m, step="raw", **{"from": t0}, desktop="short")["rows"]
    secs = sum(x["secs"] for x in rows)
    # From its creation to its delete, to within the pass's whole seconds.
    assert gone - created - 2 <= secs <= gone - created + 1, (secs, gone, created, rows)
    assert sum(x["run_s"] for x in rows) == secs and all(
        x["vcpu_s"] == 2 * x["secs"] for x in rows), rows
    cb = m.ok("GET", f"chargeback?from={t0}&to={int(gone) + 60}", token=ACME)
    assert [x["desktop"] for x in cb["tenants"][0]["desktops"]].count("short") == 1, cb


def test_row_size(tmp_path):
    """Bytes a row takes in the store (table and key are one b-tree: WITHOUT ROWID), for
    README's sizes: 10,000 desktops' rows of a day at 300 s, with realistic values."""
    db = sqlite3.connect(os.path.join(str(tmp_path), "size.db"))
    src = open(os.path.join(os.path.dirname(__file__), "..", "..", "mgmt", "tessmgrd",
                            "store.c")).read()
    start_ = src.index('"CREATE TABLE IF NOT EXISTS usage (')
    sql = "".join(part.split('"')[1] for part in
                  src[start_:src.index("WITHOUT ROWID;", start_) + 15].split("\n")
                  if '"' in part)
    db.execute(sql.rstrip(";"))
    t = 1796256000
    desks = 10000
    rows = ((0, t + k * 300, 1 + d // 100, d, 300, 600, 300 * 4096, 300, 12_345_678_901 + d)
            for k in range(24) for d in range(desks))
    db.executemany(USAGE_ROW, rows)
    db.commit()
    n = 24 * desks
    size = db.execute("SELECT SUM(pgsize) FROM dbstat WHERE name = 'usage'").fetchone()[0]
    per_row = size / n
    print(f"usage rows: {per_row:.1f} bytes each ({n} rows, {size} bytes)")
    with open(os.path.join(str(tmp_path), "..", "usage_row_bytes"), "w") as f:
        f.write(f"{per_row:.1f}\n")
    # README's sizes assume at most 50 bytes a row.
    assert per_row <= 50, per_row


def get_text(m, path, token=PROVIDER):
    req = urllib.request.Request(m.url + "/v1/" + path)
    req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.headers["Content-Type"], r.read().decode()


def test_rates_and_chargeback(cleanup, tmp_path):
    m = start(cleanup, tmp_path)
    d1 = m.desktop("d1", ACME)
    # Rates: the provider's; tenants read them; bad ones refused whole.
    assert m.ok("GET", "rates", token=ACME) == {"currency": "EUR", "vcpu_hour": 0.0,
                                                "gib_hour": 0.0, "gb_in": 0.0, "gb_out": 0.0,
                                                "models": [], "mode": "reservation",
                                                "pcpu_hour": 0.0}
    rates = {"currency": "EUR", "vcpu_hour": 0.5, "gib_hour": 0.25, "gb_in": 0.5,
             "gb_out": 1.0, "mode": "reservation", "pcpu_hour": 0.0,
             "models": [{"model": "big", "vcpu_hour": 1.0, "gib_hour": 0.1}]}
    status, e = m.call("PUT", "rates", rates, token=ACME)
    assert status == 403, e
    for bad, path in (({"vcpu_hour": -1}, "/vcpu_hour"), ({"currency": "eur"}, "/currency"),
                      ({"price": 1}, ""),
                      ({"models": [{"model": "big", "vcpu_hour": 1, "gib_hour": 1}] * 2}, "")):
        status, e = m.call("PUT", "rates", bad)
        assert status == 400 and e["error"]["path"].startswith(path), (bad, e)
    assert m.ok("GET", "rates")["vcpu_hour"] == 0.0
    assert m.ok("PUT", "rates", rates) == rates
    wait_rows(m, lambda rs: len(rs) >= 1, step="raw", **{"from": int(time.time()) - 60})
    m.stop()
    # A window a month ago: acme's d1 (std: 2 vCPUs, 4 GiB) 10 hours, and a desktop of
    # bravo's of model big (4 vCPUs, 8 GiB), deleted since, a whole day.
    w0 = (int(time.time()) - 30 * DAY) // DAY * DAY
    db = sqlite3.connect(m.config["store"])
    # The rates as if put before the window (they are in force from their PUT on).
    db.execute("UPDATE rate_periods SET start_t = 0")
    acme_id, = db.execute("SELECT tenant_id FROM usage_desktops WHERE desktop_id = ?",
                          (d1["id"],)).fetchone()
    bravo_id, = db.execute("SELECT DISTINCT tenant_id FROM quotas WHERE tenant_id != ?",
                           (acme_id,)).fetchone()
    # Its name as no API would take it: CSV must quote it and keep it from being a formula.
    db.execute("INSERT INTO usage_desktops VALUES (999, ?, 'bravo', ?, 'big')",
               (bravo_id, '=x9,"y"'))
    db.executemany(USAGE_ROW,
                   [(1, w0 + i * HOUR, acme_id, d1["id"], HOUR, 2 * HOUR, 4096 * HOUR,
                     HOUR if i < 4 else 0, None) for i in range(10)] +
                   [(2, w0 - DAY, bravo_id, 999, DAY, 4 * DAY, 8192 * DAY, 0, None)] +
                   # Ten days before: three desktops of 6 MiB-seconds, 0.4 micro-EUR each.
                   [(0, w0 - 10 * DAY + i, acme_id, 990 + i, 1, 0, 6, 0, None)
                    for i in range(3)])
    db.executemany("INSERT INTO usage_desktops VALUES (?, ?, 'acme', ?, 'std')",
                   [(990 + i, acme_id, f"tiny{i}") for i in range(3)])
    # acme's network in the window: 2 GB in, 1 GB out (2 x 0.5 + 1 x 1 = 2 EUR).
    db.execute("INSERT INTO usage_net VALUES (1, ?, ?, 2000000000, 1000000000)",
               (w0 + HOUR, acme_id))
    db.execute("INSERT OR REPLACE INTO usage_tenants VALUES (?, 'acme')", (acme_id,))
    db.commit()
    db.close()
    m.start()
    assert m.ok("GET", "rates") == rates  # kept in the store
    q = f"chargeback?from={w0 - DAY}&to={w0 + DAY}"
    r = m.ok("GET", q)
    assert r["mode"] == "reservation" and r["currency"] == "EUR"
    assert [t["tenant"] for t in r["tenants"]] == ["acme", "bravo"], r
    acme, bravo = r["tenants"]
    assert acme["desktops"] == [{"desktop": "d1", "model": "std", "hours": 10.0,
                                 "vcpu_hours": 20.0, "gib_hours": 40.0, "run_hours": 4.0,
                                 "cost": 20.0}], acme
    assert (acme["gb_in"], acme["gb_out"], acme["network_cost"], acme["cost"]) == \
        (2.0, 1.0, 2.0, 22.0), acme
    assert (bravo["gb_in"], bravo["gb_out"], bravo["network_cost"]) == (0, 0, 0), bravo
    # Model big's own prices: 96 vCPU-hours x 1 + 192 GiB-hours x 0.1.
    assert abs(bravo["cost"] - 115.2) < 1e-9 and abs(r["total"] - 137.2) < 1e-9, r
    # Tenants see their own only; another's is not there.
    mine = m.ok("GET", q, token=ACME)
    assert [t["tenant"] for t in mine["tenants"]] == ["acme"] and mine["total"] == 22.0
    assert m.call("GET", q + "&tenant=bravo", token=ACME)[0] == 404
    assert [t["tenant"] for t in m.ok("GET", q + "&tenant=bravo")["tenants"]] == ["bravo"]
    assert m.call("GET", q + "&tenant=nobody")[0] == 404
    # CSV: a line per desktop.
    ctype, text = get_text(m, q + "&format=csv")
    assert ctype.startswith("text/csv")
    lines = text.splitlines()
    assert lines[0] == "tenant,desktop,model,hours,vcpu_hours,gib_hours,run_hours,cost,currency," \
        "gb_in,gb_out,pcpu_hours"
    assert lines[1:] == ["acme,,,,,,,2.000000,EUR,2.000000000,1.000000000,",
                         "acme,d1,std,10.000000,20.000000,40.000000,4.000000,20.000000,EUR,,,",
                         "bravo,\"'=x9,\"\"y\"\"\",big,24.000000,96.000000,192.000000,0.000000,"
                         "115.200000,EUR,,,"]
    # Each desktop's cost in whole micro-units: the CSV's lines add up to the total.
    tiny = f"chargeback?from={w0 - 10 * DAY}&to={w0 - 9 * DAY}"
    _, text = get_text(m, tiny + "&format=csv")
    costs = [line.split(",")[7] for line in text.splitlines()[1:]]
    assert costs == ["0.000000"] * 3 and m.ok("GET", tiny)["total"] == 0, (text, costs)
    for bad, path in (("chargeback?to=10", "from"), ("chargeback?from=10", "to"),
                      ("chargeback?from=10&to=5", "from"), (q + "&format=xml", "format")):
        status, e = m.call("GET", bad)
        assert status == 400 and e["error"]["path"] == path, (bad, e)
    assert m.call("POST", q, {})[0] == 405


def test_chargeback_of_a_tenant_made_again_under_its_name(cleanup, tmp_path):
    """A tenant deleted and made again under its name is another tenant: its admin's
    chargeback has none of its predecessor's desktops and costs (by tenant id, not name)."""
    m = start(cleanup, tmp_path)
    m.ok("PUT", "rates", {"currency": "EUR", "vcpu_hour": 0.5, "gib_hour": 0.25,
                          "models": []})
    d1 = m.desktop("d1", ACME)
    now = int(time.time())
    wait_rows(m, lambda rs: len(rs) >= 2, step="raw", **{"from": now - 60})
    m.wait_job(m.ok("DELETE", f"desktops/{d1['id']}", token=ACME)["job"]["id"], token=ACME)
    m.ok("DELETE", "quotas/acme/std")
    m.ok("DELETE", "tenants/acme")
    m.tenant("acme", 100)
    q = f"chargeback?from={now - HOUR}&to={now + HOUR}"
    mine = m.ok("GET", q, token=ACME)
    assert mine["tenants"] == [] and mine["total"] == 0, mine
    assert m.ok("GET", q + "&tenant=acme")["tenants"] == []
    # The provider still bills the old acme for d1, apart from the new one.
    old = m.ok("GET", q)["tenants"]
    assert [(t["tenant"], [d["desktop"] for d in t["desktops"]]) for t in old] == \
        [("acme", ["d1"])] and old[0]["cost"] > 0, old
