# SPDX-License-Identifier: BSD-3-Clause
"""GET /metrics: tessmgrd's state and counters in Prometheus' text exposition format 0.0.4,
read with a strict parser; its values move with the state the JSON API shows, and only
provider tokens read it."""
import urllib.error
import urllib.request

import pytest

from mgr import ACME, BRAVO, PROVIDER, Mgr, scrape
from prom import get, parse


@pytest.fixture
def m(cleanup, tmp_path):
    return Mgr(cleanup, tmp_path).start()


def test_metrics_move_with_the_state(m):
    status, ctype, text = scrape(m)
    assert status == 200 and ctype.startswith("text/plain; version=0.0.4"), (status, ctype)
    s, types = parse(text)
    assert get(s, "tessera_mgr_placements_total") == 0
    assert types["tessera_mgr_jobs"] == "gauge"

    m.site()
    m.test_host("h1", shape=(1, 4, 2), memory_mb=32768)
    m.tenant("acme", 100)
    m.model()
    m.quota("acme", cpus=4, memory_mb=1 << 20)
    m.desktop("d0", ACME)
    m.desktop("d1", ACME)
    st, r = m.call("POST", "desktops", {"name": "d2", "model": "std"}, token=ACME)
    assert st == 409, r  # the quota holds two

    s, _ = parse(scrape(m)[2])
    assert get(s, "tessera_mgr_placements_total") == 2
    assert get(s, "tessera_mgr_placement_refusals_total", reason="quota_full") == 1
    assert get(s, "tessera_mgr_placement_refusals_total", reason="no_host") == 0
    assert get(s, "tessera_mgr_jobs", kind="create", state="succeeded") == 2
    assert get(s, "tessera_mgr_jobs", kind="delete", state="succeeded") == 0
    assert get(s, "tessera_mgr_host_up", host="h1") == 1
    assert get(s, "tessera_mgr_host_vcpus_used", host="h1") == 4
    assert get(s, "tessera_mgr_host_memory_used_bytes", host="h1") == 2 * 4096 << 20
    assert get(s, "tessera_mgr_tenant_desktops", tenant="acme", state="running") == 2
    assert get(s, "tessera_mgr_quota_vcpus_used", tenant="acme", model="std") == 4
    assert get(s, "tessera_mgr_quota_vcpus_max", tenant="acme", model="std") == 4
    assert get(s, "tessera_mgr_quota_memory_used_bytes", tenant="acme", model="std") == \
        2 * 4096 << 20
    # The same numbers as the JSON API's.
    stats = m.ok("GET", "stats")
    assert stats["placement"] == {"placed": 2, "no_quota": 0, "quota_full": 1, "no_host": 0}
    assert get(s, "tessera_mgr_fdb_forgets_total", result="ok") == \
        stats["network"]["fdb_forgets"]

    # No quota for a model: its own reason.
    m.model("big", vcpus=4)
    assert m.call("POST", "desktops", {"name": "d3", "model": "big"}, token=ACME)[0] == 409
    d = m.ok("GET", "desktops", token=ACME)
    m.wait_job(m.ok("DELETE", f"desktops/{d[0]['id']}", token=ACME)["job"]["id"], token=ACME)
    s, _ = parse(scrape(m)[2])
    assert get(s, "tessera_mgr_placement_refusals_total", reason="no_quota") == 1
    assert get(s, "tessera_mgr_jobs", kind="delete", state="succeeded") == 1
    assert get(s, "tessera_mgr_tenant_desktops", tenant="acme", state="running") == 1
    assert get(s, "tessera_mgr_host_vcpus_used", host="h1") == 2


def test_label_values_are_escaped(m):
    m.site()
    # Names allow no quote, backslash nor newline: a name with the characters a name may have.
    m.test_host("h-1.a_b", shape=(1, 2, 1), memory_mb=8192)
    s, _ = parse(scrape(m)[2])
    assert get(s, "tessera_mgr_host_up", host="h-1.a_b") == 1
    # The parser itself refuses what the format does not allow.
    for bad in ['tessera_x 1\n',
                '# TYPE tessera_x gauge\n# HELP tessera_x h\ntessera_x{a="\\q"} 1\n',
                '# TYPE tessera_x counter\n# HELP tessera_x h\ntessera_x 1\n',
                '# TYPE tessera_x gauge\n# TYPE tessera_x gauge\n# HELP tessera_x h\n',
                '# TYPE tessera_x gauge\n# HELP tessera_x h\ntessera_x{a="b"} 1 2 3\n']:
        with pytest.raises(AssertionError):
            parse(bad)
    s, _ = parse('# HELP tessera_x h\n# TYPE tessera_x gauge\ntessera_x{a="q\\"b\\\\c\\nd"} 1\n')
    assert get(s, "tessera_x", a='q"b\\c\nd') == 1


def test_only_provider_tokens_read_the_metrics(m):
    assert scrape(m, token=None)[0] == 401
    assert scrape(m, token="not-a-known-token-0123456")[0] == 401
    m.site()
    m.tenant("acme", 100)
    for tok in (ACME, BRAVO):  # bravo's tenant does not exist: refused all the same
        status, _, text = scrape(m, token=tok)
        assert status == 403 and "tessera_" not in text, (status, text)
    assert scrape(m, method="POST")[0] == 405
    assert scrape(m)[0] == 200
    # Other paths outside /v1/ stay unknown.
    req = urllib.request.Request(m.url + "/metricsx")
    req.add_header("Authorization", f"Bearer {PROVIDER}")
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=30)
    assert e.value.code == 404
