# SPDX-License-Identifier: BSD-3-Clause
"""`meson install` (README "Running as a service"): the binaries, the systemd units, the
tmpfiles.d and sysusers.d files and the example configs land where the units expect them;
an operator's config is never overwritten; the units pass `systemd-analyze verify`; the
installed examples pass `tessd --check` and `tessmgrd --check`."""
import json
import os
import shutil
import subprocess

import pytest

from installed import install, options


@pytest.fixture(scope="module")
def layout():
    o = options()
    prefix = o["prefix"]
    unitdir = subprocess.run(["pkg-config", "--variable=systemdsystemunitdir", "systemd"],
                             capture_output=True, text=True).stdout.strip()
    return {
        "bin": os.path.join(prefix, o["bindir"]),
        "etc": os.path.join(prefix, o["sysconfdir"], "tessera"),
        "units": unitdir or "/lib/systemd/system",
    }


def under(destdir, path):
    return os.path.join(str(destdir), path.lstrip("/"))


def test_installed_files(tmp_path, layout):
    install(tmp_path)
    bind, etc, units = (under(tmp_path, layout[k]) for k in ("bin", "etc", "units"))
    for exe in ("tessd", "tessmgrd", "tessctl"):
        assert os.access(os.path.join(bind, exe), os.X_OK), exe
    for unit in ("tessd.service", "tessmgrd.service"):
        text = open(os.path.join(units, unit)).read()
        assert "@" not in text.replace("$MAINPID", ""), f"{unit}: unsubstituted: {text}"
        assert f"ExecStart={layout['bin']}/" in text and f"{layout['etc']}/" in text
        assert "Type=notify" in text and "WatchdogSec=" in text
    found = set()
    for root, _, files in os.walk(str(tmp_path)):
        found |= {os.path.relpath(os.path.join(root, f), str(tmp_path)) for f in files}
    names = {os.path.basename(f) for f in found}
    assert any(f.endswith("tmpfiles.d/tessera.conf") for f in found), sorted(found)
    assert any(f.endswith("sysusers.d/tessera.conf") for f in found), sorted(found)
    assert {"tessd.json", "tessmgrd.json", "tokens.json"} <= set(os.listdir(etc))
    assert "README.md" in names and "pe-router.json" in names
    # The token file: nobody but its owner (tmpfiles.d gives tessmgrd's group read).
    assert os.stat(os.path.join(etc, "tokens.json")).st_mode & 0o077 == 0
    tmpfiles = next(f for f in found if f.endswith("tmpfiles.d/tessera.conf"))
    assert f"{layout['etc']}/tokens.json" in open(os.path.join(str(tmp_path), tmpfiles)).read()


def test_existing_configs_are_kept(tmp_path, layout):
    install(tmp_path)
    etc = under(tmp_path, layout["etc"])
    mine = os.path.join(etc, "tessd.json")
    with open(mine, "w") as f:
        f.write('{"ports": []}\n')
    os.unlink(os.path.join(etc, "tessmgrd.json"))
    install(tmp_path)
    assert open(mine).read() == '{"ports": []}\n'
    # A file that went missing is put back.
    assert os.path.exists(os.path.join(etc, "tessmgrd.json"))


def test_examples_pass_check(tmp_path, layout):
    install(tmp_path)
    etc = under(tmp_path, layout["etc"])
    bind = under(tmp_path, layout["bin"])
    # tessd's example names group tessera (made by sysusers.d): without it here, check
    # the rest of the example.
    with open(os.path.join(etc, "tessd.json")) as f:
        cfg = json.load(f)
    if subprocess.run(["getent", "group", "tessera"], capture_output=True).returncode:
        cfg["control"].pop("group")
    path = tmp_path / "tessd.json"
    path.write_text(json.dumps(cfg))
    r = subprocess.run([os.path.join(bind, "tessd"), "-c", str(path), "--check"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    # tessmgrd's names the token file by its installed path: point it into DESTDIR.
    with open(os.path.join(etc, "tessmgrd.json")) as f:
        cfg = json.load(f)
    assert cfg["tokens"] == os.path.join(layout["etc"], "tokens.json")
    # The portal's files where the example config serves them from (README "Portal").
    assert os.path.isfile(os.path.join(under(tmp_path, cfg["http"]["portal_dir"]), "index.html"))
    cfg["tokens"] = os.path.join(etc, "tokens.json")
    path = tmp_path / "tessmgrd.json"
    path.write_text(json.dumps(cfg))
    r = subprocess.run([os.path.join(bind, "tessmgrd"), "-c", str(path), "--check"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr


def test_units_verify(tmp_path, layout):
    """systemd-analyze verify needs no running systemd, but wants the binaries at their
    paths: the units are checked with ExecStart pointed into DESTDIR."""
    if shutil.which("systemd-analyze") is None:
        pytest.skip("no systemd-analyze (Debian package systemd)")
    install(tmp_path)
    units = under(tmp_path, layout["units"])
    check = tmp_path / "verify"
    check.mkdir()
    paths = []
    for unit in ("tessd.service", "tessmgrd.service"):
        text = open(os.path.join(units, unit)).read()
        text = text.replace(layout["bin"] + "/", under(tmp_path, layout["bin"]) + "/")
        (check / unit).write_text(text)
        paths.append(str(check / unit))
    r = subprocess.run(["systemd-analyze", "verify", "--man=no"] + paths, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0 and r.stderr.strip() == "", r.stderr
    # And it does see mistakes.
    (check / "tessd.service").write_text(open(paths[0]).read().replace(
        "Type=notify", "Type=notifyy"))
    r = subprocess.run(["systemd-analyze", "verify", "--man=no", paths[0]], capture_output=True, text=True,
                       timeout=60)
    assert "notifyy" in r.stderr, r.stderr


def test_sysusers_and_tmpfiles_apply(tmp_path, layout):
    """The tessera user, then the directories and the token file's group, made in DESTDIR
    as systemd-sysusers and systemd-tmpfiles do at boot or package install."""
    for tool in ("systemd-sysusers", "systemd-tmpfiles"):
        if shutil.which(tool) is None:
            pytest.skip(f"no {tool} (Debian package systemd)")
    install(tmp_path)
    root = str(tmp_path)
    conf = {}
    for root_dir, _, files in os.walk(root):
        for f in files:
            p = os.path.join(root_dir, f)
            for kind in ("sysusers.d", "tmpfiles.d"):
                if p.endswith(f"{kind}/tessera.conf"):
                    conf[kind] = p
    os.makedirs(os.path.join(root, "etc"), exist_ok=True)
    r = subprocess.run(["systemd-sysusers", f"--root={root}", conf["sysusers.d"]],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    with open(os.path.join(root, "etc", "group")) as f:
        gid = next(int(line.split(":")[2]) for line in f if line.startswith("tessera:"))
    r = subprocess.run(["systemd-tmpfiles", f"--root={root}", "--create", conf["tmpfiles.d"]],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    for d in ("run/tessera", "var/lib/tessera/tessd", "var/lib/tessera/tessmgrd",
              "var/log/tessera"):
        assert os.path.isdir(os.path.join(root, d)), d
    st = os.stat(under(tmp_path, layout["etc"]) + "/tokens.json")
    assert (st.st_mode & 0o777, st.st_gid) == (0o640, gid)
    assert os.stat(os.path.join(root, "var/lib/tessera/tessmgrd")).st_gid == gid
