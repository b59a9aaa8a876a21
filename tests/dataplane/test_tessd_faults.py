# SPDX-License-Identifier: BSD-3-Clause
"""Faults in tessd (issue 14): a config commit failed or killed at each of its steps, through
the test build's fault points (TESS_FAULT=point:fail|kill, meson -Dfault_points=true), and
tessd killed with SIGKILL under traffic. A failed commit changes nothing, neither the running
config nor the dataplane; after a kill, tessd restarted serves its saved config."""
import errno
import json
import signal
import subprocess

import pytest

import tess

# Steps of a commit (dataplane/apply.c), in order. Up to the build, a step can fail; from the
# publish on the change is past its point of no return, and a kill is all that can happen.
FAIL_POINTS = ["commit.candidate", "commit.edit", "commit.validate", "commit.prepare",
               "commit.build"]
KILL_POINTS = FAIL_POINTS + ["commit.publish", "commit.sync", "commit.done"]


def start(cleanup, tmp_path, monkeypatch, fault=None, xconnect=True):
    u = tess.uid()
    t = tess.Tessd(cleanup, tmp_path,
                   ports=[tess.tap_port("a", f"fa{u}", 0), tess.tap_port("b", f"fb{u}", 1)],
                   xconnects=[{"a": "a", "b": "b"}] if xconnect else [])
    if fault:
        monkeypatch.setenv("TESS_FAULT", fault)
    try:
        t.start()
    finally:
        monkeypatch.delenv("TESS_FAULT", raising=False)
    if not t.ctl("status").get("fault_points"):
        pytest.skip("tessd built without -Dfault_points=true")
    t.new_tap = f"fc{u}"
    return t


def state(t):
    """What a failed commit must leave as it was: the running config, the ports the
    dataplane has, and the snapshot it forwards with."""
    ports = [(p["name"], p["port_id"], p["devargs"]) for p in t.ctl("port", "list")]
    stats = sorted(p["name"] for p in t.ctl("stats")["ports"])
    return t.ctl("config", "show"), ports, stats, t.ctl("status")["snapshot_gen"]


def link_exists(name):
    return tess.sh("ip", "link", "show", name, check=False).returncode == 0


@pytest.mark.parametrize("point", FAIL_POINTS)
def test_commit_failed_at_a_step_changes_nothing(cleanup, tmp_path, monkeypatch, point):
    t = start(cleanup, tmp_path, monkeypatch, f"{point}:fail")
    before = state(t)
    # port.add has every step, a device probed (prepare) included.
    r = t.tessctl("--json", "port", "add", "c", f"net_tap2,iface={t.new_tap}", check=False)
    assert r.returncode == 1, r.stdout
    e = json.loads(r.stdout)["error"]
    assert e["code"] == errno.EIO and f"fault injected at {point}" in e["message"], e
    assert state(t) == before
    assert not link_exists(t.new_tap)  # the probed device went again
    r = t.tessctl("--json", "xconnect", "del", "a", check=False)
    assert r.returncode == 1 and state(t) == before
    assert f"fault injected at {point}: fail" in t.log()
    assert t.stop() == 0


@pytest.mark.parametrize("point", KILL_POINTS)
def test_commit_killed_at_a_step_restarts_with_the_saved_config(cleanup, tmp_path, monkeypatch,
                                                                 point):
    t = start(cleanup, tmp_path, monkeypatch, f"{point}:kill")
    saved = t.ctl("config", "show")
    r = t.tessctl("port", "add", "c", f"net_tap2,iface={t.new_tap}", check=False)
    assert r.returncode != 0
    assert t.proc.wait(30) == -signal.SIGKILL
    assert f"fault injected at {point}: kill" in t.log()
    t.logf.close()
    # Restarted from the file on disk, as a supervisor would.
    t.config = json.load(open(t.config_path))
    t.start()
    assert t.ctl("config", "show") == saved
    assert [p["name"] for p in t.ctl("port", "list")] == ["a", "b"]
    assert t.ctl("xconnect", "list") == [{"a": "a", "b": "b"}]
    # And the change can be made now.
    t.ctl("port", "add", "c", f"net_tap2,iface={t.new_tap}")
    assert t.stop() == 0


def test_sigkill_under_traffic_restarts_with_the_saved_config(cleanup, tmp_path):
    """tessd killed with SIGKILL while pings cross it: started again, it serves the config it
    saved (a cross-connect added at run time), and traffic flows again."""
    u = tess.uid()
    ifa, ifb = f"ka{u}", f"kb{u}"
    t = tess.Tessd(cleanup, tmp_path, ports=[tess.tap_port("a", ifa, 0),
                                             tess.tap_port("b", ifb, 1)]).start()
    na, nb = tess.Netns(cleanup), tess.Netns(cleanup)

    def plug():
        na.attach(ifa, "10.78.0.1/24")
        nb.attach(ifb, "10.78.0.2/24")
    plug()
    # The cross-connect exists only in the saved config, not in the one the test wrote.
    t.ctl("xconnect", "add", "a", "b")
    assert t.ctl("config", "save") == {"path": t.config_path}
    assert na.ping("10.78.0.2", count=3)[1] > 0
    flood = subprocess.Popen(["ip", "netns", "exec", na.name, "ping", "-q", "-i", "0.002",
                              "-w", "600", "10.78.0.2"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    cleanup.add(lambda: flood.poll() is None and (flood.kill(), flood.wait()))
    tess.wait_for(lambda: t.port_stats()["b"]["tx_packets"] > 500, 30, "traffic through tessd")
    t.proc.send_signal(signal.SIGKILL)
    assert t.proc.wait(30) == -signal.SIGKILL
    t.logf.close()
    t.config = json.load(open(t.config_path))
    assert t.config["xconnects"] == [{"a": "a", "b": "b"}]
    t.start()
    plug()  # the taps were tessd's: new devices, moved in again
    assert t.ctl("xconnect", "list") == [{"a": "a", "b": "b"}]
    tess.wait_for(lambda: t.port_stats()["b"]["tx_packets"] > 100, 30,
                  "the running ping's traffic through the new tessd")
    assert na.ping("10.78.0.2", count=3)[1] > 0
    flood.kill()
    flood.wait()
    assert t.stop() == 0


def test_interface_ids_of_refused_commits_are_given_back(cleanup, tmp_path, monkeypatch):
    """A commit refused after the router's build (here at the build's fault point) had given
    its new interfaces ids, kept until a commit succeeded: nine refused batches of 1,023 new
    interfaces took all 8,191, and the ninth was refused for want of ids, not for its fault."""
    t = start(cleanup, tmp_path, monkeypatch, "commit.build:fail", xconnect=False)
    for b in range(9):
        edits = [{"op": "add", "array": "/router/vrfs", "item": {"name": "v", "id": 1}}]
        edits += [{"op": "add", "array": "/router/interfaces",
                   "item": {"name": f"i{b}-{v}", "vrf": "v", "port": "a", "vlan": v}}
                  for v in range(1, 1024)]
        r = t.tessctl("--json", "call", "config.batch", json.dumps({"edits": edits}),
                      check=False)
        e = json.loads(r.stdout)["error"]
        assert (e["code"], e["message"]) == (errno.EIO, "fault injected at commit.build"), \
            (b, e)
    assert t.ctl("config", "show")["router"]["interfaces"] == []
