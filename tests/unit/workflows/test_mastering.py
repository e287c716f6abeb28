"""The system-of-record file decides who may write which field."""

import pytest

from erphub import mastering
from erphub.errors import ValidationFailed


def test_the_master_may_write_its_fields_and_others_are_refused():
    verdict = mastering.check_write("account", {"renewal_risk": "high", "name": "Renamed"}, "gainsight")
    assert verdict.allowed == {"renewal_risk": "high"}
    assert [(r.field, r.writer, r.master) for r in verdict.refused] == [("name", "success", "crm")]


def test_the_hub_writes_only_what_it_masters():
    verdict = mastering.check_write("account", {"lifecycle_status": "active", "health_score": 40}, "hub")
    assert verdict.allowed == {"lifecycle_status": "active"}
    assert verdict.refused[0].master == "success"


def test_vendors_map_to_their_kind_of_system():
    assert [mastering.kind_of(s) for s in ("salesforce", "stripe", "totango", "dynamics", "hub")] == [
        "crm", "billing", "success", "erp", "hub"]


def test_an_undeclared_field_is_an_error_not_a_silent_write():
    with pytest.raises(ValidationFailed):
        mastering.check_write("account", {"favourite_colour": "red"}, "salesforce")
