# SPDX-License-Identifier: BSD-3-Clause
"""tessmgrd's chargeback through tessctl (issue 16 C): `tessctl usage history`, `tessctl
chargeback` (table, --json, --csv) and `tessctl rates get|set` against a tessmgrd on libvirt's
test driver, with usage rows of a known window written into the store."""
import json
import os
import sqlite3
import subprocess
import time

import tess
from mgr import ACME, PROVIDER, Mgr

DAY = 86400
HOUR = 3600


def ctl(m, *args, token=PROVIDER):
    return subprocess.run([tess.TESSCTL, "-m", m.url, "-T", token] + list(args),
                          capture_output=True, text=True, timeout=60)


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
    db.executemany("INSERT INTO usage VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
    assert out[2].split() == ["acme", "d1", "std", "10.000", "20.000", "40.000", "4.000",
                              "20.000000"], out
    assert out[-1] == "total 20.000000 EUR", out
    r = ctl(m, "--json", "chargeback", "--from", frm, "--to", to, "--tenant", "acme")
    assert json.loads(r.stdout)["total"] == 20.0, r
    r = ctl(m, "chargeback", "--from", frm, "--to", to, "--csv", token=ACME)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        "tenant,desktop,model,hours,vcpu_hours,gib_hours,run_hours,cost,currency,gb_in,gb_out",
        "acme,d1,std,10.000000,20.000000,40.000000,4.000000,20.000000,EUR,,"], r.stdout
    r = ctl(m, "chargeback", "--from", frm, "--to", to, "--tenant", "bravo", "--csv",
            token=ACME)
    assert r.returncode == 1 and "error 404" in r.stderr, r
    r = ctl(m, "chargeback", "--from", to, "--to", frm)
    assert r.returncode == 1 and "(at from)" in r.stderr, r
    assert ctl(m, "chargeback", "--from", frm).returncode == 2  # --to needed

    # Completion offers the new commands' words and options.
    r = subprocess.run([tess.TESSCTL, "__complete", "usage", ""], capture_output=True,
                       text=True, timeout=30)
    assert "history" in r.stdout.split(), r.stdout
    r = subprocess.run([tess.TESSCTL, "__complete", "rates", "set", "--"],
                       capture_output=True, text=True, timeout=30)
    assert "--vcpu-hour" in r.stdout.split() and "--model" in r.stdout.split(), r.stdout
