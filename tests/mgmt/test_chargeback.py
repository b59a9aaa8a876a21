# SPDX-License-Identifier: BSD-3-Clause
"""tessmgrd's chargeback through tessctl (issue 16 C): `tessctl usage history`, `tessctl
chargeback` (table, --json, --csv) and `tessctl rates get|set` against a tessmgrd on libvirt's
test driver, with usage rows of a known window written into the store."""
import json
import os
import sqlite3
import subprocess
import threading
import time
import urllib.request

import tess
from mgr import ACME, BRAVO, PROVIDER, USAGE_ROW, Mgr

DAY = 86400
HOUR = 3600


def ctl(m, *args, token=PROVIDER):
    return subprocess.run([tess.TESSCTL, "-m", m.url, "-T", token] + list(args),
                          capture_output=True, text=True, timeout=60)


def get_csv(m, path):
    req = urllib.request.Request(m.url + "/v1/" + path)
    req.add_header("Authorization", f"Bearer {PROVIDER}")
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.read().decode().splitlines()


def start(cleanup, tmp_path):
    m = Mgr(cleanup, tmp_path, {"usage": {"sample_sec": 1}}).start()
    m.site_h1("acme", "bravo")
    return m


def wait_sampled(m, desktop_id, timeout=20):
    deadline = time.time() + timeout
    while True:
        db = sqlite3.connect(m.config["store"], timeout=30)
        row = db.execute("SELECT tenant_id FROM usage_desktops WHERE desktop_id = ?",
                         (desktop_id,)).fetchone()
        db.close()
        if row:
            return row[0]
        assert time.time() < deadline
        time.sleep(0.2)


def test_tessctl_usage_chargeback_rates(cleanup, tmp_path):
    m = start(cleanup, tmp_path)
    d1 = m.desktop("d1", ACME)
    acme_id = wait_sampled(m, d1["id"])

    # rates set: the schema's options over today's rates, a model's prices, PUT whole.
    r = ctl(m, "rates", "set", "--vcpu-hour", "0.5", "--gib-hour", "0.25", "--model",
            "big:1:0.1")
    assert r.returncode == 0, r.stderr
    want = {"currency": "EUR", "vcpu_hour": 0.5, "gib_hour": 0.25, "gb_in": 0.0, "gb_out": 0.0,
            "mode": "reservation", "pcpu_hour": 0.0,
            "models": [{"model": "big", "vcpu_hour": 1.0, "gib_hour": 0.1}]}
    assert m.ok("GET", "rates") == want
    r = ctl(m, "rates", "set", "--currency", "CHF")
    assert r.returncode == 0, r.stderr
    assert m.ok("GET", "rates") == dict(want, currency="CHF")
    r = ctl(m, "rates", "set", "--currency", "EUR", "--no-model", "big")
    assert r.returncode == 0 and m.ok("GET", "rates")["models"] == [], r.stderr
    r = ctl(m, "rates", "set", "--model", "big:1:0.1")
    assert r.returncode == 0, r.stderr
    # Bad values: the server's 400 with where; unknown options: usage (2); nothing changed.
    r = ctl(m, "rates", "set", "--vcpu-hour", "-1")
    assert r.returncode == 1 and "/vcpu_hour" in r.stderr, r
    r = ctl(m, "rates", "set", "--price", "1")
    assert r.returncode == 2 and "unknown option" in r.stderr, r
    r = ctl(m, "rates", "set", "--model", "big:x")
    assert r.returncode == 2 and "MODEL:VCPU_HOUR:GIB_HOUR" in r.stderr, r
    assert m.ok("GET", "rates") == want
    # set's options are the rates' schema's: its keys are listed, with their ranges.
    r = ctl(m, "rates", "--help")
    assert r.returncode == 0, r
    assert "rates get [--at EPOCH] | history | set [--model MODEL:VCPU_HOUR:GIB_HOUR]" \
        in r.stdout, r.stdout
    for opt in ("--currency", "--mode reservation|allocation", "--vcpu-hour", "--gib-hour",
                "--gb-in", "--gb-out", "--pcpu-hour"):
        assert opt in r.stdout, (opt, r.stdout)
    assert "--models" not in r.stdout, r.stdout
    r = ctl(m, "rates", "put")
    assert r.returncode == 2 and "tessctl rates --help" in r.stderr, r
    # Tenants read the rates, never set them.
    r = ctl(m, "rates", "get", token=ACME)
    assert r.returncode == 0 and "vcpu_hour: 0.5" in r.stdout and "big" in r.stdout, r
    assert ctl(m, "rates", "set", "--vcpu-hour", "9", token=ACME).returncode == 1
    r = ctl(m, "--json", "rates", "get")
    assert r.returncode == 0 and json.loads(r.stdout) == want, r
    path = os.path.join(str(tmp_path), "rates.json")
    with open(path, "w") as f:
        json.dump(dict(want, vcpu_hour=0.75), f)
    assert ctl(m, "rates", "set", "--file", path).returncode == 0
    assert m.ok("GET", "rates")["vcpu_hour"] == 0.75
    assert ctl(m, "rates", "set", "--vcpu-hour", "0.5").returncode == 0

    # A window a month ago: d1 (std: 2 vCPUs, 4 GiB) 10 hours, 4 of them running.
    w0 = (int(time.time()) - 30 * DAY) // DAY * DAY
    m.stop()
    db = sqlite3.connect(m.config["store"])
    # Today's rates as if put before the window (rates are in force from their PUT on).
    db.execute("DELETE FROM rate_periods WHERE end_t IS NOT NULL")
    db.execute("UPDATE rate_periods SET start_t = 0")
    db.executemany(USAGE_ROW,
                   [(1, w0 + i * HOUR, acme_id, d1["id"], HOUR, 2 * HOUR, 4096 * HOUR,
                     HOUR if i < 4 else 0, 5 * 10**9 if i < 4 else 0) for i in range(10)])
    db.commit()
    db.close()
    m.start()
    frm, to = str(w0), str(w0 + DAY)

    # usage history: a table, or the answer's JSON.
    r = ctl(m, "usage", "history", "--tenant", "acme", "--from", frm, "--to", to, "--step",
            "day")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split()[:4] == ["TIME", "(UTC)", "TENANT", "DESKTOP"], lines
    assert lines[1].split()[2:] == ["acme", "d1", "std", "10.000", "20.000", "40.000",
                                    "4.000", "20.000"], lines
    r = ctl(m, "--json", "usage", "history", "--from", frm, "--to", to, "--step", "hour",
            token=ACME)
    rows = json.loads(r.stdout)["rows"]
    assert len(rows) == 10 and rows[0]["vcpu_s"] == 2 * HOUR, rows
    r = ctl(m, "usage", "history", "--step", "minute")
    assert r.returncode == 1 and "step" in r.stderr, r
    assert ctl(m, "usage", "history", "--when", "1").returncode == 2

    # chargeback: table, JSON, CSV; a tenant admin its own only.
    r = ctl(m, "chargeback", "--from", frm, "--to", to)
    assert r.returncode == 0, r.stderr
    out = r.stdout.splitlines()
    assert "reservation mode" in out[0] and "EUR" in out[0], out
    assert out[2].split() == ["acme", "d1", "std", "10.000", "20.000", "40.000", "4.000", "-",
                              "20.000000"], out
    assert out[-1] == "total 20.000000 EUR", out
    r = ctl(m, "--json", "chargeback", "--from", frm, "--to", to, "--tenant", "acme")
    assert json.loads(r.stdout)["total"] == 20.0, r
    r = ctl(m, "chargeback", "--from", frm, "--to", to, "--csv", token=ACME)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        "tenant,desktop,model,hours,vcpu_hours,gib_hours,run_hours,cost,currency,gb_in,gb_out,"
        "pcpu_hours",
        "acme,d1,std,10.000000,20.000000,40.000000,4.000000,20.000000,EUR,,,"], r.stdout
    r = ctl(m, "chargeback", "--from", frm, "--to", to, "--tenant", "bravo", "--csv",
            token=ACME)
    assert r.returncode == 1 and "error 404" in r.stderr, r
    r = ctl(m, "chargeback", "--from", to, "--to", frm)
    assert r.returncode == 1 and "(at from)" in r.stderr, r
    assert ctl(m, "chargeback", "--from", frm).returncode == 2  # --to needed

    # The mode and the partitions' price are options too (the schema's).
    r = ctl(m, "rates", "set", "--mode", "allocation", "--pcpu-hour", "2")
    assert r.returncode == 0 and "mode: allocation" in r.stdout, r
    got = m.ok("GET", "rates")
    assert (got["mode"], got["pcpu_hour"], got["vcpu_hour"]) == ("allocation", 2.0, 0.5), got
    r = ctl(m, "rates", "set", "--mode", "both")
    assert r.returncode == 1 and "/mode" in r.stderr, r

    # Completion offers the new commands' words and options.
    r = subprocess.run([tess.TESSCTL, "__complete", "usage", ""], capture_output=True,
                       text=True, timeout=30)
    assert "history" in r.stdout.split(), r.stdout
    r = subprocess.run([tess.TESSCTL, "__complete", "rates", "set", "--"],
                       capture_output=True, text=True, timeout=30)
    assert "--vcpu-hour" in r.stdout.split() and "--model" in r.stdout.split(), r.stdout


def raw_rows(m, since):
    return m.ok("GET", f"usage/history?step=raw&from={since}&to={int(time.time()) + HOUR}")["rows"]


def wait_rows_after(m, since, n=2, timeout=20):
    deadline = time.time() + timeout
    while True:
        rows = [r for r in raw_rows(m, since) if r["t"] >= since]
        if len(rows) >= n:
            return rows
        assert time.time() < deadline, rows
        time.sleep(0.2)


def test_rate_history_prices_each_period_at_its_rates(cleanup, tmp_path):
    m = start(cleanup, tmp_path)
    m.desktop("d1", ACME)
    a = {"currency": "EUR", "vcpu_hour": 0.5, "gib_hour": 0.25, "gb_in": 0.0, "gb_out": 0.0,
         "models": [], "mode": "reservation", "pcpu_hour": 0.0}
    b = {"currency": "EUR", "vcpu_hour": 2.0, "gib_hour": 1.0, "gb_in": 0.0, "gb_out": 0.0,
         "mode": "reservation", "pcpu_hour": 0.0,
         "models": [{"model": "std", "vcpu_hour": 3.0, "gib_hour": 0.5}]}
    m.ok("PUT", "rates", a)
    [pa] = m.ok("GET", "rates/history")
    assert pa["to"] is None and pa["rates"] == a, pa
    wait_rows_after(m, pa["from"])
    time.sleep(1.1)  # the next PUT starts a period of its own, a second later at least
    m.ok("PUT", "rates", b)
    history = m.ok("GET", "rates/history", token=ACME)
    assert [p["rates"] for p in history] == [a, b], history
    pa, pb = history
    # The first period ends where the second starts; the second is open.
    assert pa["to"] == pb["from"] > pa["from"] and pb["to"] is None, history
    assert m.ok("GET", "rates") == b
    assert m.ok("GET", f"rates?at={pa['from']}") == a
    assert m.ok("GET", f"rates?at={pb['from'] - 1}") == a
    assert m.ok("GET", f"rates?at={pb['from']}", token=ACME) == b
    assert m.ok("GET", f"rates?at={pa['from'] - 1}")["vcpu_hour"] == 0  # before any
    assert m.call("GET", "rates?at=x")[0] == 400
    assert m.call("PUT", "rates/history", a)[0] == 405
    r = ctl(m, "rates", "history", token=ACME)
    assert r.returncode == 0 and r.stdout.count("from ") == 2 and "to now UTC" in r.stdout, r
    r = ctl(m, "--json", "rates", "get", "--at", str(pa["from"]))
    assert r.returncode == 0 and json.loads(r.stdout) == a, r
    wait_rows_after(m, pb["from"])
    m.stop()  # no more rows: the sums below are final
    m.start()
    rows = [r for r in raw_rows(m, pa["from"] - 60) if r["t"] < int(time.time()) - 1]
    # Each row (a bucket) at the rates in force when it starts: before the first PUT
    # nothing, then a's default prices, then b's prices of model std.
    want = 0.0
    for r in rows:
        if r["t"] >= pb["from"]:
            want += r["vcpu_s"] / 3600 * 3.0 + r["mem_mib_s"] / (1024 * 3600) * 0.5
        elif r["t"] >= pa["from"]:
            want += r["vcpu_s"] / 3600 * 0.5 + r["mem_mib_s"] / (1024 * 3600) * 0.25
    assert any(r["t"] >= pb["from"] for r in rows) and any(
        pa["from"] <= r["t"] < pb["from"] for r in rows), rows
    end = rows[-1]["t"] + 1
    cb = m.ok("GET", f"chargeback?from={pa['from'] - 60}&to={end}")
    [t] = cb["tenants"]
    assert abs(t["cost"] - want) <= 1e-6 and abs(cb["total"] - want) <= 1e-6, (cb, want)
    assert abs(t["desktops"][0]["vcpu_hours"] * 3600 - sum(r["vcpu_s"] for r in rows)) < 1e-6
    # Only b's period: all of it at b's prices.
    cb = m.ok("GET", f"chargeback?from={pb['from']}&to={end}")
    after = [r for r in rows if r["t"] >= pb["from"]]
    want_b = sum(r["vcpu_s"] / 3600 * 3.0 + r["mem_mib_s"] / (1024 * 3600) * 0.5
                 for r in after)
    assert abs(cb["total"] - want_b) <= 1e-6, (cb, want_b)

    # A window over rates in two currencies is refused, each side is answered.
    time.sleep(1.1)
    m.ok("PUT", "rates", dict(b, currency="CHF"))
    pc = m.ok("GET", "rates/history")[-1]
    status, e = m.call("GET", f"chargeback?from={pb['from']}&to={pc['from'] + 10}")
    assert status == 409 and "CHF" in e["error"]["message"], e
    assert m.ok("GET", f"chargeback?from={pc['from']}&to={pc['from'] + 10}")["currency"] == "CHF"
    # The history survives a restart.
    m.stop()
    m.start()
    assert [p["rates"]["currency"] for p in m.ok("GET", "rates/history")] == ["EUR", "EUR", "CHF"]


def test_rates_of_a_store_without_history(cleanup, tmp_path):
    """Rates a store kept before there was a history are in force since the epoch."""
    m = start(cleanup, tmp_path)
    m.stop()
    old = {"currency": "USD", "gib_hour": 0.25, "models": [], "vcpu_hour": 0.5, "gb_in": 0.0,
           "gb_out": 0.0, "mode": "reservation", "pcpu_hour": 0.0}
    db = sqlite3.connect(m.config["store"])
    db.execute("DROP TABLE rate_periods")
    db.execute("INSERT INTO meta VALUES ('rates', ?)", (json.dumps(old),))
    db.commit()
    db.close()
    m.start()
    assert m.ok("GET", "rates") == old
    assert m.ok("GET", "rates/history") == [{"from": 0, "to": None, "rates": old}]


def alloc_rows(m, since):
    db = sqlite3.connect(m.config["store"], timeout=30)
    rows = db.execute("SELECT a.t, n.tenant, a.secs, a.vcpu_s, a.mem_mib_s, a.pcpu_s "
                      "FROM usage_alloc a JOIN usage_tenants n USING (tenant_id) "
                      "WHERE a.step = 0 AND a.t >= ? ORDER BY a.t, n.tenant", (since,)).fetchall()
    db.close()
    return rows


def cpus_of(text):
    n = 0
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        n += int(hi or lo) - int(lo) + 1
    return n


def test_allocation_counts_a_quota_for_the_seconds_it_had_each_size(cleanup, tmp_path):
    """A quota raised counts at its old size up to the change and at its new one from it; a
    quota deleted counts up to its deletion: neither as the pass after saw it (a pass every
    3 s, so a change falls inside one)."""
    m = Mgr(cleanup, tmp_path, {"usage": {"sample_sec": 3}}).start()
    m.site_h1("acme", "bravo")
    q = m.ok("GET", "quotas/acme/std")
    t0 = int(time.time()) + 1  # intervals from here on start with the quotas made
    time.sleep(4)  # a pass with the quotas as made
    lo = int(time.time())  # the changes' seconds are in [lo, hi)
    m.ok("PUT", "quotas/acme/std", {k: q[k] for k in ("tenant", "model", "max_memory_mb")}
         | {"max_cpus": 32})
    m.ok("DELETE", "quotas/bravo/std")
    hi = int(time.time()) + 1
    deadline = time.time() + 30
    while not [r for r in alloc_rows(m, hi + 3) if r[1] == "acme"]:
        assert time.time() < deadline, alloc_rows(m, 0)
        time.sleep(0.5)
    rows = alloc_rows(m, t0)

    def billed(t, secs, c, was, now):  # was vCPUs until second c, now after
        c = min(max(c, t), t + secs)
        return was * (c - t) + now * (t + secs - c)

    for t, tenant, secs, vcpu_s, mem_s, pcpu_s in rows:
        now = 32 if tenant == "acme" else 0
        ends = sorted((billed(t, secs, lo, 16, now), billed(t, secs, hi - 1, 16, now)))
        assert ends[0] <= vcpu_s <= ends[1], (t, tenant, rows)
        assert mem_s == (1 << 20) * (secs if tenant == "acme" else vcpu_s // 16), rows
    # Bravo's rows reach its deletion, with none after.
    assert max(t + secs for t, tenant, secs, *_ in rows if tenant == "bravo") >= lo, rows
    assert not [r for r in rows if r[1] == "bravo" and r[0] >= hi], rows


def test_allocation_mode_bills_what_is_allocated(cleanup, tmp_path):
    """In allocation mode a tenant pays for its quotas' vCPUs and memory and its
    partitions' physical CPUs, desktops or not; in reservation mode for its desktops."""
    m = start(cleanup, tmp_path)
    rates = {"mode": "allocation", "currency": "EUR", "vcpu_hour": 0.1, "gib_hour": 0.01,
             "pcpu_hour": 1.0, "models": [{"model": "std", "vcpu_hour": 5, "gib_hour": 5}]}
    assert m.ok("PUT", "rates", rates)["mode"] == "allocation"
    assert m.call("PUT", "rates", dict(rates, mode="both"))[0] == 400
    p0 = m.ok("GET", "rates/history")[-1]["from"]
    d1 = m.desktop("d1", ACME)  # acme: a desktop, so a partition on h1; bravo: none
    created = m.ok("GET", f"desktops/{d1['id']}", token=ACME)["created"]
    [part] = m.ok("GET", "hosts/h1")["partitions"]
    pcpus = cpus_of(part["cpus"])
    assert part["tenant"] == "acme" and pcpus == 2, part  # one core of two threads
    deadline = time.time() + 20
    while True:
        rows = [r for r in alloc_rows(m, created + 1)]
        if len({r[0] for r in rows if r[1] == "acme"}) >= 3:
            break
        assert time.time() < deadline, rows
        time.sleep(0.2)
    m.stop()
    m.start()
    rows = alloc_rows(m, p0)
    # Each interval's allocation, exact: the quota (16 vCPUs, 1 TiB) and, once placed,
    # acme's partition times the interval's seconds; bravo has no partition.
    for t, tenant, secs, vcpu_s, mem_s, pcpu_s in rows:
        assert secs > 0 and vcpu_s == 16 * secs and mem_s == (1 << 20) * secs, rows
        if tenant == "bravo" or t + secs < created:  # its partition is a second early at most
            assert pcpu_s == 0, rows
        elif t >= created:
            assert pcpu_s == pcpus * secs, rows
        else:  # the interval it was placed in: from the placement on (a second early at most)
            part = t + secs - created
            assert pcpus * part <= pcpu_s <= pcpus * (part + 1), rows
    # The same intervals as the desktops' rows.
    desk = {r["t"]: r["secs"] for r in raw_rows(m, created) if r["desktop"] == "d1"}
    for t, tenant, secs, *_ in rows:
        if tenant == "acme" and t in desk and t >= created:
            assert desk[t] == secs, (t, desk, rows)
    end = rows[-1][0] + 1
    # The same rows served (kind=allocation: per tenant, as kind=network), and tessctl's table.
    got = m.ok("GET", f"usage/history?kind=allocation&step=raw&from={p0}&to={end}")
    assert got["kind"] == "allocation", got
    assert sorted((r["t"], r["tenant"], r["secs"], r["vcpu_s"], r["mem_mib_s"], r["pcpu_s"])
                  for r in got["rows"]) == sorted(rows), (got, rows)
    mine = m.ok("GET", f"usage/history?kind=allocation&step=raw&from={p0}&to={end}",
                token=BRAVO)["rows"]
    assert mine and {r["tenant"] for r in mine} == {"bravo"}, mine
    assert m.call("GET", "usage/history?kind=allocation&tenant=bravo", token=ACME)[0] == 404
    status, e = m.call("GET", "usage/history?kind=allocation&tenant=acme&desktop=d1")
    assert status == 400 and e["error"]["path"] == "desktop", e
    r = ctl(m, "usage", "history", "--kind", "allocation", "--tenant", "acme", "--step", "raw",
            "--from", str(p0), "--to", str(end))
    assert r.returncode == 0 and "PCPU-H" in r.stdout, r
    lines = [line.split() for line in r.stdout.splitlines()[1:]]
    assert len(lines) == len([x for x in rows if x[1] == "acme"]), r.stdout
    # (1-second intervals here: hours round to 0.000, the 16 vCPUs' hours do not.)
    assert all(x[2] == "acme" and len(x) == 7 and float(x[4]) > 0 for x in lines), r.stdout
    want = {}
    for t, tenant, secs, vcpu_s, mem_s, pcpu_s in rows:
        want[tenant] = want.get(tenant, 0) + vcpu_s / 3600 * 0.1 + \
            mem_s / (1024 * 3600) * 0.01 + pcpu_s / 3600 * 1.0
    cb = m.ok("GET", f"chargeback?from={p0}&to={end}")
    assert cb["mode"] == "allocation", cb
    got = {t["tenant"]: t for t in cb["tenants"]}
    assert set(got) == {"acme", "bravo"}, cb
    # bravo: no desktop, billed its allocation; acme: its desktop shown, at no cost.
    assert got["bravo"]["desktops"] == [] and abs(got["bravo"]["cost"] - want["bravo"]) <= 1e-6
    a = got["bravo"]["allocation"]
    assert abs(a["vcpu_hours"] * 3600 - sum(r[3] for r in rows if r[1] == "bravo")) < 1e-6
    assert a["pcpu_hours"] == 0 and a["cost"] == got["bravo"]["cost"], a
    assert [d["cost"] for d in got["acme"]["desktops"]] == [0.0], got["acme"]
    assert got["acme"]["desktops"][0]["vcpu_hours"] > 0
    assert abs(got["acme"]["cost"] - want["acme"]) <= 1e-6, (got["acme"], want)
    assert got["acme"]["allocation"]["pcpu_hours"] > 0
    assert abs(cb["total"] - want["acme"] - want["bravo"]) <= 2e-6
    # tessctl's table: the allocation a row of its own.
    r = ctl(m, "chargeback", "--from", str(p0), "--to", str(end))
    row = [line.split() for line in r.stdout.splitlines() if "(allocation)" in line]
    assert [x[0] for x in row] == ["acme", "bravo"] and "allocation mode" in r.stdout, r.stdout
    assert row[1][7] == "0.000" and float(row[1][8]) == got["bravo"]["cost"], row
    # A tenant admin: its own allocation only.
    mine = m.ok("GET", f"chargeback?from={p0}&to={end}", token=BRAVO)
    assert [t["tenant"] for t in mine["tenants"]] == ["bravo"], mine
    # CSV: the allocation is a line of its tenant's with no desktop.
    lines = get_csv(m, f"chargeback?from={p0}&to={end}&format=csv")
    bravo = [line for line in lines if line.startswith("bravo,")]
    assert len(bravo) == 1 and bravo[0].startswith("bravo,,,"), lines
    assert bravo[0].split(",")[11] == "0.000000", bravo

    # Reservation mode from now on: bravo is no longer billed, acme's desktop is.
    time.sleep(1.1)
    m.ok("PUT", "rates", dict(rates, mode="reservation"))
    p1 = m.ok("GET", "rates/history")[-1]["from"]
    deadline = time.time() + 20
    while not [r for r in alloc_rows(m, p1) if r[1] == "bravo"]:
        assert time.time() < deadline
        time.sleep(0.2)
    time.sleep(1.5)
    cb = m.ok("GET", f"chargeback?from={p1}&to={int(time.time()) + 60}")
    assert cb["mode"] == "reservation", cb
    assert [t["tenant"] for t in cb["tenants"]] == ["acme"], cb
    [t] = cb["tenants"]
    assert "allocation" not in t and t["cost"] > 0 and t["desktops"][0]["cost"] == t["cost"], t
    # Both periods at once: mixed.
    assert m.ok("GET", f"chargeback?from={p0}&to={int(time.time()) + 60}")["mode"] == "mixed"


def test_allocation_rows_are_downsampled(cleanup, tmp_path):
    """Tenants' allocation rows go into hours and days, and out, as the desktops' rows."""
    m = start(cleanup, tmp_path)
    deadline = time.time() + 20
    while not alloc_rows(m, 0):
        assert time.time() < deadline
        time.sleep(0.2)
    m.stop()
    now = int(time.time())
    old_hour = (now - 8 * DAY) // HOUR * HOUR    # raw past raw_days (7)
    old_day = (now - 100 * DAY) // DAY * DAY      # hourly past hourly_days (90)
    gone_day = (now - 2000 * DAY) // DAY * DAY    # daily past daily_days (1825)
    db = sqlite3.connect(m.config["store"])
    tid, = db.execute("SELECT tenant_id FROM usage_tenants WHERE tenant = 'acme'").fetchone()
    db.executemany("INSERT INTO usage_alloc VALUES (?, ?, ?, ?, ?, ?, ?)",
                   [(0, old_hour + i * 300, tid, 300, 300 * 16, 300 * 1024, 300 * 2)
                    for i in range(12)] +
                   [(1, old_day + i * HOUR, tid, HOUR, HOUR * 16, HOUR, 0) for i in range(24)] +
                   [(2, gone_day, tid, DAY, DAY, DAY, DAY)])
    db.commit()
    db.close()
    m.start()
    got = m.wait_compacted("usage_alloc", "t, secs, vcpu_s, mem_mib_s, pcpu_s", now - 2 * DAY)
    assert got[1] == [(old_hour, HOUR, HOUR * 16, HOUR * 1024, HOUR * 2)], got
    assert got[2] == [(old_day, DAY, DAY * 16, DAY, 0)], got


def test_rates_put_before_the_open_period_is_refused(cleanup, tmp_path):
    """A PUT while the clock is before the open period's start (one PUT while it was
    in the future) is a 409 naming that start: neither replaced nor moved."""
    m = start(cleanup, tmp_path)
    a = {"currency": "EUR", "vcpu_hour": 0.5, "gib_hour": 0.25, "gb_in": 0.0, "gb_out": 0.0,
         "models": [], "mode": "reservation", "pcpu_hour": 0.0}
    m.ok("PUT", "rates", a)
    m.stop()
    future = int(time.time()) + 365 * DAY
    db = sqlite3.connect(m.config["store"])
    db.execute("UPDATE rate_periods SET start_t = ?", (future,))
    db.commit()
    db.close()
    m.start()
    status, e = m.call("PUT", "rates", dict(a, vcpu_hour=2.0))
    assert status == 409 and str(future) in e["error"]["message"], (status, e)
    assert m.ok("GET", "rates") == a
    assert m.ok("GET", "rates/history") == [{"from": future, "to": None, "rates": a}]


def month_ago(cleanup, tmp_path, **prices):
    """A tessmgrd with desktop d1 of acme and rates of these prices in force since the
    epoch, stopped: (m, d1, acme's id, the start of a day a month ago, the store open)."""
    m = start(cleanup, tmp_path)
    d1 = m.desktop("d1", ACME)
    acme_id = wait_sampled(m, d1["id"])
    m.ok("PUT", "rates", dict({"currency": "EUR", "vcpu_hour": 0.0, "gib_hour": 0.0,
                               "gb_in": 0.0, "gb_out": 0.0, "models": [],
                               "mode": "reservation", "pcpu_hour": 0.0}, **prices))
    w0 = (int(time.time()) - 30 * DAY) // DAY * DAY
    m.stop()
    db = sqlite3.connect(m.config["store"])
    db.execute("DELETE FROM rate_periods WHERE end_t IS NOT NULL")
    db.execute("UPDATE rate_periods SET start_t = 0")
    return m, d1, acme_id, w0, db


def test_tenant_with_a_nameless_desktop_is_billed_once(cleanup, tmp_path):
    """A tenant with a desktop whose names are missing (no usage_desktops row) and a named
    one is one tenant in the answer: its network is billed once, not once per name."""
    m, d1, acme_id, w0, db = month_ago(cleanup, tmp_path, vcpu_hour=1.0, gb_in=2.0)
    ghost = 999999  # a desktop of acme's whose names are gone
    db.executemany(USAGE_ROW,
                   [(1, w0, tid, did, HOUR, HOUR, 0, 0, 0)
                    for tid, did in ((acme_id, d1["id"]), (acme_id, ghost),
                                     (acme_id + 100, ghost + 1))])  # and another tenant's
    db.execute("INSERT INTO usage_net VALUES (1, ?, ?, ?, 0)", (w0, acme_id, 10**9))
    # Its name as the usage passes keep it not written yet (as when none ran before the
    # stop): the CSV's network line is under the name the answer has.
    db.execute("DELETE FROM usage_tenants WHERE tenant_id = ?", (acme_id,))
    db.commit()
    db.close()
    m.start()
    cb = m.ok("GET", f"chargeback?from={w0}&to={w0 + DAY}")
    [t, other] = cb["tenants"]
    assert t["tenant"] == "acme" and t["network_cost"] == 2.0, cb
    assert sorted(d["desktop"] for d in t["desktops"]) == ["d1", f"desktop {ghost}"], cb
    assert t["cost"] == 4.0 and other["cost"] == 1.0 and cb["total"] == 5.0, cb
    csv = get_csv(m, f"chargeback?from={w0}&to={w0 + DAY}&format=csv")
    assert len(csv) == 5 and all(line.startswith("acme,") for line in csv[1:4]), csv


def test_chargeback_reads_one_snapshot(cleanup, tmp_path):
    """A PUT and usage passes landing while a chargeback reads (the point
    chargeback.after_rates paused 2 s after the periods are read) change nothing
    of its answer: every row it sums is priced at a period it read."""
    m = Mgr(cleanup, tmp_path, {"usage": {"sample_sec": 1}})
    m.env = {"TESS_FAULT": "chargeback.after_rates:pause"}
    m.start()
    m.site_h1("acme", "bravo")
    a = {"currency": "EUR", "vcpu_hour": 1.0, "gib_hour": 0.0, "gb_in": 0.0, "gb_out": 0.0,
         "models": [], "mode": "reservation", "pcpu_hour": 0.0}
    m.ok("PUT", "rates", a)
    pa = m.ok("GET", "rates/history")[-1]["from"]
    m.desktop("d1", ACME)
    wait_rows_after(m, pa)
    time.sleep(1.1)
    got = {}
    q = f"chargeback?from={pa}&to={int(time.time()) + HOUR}"
    th = threading.Thread(target=lambda: got.update(r=m.call("GET", q)))
    th.start()
    time.sleep(0.3)  # inside the pause: periods read, usage not yet
    m.ok("PUT", "rates", dict(a, vcpu_hour=1000.0))
    pb = m.ok("GET", "rates/history")[-1]["from"]
    wait_rows_after(m, pb, n=1)
    th.join(30)
    status, cb = got["r"]
    assert status == 200, cb
    [t] = cb["tenants"]
    [d] = t["desktops"]
    # Every row summed is of period a (the snapshot), at its price.
    assert d["vcpu_hours"] > 0 and abs(d["cost"] - d["vcpu_hours"] * 1.0) <= 1e-6, cb


def test_chargeback_amount_too_large(cleanup, tmp_path):
    """Prices up to 1e9 an hour over a large usage: a 400 naming the amount too large,
    never an overflowed (undefined) micro-unit count."""
    m, d1, acme_id, w0, db = month_ago(cleanup, tmp_path, vcpu_hour=1e9, gib_hour=1e9,
                                       gb_in=1e9)
    db.execute(USAGE_ROW, (1, w0, acme_id, d1["id"], HOUR, 10**15, 0, 0, 0))
    db.execute(USAGE_ROW, (1, w0 + DAY, acme_id, d1["id"], HOUR, HOUR, 0, 0, 0))
    db.commit()
    db.close()
    m.start()
    status, e = m.call("GET", f"chargeback?from={w0}&to={w0 + DAY}")
    assert status == 400 and "too large" in e["error"]["message"], (status, e)
    # Within the bound: answered (a vCPU-hour at 1e9).
    status, cb = m.call("GET", f"chargeback?from={w0 + DAY}&to={w0 + 2 * DAY}")
    assert status == 200 and cb["total"] == 1e9, cb
