# SPDX-License-Identifier: BSD-3-Clause
"""NAT44 logging (nat.logging): a line per session created and deleted, or per port block
allocated and freed, for two tenants with the same private address (test_nat.py's
topology); rotation by size; a ring too small for a burst counts its losses; a bad path is
refused with nothing applied."""
import calendar
import errno
import os
import re
import threading
import time

import tess
from test_nat import IN_IP, NET_IP, POOL, POOL_ADDRS, TENANTS, NatTopo, nat_instance

TS = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"
EP = r"(\d+\.\d+\.\d+\.\d+):(\d+)"
SESSION = re.compile(rf"^({TS}) ([CD]) (tcp|udp|icmp) (\S+) (\S+) {EP} {EP} {EP}( \d+\.\d{{3}})?$")
END = re.compile(rf"^({TS}) E - - - stopped$")
BLOCK = re.compile(rf"^({TS}) ([AF]) - (\S+) (\S+) (\d+\.\d+\.\d+\.\d+) {EP}-(\d+)$")

# Raw UDP datagrams from one inside address, a new source port each: a session each.
BURST = r"""
import socket, struct, sys
src, dst, first, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)
for i in range(n):
    s.sendto(struct.pack("!HHHH", first + i, 9, 8, 0), (dst, 0))
"""

SPARE = {f"203.0.113.{i}" for i in range(32, 36)}
SHORT = {"udp": 2, "udp_single": 2, "tcp_transitory": 2}


def topo(cleanup, tmp_path, logging, **inst_kw):
    kw = dict(SHORT, **inst_kw)
    return NatTopo(cleanup, tmp_path, instances=[nat_instance(t, **kw) for t in TENANTS],
                   nat_kw={"logging": logging}, ifprefix="L",
                   control={"log_dirs": [str(tmp_path)]})


def lines(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        data = f.read()
    assert data == "" or data.endswith("\n"), data[-200:]
    return data.splitlines()


def wait_lines(path, pred, timeout=15):
    """The file's lines once pred(lines) holds (asserted within timeout)."""
    end = time.time() + timeout
    while True:
        got = lines(path)
        if pred(got) or time.time() > end:
            assert pred(got), "\n".join(got)
            return got
        time.sleep(0.2)


def settled(t, timeout=15):
    """nat.log once nothing waits (backlog 0) and its counters stay the same a while."""
    end, last = time.time() + timeout, None
    while True:
        time.sleep(0.3)
        st = t.pe.ctl("nat", "log")
        key = (st["records"], st["lost"], st["write_errors"])
        if (st["backlog"] == 0 and key == last) or time.time() > end:
            return st
        last = key if st["backlog"] == 0 else None


def sessions(ls, ev):
    out = []
    for ln in ls:
        m = SESSION.match(ln)
        assert m or BLOCK.match(ln) or END.match(ln), ln
        if m and m.group(2) == ev:
            out.append(m)
    return out


def test_sessions_created_and_deleted_per_tenant(cleanup, tmp_path):
    """Both tenants' 10.0.0.10 open a UDP and a TCP session from the same port: a creation
    line each, with its own tenant, its pool address and the destination; after the short
    timeouts a deletion line each, with its duration. A bad path is refused with its JSON
    path and nothing applied."""
    path = f"{tmp_path}/nat.log"
    t = topo(cleanup, tmp_path, {"path": path, "flush_ms": 20})
    t.server("inet", f"tcp:{NET_IP}:8000", f"udp:{NET_IP}:8001")
    t0 = time.time()
    for proto, port in (("udp", 8001), ("tcp", 8000)):
        t.clients([("acme", proto, NET_IP, port, 40000), ("bravo", proto, NET_IP, port, 40000)])
    ls = wait_lines(path, lambda ls: len(sessions(ls, "C")) >= 4)
    created = {(m.group(4), m.group(3)): m for m in sessions(ls, "C")}
    assert len(sessions(ls, "C")) == 4, ls
    for tenant in TENANTS:
        for proto, port in (("udp", 8001), ("tcp", 8000)):
            m = created[(tenant, proto)]
            assert m.group(5) == tenant  # the inside VRF
            assert (m.group(6), m.group(7)) == (IN_IP, "40000")
            assert m.group(8) in POOL_ADDRS[tenant]
            assert (m.group(10), m.group(11)) == (NET_IP, str(port))
            stamp = calendar.timegm(time.strptime(m.group(1)[:19], "%Y-%m-%dT%H:%M:%S"))
            assert abs(stamp - t0) < 10, m.group(1)  # UTC
    ls = wait_lines(path, lambda ls: len(sessions(ls, "D")) >= 4)
    deleted = sessions(ls, "D")
    assert len(deleted) == 4, ls
    for m in deleted:
        c = created[(m.group(4), m.group(3))]
        assert m.group(6, 7, 8, 9, 10, 11) == c.group(6, 7, 8, 9, 10, 11)
        assert 1.5 <= float(m.group(12)) <= 8, m.group(0)  # idle 2 s, the scan each second
    st = t.pe.ctl("nat", "log")
    assert st["records"] == 8 and st["lost"] == 0 and st["write_errors"] == 0, st
    assert st["bytes"] == os.path.getsize(path), st
    assert t.pe.ctl("nat", "stats")["log"]["records"] == 8
    assert "records 8, lost 0" in t.pe.tessctl("nat", "log").stdout

    # bravo's log off (its limits kept, so its instance too): acme's sessions alone logged.
    r = t.call("nat.instance.set", nat_instance("bravo", log=False, **SHORT))
    assert "result" in r, r
    t.clients([("acme", "udp", NET_IP, 8001, 40001), ("bravo", "udp", NET_IP, 8001, 40001)])
    ls = wait_lines(path, lambda ls: len(sessions(ls, "C")) >= 5)
    time.sleep(0.3)
    assert [m.group(4) for m in sessions(lines(path), "C")[4:]] == ["acme"], lines(path)

    before = t.call("config.get", {})["result"]
    for bad in (f"{tmp_path}/nodir/nat.log", "rel/nat.log", str(tmp_path)):
        r = t.call("nat.log.set", {"path": bad})
        assert r["error"]["path"] == "/params/path", r
    os.symlink(f"{tmp_path}/elsewhere", f"{tmp_path}/link.log")
    r = t.call("nat.log.set", {"path": f"{tmp_path}/link.log", "mode": "port-blocks"})
    assert r["error"]["path"] == "/params/path", r
    r = t.call("nat.log.set", {"path": path, "ring_size": 1 << 30})
    assert r["error"]["path"] == "/params/ring_size", r
    assert t.call("config.get", {})["result"] == before
    assert t.pe.ctl("nat", "log")["mode"] == "sessions"


def test_port_blocks_then_rotation(cleanup, tmp_path):
    """port-blocks: one allocation line per subscriber however many sessions it opens, and
    a free line once its last session is gone; no session lines. Then (a commit) sessions
    with a tiny max_file_mb: the file rotates into .1 and .2 only (keep_files 2), every
    file holds whole lines within the size, and the lines kept are the last ones made, in
    order, none missing."""
    path = f"{tmp_path}/blocks.log"
    t = topo(cleanup, tmp_path, {"path": path, "mode": "port-blocks", "flush_ms": 20})
    t.server("inet", f"udp:{NET_IP}:8001")
    jobs = [(w, "udp", NET_IP, 8001, 41000 + i) for w in TENANTS for i in range(3)]
    t.clients(jobs)
    ls = wait_lines(path, lambda ls: len(ls) >= 2)
    time.sleep(0.3)
    ls = lines(path)
    assert len(ls) == 2 and not sessions(ls, "C"), ls
    alloc = {BLOCK.match(ln).group(3): BLOCK.match(ln) for ln in ls}
    for w in TENANTS:
        m = alloc[w]
        assert m.group(2) == "A" and m.group(4) == w and m.group(5) == IN_IP, m.group(0)
        assert m.group(6) in POOL_ADDRS[w]
        assert int(m.group(8)) - int(m.group(7)) == 511  # the default block_size
    ls = wait_lines(path, lambda ls: len(ls) >= 4, timeout=20)
    freed = [BLOCK.match(ln) for ln in ls[2:]]
    assert sorted(m.group(3) for m in freed) == list(TENANTS), ls
    for m in freed:
        assert m.group(2) == "F" and m.group(5, 6, 7, 8) == alloc[m.group(3)].group(5, 6, 7, 8)

    # Sessions now, to a file about to pass 1 MiB (the smallest max_file_mb), in new rings of
    # another size: one rotation, .1 the full file, .2 the former .1, the former .2 gone.
    rot = f"{tmp_path}/rot.log"
    mib = 1 << 20
    with open(rot, "w") as f:
        f.write(("x" * 99 + "\n") * (mib // 100) + "y" * 30 + "\n")
    full = os.path.getsize(rot)  # a line short of 1 MiB
    for i in (1, 2):
        with open(f"{rot}.{i}", "w") as f:
            f.write(f"old{i}\n")
    r = t.call("nat.log.set", {"path": rot, "max_file_mb": 1, "keep_files": 2,
                               "flush_ms": 20, "ring_size": 1000})
    assert "result" in r, r
    assert END.match(lines(path)[-1]), lines(path)  # port-blocks ended: open blocks end here
    n = 60
    t.ns["acme"].run("/usr/bin/python3", "-c", BURST, IN_IP, NET_IP, "42000", str(n))
    end = time.time() + 20
    while t.pe.ctl("nat", "log")["records"] < 4 + n and time.time() < end:
        time.sleep(0.2)
    st, ls = t.pe.ctl("nat", "log"), lines(rot)
    assert st["lost"] == 0 and st["rotations"] == 1 and st["write_errors"] == 0, st
    assert lines(f"{rot}.2") == ["old1"] and not os.path.exists(f"{rot}.3")
    assert os.path.getsize(f"{rot}.1") == full and os.path.getsize(rot) <= mib
    assert oct(os.stat(rot).st_mode & 0o777) == "0o600"
    ports = [int(m.group(7)) for m in sessions(ls, "C")]
    assert ports == list(range(42000, 42000 + n)), ls  # D lines (udp_single 2 s) displace none

    # The path is confined to control.log_dirs, checked by the API (EPERM, its JSON path).
    for bad in ("/etc/shadow", "/tmp/nat.log"):
        r = t.call("nat.log.set", {"path": bad, "max_file_mb": 1, "keep_files": 1})
        assert r["error"]["path"] == "/params/path" and r["error"]["code"] == errno.EPERM, r
    assert t.pe.ctl("nat", "log")["path"] == rot


def test_small_ring_counts_what_it_loses(cleanup, tmp_path):
    """A ring of 16 records and a burst of 400 new sessions: what the ring could not hold is
    counted lost, and the lines written plus those lost are the sessions created. A full
    disk: failed writes counted, logged once, their lines lost; written again once there is
    room."""
    path = f"{tmp_path}/burst.log"
    t = topo(cleanup, tmp_path, {"path": path, "ring_size": 16}, udp_single=60)
    t.ns["acme"].ping(NET_IP, count=1)  # ARP resolved before the burst
    t.ns["acme"].run("/usr/bin/python3", "-c", BURST, IN_IP, NET_IP, "43000", "400")
    st = settled(t)
    created = t.stats()["acme"]["created"]
    ls = sessions(lines(path), "C")
    assert created >= 300, created
    assert st["lost"] > 0, st
    assert len(ls) + st["lost"] == created and st["records"] == len(ls), (st, created)
    assert t.stats()["acme"]["log_lost"] == st["lost"]

    # Disk full: counted, said once however many batches fail, lines lost; then it recovers.
    fs = f"{tmp_path}/fullfs"
    os.makedirs(fs)
    tess.sh("mount", "-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs", fs)
    cleanup.add(tess.sh, "umount", "-l", fs, check=False)
    fd = os.open(f"{fs}/filler", os.O_WRONLY | os.O_CREAT)
    try:
        while os.write(fd, b"x" * 512):
            pass
    except OSError:
        pass
    os.close(fd)
    r = t.call("nat.log.set", {"path": f"{fs}/nat.log", "flush_ms": 20})
    assert "result" in r, r
    before = t.pe.ctl("nat", "log")
    for first in (44000, 44100):
        t.ns["acme"].run("/usr/bin/python3", "-c", BURST, IN_IP, NET_IP, str(first), "10")
        settled(t)
    st = settled(t)
    assert st["write_errors"] >= 2 and st["lost"] - before["lost"] == 20, st
    assert st["records"] == before["records"], st
    with open(t.pe.log_path) as f:
        assert f.read().count("nat log: cannot write") == 1
    os.unlink(f"{fs}/filler")
    t.ns["acme"].run("/usr/bin/python3", "-c", BURST, IN_IP, NET_IP, "44200", "10")
    st = settled(t)
    assert st["records"] == before["records"] + 10, st
    assert len(sessions(lines(f"{fs}/nat.log"), "C")) == 10


def test_changed_instance_logs_its_first_sessions(cleanup, tmp_path):
    """acme's pool changed while a burst of new sessions flows: the new instance's sessions
    (its pool's addresses) each have a creation line, from its very first."""
    path = f"{tmp_path}/change.log"
    pools = [{"name": f"pool-{t}", "prefix": POOL[t]} for t in TENANTS] + [
        {"name": "pool-spare", "prefix": "203.0.113.32/30"}]
    t = NatTopo(cleanup, tmp_path, pools=pools, nat_kw={"logging": {"path": path}},
                instances=[nat_instance(w, udp_single=60) for w in TENANTS], ifprefix="L",
                control={"log_dirs": [str(tmp_path)]})
    t.ns["acme"].ping(NET_IP, count=1)
    burst = threading.Thread(target=t.ns["acme"].run, args=(
        "/usr/bin/python3", "-c", BURST, IN_IP, NET_IP, "45000", "6000"))
    burst.start()
    time.sleep(0.05)
    r = t.call("nat.instance.set", nat_instance("acme", pool="pool-spare", udp_single=60))
    assert "result" in r, r
    burst.join()
    st = settled(t)
    created = t.stats()["acme"]["created"]
    spare = [m for m in sessions(lines(path), "C") if m.group(8) in SPARE]
    assert st["lost"] == 0 and created > 0, (st, created)
    assert len(spare) == created, (len(spare), created)
