# SPDX-License-Identifier: BSD-3-Clause
"""tessmgrd for tests: a private state directory, store, token file and site storage with a
real qcow2 base image; libvirt test-driver hosts (in-process, or on a libvirtd of the test's
own that it stops and starts); a JSON client of its HTTP API."""
import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import time
import urllib.error
import urllib.request

import tess
from libvirtd import Libvirtd

TESSMGRD = os.path.join(tess.BUILD, "mgmt", "tessmgrd")

PROVIDER = "provider-token-0123456789"
ACME = "acme-admin-token-0123456789"
BRAVO = "bravo-admin-token-012345678"


def token_entry(token, principal, role, tenant=None):
    """A token file entry: the token's SHA-256, as `tessctl token new` prints it."""
    e = {"sha256": hashlib.sha256(token.encode()).hexdigest(), "principal": principal,
         "role": role}
    if tenant:
        e["tenant"] = tenant
    return e


def write_tokens(path, tokens):
    """The token file, private (tessmgrd refuses one others can write)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(tokens, f)


TOKENS = {"tokens": [
    token_entry(PROVIDER, "ops", "provider"),
    token_entry(ACME, "alice", "tenant", "acme"),
    token_entry(BRAVO, "bob", "tenant", "bravo"),
]}
BASE_IMAGE = "win11.qcow2"
VLANS = {"acme": 100, "bravo": 200}  # the tenants of site_h1
# A row of tessmgrd's usage table as tests put it into the store (cpu_unknown_s: 0).
USAGE_ROW = ("INSERT INTO usage (step, t, tenant_id, desktop_id, secs, vcpu_s, mem_mib_s, "
             "run_s, cpu_ns) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")


class MgrError(RuntimeError):
    pass


class Session:
    """A browser's view: the session cookie, and the CSRF token on mutating requests."""

    def __init__(self, m, cookie, csrf):
        self.m, self.cookie, self.csrf = m, cookie, csrf

    def call(self, method, path, body=None, csrf=None, headers=None):
        """csrf: the X-CSRF-Token to send instead of the session's (False: none)."""
        h = {"Cookie": f"tess_session={self.cookie}"}
        if method not in ("GET", "HEAD") and csrf is not False:
            h["X-CSRF-Token"] = self.csrf if csrf is None else csrf
        h.update(headers or {})
        return self.m.call(method, path, body, token=None, headers=h)


class Mgr:
    def __init__(self, cleanup, tmp_path, config=None):
        self.cleanup = cleanup
        self.dir = str(tmp_path)
        self.state = os.path.join(self.dir, "state")
        self.storage = os.path.join(self.dir, "storage")
        os.makedirs(self.state, exist_ok=True)
        os.makedirs(self.storage, exist_ok=True)
        # Image pushes read from here (tests make their new versions in tmp_path).
        self.imports = self.dir
        base = os.path.join(self.storage, BASE_IMAGE)
        if not os.path.exists(base):
            tess.sh("qemu-img", "create", "-q", "-f", "qcow2", base, "16M")
        self.tokens = os.path.join(self.dir, "tokens.json")
        write_tokens(self.tokens, TOKENS)
        self.config = {"listen": "127.0.0.1", "port": 0,
                       "store": os.path.join(self.dir, "store.db"), "state_dir": self.state,
                       "tokens": self.tokens, "import_dir": self.imports,
                       "jobs": {"workers": 4, "per_host": 2}}
        for k, v in (config or {}).items():
            if isinstance(v, dict):
                self.config.setdefault(k, {}).update(v)
            else:
                self.config[k] = v
        self.config_path = os.path.join(self.dir, "tessmgrd.json")
        self.log_path = os.path.join(self.dir, "tessmgrd.log")
        self.proc = None
        self.url = None
        self.http_timeout = 30
        self.env = {}  # added to tessmgrd's environment (e.g. TESS_FAULT)
        self.wrap = []  # a command that execs tessmgrd's argv (e.g. in a mount namespace)
        self.ssl_context = None  # for https:// (tests/mgmt/test_tls.py)

    def base_url(self, port):
        """scheme://host:port of the config's listen (an IPv6 address in brackets)."""
        scheme = "https" if self.config.get("http", {}).get("tls_cert") else "http"
        host = self.config["listen"]
        if host.startswith("["):
            host = host[:host.index("]") + 1]
        elif host.count(":") == 1:
            host = host.split(":")[0]
        elif ":" in host:
            host = f"[{host}]"
        host = {"0.0.0.0": "127.0.0.1", "[::]": "[::1]"}.get(host, host)
        return f"{scheme}://{host}:{port}"

    def start(self, timeout=20):
        with open(self.config_path, "w") as f:
            json.dump(self.config, f)
        port_file = os.path.join(self.state, "port")
        if os.path.exists(port_file):
            os.unlink(port_file)
        self.logf = open(self.log_path, "a")
        self.proc = subprocess.Popen([*self.wrap, TESSMGRD, "-c", self.config_path],
                                     stdout=self.logf, stderr=subprocess.STDOUT,
                                     env={**os.environ, **self.env})
        self.cleanup.add(self.kill)
        tess.sanitizer_watch(self.log_path)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise MgrError(f"tessmgrd exited with {self.proc.returncode}:\n{self.log()}")
            if os.path.exists(port_file):
                with open(port_file) as f:
                    text = f.read().strip()
                if text:
                    self.url = self.base_url(text)
                    return self
            time.sleep(0.05)
        raise MgrError(f"tessmgrd not ready after {timeout}s:\n{self.log()}")

    def log(self):
        return tess.read_log(self.log_path)

    def stop(self, sig=signal.SIGTERM, timeout=20):
        self.proc.send_signal(sig)
        rc = self.proc.wait(timeout)
        self.logf.close()
        return rc

    def kill(self):
        tess.end_daemon(self.proc, getattr(self, "logf", None))

    def call(self, method, path, body=None, token=PROVIDER, raw=None, headers=None):
        """(status, JSON answer) of method /v1/path."""
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None
                                            else None)
        req = urllib.request.Request(self.url + "/v1/" + path, data=data, method=method)
        if token is not None:
            req.add_header("Authorization", f"Bearer {token}")
        req.add_header("Content-Type", "application/json")
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=self.http_timeout,
                                        context=self.ssl_context) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            text = e.read()
            try:
                return e.code, json.loads(text)
            except ValueError:
                return e.code, text

    def login(self, body):
        """(status, answer, response headers) of POST /v1/login."""
        req = urllib.request.Request(self.url + "/v1/login", data=json.dumps(body).encode(),
                                     method="POST", headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=self.http_timeout,
                                        context=self.ssl_context) as r:
                return r.status, json.loads(r.read()), r.headers
        except urllib.error.HTTPError as e:
            text = e.read()
            return e.code, json.loads(text) if text else None, e.headers

    def session(self, body):
        """A logged-in Session (MgrError if the login fails)."""
        status, r, headers = self.login(body)
        if status != 200:
            raise MgrError(f"login: {status} {r}")
        cookie = headers["Set-Cookie"].split(";")[0].split("=", 1)[1]
        return Session(self, cookie, r["csrf"])

    def ok(self, method, path, body=None, token=PROVIDER, want=(200, 201, 202)):
        status, r = self.call(method, path, body, token)
        if status not in want:
            raise MgrError(f"{method} {path}: {status} {r}")
        return r

    def wait_job(self, job_id, token=PROVIDER, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            j = self.ok("GET", f"jobs/{job_id}", token=token)
            if j["state"] in ("succeeded", "failed"):
                return j
            time.sleep(0.05)
        raise MgrError(f"job {job_id} still {j['state']} after {timeout}s")

    def wait_idle(self, timeout=120):
        deadline = time.time() + timeout
        while time.time() < deadline:
            jobs = self.ok("GET", "jobs")
            if all(j["state"] in ("succeeded", "failed") for j in jobs):
                return jobs
            time.sleep(0.1)
        raise MgrError("jobs still running")

    def wait_compacted(self, table, cols, before, timeout=20):
        """The rows (cols) of a usage table starting before `before`, by step (0 raw, 1 hour,
        2 day), once a usage pass has summed every raw one there into its hour."""
        deadline = time.time() + timeout
        while True:
            db = sqlite3.connect(self.config["store"], timeout=30)
            got = {s: db.execute(f"SELECT {cols} FROM {table} WHERE step = ? AND t < ? "
                                 "ORDER BY t", (s, before)).fetchall() for s in (0, 1, 2)}
            db.close()
            if not got[0]:
                return got
            if time.time() > deadline:
                raise MgrError(f"{table}: raw rows still there: {got}")
            time.sleep(0.2)

    # ---- set-up helpers ----

    def site(self, name="paris", lat=48.85, lon=2.35, prefixes=("10.1.0.0/16",), storage=None):
        return self.ok("POST", "sites", {"name": name, "latitude": lat, "longitude": lon,
                                         "storage": storage or self.storage,
                                         "client_prefixes": list(prefixes)})

    def test_host(self, name, shape=(1, 4, 2), memory_mb=32768, site="paris", ratio=1.0,
                  overalloc=1.0, vlans=(100, 200), shared=True, **kw):
        body = {"name": name, "site": site, "shared": shared, "vcpu_ratio": ratio,
                "memory_overalloc": overalloc, "vlans": list(vlans),
                "test_host": {"sockets": shape[0], "cores": shape[1], "threads": shape[2],
                              "memory_mb": memory_mb}}
        body.update(kw)
        return self.ok("POST", "hosts", body)

    def host_spec(self, name, **changes):
        """Host name's spec as a PUT takes it (its keys from GET), with changes."""
        h = self.ok("GET", f"hosts/{name}")
        keys = ("name", "uri", "site", "shared", "memory_overalloc", "vcpu_ratio", "vlans",
                "tessd", "vhost_dir", "test_host", "reserved_cpus", "max_ports",
                "virt_type", "console_dir")
        return dict({k: h[k] for k in keys}, **changes)

    def vhost_dir(self):
        """The test's directory for its desktops' vhost-user sockets (a host's vhost_dir)."""
        vhost = os.path.join(self.dir, "vhost")
        os.makedirs(vhost, exist_ok=True)
        return vhost

    def site_h1(self, *tenants, **host):
        """Site paris, host h1 (host: the rest of its test_host body) and the tenants (acme:
        VLAN 100, bravo: 200), each with the default quota of model std."""
        self.site()
        self.test_host("h1", **host)
        for t in tenants:
            self.tenant(t, VLANS[t])
        self.model()
        for t in tenants:
            self.quota(t)

    def tenant(self, name, vlan, site="paris"):
        return self.ok("POST", "tenants", {"name": name, "org_id": f"org-{name}",
                                           "datacenter": site, "vlan": vlan,
                                           "vlan_name": f"{name}-net"})

    def model(self, name="std", vcpus=2, memory_mb=4096, image=BASE_IMAGE, shares=1024):
        return self.ok("POST", "models", {"name": name, "vcpus": vcpus, "memory_mb": memory_mb,
                                          "base_image": image, "cpu_shares": shares})

    def quota(self, tenant, model="std", cpus=16, memory_mb=1 << 20):
        return self.ok("POST", "quotas", {"tenant": tenant, "model": model, "max_cpus": cpus,
                                          "max_memory_mb": memory_mb})

    def desktop(self, name, token, model="std", wait=True):
        r = self.ok("POST", "desktops", {"name": name, "model": model}, token=token)
        if wait:
            j = self.wait_job(r["job"]["id"], token=token)
            if j["state"] != "succeeded":
                raise MgrError(f"desktop {name}: {j['error']}")
        return r["desktop"]


def wait_host(m, name, up, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        h = m.ok("GET", f"hosts/{name}")
        if h["up"] == up:
            return h
        time.sleep(0.2)
    raise AssertionError(f"host {name}: up is not {up} after {timeout}s: {h}\n{m.log()[-3000:]}")


def libvirt_hosts(cleanup, tmp_path, n, **libvirt):
    """Hosts r1..rN, each on a libvirtd of its own, checked every second: (libvirtds, Mgr)."""
    lvs = [Libvirtd(cleanup).start() for _ in range(n)]
    m = Mgr(cleanup, tmp_path, config={"libvirt": {"health_sec": 1, "backoff_max_sec": 2,
                                                   **libvirt}})
    m.start()
    m.site()
    for i, lv in enumerate(lvs):
        assert m.ok("POST", "hosts", {"name": f"r{i + 1}", "site": "paris", "uri": lv.uri,
                                      "vlans": [100]})["up"]
    return lvs, m


def scrape(m, token=PROVIDER, method="GET"):
    """(status, Content-Type, text) of GET /metrics."""
    req = urllib.request.Request(m.url + "/metrics", method=method)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.headers.get("Content-Type"), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type"), e.read().decode()
