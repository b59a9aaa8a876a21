# SPDX-License-Identifier: BSD-3-Clause
"""Startup config: every bad config is refused with its JSON path and tessd does not start;
the running config is shown and saved atomically, and a saved config starts tessd again."""
import errno
import json
import os
import subprocess

import pytest

import tess


def base_config(tmp_path, u):
    return {
        "eal": {"workers": [1], "memory_mb": 256, "file_prefix": f"cfg{u}", "in_memory": True},
        "control": {"socket": os.path.join(tmp_path, f"c{u}.sock")},
        "ports": [{"name": "a", "devargs": f"net_tap0,iface=ca{u}"},
                  {"name": "b", "devargs": f"net_tap1,iface=cb{u}"}],
        "xconnects": [{"a": "a", "b": "b"}],
    }


def run_tessd(tmp_path, config, *extra, raw=None):
    path = os.path.join(tmp_path, "bad.json")
    with open(path, "w") as f:
        f.write(raw if raw is not None else json.dumps(config))
    return subprocess.run([tess.TESSD, "-c", path, *extra], capture_output=True, text=True,
                          timeout=60)


def edit(cfg, path, value):
    """Sets (or with value None, deletes) the item at a JSON-pointer-like path."""
    keys = [int(k) if k.isdigit() else k for k in path.strip("/").split("/")]
    node = cfg
    for k in keys[:-1]:
        node = node.setdefault(k, {}) if isinstance(node, dict) else node[k]
    if value is None:
        del node[keys[-1]]
    else:
        node[keys[-1]] = value
    return cfg


# (edit path, new value, expected error path, part of the message)
BAD = [
    ("/eal/workers", [], "/eal/workers", "has 0 items"),
    ("/eal/workers", "1", "/eal/workers", "expected array, got string"),
    ("/eal/workers", [1, -1], "/eal/workers/1", "out of range"),
    ("/eal/memory_mb", 10, "/eal/memory_mb", "out of range (64 to"),
    ("/eal/hugepages", "always", "/eal/hugepages", "not one of: auto, on, off"),
    ("/eal/in_memory", "yes", "/eal/in_memory", "expected boolean"),
    ("/eal/bogus", 1, "/eal/bogus", "unknown key"),
    ("/control/socket", "relative.sock", "/control/socket", "absolute path"),
    ("/control/mode", "0888", "/control/mode", "'8' is not allowed"),
    ("/control/mode", "0669", "/control/mode", "'9' is not allowed"),
    ("/control/mode", "0666", "/control/mode", "world-writable"),
    ("/control/mode", "0777", "/control/mode", "world-writable"),
    # One longest request (and its newline) while every other client holds its base buffer.
    ("/control/max_buffered", 65536, "/control/max_buffered", "at least 1306625"),
    ("/control/max_buffered", 1048576, "/control/max_buffered", "at least 1306625"),
    ("/control/max_clients", 4096, "/control/max_buffered", "at least 17821697"),
    ("/control/idle_sec", 0, "/control/idle_sec", "out of range"),
    ("/control/max_depth", 0, "/control/max_depth", "out of range"),
    ("/control/group", "no-such-group-x", "/control/group", "no group named"),
    ("/ports/0/name", "a b", "/ports/0/name", "' ' is not allowed"),
    ("/ports/0/name", "x" * 32, "/ports/0/name", "out of range (1 to 31"),
    ("/ports/1/name", "a", "/ports/1/name", "duplicate port name 'a'"),
    ("/ports/1/devargs", "net_tap0,iface=zz", "/ports/1/devargs", "already port 'a'"),
    ("/ports/0/devargs", None, "/ports/0/devargs", "missing: a port needs devargs"),
    ("/ports/0/mtu", 20000, "/ports/0/mtu", "out of range"),
    ("/ports/0/mtu", "1500", "/ports/0/mtu", "expected integer, got string"),
    ("/ports/0/rx_desc", 1000, "/ports/0/rx_desc", "not a power of two"),
    ("/ports/0/speed", 10, "/ports/0/speed", "unknown key"),
    ("/xconnects/0/b", "c", "/xconnects/0/b", "no port named 'c'"),
    ("/xconnects/0/b", "a", "/xconnects/0/b", "cross-connected to itself"),
    ("/xconnects/1", {"a": "b", "b": "a"}, "/xconnects/1/a", "already cross-connected"),
    ("/surprise", True, "/surprise", "unknown key"),
    # host vswitch
    ("/switch/groups", [{"name": "g", "vlan": 0}], "/switch/groups/0/vlan", "out of range"),
    ("/switch/groups", [{"name": "g"}], "/switch/groups/0/vlan", "missing required key"),
    ("/switch/groups", [{"name": "g", "vlan": 5}, {"name": "h", "vlan": 5}],
     "/switch/groups/1/vlan", "VLAN 5 is already group 'g'"),
    ("/switch/groups", [{"name": "g", "vlan": 5}, {"name": "g", "vlan": 6}],
     "/switch/groups/1/name", "duplicate group name"),
    ("/switch/groups", [{"name": "g", "vlan": 5, "static_macs": [{"mac": "02:00:00:00:00:01",
                                                                 "port": "a"}]}],
     "/switch/groups/0/static_macs/0/port", "port 'a' is not in group 'g'"),
    ("/switch/groups", [{"name": "g", "vlan": 5, "static_macs": [{"mac": "ff:ff:ff:ff:ff:ff",
                                                                 "port": "a"}]}],
     "/switch/groups/0/static_macs/0/mac", "multicast"),
    ("/switch/aging_sec", -1, "/switch/aging_sec", "out of range"),
    ("/switch/fdb_size", 10, "/switch/fdb_size", "out of range"),
    ("/ports/0/mode", "hybrid", "/ports/0/mode", "not one of: none, access, trunk"),
    ("/ports/0/mode", "access", "/ports/0/group", "an access port needs a group"),
    ("/ports/0/group", "g", "/ports/0/group", "only access ports have a group"),
    ("/ports/0/mode", "trunk", "/ports/0/groups", "a trunk carries some groups"),
    ("/ports/0/allowed_macs", ["02:00:00:00:00:01"], "/ports/0/allowed_macs",
     "anti-spoofing is for access ports"),
    ("/ports/0/allowed_ips", ["300.1.1.1"], "/ports/0/allowed_ips/0", "not an IPv4 address"),
    ("/ports/0/anti_spoof", "maybe", "/ports/0/anti_spoof", "not one of"),
]


@pytest.mark.parametrize("path,value,err_path,msg", BAD, ids=[f"{b[0]}={b[1]!r}"[:40] for b in BAD])
def test_bad_config_is_refused_with_its_path(tmp_path, path, value, err_path, msg):
    u = tess.uid()
    cfg = base_config(tmp_path, u)
    if path == "/xconnects/1":
        cfg["xconnects"].append(value)
    else:
        edit(cfg, path, value)
    r = run_tessd(tmp_path, cfg)
    assert r.returncode == 1, r
    assert f"{err_path}: " in r.stderr and msg in r.stderr, r.stderr
    assert not os.path.exists(cfg["control"]["socket"])
    # --check reports the same without starting anything.
    r = run_tessd(tmp_path, cfg, "--check")
    assert r.returncode == 1 and msg in r.stderr


def test_syntax_errors_and_files(tmp_path):
    r = run_tessd(tmp_path, None, raw='{\n  "ports": [\n    {"name": "a",}\n  ]\n}\n')
    assert r.returncode == 1 and "line 3" in r.stderr, r.stderr
    r = run_tessd(tmp_path, None, raw='{"eal": {}, "eal": {}}')
    assert r.returncode == 1 and "duplicate" in r.stderr
    r = run_tessd(tmp_path, None, raw='[]')
    assert r.returncode == 1 and "expected an object" in r.stderr
    r = subprocess.run([tess.TESSD, "-c", os.path.join(tmp_path, "none.json")],
                       capture_output=True, text=True)
    assert r.returncode == 1 and "cannot open" in r.stderr
    r = subprocess.run([tess.TESSD, "--bogus"], capture_output=True, text=True)
    assert r.returncode == 2 and "usage" in r.stderr


def test_errors_found_at_start(tmp_path):
    """Errors only the running system can find still name the config path."""
    u = tess.uid()
    cases = [
        (("eal", "workers"), [7], "/eal/workers/0: CPU 7 is not available"),
        (("ports", 0, "devargs"), "net_nosuchdriver0", "/ports/0/devargs: cannot probe"),
        (("ports", 0, "mtu"), 9000, "/ports/0/mtu: driver net_tap takes frames up to 1522"),
        (("ports", 0, "rx_queues"), 64, "/ports/0/rx_queues: driver net_tap offers at most"),
    ]
    for keys, value, msg in cases:
        cfg = base_config(tmp_path, u)
        node = cfg
        for k in keys[:-1]:
            node = node[k]
        node[keys[-1]] = value
        r = run_tessd(tmp_path, cfg)
        assert r.returncode == 1, (keys, r.stderr)
        assert msg in r.stderr, (keys, r.stderr)
        assert not os.path.exists(cfg["control"]["socket"])
    # vhost-user needs a queue per worker.
    cfg = base_config(tmp_path, u)
    cfg["eal"]["workers"] = [1, 1]
    cfg["ports"][0]["devargs"] = f"net_vhost0,iface={tmp_path}/v{u}.sock"
    r = run_tessd(tmp_path, cfg)
    assert r.returncode == 1 and "needs one per worker (2); add queues=N" in r.stderr, r.stderr


def test_check_accepts_valid_config(tmp_path):
    r = run_tessd(tmp_path, base_config(tmp_path, tess.uid()), "--check")
    assert r.returncode == 0 and "is valid" in r.stdout
    # Without -c: every default.
    r = subprocess.run([tess.TESSD, "--check"], capture_output=True, text=True)
    assert r.returncode == 0 and "config (defaults) is valid" in r.stdout, r


def test_show_and_save_running_config(cleanup, tmp_path):
    u = tess.uid()
    ports = [tess.tap_port(n, f"s{n}{u}", k) for k, n in enumerate("abcd")]
    t = tess.Tessd(cleanup, tmp_path, ports=ports,
                   xconnects=[{"a": "a", "b": "b"}]).start()
    shown = t.ctl("config", "show")
    assert shown["xconnects"] == [{"a": "a", "b": "b"}]
    assert shown["ports"][0]["mtu"] == 1500  # defaults are spelled out
    assert shown["control"]["socket"] == t.socket

    t.ctl("xconnect", "add", "c", "d")
    t.ctl("xconnect", "del", "a")
    before = os.stat(t.config_path).st_ino
    assert t.ctl("config", "save") == {"path": t.config_path}
    assert os.stat(t.config_path).st_ino != before  # replaced by rename, not rewritten
    saved = json.load(open(t.config_path))
    assert saved == t.ctl("config", "show")
    assert saved["xconnects"] == [{"a": "c", "b": "d"}]
    assert [f for f in os.listdir(tmp_path) if f.startswith(".")] == []

    other = os.path.join(tmp_path, "copy.json")
    assert t.ctl("config", "save", other) == {"path": other}
    # Mode and owner of an existing file carry over.
    os.chmod(other, 0o600)
    t.ctl("config", "save", other)
    assert os.stat(other).st_mode & 0o777 == 0o600

    def refused(path, msg):
        r = t.tessctl("config", "save", path, check=False)
        assert r.returncode == 1 and "/params/path" in r.stderr and msg in r.stderr, r.stderr

    refused("relative.json", "absolute path to a .json file")
    refused(os.path.join(tmp_path, "x.txt"), ".json file")
    refused("/nonexistent-dir/x.json", "directory of /nonexistent-dir/x.json")
    refused("/etc/passwd.json", "saved in the directory of the startup config")
    target = os.path.join(tmp_path, "target.json")
    open(target, "w").write("{}")
    os.symlink(target, os.path.join(tmp_path, "link.json"))
    refused(os.path.join(tmp_path, "link.json"), "not a regular file")
    assert open(target).read() == "{}"
    assert t.stop() == 0

    # The saved config starts tessd again, with the runtime change in place.
    t2 = tess.Tessd(cleanup, tmp_path)
    t2.config = saved
    t2.socket = saved["control"]["socket"]
    t2.start()
    assert t2.ctl("xconnect", "list") == [{"a": "c", "b": "d"}]
    assert t2.stop() == 0


def test_save_overwrites_only_tessd_configs(cleanup, tmp_path):
    """Review 2.2: config.save into the startup config's directory (say /etc/tessera) must not
    replace another program's JSON file there (tokens.json, tessmgrd.json)."""
    u = tess.uid()
    t = tess.Tessd(cleanup, tmp_path, ports=[tess.tap_port("a", f"o{u}", 0)]).start()
    tokens = os.path.join(tmp_path, "tokens.json")
    text = '{"tokens": [{"name": "admin", "role": "provider", "token": "x"}]}\n'
    open(tokens, "w").write(text)
    r = t.tessctl("--json", "config", "save", tokens, check=False)
    assert r.returncode == 1, r.stdout
    e = json.loads(r.stdout)["error"]
    assert e["code"] == errno.EPERM and e["path"] == "/params/path", e
    assert "not a tessd config" in e["message"], e
    assert open(tokens).read() == text
    # Not JSON at all: refused the same way.
    junk = os.path.join(tmp_path, "junk.json")
    open(junk, "w").write("not json")
    r = t.tessctl("config", "save", junk, check=False)
    assert r.returncode == 1 and "not a tessd config" in r.stderr, r.stderr
    assert open(junk).read() == "not json"
    # A new file, or an earlier tessd config, may be written.
    fresh = os.path.join(tmp_path, "fresh.json")
    assert t.ctl("config", "save", fresh) == {"path": fresh}
    assert t.ctl("config", "save", fresh) == {"path": fresh}
    assert json.load(open(fresh)) == t.ctl("config", "show")
    assert t.stop() == 0
