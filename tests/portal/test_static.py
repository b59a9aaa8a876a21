# SPDX-License-Identifier: BSD-3-Clause
"""tessmgrd's static serving of the portal (http.portal_dir): files at / with the security
headers (a page under /portal/, its older name, redirected to the root with its query, other
files there served too), GET and HEAD only, confined to the directory (no .., no symlink out,
no hidden files, no FIFO, nothing past the size limit or outside the types allowed), and the
API untouched beside it; noVNC's RFB client (http.novnc_dir) at /novnc/ (and /portal/novnc/)
under the same rules, its core/ and vendor/ modules only."""
import http.client
import os

from mgr import Mgr

CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
       "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x00"


def raw(m, method, path):
    """(status, headers, body) of a request sent with its path exactly as given."""
    host, port = m.url.split("//")[1].rsplit(":", 1)
    c = http.client.HTTPConnection(host, int(port), timeout=10)
    c.putrequest(method, path, skip_accept_encoding=True)
    c.endheaders()
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, {k.lower(): v for k, v in r.getheaders()}, body


def portal(cleanup, tmp_path):
    web = tmp_path / "web"
    (web / "views").mkdir(parents=True)
    (web / "index.html").write_text("<!doctype html><title>T</title>")
    (web / "app.js").write_text("export const x = 1;\n")
    (web / "views" / "a.js").write_text("export const a = 2;\n")
    (web / "logo.png").write_bytes(PNG)
    (web / ".hidden.js").write_text("secret")
    (web / "run.sh").write_text("#!/bin/sh\n")
    (web / "big.js").write_bytes(b"x" * (1024 * 1024 + 1))
    (tmp_path / "secret.txt").write_text("outside")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "b.js").write_text("outside")
    os.symlink(tmp_path / "secret.txt", web / "link.txt")
    os.symlink(tmp_path / "outside", web / "dir")
    os.mkfifo(web / "fifo.js")
    return Mgr(cleanup, tmp_path / "m", {"http": {"portal_dir": str(web)}}).start()


def test_files_and_headers(cleanup, tmp_path):
    m = portal(cleanup, tmp_path)
    for path in ("/", "/index.html"):
        status, h, body = raw(m, "GET", path)
        assert (status, body) == (200, b"<!doctype html><title>T</title>"), path
        assert h["content-type"] == "text/html; charset=utf-8"
        assert h["content-security-policy"] == CSP
        assert h["x-content-type-options"] == "nosniff"
        assert h["referrer-policy"] == "no-referrer"
        assert h["x-frame-options"] == "DENY"
    # A page under /portal/ goes to the root (its calls are relative to it), relative to the
    # request's own URL so that a proxy's base path stays, the query percent-encoded again.
    for path, where in (("/portal", "./"), ("/portal/", "../"),
                        ("/portal/index.html", "../index.html"),
                        ("/portal/views/", "../../views/"),
                        ("/portal/console.html?desktop=7&type=serial",
                         "../console.html?desktop=7&type=serial"),
                        ("/portal/console.html?q=a%20b%26c&flag", "../console.html?q=a%20b%26c&flag"),
                        # The path comes decoded too: encoded again, no header of its own.
                        ("/portal/x%0d%0aSet-Cookie:%20a=b.html",
                         "../x%0D%0ASet-Cookie%3A%20a%3Db.html"),
                        ("/portal/%C3%A9/?%3F=%26", "../../%C3%A9/?%3F=%26")):
        status, h, body = raw(m, "GET", path)
        assert (status, h.get("location")) == (308, where), (path, status, h)
        assert "set-cookie" not in h
        assert h["content-security-policy"] == CSP
    status, h, _ = raw(m, "GET", "/portal/console.html?q=" + "x" * 1100)
    assert status == 414 and "location" not in h
    status, h, body = raw(m, "GET", "/portal/views/a.js")
    assert (status, h["content-type"], body) == (200, "text/javascript; charset=utf-8",
                                                 b"export const a = 2;\n")
    # A binary file whole, NULs included.
    status, h, body = raw(m, "GET", "/logo.png")
    assert (status, h["content-type"], body) == (200, "image/png", PNG)
    status, h, body = raw(m, "HEAD", "/app.js")
    assert (status, body, h["content-length"]) == (200, b"", "20")
    assert h["content-security-policy"] == CSP


def test_methods(cleanup, tmp_path):
    m = portal(cleanup, tmp_path)
    for method in ("POST", "PUT", "DELETE", "OPTIONS"):
        status, h, body = raw(m, method, "/index.html")
        assert (status, h["allow"]) == (405, "GET, HEAD"), method
        assert h["content-security-policy"] == CSP


def test_confined_to_the_directory(cleanup, tmp_path):
    m = portal(cleanup, tmp_path)
    for path in ("/../secret.txt", "/%2e%2e/secret.txt", "/portal/..%2fsecret.txt",
                 "/views/../../secret.txt", "/portal/../../secret.txt", "/link.txt",
                 "/dir/b.js", "/portal/dir/b.js", "/.hidden.js", "/run.sh", "/fifo.js",
                 "/big.js", "/nothing.js", "/views", "/views/", "//etc/passwd",
                 "/a/b/c/d/e.js", "/app.js/"):
        status, h, body = raw(m, "GET", path)
        assert status == 404, (path, status, body)
        assert b"outside" not in body and b"secret" not in body
        assert h["content-type"] == "text/plain; charset=utf-8"
        assert h["content-security-policy"] == CSP
    # The server decodes %00 and the path ends there: the file's own name and type, whole.
    status, h, body = raw(m, "GET", "/app.js%00.png")
    assert (status, h["content-type"]) == (200, "text/javascript; charset=utf-8")


def test_api_beside_the_portal(cleanup, tmp_path):
    m = portal(cleanup, tmp_path)
    assert m.call("GET", "usage", token=None)[0] == 401
    assert m.call("GET", "usage")[0] == 200
    assert raw(m, "GET", "/metrics")[0] == 401
    assert raw(m, "GET", "/v1")[1]["content-type"] == "application/json"
    # No portal configured: paths outside /v1/ stay 404 with the API's JSON error.
    off = Mgr(cleanup, tmp_path / "off").start()
    status, h, body = raw(off, "GET", "/index.html")
    assert (status, h["content-type"]) == (404, "application/json")


NOVNC = "/usr/share/novnc"  # Debian's novnc package, tessmgrd's default http.novnc_dir


def novnc(cleanup, tmp_path, **http):
    """tessmgrd with a portal and a noVNC directory made here (its trees, a page, links out)."""
    web, nv = tmp_path / "web", tmp_path / "novnc"
    web.mkdir(parents=True)
    (web / "index.html").write_text("portal")
    for d in ("core/util", "vendor/pako/lib/zlib", "app", "core/a/b/c/d/e"):
        (nv / d).mkdir(parents=True)
    (nv / "core" / "rfb.js").write_text("export default 1;\n")
    (nv / "core" / "util" / "int.js").write_text("export const i = 1;\n")
    (nv / "vendor" / "pako" / "lib" / "zlib" / "inflate.js").write_text("export const z = 1;\n")
    (nv / "core" / "a" / "b" / "c" / "d" / "e" / "f.js").write_text("too deep")
    (nv / "core" / "a" / "b" / "c" / "d" / "g.js").write_text("export const g = 6;\n")
    (nv / "core" / "logo.png").write_bytes(PNG)
    (nv / "core" / "notes.txt").write_text("text")
    (nv / "app" / "ui.js").write_text("app")
    (nv / "vnc.html").write_text("page")
    (tmp_path / "secret.js").write_text("outside")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "b.js").write_text("outside")
    os.symlink(tmp_path / "secret.js", nv / "core" / "link.js")
    os.symlink(tmp_path / "outside", nv / "vendor" / "dir")
    return Mgr(cleanup, tmp_path / "m", {"http": {"portal_dir": str(web), "novnc_dir": str(nv),
                                                  **http}}).start()


def test_novnc_modules(cleanup, tmp_path):
    m = novnc(cleanup, tmp_path)
    for rel, body in (("core/rfb.js", b"export default 1;\n"),
                      ("core/util/int.js", b"export const i = 1;\n"),
                      ("vendor/pako/lib/zlib/inflate.js", b"export const z = 1;\n"),
                      ("core/a/b/c/d/g.js", b"export const g = 6;\n")):
        for path in ("/novnc/" + rel, "/portal/novnc/" + rel):
            status, h, got = raw(m, "GET", path)
            assert (status, got) == (200, body), path
            assert h["content-type"] == "text/javascript; charset=utf-8"
            assert h["content-security-policy"] == CSP
            assert h["x-content-type-options"] == "nosniff"
    status, h, got = raw(m, "HEAD", "/portal/novnc/core/rfb.js")
    assert (status, got, h["content-length"]) == (200, b"", "18")
    status, h, got = raw(m, "POST", "/portal/novnc/core/rfb.js")
    assert (status, h["allow"]) == (405, "GET, HEAD")
    # The portal beside it is unchanged.
    assert raw(m, "GET", "/")[2] == b"portal"


def test_novnc_confined(cleanup, tmp_path):
    m = novnc(cleanup, tmp_path)
    bad = ("novnc/app/ui.js", "novnc/vnc.html", "novnc/", "novnc", "novnc/core/",
           "novnc/core", "novnc/core/logo.png", "novnc/core/notes.txt", "novnc/core/link.js",
           "novnc/vendor/dir/b.js", "novnc/core/../app/ui.js", "novnc/core/%2e%2e/vnc.html",
           "novnc/core/..%2f..%2fsecret.js", "novnc/../secret.js", "novnc//core/rfb.js",
           "novnc/core//rfb.js", "novnc/core/a/b/c/d/e/f.js", "novnc/core/rfb.js/",
           "novnc/core/.rfb.js")
    for path in [p + b for b in bad for p in ("/", "/portal/")]:
        status, h, body = raw(m, "GET", path)
        assert status == 404, (path, status, body)
        assert b"outside" not in body and b"too deep" not in body and b"app" not in body
        assert h["content-type"] == "text/plain; charset=utf-8"
        assert h["content-security-policy"] == CSP
    # No noVNC configured: none of it is served.
    off = novnc(cleanup, tmp_path / "off", novnc_dir="")
    assert raw(off, "GET", "/novnc/core/rfb.js")[0] == 404
    assert raw(off, "GET", "/portal/novnc/core/rfb.js")[0] == 404
    assert raw(off, "GET", "/")[0] == 200


def test_novnc_default_is_debians(cleanup, tmp_path):
    web = tmp_path / "web"
    web.mkdir()
    m = Mgr(cleanup, tmp_path / "m", {"http": {"portal_dir": str(web)}}).start()
    for rel in ("core/rfb.js", "vendor/pako/lib/zlib/inflate.js"):
        with open(os.path.join(NOVNC, rel), "rb") as f:
            want = f.read()
        status, h, body = raw(m, "GET", "/novnc/" + rel)
        assert (status, body) == (200, want), rel
    assert raw(m, "GET", "/novnc/vnc.html")[0] == 404
