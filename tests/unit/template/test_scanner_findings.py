"""The scanners' real findings stay fixed (raw-body bucket versioning, the ingest concurrency cap that deploys on a
fresh account), every checkov skip carries its reason, and the artifact check covers every function."""

import re
from pathlib import Path

import pytest

from local.template import Template
from tools import artifact, artifact_check

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[3]


def _ingest_props(**overrides: str) -> dict:
    template = Template(ROOT / "template.yaml", parameter_overrides=overrides)
    return template.resolve(template.resources["WebhookIngestFunction"]["Properties"])


def test_by_default_the_ingest_function_reserves_no_concurrency_so_a_fresh_account_can_deploy_it():
    assert "ReservedConcurrentExecutions" not in _ingest_props()


def test_an_ingest_cap_set_by_parameter_becomes_its_reserved_concurrency():
    assert _ingest_props(IngestConcurrency="50")["ReservedConcurrentExecutions"] == "50"


def test_the_raw_body_bucket_is_versioned_and_old_versions_expire():
    template = Template(ROOT / "template.yaml")
    bucket = template.resources["RawBodyBucket"]["Properties"]
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    assert all("NoncurrentVersionExpiration" in rule for rule in bucket["LifecycleConfiguration"]["Rules"])


def test_every_checkov_skip_says_why():
    lines = (ROOT / ".checkov.yaml").read_text(encoding="utf-8").splitlines()
    skips = [n for n, line in enumerate(lines) if re.match(r"\s*- CKV", line)]
    assert skips
    for n in skips:
        # a reason on the line itself, or a comment block right above the skip (or above the skips it belongs to)
        above = next(lines[i] for i in range(n - 1, -1, -1) if not re.match(r"\s*- CKV", lines[i]))
        assert "#" in lines[n] or above.strip().startswith("#"), f"no reason for {lines[n].strip()}"


def test_the_artifact_check_has_a_sample_for_every_function_of_the_template():
    functions = {u.logical_id for u in artifact.units() if not u.is_layer}
    checked = ({"WebhookIngestFunction", "PublisherFunction", "OutboxSweeperFunction", "WorkflowStarterFunction",
                "UsageIngestFunction", "UsageReporterFunction", "ReconcilerFunction"}
               | set(artifact_check.SQS_SAMPLES) | set(artifact_check.API_SAMPLES)
               | set(artifact_check.SCHEDULE_SAMPLES) | set(artifact_check.STREAM_SAMPLES)
               | {fn for fn, _, _ in artifact_check.ACTIVATION})
    assert functions == checked
    for name in {*artifact_check.SQS_SAMPLES.values(), *artifact_check.API_SAMPLES.values(),
                 *artifact_check.SCHEDULE_SAMPLES.values(), *artifact_check.STREAM_SAMPLES.values(),
                 "stepfunctions-activation-task.json"}:
        assert (artifact_check.SAMPLES / name).is_file()


def test_the_layer_is_built_from_its_own_requirements_and_ships_what_the_tracer_imports():
    [layer] = [u for u in artifact.units() if u.is_layer]
    assert layer.requirements == ROOT / "layers" / "hub" / "python" / "requirements.txt"
    pins = {line.split("==")[0].lower() for line in layer.requirements.read_text().splitlines()
            if line and not line.startswith("#")}
    assert {"aws-lambda-powertools", "aws-xray-sdk", "pydantic", "requests"} <= pins
