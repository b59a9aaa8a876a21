# SPDX-License-Identifier: BSD-3-Clause
"""The provider-edge router: VRFs per tenant, VLAN tags toward the hosts, RFC 1812."""
import pytest

import tess
from pe_topo import DESK_GW, DESK_IP, ENT_GW, ENT_IP, PeTopo


@pytest.fixture
def topo(cleanup, tmp_path):
    return PeTopo(cleanup, tmp_path)


def test_each_enterprise_reaches_its_own_desktop(topo):
    ca, cb = topo.capture("acme-desk"), topo.capture("bravo-desk")
    assert topo.ping("acme-ent", DESK_IP, count=5) == (5, 5)
    assert topo.ping("bravo-ent", DESK_IP, count=3) == (3, 3)
    print(topo.pe.tessctl("stats").stdout)
