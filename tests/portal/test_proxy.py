# SPDX-License-Identifier: BSD-3-Clause
"""The portal behind a reverse proxy at a base path (nginx at /tess/, its Host header its own
upstream's, as nginx sends by default): the pages' API calls, console links, noVNC and the
console's ticket all stay under the base path; a login from the proxy's public origin is
accepted because http.origins names it, and one from any other origin is refused; an origin
that is not one (a path, no scheme) is a config error."""
import http.client
import json
import subprocess

from selenium.webdriver.common.by import By

from browser import chromium, text_of, wait
from mgr import ACME, TESSMGRD, Mgr
from revproxy import Nginx, free_port
from test_portal import PORTAL, login_token, no_script_errors, view


def post_login(nginx, origin):
    """The status of a token login through the proxy, sent with origin as its Origin."""
    c = http.client.HTTPConnection("127.0.0.1", nginx.port, timeout=10)
    c.request("POST", "/tess/v1/login", json.dumps({"token": ACME}),
              {"Content-Type": "application/json", "Origin": origin})
    r = c.getresponse()
    r.read()
    c.close()
    return r.status


def test_portal_under_a_base_path(cleanup, tmp_path):
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    m = Mgr(cleanup, tmp_path / "mgr", {"http": {"portal_dir": PORTAL, "origins": [public]}})
    m.start()
    m.site_h1("acme")
    d = m.desktop("d1", ACME)
    nginx = Nginx(cleanup, tmp_path / "nginx", m.url, base="/tess", port=port)
    # Not the proxy's origin, nor tessmgrd's own (nginx sends its upstream as Host): refused.
    assert post_login(nginx, "http://127.0.0.1:1") == 403
    assert post_login(nginx, public) == 200
    b = chromium(cleanup, str(tmp_path / "profile"))
    # The portal's older name redirects to its root, under the base path.
    b.get(nginx.url + "/portal/")
    wait(b, lambda b: b.find_element(By.ID, "login-token"), what="the login page")
    assert b.current_url == nginx.url + "/", b.current_url
    login_token(b, ACME)
    view(b, "desktops", "#desktops")
    wait(b, lambda b: text_of(b, "#state-d1") == "running", what="d1 running")
    href = b.find_element(By.ID, f"console-vnc-{d['id']}").get_attribute("href")
    assert href == f"{nginx.url}/console.html?desktop={d['id']}"
    # The console page asks for its ticket under the base path: a test-driver desktop has
    # no console, which the API says (a 409, not the proxy's 404 of a path at its root).
    b.get(href)
    wait(b, lambda b: b.find_element(By.ID, "console-state").get_attribute("data-state")
         == "closed", what="the console's answer")
    assert "no console" in text_of(b, "#console-reason"), text_of(b, "#console-reason")
    # noVNC's modules, beside the page.
    kind = b.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "import(new URL('novnc/core/rfb.js', document.baseURI)).then(m => done(typeof m.default),"
        " e => done(String(e)));")
    assert kind == "function", kind
    no_script_errors(b)
    with open(nginx.tmp + "/access.log") as f:
        paths = [line.split('"')[1].split()[1] for line in f if '"' in line]
    assert paths and all(p.startswith("/tess/") for p in paths), paths
    assert any(p.startswith("/tess/v1/desktops") for p in paths), paths


def test_origins_must_be_origins(cleanup, tmp_path):
    for i, bad in enumerate(("https://desk.example.com/", "desk.example.com", "ftp://desk.example.com",
                "https://", "https://desk.example.com/tess", "https://u@desk.example.com")):
        m = Mgr(cleanup, tmp_path / f"m{i}", {"http": {"origins": [bad]}})
        with open(m.config_path, "w") as f:
            json.dump(m.config, f)
        r = subprocess.run([TESSMGRD, "-c", m.config_path, "--check"], capture_output=True,
                           text=True, timeout=60)
        assert r.returncode == 1 and "is not an origin" in r.stderr, (bad, r)
