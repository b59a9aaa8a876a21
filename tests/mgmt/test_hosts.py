# SPDX-License-Identifier: BSD-3-Clause
"""A host's own needs in its spec: the CPUs reserved for its tessd and system (reserved_cpus),
which no tenant's partition ever has, and the desktop ports its tessd takes (max_ports), past
which placement refuses the host with its reason."""
import os
import time

import pytest

import tess
from mgr import ACME, BRAVO, Mgr


@pytest.fixture
def m(cleanup, tmp_path):
    return Mgr(cleanup, tmp_path).start()


def cpus(text):
    out = set()
    for part in filter(None, text.split(",")):
        a, _, b = part.partition("-")
        out |= set(range(int(a), int(b or a) + 1))
    return out


def two_tenants(m, **host):
    """Site paris, test host h1 of 1 socket x 4 cores x 2 threads (core k: CPUs k and k+4),
    ratio 1, tenants acme and bravo with 2-vCPU desktops."""
    m.site_h1("acme", "bravo", shape=(1, 4, 2), ratio=1.0, **host)


def placed_cpus(m, desks):
    """Every CPU the host's partitions and the desktops' pins (libvirt's view) use."""
    used = set()
    for p in m.ok("GET", "hosts/h1")["partitions"]:
        used |= cpus(p["cpus"])
    for d, token in desks:
        desk = m.ok("GET", f"desktops/{d['id']}", token=token)
        used |= cpus(desk["cpus"])
        for pin in desk["libvirt"]["vcpu_pins"]:
            used |= cpus(pin)
    return used


def test_reserved_cpus_are_never_a_tenants(m):
    two_tenants(m, reserved_cpus="0-1")
    h = m.ok("GET", "hosts/h1")
    # Cores 0 and 1 (CPUs 0, 1, 4, 5) are the host's: 4 CPUs left for desktops.
    assert h["reserved_cpus"] == "0-1" and h["cpu_capacity"] == 4, h
    desks = [(m.desktop("a1", ACME), ACME), (m.desktop("b1", BRAVO), BRAVO)]
    assert placed_cpus(m, desks) == {2, 3, 6, 7}
    # Full: the reserved cores are not handed out.
    status, r = m.call("POST", "desktops", {"name": "a2", "model": "std"}, token=ACME)
    assert status == 409, r
    assert r["error"]["detail"]["hosts"]["h1"] == "has no vCPU capacity left", r


def test_a_new_reservation_moves_the_partitions_off_it(m):
    two_tenants(m)
    desks = [(m.desktop("a1", ACME), ACME), (m.desktop("b1", BRAVO), BRAVO)]
    assert placed_cpus(m, desks) == {0, 1, 4, 5}  # the lowest cores first
    m.ok("PUT", "hosts/h1", m.host_spec("h1", reserved_cpus="0-1"))
    m.wait_idle()
    deadline = time.time() + 30
    while placed_cpus(m, desks) != {2, 3, 6, 7} and time.time() < deadline:
        time.sleep(0.2)
    assert placed_cpus(m, desks) == {2, 3, 6, 7}
    # The same after a restart (the store has the new CPUs).
    m.stop()
    m.start()
    assert placed_cpus(m, desks) == {2, 3, 6, 7}
    # A reservation that leaves the two tenants' partitions too few cores: nothing changes.
    status, r = m.call("PUT", "hosts/h1", m.host_spec("h1", reserved_cpus="0-2"))
    assert status == 409 and "allocated: more than the new" in r["error"]["message"], r
    assert m.ok("GET", "hosts/h1")["reserved_cpus"] == "0-1"


def test_reservations_that_cannot_be_are_refused_with_their_path(m):
    m.site()
    base = {"name": "h1", "site": "paris",
            "test_host": {"sockets": 1, "cores": 4, "threads": 2, "memory_mb": 32768}}
    for reserved, words in (("0-3", "leaves no CPU"), ("0-7", "leaves no CPU"),
                            ("0,8", "does not have"), ("1-", "not a CPU list"),
                            ("a", "")):
        status, r = m.call("POST", "hosts", dict(base, reserved_cpus=reserved))
        assert status == 400 and r["error"]["path"] == "/reserved_cpus", (reserved, r)
        assert words in r["error"]["message"], (reserved, r)
    assert m.ok("GET", "hosts") == []
    # A URI host's topology is known once connected: it stays down, saying why, until its
    # reservation fits.
    h = m.ok("POST", "hosts", {"name": "u1", "site": "paris", "uri": "test:///default",
                               "reserved_cpus": "0-1000"})
    assert not h["up"] and "reserved_cpus 0-1000 names a CPU the host does not have" in \
        h["down_reason"], h
    body = {k: h[k] for k in ("name", "uri", "site")}
    h = m.ok("PUT", "hosts/u1", dict(body, reserved_cpus="0"))
    assert h["up"] and h["reserved_cpus"] == "0", h
    assert h["cpu_capacity"] < h["cpus"], h


def test_placement_refuses_a_host_whose_tessd_is_full(m):
    two_tenants(m, max_ports=1)
    a1 = m.desktop("a1", ACME)
    assert m.ok("GET", "hosts/h1")["ports_used"] == 1
    status, r = m.call("POST", "desktops", {"name": "b1", "model": "std"}, token=BRAVO)
    assert status == 409, r
    assert r["error"]["detail"]["hosts"]["h1"] == "has no free port on its tessd (max_ports)"
    # The quota search sees no room there either.
    assert m.ok("POST", "quotas/bravo/std/hosts")["hosts"] == []
    # Counted from the desktops at start too.
    m.stop()
    m.start()
    assert m.call("POST", "desktops", {"name": "b1", "model": "std"}, token=BRAVO)[0] == 409
    # One more port: one more desktop; then it cannot go below the ports in use.
    m.ok("PUT", "hosts/h1", m.host_spec("h1", max_ports=2))
    m.desktop("b1", BRAVO)
    status, r = m.call("PUT", "hosts/h1", m.host_spec("h1", max_ports=1))
    assert status == 409 and r["error"]["path"] == "/max_ports", r
    assert m.ok("GET", "hosts/h1")["max_ports"] == 2
    # A deleted desktop frees its port.
    m.wait_job(m.ok("DELETE", f"desktops/{a1['id']}", token=ACME)["job"]["id"], token=ACME)
    assert m.ok("GET", "hosts/h1")["ports_used"] == 1
    m.ok("PUT", "hosts/h1", m.host_spec("h1", max_ports=1))
    assert m.call("POST", "desktops", {"name": "a2", "model": "std"}, token=ACME)[0] == 409


def test_tessd_and_vhost_dir_stay_while_desktops_have_ports(m, tmp_path):
    """A desktop's port is on the host's tessd, its socket in vhost_dir: neither changes under
    it (the old tessd would keep a port nobody removes, both tessds would reach the guest)."""
    two_tenants(m)
    a1 = m.desktop("a1", ACME)
    before = m.ok("GET", "hosts/h1")
    other = os.path.join(str(tmp_path), "other")
    for key, value in (("tessd", "/run/tessera/other.sock"), ("vhost_dir", other)):
        status, r = m.call("PUT", "hosts/h1", m.host_spec("h1", **{key: value}))
        assert status == 409 and r["error"]["path"] == f"/{key}", (key, r)
        assert "has 1 desktops" in r["error"]["message"], r
    h = m.ok("GET", "hosts/h1")
    assert (h["tessd"], h["vhost_dir"]) == (before["tessd"], before["vhost_dir"])
    m.ok("PUT", "hosts/h1", m.host_spec("h1", max_ports=5))  # other keys still change
    m.wait_job(m.ok("DELETE", f"desktops/{a1['id']}", token=ACME)["job"]["id"], token=ACME)
    h = m.ok("PUT", "hosts/h1", m.host_spec("h1", vhost_dir=other))
    assert h["vhost_dir"] == other


def host_tessd(cleanup, tmp_path, n_ports=0):
    """A host tessd with n_ports vhost client ports already (sockets nobody serves) and a
    vhost_dir for the desktops' ports; (tessd, vhost_dir)."""
    vhost = os.path.join(str(tmp_path), "vhost")
    socks = os.path.join(str(tmp_path), "socks")
    os.makedirs(vhost)
    os.makedirs(socks)
    ports = [{"name": f"x{i}", "vhost": {"path": os.path.join(socks, f"x{i}.sock"),
                                         "client": True}} for i in range(n_ports)]
    t = tess.Tessd(cleanup, tmp_path, main_cpu=1, workers=[1], memory_mb=256, ports=ports,
                   control={"port_dirs": [vhost, socks]}).start(timeout=120)
    return t, vhost


def test_placement_takes_the_smaller_of_max_ports_and_what_tessd_reports(cleanup, tmp_path):
    # 1021 client ports: the vhost library's fd set (1023) has room for 2 more desktops.
    t, vhost = host_tessd(cleanup, tmp_path, 1021)
    m = Mgr(cleanup, tmp_path, config={"libvirt": {"health_sec": 1}}).start()
    two_tenants(m, max_ports=1, tessd=t.socket, vhost_dir=vhost)
    st = m.ok("GET", "hosts/h1")["tessd_status"]
    assert st == {"checked": True, "up": True, "downs": 0, "ports_free": 2,
                  "vhost_ports": {"max": 1024, "used": 1021, "free": 2}}, st
    # max_ports (1) is the smaller: its reason.
    a1 = m.desktop("a1", ACME)
    status, r = m.call("POST", "desktops", {"name": "b1", "model": "std"}, token=BRAVO)
    assert status == 409, r
    assert r["error"]["detail"]["hosts"]["h1"] == "has no free port on its tessd (max_ports)"
    # No max_ports: what tessd said, less the desktops placed since.
    m.ok("PUT", "hosts/h1", m.host_spec("h1", max_ports=0))
    assert m.ok("GET", "hosts/h1")["tessd_status"]["ports_free"] == 1
    b1 = m.desktop("b1", BRAVO)
    assert m.ok("GET", "hosts/h1")["tessd_status"]["ports_free"] == 0
    status, r = m.call("POST", "desktops", {"name": "a2", "model": "std"}, token=ACME)
    assert status == 409, r
    assert r["error"]["detail"]["hosts"]["h1"] == \
        "has no free port on its tessd (as the tessd reports)", r
    assert m.ok("POST", "quotas/acme/std/hosts")["hosts"] == []
    # The next look: tessd has both ports and none free.
    tess.wait_for(lambda: m.ok("GET", "hosts/h1")["tessd_status"]["vhost_ports"]["used"] == 1023,
                  10, "tessd's ports counted at the next look")
    assert m.ok("GET", "hosts/h1")["tessd_status"]["vhost_ports"]["free"] == 0
    # A port taken by something else than a desktop counts too: one removed frees one.
    m.wait_job(m.ok("DELETE", f"desktops/{a1['id']}", token=ACME)["job"]["id"], token=ACME)
    t.tessctl("port", "del", "x0")
    tess.wait_for(lambda: m.ok("GET", "hosts/h1")["tessd_status"]["ports_free"] == 2, 10,
                  lambda: f"two ports free: {m.ok('GET', 'hosts/h1')['tessd_status']}")
    m.desktop("a2", ACME)
    # A look while a2 was being made counts its port twice (tessd's and in flight) until the
    # next one: wait for a look after it.
    tess.wait_for(lambda: m.ok("GET", "hosts/h1")["tessd_status"]["ports_free"] == 1, 10,
                  lambda: f"one port free: {m.ok('GET', 'hosts/h1')['tessd_status']}")
    m.desktop("a3", ACME)
    assert m.call("POST", "desktops", {"name": "a4", "model": "std"}, token=ACME)[0] == 409
    assert b1["port"] in {p["name"] for p in t.ctl("port", "list")}


def test_placement_refuses_a_host_whose_tessd_does_not_answer(cleanup, tmp_path):
    t, vhost = host_tessd(cleanup, tmp_path)
    m = Mgr(cleanup, tmp_path, config={"libvirt": {"health_sec": 1}}).start()
    two_tenants(m, tessd=t.socket, vhost_dir=vhost)
    m.desktop("a1", ACME)
    # tessd stops: its socket is gone. The next look finds it; the host stays up (libvirt).
    t.stop()
    tess.wait_for(lambda: not m.ok("GET", "hosts/h1")["tessd_status"]["up"], 10,
                  "the tessd found not answering")
    h = m.ok("GET", "hosts/h1")
    assert h["up"] and h["tessd_status"]["downs"] == 1, h
    assert t.socket in h["tessd_status"]["down_reason"], h
    status, r = m.call("POST", "desktops", {"name": "b1", "model": "std"}, token=BRAVO)
    assert status == 409, r
    assert r["error"]["detail"]["hosts"]["h1"] == \
        "has a tessd that does not answer (see its tessd.down_reason)", r
    assert m.ok("POST", "quotas/bravo/std/hosts")["hosts"] == []
    assert m.ok("GET", "hosts/h1")["ports_used"] == 1  # nothing reserved by the refusal
    # Back: placed again.
    t.start()
    tess.wait_for(lambda: m.ok("GET", "hosts/h1")["tessd_status"]["up"], 10, "tessd back")
    m.desktop("b1", BRAVO)


def test_a_move_between_hosts_on_one_tessd_keeps_its_port(cleanup, tmp_path):
    """Two hosts with one tessd whose address each writes its own way (a bare path and
    unix://): a desktop moved between them keeps its port, neither added a second time
    (which fails) nor taken away by the undo."""
    t, vhost = host_tessd(cleanup, tmp_path)
    m = Mgr(cleanup, tmp_path).start()
    m.site()
    m.test_host("h1", tessd=t.socket, vhost_dir=vhost)
    m.test_host("h2", tessd="unix://" + t.socket, vhost_dir=vhost)
    m.tenant("acme", 100)
    m.model()
    m.quota("acme")
    d = m.desktop("a1", ACME)
    other = "h2" if d["host"] == "h1" else "h1"
    m.wait_job(m.ok("POST", f"desktops/{d['id']}/migrate", {"host": other})["job"]["id"])
    moved = m.ok("GET", f"desktops/{d['id']}", token=ACME)
    assert moved["host"] == other and moved["state"] == "running", moved
    assert [p["name"] for p in t.ctl("port", "list")].count(d["port"]) == 1
    # Its host written as the other writes the tessd keeps it (the same tessd: no change).
    spelled = m.ok("GET", f"hosts/{d['host']}")["tessd"]
    assert m.ok("PUT", f"hosts/{other}", m.host_spec(other, tessd=spelled))["tessd"] == spelled
