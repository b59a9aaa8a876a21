# SPDX-License-Identifier: BSD-3-Clause
"""The Tessera .debs the install tests use (test_deb, test_image), and the Debian mirror
they install from. `make deb` takes minutes: it runs once per source tree, under a lock,
so tests running at the same time share it, and the next run of the same committed tree
(git's tree hash, nothing uncommitted) finds it in $TESS_CACHE."""
import fcntl
import glob
import os
import shutil
import subprocess
import time
import urllib.request

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CACHE = os.environ.get("TESS_CACHE", "/var/cache/tessera-test")
MIRROR = os.environ.get("TESS_DEBIAN_MIRROR", "http://deb.debian.org/debian")


def run(*cmd, timeout=600, check=True, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    if check and r.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)}: rc {r.returncode}\n{r.stdout[-4000:]}\n"
                             f"{r.stderr[-4000:]}")
    return r


def mirror_reachable(suite="bookworm"):
    try:
        with urllib.request.urlopen(f"{MIRROR}/dists/{suite}/Release", timeout=15) as r:
            return r.status == 200
    except OSError:
        return False


def require_mirror(what):
    """Skips, saying that what cannot be done, when the mirror does not answer; under CI=true
    fails instead: a CI run must not pass with the install tests left out."""
    if mirror_reachable():
        return
    msg = f"{MIRROR} is not reachable: {what}"
    if os.environ.get("CI", "") == "true":
        pytest.fail(msg)
    pytest.skip(msg)


def tree_key():
    """The tree's git hash, or None when the tree differs from it (changed or new files
    that `make deb` would package): then nothing is reused."""
    st = run("git", "-C", ROOT, "status", "--porcelain", check=False)
    if st.returncode != 0 or st.stdout.strip():
        return None
    return run("git", "-C", ROOT, "rev-parse", "HEAD^{tree}").stdout.strip()


def built(scratch):
    """The package's .debs (not the -dbgsym), built into scratch, or the cache for a
    committed tree."""
    key = tree_key()
    os.makedirs(os.path.join(CACHE, "debs"), exist_ok=True)
    out = os.path.join(CACHE, "debs", key) if key else str(scratch)
    with open(os.path.join(CACHE, "debs.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (key and os.path.exists(os.path.join(out, ".done"))):
            for old in glob.glob(os.path.join(CACHE, "debs", "*")):
                if old != out:
                    shutil.rmtree(old)  # one tree's packages are kept, the newest
            t0 = time.monotonic()
            run("make", "-C", ROOT, "deb", f"DEB_OUT={out}", timeout=1800)
            print(f"make deb: {time.monotonic() - t0:.0f} s")
            open(os.path.join(out, ".done"), "w").close()
        else:
            print(f"debs: reusing {out}")
    found = sorted(d for d in glob.glob(os.path.join(out, "tessera*.deb"))
                   if "-dbgsym_" not in d)
    assert found, os.listdir(out)
    return found
