# SPDX-License-Identifier: BSD-3-Clause
"""Start, stop and everything in between: clean shutdown on SIGTERM/SIGINT, one tessd per
socket, recovery from a killed tessd, and running without hugepages."""
import os
import signal
import subprocess

import pytest

import tess


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_clean_shutdown(cleanup, tmp_path, sig):
    t, (na, ia), (nb, ib) = tess.tap_pair(cleanup, tmp_path)
    assert na.ping("10.77.0.2", count=2) == (2, 2)
    assert t.stop(sig) == 0
    assert not os.path.exists(t.socket)
    log = t.log()
    assert "shutting down" in log and "tessd stopped" in log
    # The taps went with their ports.
    assert na.run("ip", "link", "show", ia, check=False).returncode != 0


def test_second_tessd_on_same_socket_refuses(cleanup, tmp_path):
    u = tess.uid()
    t1 = tess.Tessd(cleanup, tmp_path, ports=[tess.tap_port("a", f"d1{u}", 0)]).start()
    t2 = tess.Tessd(cleanup, tmp_path, ports=[tess.tap_port("a", f"d2{u}", 0)])
    t2.config["control"]["socket"] = t1.socket
    t2.write_config()
    r = subprocess.run([tess.TESSD, "-c", t2.config_path], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 1
    assert f"another tessd (pid {t1.proc.pid}) is already serving {t1.socket}" in r.stderr
    # The first one is untouched.
    assert t1.ctl("status")["pid"] == t1.proc.pid
    assert os.path.exists(t1.socket)


def test_restart_after_kill(cleanup, tmp_path):
    u = tess.uid()
    ports = [tess.tap_port("a", f"k{u}", 0)]
    t1 = tess.Tessd(cleanup, tmp_path, ports=ports).start()
    t1.proc.kill()
    t1.proc.wait()
    assert os.path.exists(t1.socket)  # left behind by the kill
    t2 = tess.Tessd(cleanup, tmp_path, ports=ports)
    t2.socket = t1.socket
    t2.config["control"]["socket"] = t1.socket
    t2.start()
    assert t2.ctl("status")["pid"] == t2.proc.pid
    assert t2.stop() == 0


@pytest.mark.parametrize("in_memory", [False, True])
def test_runs_without_hugepages(cleanup, tmp_path, in_memory):
    t, (na, ia), (nb, ib) = tess.tap_pair(cleanup, tmp_path, tessd_kw={"hugepages": "off",
                                                                       "in_memory": in_memory})
    st = t.ctl("status")
    assert st["hugepages"] is False
    assert "net_virtio_user" in st["disabled_features"]
    assert "running with --no-huge" in t.log()
    assert "no hugepages" in t.tessctl("status").stdout
    assert na.ping("10.77.0.2", count=3) == (3, 3)
    assert t.stop() == 0


def test_virtio_user_refused_without_hugepages(cleanup, tmp_path):
    t = tess.Tessd(cleanup, tmp_path, hugepages="off", in_memory=False, ports=[
        {"name": "v", "devargs": f"net_virtio_user0,path={tmp_path}/x.sock"}])
    t.write_config()
    r = subprocess.run([tess.TESSD, "-c", t.config_path], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 1
    assert "/ports/0/devargs: net_virtio_user needs hugepages" in r.stderr


def test_hugepages_on_but_too_few(cleanup, tmp_path):
    t = tess.Tessd(cleanup, tmp_path, hugepages="on", memory_mb=1 << 20)
    t.write_config()
    r = subprocess.run([tess.TESSD, "-c", t.config_path], capture_output=True, text=True)
    assert r.returncode == 1 and "/eal/hugepages: \"on\" but" in r.stderr


def test_vhost_socket_left_by_a_killed_tessd(cleanup, tmp_path):
    """A killed tessd leaves its vhost-user socket file: the next one takes it over, while a
    socket someone still serves is refused."""
    sock = os.path.join(tmp_path, "vm.sock")
    port = {"name": "vm", "devargs": f"net_vhost0,iface={sock}"}
    t1 = tess.Tessd(cleanup, tmp_path, ports=[port]).start()
    t1.proc.kill()
    t1.proc.wait()
    assert os.path.exists(sock)
    t2 = tess.Tessd(cleanup, tmp_path, ports=[port]).start()
    assert "removing stale vhost-user socket" in t2.log()
    t3 = tess.Tessd(cleanup, tmp_path, ports=[port])
    t3.write_config()
    r = subprocess.run([tess.TESSD, "-c", t3.config_path], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 1 and f"/ports/0/devargs: {sock} is served by another process" in r.stderr
    assert t2.stop() == 0
    assert not os.path.exists(sock)
