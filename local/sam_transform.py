"""The SAM transform, done by samtranslator (the library `sam deploy` and CloudFormation use): Globals merged,
each SAM resource expanded into the CloudFormation resources AWS creates (functions, roles, permissions, event
source mappings, rules, APIs). The local stack and the IAM audit both read its output; neither expands SAM."""

from __future__ import annotations

import copy
import hashlib
import json
import os
import tempfile
from importlib.metadata import version
from pathlib import Path
from typing import Any, cast

# `sam package` turns local paths into S3 URIs before the transform; locally the absolute path rides in the key,
# so the transformed Code / Content / DefinitionS3Location still say which directory or file holds it
LOCAL_BUCKET = "local-stack"
_LOCAL_PATHS = ("CodeUri", "ContentUri", "DefinitionUri")


def transform(document: dict[str, Any], parameters: dict[str, Any], region: str, root: Path) -> dict[str, Any]:
    """The CloudFormation template AWS would deploy for this SAM template (its paths relative to root) and
    these parameter values; kept in a cache keyed by all of them and samtranslator's version, since importing
    samtranslator and transforming cost ~0.3 s of every boot of the same template (tests boot many stacks)."""
    inputs = json.dumps([document, parameters, region, str(root), version("aws-sam-translator")], sort_keys=True,
                        default=str)
    cached = Path(tempfile.gettempdir(), "erphub-sam-transform", hashlib.sha256(inputs.encode()).hexdigest())
    if cached.exists():
        return cast(dict[str, Any], json.loads(cached.read_text(encoding="utf-8")))
    text = json.dumps(_translate(document, parameters, region, root))
    cached.parent.mkdir(exist_ok=True)
    partial = cached.with_suffix(f".{os.getpid()}.tmp")
    partial.write_text(text, encoding="utf-8")
    partial.replace(cached)  # atomic: a concurrent boot reads the whole file or none
    return cast(dict[str, Any], json.loads(text))  # the same as a cached one, whichever boot made it


def _translate(document: dict[str, Any], parameters: dict[str, Any], region: str, root: Path) -> dict[str, Any]:
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
