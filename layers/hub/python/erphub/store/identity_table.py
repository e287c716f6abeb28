"""The identity table: each customer's ids in every system, the exact keys that find it, and conflicts.

Items (pk, sk):
  CUSTOMER#<id>, XREF#<system>#<entity>   the customer's id in a system (entity "-" = the whole account)
  XREF#<system>#<id>, CUSTOMER            reverse lookup: a system's id -> our customer id
  KEY#<kind>#<value>, CUSTOMER#<id>       exact keys (domain, tax_id); several customers under one key = ambiguous
  CONFLICT#<id>, CONFLICT                 a resolution the hub refused to guess
  CONTRACT#<id>, LINK#<system>#<kind>#<entity>   records a contract owns in other systems (subscriptions, orders)
  LINKED#<system>#<kind>#<record id>, CONTRACT    reverse: the contract (and entity) a record was last linked to
  CONTRACT#<id>, TERMS                    the contract's terms as last applied (items, billing frequency, term)
  CUSTOMER#<id>, CONTRACT#<contract id>   the customer's contracts
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from erphub import aws
from erphub.errors import Conflict
from erphub.store.tables import from_item, identity_table, put_items, query_partition, to_item, translated

WHOLE_ACCOUNT = "-"


class IdentityStore:
    def __init__(self, table: str | None = None, client: Any = None) -> None:
        self.table = table or identity_table()
        self.ddb = client or aws.client("dynamodb")

    # --- lookups -------------------------------------------------------------------------------------
    def customer_by_xref(self, system: str, system_id: str) -> str | None:
        with translated(f"xref {system}/{system_id}"):
            item = self.ddb.get_item(TableName=self.table, ConsistentRead=True,
                                     Key=to_item({"pk": f"XREF#{system}#{system_id}", "sk": "CUSTOMER"})).get("Item")
        return from_item(item)["customer_id"] if item else None

    def entity_of_xref(self, system: str, system_id: str) -> tuple[str, str] | None:
        """(customer id, legal entity) that a system's id belongs to."""
        with translated(f"xref {system}/{system_id}"):
            item = self.ddb.get_item(TableName=self.table, ConsistentRead=True,
                                     Key=to_item({"pk": f"XREF#{system}#{system_id}", "sk": "CUSTOMER"})).get("Item")
        if not item:
            return None
        values = from_item(item)
        return values["customer_id"], values.get("entity", WHOLE_ACCOUNT)

    def customer_for(self, ids: dict[str, str]) -> str | None:
        """The customer any of these (system -> id) belongs to."""
        return next((c for system, sid in ids.items() if sid and (c := self.customer_by_xref(system, sid))), None)

    def customers_by_key(self, kind: str, value: str) -> set[str]:
        return {i["customer_id"] for i in query_partition(self.ddb, self.table, f"KEY#{kind}#{value}", "CUSTOMER#")}

    def xrefs(self, customer_id: str) -> dict[str, str]:
        """{"stripe": "cus_1", "netsuite/le-1": "..."} - system, or system/legal entity, -> id."""
        found = {}
        for item in query_partition(self.ddb, self.table, f"CUSTOMER#{customer_id}", "XREF#"):
            entity = item.get("entity", WHOLE_ACCOUNT)
            found[item["system"] if entity == WHOLE_ACCOUNT else f"{item['system']}/{entity}"] = item["system_id"]
        return found

    # --- writes --------------------------------------------------------------------------------------
    def link(self, customer_id: str, system: str, system_id: str, entity: str = WHOLE_ACCOUNT) -> bool:
        """Record a system id for the customer; False if that id already belongs to another customer."""
        now = datetime.now(UTC).isoformat()
        reverse = to_item({"pk": f"XREF#{system}#{system_id}", "sk": "CUSTOMER", "customer_id": customer_id,
                           "entity": entity, "linked_at": now})
        try:
            with translated(f"xref {system}/{system_id}"):
                self.ddb.put_item(TableName=self.table, Item=reverse,
                                  ConditionExpression="attribute_not_exists(pk) OR customer_id = :c",
                                  ExpressionAttributeValues={":c": {"S": customer_id}})
        except Conflict:  # the id is another customer's
            return False
        forward = to_item({"pk": f"CUSTOMER#{customer_id}", "sk": f"XREF#{system}#{entity}", "system": system,
                           "entity": entity, "system_id": system_id, "linked_at": now})
        with translated(f"customer {customer_id}"):
            self.ddb.put_item(TableName=self.table, Item=forward)
        return True

    def add_key(self, customer_id: str, kind: str, value: str) -> None:
        with translated(f"key {kind}/{value}"):
            self.ddb.put_item(TableName=self.table, Item=to_item(
                {"pk": f"KEY#{kind}#{value}", "sk": f"CUSTOMER#{customer_id}", "customer_id": customer_id}))

    def record_conflict(self, conflict_id: str, subject: str, candidates: list[str], reason: str) -> None:
        with translated(f"conflict {conflict_id}"):
            self.ddb.put_item(TableName=self.table, Item=to_item({
                "pk": f"CONFLICT#{conflict_id}", "sk": "CONFLICT", "subject": subject, "candidates": candidates,
                "reason": reason, "status": "open", "recorded_at": datetime.now(UTC).isoformat()}))

    def close_conflict(self, conflict_id: str, chosen: str, by: str) -> None:
        """An operator chose the customer: the conflict is resolved (once; a second close is a Conflict)."""
        with translated(f"conflict {conflict_id}"):
            self.ddb.update_item(
                TableName=self.table, Key=to_item({"pk": f"CONFLICT#{conflict_id}", "sk": "CONFLICT"}),
                UpdateExpression="SET #s = :resolved, chosen = :c, resolved_by = :by, resolved_at = :t",
                ConditionExpression="#s = :open", ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues=to_item({":resolved": "resolved", ":c": chosen, ":by": by, ":open": "open",
                                                   ":t": datetime.now(UTC).isoformat()}))

    def conflict(self, conflict_id: str) -> dict[str, Any] | None:
        with translated(f"conflict {conflict_id}"):
            item = self.ddb.get_item(TableName=self.table, ConsistentRead=True,
                                     Key=to_item({"pk": f"CONFLICT#{conflict_id}", "sk": "CONFLICT"})).get("Item")
        return from_item(item) if item else None

    # --- what a contract owns in other systems ---------------------------------------------------------
    def link_contract(self, contract_id: str, system: str, kind: str, entity: str, record_id: str) -> None:
        put_items(self.ddb, self.table, [
            to_item({"pk": f"CONTRACT#{contract_id}", "sk": f"LINK#{system}#{kind}#{entity}", "system": system,
                     "kind": kind, "entity": entity, "record_id": record_id}),
            # usage aggregation finds a subscription's contract (terms, entity) from the billing id alone
            to_item({"pk": f"LINKED#{system}#{kind}#{record_id}", "sk": "CONTRACT", "contract_id": contract_id,
                     "entity": entity})], f"contract {contract_id}")

    def contract_of(self, system: str, kind: str, record_id: str) -> tuple[str, str] | None:
        """(contract id, legal entity) a record of another system was last linked to (a renewal re-links)."""
        with translated(f"linked {system}/{kind}/{record_id}"):
            item = self.ddb.get_item(TableName=self.table, ConsistentRead=True, Key=to_item(
                {"pk": f"LINKED#{system}#{kind}#{record_id}", "sk": "CONTRACT"})).get("Item")
        if not item:
            return None
        values = from_item(item)
        return values["contract_id"], values["entity"]

    def contract_links(self, contract_id: str) -> list[dict[str, str]]:
        items = query_partition(self.ddb, self.table, f"CONTRACT#{contract_id}", "LINK#")
        return [{k: i[k] for k in ("system", "kind", "entity", "record_id")} for i in items]

    def put_terms(self, contract_id: str, customer_id: str, terms: dict[str, Any]) -> None:
        put_items(self.ddb, self.table, [
            to_item({"pk": f"CONTRACT#{contract_id}", "sk": "TERMS", "terms": json.dumps(terms, default=str),
                     "customer_id": customer_id}),
            to_item({"pk": f"CUSTOMER#{customer_id}", "sk": f"CONTRACT#{contract_id}", "contract_id": contract_id})],
            f"contract {contract_id}")

    def terms(self, contract_id: str) -> dict[str, Any]:
        with translated(f"contract {contract_id}"):
            item = self.ddb.get_item(TableName=self.table, ConsistentRead=True,
                                     Key=to_item({"pk": f"CONTRACT#{contract_id}", "sk": "TERMS"})).get("Item")
        return json.loads(from_item(item)["terms"]) if item else {}

    def contract_customer(self, contract_id: str) -> str | None:
        """The hub customer whose contract it is (recorded with its terms)."""
        with translated(f"contract {contract_id}"):
            item = self.ddb.get_item(TableName=self.table, ConsistentRead=True,
                                     Key=to_item({"pk": f"CONTRACT#{contract_id}", "sk": "TERMS"})).get("Item")
        return from_item(item).get("customer_id") if item else None

    def customer_contracts(self, customer_id: str) -> list[str]:
        return [i["contract_id"] for i in query_partition(self.ddb, self.table, f"CUSTOMER#{customer_id}", "CONTRACT#")]
