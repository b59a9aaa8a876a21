# SPDX-License-Identifier: BSD-3-Clause
"""tessctl's bash completion (mgmt/tessctl/completion/tessctl, README "Man pages and
completion"): the function is sourced in bash with COMP_WORDS/COMP_CWORD set, as readline
would, and COMPREPLY printed. Commands and options come from tessctl's table and tessd's
schema; names from a running tessd and tessmgrd; a dead or silent daemon costs at most
about a second."""
import os
import socket
import subprocess
import time

import installed
import mgr
import tess

SCRIPT = os.path.join(os.path.dirname(__file__), "..", "..", "mgmt", "tessctl", "completion",
                      "tessctl")


def complete(*words, env=None):
    """COMPREPLY for the command line words (the last one is being completed)."""
    script = (f'source {SCRIPT}\n'
              f'COMP_WORDS=({" ".join(_q(w) for w in (tess.TESSCTL,) + words)})\n'
              f'COMP_CWORD={len(words)}\n'
              '_tessctl\nprintf "%s\\n" "${COMPREPLY[@]}"\n')
    r = subprocess.run(["bash", "--norc", "-c", script], capture_output=True, text=True,
                       timeout=30, env={**os.environ, **(env or {})})
    assert r.returncode == 0 and r.stderr == "", r.stderr
    return [x for x in r.stdout.split("\n") if x]


def _q(w):
    return "'" + w.replace("'", "'\\''") + "'"


def test_static_commands_and_options():
    first = complete("")
    for c in ("status", "port", "group", "vrf", "route", "nat", "firewall", "site", "tenant",
              "desktop", "help"):
        assert c in first, first
    assert len(first) == len(set(first))
    assert complete("por") == ["port"]
    assert set(complete("port", "")) >= {"list", "add", "add-vhost", "set", "del"}
    assert set(complete("--")) >= {"--socket", "--mgr", "--token", "--json", "--timeout"}
    assert set(complete("stats", "--")) == {"--reset", "--vrf", "--tenants", "--help"}
    # tessmgrd's subcommands and options come from the command's usage text.
    assert set(complete("desktop", "")) == {"list", "show", "create", "start", "stop",
                                            "reboot", "delete", "connect", "migrate", "assign",
                                            "console"}
    assert set(complete("user", "")) == {"list", "show", "add", "set", "del"}
    assert set(complete("desktop", "assign", "7", "--")) == {"--user", "--none"}
    assert set(complete("desktop", "console", "7", "--")) == {"--type"}
    assert set(complete("desktop", "migrate", "7", "--")) == {"--to", "--live", "--wait"}
    # add|set's usage is made from the object's schema, with tessctl's own options.
    assert set(complete("site", "")) == {"list", "show", "del", "add", "set"}
    assert set(complete("quota", "")) == {"list", "show", "del", "hosts", "add", "set"}
    assert set(complete("host", "add", "h1", "--")) >= {"--site", "--uri", "--test-host",
                                                        "--memory-mb", "--max-ports"}
    # rates set's options: the rates' schema's and tessctl's own.
    assert set(complete("rates", "")) == {"get", "history", "set"}
    assert set(complete("rates", "set", "--")) >= {"--vcpu-hour", "--gb-out", "--pcpu-hour",
                                                   "--mode", "--model", "--no-model", "--file"}
    assert "--models" not in complete("rates", "set", "--")  # not an option: --model is
    assert "--vcpu-hour" not in complete("rates", "get", "--")


def test_names_from_tessd(cleanup, tmp_path):
    t = tess.Tessd(cleanup, tmp_path, hugepages="off").start()
    g, v = f"g{tess.uid()}"[:15], f"v{tess.uid()}"[:15]
    t.tessctl("group", "add", g, "--vlan", "100")
    t.tessctl("vrf", "add", v, "--id", "7")
    s = ("-s", t.socket)
    assert complete(*s, "group", "del", "") == [g]
    assert complete(*s, "vrf", "set", v[:3]) == [v]
    assert complete(*s, "stats", "--vrf", "") == [v]
    # A schema command's options, from the running tessd's params schema.
    opts = complete(*s, "port", "add", "p", "dev", "--")
    assert {"--mtu", "--rx-queues", "--promiscuous", "--no-promiscuous", "--help"} <= set(opts)
    # TESSD_SOCKET works like -s.
    assert complete("group", "del", "", env={"TESSD_SOCKET": t.socket}) == [g]


def test_names_from_tessmgrd(cleanup, tmp_path):
    m = mgr.Mgr(cleanup, tmp_path).start()
    m.site()
    m.test_host("h1", vlans=(100,))
    m.ok("POST", "tenants", {"name": "acme", "org_id": "org-a", "datacenter": "paris",
                             "vlan": 100, "vlan_name": "acme-net"})
    s = ("-m", m.url, "-T", mgr.PROVIDER)
    assert complete(*s, "tenant", "show", "") == ["acme"]
    assert complete(*s, "host", "del", "") == ["h1"]
    assert complete(*s, "desktop", "migrate", "1", "--to", "") == ["h1"]
    assert complete(*s, "host", "add", "h2", "--site", "") == ["paris"]
    # The token from the environment, as tessctl itself takes it.
    assert complete("-m", m.url, "tenant", "del", "a",
                    env={"TESSMGR_TOKEN": mgr.PROVIDER}) == ["acme"]


def test_dead_or_silent_daemon_does_not_hang(tmp_path):
    t0 = time.monotonic()
    assert complete("-s", str(tmp_path / "none.sock"), "port", "del", "") == []
    assert time.monotonic() - t0 < 2
    # A socket that accepts and never answers: tessctl gives up after a second.
    path = str(tmp_path / "silent.sock")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(4)
    lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lst.bind(("127.0.0.1", 0))
    lst.listen(4)
    try:
        t0 = time.monotonic()
        assert complete("-s", path, "port", "del", "") == []
        assert time.monotonic() - t0 < 3
        t0 = time.monotonic()
        url = f"http://127.0.0.1:{lst.getsockname()[1]}"
        assert complete("-m", url, "-T", "x", "tenant", "show", "") == []
        assert time.monotonic() - t0 < 3
    finally:
        srv.close()
        lst.close()


def test_installed_into_completionsdir(tmp_path):
    installed.install(tmp_path)
    o = installed.options()
    found = [os.path.join(root, f) for root, _, files in os.walk(str(tmp_path)) for f in files
             if root.endswith("bash-completion/completions") and f == "tessctl"]
    assert found and found[0].startswith(os.path.join(str(tmp_path), o["prefix"].lstrip("/"))), \
        found
