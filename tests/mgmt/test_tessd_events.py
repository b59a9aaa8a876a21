# SPDX-License-Identifier: BSD-3-Clause
"""tessmgrd relays its tessds' events to the provider's GET /v1/events: a PE's and a host's
real tessd, each subscribed once (events.tessd_kinds); each event named by its router or host,
tessd.down and tessd.up as a tessd goes and comes back; tenants see none of them."""
import json
import os
import time

import tess
from fake_tessd import FakeTessd, read_line
from mgr import ACME, PROVIDER, Mgr


def stream(cleanup, m, token):
    return tess.Monitor(cleanup, ["--mgr"], env=dict(os.environ, TESSMGR_URL=m.url,
                                                       TESSMGR_TOKEN=token))


def has(kind, **fields):
    return lambda evs: any(e["event"] == kind and all(e.get(k) == v for k, v in fields.items())
                           for e in evs)


def relay_stats(m):
    return m.ok("GET", "stats")["events"]


def world(cleanup, tmp_path, kinds=None):
    """Router pe1 (its tessd a trunk on a veth) and host h1 (its tessd a tap port "c", whose
    link follows the tap's), tenant acme; tessmgrd with kinds as events.tessd_kinds."""
    trunk, _ = tess.veth(cleanup)
    pe = tess.Tessd(cleanup, tmp_path, ports=[
        tess.af_packet_port("trunk", 0, trunk, mode="trunk", all_groups=True)]).start()
    tap = f"te{tess.uid()}"
    host = tess.Tessd(cleanup, tmp_path, ports=[tess.tap_port("c", tap, 1)]).start()
    host.tap = tap
    config = {"libvirt": {"health_sec": 1}}
    if kinds is not None:
        config["events"] = {"tessd_kinds": kinds}
    m = Mgr(cleanup, tmp_path, config=config).start()
    m.site()
    m.ok("POST", "routers", {"name": "pe1", "site": "paris", "tessd": pe.socket,
                             "trunk_ports": ["trunk"]})
    m.test_host("h1", tessd=host.socket, vhost_dir=m.vhost_dir())
    m.tenant("acme", 100)
    return m, pe, host


def test_tessd_events_reach_the_provider_named_by_router_and_host(cleanup, tmp_path):
    m, pe, host = world(cleanup, tmp_path)
    prov, acme = stream(cleanup, m, PROVIDER), stream(cleanup, m, ACME)
    tess.wait_for(lambda: relay_stats(m)["streams"] == 2, 10, "two streams")
    tess.wait_for(lambda: relay_stats(m)["tessds_subscribed"] == 2, 10, "both subscribed")
    for t in (pe, host):
        assert t.ctl("status")["event_subscribers"] == 1
    # The tap's link down: the host's port.link, named by the host.
    tess.sh("ip", "link", "set", host.tap, "down")
    prov.read_until(has("tessd.port.link", host="h1", port="c", up=False), 15)
    # A change on the PE: its config.commit, named by the router.
    pe.tessctl("vrf", "add", "v1", "--id", "7")
    evs = prov.read_until(has("tessd.config.commit", router="pe1"), 15)
    assert all(isinstance(e["time"], float) for e in evs)
    assert not any("router" in e for e in evs if e["event"] == "tessd.port.link"), evs
    # The host's tessd stops: tessd.down with why; back: tessd.up, and events again.
    host.stop()
    prov.read_until(has("tessd.down", host="h1"), 15)
    down = [e for e in prov.events if e["event"] == "tessd.down"][-1]
    assert down["error"] and down["tessd"] == host.socket, down
    tess.wait_for(lambda: relay_stats(m)["tessds_subscribed"] == 1, 10, "one left")
    host.start()
    prov.read_until(lambda evs: has("tessd.up", host="h1")(evs[evs.index(down):]), 20)
    # (Its new tap starts up.)
    tess.sh("ip", "link", "set", host.tap, "down")
    prov.read_until(lambda evs: has("tessd.port.link", host="h1", port="c", up=False)(
        evs[evs.index(down):]), 15)
    assert relay_stats(m)["tessd_relayed"] >= 3
    # The tenant's stream: none of it.
    assert not any(e["event"].startswith("tessd.") for e in acme.events), acme.events
    # A host deleted: its subscription ends.
    m.ok("DELETE", "hosts/h1")
    tess.wait_for(lambda: host.ctl("status")["event_subscribers"] == 0, 10, "unsubscribed")
    assert pe.ctl("status")["event_subscribers"] == 1


def test_only_the_configured_kinds_are_relayed(cleanup, tmp_path):
    """events.tessd_kinds ["config"]: commits, not links; [] subscribes to nothing."""
    m, pe, host = world(cleanup, tmp_path, kinds=["config"])
    prov = stream(cleanup, m, PROVIDER)
    tess.wait_for(lambda: relay_stats(m)["tessds_subscribed"] == 2, 10, "both subscribed")
    tess.wait_for(lambda: relay_stats(m)["streams"] == 1, 10, "the stream")
    direct = tess.Monitor(cleanup, ["--tessd", host.socket])
    tess.wait_for(lambda: host.ctl("status")["event_subscribers"] == 2, 10, "direct too")
    tess.sh("ip", "link", "set", host.tap, "down")
    direct.read_until(has("port.link", port="c", up=False), 15)
    host.tessctl("vrf", "add", "v1", "--id", "7")
    evs = prov.read_until(has("tessd.config.commit", host="h1"), 15)
    assert not any(e["event"] == "tessd.port.link" for e in evs), evs


def test_no_kinds_no_subscription(cleanup, tmp_path):
    m, pe, host = world(cleanup, tmp_path, kinds=[])
    # The relay looks at the routers and hosts each second: give it three.
    tess.wait_for(lambda: m.ok("GET", "hosts")[0]["tessd_status"]["up"], 10, "host looked at")
    time.sleep(3)
    assert relay_stats(m)["tessds_subscribed"] == 0
    assert pe.ctl("status")["event_subscribers"] == 0
    assert host.ctl("status")["event_subscribers"] == 0


class FakeEvents(FakeTessd):
    """Each connection on its own thread: an events.subscribe is answered and followed by
    lines (never answered: hung), other requests get an error. Connections are held open
    until the test ends."""
    threaded = True

    def __init__(self, cleanup, path, lines=(), hung=False):
        self.lines, self.hung, self.conns = lines, hung, []
        super().__init__(cleanup, path)
        cleanup.add(self.close)

    def handle(self, c):
        self.conns.append(c)
        try:
            req = json.loads(read_line(c).split(b"\n")[0])
            if req["method"] != "events.subscribe":
                c.sendall(json.dumps({"id": req["id"], "error": {
                    "code": 95, "message": "not here"}}).encode() + b"\n")
            elif not self.hung:
                c.sendall(json.dumps({"id": req["id"], "result": {"subscribed": True}})
                          .encode() + b"\n" + b"".join(self.lines))
        except OSError:
            pass

    def close(self):
        for c in self.conns:
            c.close()


def test_a_hung_or_garbled_tessd_holds_up_no_other(cleanup, tmp_path):
    """Next to the real ones, a host whose tessd accepts and never answers the subscription,
    and one whose tessd sends a line that is not JSON between two events: the others are
    subscribed and relayed meanwhile; the garbled line is skipped and counted, the event
    after it relayed; the hung one is told down once the answer is 10 s late."""
    m, pe, host = world(cleanup, tmp_path)
    ev = json.dumps({"event": "port.link", "time": 1.0, "port": "x", "up": False}).encode()
    FakeEvents(cleanup, os.path.join(str(tmp_path), "hung.sock"), hung=True)
    FakeEvents(cleanup, os.path.join(str(tmp_path), "odd.sock"),
               lines=[ev + b"\n", b"{not json\n", ev.replace(b"false", b"true") + b"\n"])
    for name in ("hung", "odd"):
        m.test_host(f"h-{name}", tessd=os.path.join(str(tmp_path), f"{name}.sock"),
                    vhost_dir=m.vhost_dir())
    prov = stream(cleanup, m, PROVIDER)
    tess.wait_for(lambda: relay_stats(m)["tessds_subscribed"] == 3, 20, "three subscribed")
    prov.read_until(has("tessd.port.link", host="h-odd", port="x", up=True), 20)
    assert [e["up"] for e in prov.events if e.get("host") == "h-odd" and
            e["event"] == "tessd.port.link"] == [False, True], prov.events
    assert relay_stats(m)["tessd_unreadable"] == 1
    tess.sh("ip", "link", "set", host.tap, "down")
    prov.read_until(has("tessd.port.link", host="h1", port="c", up=False), 20)
    # All of it before the hung one's answer was given up on: it held nothing up.
    assert not has("tessd.down", host="h-hung")(prov.events)
    prov.read_until(has("tessd.down", host="h-hung"), 20)
    down = [e for e in prov.events if e["event"] == "tessd.down"][-1]
    assert "did not answer events.subscribe" in down["error"], down


FD_EATER = """
import os, resource, sys
resource.setrlimit(resource.RLIMIT_NOFILE, (1200, 4096))
fds = [os.open("/dev/null", os.O_RDONLY) for _ in range(1190)]
for fd in fds:
    os.set_inheritable(fd, True)
os.execv(sys.argv[1], sys.argv[1:])
"""


def test_descriptors_past_1024_are_served(cleanup, tmp_path):
    """A descriptor for each connection, host, tunnel and relayed tessd: tessmgrd started
    with 1,190 of its 1,200 (soft; 4,096 hard) taken raises the limit to serve, and answers
    HTTP on descriptors past select's 1,024 (poll), its relay subscribed too."""
    m = Mgr(cleanup, tmp_path, config={"libvirt": {"health_sec": 1}})
    m.wrap = ["/usr/bin/python3", "-c", FD_EATER]
    m.start()
    m.site()
    tap = f"te{tess.uid()}"
    host = tess.Tessd(cleanup, tmp_path, ports=[tess.tap_port("c", tap, 1)]).start()
    m.test_host("h1", tessd=host.socket, vhost_dir=m.vhost_dir())
    fds = os.listdir(f"/proc/{m.proc.pid}/fd")
    assert max(map(int, fds)) > 1100 and len(fds) > 1190, len(fds)
    limits = open(f"/proc/{m.proc.pid}/limits").read()
    assert [x for x in limits.splitlines() if "open files" in x][0].split()[3] == "4096"
    tess.wait_for(lambda: relay_stats(m)["tessds_subscribed"] == 1, 10, "subscribed")
    prov = stream(cleanup, m, PROVIDER)
    tess.sh("ip", "link", "set", tap, "down")
    prov.read_until(has("tessd.port.link", host="h1", port="c", up=False), 15)
