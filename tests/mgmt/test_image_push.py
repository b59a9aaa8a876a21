# SPDX-License-Identifier: BSD-3-Clause
"""Image push reads only regular files under the configured import directory (security
review 8d02519, 1.8): no /etc/shadow copied into site storage, no /dev/zero or FIFO holding
the push lock, no symlink or ".." out of the directory."""
import os
import time

import tess
from mgr import BASE_IMAGE, Mgr


def push(m, file):
    return m.call("POST", f"images/{BASE_IMAGE}/push", {"site": "paris", "file": file})


def started(cleanup, tmp_path):
    m = Mgr(cleanup, tmp_path)
    m.http_timeout = 10  # a push that hangs fails the test instead of waiting 30 s
    m.start()
    m.site("paris")
    return m


def images_in(m):
    d = os.path.join(m.storage, "images")
    return [os.path.join(r, f) for r, _, fs in os.walk(d) for f in fs]


def refused(m, file, why):
    t0 = time.monotonic()
    status, r = push(m, file)
    assert status == 400 and r["error"]["path"] == "/file", (file, status, r)
    assert why in r["error"]["message"], (file, r)
    assert time.monotonic() - t0 < 5, file


def test_push_outside_import_dir_refused(cleanup, tmp_path):
    m = started(cleanup, tmp_path)
    imp = m.imports
    refused(m, "/etc/shadow", "not under the import directory")
    refused(m, "../" * 8 + "etc/shadow", "not under the import directory")
    refused(m, imp + "/.." * 8 + "/etc/passwd", "not under the import directory")
    os.symlink("/etc/shadow", os.path.join(imp, "shadow.qcow2"))
    refused(m, "shadow.qcow2", "not under the import directory")
    refused(m, os.path.join(imp, "shadow.qcow2"), "not under the import directory")
    refused(m, "missing.qcow2", "No such file")
    assert images_in(m) == []


def test_push_of_devices_fifos_directories_refused_promptly(cleanup, tmp_path):
    m = started(cleanup, tmp_path)
    imp = m.imports
    refused(m, "/dev/zero", "not under the import directory")
    os.symlink("/dev/zero", os.path.join(imp, "zero"))
    refused(m, "zero", "not under the import directory")
    os.mkfifo(os.path.join(imp, "fifo"))
    refused(m, "fifo", "not a regular file")
    os.mkdir(os.path.join(imp, "dir"))
    refused(m, "dir", "not a regular file")
    refused(m, imp, "not a regular file")
    os.mknod(os.path.join(imp, "null"), 0o600 | 0o020000, os.makedev(1, 3))
    refused(m, "null", "")  # a char device: refused (nodev mounts refuse it at open)
    assert images_in(m) == []
    # The push lock is free: a real image, by relative name and by absolute path, goes in.
    good = os.path.join(imp, "v2.qcow2")
    tess.sh("qemu-img", "create", "-q", "-f", "qcow2", good, "1M")
    status, r = push(m, "v2.qcow2")
    assert status == 200 and r["sites"][0]["state"] == "published", r
    status, r2 = push(m, good)
    assert status == 200 and r2["version"] == r["version"], r2
    assert r2["sites"][0]["state"] == "present", r2
    assert len(images_in(m)) == 1
