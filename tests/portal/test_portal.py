# SPDX-License-Identifier: BSD-3-Clause
"""The web portal in headless Chromium (selenium) against a real tessmgrd on libvirt's test
driver: a tenant administrator creates a desktop and sees it run and the quota bar move, adds
a user and assigns it a desktop; a user logs in with a password and connects; the provider
sees the tenant's cost for the period and its CSV; a user sees neither another user's desktop
in the page nor by URL; a request from the page without the CSRF header is refused; an idle
session sends the page back to the login. No script error nor CSP refusal in the browser's
console."""
import json
import os
import time

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from browser import chromium, console, text_of, wait
from mgr import ACME, PROVIDER, Mgr

PORTAL = os.path.join(os.path.dirname(__file__), "..", "..", "mgmt", "portal")
PASSWORD = "correct horse battery"


def start(cleanup, tmp_path, **http):
    m = Mgr(cleanup, tmp_path / "mgr", {"http": {"portal_dir": os.path.abspath(PORTAL), **http},
                                        "usage": {"sample_sec": 1}}).start()
    m.site_h1("acme")
    return m


def browser(cleanup, tmp_path, m, name="b"):
    b = chromium(cleanup, str(tmp_path / f"profile-{name}"))
    b.get(m.url + "/")
    wait(b, lambda b: b.find_element(By.ID, "login-token"), what="the login page")
    return b


def login_token(b, token):
    b.find_element(By.ID, "login-token").send_keys(token)
    b.find_element(By.ID, "login-token-submit").click()
    wait(b, lambda b: b.find_element(By.ID, "logout").is_displayed(), what="logged in")


def login_user(b, tenant, user, password):
    b.find_element(By.ID, "login-tenant").send_keys(tenant)
    b.find_element(By.ID, "login-user").send_keys(user)
    b.find_element(By.ID, "login-password").send_keys(password)
    b.find_element(By.ID, "login-user-submit").click()
    wait(b, lambda b: b.find_element(By.ID, "logout").is_displayed(), what="logged in")


def view(b, name, ready):
    b.execute_script("location.hash = arguments[0]", name)
    wait(b, lambda b: b.find_elements(By.CSS_SELECTOR, ready), what=f"view {name}")


def fetch(b, method, path, headers=None, body=None):
    """(status, text) of a fetch() made by the page itself (its cookie, its origin)."""
    r = b.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(arguments[1], {method: arguments[0], headers: arguments[2], body: arguments[3],"
        " credentials: 'same-origin'}).then(r => r.text().then(t => done([r.status, t])),"
        " e => done([0, String(e)]));", method, path, headers or {}, body)
    return r[0], r[1]


def no_script_errors(b):
    bad = [m for m in console(b) if "Uncaught" in m or "Content Security Policy" in m
           or "SyntaxError" in m]
    assert not bad, bad


def meter(b, name):
    return float(b.find_element(By.CSS_SELECTOR, f'meter[data-name="{name}"]').get_attribute("value"))


def test_tenant_admin_creates_a_desktop(cleanup, tmp_path):
    m = start(cleanup, tmp_path)
    b = browser(cleanup, tmp_path, m)
    login_token(b, ACME)
    view(b, "quotas", "meter")
    assert meter(b, "cpus-acme-std") == 0
    view(b, "desktops", "#create-desktop")
    b.find_element(By.ID, "new-desktop-name").send_keys("d1")
    Select(b.find_element(By.ID, "new-desktop-model")).select_by_value("std")
    b.find_element(By.ID, "create-desktop-submit").click()
    # The job's progress is shown live, then the desktop runs.
    wait(b, lambda b: "create: succeeded" in text_of(b, ".job"), what="the create job's end")
    wait(b, lambda b: text_of(b, "#state-d1") == "running", what="d1 running")
    assert m.ok("GET", "desktops", token=ACME)[0]["state"] == "running"
    view(b, "quotas", "meter")
    assert meter(b, "cpus-acme-std") == 2 and meter(b, "mem-acme-std") == 4096
    # Stop from the page: a job, followed to its end.
    view(b, "desktops", "#desktops")
    b.find_element(By.CSS_SELECTOR, 'button[data-action="stop"][data-desktop="d1"]').click()
    wait(b, lambda b: text_of(b, "#state-d1") == "stopped", what="d1 stopped")
    no_script_errors(b)


def test_provider_sees_the_tenant_cost(cleanup, tmp_path):
    m = start(cleanup, tmp_path)
    # A vCPU-second costs 1 EUR: a few seconds of a 2-vCPU desktop cost more than a cent.
    m.ok("PUT", "rates", {"currency": "EUR", "vcpu_hour": 3600, "gib_hour": 0, "models": []})
    m.desktop("d1", ACME)
    deadline = time.time() + 20
    while True:
        now = int(time.time())
        cb = m.ok("GET", f"chargeback?from={now - now % 3600 - 86400}&to={now - now % 3600 + 3600}")
        if cb["total"] >= 2:
            break
        assert time.time() < deadline, cb
        time.sleep(0.5)
    b = browser(cleanup, tmp_path, m)
    login_token(b, PROVIDER)
    view(b, "chargeback", "#chargeback")
    shown = float(b.find_element(By.CSS_SELECTOR, 'span.cost[data-tenant="acme"]').text.split()[0])
    assert shown >= 2
    assert text_of(b, "#chargeback-total").startswith("Total: ")
    href = b.find_element(By.ID, "chargeback-csv").get_attribute("href")
    status, csv = fetch(b, "GET", href)
    assert status == 200 and csv.startswith("tenant,desktop,model,")
    assert "\nacme,d1,std," in csv
    # The hosts' use as bars and charts.
    view(b, "infra", "#hosts")
    assert meter(b, "host-cpus-h1") == 2
    # vCPU-hours over the period: a bar for this hour's bucket.
    assert b.find_elements(By.CSS_SELECTOR, 'svg[aria-label^="vCPU-hours reserved"] rect.bar')
    no_script_errors(b)


def users_and_desktops(m):
    """Users alice and bob of acme, desktops d1 (alice's) and d2 (bob's): their ids."""
    for u in ("alice", "bob"):
        m.ok("POST", "users", {"name": u, "tenant": "acme", "password": PASSWORD,
                               "display_name": u.title()})
    ids = {}
    for d, u in (("d1", "alice"), ("d2", "bob")):
        ids[d] = m.desktop(d, ACME)["id"]
        m.ok("PUT", f"desktops/{ids[d]}/users", {"users": [u]}, token=ACME)
    return ids


def alice_logged_in(cleanup, tmp_path):
    """tessmgrd with users_and_desktops, and a browser where alice has logged in."""
    m = start(cleanup, tmp_path)
    ids = users_and_desktops(m)
    b = browser(cleanup, tmp_path, m)
    login_user(b, "acme", "alice", PASSWORD)
    wait(b, lambda b: b.find_elements(By.ID, f"desktop-{ids['d1']}"), what="alice's desktop")
    return m, ids, b


def test_user_logs_in_and_connects(cleanup, tmp_path):
    m, ids, b = alice_logged_in(cleanup, tmp_path)
    assert text_of(b, "#state-d1") == "running"
    b.find_element(By.ID, f"from-{ids['d1']}").send_keys("paris")
    b.find_element(By.ID, f"connect-{ids['d1']}").click()
    wait(b, lambda b: "host h1 at site paris" in text_of(b, f"#where-{ids['d1']}"),
         what="where to connect")
    no_script_errors(b)


def test_user_cannot_see_another_users_desktop(cleanup, tmp_path):
    m, ids, b = alice_logged_in(cleanup, tmp_path)
    assert not b.find_elements(By.ID, f"desktop-{ids['d2']}")
    assert "d2" not in b.find_element(By.ID, "main").text
    # Nor by URL: the API answers 404 for bob's desktop, from the page and in the address bar.
    status, text = fetch(b, "GET", f"/v1/desktops/{ids['d2']}")
    assert status == 404, text
    status, text = fetch(b, "POST", f"/v1/desktops/{ids['d2']}/connect",
                         {"X-CSRF-Token": csrf(b), "Content-Type": "application/json"},
                         json.dumps({"from": "paris"}))
    assert status == 404, text
    b.get(f"{m.url}/v1/desktops/{ids['d2']}")
    assert '"status":404' in b.find_element(By.TAG_NAME, "body").text
    # The admin's views are not the user's: the API refuses them.
    assert fetch(b, "GET", "/v1/users")[0] == 403


def csrf(b):
    status, text = fetch(b, "GET", "/v1/session")
    assert status == 200, text
    return json.loads(text)["csrf"]


def acme_admin_with_d1(cleanup, tmp_path):
    """tessmgrd with acme's desktop d1, and a browser where acme's admin has logged in."""
    m = start(cleanup, tmp_path)
    d = m.desktop("d1", ACME)
    b = browser(cleanup, tmp_path, m)
    login_token(b, ACME)
    view(b, "desktops", "#desktops")
    return m, d, b


def test_csrf_refused(cleanup, tmp_path):
    m, d, b = acme_admin_with_d1(cleanup, tmp_path)
    body = json.dumps({"name": "d2", "model": "std"})
    ct = {"Content-Type": "application/json"}
    for headers in (ct, {**ct, "X-CSRF-Token": "x" * 43}):
        status, text = fetch(b, "POST", "/v1/desktops", headers, body)
        assert status == 403 and "CSRF" in text, (status, text)
        assert fetch(b, "DELETE", f"/v1/desktops/{d['id']}", headers)[0] == 403
    assert [x["name"] for x in m.ok("GET", "desktops", token=ACME)] == ["d1"]
    # With the session's token it is taken.
    status, text = fetch(b, "POST", "/v1/desktops", {**ct, "X-CSRF-Token": csrf(b)}, body)
    assert status == 202, text


def test_idle_session_goes_back_to_login(cleanup, tmp_path):
    m = start(cleanup, tmp_path, session_idle_sec=3)
    b = browser(cleanup, tmp_path, m)
    login_token(b, ACME)
    view(b, "desktops", "#create-desktop")
    # Nothing done for the idle time: the page asks, is told 401, and shows the login.
    wait(b, lambda b: b.find_elements(By.ID, "login-token"), timeout=15, what="back to login")
    assert "session has ended" in text_of(b, "#status")
    assert not b.find_element(By.ID, "logout").is_displayed()
    assert fetch(b, "GET", "/v1/session")[0] == 401
    # Logging in again works.
    login_token(b, ACME)
    view(b, "desktops", "#create-desktop")


def test_tenant_admin_adds_a_user_and_assigns_a_desktop(cleanup, tmp_path):
    m, d, b = acme_admin_with_d1(cleanup, tmp_path)
    view(b, "users", "#create-user")
    b.find_element(By.ID, "new-user-name").send_keys("carol")
    b.find_element(By.ID, "new-user-display").send_keys("Carol C.")
    b.find_element(By.ID, "new-user-password").send_keys(PASSWORD)
    b.find_element(By.CSS_SELECTOR, "#create-user button").click()
    wait(b, lambda b: "carol" in text_of(b, "#users"), what="carol listed")
    view(b, "desktops", f"#users-of-{d['id']}")
    b.find_element(By.ID, f"users-of-{d['id']}").send_keys("carol")
    b.find_element(By.ID, f"users-of-{d['id']}").submit()
    wait(b, lambda b: m.ok("GET", f"desktops/{d['id']}", token=ACME).get("users") == ["carol"],
         what="d1 assigned to carol")
    no_script_errors(b)
    # carol logs in (after the admin logs out) and finds her desktop.
    b.find_element(By.ID, "logout").click()
    wait(b, lambda b: b.find_element(By.ID, "login-user").is_displayed(), what="logged out")
    login_user(b, "acme", "carol", PASSWORD)
    wait(b, lambda b: b.find_elements(By.ID, f"desktop-{d['id']}"), what="carol's desktop")
