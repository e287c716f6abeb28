"""The business configuration changed on a running stack, the way an operator changes it without a deploy
(`python -m tools.business_config publish`): the functions read the new document. (A bad document's loud failure
is tested in tests/unit/config.)"""

from __future__ import annotations

import json

import pytest
from deals import Deal
from flows import correlation, send_deal, subscriptions
from stack_driver import APPROVAL, ROOT, publish_business_config

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_a_sku_taken_out_of_the_catalog_stops_the_next_deal_at_the_data_quality_gate(hub):
    # Given the catalog published without PLATFORM-ENT (no function has read the configuration yet)
    catalog = json.loads((ROOT / "config" / "business.json").read_text())["product_catalog"]
    publish_business_config(hub.stack, approval=APPROVAL,
                            product_catalog=[sku for sku in catalog if sku != "PLATFORM-ENT"])
    # When a deal selling PLATFORM-ENT closes
    deal = Deal("Catalog")
    send_deal(hub, deal)
    # Then it waits in the data-quality gate for that product, and nothing was billed
    exception = hub.exception(correlation(deal), "data_quality")
    assert "unknown product PLATFORM-ENT" in exception["reason"]
    assert subscriptions(hub, deal) == []
