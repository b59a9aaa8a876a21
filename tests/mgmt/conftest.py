# SPDX-License-Identifier: BSD-3-Clause
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import mgr  # noqa: E402
import tess  # noqa: E402


def pytest_sessionstart(session):
    if os.geteuid() != 0:
        pytest.exit("tessmgrd tests need root (tessd, namespaces)", 2)
    for exe in (mgr.TESSMGRD, tess.TESSCTL):
        if not os.access(exe, os.X_OK):
            pytest.exit(f"{exe} is not built (set TESS_BUILD)", 2)
    tess.sweep_stale()


def pytest_sessionfinish(session, exitstatus):
    tess.sweep_runtime_dirs()


@pytest.fixture
def cleanup():
    c = tess.Cleanup()
    yield c
    errors = c.run()
    assert not errors, f"cleanup failed: {errors}"
