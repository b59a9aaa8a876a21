#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""The include graph keeps the layering: the core (dataplane/) and config/ name no
feature, and a module includes only the core, config/ and the modules it depends on.
A module's config section (its X_config.h) may include only config/'s headers: the
header meson generates from the sections the modules register (config/sections/)
includes them all into struct tessd_cfg, the config tessd, tessmgrd and tessctl decode.

  tests/lint/check_includes.py [SOURCE_ROOT]

Prints every include that crosses a forbidden line and exits 1 if there is one.
"""
import os
import re
import sys

ROOT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                       os.path.join(os.path.dirname(__file__), "..", ".."))
# Directory -> the directories whose headers it may include (besides its own).
CORE = ["dataplane", "config"]
ALLOWED = {
    "config": [],
    "dataplane": ["config"],
    "dataplane/xconnect": CORE,
    "vswitch": CORE,
    "vrf": CORE + ["vswitch"],
    "vrf/dhcp": CORE + ["vrf"],  # the router's UDP services (l3_svc.h)
    "vrf/conn": CORE,
    "vrf/dns": CORE + ["vrf", "vrf/dhcp"],  # UDP services; leases host names (dhcp.h)
    "vswitch/policer": CORE + ["vswitch", "vrf"],  # router interface ids (router_int.h)
    "vrf/nat": CORE + ["vrf", "vswitch", "vrf/conn"],  # arc "ip4" and the FIB; sessions
    "vrf/firewall": CORE + ["vswitch", "vrf", "vrf/conn"],  # router hooks, the conn table
}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def headers_of(d):
    p = os.path.join(ROOT, d)
    return {f for f in os.listdir(p) if f.endswith(".h")}


def main():
    owner = {}
    for d in ALLOWED:
        for h in headers_of(d):
            owner.setdefault(h, []).append(d)
    bad = 0
    for d, allowed in ALLOWED.items():
        for f in sorted(os.listdir(os.path.join(ROOT, d))):
            if not f.endswith((".c", ".h")):
                continue
            text = open(os.path.join(ROOT, d, f), encoding="utf-8").read()
            section = f.endswith("_config.h") and d != "config"
            may = ["config"] if section else allowed
            for inc in INCLUDE.findall(text):
                base = os.path.basename(inc)
                dirs = owner.get(base, [])
                if not dirs or d in dirs or any(a in dirs for a in may):
                    continue
                print(f"{d}/{f}: includes {inc} of {', '.join(dirs)}: "
                      f"{d}/{f if section else ''} may include only "
                      f"{', '.join(may) or 'its own headers'}")
                bad += 1
    print(f"includes: {'%d crossing(s)' % bad if bad else 'layering kept'} "
          f"({', '.join(ALLOWED)})")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
