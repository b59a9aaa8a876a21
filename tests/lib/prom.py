# SPDX-License-Identifier: BSD-3-Clause
"""A strict reader of Prometheus' text exposition format 0.0.4, for the metrics tests: every
line a comment or `name{labels} value`, one HELP and one TYPE per metric before its samples,
valid names in tessera_, counters in _total, label values escaped, no series twice."""
import re

NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*\Z")
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\["\\n])*)"')
SAMPLE = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^\n]*\})? (\S+)\Z")
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}


def unescape(v):
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), v)


def parse(text):
    """{(name, ((label, value), ...)): value} of an exposition, and {name: type}; raises on
    anything the format does not allow."""
    assert text.endswith("\n"), "the last line must end with a newline"
    types, helps, samples = {}, set(), {}
    for n, line in enumerate(text[:-1].split("\n"), 1):
        where = f"line {n}: {line!r}"
        if line.startswith("#"):
            parts = line.split(" ", 3)
            if len(parts) >= 3 and parts[1] in ("HELP", "TYPE"):
                assert NAME.match(parts[2]), where
                assert parts[2].startswith("tessera_"), where
                if parts[1] == "TYPE":
                    assert parts[2] not in types, f"{where}: TYPE twice"
                    assert not any(k[0] == parts[2] for k in samples), \
                        f"{where}: TYPE after its samples"
                    assert len(parts) == 4 and parts[3] in TYPES, where
                    types[parts[2]] = parts[3]
                else:
                    assert parts[2] not in helps, f"{where}: HELP twice"
                    helps.add(parts[2])
            continue
        m = SAMPLE.match(line)
        assert m, where
        name, labels, value = m.groups()
        assert name in types, f"{where}: no TYPE before the sample"
        if types[name] == "counter":
            assert name.endswith("_total"), f"{where}: a counter's name ends with _total"
        pairs = []
        if labels:
            body = labels[1:-1]
            pos = 0
            while pos < len(body):
                lm = LABEL.match(body, pos)
                assert lm, where
                pairs.append((lm.group(1), unescape(lm.group(2))))
                pos = lm.end()
                if pos < len(body):
                    assert body[pos] == ",", where
                    pos += 1
            assert len({k for k, _ in pairs}) == len(pairs), f"{where}: a label twice"
        key = (name, tuple(sorted(pairs)))
        assert key not in samples, f"{where}: the same series twice"
        samples[key] = float(value)
    assert helps == set(types), "every metric has one HELP and one TYPE"
    return samples, types


def get(samples, metric, **labels):
    return samples.get((metric, tuple(sorted(labels.items()))))
