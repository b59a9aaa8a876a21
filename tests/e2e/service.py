# SPDX-License-Identifier: BSD-3-Clause
"""The service end to end (issue 13), one story told by `make demo` (part 7, `python3
tests/e2e/service.py --demo`) and asserted by tests/e2e/test_service.py: the same code, so the
demo and the test cannot drift apart.

    acme-ent  (ns) 192.168.10.10 --tap--+                       +--trunk-- h1 tessd (ns, paris)
    bravo-ent (ns) 192.168.10.10 --tap--+-- PE tessd (pe1) -----+            |  libvirtd 1
    internet  (ns) 198.51.100.2  --tap--+   VRFs, DHCP, NAT,    +--trunk-- h2 tessd (ns, lyon)
                                            firewall: tessmgrd's             |  libvirtd 2

Two enterprises with the same addresses (192.168.0.0/16) behind a PE tessd; two hosts, each a
host tessd in its own namespace with a trunk toward the PE and a QEMU libvirtd of its own;
tessmgrd with sites paris (h1) and lyon (h2) onboards both tenants (a network each: DHCP,
NAT, firewall baseline) and provisions two real desktops per tenant (tests/lib/guest.py: a
kernel and a busybox initramfs under TCG, 96 MiB), one of each tenant on each host. Each
desktop boots, takes a lease, pings its gateway, its enterprise's 192.168.10.10 and the
internet server through NAT; each enterprise pings its desktops. Captures on every desktop
(tess-cap inside the guest) and on every enterprise and the internet show that no frame of one
tenant (its MACs, its ping pattern) reached the other's. Then a desktop roams from paris to
lyon (its user connects from lyon) while its enterprise pings it: it comes back with the same
address, and the outage is measured.

Each tenant's pings carry its own payload pattern (acme a1, bravo b2: `ping -p`), the
guests' too (`tess.pattern=`), so a frame of the other tenant is recognised even where both
use the same addresses."""
import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import time

if __name__ == "__main__":  # the demo: tess.py reads TESS_BUILD when it is imported
    _args = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    _args.add_argument("--demo", action="store_true", help="print each part as it happens")
    _args.add_argument("--build", default=os.environ.get("TESS_BUILD", "build"))
    ARGS = _args.parse_args()
    os.environ["TESS_BUILD"] = os.path.abspath(ARGS.build)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import guest  # noqa: E402
import tess  # noqa: E402
from capture import Capture  # noqa: E402
from libvirtd import Libvirtd  # noqa: E402
from mgr import ACME, BRAVO, Mgr  # noqa: E402

TENANTS = ("acme", "bravo")
TOKEN = {"acme": ACME, "bravo": BRAVO}
VLAN = {"acme": 100, "bravo": 200}
MARK = {"acme": "a1", "bravo": "b2"}  # each tenant's pings' data length (hex): -s 161, 178
ENT_IP, ENT_GW = "192.168.10.10", "192.168.10.1"
DESK_GW = "192.168.50.1"
POOL = ("192.168.50.100", "192.168.50.199")
ENT_MAC = {"acme": "02:00:00:00:a1:10", "bravo": "02:00:00:00:b1:10"}
INET_IP, INET_GW, INET_MAC = "198.51.100.2", "198.51.100.1", "02:00:00:00:ee:02"
NAT = {"acme": {"address": "203.0.113.10"}, "bravo": {"pool": "shared", "max_blocks": 4}}
SITES = {"paris": (48.8566, 2.3522, "10.1.0.0/16"), "lyon": (45.764, 4.8357, "10.2.0.0/16")}
HOSTS = {"h1": "paris", "h2": "lyon"}
# Placement picks hosts in the tenant's data center (paris): the operator migrates one desktop
# of each tenant to lyon, where the roaming one joins them.
MAX_PORTS = {"h1": 4, "h2": 3}
BASE = "tiny.qcow2"


class Story:
    """The story's parts, each a method that does, prints (when verbose) and checks (raising
    AssertionError with what it saw). What was measured is in self.facts."""

    def __init__(self, cleanup, tmp, verbose=False):
        self.cleanup, self.tmp, self.verbose = cleanup, str(tmp), verbose
        self.facts = {}
        self.t0 = time.time()

    # ---- output and checks ----

    def part(self, title):
        if self.verbose:
            print(f"\n\033[1m== part 7.{title}\033[0m  ({time.time() - self.t0:.1f} s)",
                  flush=True)

    def say(self, text):
        if self.verbose:
            print(text, flush=True)

    def check(self, cond, what):
        if not cond:
            raise AssertionError(what)

    # ---- 1: the network ----

    def network(self):
        self.part("1 the network: a PE tessd, two host tessds, two enterprises, the internet")
        c, u = self.cleanup, tess.uid()
        self.ifs = {n: f"s{n}{u}"[:15] for n in ("ea", "eb", "in")}
        self.hns = {h: tess.Netns(c) for h in HOSTS}
        # Each host's trunk: a veth from a PE trunk port (root namespace) to the host's
        # namespace. The PE switches each tenant's VLAN between its trunks (a group per
        # tenant) and routes it on the group's IRB interface.
        host_trunk, pe_trunks = {}, []
        for i, (h, ns) in enumerate(self.hns.items()):
            a, b = tess.veth(c)
            ns.attach(b)
            host_trunk[h] = b
            pe_trunks.append(tess.af_packet_port(f"to_{h}", 3 + i, a, mode="trunk",
                                                 all_groups=True))
            if os.environ.get("TESS_E2E_PCAP"):  # debugging: the trunks' frames in files
                dump = subprocess.Popen(["tcpdump", "-ni", a, "-w",
                                         f"{os.environ['TESS_E2E_PCAP']}.{h}"],
                                        stderr=subprocess.DEVNULL)
                c.add(lambda p=dump: (p.terminate(), p.wait()))
        self.pe = tess.Tessd(c, self.tmp, ports=[
            tess.tap_port("ent_acme", self.ifs["ea"], 0),
            tess.tap_port("ent_bravo", self.ifs["eb"], 1),
            tess.tap_port("inet", self.ifs["in"], 2)] + pe_trunks)
        self.pe.config["router"] = {
            "vrfs": [{"name": "internet", "id": 4000}],
            "interfaces": [{"name": "inet", "vrf": "internet", "port": "inet",
                            "addresses": [INET_GW + "/24"]}]}
        self.pe.config["nat"] = {"pools": [{"name": "shared", "prefix": "203.0.113.64/28"}]}
        self.pe.start()
        self.dirs = {}
        self.hosts = {}
        for h, ns in self.hns.items():
            d = {k: os.path.join(self.tmp, f"{h}-{k}") for k in ("vhost", "console")}
            for p in d.values():
                os.makedirs(p)
            self.dirs[h] = d
            self.hosts[h] = tess.Tessd(c, self.tmp, netns=ns, control={"port_dirs": [d["vhost"]]},
                                      ports=[tess.af_packet_port("up", 0, host_trunk[h],
                                                                 mode="trunk", all_groups=True)])
            self.hosts[h].start()
        self.ent = {t: tess.Netns(c) for t in TENANTS}
        for t, ns in self.ent.items():
            ns.attach(self.ifs["e" + t[0]], ENT_IP + "/24", mac=ENT_MAC[t])
            ns.run("ip", "route", "add", "default", "via", ENT_GW)
        self.inet = tess.Netns(c)
        self.inet.attach(self.ifs["in"], INET_IP + "/24", mac=INET_MAC)
        self.inet.run("ip", "route", "add", "default", "via", INET_GW)
        # Captures from the start: each enterprise and the internet.
        self.caps = {}
        for name, ns, ifc in (("acme", self.ent["acme"], self.ifs["ea"]),
                              ("bravo", self.ent["bravo"], self.ifs["eb"]),
                              ("internet", self.inet, self.ifs["in"])):
            cap = Capture(ns, ifc)
            c.add(cap.close)
            self.caps[name] = cap
        self.say(f"PE tessd (root namespace): ports {[p['name'] for p in self.pe.config['ports']]}")
        for t in TENANTS:
            self.say(f"enterprise {t}: namespace {self.ent[t].name}, {ENT_IP}/24 via {ENT_GW}, "
                     f"MAC {ENT_MAC[t]}")
        self.say(f"internet: namespace {self.inet.name}, server {INET_IP}")
        for h in HOSTS:
            self.say(f"host {h} ({HOSTS[h]}): tessd in namespace {self.hns[h].name}, trunk port "
                     f"'up' toward the PE, vhost sockets in {self.dirs[h]['vhost']}")

    # ---- 2: tessmgrd, its sites, router and hosts ----

    def manager(self):
        self.part("2 tessmgrd: sites paris and lyon, router pe1, hosts h1 and h2 (QEMU)")
        c = self.cleanup
        t = time.time()
        self.vmlinuz, self.initrd = guest.boot_files()
        self.kvm = guest.kvm_works()
        self.say(f"guest kernel and initramfs: {time.time() - t:.1f} s")
        t = time.time()
        self.lv = {h: Libvirtd(c, driver="qemu").start() for h in HOSTS}
        self.say(f"two libvirtds: {time.time() - t:.1f} s")
        self.m = m = Mgr(c, self.tmp, config={"libvirt": {"health_sec": 1},
                                              "jobs": {"stop_timeout_sec": 1, "per_host": 4}})
        tess.sh("qemu-img", "create", "-q", "-f", "qcow2", os.path.join(m.storage, BASE), "16M")
        self.storage = {"paris": m.storage}
        lyon = os.path.join(self.tmp, "storage-lyon")
        os.makedirs(lyon)
        shutil.copy2(os.path.join(m.storage, BASE), os.path.join(lyon, BASE))
        self.storage["lyon"] = lyon
        m.start()
        for s, (lat, lon, prefix) in SITES.items():
            m.site(s, lat, lon, (prefix,), storage=self.storage[s])
        m.ok("POST", "routers", {"name": "pe1", "site": "paris", "tessd": self.pe.socket,
                                 "trunk_ports": [f"to_{h}" for h in HOSTS],
                                 "internet_vrf": "internet"})
        for h, s in HOSTS.items():
            m.ok("POST", "hosts", {
                "name": h, "site": s, "uri": self.lv[h].uri, "vlans": list(VLAN.values()),
                "virt_type": "kvm" if self.kvm else "qemu", "vcpu_ratio": 4,
                "max_ports": MAX_PORTS[h], "tessd": self.hosts[h].socket,
                "vhost_dir": self.dirs[h]["vhost"], "console_dir": self.dirs[h]["console"]})
        for h in HOSTS:
            r = m.ok("GET", f"hosts/{h}")
            self.say(f"host {h}: {r['uri']}, site {r['site']}, {r.get('cpus')} CPUs, "
                     f"{'KVM' if self.kvm else 'TCG'}")

    # ---- 3: onboarding ----

    def onboard(self):
        self.part("3 onboarding: both tenants, the same addresses, programmed on every tessd")
        for t in TENANTS:
            net = {"routers": ["pe1"],
                   "enterprise": {"port": f"ent_{t}", "address": ENT_GW + "/24"},
                   "gateway": DESK_GW + "/24",
                   "dhcp": {"pool_start": POOL[0], "pool_end": POOL[1], "lease_sec": 600},
                   "nat": NAT[t],
                   "firewall": {"default": "accept",
                                "rules": [{"action": "drop", "proto": "tcp", "dport": "23"}]}}
            self.m.ok("POST", "tenants", {"name": t, "org_id": f"org-{t}", "datacenter": "paris",
                                          "vlan": VLAN[t], "vlan_name": f"{t}-net",
                                          "network": net})
            self.say(f"tenant {t}: VLAN {VLAN[t]}, gateway {DESK_GW}, DHCP {POOL[0]}-{POOL[1]},"
                     f" NAT {NAT[t]}")
        cfg = self.pe.ctl("call", "config.get")
        vrfs = {v["name"]: v["id"] for v in cfg["router"]["vrfs"]}
        self.say(f"PE VRFs: {vrfs}")
        for i in cfg["router"]["interfaces"]:
            on = f"group {i['group']} (IRB)" if i.get("group") else f"port {i['port']}"
            self.say(f"PE interface {i['name']}: VRF {i['vrf']}, {on}, {i['addresses']}")
        groups = {g["name"]: g["vlan"] for g in cfg["switch"]["groups"]}
        self.say(f"PE groups (over trunks to_h1 and to_h2): {groups}")
        self.check(vrfs.get("acme") == 100 and vrfs.get("bravo") == 200, f"PE VRFs {vrfs}")
        for h, host in self.hosts.items():
            groups = {g["name"]: g["vlan"] for g in host.ctl("group", "list")}
            self.say(f"host {h} groups: {groups}")
            self.check(groups == {"acme-net": 100, "bravo-net": 200}, f"{h} groups {groups}")
        r = self.m.ok("GET", "reconcile")["tessds"]
        self.check(all(x["reachable"] and not x["missing"] and not x["differs"]
                       for x in r["routers"]), f"reconcile {r}")

    # ---- 4: desktops ----

    def desktops(self):
        self.part("4 two real desktops per tenant: each boots, takes a lease, pings out")
        m = self.m
        for t in TENANTS:
            cmdline = (guest.CMDLINE + f" tess.after=stay tess.psize={int(MARK[t], 16)}"
                       f" tess.ping={ENT_IP},{INET_IP}")
            m.ok("POST", "models", {"name": f"tiny-{t}", "vcpus": 1, "memory_mb": 96,
                                    "base_image": BASE, "kernel": self.vmlinuz,
                                    "initrd": self.initrd, "cmdline": cmdline})
            m.quota(t, model=f"tiny-{t}", cpus=4, memory_mb=1024)
        self.say(f"models tiny-acme and tiny-bravo: 1 vCPU, 96 MiB, kernel {self.vmlinuz}")
        jobs = []
        for i in (1, 2):
            for t in TENANTS:
                r = m.ok("POST", "desktops", {"name": f"{t[0]}{i}", "model": f"tiny-{t}"},
                         token=TOKEN[t])
                jobs.append((t, r, TOKEN[t]))
        for t, r, token in jobs:
            j = m.wait_job(r["job"]["id"], token=token, timeout=120)
            self.check(j["state"] == "succeeded", f"desktop {r['desktop']['name']}: {j}")
        # The tenants' data center is paris: placement puts all four on h1. The operator
        # moves the second of each to lyon's h2 (a migrate job: cold, the guest boots there).
        moves = [m.ok("POST", f"desktops/{r['desktop']['id']}/migrate",
                      {"host": "h2", "live": False})["job"]
                 for t, r, _ in jobs if r["desktop"]["name"].endswith("2")]
        for j in moves:
            j = m.wait_job(j["id"], timeout=120)
            self.check(j["state"] == "succeeded", f"migrate: {j}")
        self.desks = {}
        for t, r, token in jobs:
            d = m.ok("GET", f"desktops/{r['desktop']['id']}", token=TOKEN[t])
            d["tenant"] = t
            self.desks[d["name"]] = d
            self.say(f"desktop {d['name']} ({t}): host {d['host']}, MAC {d['mac']}, "
                     f"port {d['port']}")
        placed = sorted((d["host"], d["tenant"]) for d in self.desks.values())
        self.check(placed == [("h1", "acme"), ("h1", "bravo"), ("h2", "acme"), ("h2", "bravo")],
                   f"placement {placed}")
        t_boot = time.time()
        self.results = {}
        for n, d in sorted(self.desks.items()):
            r = guest.wait_console(self.console(d), timeout=240)
            self.results[n] = r
            lease = r["lease"] or {}
            self.say(f"desktop {n}: up at {r['up']} s, lease {lease.get('ip')} from "
                     f"{lease.get('serverid')} (router {lease.get('router')}), pings "
                     + ", ".join(f"{k} {v[1]}/{v[0]}" for k, v in r["pings"].items()))
            ip = lease.get("ip", "")
            self.check(ip and POOL[0] <= ip <= POOL[1] and len(ip) == len(POOL[0]),
                       f"{n}: no lease in the pool: {r}")
            self.check(lease["router"] == DESK_GW, f"{n}: router {lease}")
            for target in (DESK_GW, ENT_IP, INET_IP):
                self.check(self.answered(r, target, d["tenant"]),
                           f"{n}: no answer from {target}: {r}")
            d["ip"] = ip
        self.facts["boot_s"] = round(time.time() - t_boot, 1)
        leases = {(x["interface"], x["address"]) for x in self.pe.ctl("call", "dhcp.leases")}
        self.say(f"PE leases: {sorted(leases)}")
        for d in self.desks.values():
            self.check((f"{d['tenant']}-dc", d["ip"]) in leases, f"lease of {d['name']}")

    @staticmethod
    def answered(r, target, tenant):
        """Whether the guest's pings to target were answered: its ping says so, or (a starved
        guest's ping may give up before the answers come) its capture saw them."""
        return r["pings"].get(target, (0, 0))[1] > 0 or any(
            k["sip"] == target and k["proto"] == "1" and k["mark"] == MARK[tenant]
            for k in r["seen"])

    def console(self, d):
        return os.path.join(self.dirs[d["host"]]["console"], f"desk{d['id']}.log")

    # ---- 5: the enterprises reach their desktops ----

    def reach(self):
        self.part("5 each enterprise reaches its own desktops (the same addresses in both)")
        for n, d in sorted(self.desks.items()):
            t = d["tenant"]
            sent, got = self.ent[t].ping(d["ip"], count=3, extra=("-s", str(int(MARK[t], 16))))
            self.say(f"enterprise {t} -> {n} ({d['ip']} on {d['host']}): {got}/{sent}")
            self.check(got == sent, f"enterprise {t} to {n}: {got}/{sent}")
        sessions = self.pe.ctl("nat", "sessions")
        self.say(f"PE NAT sessions: {len(sessions)} (the desktops' pings to {INET_IP})")

    # ---- 6: isolation ----

    def isolation(self, again=False):
        if again:
            self.say("\nthe captures again, the roam's frames included:")
        else:
            self.part("6 captures: no frame of one tenant at the other's desktops or enterprise")
        seen = {}  # capture point -> [frame kinds]
        for n, d in self.desks.items():
            with open(self.console(d), errors="replace") as f:
                seen[n] = guest.console_results(f.read())["seen"]
        for t in TENANTS:
            kinds = {tuple(sorted(guest.frame_seen(f).items())) for f in list(self.caps[t].frames)}
            seen[f"{t}-ent"] = [dict(k) for k in sorted(kinds)]
        # A tenant's MACs: its enterprise's, its desktops' and its gateway's (the PE's IRB
        # interface of its group has a MAC of its own, so even the PE's broadcasts in one
        # tenant's VLAN are told apart).
        irb = {i["name"]: i["mac"].lower() for i in self.pe.ctl("interface", "list")}
        macs = {t: {ENT_MAC[t], irb[f"{t}-dc"], irb[f"{t}-ent"]} |
                {d["mac"].lower() for d in self.desks.values() if d["tenant"] == t}
                for t in TENANTS}
        self.check(not macs["acme"] & macs["bravo"], f"tenants' MACs overlap: {macs}")
        for point, kinds in sorted(seen.items()):
            t = point.split("-")[0] if point.endswith("-ent") else self.desks[point]["tenant"]
            other = [o for o in TENANTS if o != t][0]
            foreign = [k for k in kinds if k["src"] in macs[other] or k["dst"] in macs[other]
                       or k["mark"] == MARK[other] or k["vlan"] != "-"]
            own = [k for k in kinds if k["mark"] == MARK[t]]
            self.say(f"{point} ({t}): {len(kinds)} kinds of frames, {len(own)} with {t}'s mark "
                     f"{MARK[t]}, {len(foreign)} of {other}")
            self.check(own, f"{point}: the capture saw none of its own tenant's pings: {kinds}")
            self.check(not foreign, f"{point}: frames of {other}: {foreign}")
        inet = [guest.frame_seen(f) for f in list(self.caps["internet"].frames)]
        srcs = sorted({k["sip"] for k in inet if k["proto"] == "1" and k["dip"] == INET_IP})
        self.say(f"internet: pings from {srcs} (acme's NAT address, bravo's pool)")
        self.check("203.0.113.10" in srcs and any(s.startswith("203.0.113.") and s != "203.0.113.10"
                                                  for s in srcs), f"NAT sources {srcs}")
        self.facts["captured"] = {p: len(k) for p, k in seen.items()}
        self.facts["isolated"] = True

    # ---- 7: roaming ----

    def roam(self):
        self.part("7 a desktop roams from paris to lyon; its enterprise keeps pinging it")
        d = self.desks["a1"]
        self.check(d["host"] == "h1", f"a1 on {d['host']}")
        log = os.path.join(self.tmp, "roam-ping.txt")
        out = open(log, "w")
        ping = subprocess.Popen(["ip", "netns", "exec", self.ent["acme"].name, "ping", "-D",
                                 "-O", "-i", "0.2", "-W", "1", "-s", str(int(MARK["acme"], 16)),
                                 d["ip"]],
                                stdout=out, stderr=subprocess.STDOUT)
        self.cleanup.add(lambda: ping.poll() is None and (ping.kill(), ping.wait()))
        time.sleep(1)
        self.say(f"a1 ({d['mac']}) in the PE's FDB: port {self.pe_port(d['mac'])}")
        forgets = self.m.ok("GET", "stats").get("network", {}).get("fdb_forgets", 0)
        t0 = time.time()
        status, r = self.m.call("POST", f"desktops/{d['id']}/connect", {"from": "lyon"},
                                token=ACME)
        self.say(f"alice connects from lyon: {status} {r}")
        self.check(status == 200 and r.get("moved") and r.get("host") == "h2", f"connect {r}")
        moved = self.m.ok("GET", f"desktops/{d['id']}", token=ACME)
        moved["tenant"] = "acme"
        res = guest.wait_console(self.console(moved), timeout=240)
        lease = res["lease"] or {}
        self.say(f"a1 booted on h2: lease {lease.get('ip')}, pings "
                 + ", ".join(f"{k} {v[1]}/{v[0]}" for k, v in res["pings"].items()))
        self.check(lease.get("ip") == d["ip"], f"a1 got {lease} after the move, had {d['ip']}")
        self.check(self.answered(res, ENT_IP, "acme"), f"a1 after the move: {res}")
        # The enterprise reaches it again.
        tess.wait_for(lambda: self._replies(log, after=t0 + 0.5), 30,
                      "the enterprise's pings answered after the move")
        time.sleep(1)
        ping.send_signal(signal.SIGINT)
        ping.wait(10)
        out.close()
        with open(log) as f:
            text = f.read()
        replies = [(float(t), int(q)) for t, q in re.findall(
            r"^\[(\d+\.\d+)\] \d+ bytes from .* icmp_seq=(\d+)", text, re.M)]
        times, seqs = [t for t, _ in replies], [q for _, q in replies]
        gaps = [b - a for a, b in zip(times, times[1:])]
        outage = max(gaps) if gaps else None
        m = re.search(r"(\d+) packets transmitted, (\d+) received", text)
        sent, got = (int(m.group(1)), int(m.group(2))) if m else (0, 0)
        self.facts.update(roam_s=round(time.time() - t0, 1), move_ms=r.get("move_ms"),
                          outage_s=round(outage, 1) if outage else None, pings=(sent, got))
        self.say(f"enterprise acme's pings to {d['ip']}: {got} of {sent} answered; the longest "
                 f"gap {outage:.1f} s (the desktop down: stopped, moved, booted); the move "
                 f"took {r.get('move_ms')} ms")
        net = self.m.ok("GET", "stats").get("network", {})
        self.say(f"a1 in the PE's FDB: port {self.pe_port(d['mac'])} (tessmgrd had the PE and "
                 f"h2 forget its MAC after the move: fdb_forgets {forgets} -> "
                 f"{net.get('fdb_forgets')}, failed {net.get('fdb_forget_failed')})")
        self.check(net.get("fdb_forgets", 0) > forgets and not net.get("fdb_forget_failed"),
                   f"tessmgrd's network stats after the move: {net}")
        # Loss only while it was down: every ping answered before it went down, and every
        # one after it came back (the lost ones are one run of sequence numbers).
        lost = sorted(set(range(seqs[0], seqs[-1] + 1)) - set(seqs)) if seqs else []
        self.check(seqs, f"no ping answered: {text[-2000:]}")
        self.check(not lost or lost == list(range(lost[0], lost[-1] + 1)),
                   f"pings lost other than while a1 was down: {lost}")
        port = [p for p in self.hosts["h2"].ctl("port", "list") if p["name"] == moved["port"]]
        self.check(port and port[0]["groups"] == ["acme-net"], f"a1's port on h2: {port}")
        self.check(not [p for p in self.hosts["h1"].ctl("port", "list")
                        if p["name"] == d["port"]], "a1's port still on h1")
        # Loss only while it was down: answered before, and answered again after.
        self.check(times and times[0] < t0 and times[-1] > t0 + 1, f"pings {text[-2000:]}")
        self.desks["a1"] = dict(moved, ip=d["ip"])

    def run(self):
        try:
            self.network()
            self.manager()
            self.onboard()
            self.desktops()
            self.reach()
            self.isolation()
            self.roam()
            self.isolation(again=True)
        except BaseException:
            self.diagnose()
            raise
        self.facts["total_s"] = round(time.time() - self.t0, 1)
        return self.facts

    def diagnose(self):
        """What the tessds counted, printed when a part fails."""
        for name, t in [("PE", getattr(self, "pe", None))] + list(
                getattr(self, "hosts", {}).items()):
            if not t or not t.proc or t.proc.poll() is not None:
                continue
            for what in (("stats",), ("vrf", "list"), ("interface", "list")):
                r = t.tessctl(*what, check=False)
                print(f"--- {name}: tessctl {' '.join(what)}\n{r.stdout}{r.stderr}")

    def pe_port(self, mac):
        return ",".join(e["port"] for e in self.pe.ctl("fdb", "show")
                        if e["mac"].lower() == mac.lower()) or "-"

    @staticmethod
    def _replies(log, after):
        with open(log) as f:
            return any(float(x) > after
                       for x in re.findall(r"^\[(\d+\.\d+)\] \d+ bytes from", f.read(), re.M))


def main():
    import tempfile
    if os.geteuid() != 0:
        sys.exit("service.py: run as root (namespaces, taps, hugepages, libvirtd)")
    tess.sweep_stale()
    tmp = tempfile.mkdtemp(prefix="tess-e2e-")
    os.chmod(tmp, 0o755)  # QEMU reads the consoles' and sockets' directories
    c = tess.Cleanup()
    c.add(shutil.rmtree, tmp, ignore_errors=True)
    rc = 1
    try:
        facts = Story(c, tmp, verbose=ARGS.demo).run()
        print(f"\nthe service end to end: {facts}")
        rc = 0
    except AssertionError as e:
        print(f"service.py: FAILED: {e}", file=sys.stderr)
    finally:
        errors = c.run()
        tess.sweep_runtime_dirs()
        if errors:
            print(f"service.py: cleanup: {errors}", file=sys.stderr)
            rc = 1
    return rc


if __name__ == "__main__":
    sys.exit(main())
