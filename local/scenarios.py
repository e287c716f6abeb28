"""`erphub demo`: runs the steps of JSON scenario files against a running stack and prints a timeline.

A scenario: {"name": ..., "description": ..., "steps": [step, ...]} where a step is one of
  {"send": {"source": "stripe", "file": "events/stripe/invoice.paid.json", "expect_status": 202}}
  {"post": {"path": "/some/route", "file": "...", "headers": {...}, "expect_status": 200}}
  {"wait": CHECK} (until true, "timeout" seconds, default 15)   {"expect": CHECK} (true now)
  {"note": "text"}   {"sleep": seconds}
  {"fault": {"vendor": "netsuite", "kind": "503", "times": 1000}} (the sandbox's vendor fails; "erp" / "success"
  name the stack's ERP / customer-success vendor)   {"clear_faults": {}}
  {"seed": {"vendor": "hubspot", "file": "local/scenarios/hubspot/records_a.json"}} (records put into the
  vendor sandbox: {"<kind>": [record, ...], ...}, e.g. the deal a HubSpot webhook names and the workflow reads)
A step with "crm": "<vendor>" runs only when the stack's CRM (CrmVendor) is that vendor: a scenario holds the
webhooks of every CRM, and the stack's configuration picks them (`erphub up --crm hubspot`).
"success": "<vendor>" does the same for the customer-success system (`erphub up --success totango`).
and CHECK is one of {"queue": <logical id>, "count": n} (messages waiting or in flight),
  {"table": <logical id>, "count": n, "where": {"attr": "value"}}, {"executions": <state machine id>,
  "status": "SUCCEEDED", "count": n}, {"archive": <logical id>, "count": n}.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from local.webhooks import send


class Runner:
    def __init__(self, gateway: str, client: Callable[[str], Any], resources: dict[str, dict[str, Any]],
                 root: Path = Path(), out: Callable[[str], None] = print, sandbox: str | None = None) -> None:
        self.gateway, self.client, self.resources, self.root, self.out = gateway, client, resources, root, out
        self.sandbox = sandbox  # the vendor sandbox's URL, for seed steps
        self.started = time.monotonic()
        self._vendors: dict[str, str] = {}

    def run_files(self, files: list[Path]) -> bool:
        ok = True
        for path in files:
            ok = self.run(json.loads(path.read_text(encoding="utf-8")), path.name) and ok
        return ok

    def run(self, scenario: dict[str, Any], label: str = "") -> bool:
        steps = scenario.get("steps", [])
        self.out(f"\n== {scenario.get('name', label)} ==")
        if scenario.get("description"):
            self.out(f"   {scenario['description']}")
        for index, step in enumerate(steps, start=1):
            step = dict(step)
            only_for, only_success = step.pop("crm", None), step.pop("success", None)
            kind, spec = next(iter(step.items()))
            if (only_for and only_for != self.crm()) or (only_success and only_success != self.success()):
                continue  # another vendor's webhook: this stack's CRM / success system sends its own in a sibling
            try:
                passed, detail = getattr(self, f"_{kind}")(spec)
            except Exception as exc:
                passed, detail = False, f"{type(exc).__name__}: {exc}"
            mark = "ok " if passed else "FAIL"
            self.out(f"[{time.monotonic() - self.started:7.3f}s] {index}/{len(steps)} {mark} {kind}: {detail}")
            if not passed:
                return False
        return True

    def crm(self) -> str:
        return self._vendor("Crm", "salesforce")

    def success(self) -> str:
        return self._vendor("Success", "gainsight")

    def erp(self) -> str:
        return self._vendor("Erp", "netsuite")

    def _vendor(self, role: str, default: str) -> str:
        """The stack's vendor of a role, as its <Role>AdapterFunction is configured (<ROLE>_VENDOR)."""
        if role not in self._vendors:
            function = self._physical(f"{role}AdapterFunction")
            config = self.client("lambda").get_function_configuration(FunctionName=function)
            variables = (config.get("Environment") or {}).get("Variables") or {}
            self._vendors[role] = variables.get(f"{role.upper()}_VENDOR") or default
        return self._vendors[role]

    # --- steps ------------------------------------------------------------------------------------------
    def _seed(self, spec: dict[str, Any]) -> tuple[bool, str]:
        """Records straight into the vendor sandbox, through its /_sandbox control API."""
        records = json.loads((self.root / spec["file"]).read_text(encoding="utf-8"))
        count = 0
        for kind, items in records.items():
            for item in items:
                self._control("POST", f"records/{spec['vendor']}/{kind}", item)
                count += 1
        return True, f"{spec['vendor']}: {count} records from {spec['file']}"

    def _fault(self, spec: dict[str, Any]) -> tuple[bool, str]:
        """A vendor failing (e.g. {"vendor": "netsuite", "kind": "503", "times": 1000}) until clear_faults; the
        vendor "erp" or "success" is the stack's ERP or customer-success system, whichever row it runs on."""
        roles = {"erp": self.erp, "success": self.success}
        spec = {**spec, "vendor": roles[spec["vendor"]]() if spec["vendor"] in roles else spec["vendor"]}
        self._control("POST", "faults", spec)
        return True, f"{spec['vendor']} answers {spec.get('kind', '500')} from now on"

    def _clear_faults(self, _spec: Any) -> tuple[bool, str]:
        self._control("DELETE", "faults")
        return True, "every vendor answers normally again"

    def _control(self, method: str, path: str, body: Any = None) -> None:
        if not self.sandbox:
            raise RuntimeError("this stack runs without the vendor sandbox: it cannot be steered")
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.sandbox}/_sandbox/{path}", data=data, method=method,  # noqa: S310
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30):  # noqa: S310 - the loopback sandbox  # nosec B310
            pass

    def _send(self, spec: dict[str, Any]) -> tuple[bool, str]:
        status, body = send(self.gateway, spec["source"], self.root / spec["file"])
        expected = spec.get("expect_status")
        passed = status == expected if expected else status < 400
        return passed, f"{spec['source']} {spec['file']} -> {status} {body[:120]}"

    def _post(self, spec: dict[str, Any]) -> tuple[bool, str]:
        data = (self.root / spec["file"]).read_bytes() if "file" in spec else json.dumps(spec.get("json")).encode()
        request = urllib.request.Request(self.gateway + spec["path"], data=data, method=spec.get("method", "POST"),  # noqa: S310
                                         headers={"Content-Type": "application/json", **spec.get("headers", {})})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback gateway  # nosec B310
                status, body = response.status, response.read().decode(errors="replace")
        except urllib.error.HTTPError as error:
            status, body = error.code, error.read().decode(errors="replace")
        expected = spec.get("expect_status")
        return (status == expected if expected else status < 400), f"{spec['path']} -> {status} {body[:120]}"

    def _note(self, text: str) -> tuple[bool, str]:
        return True, text

    def _sleep(self, seconds: float) -> tuple[bool, str]:
        time.sleep(float(seconds))
        return True, f"{seconds} s"

    def _wait(self, spec: dict[str, Any]) -> tuple[bool, str]:
        deadline = time.monotonic() + float(spec.get("timeout", 15))
        while True:
            passed, detail = self._check(spec)
            if passed or time.monotonic() > deadline:
                return passed, detail
            time.sleep(0.05)

    def _expect(self, spec: dict[str, Any]) -> tuple[bool, str]:
        return self._check(spec)

    def _check(self, spec: dict[str, Any]) -> tuple[bool, str]:
        want = int(spec.get("count", 1))
        if "queue" in spec:
            url = self._physical(spec["queue"], "QueueUrl")
            attrs = self.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=[
                "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
            have = sum(int(v) for v in attrs.values())
            return have >= want, f"queue {spec['queue']} holds {have} (want {want})"
        if "table" in spec:
            where = spec.get("where", {})
            items = [i for page in self.client("dynamodb").get_paginator("scan").paginate(
                TableName=self._physical(spec["table"])) for i in page["Items"]
                if all(next(iter(i.get(k, {}).values()), None) == v for k, v in where.items())]
            return len(items) >= want, f"table {spec['table']} has {len(items)} items {where or ''} (want {want})"
        if "executions" in spec:
            runs = self.client("stepfunctions").list_executions(
                stateMachineArn=self._physical(spec["executions"]), statusFilter=spec.get("status", "SUCCEEDED"))
            have = len(runs["executions"])
            return have >= want, f"{spec['executions']}: {have} {spec.get('status', 'SUCCEEDED')} (want {want})"
        if "archive" in spec:
            have = self.client("events").describe_archive(ArchiveName=self._physical(spec["archive"]))["EventCount"]
            return have >= want, f"archive {spec['archive']} recorded {have} events (want {want})"
        raise ValueError(f"unknown check {spec}")

    def _physical(self, logical_id: str, attribute: str = "Ref") -> str:
        attributes = self.resources[logical_id]
        return attributes.get(attribute) or attributes["Ref"]


def scenario_files(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.json"))
