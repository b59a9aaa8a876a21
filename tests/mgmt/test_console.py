# SPDX-License-Identifier: BSD-3-Clause
"""A running desktop's console through tessmgrd (README "Desktop console"): a real QEMU desktop
(tests/lib/real_host.py, guest.py with a shell on its serial line), a ticket from POST
/v1/desktops/ID/console, and the WebSocket of GET /v1/console/TICKET read by Debian's
websocket-client: QEMU's VNC speaks RFB through it up to its ServerInit, the serial console
runs a command; tickets are single-use, expire and are bound to their principal and session;
another site's Origin is refused; bad frames close with their code and tessmgrd stays up; a
logout and a stopped desktop close the console."""
import os
import json
import signal
import socket
import ssl
import struct
import subprocess
import time

import pytest
import websocket

import guest
import tess
from mgr import ACME, BRAVO, PROVIDER, Mgr
from real_host import RealHost
from revproxy import Nginx, free_port
from sshd import Sshd
import test_tls

pki = test_tls.pki  # the fixture: a CA, and a server certificate it signed

GW = "10.30.0.1"
POOL = ("10.30.0.100", "10.30.0.109")
PW = "correct horse battery"
TTL = 2
PER_PRINCIPAL = 3  # console.max_per_principal (max_sessions: 4)


class World:
    pass


@pytest.fixture(scope="module")
def w(module_cleanup, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("console")
    vmlinuz, initrd = guest.boot_files()
    h = RealHost(module_cleanup, tmp, GW, POOL)
    # An sshd in front of the host's daemon (started by the test that reaches it so), whose
    # keys tessmgrd's ssh uses.
    sshd = Sshd(module_cleanup, str(tmp / "sshd"), free_port())
    m = Mgr(module_cleanup, tmp, {"console": {"ticket_ttl_sec": TTL, "max_sessions": 4,
                                              "max_per_principal": PER_PRINCIPAL},
                                  "jobs": {"stop_timeout_sec": 1}, "http": {"timeout_sec": 3},
                                  "users": {"argon2_memory_kib": 2048, "argon2_time": 1},
                                  "ssh": {"identity_file": sshd.keys["id_ed25519"],
                                          "known_hosts": sshd.keys["known_hosts"],
                                          "connect_timeout_sec": 5}})
    m.start()
    m.site(storage=h.dirs["storage"])
    m.ok("POST", "hosts", h.body())
    m.tenant("acme", 100)
    # Bravo at a site of its own, without hosts: its network is nowhere on this host's tessd.
    m.site(name="lyon", storage=h.dirs["storage"], prefixes=("10.2.0.0/16",))
    m.tenant("bravo", 200, site="lyon")
    m.ok("POST", "models", {"name": "tiny", "vcpus": 1, "memory_mb": 96,
                            "base_image": "tiny.qcow2", "kernel": vmlinuz, "initrd": initrd,
                            "cmdline": guest.CMDLINE + " tess.after=shell"})
    m.quota("acme", model="tiny", cpus=2, memory_mb=1024)
    d = m.desktop("d0", ACME, model="tiny")
    for name in ("carol", "dave"):
        m.ok("POST", "users", {"name": name, "password": PW}, token=ACME)
    m.ok("PUT", f"desktops/{d['id']}/users", {"users": ["carol"]}, token=ACME)
    # Its shell's prompt follows TESS-DONE on the console, without a newline.
    log = os.path.join(h.dirs["console"], f"desk{d['id']}.log")
    tess.wait_for(lambda: os.path.exists(log) and "TESS-DONE" in open(log).read(), 180,
                  "the guest's TESS-DONE")
    world = World()
    world.m, world.d, world.h, world.sshd = m, d, h, sshd
    world.carol = lambda: m.session({"tenant": "acme", "user": "carol", "password": PW})
    world.dave = m.session({"tenant": "acme", "user": "dave", "password": PW})
    return world


def ticket(m, did, token=ACME, session=None, **body):
    """(status, answer) of POST /v1/desktops/ID/console."""
    if session:
        return session.call("POST", f"desktops/{did}/console", body)
    return m.call("POST", f"desktops/{did}/console", body, token=token)


def ws_open(m, path, token=None, session=None, origin=None, protocols=("binary",)):
    """A WebSocket on path (raises websocket.WebSocketBadStatusException when refused)."""
    header = []
    if token:
        header.append(f"Authorization: Bearer {token}")
    if session:
        header.append(f"Cookie: tess_session={session.cookie}")
    opts = {"header": header, "timeout": 30}
    if protocols:
        opts["subprotocols"] = list(protocols)
    if origin:
        opts["origin"] = origin
    else:
        opts["suppress_origin"] = True
    return websocket.create_connection(m.url.replace("http", "ws", 1) + path, **opts)


def ws_status(m, path, **kw):
    """The HTTP status of an upgrade (101 when it opened; the socket closed)."""
    try:
        ws_open(m, path, **kw).close()
        return 101
    except websocket.WebSocketBadStatusException as e:
        return e.status_code


def console(w, kind="vnc", token=ACME, session=None):
    deadline = time.time() + 10
    st, t = ticket(w.m, w.d["id"], token=token, session=session, type=kind)
    while st in (429, 503) and time.time() < deadline:  # the consoles just closed
        time.sleep(0.2)
        st, t = ticket(w.m, w.d["id"], token=token, session=session, type=kind)
    assert st == 201, (st, t)
    assert len(t["ticket"]) == 43 and t["path"] == "/v1/console/" + t["ticket"], t
    assert t["type"] == kind and t["expires_sec"] == TTL, t
    return ws_open(w.m, t["path"], token=None if session else token, session=session)


def raw_upgrade(m, path, version="HTTP/1.1", ws_version="13"):
    """(status, headers, JSON body) of an upgrade request sent by hand (the acme admin's)."""
    host = m.url.split("//", 1)[1]
    req = (f"GET {path} {version}\r\nHost: {host}\r\nUpgrade: websocket\r\n"
           f"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
           f"Sec-WebSocket-Version: {ws_version}\r\nAuthorization: Bearer {ACME}\r\n\r\n")
    addr, port = host.rsplit(":", 1)
    with socket.create_connection((addr, int(port)), timeout=10) as s:
        s.sendall(req.encode())
        got = b""
        while b"\r\n\r\n" not in got:
            chunk = s.recv(4096)
            assert chunk, got
            got += chunk
        head, body = got.split(b"\r\n\r\n", 1)
        lines = head.decode().split("\r\n")
        headers = {k.lower(): v.strip() for k, v in (x.split(":", 1) for x in lines[1:])}
        while len(body) < int(headers.get("content-length", 0)):
            chunk = s.recv(4096)
            assert chunk, body
            body += chunk
    st = int(lines[0].split()[1])
    return st, headers, json.loads(body) if st != 101 else None


class Reader:
    """The byte stream of a console's binary frames."""

    def __init__(self, ws):
        self.ws, self.buf = ws, b""

    def read(self, n, timeout=30):
        deadline = time.time() + timeout
        while len(self.buf) < n:
            assert time.time() < deadline, f"{len(self.buf)} of {n} bytes"
            op, data = self.ws.recv_data()
            assert op == websocket.ABNF.OPCODE_BINARY, (op, data)
            self.buf += data
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def until(self, text, timeout=60):
        deadline = time.time() + timeout
        while text not in self.buf:
            assert time.time() < deadline, f"no {text!r} in {self.buf[-2000:]!r}"
            op, data = self.ws.recv_data()
            assert op == websocket.ABNF.OPCODE_BINARY, (op, data)
            self.buf += data
        return self.buf


def close_frame(ws, timeout=30):
    """(code, reason) of the server's close frame."""
    ws.settimeout(timeout)
    while True:
        op, frame = ws.recv_data_frame(True)
        if op == websocket.ABNF.OPCODE_CLOSE:
            return struct.unpack(">H", frame.data[:2])[0], frame.data[2:].decode()


def test_vnc_speaks_rfb_through_the_console(w):
    ws = console(w)
    assert ws.getsubprotocol() == "binary"
    r = Reader(ws)
    # RFB 3.8 (RFC 6143): version, security type None, ClientInit, ServerInit.
    assert r.read(12) == b"RFB 003.008\n"
    ws.send_binary(b"RFB 003.008\n")
    types = r.read(r.read(1)[0])
    assert 1 in types, types
    ws.send_binary(b"\x01")
    assert r.read(4) == b"\0\0\0\0"
    ws.send_binary(b"\x01")
    width, height = struct.unpack(">HH", r.read(4))
    assert width > 0 and height > 0, (width, height)
    r.read(16)  # pixel format
    name = r.read(struct.unpack(">I", r.read(4))[0])
    assert name, name
    # A ping is answered with its payload.
    ws.ping(b"hello")
    op, frame = ws.recv_data_frame(True)
    while op != websocket.ABNF.OPCODE_PONG:
        op, frame = ws.recv_data_frame(True)
    assert frame.data == b"hello"
    ws.close()
    tess.wait_for(lambda: any(a["action"] == "console close" for a in
                              w.m.ok("GET", "audit?limit=1000")), 10, "the close audited")
    rows = [a for a in w.m.ok("GET", "audit?limit=1000") if a["action"].startswith("console")]
    assert rows[-1]["principal"] == "alice" and "vnc" in rows[-1]["result"], rows
    closed = [a for a in rows if a["action"] == "console close"]
    assert closed and "out " in closed[-1]["result"] and "d0" in closed[-1]["target"], rows


def test_tessctl_prints_a_ticket_and_its_url(w):
    env = dict(os.environ, TESSMGR_URL=w.m.url, TESSMGR_TOKEN=ACME)
    r = subprocess.run([tess.TESSCTL, "desktop", "console", str(w.d["id"])], env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    first, url = r.stdout.split("\n")[:2]
    assert first.startswith("ticket ") and "(vnc, single-use" in first, r.stdout
    assert url.startswith(w.m.url.replace("http", "ws", 1) + "/v1/console/"), r.stdout
    ws = websocket.create_connection(url, header=[f"Authorization: Bearer {ACME}"],
                                     suppress_origin=True, timeout=30)
    assert Reader(ws).read(12) == b"RFB 003.008\n"
    ws.close()
    r = subprocess.run([tess.TESSCTL, "desktop", "console", str(w.d["id"]), "--type", "x"],
                       env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "type" in r.stderr, (r.returncode, r.stderr)
    r = subprocess.run([tess.TESSCTL, "desktop", "console", "d0"], env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2, (r.returncode, r.stderr)


def test_tessctl_behind_a_proxy_keeps_its_base_path(w, tmp_path, cleanup):
    """Console review: tessmgrd behind a reverse proxy at a base path (nginx, location /tess/):
    tessctl's calls go under it, and so does the console's URL it prints, which the proxy
    upgrades to tessmgrd's WebSocket (the old URL, at the host's root, was the proxy's 404)."""
    proxy = Nginx(cleanup, tmp_path, w.m.url)
    env = dict(os.environ, TESSMGR_URL=proxy.url + "/", TESSMGR_TOKEN=ACME)
    r = subprocess.run([tess.TESSCTL, "desktop", "console", str(w.d["id"])], env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    url = r.stdout.split("\n")[1]
    assert url.startswith(proxy.url.replace("http", "ws", 1) + "/v1/console/"), r.stdout
    ws = websocket.create_connection(url, header=[f"Authorization: Bearer {ACME}"],
                                     suppress_origin=True, timeout=30)
    assert Reader(ws).read(12) == b"RFB 003.008\n"
    ws.close()


def _ssh_w_children():
    """ssh clients of a -W forward (tessmgrd's for a remote VNC display)."""
    out = []
    for p in os.listdir("/proc"):
        try:
            with open(f"/proc/{p}/cmdline", "rb") as f:
                argv = f.read().rstrip(b"\0").split(b"\0")
        except OSError:
            continue
        if argv[0].endswith(b"ssh") and b"-W" in argv:
            out.append(argv)
    return out


def test_vnc_of_a_host_reached_over_ssh(w):
    """Issue 16's remote host: over qemu+ssh:// the host's daemon cannot pass QEMU's VNC
    socket, so tessmgrd reads the display's port from the live XML and reaches the host's
    loopback with ssh -W, with its own ssh settings (the key and known hosts of its tessd
    tunnels): RFB's handshake through it, the forward in sshd's log, the ssh gone with the
    console; back on the local URI, the console is QEMU's socket again."""
    s = w.sshd.start()
    k = s.keys
    # libvirt's own ssh checks the host key against the test's known hosts, not root's.
    wrapper = os.path.join(os.path.dirname(s.config), "ssh-known")
    with open(wrapper, "w") as f:
        f.write(f"#!/bin/sh\nexec ssh -o UserKnownHostsFile={k['known_hosts']} \"$@\"\n")
    os.chmod(wrapper, 0o755)
    uri = (f"qemu+ssh://root@127.0.0.1:{s.port}/system?socket={w.h.lv.sock}"
           f"&keyfile={k['id_ed25519']}&command={wrapper}&no_tty=1")
    try:
        assert w.m.ok("PUT", "hosts/q1", w.h.body(uri=uri))["up"]
        ws, width, height = open_vnc(w.m, w.d["id"])
        assert width > 0 and height > 0
        forwards = _ssh_w_children()
        assert len(forwards) == 1, forwards
        argv = forwards[0]
        assert argv[-2:] == [b"--", b"127.0.0.1"], argv
        assert f"IdentityFile={k['id_ed25519']}".encode() in argv, argv
        assert b"StrictHostKeyChecking=yes" in argv and str(s.port).encode() in argv, argv
        assert "direct-tcpip" in s.said() and "target 127.0.0.1 port 59" in s.said()
        ws.close()
        tess.wait_for(lambda: not _ssh_w_children(), 10, "the console's ssh gone")
    finally:
        assert w.m.ok("PUT", "hosts/q1", w.h.body())["up"]
        s.stop()
    ws, width, height = open_vnc(w.m, w.d["id"])
    assert not _ssh_w_children()
    ws.close()


def test_serial_console_runs_a_command(w):
    ws = console(w, "serial")
    r = Reader(ws)
    # The guest's shell (tess.after=shell) reads the serial line: the answer, not the echo.
    ws.send_binary(b"echo TESS-SERIAL-$((6*7))\n")
    r.until(b"TESS-SERIAL-42")
    ws.send(b"echo TESS-TEXT-$((7*7))\n")  # text frames are bytes too on a serial console
    r.until(b"TESS-TEXT-49")
    # Quiet longer than http.timeout_sec: an upgraded connection is not an idle request.
    time.sleep(4)
    ws.send_binary(b"echo TESS-LATER-$((8*8))\n")
    r.until(b"TESS-LATER-64")
    ws.close()


def test_tickets_are_single_use_short_lived_and_bound(w):
    m, did = w.m, w.d["id"]
    st, t = ticket(m, did)
    assert st == 201
    path = t["path"]
    # Not an upgrade: 400, and the ticket still stands.
    assert m.call("GET", path[4:], token=ACME)[0] == 400
    # Another tenant's admin, the provider, another site's page: refused, still unused.
    assert ws_status(m, path, token=BRAVO) == 403
    assert ws_status(m, path, token=PROVIDER) == 403
    assert ws_status(m, path, token=ACME, origin="http://evil.example") == 403
    assert ws_status(m, path, token=ACME, origin=m.url) == 101
    # Used: gone.
    assert ws_status(m, path, token=ACME) == 404
    assert ws_status(m, "/v1/console/" + "A" * 43, token=ACME) == 404
    # Expired.
    st, t = ticket(m, did)
    time.sleep(TTL + 0.5)
    assert ws_status(m, t["path"], token=ACME) == 404
    # Who may ask: the provider, the tenant's admin, an assigned user; not bravo nor dave.
    assert ticket(m, did, token=PROVIDER)[0] == 201
    assert ticket(m, did, token=BRAVO)[0] == 404
    assert ticket(m, did, session=w.dave)[0] == 404
    assert ticket(m, did, type="rdp")[0] == 400
    # A user's ticket is bound to its session: another login of the same user is refused.
    carol, carol2 = w.carol(), w.carol()
    st, t = ticket(m, did, session=carol)
    assert st == 201, t
    assert ws_status(m, t["path"], session=w.dave) == 403
    assert ws_status(m, t["path"], session=carol2) == 403
    assert ws_status(m, t["path"], token=ACME) == 403
    # Without the CSRF token a session gets none.
    assert carol.call("POST", f"desktops/{did}/console", {}, csrf=False)[0] == 403
    ws = ws_open(m, t["path"], session=carol)
    # Its session's end closes it.
    assert carol.call("POST", "logout")[0] in (200, 204)
    assert close_frame(ws) == (1000, "the session ended")
    ws.close()


def test_at_most_max_sessions_and_per_principal(w):
    """console.max_per_principal (3) of one principal's tickets and consoles, then 429; another
    principal's up to console.max_sessions (4), then 503; a console closed or a ticket expired
    frees its principal's slot."""
    m, did = w.m, w.d["id"]
    time.sleep(TTL + 0.5)  # the tickets of the tests before expired
    got = [ticket(m, did) for _ in range(PER_PRINCIPAL + 1)]
    assert [st for st, _ in got] == [201] * PER_PRINCIPAL + [429], got
    msg = got[-1][1]["error"]["message"]
    assert "alice" in msg and "console.max_per_principal" in msg, msg
    assert ticket(m, did, token=PROVIDER)[0] == 201
    st, r = ticket(m, did, token=PROVIDER)
    assert st == 503 and "console.max_sessions" in r["error"]["message"], r
    # Expired tickets free their slots; a used ticket's console still counts, its end frees it.
    time.sleep(TTL + 0.5)
    consoles = []
    for _ in range(PER_PRINCIPAL):
        st, t = ticket(m, did)
        assert st == 201, t
        consoles.append(ws_open(m, t["path"], token=ACME))
    assert ticket(m, did)[0] == 429
    consoles.pop().close()
    tess.wait_for(lambda: ticket(m, did)[0] == 201, 10, "the closed console's slot freed")
    for ws in consoles:
        ws.close()
    time.sleep(TTL + 0.5)


def test_upgrade_refusals_leave_the_ticket(w):
    """An HTTP/1.0 upgrade (which cannot become a WebSocket) gets 400 and another WebSocket
    version 426 with the one served, both before the ticket is looked at: it still opens."""
    st, t = ticket(w.m, w.d["id"])
    assert st == 201, t
    st, headers, body = raw_upgrade(w.m, t["path"], version="HTTP/1.0")
    assert st == 400 and "HTTP/1.1" in body["error"]["message"], (st, body)
    st, headers, body = raw_upgrade(w.m, t["path"], ws_version="8")
    assert st == 426 and headers.get("sec-websocket-version") == "13", (st, headers, body)
    st, headers, _ = raw_upgrade(w.m, t["path"])
    assert st == 101 and headers["sec-websocket-accept"] == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", \
        headers
    assert ws_status(w.m, t["path"], token=ACME) == 404  # used now


@pytest.mark.parametrize("raw,code", [
    (b"\x82\x03abc", 1002),                                   # unmasked
    (b"\x82\xff" + struct.pack(">Q", 2 << 20) + b"mask", 1009),  # over 1 MiB
    (b"\xc2\x80mask", 1002),                                  # a reserved bit
    (b"\x81\x80mask", 1003),                                  # text on VNC
])
def test_bad_frames_close_with_their_code(w, raw, code):
    ws = console(w)
    ws.sock.sendall(raw)
    got, _ = close_frame(ws)
    assert got == code
    ws.close()
    assert w.m.call("GET", "stats")[0] == 200  # tessmgrd is still up


def test_serial_text_must_be_utf8(w):
    """A serial console takes text frames as bytes, but text is UTF-8 (RFC 6455 8.1): a
    character cut between fragments is fine, one that is not UTF-8 closes with 1007."""
    ws = console(w, "serial")
    r = Reader(ws)
    # "echo TESS-UTF8-é" with the é cut between two fragments (mask 0: the bytes as they are).
    ws.sock.sendall(b"\x01\x90\0\0\0\0echo TESS-UTF8-\xc3")
    ws.sock.sendall(b"\x80\x82\0\0\0\0\xa9\n")
    r.until(b"TESS-UTF8-\xc3\xa9")
    ws.sock.sendall(b"\x81\x82\0\0\0\0\xc3(")
    assert close_frame(ws) == (1007, "a text message that is not UTF-8")
    ws.close()


def test_unassigned_user_loses_its_console_and_tickets(w):
    """The desktop's visibility is checked again at the upgrade and while the console lives:
    a user unassigned from the desktop loses both."""
    m, did = w.m, w.d["id"]
    carol = w.carol()
    time.sleep(TTL + 0.5)  # the tickets of the tests before expired
    ws = console(w, session=carol)
    assert Reader(ws).read(12) == b"RFB 003.008\n"
    st, t = ticket(m, did, session=carol)
    assert st == 201, t
    m.ok("PUT", f"desktops/{did}/users", {"users": []}, token=ACME)
    try:
        assert close_frame(ws, timeout=10) == (1000, "no longer allowed to use the desktop")
        ws.close()
        assert ws_status(m, t["path"], session=carol) == 404
    finally:
        m.ok("PUT", f"desktops/{did}/users", {"users": ["carol"]}, token=ACME)


def test_stopped_desktop_closes_its_console(w):
    m, did = w.m, w.d["id"]
    ws = console(w)
    m.ok("POST", f"desktops/{did}/stop", token=ACME)
    code, reason = close_frame(ws, timeout=90)
    assert code == 1000 and reason in ("the desktop's console ended", "the desktop stopped"), \
        reason
    ws.close()
    tess.wait_for(lambda: m.ok("GET", f"desktops/{did}", token=ACME)["state"] == "stopped",
                  60, "the desktop stopped")
    st, r = ticket(m, did)
    assert st == 409 and r["error"]["message"] == "desktop d0 is not running", r
    assert m.proc.poll() is None


def wss_open(m, path, pki):
    """A console's WebSocket over HTTPS, the acme admin's, trusting the test's CA."""
    return websocket.create_connection(m.url.replace("https", "wss", 1) + path,
                                       header=[f"Authorization: Bearer {ACME}"],
                                       suppress_origin=True, timeout=30,
                                       sslopt={"ca_certs": str(pki / "ca.pem")})


def test_console_over_https_closes_when_idle(w, pki):
    """Over HTTPS (libmicrohttpd encrypts the upgraded connection for us), and idle: a client
    that sends nothing for console.idle_sec is closed."""
    m, did = w.m, w.d["id"]
    assert m.stop() == 0
    m.config["http"].update(tls_cert=str(pki / "server.pem"), tls_key=str(pki / "server.key"))
    m.config["console"]["idle_sec"] = 5
    m.ssl_context = ssl.create_default_context(cafile=str(pki / "ca.pem"))
    m.start()
    assert m.url.startswith("https://"), m.url
    j = m.wait_job(m.ok("POST", f"desktops/{did}/start", token=ACME)["job"]["id"], token=ACME)
    assert j["state"] == "succeeded", j
    st, t = ticket(m, did)
    assert st == 201, t
    ws = wss_open(m, t["path"], pki)
    r = Reader(ws)
    assert r.read(12) == b"RFB 003.008\n"
    # Quiet longer than http.timeout_sec (3 s), then RFB goes on through TLS.
    time.sleep(4)
    ws.send_binary(b"RFB 003.008\n")
    assert 1 in r.read(r.read(1)[0])
    started = time.time()
    assert close_frame(ws) == (1000, "idle for 5 s")
    assert 4 < time.time() - started < 12
    ws.close()
    # tessmgrd's stop closes its consoles first (1001), then stops cleanly.
    st, t = ticket(m, did)
    assert st == 201, t
    ws = wss_open(m, t["path"], pki)
    assert Reader(ws).read(12) == b"RFB 003.008\n"
    m.proc.send_signal(signal.SIGTERM)
    assert close_frame(ws) == (1001, "tessmgrd is stopping")
    assert m.proc.wait(30) == 0
    ws.close()


def open_vnc(m, did, **kw):
    """A VNC console through RFB's handshake (no security, shared): (ws, width, height)."""
    st, t = ticket(m, did)
    assert st == 201, t
    ws = websocket.create_connection(m.url.replace("http", "ws", 1) + t["path"],
                                     suppress_origin=True, timeout=30,
                                     header=[f"Authorization: Bearer {ACME}"], **kw)
    r = Reader(ws)
    assert r.read(12) == b"RFB 003.008\n"
    ws.send_binary(b"RFB 003.008\n")
    r.read(r.read(1)[0])
    ws.send_binary(b"\x01")
    assert r.read(4) == b"\0\0\0\0"
    ws.send_binary(b"\x01")
    width, height = struct.unpack(">HH", r.read(4))
    r.read(16)
    r.read(struct.unpack(">I", r.read(4))[0])
    return ws, width, height


def test_shutdown_closes_consoles_and_waits_for_them(w):
    """SIGTERM with a live console and one whose client reads nothing (its relay blocked on a
    full socket): the first closes 1001, tessmgrd ends both relays at once and waits for them
    (both audited), then exits 0 (no relay outlives libmicrohttpd's connections: the ASan
    build reports none)."""
    m, did = w.m, w.d["id"]
    if m.proc.poll() is None and m.url.startswith("https"):
        assert m.stop() == 0
    if m.proc.poll() is not None:
        # Plain HTTP: the relay writes to the client's own socket, which fills.
        m.config.pop("http", None)
        m.ssl_context = None
        m.start()
    if m.ok("GET", f"desktops/{did}", token=ACME)["state"] != "running":
        pytest.skip("the desktop is not running")
    live, _, _ = open_vnc(m, did)
    stuck, width, height = open_vnc(m, did, sockopt=((socket.SOL_SOCKET, socket.SO_RCVBUF, 4096),))
    # Whole-screen updates it never reads: QEMU's bytes fill the socket, its relay waits.
    for _ in range(10):
        stuck.send_binary(struct.pack(">BBHHHH", 3, 0, 0, 0, width, height))
        time.sleep(0.1)
    started = time.time()
    assert m.stop(timeout=30) == 0
    took = time.time() - started
    assert close_frame(live, timeout=5) == (1001, "tessmgrd is stopping")
    live.close()
    stuck.close()
    assert took < 3, took
    # Both closes were audited before the store closed (the newest first; before: the
    # blocked one never was).
    m.start()
    closed = [a for a in m.ok("GET", "audit?limit=1000") if a["action"] == "console close"]
    assert len(closed) >= 2 and all(" closed 1001 " in a["result"] for a in closed[:2]), \
        closed[:2]
    log = m.log()
    assert "ERROR: AddressSanitizer" not in log and "runtime error" not in log, log[-3000:]


def test_a_slow_reader_is_closed(w):
    """Console review: a client that takes a few bytes now and then (2.5 KB/s) cannot hold
    its relay: each frame has 5 s in all to go, so the console closes (1001, the client
    does not read) within seconds, audited, where each wait for room used to start again."""
    m, did = w.m, w.d["id"]
    if m.ok("GET", f"desktops/{did}", token=ACME)["state"] != "running":
        pytest.skip("the desktop is not running")

    def closes():
        return [a for a in m.ok("GET", "audit?limit=1000") if a["action"] == "console close"]

    before = len(closes())
    ws, width, height = open_vnc(m, did, sockopt=((socket.SOL_SOCKET, socket.SO_RCVBUF, 4096),))
    update = struct.pack(">BBHHHH", 3, 0, 0, 0, width, height)
    started, closed = time.time(), None
    ws.sock.settimeout(0.2)
    # Its close is read from the audit: the bytes already in the kernel's buffers would
    # take this reader minutes.
    while closed is None and time.time() - started < 30:
        for _ in range(5):
            try:
                ws.send_binary(update)  # a whole screen each time: far more than it reads
                ws.sock.recv(512)
            except OSError:  # a timeout, or the connection's end
                pass
            time.sleep(0.2)
        now = closes()
        closed = now[0] if len(now) > before else None
    took = time.time() - started
    ws.close()
    assert closed is not None and took < 20, "the slow reader held its console"
    assert "closed 1001 the client does not read" in closed["result"], closed


def test_typing_in_the_console_keeps_its_session_alive(w):
    """Console review: a user typing in the console is using its browser session: with
    http.session_idle_sec 4 and no other request, the session lives on while the console's
    input goes on (9 s), and ends that long after it stops, closing the console."""
    m, did = w.m, w.d["id"]
    assert m.stop() == 0
    m.config["http"] = {"timeout_sec": 3, "session_idle_sec": 4}
    m.ssl_context = None
    m.start()
    if m.ok("GET", f"desktops/{did}", token=ACME)["state"] != "running":
        pytest.skip("the desktop is not running")
    carol = w.carol()
    ws = console(w, kind="serial", session=carol)
    typed_until = time.time() + 9
    while time.time() < typed_until:
        ws.send("\n")  # a text frame: the serial console's input
        time.sleep(0.5)
    assert carol.call("GET", "session")[0] == 200, "the session ended while typing"
    # Quiet now: its idle time runs out and closes the console.
    started = time.time()
    assert close_frame(ws, timeout=20) == (1000, "the session ended")
    assert 3 < time.time() - started < 12, time.time() - started
    ws.close()
