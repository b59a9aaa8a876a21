# SPDX-License-Identifier: BSD-3-Clause
"""Policers and tenant metering with real traffic: a desktop's access port policed in each
direction, measured with iperf3 (TCP and UDP); a runtime rate change; colour counters; exact
per-port, per-group, per-VRF and per-tenant counters for a known scapy burst; bad policers.

    n1 (10.88.1.1) --d1--+ group g1 (VLAN 100) + d2-- n2 (10.88.1.2)
                          router interface i1 10.88.1.254, VRF acme
    n3 (no address) --d3-- group g2 (VLAN 200), router interface i2 10.88.2.254
"""
import json
import time

import pytest
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether
from scapy.packet import Raw

import tess

MAC = {1: "02:00:00:00:88:01", 2: "02:00:00:00:88:02", 3: "02:00:00:00:88:03"}
RMAC1 = "02:00:00:00:88:fe"
TENANT = "Acme Corp"
RATE_KBPS = 20000
# Policers meter Ethernet frames (no FCS); iperf3 reports payload: its share of a frame.
TCP_SHARE = 1448 / 1514  # MSS 1448 with timestamps: +32 TCP, +20 IP, +14 Ethernet
UDP_LEN = 1400
UDP_SHARE = UDP_LEN / (UDP_LEN + 8 + 20 + 14)


class PolTopo:
    def __init__(self, cleanup, tmp_path, policers=()):
        u = tess.uid()
        self.ifs = {n: f"pl{n}{u}"[:15] for n in ("d1", "d2", "d3")}
        ports = [tess.tap_port("d1", self.ifs["d1"], 0, mode="access", group="g1",
                               tenant=TENANT),
                 tess.tap_port("d2", self.ifs["d2"], 1, mode="access", group="g1"),
                 tess.tap_port("d3", self.ifs["d3"], 2, mode="access", group="g2",
                               tenant=TENANT)]
        self.tessd = tess.Tessd(cleanup, tmp_path, ports=ports)
        c = self.tessd.config
        c["switch"] = {"groups": [{"name": "g1", "vlan": 100, "tenant": TENANT},
                                  {"name": "g2", "vlan": 200, "tenant": TENANT}]}
        c["router"] = {
            "vrfs": [{"name": "acme", "id": 10, "tenant": TENANT}],
            "interfaces": [
                {"name": "i1", "vrf": "acme", "group": "g1", "mac": RMAC1,
                 "addresses": ["10.88.1.254/24"]},
                {"name": "i2", "vrf": "acme", "group": "g2", "addresses": ["10.88.2.254/24"]}],
            "neighbours": [{"vrf": "acme", "ip": "10.88.2.3", "mac": MAC[3]}],
        }
        c["policers"] = list(policers)
        self.tessd.start()
        self.ns = {}
        for k, addr in ((1, "10.88.1.1/24"), (2, "10.88.1.2/24"), (3, None)):
            ns = tess.Netns(cleanup)
            ns.attach(self.ifs[f"d{k}"], addr, mac=MAC[k])
            self.ns[k] = ns
        self.cleanup = cleanup

    def ctl(self, *args):
        return self.tessd.ctl(*args)

    def policers(self):
        return {p["name"]: p for p in self.ctl("policer", "list")}

    def attachment(self, name, kind, obj, direction):
        for a in self.policers()[name]["attachments"]:
            if (a["kind"], a["object"], a["direction"]) == (kind, obj, direction):
                return a
        raise AssertionError(f"no attachment {kind} {obj} {direction} of {name}")

    def iperf(self, udp=False, reverse=False, secs=4):
        """Mbit/s of payload received, from iperf3's receiver, n1 client, n2 server."""
        srv = self.ns[2].name
        p = tess.subprocess.Popen(["ip", "netns", "exec", srv, "iperf3", "-s", "-1",
                                   "-B", "10.88.1.2"], stdout=tess.subprocess.DEVNULL,
                                  stderr=tess.subprocess.DEVNULL)
        self.cleanup.add(p.kill)
        time.sleep(0.5)
        args = ["iperf3", "-c", "10.88.1.2", "-J", "-t", str(secs), "-O", "1"]
        if udp:
            args += ["-u", "-b", f"{2 * RATE_KBPS}K", "-l", str(UDP_LEN)]
        if reverse:
            args += ["-R"]
        r = self.ns[1].run(*args, timeout=secs + 30)
        p.wait(10)
        end = json.loads(r.stdout)["end"]
        if udp:
            s = end["sum_received"] if "sum_received" in end else end["sum"]
        else:
            s = end["sum_received"]
        return s["bits_per_second"] / 1e6


def policer(name, kbps=RATE_KBPS, **kw):
    p = {"name": name, "cir_kbps": kbps}
    p.update(kw)
    return p


def near(got, want, tol=0.05):
    return abs(got - want) <= tol * want


@pytest.mark.parametrize("direction", ["in", "out"])
def test_desktop_port_limited_to_its_rate(cleanup, tmp_path, direction):
    t = PolTopo(cleanup, tmp_path, [policer("desk", ports=["d1"], direction=direction)])
    rate = RATE_KBPS / 1000
    # "in": what the desktop sends (n1 -> n2); "out": what it receives (-R: n2 -> n1).
    rev = direction == "out"
    udp = t.iperf(udp=True, reverse=rev)
    assert near(udp, rate * UDP_SHARE), (udp, rate * UDP_SHARE)
    # TCP halves its window at each loss: a burst of two seconds' worth absorbs the sawtooth
    # (100 ms, the default, holds it near 55% of the rate here).
    cbs = RATE_KBPS * 250
    t.tessd.tessctl("policer", "set", "desk", "--cir-kbps", str(RATE_KBPS), "--cbs", str(cbs),
                    "--ports", "d1", "--direction", direction)
    secs = 6
    tcp = t.iperf(reverse=rev, secs=secs)
    # The policer's promise is the token bucket's: over any window of T seconds no more than
    # CIR * T + CBS passes. TCP backs off at each loss and the bucket refills meanwhile, so
    # over iperf's window it may get up to CBS / T above the rate (CI saw 1.05x), never more.
    # What TCP makes of the rate depends on its congestion control and on the machine's load
    # (CI saw 89% on a busy 2-core VM), so its floor only shows the burst lets it use most.
    ceiling = (rate + cbs * 8 / 1e6 / secs) * TCP_SHARE
    assert 0.75 * rate * TCP_SHARE <= tcp <= ceiling, (tcp, rate * TCP_SHARE, ceiling)
    # The two counters are read one after the other: a frame policed in between (TCP's last
    # retransmits may follow iperf3's return, late on a loaded CI) parts them for a while.
    def port_agrees():
        a = t.attachment("desk", "port", "d1", direction)
        port = t.tessd.port_stats()["d1"]
        return port["drops"]["policed"] == a["dropped"] and a

    a = tess.wait_for(port_agrees, 10, lambda: (
        f"d1's policed drops ({t.tessd.port_stats()['d1']['drops']['policed']}) to match the "
        f"attachment's ({t.attachment('desk', 'port', 'd1', direction)['dropped']})"))
    assert a["red_packets"] > 0 and a["dropped"] == a["red_packets"]
    # The other direction is not policed: a UDP flood that way is not held to the rate.
    other = t.iperf(udp=True, reverse=not rev, secs=3)
    assert other > rate * 1.5, other


def test_rate_change_at_runtime(cleanup, tmp_path):
    t = PolTopo(cleanup, tmp_path, [policer("desk", ports=["d1"])])
    assert near(t.iperf(udp=True, secs=3), RATE_KBPS / 1000 * UDP_SHARE)
    t.tessd.tessctl("policer", "set", "desk", "--cir-kbps", str(RATE_KBPS // 2), "--ports",
                    "d1")
    got = t.iperf(udp=True, secs=3)
    assert near(got, RATE_KBPS / 2000 * UDP_SHARE), got
    t.tessd.tessctl("policer", "del", "desk")
    assert t.policers() == {}
    assert t.iperf(udp=True, secs=3) > RATE_KBPS / 1000 * 1.5


def burst(t, n, size, **ip_kw):
    """n frames of size bytes from n1 to the router (routed to 10.88.2.3 behind d3)."""
    sock = t.ns[1].raw_socket(t.ifs["d1"])
    hdr = Ether(src=MAC[1], dst=RMAC1) / IP(src="10.88.1.1", dst="10.88.2.3", **ip_kw) / \
        UDP(sport=4000, dport=4001)
    frame = bytes(hdr / Raw(b"\x00" * (size - len(hdr))))
    assert len(frame) == size
    for _ in range(n):
        sock.send(frame)
    sock.close()


def counters(o):
    if "forwarded" in o:  # a VRF's stats: it sends what it forwards
        return (o["rx_packets"], o["rx_bytes"], o["forwarded"], o["forwarded_bytes"])
    return (o["rx_packets"], o["rx_bytes"], o["tx_packets"], o["tx_bytes"])


def test_counters_exact_for_a_burst(cleanup, tmp_path):
    t = PolTopo(cleanup, tmp_path, [policer("wide", kbps=1000000, ports=["d1"],
                                            groups=["g1"], vrfs=["acme"], direction="both")])
    n, size = 200, 600
    time.sleep(0.3)
    t.ctl("stats", "--reset")
    burst(t, n, size)

    def settled():
        return t.tessd.port_stats()["d3"]["tx_packets"] >= n
    tess.wait_for(settled, 5, "the burst through the router")
    time.sleep(0.2)
    st = t.ctl("stats")
    ports = {p["name"]: p for p in st["ports"]}
    groups = {g["name"]: g for g in st["groups"]}
    vrfs = {v["name"]: v for v in st["vrfs"]}
    nb = n * size
    assert counters(ports["d1"]) == (n, nb, 0, 0)
    assert counters(ports["d3"]) == (0, 0, n, nb)
    assert counters(groups["g1"]) == (n, nb, 0, 0)
    assert counters(groups["g2"]) == (0, 0, n, nb)
    assert counters(vrfs["acme"]) == (n, nb, n, nb)
    ten = t.ctl("stats", "--tenants")["tenants"]
    assert list(ten) == [TENANT]
    a = ten[TENANT]
    assert set(a["ports"]) == {"d1", "d3"}  # d2 has no tenant label
    assert counters(a["ports"]["d1"]) == (n, nb, 0, 0)
    assert counters(a["ports"]["d3"]) == (0, 0, n, nb)
    assert counters(a["groups"]["g1"]) == (n, nb, 0, 0)
    assert counters(a["groups"]["g2"]) == (0, 0, n, nb)
    assert counters(a["vrfs"]["acme"]) == (n, nb, n, nb)
    # Every policed point saw the burst, all green: port and group in, VRF in and out.
    for kind, obj, d in (("port", "d1", "in"), ("group", "g1", "in"), ("vrf", "acme", "in"),
                         ("vrf", "acme", "out")):
        c = t.attachment("wide", kind, obj, d)
        assert (c["green_packets"], c["green_bytes"], c["yellow_packets"], c["red_packets"]) \
            == (n, nb, 0, 0), (kind, obj, d, c)
    # The group's "out" is what the switch forwards to its ports: none of these.
    assert t.attachment("wide", "group", "g1", "out")["green_packets"] == 0
    # A change of another object keeps them; stats.reset zeroes them.
    t.tessd.tessctl("policer", "set", "other", "--cir-kbps", "1000", "--ports", "d2")
    assert counters(t.ctl("stats", "--tenants")["tenants"][TENANT]["vrfs"]["acme"]) == \
        (n, nb, n, nb)
    assert t.attachment("wide", "port", "d1", "in")["green_packets"] == n
    t.ctl("stats", "--reset")
    assert counters(t.ctl("stats", "--tenants")["tenants"][TENANT]["vrfs"]["acme"]) == \
        (0, 0, 0, 0)
    assert t.attachment("wide", "port", "d1", "in")["green_packets"] == 0
    # One tenant asked for: only it.
    assert t.ctl("stats", "--tenants", "nobody")["tenants"] == {}


def test_counters_exact_when_policed_out(cleanup, tmp_path):
    """A group's "out" policer drops part of a routed burst: the VRF counts as forwarded,
    and the group and its port as sent, only what passed it (what stats.tenants bills)."""
    t = PolTopo(cleanup, tmp_path, [policer("narrow", kbps=1000, groups=["g2"],
                                            direction="out")])
    n, size = 200, 600
    time.sleep(0.3)
    t.ctl("stats", "--reset")
    burst(t, n, size)

    def settled():
        return t.tessd.port_stats()["d1"]["rx_packets"] >= n
    tess.wait_for(settled, 5, "the burst into the router")
    time.sleep(0.5)
    a = t.attachment("narrow", "group", "g2", "out")
    passed = a["green_packets"] + a["yellow_packets"]
    assert a["dropped"] > 0 and passed > 0 and passed + a["dropped"] == n, a
    ten = t.ctl("stats", "--tenants")["tenants"][TENANT]
    assert counters(ten["vrfs"]["acme"]) == (n, n * size, passed, passed * size)
    assert counters(ten["groups"]["g2"]) == (0, 0, passed, passed * size)
    assert counters(ten["ports"]["d3"]) == (0, 0, passed, passed * size)


def test_colours_blind_and_aware(cleanup, tmp_path):
    # 8 kbit/s: 1000 bytes a second, nothing refills within the burst's milliseconds.
    t = PolTopo(cleanup, tmp_path)
    n, size = 20, 1000
    t.tessd.tessctl("policer", "set", "tiny", "--cir-kbps", "8", "--cbs", "1518", "--ebs",
                    "1518", "--ports", "d1")
    burst(t, n, size)
    tess.wait_for(lambda: t.attachment("tiny", "port", "d1", "in")["red_packets"] >= n - 2, 5,
                  "the burst metered")
    a = t.attachment("tiny", "port", "d1", "in")
    # srTCM blind: C holds one frame (green), E one more (yellow), the rest is red, dropped.
    assert (a["green_packets"], a["yellow_packets"], a["red_packets"], a["dropped"]) == \
        (1, 1, n - 2, n - 2)
    assert a["green_bytes"] == size and a["yellow_bytes"] == size
    assert t.tessd.port_stats()["d3"]["tx_packets"] == 2
    # Colour-aware from DSCP: AF12 frames come in yellow and only E may pass them, re-marked.
    t.tessd.tessctl("policer", "set", "tiny", "--cir-kbps", "8", "--cbs", "1518", "--ebs",
                    "1518", "--color", "dscp", "--yellow-dscp", "0", "--ports", "d1")
    cap_before = t.tessd.port_stats()["d3"]["tx_packets"]
    burst(t, n, size, tos=12 << 2)
    tess.wait_for(lambda: t.attachment("tiny", "port", "d1", "in")["red_packets"] >= 2 * n - 3,
                  5, "the AF12 burst metered")
    a = t.attachment("tiny", "port", "d1", "in")
    assert (a["green_packets"], a["yellow_packets"], a["red_packets"]) == (1, 2, 2 * n - 3)
    assert a["remarked"] == 1
    assert t.tessd.port_stats()["d3"]["tx_packets"] == cap_before + 1


def test_bad_policers_refused_with_their_path(cleanup, tmp_path):
    t = PolTopo(cleanup, tmp_path, [policer("desk", ports=["d1"])])

    def refused(*args):
        r = t.tessd.tessctl("policer", "set", *args, check=False)
        assert r.returncode != 0
        return r.stderr

    assert "/params/pir_kbps" in refused("x", "--type", "trtcm", "--cir-kbps", "2000",
                                         "--pir-kbps", "1000")
    assert "/params/pir_kbps" in refused("x", "--cir-kbps", "2000", "--pir-kbps", "3000")
    assert "/params/cbs" in refused("x", "--cir-kbps", "2000", "--cbs", "100")
    assert "/params/ports/0" in refused("x", "--cir-kbps", "2000", "--ports", "nope")
    err = refused("x", "--cir-kbps", "2000", "--ports", "d1")
    assert "/params/ports/0" in err and "already has policer 'desk'" in err
    assert "/params/cir_kbps" in refused("x", "--cir-kbps", "0")
    assert "/params/color" in refused("x", "--cir-kbps", "100", "--color", "purple")
    r = t.tessd.tessctl("policer", "del", "nope", check=False)
    assert r.returncode != 0 and "/params/name" in r.stderr
    assert list(t.policers()) == ["desk"]
    # The startup file too: tessd refuses to start, naming the key.
    bad = tess.Tessd(cleanup, tmp_path)
    bad.config["policers"] = [policer("p", cbs=10)]
    bad.write_config()
    r = tess.subprocess.run([tess.TESSD, "-c", bad.config_path, "--check"],
                            capture_output=True, text=True, timeout=30)
    assert r.returncode != 0 and "/policers/0/cbs" in r.stdout + r.stderr
