"""Identity resolution: by cross-reference, then exact keys; two candidates make a conflict, never a guess. And what
a contract owns in other systems, written in one round trip."""

import pytest

from erphub.canonical import Account, LegalEntity
from erphub.identity_resolution import normalized_keys, resolve
from erphub.store.identity_table import IdentityStore


def account(account_id="001A", **kw):
    return Account(account_id=account_id, name=kw.pop("name", "Acme"), **kw)


def test_a_new_account_becomes_a_customer_with_its_xrefs_and_keys(tables):
    store = IdentityStore()
    result = resolve(account(domain="www.Acme.com", tax_id="de 123"), "salesforce", store)
    assert result.status == "created"
    assert result.xrefs == {"salesforce": "001A"}
    assert store.customers_by_key("domain", "acme.com") == {result.customer_id}
    assert store.customers_by_key("tax_id", "DE123") == {result.customer_id}


def test_resolving_twice_finds_the_same_customer(tables):
    store = IdentityStore()
    first = resolve(account(domain="acme.com"), "salesforce", store)
    second = resolve(account(domain="acme.com"), "salesforce", store)
    assert second.status == "resolved" and second.customer_id == first.customer_id
    assert second.matched_by == "xref:salesforce"


def test_an_existing_xref_wins_over_keys(tables):
    store = IdentityStore()
    known = resolve(account(domain="acme.com"), "salesforce", store)
    other = resolve(account("001B", name="Other", domain="other.com"), "salesforce", store)
    # the HubSpot record carries the Salesforce id of the first customer and the other one's domain
    found = resolve(account("hs-9", domain="other.com", external_ids={"salesforce": "001A"}), "hubspot", store)
    assert found.customer_id == known.customer_id != other.customer_id
    assert found.xrefs["hubspot"] == "hs-9"


def test_an_exact_key_links_a_record_from_another_system(tables):
    store = IdentityStore()
    known = resolve(account(legal_entities=[LegalEntity(entity_id="le1", name="Acme GmbH", tax_id="DE-999")]),
                    "salesforce", store)
    found = resolve(account("hs-1", tax_id="de999"), "hubspot", store)
    assert found.status == "resolved" and found.customer_id == known.customer_id
    assert found.matched_by == "key:tax_id"
    assert store.customer_by_xref("hubspot", "hs-1") == known.customer_id


def test_two_candidates_by_key_record_a_conflict_and_link_nothing(tables):
    store = IdentityStore()
    a = resolve(account("001A", domain="acme.com"), "salesforce", store)
    b = resolve(account("001B", tax_id="FR1"), "salesforce", store)
    result = resolve(account("hs-2", domain="acme.com", tax_id="FR1"), "hubspot", store)
    assert result.status == "conflict" and result.customer_id is None
    assert result.candidates == sorted([a.customer_id, b.customer_id])
    assert store.conflict(result.conflict_id)["status"] == "open"
    assert store.customer_by_xref("hubspot", "hs-2") is None


def test_ids_belonging_to_two_customers_are_a_conflict(tables):
    store = IdentityStore()
    resolve(account("001A"), "salesforce", store)
    resolve(account("hs-1"), "hubspot", store)
    result = resolve(account("001A", external_ids={"hubspot": "hs-1"}), "salesforce", store)
    assert result.status == "conflict" and len(result.candidates) == 2


def test_keys_are_normalized():
    acct = account(domain="WWW.Acme.COM", tax_id=" gb-12 34 ",
                   legal_entities=[LegalEntity(entity_id="x", name="X", tax_id="GB1234")])
    assert normalized_keys(acct) == [("domain", "acme.com"), ("tax_id", "GB1234")]


def test_a_contracts_links_and_terms_are_written_and_read_back(tables):
    store = IdentityStore()
    store.link_contract("006A", "stripe", "subscription", "le-1", "sub_1")
    store.put_terms("006A", "cust-1", {"term_end": "2027-12-01"})
    assert store.contract_links("006A") == [{"system": "stripe", "kind": "subscription", "entity": "le-1",
                                             "record_id": "sub_1"}]
    assert store.contract_of("stripe", "subscription", "sub_1") == ("006A", "le-1")
    assert store.terms("006A") == {"term_end": "2027-12-01"} and store.contract_customer("006A") == "cust-1"


class Throttling:
    """A BatchWriteItem that leaves the last item unprocessed `times` times, as DynamoDB does when throttled."""

    def __init__(self, times: int) -> None:
        self.times, self.calls = times, []

    def batch_write_item(self, RequestItems):
        (table, requests), = RequestItems.items()
        self.calls.append(len(requests))
        if self.times:
            self.times -= 1
            return {"UnprocessedItems": {table: requests[-1:]}}
        return {"UnprocessedItems": {}}


def test_puts_left_unprocessed_are_written_again_then_refused_as_transient(monkeypatch):
    from erphub.errors import Transient
    from erphub.store import tables

    monkeypatch.setattr(tables, "BATCH_WRITE_PAUSE", 0)
    items = [{"pk": {"S": "a"}}, {"pk": {"S": "b"}}]
    client = Throttling(times=2)
    tables.put_items(client, "t", items, "contract 006A")
    assert client.calls == [2, 1, 1]  # the unprocessed item alone, until it is written
    client = Throttling(times=tables.BATCH_WRITE_ATTEMPTS)
    with pytest.raises(Transient, match="unprocessed"):
        tables.put_items(client, "t", items, "contract 006A")
    assert len(client.calls) == tables.BATCH_WRITE_ATTEMPTS
    client = Throttling(times=0)
    tables.put_items(client, "t", [{"pk": {"S": str(i)}} for i in range(26)], "26 items")
    assert client.calls == [25, 1]  # BatchWriteItem takes at most 25 puts
