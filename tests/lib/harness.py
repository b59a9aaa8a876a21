# SPDX-License-Identifier: BSD-3-Clause
"""What every pytest suite here shares: root and built programs checked at the start, stale
namespaces and runtime directories swept, and `cleanup` fixtures (a test's, a module's) that
run even when a test fails."""
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
    tess.sanitizer_setup()


def session_finish(session):
    tess.sweep_runtime_dirs()
    reports = tess.sanitizer_reports(last=True)
    if reports:  # from a process that outlived its test
        print(f"\nsanitizer reports after the last test:\n{reports}")
        session.exitstatus = 1


@pytest.fixture
def cleanup():
    c = tess.Cleanup()
    yield c
    errors = c.run()
    assert not errors, f"cleanup failed: {errors}"


@pytest.fixture(scope="module")
def module_cleanup():
    """A Cleanup for what a module's tests share (a topology built once), run after its last
    test."""
    c = tess.Cleanup()
    yield c
    errors = c.run()
    assert not errors, f"cleanup failed: {errors}"


@pytest.fixture(autouse=True)
def sanitizer_check():
    """Fails a test during which a program reported an error under ASan or UBSan (checked
    after the test's cleanup, which stops its daemons; the reports name their pid)."""
    yield
    reports = tess.sanitizer_reports()
    assert not reports, f"sanitizer reports:\n{reports}"
