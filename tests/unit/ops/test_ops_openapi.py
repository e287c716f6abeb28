"""openapi/ops-v1.json is generated from the operator API's code; it fails here when it drifts."""

from __future__ import annotations

import json

from tools import generated, openapi


def test_the_committed_openapi_document_is_what_the_code_generates():
    stale = generated.drift(openapi.files())
    assert stale == [], "openapi/ops-v1.json is out of date: run `make openapi`"


def test_every_operation_is_behind_the_cognito_id_token():
    document = json.loads(openapi.DOCUMENT.read_text())
    assert document["security"] == [{"CognitoIdToken": []}]
    scheme = document["components"]["securitySchemes"]["CognitoIdToken"]
    assert (scheme["type"], scheme["in"], scheme["name"]) == ("apiKey", "header", "Authorization")
    acting = {p.rsplit("/", 1)[-1] for p, item in document["paths"].items() if "post" in item}
    assert acting == {"approve", "reject", "fix", "choose", "resume", "retry", "abandon", "assign", "comments",
                      "acknowledge", "reread", "resolve", "reconciliations", "renormalize", "replay", "redrive",
                      "purge", "archive-replays", "sweep"}
