# SPDX-License-Identifier: BSD-3-Clause
"""tessmgrd under systemd's Type=notify (sd_notify(3)): READY=1 only once the HTTP listener
answers, WATCHDOG=1 pings, RELOADING=1 then READY=1 around a SIGHUP token reload,
STOPPING=1 on SIGTERM; a NOTIFY_SOCKET it cannot use is logged and ignored."""
import os
import signal

import pytest

from mgr import Mgr
from notify import NotifySocket


@pytest.mark.parametrize("abstract", [False, True])
def test_ready_watchdog_reload_stopping(cleanup, tmp_path, abstract):
    ns = NotifySocket(cleanup, tmp_path, abstract=abstract)
    m = Mgr(cleanup, tmp_path)
    m.env = {"NOTIFY_SOCKET": ns.env, "WATCHDOG_USEC": "400000"}
    m.start()

    def before_ready(msg):
        assert msg.split("\n")[0] == "READY=1", msg

    ns.wait_for("READY=1", 20, on_each=before_ready)
    # Ready means the listener answers (Mgr.start found the port file, written before).
    assert m.call("GET", "usage")[0] == 200
    assert ns.count("WATCHDOG=1", 1.2) >= 3
    m.proc.send_signal(signal.SIGHUP)
    msg = ns.wait_for("RELOADING=1", 10)
    assert "MONOTONIC_USEC=" in msg
    ns.wait_for("READY=1", 10)
    assert m.call("GET", "usage")[0] == 200
    m.proc.send_signal(signal.SIGTERM)
    ns.wait_for("STOPPING=1", 10)
    assert m.proc.wait(20) == 0


def test_bad_notify_socket_is_not_fatal(cleanup, tmp_path):
    path = str(tmp_path / "not-a-socket")
    open(path, "w").close()
    m = Mgr(cleanup, tmp_path)
    m.env = {"NOTIFY_SOCKET": path}
    m.start()
    assert m.call("GET", "usage")[0] == 200
    assert m.stop() == 0
    assert "cannot notify the service manager (READY=1)" in m.log(), m.log()
    m2 = Mgr(cleanup, tmp_path / "long")
    m2.env = {"NOTIFY_SOCKET": "@" + "y" * 300}
    m2.start()
    assert m2.call("GET", "usage")[0] == 200
    assert m2.stop() == 0
    assert "too long" in m2.log(), m2.log()
    assert os.path.exists(path)
