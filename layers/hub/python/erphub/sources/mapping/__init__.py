"""Vendor payloads into canonical events: each source's normalize, apart from its verify and parse.

A package of its own, imported lazily inside each source's `normalize`, because the mapping needs the canonical
pydantic models and the ack path (verify, parse, acknowledge, one write) must import no pydantic: that keeps the
webhook function's cold start ~60 ms shorter. Salesforce keeps its mapping in erphub.sources.salesforce.mapping.
"""
