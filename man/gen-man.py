#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The man pages, written at build time from what the binaries say about themselves.

tessd(8), tessmgrd(8), tessctl(1), tessd.json(5) and tessmgrd.json(5): options from each
binary's --help, config keys from `tessd --schema` and `tessmgrd --schema`, tessctl's
commands from `tessctl __commands` (its command table) and their options from tessd's
methods' params schemas, the meaning of each key from tests/docs/reference.txt (the text
README's tables use). Plain roff (man macros), no preprocessor.
"""
import argparse
import datetime
import json
import os
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "docs"))
from schema_text import (config_rows, default_text, object_array, read_meanings,  # noqa: E402
                         type_text)

# roff names of the characters the schemas and reference.txt use; others: \[uXXXX].
GLYPHS = {"≤": r"\(<=", "≥": r"\(>=", "—": r"\(em", "–": r"\(en", "→": r"\(->", "×": r"\(mu",
          "…": "...", "’": "'", "“": r"\(lq", "”": r"\(rq", "µ": r"\(mc"}


def esc(text):
    """Plain text as roff: backslashes, dashes, non-ASCII."""
    out = text.replace("\\", r"\e").replace("-", r"\-")
    return "".join(c if ord(c) < 128 else GLYPHS.get(c, f"\\[u{ord(c):04X}]") for c in out)


def md(text):
    """reference.txt's Markdown (`code`, [link](#anchor), **bold**) as roff."""
    text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", text)
    parts = re.split(r"(`[^`]*`|\*\*[^*]+\*\*)", text)
    out = ""
    for p in parts:
        if p.startswith("`") and p.endswith("`") and len(p) >= 2:
            out += r"\fB" + esc(p[1:-1]) + r"\fR"
        elif p.startswith("**") and p.endswith("**") and len(p) >= 4:
            out += r"\fB" + esc(p[2:-2]) + r"\fR"
        else:
            out += esc(p)
    return out


def line(text):
    """Text as lines of at most 80 bytes (roff joins them); a leading '.' or "'" would be a
    request. Requests (a line starting with '.') pass as they are."""
    if text.startswith(".") and re.match(r"^\.[A-Za-z]{1,2}( |$)", text):
        return text
    out, cur = [], ""
    for word in text.split(" "):
        if cur and len((cur + " " + word).encode()) > 79:
            out.append(cur)
            cur = word
        else:
            cur = cur + " " + word if cur else word
    out.append(cur)
    return "\n".join(r"\&" + x if x[:1] in (".", "'") else x for x in out)


class Page:
    def __init__(self, name, section, title, version, date):
        self.lines = [f'.TH {name.upper()} {section} "{date}" "tessera {version}" "{title}"']

    def add(self, *lines):
        self.lines.extend(line(x) for x in lines)

    def sh(self, title):
        self.lines.append(f".SH {title}")

    def para(self, text):
        if not self.lines[-1].startswith(".SH"):
            self.lines.append(".PP")
        self.lines.append(line(text))

    def item(self, tag, text):
        self.lines.append(".TP")
        self.lines.append(line(tag))
        if text:
            self.lines.append(line(text))

    def text(self):
        return "\n".join(self.lines) + "\n"


def run(exe, *args):
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0")
    r = subprocess.run([exe, *args], capture_output=True, text=True, env=env, timeout=60)
    if r.returncode != 0:
        sys.exit(f"gen-man: {exe} {' '.join(args)}: exit {r.returncode}: {r.stderr}")
    return r.stdout


HELP_LINE = re.compile(r"^\s+(?:(-\w), )?\s*(--[\w-]+)(?: ([A-Z][A-Z_-]*))?\s+(\S.*)$")


def help_options(text):
    """(short, long, arg, help) of each option line of a --help text; and its usage line."""
    usage, opts = "", []
    for ln in text.splitlines():
        if ln.startswith("usage: "):
            usage = ln[len("usage: "):]
            continue
        m = HELP_LINE.match(ln)
        if m:
            opts.append(m.groups())
    return usage, opts


def option_items(page, opts):
    for short, long, arg, text in opts:
        tag = (rf"\fB{esc(short)}\fR, " if short else "") + rf"\fB{esc(long)}\fR" + \
            (rf" \fI{esc(arg)}\fR" if arg else "")
        page.item(tag, esc(text))


def synopsis(page, prog, usage):
    """`tessd -c FILE [--check] | --schema`: each alternative a line."""
    page.sh("SYNOPSIS")
    rest = usage[len(prog):].strip()
    for i, alt in enumerate(rest.split(" | ")):
        if i:
            page.add(".br")
        page.add(rf"\fB{prog}\fR {esc(alt.strip())}")


def field_text(f):
    """A schema field's type and default."""
    return md(type_text(f)) + "; " + \
        ("required" if f["required"] else "default " + md(default_text(f))) + "."


def key_items(page, node, meanings):
    """Every leaf of a config schema: key, type, default, meaning."""
    for key, f in config_rows(node):
        page.item(rf"\fB{esc(key)}\fR", field_text(f))
        if meanings.get(key):
            page.add(".br", md(meanings[key]))


def see_also(page, *refs):
    page.sh("SEE ALSO")
    page.add(",\n".join(rf"\fB{r.split('(')[0]}\fR({r.split('(')[1]}" for r in refs))


def daemon_page(a, prog, exe, summary):
    """PROG(8) up to its DESCRIPTION heading: NAME, SYNOPSIS from its --help; and the options
    of that --help."""
    usage, opts = help_options(run(exe, "--help"))
    p = Page(prog, 8, "System Manager's Manual", a.version, a.date)
    p.sh("NAME")
    p.add(rf"{prog} \- {summary}")
    synopsis(p, prog, usage)
    p.sh("DESCRIPTION")
    return p, opts


def tessd_page(a, schema, meanings):
    p, opts = daemon_page(a, "tessd", a.tessd,
                          r"Tessera's DPDK dataplane: provider\-edge router and host vswitch")
    p.para("tessd runs the DPDK ports, workers and the packet pipeline of one Tessera node "
           "(cross-connects, port groups with VLANs and learning, VRFs with routing, ARP, "
           "DHCP, DNS, NAT44, a firewall and policers) as its config, "
           r"\fBtessd.json\fR(5), says. Every change at run time goes through its control "
           r"socket (a JSON API, \fBtessctl\fR(1)) and is applied whole or not at all; "
           "traffic that a change does not touch keeps flowing.".replace("-", r"\-"))
    p.para("Start-up is all or nothing: the config is validated, EAL starts, ports are "
           "probed and started, and only then the control socket appears (and systemd is "
           "told READY=1). SIGINT and SIGTERM stop it cleanly.")
    p.sh("OPTIONS")
    option_items(p, opts)
    p.sh("CONTROL API")
    p.para(r"Methods of the control socket (\fBtessctl call\fR \fIMETHOD\fR [\fIPARAMS\fR], "
           r"\fBtessctl help\fR \fIMETHOD\fR for the params):")
    for m in schema["methods"]:
        p.item(rf"\fB{esc(m['method'])}\fR",
               md(meanings["methods"].get(m["method"]) or m["summary"]))
    p.sh("FILES")
    p.item(r"\fI/etc/tessera/tessd.json\fR", r"the config the unit starts with")
    p.item(r"\fI/run/tessera/tessd.sock\fR", "the control socket (control.socket)")
    p.item(r"\fI/usr/share/doc/tessera/examples/\fR", "example configs")
    p.sh("EXIT STATUS")
    p.para("0 on a clean stop or a valid config (--check); 1 on an error (the config path and "
           "the reason are printed); 2 on a usage error.".replace("-", r"\-"))
    see_also(p, "tessd.json(5)", "tessctl(1)", "tessmgrd(8)")
    return p


def config_page(a, daemon, description, node, meanings, files, see):
    """DAEMON.json(5): every key of its config schema, its files (path, what)."""
    p = Page(f"{daemon}.json", 5, "File Formats Manual", a.version, a.date)
    p.sh("NAME")
    p.add(rf"{daemon}.json \- the config of \fB{daemon}\fR(8)")
    p.sh("DESCRIPTION")
    p.para(description.replace("-", r"\-"))
    p.sh("KEYS")
    key_items(p, node, meanings)
    p.sh("FILES")
    for path, what in files:
        p.item(rf"\fI{path}\fR", what)
    see_also(p, *see)
    return p


def tessd_json_page(a, schema, meanings):
    return config_page(
        a, "tessd", "One JSON object. Unknown keys, wrong types, out-of-range values and "
        "duplicate names are refused with the JSON path of the culprit (tessd --check FILE). "
        "Keys of objects in a list are written below as list[].key.",
        schema["config"], meanings["config"],
        (("/etc/tessera/tessd.json", "the config tessd.service starts with"),
         ("/usr/share/doc/tessera/examples/", "example configs")),
        ("tessd(8)", "tessctl(1)", "tessmgrd.json(5)"))


def tessmgrd_page(a, schema, meanings):
    p, opts = daemon_page(a, "tessmgrd", a.tessmgrd,
                          "Tessera's management daemon: tenants, hosts, desktops")
    p.para("tessmgrd keeps the model of a Tessera site in an SQLite store (sites, hosts, "
           "tenants, models, quotas, routers, desktops), places desktops on hosts, pins their "
           "vCPUs, runs them through libvirt and programs each host's and router's tessd "
           r"over its control socket. Its HTTP API (bearer tokens) is what \fBtessctl\fR(1) "
           r"speaks; its config is \fBtessmgrd.json\fR(5). SIGHUP reloads the token file.")
    p.sh("OPTIONS")
    option_items(p, opts)
    intros = {"network": "The keys of a tenant's network (tessctl tenant add --network FILE):",
              "rates": "The keys of the provider's rates (PUT /v1/rates; tessctl rates set):"}
    for what, title in (("host", "HOST SPEC"), ("router", "ROUTER SPEC"),
                        ("network", "TENANT NETWORK"), ("task", "WORKFLOW TASK"),
                        ("rates", "RATES")):
        p.sh(title)
        p.para(intros[what].replace("-", r"\-") if what in intros else
               f"The keys of a {what} object of the API ({esc('tessctl ' + what)} add):")
        key_items(p, schema[what], meanings[what])
    p.sh("FILES")
    p.item(r"\fI/etc/tessera/tessmgrd.json\fR", "the config tessmgrd.service starts with")
    p.item(r"\fI/etc/tessera/tokens.json\fR", r"bearer tokens (\fBtessctl token new\fR)")
    p.item(r"\fI/var/lib/tessera/tessmgrd/\fR", "the store")
    see_also(p, "tessmgrd.json(5)", "tessctl(1)", "tessd(8)")
    return p


def tessmgrd_json_page(a, schema, meanings):
    return config_page(
        a, "tessmgrd", "One JSON object, checked like tessd's (tessmgrd --check FILE).",
        schema["config"], meanings["tessmgrd-config"],
        (("/etc/tessera/tessmgrd.json", "the config tessmgrd.service starts with"),),
        ("tessmgrd(8)", "tessd.json(5)"))


def schema_options(params, pos):
    """tessctl's options of a method's params (schema_opts.c): --some-key, --no-flag."""
    out = []
    for f in (params or {}).get("fields", []):
        if f["key"] in pos or f["type"] == "object" or object_array(f):
            continue
        opt = "--" + f["key"].replace("_", "-")
        if f["type"] == "boolean":
            out.append((rf"\fB{esc(opt)}\fR, \fB{esc('--no-' + opt[2:])}\fR", f))
        else:
            meta = f["key"].upper().replace("_", "-")
            out.append((rf"\fB{esc(opt)}\fR \fI{esc(meta)}\fR", f))
    return out


def tessctl_page(a, cmds, schema, meanings):
    p = Page("tessctl", 1, "User Commands", a.version, a.date)
    methods = {m["method"]: m for m in schema["methods"]}
    p.sh("NAME")
    p.add(r"tessctl \- control tessd and tessmgrd")
    p.sh("SYNOPSIS")
    p.add(r"\fBtessctl\fR [\fIoptions\fR] \fICOMMAND\fR [\fIARGS\fR]")
    p.sh("DESCRIPTION")
    p.para(r"tessctl speaks to \fBtessd\fR(8) over its control socket and to "
           r"\fBtessmgrd\fR(8) over its HTTP API. It prints tables for humans, or JSON with "
           r"\fB\-\-json\fR. The options of a tessd command come from tessd's schema; "
           r"\fBtessctl\fR \fICOMMAND\fR \fB\-\-help\fR asks the running tessd for them.")
    p.sh("OPTIONS")
    for o in cmds["options"]:
        tag = (rf"\fB\-{esc(o['short'])}\fR, " if o.get("short") else "") + \
            rf"\fB\-\-{esc(o['name'])}\fR" + (rf" \fI{esc(o['arg'])}\fR" if o.get("arg") else "")
        p.item(tag, esc(o["help"]))
    for daemon, title in (("tessd", "TESSD COMMANDS"), ("tessmgrd", "TESSMGRD COMMANDS")):
        p.sh(title)
        for c in cmds["commands"]:
            if c["daemon"] != daemon:
                continue
            p.item(rf"\fB{esc(c['synopsis'])}\fR", esc(c["help"]))
            m = methods.get(c.get("method") or "")
            if m is None:
                continue
            p.add(".br", rf"tessd method \fB{esc(m['method'])}\fR.")
            opts = schema_options(m["params"], c["pos"])
            if opts:
                p.add(".RS")
                for tag, f in opts:
                    p.item(tag, field_text(f))
                p.add(".RE")
    p.sh("ENVIRONMENT")
    p.item(r"\fBTESSD_SOCKET\fR", r"tessd's control socket, when \fB\-s\fR is not given")
    p.item(r"\fBTESSMGR_URL\fR", r"tessmgrd's URL, when \fB\-m\fR is not given")
    p.item(r"\fBTESSMGR_TOKEN\fR", r"tessmgrd's bearer token, when \fB\-T\fR is not given")
    p.sh("COMPLETION")
    p.para(r"Bash completes commands and options from tessctl's own table "
           r"(\fBtessctl __complete\fR), and the names of ports, groups, VRFs and interfaces "
           "from the running tessd, of tenants, hosts and desktops from tessmgrd (one second "
           "at most).")
    p.sh("EXIT STATUS")
    p.para("0 on success, 1 when the daemon reports an error or cannot be reached, 2 on a "
           "usage error.")
    see_also(p, "tessd(8)", "tessmgrd(8)", "tessd.json(5)")
    return p


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tessd", required=True)
    ap.add_argument("--tessmgrd", required=True)
    ap.add_argument("--tessctl", required=True)
    ap.add_argument("--version", required=True)
    ap.add_argument("--outdir", required=True)
    a = ap.parse_args()
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH", time.time()))
    a.date = datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).strftime("%Y-%m-%d")

    meanings = read_meanings()
    schema = json.loads(run(a.tessd, "--schema"))
    mgr = json.loads(run(a.tessmgrd, "--schema"))
    cmds = json.loads(run(a.tessctl, "__commands"))
    pages = {"tessd.8": tessd_page(a, schema, meanings),
             "tessmgrd.8": tessmgrd_page(a, mgr, meanings),
             "tessctl.1": tessctl_page(a, cmds, schema, meanings),
             "tessd.json.5": tessd_json_page(a, schema, meanings),
             "tessmgrd.json.5": tessmgrd_json_page(a, mgr, meanings)}
    for name, page in pages.items():
        with open(os.path.join(a.outdir, name), "w") as f:
            f.write(page.text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
