# SPDX-License-Identifier: BSD-3-Clause
"""Network bytes per tenant in the usage history and chargeback (issue 16), from a real PE
tessd's counters: tessmgrd onboards two tenants on a PE tessd (test_onboard's topology), a
desktop of acme's on the host tessd pings its enterprise across the trunk, and each usage pass
reads the PE's stats.tenants. A burst of N frames of known size shows in acme's rows as
exactly those bytes each way and in none of bravo's; chargeback prices them per GB; a PE tessd
that stops is counted as unanswered, and once restarted bills its new counters, never a
negative or whole-counter delta; a restarted tessmgrd bills nothing again."""
import json
import os
import subprocess
import time
import urllib.request

import pytest

import tess
from mgr import ACME, PROVIDER, Mgr
from test_onboard import DESK_GW, ENT_IP, Topo, network, pe_state, tenant

HOUR = 3600
PAYLOAD = 958  # an echo of 1000 bytes on the wire: 14 Ethernet + 20 IP + 8 ICMP + 958


@pytest.fixture
def topo(cleanup, tmp_path):
    return Topo(cleanup, tmp_path)


@pytest.fixture
def m(cleanup, tmp_path, topo):
    m = Mgr(cleanup, tmp_path, config={"libvirt": {"health_sec": 1},
                                       "usage": {"sample_sec": 1}}).start()
    m.site()
    m.ok("POST", "routers", {"name": "pe1", "site": "paris", "tessd": topo.pe.socket,
                             "trunk_ports": ["trunk"], "internet_vrf": "internet"})
    m.test_host("h1", tessd=topo.host.socket, vhost_dir=m.vhost_dir())
    m.ok("POST", "tenants", tenant("acme", network()))
    m.ok("POST", "tenants", tenant("bravo", network(port="ent_bravo")))
    return m


def desktop(topo):
    """acme's desktop: a tap port in its group on the host tessd, 192.168.50.100."""
    ifc = f"nu{tess.uid()}"[:15]
    topo.host.ctl("call", "port.add", json.dumps({
        "name": "desk_acme", "devargs": f"net_tap9,iface={ifc}", "mode": "access",
        "group": "acme-net"}))
    return tess.peer(topo.cleanup, ifc, "192.168.50.100/24", gw=DESK_GW,
                     src=topo.host_ns, mac="02:00:00:00:d0:10")


def net_rows(m, token=PROVIDER, **q):
    q.setdefault("from", 0)
    q.setdefault("to", int(time.time()) + HOUR)
    query = "&".join(f"{k}={v}" for k, v in q.items())
    return m.ok("GET", "usage/history?kind=network&step=raw&" + query, token=token)["rows"]


def sums(m, name):
    rows = [r for r in net_rows(m) if r["tenant"] == name]
    return sum(r["bytes_in"] for r in rows), sum(r["bytes_out"] for r in rows)


def settled(m, name, passes=3):
    """acme's sums once they stopped moving for a few passes (a pass every second)."""
    last, same = None, 0
    deadline = time.time() + 30
    while same < passes:
        assert time.time() < deadline, last
        time.sleep(1.1)
        now = sums(m, name)
        same = same + 1 if now == last else 0
        last = now
    return last


def group_bytes(topo):
    """The PE's own counters of acme's group: (tx, rx), what the history takes as in, out."""
    g = topo.pe.ctl("stats", "--tenants")["tenants"]["acme"]["groups"]["acme-net"]
    return g["tx_bytes"], g["rx_bytes"]


def burst(ns, n):
    """n echoes of 1000 bytes to the enterprise: how many came back (each one's request and
    reply crossed the PE; one lost on a busy machine crossed it one way or not at all)."""
    sent, got = ns.ping(ENT_IP, count=n, interval=0.02, extra=("-s", str(PAYLOAD)))
    assert sent == n and got > 0, (sent, got)
    return got


def stats(m):
    return m.ok("GET", "stats")["usage"]


def test_a_burst_is_billed_to_its_tenant_through_a_pe_restart(topo, m):
    # The rates first: they are in force from their PUT on (rate history).
    rates = {"currency": "EUR", "vcpu_hour": 0.0, "gib_hour": 0.0, "gb_in": 1000.0,
             "gb_out": 3000.0, "models": [], "mode": "reservation", "pcpu_hour": 0.0}
    assert m.ok("PUT", "rates", rates) == rates
    ns = desktop(topo)
    # ARP both ways and the first passes' baselines, before the measure.
    burst(ns, 2)
    before = settled(m, "acme")
    g0 = group_bytes(topo)
    n = 50
    got = burst(ns, n)
    after = settled(m, "acme")
    g1 = group_bytes(topo)
    # Exactly what the PE's group counted meanwhile: each echo request acme's out, each reply
    # its in, 1000 bytes each, and the odd ARP or the PE's own frame (< 1000 bytes here).
    billed = (after[0] - before[0], after[1] - before[1])
    assert billed == (g1[0] - g0[0], g1[1] - g0[1]), (before, after, g0, g1)
    assert all(got * 1000 <= b < n * 1000 + 1000 for b in billed), (billed, got)
    assert sums(m, "bravo") == (0, 0)
    # A tenant admin sees its own tenant's rows only; desktop is refused with kind=network.
    assert {r["tenant"] for r in net_rows(m, token=ACME)} == {"acme"}
    status, e = m.call("GET", "usage/history?kind=network&tenant=acme&desktop=x")
    assert status == 400 and e["error"]["path"] == "desktop", e
    status, e = m.call("GET", "usage/history?kind=nets")
    assert status == 400 and e["error"]["path"] == "kind", e
    # tessctl's table of them: acme's bytes per day, summing to the rows' (a pass may add).
    r = subprocess.run([tess.TESSCTL, "-T", PROVIDER, "usage", "history", "--kind", "network",
                        "--tenant", "acme", "--step", "day", "--from", "0", "--to",
                        str(int(time.time()) + HOUR)], capture_output=True, text=True,
                       env=dict(os.environ, TESSMGR_URL=m.url), timeout=60)
    assert r.returncode == 0 and "BYTES-IN" in r.stdout, r
    days = [line.split() for line in r.stdout.splitlines()[1:]]
    assert all(d[2] == "acme" for d in days), r.stdout
    shown, now = (sum(int(d[3]) for d in days), sum(int(d[4]) for d in days)), sums(m, "acme")
    assert all(after[k] <= shown[k] <= now[k] for k in (0, 1)), (r.stdout, after, now)

    # Chargeback: bytes / 1e9 x the rate, in the tenant's cost and the total.
    q = f"chargeback?from=0&to={int(time.time()) + HOUR}"
    r = m.ok("GET", q)
    acme = {t["tenant"]: t for t in r["tenants"]}["acme"]
    gb_in, gb_out = after[0] / 1e9, after[1] / 1e9
    assert acme["gb_in"] == pytest.approx(gb_in) and acme["gb_out"] == pytest.approx(gb_out)
    cost = round(gb_in * 1000 + gb_out * 3000, 6)
    assert acme["network_cost"] == pytest.approx(cost, abs=1e-9), acme
    assert acme["cost"] == pytest.approx(cost, abs=1e-9) and acme["desktops"] == []
    assert r["total"] == pytest.approx(cost, abs=1e-9), r
    req = urllib.request.Request(m.url + "/v1/" + q + "&format=csv")
    req.add_header("Authorization", f"Bearer {PROVIDER}")
    with urllib.request.urlopen(req, timeout=30) as resp:
        lines = resp.read().decode().splitlines()
    assert lines[0].endswith(",cost,currency,gb_in,gb_out,pcpu_hours"), lines
    assert f"acme,,,,,,,{cost:.6f},EUR,{gb_in:.9f},{gb_out:.9f}," in lines, lines

    # The PE tessd stops: its passes are counted unanswered, nothing is billed meanwhile.
    missed = stats(m)["router_unanswered"]
    topo.pe.stop()
    tess.wait_for(lambda: stats(m)["router_unanswered"] >= missed + 2, 20, "passes unanswered")
    assert sums(m, "acme") == after
    # Restarted with fresh counters, its tenants given back by tessmgrd: only what it counted
    # since is billed (a restart, not a lower counter taken as a huge or negative delta).
    resets = stats(m)["counter_resets"]
    topo.pe.start()
    tess.wait_for(lambda: "acme" in pe_state(topo.pe)["vrfs"], 30, "acme's VRF back on the PE")
    topo.attach_enterprises()
    k = 20
    got = burst(ns, k)
    again = settled(m, "acme")
    g2 = group_bytes(topo)
    assert stats(m)["counter_resets"] > resets
    # All the restarted PE counted of acme's group (its ARP again and the burst).
    assert (again[0] - after[0], again[1] - after[1]) == g2, (after, again, g2)
    assert all(got * 1000 <= b < k * 1000 + 1000 for b in g2), (g2, got)

    # tessmgrd restarted: the counters last seen come from the store, so what it bills is
    # what the PE counted since (nothing, or an ARP refresh), not the whole counters again.
    m.stop()
    m.start()
    time.sleep(3)
    last = settled(m, "acme")
    g3 = group_bytes(topo)
    assert (last[0] - again[0], last[1] - again[1]) == (g3[0] - g2[0], g3[1] - g2[1]), \
        (again, last, g2, g3)
