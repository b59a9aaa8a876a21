# SPDX-License-Identifier: BSD-3-Clause
"""GET /v1/usage's running domains: one listing of the hosts serves every call for
usage.active_cache_sec; a job's end or a change of the hosts makes the next call list again.
libvirt's test driver hosts, tessmgrd on disk."""
import threading

from mgr import ACME, BRAVO, PROVIDER, Mgr


def counts(m):
    s = m.ok("GET", "stats")["usage"]
    return s["active_listings"], s["active_shared"]


def active(u, tenant):
    (t,) = [t for t in u["tenants"] if t["tenant"] == tenant]
    return t["active"]["domains"]


def burst(m, n=24):
    """n calls at once, by both tenants and the provider: each answer with its token."""
    tokens = (ACME, BRAVO, PROVIDER)
    answers = [None] * n

    def one(i):
        answers[i] = m.ok("GET", "usage", token=tokens[i % 3])
    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return [(tokens[i % 3], u) for i, u in enumerate(answers)]


def test_many_calls_share_one_listing(cleanup, tmp_path):
    m = Mgr(cleanup, tmp_path, config={"usage": {"active_cache_sec": 300}}).start()
    m.site_h1("acme", "bravo")
    a = [m.desktop(f"a{i}", ACME) for i in range(2)]
    m.desktop("b0", BRAVO)
    first = m.ok("GET", "usage")
    assert active(first, "acme") == 2 and active(first, "bravo") == 1
    listed, shared = counts(m)
    # 24 calls at once: the listing kept serves them all.
    for token, u in burst(m):
        assert u["active_listed_at"] == first["active_listed_at"], u
        names = [t["tenant"] for t in u["tenants"]]
        # Each tenant sees its own row only, from the shared listing.
        assert names == {ACME: ["acme"], BRAVO: ["bravo"]}.get(token, names), names
        assert active(u, names[0]) == {"acme": 2, "bravo": 1}[names[0]]
    assert counts(m) == (listed, shared + 24)
    # A desktop stopped: its job's end makes the next calls list again, once for all of
    # them (those that come during the listing wait for it).
    m.wait_job(m.ok("POST", f"desktops/{a[0]['id']}/stop", token=ACME)["job"]["id"])
    for token, u in burst(m):
        assert token == BRAVO or active(u, "acme") == 1, u
    assert counts(m) == (listed + 1, shared + 24 + 23)
    # A host added: listed again (its domains may be any tenant's).
    m.test_host("h2")
    m.ok("GET", "usage")
    assert counts(m)[0] == listed + 2
    m.ok("GET", "usage")
    assert counts(m)[0] == listed + 2


def test_calls_during_a_listing_wait_for_it(cleanup, tmp_path):
    """With each listing held 2 s (the point usage.list paused), calls that come meanwhile
    wait for it and share it: one listing, not one each."""
    m = Mgr(cleanup, tmp_path, {"usage": {"active_cache_sec": 300}})
    m.env = {"TESS_FAULT": "usage.list:pause"}
    m.start()
    m.site_h1("acme", "bravo")
    m.desktop("a0", ACME)
    listed, shared = counts(m)
    answers = burst(m, 6)
    assert counts(m) == (listed + 1, shared + 5)
    assert len({u["active_listed_at"] for _, u in answers}) == 1
    assert all(token == BRAVO or active(u, "acme") == 1 for token, u in answers)


def test_without_keeping_each_call_lists(cleanup, tmp_path):
    m = Mgr(cleanup, tmp_path, config={"usage": {"active_cache_sec": 0}}).start()
    m.site_h1("acme")
    m.desktop("a0", ACME)
    listed, shared = counts(m)
    for _ in range(3):
        assert active(m.ok("GET", "usage", token=ACME), "acme") == 1
    assert counts(m) == (listed + 3, shared)
