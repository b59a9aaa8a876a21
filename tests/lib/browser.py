# SPDX-License-Identifier: BSD-3-Clause
"""Headless Chromium through selenium (Debian's chromium, chromium-driver, python3-selenium)
for the portal's tests: a profile of its own under the test's directory, no sandbox (the tests
run as root), the browser's console kept for failures."""
import os
import time

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

CHROMEDRIVER = "/usr/bin/chromedriver"


def chromium(cleanup, profile_dir):
    os.makedirs(profile_dir, exist_ok=True)
    o = webdriver.ChromeOptions()
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              f"--user-data-dir={profile_dir}", "--no-first-run", "--disable-extensions",
              "--window-size=1280,1000"):
        o.add_argument(a)
    o.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    d = webdriver.Chrome(service=Service(CHROMEDRIVER), options=o)
    d.set_page_load_timeout(30)
    cleanup.add(d.quit)
    return d


def console(d):
    """The browser's console since the last call (errors of the page's scripts, CSP refusals)."""
    try:
        return [e["message"] for e in d.get_log("browser")]
    except WebDriverException:
        return []


def wait(d, pred, timeout=20, what="condition"):
    """pred(d)'s first true value within timeout, else AssertionError with the page's text."""
    deadline = time.time() + timeout
    while True:
        try:
            v = pred(d)
            if v:
                return v
        except (StaleElementReferenceException, WebDriverException):
            pass
        if time.time() > deadline:
            body = d.find_element(By.TAG_NAME, "body").text
            raise AssertionError(f"{what} not met in {timeout}s; page:\n{body}\nconsole: {console(d)}")
        time.sleep(0.1)


def text_of(d, css):
    els = d.find_elements(By.CSS_SELECTOR, css)
    return els[0].text if els else ""
