"""The committed JSON Schemas are generated from the canonical models; this fails when they drift."""

import pytest

from tools import schemas

pytestmark = pytest.mark.unit


def test_committed_schemas_match_the_models():
    # Given the canonical models as they are now
    # When their JSON Schemas are rendered
    stale = schemas.drift()
    # Then every committed file under schemas/ is identical (run `make schemas` after changing a model)
    assert stale == []


def test_every_event_type_names_a_data_schema():
    rendered = schemas.render()
    index = __import__("json").loads(rendered["event-types.json"])
    assert "crm.opportunity.closed_won" in index
    for data_file in index.values():
        assert data_file in rendered
