# SPDX-License-Identifier: BSD-3-Clause
"""`make deb` (README "Debian package"): the package is built, installed with apt into a
fresh Debian 12 chroot (debootstrap --variant=minbase from deb.debian.org, cached as a
tarball in $TESS_CACHE, /var/cache/tessera-test by default, with apt's downloads), and
checked there: the files where the units expect them, the tessera user, the directories
of tmpfiles.d, the units enabled, /etc/tessera's configs as conffiles kept on reinstall,
`tessd --check` and `tessmgrd --check` on the installed examples, the man pages and the
bash completion. Skipped, saying so, when the mirror cannot be reached, except under CI=true
where it fails."""
import glob
import os
import shutil
import subprocess
import time

import pytest

from debs import CACHE, MIRROR, built, require_mirror, run

SUITE = "bookworm"


def base_tarball():
    """A minimal bookworm, made once (a few minutes) and kept."""
    arch = run("dpkg", "--print-architecture").stdout.strip()
    tarball = os.path.join(CACHE, f"{SUITE}-minbase-{arch}.tar")
    if os.path.exists(tarball):
        return tarball
    if shutil.which("debootstrap") is None:
        pytest.fail("no debootstrap (tests/env/deps.sh installs it)")
    os.makedirs(CACHE, exist_ok=True)
    work = tarball + ".d"
    shutil.rmtree(work, ignore_errors=True)
    run("debootstrap", "--variant=minbase", SUITE, work, MIRROR, timeout=1800)
    run("tar", "-cf", tarball + ".tmp", "-C", work, ".")
    os.rename(tarball + ".tmp", tarball)
    shutil.rmtree(work)
    return tarball


@pytest.fixture(scope="module")
def debs(tmp_path_factory):
    return built(tmp_path_factory.mktemp("deb"))


@pytest.fixture(scope="module")
def mirror():
    require_mirror("no chroot to install the package into")


# Before debs: without the mirror the run ends at once, not after building the package.
@pytest.fixture(scope="module")
def chroot(mirror, debs, tmp_path_factory):
    t0 = time.monotonic()
    tarball = base_tarball()
    root = str(tmp_path_factory.mktemp("chroot"))
    run("tar", "-xf", tarball, "-C", root)
    mounts = []
    try:
        # Services are not started in a chroot (no systemd there anyway).
        with open(os.path.join(root, "usr/sbin/policy-rc.d"), "w") as f:
            f.write("#!/bin/sh\nexit 101\n")
        os.chmod(os.path.join(root, "usr/sbin/policy-rc.d"), 0o755)
        shutil.copy("/etc/resolv.conf", os.path.join(root, "etc/resolv.conf"))
        archives = os.path.join(CACHE, "apt-archives")
        os.makedirs(os.path.join(archives, "partial"), exist_ok=True)
        for src, dst, kind in (("proc", "proc", "proc"), (archives, "var/cache/apt/archives",
                                                          "bind")):
            target = os.path.join(root, dst)
            if kind == "proc":
                run("mount", "-t", "proc", "proc", target)
            else:
                run("mount", "--bind", src, target)
            mounts.append(target)
        os.makedirs(os.path.join(root, "tmp/debs"), exist_ok=True)
        for d in debs:
            shutil.copy(d, os.path.join(root, "tmp/debs"))
        env = {"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
               "LC_ALL": "C"}
        run("chroot", root, "apt-get", "update", "-q", env=env, timeout=900)
        run("chroot", root, "sh", "-c", "apt-get install -y -q --no-install-recommends "
            "/tmp/debs/*.deb", env=env, timeout=1800)
        print(f"chroot and apt install: {time.monotonic() - t0:.0f} s")
        yield root, env
    finally:
        for m in reversed(mounts):
            subprocess.run(["umount", "-l", m], timeout=60)
        if not any(os.path.ismount(m) for m in mounts):
            shutil.rmtree(root, ignore_errors=True)


def inside(root, path):
    return os.path.join(root, path.lstrip("/"))


def unit(root, name):
    for d in ("lib/systemd/system", "usr/lib/systemd/system"):
        p = os.path.join(root, d, name)
        if os.path.exists(p):
            return open(p).read()
    raise AssertionError(f"{name} not installed")


def test_files_where_the_units_expect_them(chroot):
    root, _ = chroot
    for name in ("tessd.service", "tessmgrd.service"):
        text = unit(root, name)
        for ln in text.splitlines():
            if ln.startswith(("ExecStart=", "ExecStartPre=", "ExecReload=")):
                argv = ln.split("=", 1)[1].lstrip("-+!@").split()
                if argv[0].startswith("/bin/kill"):
                    continue
                assert os.access(inside(root, argv[0]), os.X_OK), ln
                for a in argv[1:]:
                    if a.startswith("/etc/"):
                        assert os.path.isfile(inside(root, a)), ln
        # Enabled as Debian does (dh_installsystemd): the WantedBy= link.
        wanted = glob.glob(inside(root, f"/etc/systemd/system/*.wants/{name}"))
        assert wanted, f"{name} not enabled"
    for f in ("/usr/lib/tmpfiles.d/tessera.conf", "/usr/lib/sysusers.d/tessera.conf",
              "/etc/tessera/tessd.json", "/etc/tessera/tessmgrd.json",
              "/etc/tessera/tokens.json"):
        assert os.path.isfile(inside(root, f)), f
    conffiles = open(inside(root, "/var/lib/dpkg/info/tessera.conffiles")).read().split()
    assert {"/etc/tessera/tessd.json", "/etc/tessera/tessmgrd.json",
            "/etc/tessera/tokens.json"} <= set(conffiles), conffiles


def test_dpdk_plugins(chroot):
    """EAL loads the mempool driver and the PMDs from its plugin directory: shlibs cannot
    see them, the package names them (without ring mempools no mbuf pool is made)."""
    root, _ = chroot
    pmds = glob.glob(inside(root, "/usr/lib/*/dpdk/pmds-*/"))
    assert pmds, "no DPDK plugin directory"
    names = " ".join(os.listdir(pmds[0]))
    for so in ("librte_mempool_ring", "librte_net_tap", "librte_net_af_packet",
               "librte_net_vhost", "librte_net_virtio", "librte_net_memif"):
        assert so in names, (so, names)


def test_user_and_directories(chroot):
    root, env = chroot
    pw = run("chroot", root, "getent", "passwd", "tessera", env=env).stdout
    assert pw.split(":")[5] == "/var/lib/tessera/tessmgrd", pw
    uid = int(pw.split(":")[2])
    assert uid < 1000, pw  # a system user
    st = os.stat(inside(root, "/var/lib/tessera/tessmgrd"))
    assert st.st_uid == uid, "tmpfiles.d did not run in postinst"
    for d in ("/var/lib/tessera/tessd", "/var/log/tessera"):
        assert os.path.isdir(inside(root, d)), d
    # tessmgrd's group reads the token file, nobody else.
    st = os.stat(inside(root, "/etc/tessera/tokens.json"))
    assert st.st_mode & 0o777 == 0o640, oct(st.st_mode)


def test_check_passes_on_the_installed_examples(chroot):
    root, env = chroot
    r = run("chroot", root, "tessd", "-c", "/etc/tessera/tessd.json", "--check", env=env)
    assert "is valid" in r.stdout, r.stdout
    run("chroot", root, "tessmgrd", "-c", "/etc/tessera/tessmgrd.json", "--check", env=env)
    r = run("chroot", root, "tessctl", "--version", env=env)
    assert r.stdout.startswith("tessctl "), r.stdout


def test_man_pages_and_completion(chroot):
    root, _ = chroot
    for page in ("man1/tessctl.1", "man8/tessd.8", "man8/tessmgrd.8", "man5/tessd.json.5",
                 "man5/tessmgrd.json.5"):
        path = inside(root, f"/usr/share/man/{page}.gz")
        assert os.path.exists(path), page
    r = run("man", "-l", inside(root, "/usr/share/man/man1/tessctl.1.gz"),
            env={**os.environ, "MANWIDTH": "80"})
    assert "tessctl - control tessd and tessmgrd" in r.stdout
    assert os.path.isfile(inside(root, "/usr/share/bash-completion/completions/tessctl"))


def test_edited_config_survives_a_reinstall(chroot):
    root, env = chroot
    path = inside(root, "/etc/tessera/tessd.json")
    text = open(path).read()
    with open(path, "w") as f:
        f.write(text.replace("{", "{\n  \"ports\": [],", 1))
    run("chroot", root, "sh", "-c", "dpkg -i /tmp/debs/*.deb", env=env)
    assert "\"ports\": []," in open(path).read()
