# SPDX-License-Identifier: BSD-3-Clause
"""nginx (Debian's nginx-light) as the reverse proxy a provider puts in front of tessmgrd:
tessmgrd served under a base path (http://127.0.0.1:PORT/BASE/v1/...), WebSocket upgrades
included, as its guides for nginx write it."""
import os
import socket
import subprocess
import time

CONF = """daemon off;
master_process off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log info;
events {{ worker_connections 64; }}
http {{
    access_log {tmp}/access.log;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
    server {{
        listen 127.0.0.1:{port};
        location {base}/ {{
            proxy_pass {upstream}/;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_read_timeout 300s;
        }}
    }}
}}
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Nginx:
    """Proxies BASE/ on 127.0.0.1:port to upstream (a URL without a path); url is the base."""

    def __init__(self, cleanup, tmp, upstream, base="/tess", port=None):
        self.tmp = str(tmp)
        os.makedirs(self.tmp, exist_ok=True)
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}{base}"
        self.conf = os.path.join(self.tmp, "nginx.conf")
        with open(self.conf, "w") as f:
            f.write(CONF.format(tmp=self.tmp, port=self.port, base=base, upstream=upstream))
        self.proc = subprocess.Popen(["nginx", "-p", self.tmp, "-c", self.conf,
                                      "-e", os.path.join(self.tmp, "error.log")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        cleanup.add(self.stop)
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"nginx exited with {self.proc.returncode}: {self.log()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"nginx not listening after 10 s: {self.log()}")

    def log(self):
        try:
            with open(os.path.join(self.tmp, "error.log")) as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
