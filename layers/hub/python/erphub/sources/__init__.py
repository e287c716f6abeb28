"""Inbound sources: one verifier and normalizer per vendor, looked up by the {source} path segment.

A vendor's module verifies, parses and acknowledges with the standard library only; its mapping into the canonical
pydantic models is in erphub.sources.mapping (Salesforce's in erphub.sources.salesforce.mapping), imported by
normalize on first use, so the webhook's ack path imports no pydantic.
"""

from __future__ import annotations

from importlib import import_module

from erphub.errors import UnknownSource
from erphub.sources.inbound import Source

# name -> module; imported on first use so a function that serves one source loads only that vendor's code
_MODULES = {
    "stripe": "erphub.sources.stripe",
    "hubspot": "erphub.sources.hubspot",
    "salesforce": "erphub.sources.salesforce",
    "chargebee": "erphub.sources.chargebee",
    "zuora": "erphub.sources.zuora",
    "gainsight": "erphub.sources.gainsight",
    "totango": "erphub.sources.totango",
}
SOURCE_NAMES: tuple[str, ...] = tuple(_MODULES)


def get_source(name: str) -> Source:
    module = _MODULES.get(name)
    if module is None:
        raise UnknownSource(f"unknown source {name!r}; known: {', '.join(SOURCE_NAMES)}", system=name)
    return import_module(module).source


__all__ = ["SOURCE_NAMES", "get_source"]
