# SPDX-License-Identifier: BSD-3-Clause
"""The service end to end (issue 13): the story of tests/e2e/service.py, which `make demo`
tells too (part 7), each part checking what it shows; here the measured facts as well."""
from service import Story


def test_two_tenants_desktops_reach_their_enterprise_apart_and_roam(cleanup, tmp_path):
    facts = Story(cleanup, tmp_path, verbose=True).run()
    print(f"facts: {facts}")
    # The roamer was down while it moved (stopped, copied, booted), and only then.
    sent, got = facts["pings"]
    assert 0 < got < sent and facts["outage_s"] is not None, facts
    assert facts["outage_s"] < facts["roam_s"] + 5, facts
