"""The SAM transform, done by samtranslator (the library `sam deploy` and CloudFormation use): Globals merged,
each SAM resource expanded into the CloudFormation resources AWS creates (functions, roles, permissions, event
source mappings, rules, APIs). The local stack and the IAM audit both read its output; neither expands SAM."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

# `sam package` turns local paths into S3 URIs before the transform; locally the absolute path rides in the key,
# so the transformed Code / Content / DefinitionS3Location still say which directory or file holds it
LOCAL_BUCKET = "local-stack"
_LOCAL_PATHS = ("CodeUri", "ContentUri", "DefinitionUri")


def transform(document: dict[str, Any], parameters: dict[str, Any], region: str, root: Path) -> dict[str, Any]:
    """The CloudFormation template AWS would deploy for this SAM template (its paths relative to root) and
    these parameter values."""
    import boto3
    from samtranslator.metrics.metrics import DummyMetricsPublisher, Metrics
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    doc = copy.deepcopy(document)
    sections = [r.get("Properties") or {} for r in doc.get("Resources", {}).values()]
    sections += [g for g in (doc.get("Globals") or {}).values() if isinstance(g, dict)]
    for props in sections:
        for key in _LOCAL_PATHS:
            if isinstance(props.get(key), str) and not props[key].startswith("s3://"):
                props[key] = f"s3://{LOCAL_BUCKET}{(root / props[key]).resolve()}"
    values = {name: ",".join(value) if isinstance(value, list) else value for name, value in parameters.items()}
    session = boto3.session.Session(region_name=region)  # the transform's pseudo parameters; no call is made
    metrics = Metrics("ServerlessTransform", DummyMetricsPublisher())
    try:
        return Translator(None, Parser(), boto_session=session, metrics=metrics).translate(
            doc, parameter_values=values, get_managed_policy_map=lambda: {})
    finally:
        metrics.publish()  # to nowhere; else it warns of unpublished metrics at exit


def local_path(location: Any) -> Path | None:
    """The local path a transformed Code / Content / DefinitionS3Location points at (None: really on S3)."""
    if not isinstance(location, dict):
        return None
    bucket = location.get("S3Bucket") or location.get("Bucket")
    key = location.get("S3Key") or location.get("Key")
    return Path("/", key) if bucket == LOCAL_BUCKET and isinstance(key, str) else None
