# SPDX-License-Identifier: BSD-3-Clause
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harness  # noqa: E402
import mgr  # noqa: E402
import tess  # noqa: E402
from harness import cleanup, module_cleanup, sanitizer_check  # noqa: E402,F401  (the fixtures)


def pytest_sessionstart(session):
    harness.session_start("tessmgrd", (mgr.TESSMGRD, tess.TESSD, tess.TESSCTL))


def pytest_sessionfinish(session, exitstatus):
    harness.session_finish(session)
