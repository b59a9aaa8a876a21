# SPDX-License-Identifier: BSD-3-Clause
"""The secure management plane: tessmgrd serves HTTPS (a CA and a server certificate made here
with certtool), on IPv4 and IPv6, plain HTTP only on loopback; tessctl (libcurl) checks the
certificate against --cacert, takes IPv6 literals, and percent-encodes query values."""
import http.server
import json
import os
import signal
import socket
import ssl
import subprocess
import threading
import urllib.error
import urllib.parse
import urllib.request

import pytest

import tess
from mgr import PROVIDER, TESSMGRD, Mgr, MgrError

SERVER_TMPL = """cn = "localhost"
dns_name = "localhost"
ip_address = "127.0.0.1"
ip_address = "::1"
tls_www_server
signing_key
encryption_key
expiration_days = 2
"""


def certtool(*args):
    tess.sh("certtool", *args)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """ca.pem, and server.pem/server.key signed by it (for localhost, 127.0.0.1 and ::1)."""
    d = tmp_path_factory.mktemp("pki")
    (d / "ca.tmpl").write_text('cn = "Tessera test CA"\nca\ncert_signing_key\n'
                               "expiration_days = 2\n")
    (d / "server.tmpl").write_text(SERVER_TMPL)
    certtool("--generate-privkey", "--key-type=ecdsa", "--outfile", str(d / "ca.key"))
    certtool("--generate-self-signed", "--load-privkey", str(d / "ca.key"), "--template",
             str(d / "ca.tmpl"), "--outfile", str(d / "ca.pem"))
    certtool("--generate-privkey", "--key-type=ecdsa", "--outfile", str(d / "server.key"))
    certtool("--generate-certificate", "--load-privkey", str(d / "server.key"),
             "--load-ca-certificate", str(d / "ca.pem"), "--load-ca-privkey", str(d / "ca.key"),
             "--template", str(d / "server.tmpl"), "--outfile", str(d / "server.pem"))
    # A second one, as a renewal would make.
    certtool("--generate-privkey", "--key-type=ecdsa", "--outfile", str(d / "server2.key"))
    certtool("--generate-certificate", "--load-privkey", str(d / "server2.key"),
             "--load-ca-certificate", str(d / "ca.pem"), "--load-ca-privkey", str(d / "ca.key"),
             "--template", str(d / "server.tmpl"), "--outfile", str(d / "server2.pem"))
    os.chmod(d / "server.key", 0o600)
    os.chmod(d / "server2.key", 0o600)
    return d


def tls_mgr(cleanup, tmp_path, pki, listen="127.0.0.1", **http):
    m = Mgr(cleanup, tmp_path, {"listen": listen,
                                "http": {"tls_cert": str(pki / "server.pem"),
                                         "tls_key": str(pki / "server.key"), **http}})
    m.ssl_context = ssl.create_default_context(cafile=str(pki / "ca.pem"))
    return m


def tessctl(url, *args, cacert=None, env=None, token=PROVIDER):
    cmd = [tess.TESSCTL, "-m", url, "-T", token, "-t", "30"]
    if cacert:
        cmd += ["--cacert", str(cacert)]
    return subprocess.run(cmd + list(args), capture_output=True, text=True, timeout=60,
                          env={**os.environ, **(env or {})})


def check(m):
    with open(m.config_path, "w") as f:
        json.dump(m.config, f)
    return subprocess.run([TESSMGRD, "-c", m.config_path, "--check"], capture_output=True,
                          text=True, timeout=60)


def test_https_on_ipv4_loopback(cleanup, tmp_path, pki):
    m = tls_mgr(cleanup, tmp_path, pki)
    r = check(m)
    assert r.returncode == 0 and "TLS certificate and key" in r.stdout, r
    m.start()
    assert m.url.startswith("https://127.0.0.1:"), m.url
    assert "ready: https://127.0.0.1:" in m.log()
    # Python's ssl, trusting the CA: the API as ever.
    m.site("paris")
    assert [s["name"] for s in m.ok("GET", "sites")] == ["paris"]
    # A session's cookie over HTTPS is Secure (a browser never sends it in clear).
    st, r, headers = m.login({"token": PROVIDER})
    assert st == 200 and headers["Set-Cookie"].endswith("; Secure"), headers
    assert m.session({"token": PROVIDER}).call("GET", "sites")[0] == 200
    # tessctl trusts the CA given with --cacert, or in $TESSMGR_CACERT.
    r = tessctl(m.url, "site", "list", cacert=pki / "ca.pem")
    assert r.returncode == 0 and "paris" in r.stdout, r
    r = tessctl(m.url, "site", "list", env={"TESSMGR_CACERT": str(pki / "ca.pem")})
    assert r.returncode == 0 and "paris" in r.stdout, r
    # Without it, the certificate is not trusted (the system's CAs do not have it).
    r = tessctl(m.url, "site", "list")
    assert r.returncode == 1 and "certificate is not trusted" in r.stderr, r
    assert "--cacert" in r.stderr, r.stderr
    r = tessctl(m.url, "site", "list", cacert=tmp_path / "none.pem")
    assert r.returncode == 1 and f"cannot use the CA file {tmp_path}/none.pem" in r.stderr, r
    # Nor by Python's default context.
    with pytest.raises(urllib.error.URLError, match="CERTIFICATE_VERIFY_FAILED"):
        urllib.request.urlopen(m.url + "/v1/sites", timeout=30)
    # Plain HTTP to the HTTPS port gets no answer; counted.
    plain = "http://" + m.url[len("https://"):]
    with pytest.raises((urllib.error.URLError, ConnectionError, OSError)):
        urllib.request.urlopen(plain + "/v1/sites", timeout=30)
    r = tessctl(plain, "site", "list")
    assert r.returncode == 1 and "https://" in r.stderr, r
    st = m.ok("GET", "stats")
    assert st["http"]["tls_failed"] >= 2, st


def test_https_on_ipv6_loopback(cleanup, tmp_path, pki):
    m = tls_mgr(cleanup, tmp_path, pki, listen="::1").start()
    assert m.url.startswith("https://[::1]:"), m.url
    assert "ready: https://[::1]:" in m.log()
    m.site("paris")
    r = tessctl(m.url, "--json", "site", "list", cacert=pki / "ca.pem")
    assert r.returncode == 0 and json.loads(r.stdout)[0]["name"] == "paris", r
    # Only IPv6: nothing on 127.0.0.1 at that port.
    port = m.url.rsplit(":", 1)[1]
    r = tessctl(f"https://127.0.0.1:{port}", "site", "list", cacert=pki / "ca.pem")
    assert r.returncode == 1 and "cannot connect" in r.stderr, r


def test_https_dual_stack_on_any_address(cleanup, tmp_path, pki):
    """[::] takes IPv4 too; a port in listen takes the place of "port"."""
    with socket.socket(socket.AF_INET6) as s:
        s.bind(("::", 0))
        port = s.getsockname()[1]
    m = tls_mgr(cleanup, tmp_path, pki, listen=f"[::]:{port}").start()
    assert m.url == f"https://[::1]:{port}", m.url
    for url in (f"https://[::1]:{port}", f"https://127.0.0.1:{port}",
                f"https://localhost:{port}"):
        r = tessctl(url, "usage", cacert=pki / "ca.pem")
        assert r.returncode == 0, (url, r)


def test_plain_http_on_ipv6_loopback(cleanup, tmp_path):
    m = Mgr(cleanup, tmp_path, {"listen": "[::1]"}).start()
    assert m.url.startswith("http://[::1]:"), m.url
    m.site("paris")
    r = tessctl(m.url, "site", "list")
    assert r.returncode == 0 and "paris" in r.stdout, r


def test_plain_http_on_ipv4_mapped_loopback(cleanup, tmp_path):
    """::ffff:127.0.0.1 is loopback; libmicrohttpd's IPv6 sockets are IPv6-only, where it
    cannot be bound: tessmgrd serves 127.0.0.1 instead of failing to start."""
    m = Mgr(cleanup, tmp_path, {"listen": "[::ffff:127.0.0.1]"}).start()
    with open(os.path.join(m.state, "port")) as f:
        port = int(f.read())
    m.url = f"http://127.0.0.1:{port}"
    m.site("paris")
    r = tessctl(m.url, "site", "list")
    assert r.returncode == 0 and "paris" in r.stdout, r


@pytest.mark.parametrize("listen", ["0.0.0.0", "[::]", "::", "192.0.2.1:8470", "[2001:db8::1]"])
def test_plain_http_off_loopback_is_refused(cleanup, tmp_path, listen):
    m = Mgr(cleanup, tmp_path, {"listen": listen})
    r = check(m)
    assert r.returncode == 1, r
    assert f"'{listen}' is not a loopback address" in r.stderr, r.stderr
    assert "http.tls_cert" in r.stderr, r.stderr
    with pytest.raises(MgrError, match="not a loopback address"):
        m.start()


@pytest.mark.parametrize("listen, why", [
    ("1.2.3", "is not an IPv4 or IPv6 address"),
    ("127.0.0.1:70000", "is not a number from 0 to 65535"),
    ("[::1", "in brackets"),
    ("[::1]8", "in brackets"),
    ("[127.0.0.1]", "brackets hold an IPv6 address"),
    ("::1::2", "is not an IPv4 or IPv6 address"),
    ("localhost", "/listen"),
])
def test_bad_listen_is_refused_with_its_path(cleanup, tmp_path, listen, why):
    r = check(Mgr(cleanup, tmp_path, {"listen": listen}))
    assert r.returncode == 1 and "/listen: " in r.stderr and why in r.stderr, r


def test_key_others_can_read_is_refused(cleanup, tmp_path, pki):
    key = tmp_path / "server.key"
    key.write_bytes((pki / "server.key").read_bytes())
    m = tls_mgr(cleanup, tmp_path, pki, tls_key=str(key))
    for mode in (0o644, 0o640, 0o604):
        os.chmod(key, mode)
        r = check(m)
        assert r.returncode == 1, r
        assert f"http.tls_key {key}: " in r.stderr and f"(mode {mode:04o})" in r.stderr, r
        assert "chmod 600" in r.stderr, r.stderr
    with pytest.raises(MgrError, match="group or others can access"):
        m.start()
    os.chmod(key, 0o400)
    assert check(m).returncode == 0


def test_bad_tls_material_is_refused(cleanup, tmp_path, pki):
    # A certificate without its key, the key of another certificate, a missing file,
    # a priority string GnuTLS does not know: each named.
    m = Mgr(cleanup, tmp_path, {"http": {"tls_cert": str(pki / "server.pem")}})
    r = check(m)
    assert r.returncode == 1 and "/http: tls_cert and tls_key go together" in r.stderr, r
    m = tls_mgr(cleanup, tmp_path, pki, tls_cert=str(pki / "ca.pem"))
    r = check(m)
    assert r.returncode == 1 and "do not match" in r.stderr, r
    m = tls_mgr(cleanup, tmp_path, pki, tls_cert=str(tmp_path / "none.pem"))
    r = check(m)
    assert r.returncode == 1 and "none.pem: No such file" in r.stderr, r
    m = tls_mgr(cleanup, tmp_path, pki, tls_priorities="NORMAL:+NO-SUCH-THING")
    r = check(m)
    assert r.returncode == 1 and "http.tls_priorities" in r.stderr, r
    assert "NO-SUCH-THING" in r.stderr, r.stderr


def test_priorities_bound_the_tls_version(cleanup, tmp_path, pki):
    m = tls_mgr(cleanup, tmp_path, pki, tls_priorities="NORMAL:-VERS-ALL:+VERS-TLS1.3").start()
    ctx = ssl.create_default_context(cafile=str(pki / "ca.pem"))
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(m.url + "/v1/sites", timeout=30, context=ctx)
    assert m.call("GET", "sites")[0] == 200  # TLS 1.3


class QueryServer(http.server.BaseHTTPRequestHandler):
    """Answers [] and keeps the request's path, to see what tessctl sent."""
    seen = []

    def do_GET(self):
        QueryServer.seen.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"[]")

    def log_message(self, *args):
        pass


def test_query_values_reach_the_server_intact(cleanup, tmp_path):
    srv = http.server.HTTPServer(("127.0.0.1", 0), QueryServer)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    cleanup.add(srv.shutdown)
    url = f"http://127.0.0.1:{srv.server_address[1]}"
    value = "a&b #c=d?e%f+g/h"
    QueryServer.seen.clear()
    r = tessctl(url, "--json", "audit", "--action", value, "--tenant", "x y")
    assert r.returncode == 0, r
    r = tessctl(url, "--json", "site", "list", "--from", value)
    assert r.returncode == 0, r
    audit, sites = (urllib.parse.urlsplit(p) for p in QueryServer.seen)
    assert audit.path == "/v1/audit", audit
    assert urllib.parse.parse_qs(audit.query) == {"action": [value], "tenant": ["x y"]}, audit
    assert sites.path == "/v1/sites", sites
    assert urllib.parse.parse_qs(sites.query) == {"from": [value]}, sites
    # And with tessmgrd: an audit action has a space in it ("POST sites").
    m = Mgr(cleanup, tmp_path).start()
    m.site("paris")
    r = tessctl(m.url, "--json", "audit", "--action", "POST sites")
    assert r.returncode == 0, r
    rows = json.loads(r.stdout)
    assert len(rows) == 1 and rows[0]["action"] == "POST sites", rows
    # A name is a path segment: a '?' in it stays in it (no such desktop); a '/' is refused
    # before anything is sent (test_http.py::test_tessctl_refuses_names_that_change_the_route).
    r = tessctl(m.url, "desktop", "show", "x?..?y")
    assert r.returncode == 1 and "error 4" in r.stderr, r
    r = tessctl(m.url, "desktop", "show", "x/../../sites?y")
    assert r.returncode == 2 and "cannot contain '/'" in r.stderr, r


def presented(m, pki):
    """The DER certificate tessmgrd presents to a new connection."""
    host, port = m.url[len("https://"):].rsplit(":", 1)
    ctx = ssl.create_default_context(cafile=str(pki / "ca.pem"))
    with socket.create_connection((host, int(port)), timeout=30) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as s:
            return s.getpeercert(binary_form=True)


def der(path):
    return ssl.PEM_cert_to_DER_cert(path.read_text())


def test_sighup_reloads_the_certificate(cleanup, tmp_path, pki):
    cert, key = tmp_path / "tls.pem", tmp_path / "tls.key"

    def put(c, k):
        cert.write_bytes((pki / c).read_bytes())
        key.write_bytes((pki / k).read_bytes())
        os.chmod(key, 0o600)

    def hup(what):
        n = m.log().count(what)
        m.proc.send_signal(signal.SIGHUP)
        tess.wait_for(lambda: m.log().count(what) > n, 20, what)

    put("server.pem", "server.key")
    m = tls_mgr(cleanup, tmp_path, pki, tls_cert=str(cert), tls_key=str(key)).start()
    assert presented(m, pki) == der(pki / "server.pem")
    # Renewed at the same paths: new handshakes get the new one, without a restart.
    put("server2.pem", "server2.key")
    hup("SIGHUP: TLS certificate reloaded")
    assert presented(m, pki) == der(pki / "server2.pem")
    assert m.call("GET", "sites")[0] == 200
    # A pair that does not match (half renewed) is refused; the current one stays.
    put("server.pem", "server2.key")
    hup("SIGHUP: TLS certificate kept: ")
    assert "do not match" in m.log()
    assert presented(m, pki) == der(pki / "server2.pem")
    # As is a key others can read.
    put("server.pem", "server.key")
    os.chmod(key, 0o644)
    hup("chmod 600")
    assert presented(m, pki) == der(pki / "server2.pem")
    # The same files again change nothing.
    put("server2.pem", "server2.key")
    hup("SIGHUP: TLS certificate unchanged")
    r = tessctl(m.url, "usage", cacert=pki / "ca.pem")
    assert r.returncode == 0, r


def test_replaced_keys_are_freed_once_no_connection_holds_them(cleanup, tmp_path, pki):
    """GnuTLS keeps the pair a handshake got until its session ends: a pair SIGHUP replaced
    stays while a connection whose handshake got it is open, and goes, its key wiped, once
    none is, whatever older or newer pairs are held (GET /v1/stats: http.tls_pairs)."""
    cert, key = tmp_path / "tls.pem", tmp_path / "tls.key"

    def put(c, k):
        cert.write_bytes((pki / c).read_bytes())
        key.write_bytes((pki / k).read_bytes())
        os.chmod(key, 0o600)

    def hup():
        what = "SIGHUP: TLS certificate reloaded"
        n = m.log().count(what)
        m.proc.send_signal(signal.SIGHUP)
        tess.wait_for(lambda: m.log().count(what) > n, 20, what)

    def pairs():
        return m.ok("GET", "stats")["http"]["tls_pairs"]

    put("server.pem", "server.key")
    m = tls_mgr(cleanup, tmp_path, pki, tls_cert=str(cert), tls_key=str(key)).start()
    assert pairs() == 1
    # A connection through its handshake, kept open across two renewals.
    host, port = m.url[len("https://"):].rsplit(":", 1)
    ctx = ssl.create_default_context(cafile=str(pki / "ca.pem"))
    held = ctx.wrap_socket(socket.create_connection((host, int(port)), timeout=30),
                           server_hostname="localhost")
    cleanup.add(held.close)
    assert held.getpeercert(binary_form=True) == der(pki / "server.pem")
    put("server2.pem", "server2.key")
    hup()
    assert pairs() == 2
    put("server.pem", "server.key")
    hup()
    # The second pair, which no handshake got, is freed at once: the open connection holds
    # only the first (before, it pinned every pair installed after it started).
    assert pairs() == 2
    assert presented(m, pki) == der(pki / "server.pem")
    # The held connection still works on what its handshake got.
    held.sendall(f"GET /v1/sites HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {PROVIDER}\r\n"
                 "Connection: close\r\n\r\n".encode())
    answer = b""
    while chunk := held.recv(4096):
        answer += chunk
    assert answer.startswith(b"HTTP/1.1 200"), answer
    held.close()
    tess.wait_for(lambda: pairs() == 1, 20, "the replaced pairs freed")
    # With no connection open, a renewal frees the pair it replaces at once.
    put("server2.pem", "server2.key")
    hup()
    tess.wait_for(lambda: pairs() == 1, 20, "the replaced pair freed")
    assert presented(m, pki) == der(pki / "server2.pem")
    r = tessctl(m.url, "usage", cacert=pki / "ca.pem")
    assert r.returncode == 0, r
