# SPDX-License-Identifier: BSD-3-Clause
"""The control socket and tessctl against bad requests of every kind: each gets a clear error
with code and path, the connection or daemon survives, and nothing changes."""
import errno
import json
import os
import socket
import subprocess
import time

import pytest

import tess


@pytest.fixture
def td(cleanup, tmp_path):
    u = tess.uid()
    return tess.Tessd(cleanup, tmp_path,
                      ports=[tess.tap_port(n, f"p{n}{u}", k) for k, n in enumerate("abc")],
                      xconnects=[{"a": "a", "b": "b"}],
                      control={"max_request": 4096, "max_depth": 8, "max_clients": 4}).start()


class Client:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(5)
        self.s.connect(path)
        self.buf = b""

    def send(self, data):
        self.s.sendall(data if isinstance(data, bytes) else data.encode())

    def recv(self):
        while b"\n" not in self.buf:
            d = self.s.recv(65536)
            if not d:
                raise EOFError("closed")
            self.buf += d
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def call(self, obj):
        self.send(json.dumps(obj) + "\n")
        return self.recv()

    def closed(self):
        try:
            return self.s.recv(1) == b""
        except (ConnectionResetError, socket.timeout):
            return True


def err(resp):
    return resp["error"]["code"], resp["error"]["path"], resp["error"]["message"]


def test_requests_and_errors(td):
    c = Client(td.socket)
    r = c.call({"id": 1, "method": "status"})
    assert r["id"] == 1 and r["result"]["ports"] == 3
    r = c.call({"id": "s-1", "method": "xconnect.list"})
    assert r == {"id": "s-1", "result": [{"a": "a", "b": "b"}]}

    cases = [
        ("{bad json\n", errno.EBADMSG, "", "malformed JSON"),
        ('"just a string"\n', errno.EINVAL, "", "JSON object"),
        ('{"id": 2}\n', errno.EINVAL, "/method", "method must be"),
        ('{"id": 2, "method": "nope"}\n', errno.EOPNOTSUPP, "/method", "unknown method 'nope'"),
        ('{"id": 2, "method": "status", "params": {"x": 1}}\n', errno.EINVAL, "/params",
         "takes no params"),
        ('{"id": 2, "method": "status", "params": []}\n', errno.EINVAL, "/params", "object"),
        ('{"id": 2, "method": "status", "extra": 1}\n', errno.EINVAL, "/extra", "unknown key"),
        ('{"id": 2, "method": "xconnect.add", "params": {"a": "c"}}\n', errno.EINVAL,
         "/params/b", "missing required key"),
        ('{"id": 2, "method": "xconnect.add", "params": {"a": "c", "b": 5}}\n', errno.EINVAL,
         "/params/b", "expected string"),
        ('{"id": 2, "method": "xconnect.add", "params": {"a": "c", "b": "zz"}}\n', errno.ENOENT,
         "/params/b", "no port named 'zz'"),
        ('{"id": 2, "method": "xconnect.add", "params": {"a": "c", "b": "a"}}\n', errno.EBUSY,
         "/params/b", "already cross-connected"),
        ('{"id": 2, "method": "xconnect.add", "params": {"a": "c", "b": "c"}}\n', errno.EINVAL,
         "/params/b", "itself"),
        ('{"id": 2, "method": "xconnect.add", "params": {"a": "c", "b": "b", "c": 1}}\n',
         errno.EINVAL, "/params/c", "unknown key"),
        ('{"id": 2, "method": "xconnect.del", "params": {"port": "c"}}\n', errno.ENOENT,
         "/params/port", "not cross-connected"),
        ('{"id": 2, "method": "xconnect.del", "params": {"port": "a b"}}\n', errno.EINVAL,
         "/params/port", "not allowed"),
        ('{"id": 2, "method": "status", "params": ' + "[" * 9 + "]" * 9 + "}\n", errno.E2BIG,
         "", "the limit is 8"),
    ]
    for line, code, path, msg in cases:
        c.send(line)
        r = c.recv()
        assert "error" in r, (line, r)
        got = err(r)
        assert got[0] == code and got[1] == path and msg in got[2], (line, got)
    # An unknown key too long to quote whole still gets a well-formed answer.
    r = c.call({"id": 4, "method": "xconnect.add", "params": {"a": "c", "b": "b", "é" * 200: 1}})
    assert r["id"] == 4 and r["error"]["code"] == errno.EINVAL
    # Errors carry the request id when it could be read.
    assert c.call({"id": 99, "method": "nope"})["id"] == 99
    # Nothing changed, and the connection still works.
    assert c.call({"id": 3, "method": "xconnect.list"})["result"] == [{"a": "a", "b": "b"}]

    # Pipelined requests are answered in order; blank lines are ignored.
    c.send('{"id": 10, "method": "status"}\n\n{"id": 11, "method": "port.list"}\n')
    assert c.recv()["id"] == 10 and c.recv()["id"] == 11


def test_oversize_request_is_refused_and_closed(td):
    c = Client(td.socket)
    c.send('{"id": 1, "method": "status", "params": {"pad": "' + "x" * 5000)
    r = c.recv()
    assert err(r)[0] == errno.EMSGSIZE and "larger than 4096" in err(r)[2]
    assert c.closed()
    # Exactly at the limit is fine.
    c = Client(td.socket)
    line = '{"id": 1, "method": "xconnect.list"}'
    c.send(line + " " * (4096 - len(line)) + "\n")
    assert c.recv()["result"] == [{"a": "a", "b": "b"}]
    assert td.ctl("status")["ports"] == 3


def test_many_pipelined_requests_from_a_slow_reader(td):
    """Answers are held back while a client does not read, then all arrive in order."""
    c = Client(td.socket)
    n = 3000
    c.send("".join(json.dumps({"id": i, "method": "stats.get"}) + "\n" for i in range(n)))
    import time
    time.sleep(1)  # tessd stops answering once 1 MiB of answers waits unread
    assert td.ctl("status")["ports"] == 3  # and serves others meanwhile
    ids = [c.recv()["id"] for _ in range(n)]
    assert ids == list(range(n))


def test_client_limit(td):
    clients = [Client(td.socket) for _ in range(4)]
    extra = Client(td.socket)
    r = extra.recv()
    assert err(r)[0] == errno.EUSERS
    assert extra.closed()
    r = td.tessctl("status", check=False)
    assert r.returncode == 1 and "too many clients (max_clients is 4)" in r.stderr, r.stderr
    for c in clients:
        assert "result" in c.call({"id": 1, "method": "status"})
    for c in clients:
        c.s.close()
    tess.wait_for(lambda: td.tessctl("status", check=False).returncode == 0, 5, "a free slot")


def test_client_that_vanishes_mid_request(td):
    c = Client(td.socket)
    c.send('{"id": 1, "method": "sta')
    c.s.close()
    c = Client(td.socket)
    c.send('{"id": 1, "method": "stats.get"}\n')
    c.s.close()  # gone before reading the answer
    assert td.ctl("status")["ports"] == 3


def test_tessctl_errors_and_usage(td):
    r = td.tessctl("xconnect", "add", "c", "zz", check=False)
    assert r.returncode == 1
    assert "no port named 'zz'" in r.stderr and "(at /params/b)" in r.stderr
    r = td.tessctl("--json", "xconnect", "add", "c", "zz", check=False)
    assert r.returncode == 1 and json.loads(r.stdout)["error"]["code"] == errno.ENOENT
    r = td.tessctl("xconnect", "add", "a", check=False)
    assert r.returncode == 2 and "usage" in r.stderr
    r = td.tessctl("frobnicate", check=False)
    assert r.returncode == 2 and "unknown command" in r.stderr
    r = td.tessctl("stats", "--zero", check=False)
    assert r.returncode == 2
    r = td.tessctl("call", "xconnect.list", "{not json", check=False)
    assert r.returncode == 2 and "not JSON" in r.stderr
    r = td.tessctl("call", "xconnect.list")
    assert json.loads(r.stdout) == [{"a": "a", "b": "b"}]
    r = subprocess.run([tess.TESSCTL, "-s", "/nonexistent/x.sock", "status"],
                       capture_output=True, text=True)
    assert r.returncode == 1 and "is tessd running?" in r.stderr
    r = subprocess.run([tess.TESSCTL, "-t", "abc", "status"], capture_output=True, text=True)
    assert r.returncode == 2
    # The human tables.
    out = td.tessctl("port", "list").stdout
    assert out.splitlines()[0].split()[:3] == ["NAME", "ID", "DRIVER"] and "net_tap" in out
    out = td.tessctl("status").stdout
    assert "workers    1" in out and "ports      3" in out
    assert "xconnect.add" in td.tessctl("methods").stdout


def test_socket_mode(td):
    st = os.stat(td.socket)
    assert st.st_mode & 0o777 == 0o660
    # Made without changing tessd's umask (its other threads create files meanwhile; the
    # moment of bind itself is tests/unit/test_ctl_server.c's).
    mine = os.umask(0)
    os.umask(mine)
    with open(f"/proc/{td.proc.pid}/status") as f:
        umask = next(int(x.split()[1], 8) for x in f if x.startswith("Umask:"))
    assert umask == mine, oct(umask)


def test_schema_and_help_of_a_method(td):
    c = Client(td.socket)
    s = c.call({"id": 1, "method": "schema"})["result"]
    top = {f["key"]: f for f in s["config"]["fields"]}
    assert list(top) == ["eal", "control", "ports", "xconnects", "switch", "router", "dhcp", "dns",
                         "policers", "nat", "firewall"]
    methods = {m["method"]: m for m in s["methods"]}
    listed = [m["method"] for m in c.call({"id": 2, "method": "help"})["result"]]
    assert listed == [m["method"] for m in s["methods"]] and "schema" in methods
    # A method's params are the config's own schema where the API adds a config element.
    port_item = dict(top["ports"]["items"])
    assert methods["port.add"]["params"] == port_item and not methods["port.add"]["partial"]
    assert methods["port.set"]["params"] == port_item and methods["port.set"]["partial"]
    assert methods["status"]["params"] is None
    name = {f["key"]: f for f in port_item["fields"]}["name"]
    assert name["required"] and name["min_length"] == 1 and name["max_length"] == 31
    mtu = {f["key"]: f for f in port_item["fields"]}["mtu"]
    assert (mtu["type"], mtu["min"], mtu["max"], mtu["default"]) == ("integer", 68, 16110, 1500)
    for m in methods:
        r = c.call({"id": 3, "method": "help", "params": {"method": m}})["result"]
        assert r == methods[m], m
    r = c.call({"id": 4, "method": "help", "params": {"method": "nope.nope"}})
    assert err(r)[:2] == (errno.ENOENT, "/params/method")
    r = c.call({"id": 5, "method": "schema", "params": {"x": 1}})
    assert err(r)[:2] == (errno.EINVAL, "/params")


def test_edits_answer_log_and_undo(td):
    """Every add, set and del of a collection goes the same way: the answer, an INFO line,
    errors under the request's own /params path, and removing what was added gives the
    running config back as it was."""
    c = Client(td.socket)
    ids = iter(range(100, 1000))

    def call(method, params):
        r = c.call({"id": next(ids), "method": method, "params": params})
        assert "result" in r, (method, params, r)
        return r["result"]

    def fails(method, params):
        r = c.call({"id": next(ids), "method": method, "params": params})
        assert "error" in r, (method, params, r)
        return err(r)

    before = c.call({"id": 1, "method": "config.get"})["result"]
    tap = tess.tap_port("d", f"pd{tess.uid()}", 3)
    assert call("port.add", tap)["name"] == "d"
    assert fails("port.set", {"name": "d", "mac_limit": 5})[1] == "/params/mac_limit"
    assert fails("port.set", {"name": "d", "mode": "access", "group": "nope"})[:2] == (
        errno.ENOENT, "/params/group")
    assert call("xconnect.add", {"a": "c", "b": "d"}) == {"a": "c", "b": "d"}
    code, path, msg = fails("port.del", {"name": "d"})
    assert code == errno.EBUSY and "remove the xconnect first" in msg
    assert call("xconnect.del", {"port": "d"}) == {"a": "c", "b": "d"}

    g = call("group.add", {"name": "g1", "tenant": "t", "vlan": 10})
    assert g["name"] == "g1" and g["vlan"] == 10 and g["static_macs"] == []
    p = call("port.set", {"name": "d", "mode": "access", "group": "g1", "mac_limit": 5})
    assert p["name"] == "d" and p["port_id"] == 3
    # A nested collection (a group's static MACs): its element's errors are the request's.
    code, path, msg = fails("fdb.add", {"group": "g1", "mac": "02:00:00:00:00:09", "port": "c"})
    assert path == "/params/port" and "not in group" in msg
    sm = {"group": "g1", "mac": "02:00:00:00:00:09", "port": "d"}
    assert call("fdb.add", sm) == sm
    assert call("fdb.add", sm) == sm  # again: replaced, not doubled
    cfg = c.call({"id": 2, "method": "config.get"})["result"]
    assert cfg["switch"]["groups"][0]["static_macs"] == [{"mac": sm["mac"], "port": "d"}]
    assert call("fdb.del", {"group": "g1", "mac": sm["mac"]}) == {"group": "g1",
                                                                  "mac": sm["mac"]}
    assert call("port.del", {"name": "d"}) == {"name": "d"}
    assert call("group.del", {"name": "g1"}) == {"name": "g1"}

    v = call("vrf.add", {"name": "v1", "id": 7})
    assert v["name"] == "v1" and v["id"] == 7
    code, path, msg = fails("interface.add", {"name": "i1", "vrf": "nope", "port": "c"})
    assert path == "/params/vrf", (code, path, msg)
    assert call("vrf.del", {"name": "v1"}) == {"name": "v1"}

    assert c.call({"id": 3, "method": "config.get"})["result"] == before
    log = td.log()
    for line in ("port d added", "port d changed", "xconnect c <-> d added",
                 "xconnect c <-> d removed", "group g1 (tenant t, VLAN 10) added",
                 "group g1: static MAC 02:00:00:00:00:09 on port d",
                 "group g1: static MAC 02:00:00:00:00:09 removed", "port d removed",
                 "group g1 removed", "VRF v1 (id 7) added", "VRF v1 removed"):
        assert "tess.dp: " + line in log, line


def test_config_batch_stays_in_its_collections(td):
    """config.batch edits the collections of objects that modules serve: never the operator's
    /control and /eal (nor /ports), and a set or del names its element by keys it has."""
    c = Client(td.socket)
    ids = iter(range(100, 1000))

    def call(edits):
        return c.call({"id": next(ids), "method": "config.batch", "params": {"edits": edits}})

    assert "result" in call([{"op": "add", "array": "/switch/groups",
                              "item": {"name": "g1", "tenant": "t", "vlan": 10}}])
    before = c.call({"id": 1, "method": "config.get"})["result"]
    assert before["control"]["log_dirs"] and before["eal"]["args"] is not None
    for array in ("/control/log_dirs", "/control/port_drivers", "/control/port_dirs",
                  "/eal/args", "/eal/workers", "/ports", "/ports/0/allowed_macs"):
        for op in ("del", "set", "add"):
            r = call([{"op": op, "array": array, "match": {}, "item": {}}])
            assert "error" in r, (op, array, r)
            assert err(r)[:2] == (errno.EINVAL, "/params/edits/0/array"), (op, array, r)
    for match, msg in (({}, "one key or more"), (None, "one key or more"),
                       ({"bogus": 1}, "'bogus' is not a key"),
                       ({"name": "g1", "vlan ": 10}, "'vlan ' is not a key")):
        for op in ("del", "set"):
            edit = {"op": op, "array": "/switch/groups", "item": {"name": "g1", "vlan": 11}}
            if match is not None:
                edit["match"] = match
            r = call([edit])
            assert "error" in r, (op, match, r)
            code, path, message = err(r)
            assert (code, path) == (errno.EINVAL, "/params/edits/0/match"), (op, match, r)
            assert msg in message, (op, match, message)
    assert c.call({"id": 2, "method": "config.get"})["result"] == before
    r = call([{"op": "del", "array": "/switch/groups", "match": {"name": "g1"}}])
    assert r["result"] == {"edits": 1}


def test_config_batch_errors_name_their_edit_after_a_del(td):
    """An error in an element a batch added or replaced is reported at that edit, also when
    a later del of the same collection moved the element (it named the element's old place,
    one index off), and not at an edit whose element a later set replaced or del removed."""
    c = Client(td.socket)
    ids = iter(range(100, 1000))

    def call(edits):
        return c.call({"id": next(ids), "method": "config.batch", "params": {"edits": edits}})

    def vrf(name, vid):
        return {"op": "add", "array": "/router/vrfs", "item": {"name": name, "id": vid}}

    def dele(name):
        return {"op": "del", "array": "/router/vrfs", "match": {"name": name}}

    assert "result" in call([vrf("a", 5), vrf("b", 6), vrf("c", 7)])
    before = c.call({"id": 1, "method": "config.get"})["result"]
    # d (VRF id 5, a's) added at 3, then a deleted: d is at 2 when the commit is checked.
    r = call([vrf("d", 5), dele("b")])
    assert err(r)[:2] == (errno.EEXIST, "/params/edits/0/item/id"), r
    # Two deletes before it, of different places.
    r = call([vrf("d", 6), vrf("e", 9), dele("a"), dele("e")])
    assert err(r)[:2] == (errno.EEXIST, "/params/edits/0/item/id"), r
    # An element replaced by a later set: the set's edit is named, not the add's.
    r = call([vrf("d", 9), {"op": "set", "array": "/router/vrfs", "match": {"name": "d"},
                            "item": {"name": "d", "id": 7}}])
    assert err(r)[:2] == (errno.EEXIST, "/params/edits/1/item/id"), r
    # An added element deleted again: an error at its old place is another element's.
    r = call([vrf("d", 9), vrf("e", 5), dele("d")])
    assert err(r)[:2] == (errno.EEXIST, "/params/edits/1/item/id"), r
    assert c.call({"id": 2, "method": "config.get"})["result"] == before


def test_port_add_devargs_are_confined(cleanup, tmp_path):
    """Security review 2.1: a socket client must not make tessd (root) open files or
    host interfaces of its choosing through devargs. Only allowed drivers, and path-valued
    devargs only under allowed directories, whatever the path's spelling."""
    owned = f"/tmp/tess-owned-{tess.uid()}.pcap"
    cleanup.add(lambda: os.path.exists(owned) and os.unlink(owned))
    t = tess.Tessd(cleanup, tmp_path, control={"port_drivers": ["net_null", "net_vhost"]}).start()
    c = Client(t.socket)

    def refused(devargs, why):
        r = c.call({"id": 1, "method": "port.add", "params": {"name": "x", "devargs": devargs}})
        assert "error" in r, (devargs, r)
        code, path, msg = err(r)
        assert (code, path) == (errno.EPERM, "/params/devargs") and why in msg, (devargs, r)

    refused(f"net_pcap9,tx_pcap={owned}", "driver net_pcap9 is not allowed")
    refused("net_af_packet0,iface=lo", "driver net_af_packet0 is not allowed")
    refused("net_vhost0,iface=/tmp/x.sock", "not under an allowed directory")
    refused(f"net_vhost0,iface={tmp_path}/../../x.sock", "not under an allowed directory")
    refused("net_vhost0,iface=x.sock", "must be an absolute path")
    # A key that opens a host interface (net_tap's remote= mirrors a host NIC).
    refused("net_null0,size=64,remote=lo", "key remote of net_null0 is not allowed")
    assert not os.path.exists(owned) and t.ctl("status")["ports"] == 0
    assert t.ctl("status")["devargs_refused"] == 6

    # The harness allows the test's own temp directories: a socket there is fine.
    r = c.call({"id": 2, "method": "port.add",
                "params": {"name": "v", "devargs": f"net_vhost0,iface={tmp_path}/v.sock"}})
    assert r["result"]["name"] == "v", r

    # Allowed drivers and directories are tessd's own config, not the API's.
    t2 = tess.Tessd(cleanup, tmp_path, control={"port_drivers": ["net_pcap"],
                                                "port_dirs": [str(tmp_path)]}).start()
    c2 = Client(t2.socket)
    r = c2.call({"id": 3, "method": "port.add",
                 "params": {"name": "p", "devargs": f"net_pcap9,tx_pcap={owned}"}})
    assert err(r)[:2] == (errno.EPERM, "/params/devargs") and not os.path.exists(owned)
    out = os.path.join(str(tmp_path), "out.pcap")
    r = c2.call({"id": 4, "method": "port.add",
                 "params": {"name": "p", "devargs": f"net_pcap9,rx_iface=lo,tx_pcap={out}"}})
    assert r["result"]["name"] == "p", r


def test_idle_clients_are_dropped(cleanup, tmp_path):
    """Review 2.3: max_clients idle connections must not lock every other client out."""
    u = tess.uid()
    t = tess.Tessd(cleanup, tmp_path, ports=[tess.tap_port("a", f"i{u}", 0)],
                   control={"max_clients": 4, "idle_sec": 2}).start()
    idle = [Client(t.socket) for _ in range(4)]
    # Dropped once idle for idle_sec (the server looks once a second): tessctl then gets in.
    tess.wait_for(lambda: t.tessctl("status", check=False).returncode == 0, 2 + 30,
                  "tessctl status after the idle clients' timeout")
    for c in idle:
        assert c.closed()
    st = t.ctl("status")
    assert st["ctl_idle_dropped"] >= 4, st
    # A client that keeps talking is not idle.
    c = Client(t.socket)
    for i in range(4):
        assert "result" in c.call({"id": i, "method": "status"})
        time.sleep(1)
    assert "result" in c.call({"id": 9, "method": "status"})


def test_partial_lines_have_a_total_budget(cleanup, tmp_path):
    """Review 2.3: max_clients x max_request bytes of partial lines is bounded by
    control.max_buffered; the client that would pass it is refused and counted."""
    u = tess.uid()
    t = tess.Tessd(cleanup, tmp_path, ports=[tess.tap_port("a", f"b{u}", 0)],
                   control={"max_clients": 8, "max_request": 65536,
                            "max_buffered": 100000}).start()
    a, b = Client(t.socket), Client(t.socket)
    a.send('{"id": 1, "method": "status", "params": {}' + " " * 60000)
    assert t.ctl("status")["ctl_buffer_refused"] == 0
    b.send('{"id": 2, "method": "status"' + " " * 60000)
    r = b.recv()
    assert err(r)[0] == errno.ENOBUFS and "control.max_buffered" in err(r)[2], r
    assert b.closed()
    assert t.ctl("status")["ctl_buffer_refused"] == 1
    a.send("}\n")  # the first one's request completes and is answered
    assert a.recv()["id"] == 1


def test_lock_file_symlink_is_not_followed(cleanup, tmp_path):
    """Review 2.3: a symlink planted as the lock file (world-writable socket directory) must
    not make tessd truncate or write its target."""
    u = tess.uid()
    t = tess.Tessd(cleanup, tmp_path, ports=[tess.tap_port("a", f"l{u}", 0)])
    victim = os.path.join(tmp_path, "victim")
    open(victim, "w").write("precious\n")
    os.symlink(victim, t.socket + ".lock")
    t.start(wait=False)
    tess.wait_for(lambda: t.proc.poll() is not None or os.path.exists(t.socket), 60,
                  "tessd to refuse or serve")
    assert open(victim).read() == "precious\n"
    assert t.proc.wait(30) == 1
    assert f"{t.socket}.lock" in t.log(), t.log()
    assert not os.path.exists(t.socket)


def test_socket_group_and_mode(cleanup, tmp_path):
    """The socket gets control.mode from the start and control.group through its own file,
    not a path looked up again (review 2.3)."""
    u = tess.uid()
    t = tess.Tessd(cleanup, tmp_path, ports=[tess.tap_port("a", f"g{u}", 0)],
                   control={"mode": "0640", "group": "adm"}).start()
    st = os.stat(t.socket)
    assert st.st_mode & 0o777 == 0o640 and st.st_gid == 4, oct(st.st_mode)
    assert t.ctl("status")["ctl_clients"] == 1
