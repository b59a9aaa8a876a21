# SPDX-License-Identifier: BSD-3-Clause
"""tessctl metrics: tessd's stats.get in Prometheus' text exposition format 0.0.4 (read with
a strict parser), for node_exporter's textfile collector: per-port, per-worker, per-stage and
drop counters move with a ping through tessd, and --output replaces its file atomically."""
import os

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
    s, _ = parse(metrics(t))
    names = {k for k in s if k[0].startswith(("tessera_tessd_groups_", "tessera_tessd_vrfs_"))}
    assert ("tessera_tessd_groups_rx_packets_total",
            (("name", "g1"), ("tenant", "acme"))) in names, sorted(names)
    assert any(k[0].startswith("tessera_tessd_vrfs_") and ("name", "v1") in k[1]
               for k in names), sorted(names)


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
