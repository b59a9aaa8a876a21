# SPDX-License-Identifier: BSD-3-Clause
"""tessd under systemd's Type=notify (sd_notify(3)): READY=1 only once the control socket
answers, WATCHDOG=1 from the control loop at half of WATCHDOG_USEC, STOPPING=1 on SIGTERM;
a NOTIFY_SOCKET it cannot use is logged and ignored."""
import os
import signal

import pytest

import tess
from notify import NotifySocket


@pytest.mark.parametrize("abstract", [False, True])
def test_ready_watchdog_stopping(cleanup, tmp_path, monkeypatch, abstract):
    ns = NotifySocket(cleanup, tmp_path, abstract=abstract)
    monkeypatch.setenv("NOTIFY_SOCKET", ns.env)
    monkeypatch.setenv("WATCHDOG_USEC", "200000")
    t = tess.Tessd(cleanup, tmp_path).start(wait=False)

    def before_ready(msg):
        # Nothing but READY=1 (with the socket answering) may come first.
        assert msg.split("\n")[0] == "READY=1", msg

    ns.wait_for("READY=1", 30, on_each=before_ready)
    # Ready means ready: the very next request is answered.
    assert t.tessctl("status", check=False).returncode == 0, t.log()
    # 100 ms between pings: about 10 in a second (a loaded machine may skip a few).
    assert ns.count("WATCHDOG=1", 1.0) >= 5
    t.proc.send_signal(signal.SIGTERM)
    ns.wait_for("STOPPING=1", 10)
    assert t.proc.wait(20) == 0


def test_no_watchdog_without_watchdog_usec(cleanup, tmp_path, monkeypatch):
    ns = NotifySocket(cleanup, tmp_path)
    monkeypatch.setenv("NOTIFY_SOCKET", ns.env)
    monkeypatch.delenv("WATCHDOG_USEC", raising=False)
    t = tess.Tessd(cleanup, tmp_path).start(wait=False)
    ns.wait_for("READY=1", 30)
    assert ns.count("WATCHDOG=1", 0.5) == 0
    t.stop()


def test_watchdog_pid_of_another_process(cleanup, tmp_path, monkeypatch):
    """WATCHDOG_PID naming another process: the pings are not ours to send."""
    ns = NotifySocket(cleanup, tmp_path)
    monkeypatch.setenv("NOTIFY_SOCKET", ns.env)
    monkeypatch.setenv("WATCHDOG_USEC", "200000")
    monkeypatch.setenv("WATCHDOG_PID", "1")
    t = tess.Tessd(cleanup, tmp_path).start(wait=False)
    ns.wait_for("READY=1", 30)
    assert ns.count("WATCHDOG=1", 0.5) == 0
    t.stop()


@pytest.mark.parametrize("value, logged", [
    ("/" + "x" * 200, "NOTIFY_SOCKET=/xxx"),
    ("relative.sock", "neither an absolute path"),
    ("@", "too short"),
    ("NOTAFILE", "neither an absolute path"),
    ("REGULAR", "cannot notify the service manager (READY=1)"),
], ids=["too-long", "relative", "at-alone", "word", "regular-file"])
def test_bad_notify_socket_is_not_fatal(cleanup, tmp_path, monkeypatch, value, logged):
    if value == "REGULAR":
        value = str(tmp_path / "not-a-socket")
        open(value, "w").close()
    monkeypatch.setenv("NOTIFY_SOCKET", value)
    monkeypatch.setenv("WATCHDOG_USEC", "200000")
    t = tess.Tessd(cleanup, tmp_path).start()
    assert t.tessctl("status", check=False).returncode == 0
    assert t.stop() == 0
    assert logged in t.log(), t.log()
    # Said once, not at each watchdog ping.
    assert t.log().count("cannot notify") <= 1, t.log()


def test_starts_with_systemds_runtime_directory_list(cleanup, tmp_path, monkeypatch):
    """The unit's RuntimeDirectory=tessera dpdk gives RUNTIME_DIRECTORY as a ':' list, which
    EAL would take as one directory and fail to make: tessd starts and answers all the
    same (it failed at every start in the appliance image before)."""
    monkeypatch.setenv("RUNTIME_DIRECTORY", f"{tmp_path}/tessera:{tmp_path}/dpdk")
    # Runtime files, as under the unit (in memory, EAL ignores a directory it cannot make).
    t = tess.Tessd(cleanup, tmp_path, in_memory=False)
    t.start()
    assert t.tessctl("status", check=False).returncode == 0, t.log()
    assert os.path.isdir(f"/var/run/dpdk/{t.config['eal']['file_prefix']}")
    t.stop()
