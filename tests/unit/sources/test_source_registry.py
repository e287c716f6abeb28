import pytest
from sources_support import EVENTS, inbound

from erphub.errors import UnknownSource, Unmappable
from erphub.sources import SOURCE_NAMES, get_source

pytestmark = pytest.mark.unit


def test_every_source_is_registered_under_its_path_segment():
    # Given the sources the hub accepts webhooks from
    # When each is looked up by name
    sources = {name: get_source(name) for name in SOURCE_NAMES}
    # Then each answers to its own name
    assert set(SOURCE_NAMES) == {"stripe", "hubspot", "salesforce", "chargebee", "zuora", "gainsight",
                                 "totango"}
    assert all(source.name == name for name, source in sources.items())


def test_an_unknown_source_is_refused_with_404():
    # Given a path segment no source answers to
    # When it is looked up
    with pytest.raises(UnknownSource) as caught:
        get_source("netsuite")
    # Then the error maps to 404 and names the known sources
    assert caught.value.http_status == 404
    assert "stripe" in caught.value.reason


SAMPLES = sorted(p for p in EVENTS.glob("*/*.*") if p.parent.name in SOURCE_NAMES)
UNMAPPABLE = {"hubspot/deal.closedwon_without_company.json", "salesforce/opportunity_batch.xml",
              "salesforce/scenario_ops_unmappable.xml"}  # the demo's quarantined webhook (scenario f)
IGNORED = {"stripe/customer.created.json", "hubspot/contact.creation.json", "chargebee/customer_changed.json",
           "zuora/AccountCreated.json", "gainsight/nps_response.json"}


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_sample_parses_and_normalizes_to_its_source_or_is_deliberately_ignored(path):
    # Given a sample webhook body from events/<vendor>/
    source, name = get_source(path.parent.name), f"{path.parent.name}/{path.name}"
    headers = {"Zuora-Notification-Id": "n-1"} if source.name == "zuora" else {}
    # When each of its events is normalized
    outcomes = []
    for event in source.parse(inbound(path.read_bytes(), headers)):
        try:
            envelope = source.normalize(event)
        except Unmappable:
            outcomes.append("unmappable")
            continue
        outcomes.append("ignored" if envelope is None else envelope.type)
        if envelope is not None:
            assert envelope.source == source.name and envelope.source_event_id == event.vendor_event_id
            assert envelope.business_key and envelope.correlation_id and envelope.version.isdigit()
    # Then it is routed unless the sample exists to show an ignored or unmappable case
    assert ("unmappable" in outcomes) == (name in UNMAPPABLE)
    assert (outcomes == ["ignored"]) == (name in IGNORED)
