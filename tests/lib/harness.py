# SPDX-License-Identifier: BSD-3-Clause
"""What every pytest suite here shares: root and built programs checked at the start, stale
namespaces and runtime directories swept, and a `cleanup` fixture that runs even when a test
fails."""
import os

import pytest

import tess


def session_start(what, exes):
    if os.geteuid() != 0:
        pytest.exit(f"{what} tests need root (network namespaces, taps, hugepages)", 2)
    for exe in exes:
        if not os.access(exe, os.X_OK):
            pytest.exit(f"{exe} is not built (set TESS_BUILD)", 2)
    tess.sweep_stale()


def session_finish():
    tess.sweep_runtime_dirs()


@pytest.fixture
def cleanup():
    c = tess.Cleanup()
    yield c
    errors = c.run()
    assert not errors, f"cleanup failed: {errors}"
