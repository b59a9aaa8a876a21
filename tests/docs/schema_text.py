# SPDX-License-Identifier: BSD-3-Clause
"""Schema nodes (cfg_schema_json's shape) as reference text, for README's tables
(gen-reference.py) and the man pages (man/gen-man.py): types, defaults, the leaves of a
config, and the meaning of each key from reference.txt. Text is Markdown (`code`)."""
import json
import os
import sys

MEANINGS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference.txt")


def read_meanings():
    sections, cur = {"config": {}, "methods": {}, "host": {}, "router": {}, "network": {},
                     "tessmgrd-config": {}, "task": {}, "rates": {}}, None
    with open(MEANINGS) as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            if line.startswith("[") and line.endswith("]"):
                cur = sections[line[1:-1]]
                continue
            key, sep, text = line.partition(":")
            if cur is None or not sep:
                sys.exit(f"{MEANINGS}:{n}: expected 'key: meaning' in a section")
            cur[key] = text.strip()
    return sections


def charset(s):
    """Runs of three or more digits or letters as ranges: -.0-9A-Z_a-z."""
    def cls(c):
        return c.isdigit(), c.isupper(), c.islower()

    cs, out, i = sorted(set(s)), "", 0
    while i < len(cs):
        j = i
        while j + 1 < len(cs) and ord(cs[j + 1]) == ord(cs[j]) + 1 and cs[j].isalnum() and \
                cls(cs[j + 1]) == cls(cs[j]):
            j += 1
        out += cs[i] + "-" + cs[j] if j - i >= 2 else "".join(cs[i:j + 1])
        i = j + 1
    return out


def type_text(n):
    t = n["type"]
    if t == "integer":
        return f"int {n['min']}-{n['max']}"
    if t == "number":
        return f"number {n['min']:g}-{n['max']:g}"
    if t == "boolean":
        return "bool"
    if t in ("ipv4", "ipv4_prefix", "mac"):
        text = {"ipv4": "IPv4 address", "ipv4_prefix": "IPv4 prefix `a.b.c.d/len`",
                "mac": "MAC `xx:xx:xx:xx:xx:xx`"}[t]
        return text + (" or `\"\"`" if n.get("optional") else "")
    if t == "reference":
        return f"name in `{n['table']}`" + (" or `\"\"`" if n.get("optional") else "")
    if t == "enum":
        return "/".join(f"`{c}`" for c in n["choices"])
    if t == "string":
        if "choices" in n:
            return "/".join(f"`{c}`" for c in n["choices"])
        lo, hi = n["min_length"], n["max_length"]
        text = f"string of length {hi}" if lo == hi else f"string ≤ {hi}" if lo == 0 else \
            f"string {lo}-{hi}"
        return text + (f" of `{charset(n['charset'])}`" if "charset" in n else "")
    if t == "array":
        item = n["items"]
        inner = "{" + ", ".join(f["key"] for f in item["fields"]) + "}" \
            if item["type"] == "object" else type_text(item)
        bounds = f"≤ {n['max_items']}" if n["min_items"] == 0 else \
            f"{n['min_items']}-{n['max_items']}"
        return f"[{inner}], {bounds}"
    return t


def default_text(f):
    if f["required"]:
        return "required"
    return "`" + json.dumps(f["default"], ensure_ascii=False) + "`"


def object_array(f):
    return f["type"] == "array" and f["items"]["type"] == "object"


def walk(node, prefix=""):
    """(key, field) of every field, depth first: an object's fields below it as key.sub, an
    array of objects' as key[].sub."""
    for f in node["fields"]:
        key = prefix + f["key"]
        yield key, f
        if f["type"] == "object":
            yield from walk(f, key + ".")
        elif object_array(f):
            yield from walk(f["items"], key + "[].")


def config_rows(node):
    """(key, field) of every leaf (neither an object nor an array of objects)."""
    return ((k, f) for k, f in walk(node) if f["type"] != "object" and not object_array(f))


def object_arrays(node):
    """(name, item description) of each array of objects in the config, e.g. ports[]."""
    return ((k + "[]", f["items"]) for k, f in walk(node) if object_array(f))
