# SPDX-License-Identifier: BSD-3-Clause
"""The portal's desktop console in headless Chromium: the Console and Serial console links of a
running desktop in the user's and the tenant administrator's views; noVNC's RFB client
(Debian's novnc, served by tessmgrd at /novnc/) loading under the portal's CSP; on a
real QEMU desktop (tests/lib/real_host.py and guest.py, as tests/mgmt/test_real_desktop.py), a
user follows the Console link and noVNC reaches the state connected with a framebuffer of
non-zero size, the Serial console link shows the guest's console text and takes keys, and
another user's console by URL is refused in the page."""
import json
import os
import time

from selenium.webdriver.common.by import By

import guest
from browser import console, text_of, wait
from mgr import ACME, Mgr
from real_host import RealHost
from test_portal import PASSWORD, browser, fetch, login_token, login_user, start, view

PORTAL = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "mgmt", "portal"))
GW = "10.20.0.1"
POOL = ("10.20.0.100", "10.20.0.109")


def no_script_errors(b):
    bad = [m for m in console(b) if "Uncaught" in m or "Content Security Policy" in m
           or "SyntaxError" in m or "Refused" in m]
    assert not bad, bad


def state(b):
    """(state, reason) the console page shows."""
    s = b.find_element(By.ID, "console-state")
    return s.get_attribute("data-state"), text_of(b, "#console-reason")


def closed(b):
    return state(b)[0] == "closed"


def follow(b, link_id):
    """Clicks a console link (it opens a tab of its own) and goes to that tab."""
    before = set(b.window_handles)
    b.find_element(By.ID, link_id).click()
    new = wait(b, lambda b: set(b.window_handles) - before, what=f"{link_id}'s tab")
    b.switch_to.window(new.pop())
    wait(b, lambda b: b.find_elements(By.ID, "console-state"), what="the console page")


def test_links_and_novnc_under_the_csp(cleanup, tmp_path):
    m = start(cleanup, tmp_path)
    d = m.desktop("d1", ACME)
    m.ok("POST", "users", {"name": "alice", "tenant": "acme", "password": PASSWORD})
    m.ok("PUT", f"desktops/{d['id']}/users", {"users": ["alice"]}, token=ACME)
    b = browser(cleanup, tmp_path, m)
    login_token(b, ACME)
    view(b, "desktops", "#desktops")
    href = b.find_element(By.ID, f"console-vnc-{d['id']}").get_attribute("href")
    assert href == f"{m.url}/console.html?desktop={d['id']}"
    serial = b.find_element(By.ID, f"console-serial-{d['id']}").get_attribute("href")
    assert serial == f"{m.url}/console.html?desktop={d['id']}&type=serial"
    # noVNC's modules (all of rfb.js's imports) load under the page's CSP.
    b.get(m.url + "/console.html")
    wait(b, closed, what="the page without a desktop")
    kind = b.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "import(new URL('novnc/core/rfb.js', document.baseURI)).then(m => done(typeof m.default),"
        " e => done(String(e)));")
    assert kind == "function"
    no_script_errors(b)
    # A stopped desktop has no link.
    b.get(m.url + "/#desktops")
    wait(b, lambda b: b.find_elements(By.ID, f"console-vnc-{d['id']}"), what="the link")
    b.find_element(By.CSS_SELECTOR, 'button[data-action="stop"][data-desktop="d1"]').click()
    wait(b, lambda b: text_of(b, "#state-d1") == "stopped", what="d1 stopped")
    assert not b.find_elements(By.ID, f"console-vnc-{d['id']}")
    # A test-driver desktop has no console: the page says why (the API's 409).
    m.wait_job(m.ok("POST", f"desktops/{d['id']}/start", token=ACME)["job"]["id"], token=ACME)
    b2 = browser(cleanup, tmp_path, m, "user")
    login_user(b2, "acme", "alice", PASSWORD)
    wait(b2, lambda b: b.find_elements(By.ID, f"console-vnc-{d['id']}"), what="alice's link")
    follow(b2, f"console-vnc-{d['id']}")
    wait(b2, closed, what="the console refused")
    assert "no console" in state(b2)[1], state(b2)
    no_script_errors(b2)


def real_portal(cleanup, tmp_path):
    """tessmgrd with the portal and a real QEMU host, users alice and bob of acme, each with a
    running desktop (d1 alice's, d2 bob's): (m, {name: id})."""
    vmlinuz, initrd = guest.boot_files()
    h = RealHost(cleanup, tmp_path, GW, POOL)
    # The guest's init does not power off on ACPI's button: a stop waits stop_timeout_sec.
    m = Mgr(cleanup, tmp_path / "mgr", {"http": {"portal_dir": PORTAL},
                                        "jobs": {"stop_timeout_sec": 2}}).start()
    m.site(storage=h.dirs["storage"])
    m.ok("POST", "hosts", h.body())
    m.tenant("acme", 100)
    m.ok("POST", "models", {"name": "tiny", "vcpus": 1, "memory_mb": 96,
                            "base_image": "tiny.qcow2", "kernel": vmlinuz, "initrd": initrd,
                            "cmdline": guest.CMDLINE + " tess.after=shell"})
    m.quota("acme", model="tiny", cpus=2, memory_mb=1024)
    ids = {}
    for d, u in (("d1", "alice"), ("d2", "bob")):
        m.ok("POST", "users", {"name": u, "tenant": "acme", "password": PASSWORD})
        ids[d] = m.desktop(d, ACME, model="tiny")["id"]
        m.ok("PUT", f"desktops/{ids[d]}/users", {"users": [u]}, token=ACME)
    guest.wait_console(os.path.join(h.dirs["console"], f"desk{ids['d1']}.log"), timeout=180)
    return m, ids


def test_user_opens_the_console_of_a_real_desktop(cleanup, tmp_path):
    m, ids = real_portal(cleanup, tmp_path)
    b = browser(cleanup, tmp_path, m)
    login_user(b, "acme", "alice", PASSWORD)
    d1 = ids["d1"]
    wait(b, lambda b: b.find_elements(By.ID, f"console-vnc-{d1}"), what="d1's console link")
    portal = b.current_window_handle

    # The serial console: the guest's shell answers on ttyS0 what is typed in the page.
    follow(b, f"console-serial-{d1}")
    wait(b, lambda b: state(b)[0] in ("connected", "closed"), timeout=30, what="the serial")
    assert state(b)[0] == "connected", state(b)
    term = b.find_element(By.ID, "console-serial")
    term.send_keys("echo TESS-$((6*7))-OK\n")
    wait(b, lambda b: "TESS-42-OK" in text_of(b, "#console-serial"), timeout=30,
         what="the guest's answer on the serial console")
    assert "<" not in b.execute_script("return arguments[0].innerHTML", term).replace("&lt;", "")
    no_script_errors(b)
    b.close()

    # The screen: noVNC connected to QEMU's VNC through tessmgrd, its framebuffer's size shown.
    # (After the serial console: Ctrl-Alt-Del is SIGINT to the guest's init, its shell.)
    b.switch_to.window(portal)
    follow(b, f"console-vnc-{d1}")
    wait(b, lambda b: state(b)[0] in ("connected", "closed"), timeout=30, what="the console")
    assert state(b)[0] == "connected", state(b)
    size = b.find_element(By.ID, "console-size")
    w, h = int(size.get_attribute("data-width")), int(size.get_attribute("data-height"))
    assert w > 0 and h > 0 and text_of(b, "#console-size") == f"{w}x{h}"
    canvas = b.find_element(By.CSS_SELECTOR, "#console-screen canvas")
    assert (int(canvas.get_attribute("width")), int(canvas.get_attribute("height"))) == (w, h)
    assert b.find_element(By.ID, "console-cad").is_enabled()
    b.find_element(By.ID, "console-cad").click()
    time.sleep(1)
    assert state(b)[0] == "connected", state(b)
    no_script_errors(b)
    # The desktop stops: the server closes the console, the page says so and why.
    m.wait_job(m.ok("POST", f"desktops/{d1}/stop", token=ACME)["job"]["id"], token=ACME)
    wait(b, closed, timeout=30, what="the console closed by the desktop's stop")
    assert state(b)[1] and not b.find_element(By.ID, "console-cad").is_enabled(), state(b)
    b.close()

    # bob's desktop by URL: refused in the page (the API's 404), nothing opened.
    b.switch_to.window(portal)
    for kind in ("", "&type=serial"):
        b.get(f"{m.url}/console.html?desktop={ids['d2']}{kind}")
        wait(b, closed, what="bob's console refused")
        assert state(b)[1] == f"no desktop {ids['d2']}", state(b)
        assert not b.find_elements(By.CSS_SELECTOR, "#console-screen canvas, #console-serial")
    status, text = fetch(b, "GET", "/v1/session")
    csrf = json.loads(text)["csrf"]
    status, text = fetch(b, "POST", f"/v1/desktops/{ids['d2']}/console",
                         {"X-CSRF-Token": csrf, "Content-Type": "application/json"},
                         '{"type": "vnc"}')
    assert status == 404, text
