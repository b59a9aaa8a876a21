# SPDX-License-Identifier: BSD-3-Clause
"""The man pages (man/gen-man.py, README "Man pages and completion"): written at build time
from the binaries' --help, `tessd --schema`, `tessmgrd --schema` and `tessctl __commands`;
they render without a warning (groff -ww, mandoc -Tlint), name every config key, option
and command, and `meson install` puts them where man looks."""
import json
import os
import re
import shutil
import subprocess

import pytest

import installed
import mgr
import tess
from schema_text import config_rows

PAGES = {"tessd.8": 8, "tessmgrd.8": 8, "tessctl.1": 1, "tessd.json.5": 5,
         "tessmgrd.json.5": 5}


def page(name):
    return os.path.join(tess.BUILD, "man", name)


def source_text(name):
    """The page's roff with the escapes a key or option is written with undone."""
    text = open(page(name)).read()
    return re.sub(r"\\f[BIR]", "", text.replace(r"\-", "-").replace(r"\&", ""))


def schema(exe):
    return json.loads(subprocess.run([exe, "--schema"], capture_output=True, text=True,
                                     check=True, timeout=60).stdout)


@pytest.mark.parametrize("name", sorted(PAGES))
def test_renders_without_warnings(name):
    r = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", page(name)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    if shutil.which("mandoc"):
        r = subprocess.run(["mandoc", "-Tlint", "-Wstyle", page(name)], capture_output=True,
                           text=True, timeout=60)
        assert r.stdout + r.stderr == "", r.stdout + r.stderr
    r = subprocess.run(["man", "-l", page(name)], capture_output=True, text=True, timeout=60,
                       env={**os.environ, "MANWIDTH": "80", "MAN_KEEP_STDERR": "1"})
    assert r.returncode == 0 and r.stderr == "", r.stderr
    assert name.rsplit(".", 1)[0].upper() in r.stdout.splitlines()[0]


def test_every_config_key_is_in_its_page():
    tessd = schema(tess.TESSD)
    text = source_text("tessd.json.5")
    keys = [k for k, _ in config_rows(tessd["config"])]
    assert len(keys) > 100
    missing = [k for k in keys if f"\n{k}\n" not in text]
    assert missing == [], missing
    m = schema(mgr.TESSMGRD)
    text = source_text("tessmgrd.json.5")
    missing = [k for k, _ in config_rows(m["config"]) if f"\n{k}\n" not in text]
    assert missing == [], missing
    text = source_text("tessmgrd.8")
    for what in ("host", "router", "network", "task", "rates"):
        missing = [k for k, _ in config_rows(m[what]) if f"\n{k}\n" not in text]
        assert missing == [], (what, missing)
    # tessd's API methods in tessd(8).
    text = source_text("tessd.8")
    missing = [x["method"] for x in tessd["methods"] if f"\n{x['method']}\n" not in text]
    assert missing == [], missing


def test_options_and_commands_are_in_the_pages():
    for exe, name in ((tess.TESSD, "tessd.8"), (mgr.TESSMGRD, "tessmgrd.8"),
                      (tess.TESSCTL, "tessctl.1")):
        text = source_text(name)
        helptext = subprocess.run([exe, "--help"], capture_output=True, text=True,
                                  timeout=60).stdout
        for opt in re.findall(r"^\s+(?:-\w, )?(--[\w-]+)", helptext, re.M):
            assert opt in text, (name, opt)
    cmds = json.loads(subprocess.run([tess.TESSCTL, "__commands"], capture_output=True,
                                     text=True, check=True, timeout=60).stdout)
    text = source_text("tessctl.1")
    flat = " ".join(text.split())  # long synopses are wrapped
    for c in cmds["commands"]:
        assert f" {c['synopsis']} " in flat, c
    assert len(cmds["commands"]) > 50
    # A schema command lists its method's options: port add's come from tessd's schema.
    port_add = text[text.index("\nport add NAME DEVARGS\n"):]
    assert "--rx-queues RX-QUEUES" in port_add[:2000]


def test_installed_into_mandir(tmp_path):
    installed.install(tmp_path)
    o = installed.options()
    mandir = os.path.join(str(tmp_path), o["prefix"].lstrip("/"), o["mandir"])
    for name, sec in PAGES.items():
        assert os.path.exists(os.path.join(mandir, f"man{sec}", name)), name
    # man finds the installed page by name through MANPATH.
    r = subprocess.run(["man", "-w", "tessctl"], capture_output=True, text=True, timeout=60,
                       env={**os.environ, "MANPATH": mandir})
    assert r.returncode == 0 and r.stdout.strip().endswith("man1/tessctl.1"), r.stdout + r.stderr
