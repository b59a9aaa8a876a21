# SPDX-License-Identifier: BSD-3-Clause
"""The build's `meson install`, for the install tests: its options and an install into a
destdir."""
import json
import subprocess

import tess


def options():
    """The build's options by name (prefix, bindir, mandir, ...)."""
    r = subprocess.run(["meson", "introspect", tess.BUILD, "--buildoptions"],
                       capture_output=True, text=True, check=True, timeout=60)
    return {o["name"]: o["value"] for o in json.loads(r.stdout)}


def install(destdir):
    """`meson install` of the build into destdir; its output."""
    r = subprocess.run(["meson", "install", "-C", tess.BUILD, "--destdir", str(destdir),
                        "--no-rebuild"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout
