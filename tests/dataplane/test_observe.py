# SPDX-License-Identifier: BSD-3-Clause
"""Observability: --version."""
import os
import re
import subprocess

import tess

MESON_VERSION = re.search(r"version:\s*'([^']+)'", open(
    os.path.join(os.path.dirname(__file__), "..", "..", "meson.build")).read()).group(1)


def test_version_of_every_binary():
    tessmgrd = os.path.join(tess.BUILD, "mgmt", "tessmgrd")
    for exe, name in ((tess.TESSD, "tessd"), (tess.TESSCTL, "tessctl"), (tessmgrd, "tessmgrd")):
        r = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=10)
        assert r.returncode == 0, r.stderr
        assert r.stdout.splitlines()[0] == f"{name} {MESON_VERSION}", r.stdout
        h = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=10)
        assert "--version" in h.stdout, h.stdout
    r = subprocess.run([tess.TESSD, "--version"], capture_output=True, text=True, timeout=10)
    assert re.fullmatch(r"DPDK \d+\.\d+\.\d+.*", r.stdout.splitlines()[1]), r.stdout
