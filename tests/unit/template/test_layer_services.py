"""The hub layer ships botocore's models of the services the hub calls, and no others (layers/hub/python/Makefile,
BOTOCORE_SERVICES). A client for a service whose model is not shipped fails on Lambda only (UnknownServiceError at
its first call), so the list is checked against the code here: every client is made by erphub/aws.py, from a
service named as a string literal."""

import ast
import re
from pathlib import Path

import botocore
import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[3]
LAYER = ROOT / "layers" / "hub" / "python"
MAKERS = {"client", "unvalidated_client"}  # erphub/aws.py
NOT_CALLED_BY_OUR_CODE = {"sts", "xray"}  # botocore's credential chain, the X-Ray SDK outside Lambda
PARAMETER_PROVIDERS = {"SSMProvider", "SecretsProvider", "DynamoDBProvider", "AppConfigProvider"}
PARAMETER_FUNCTIONS = {"get_parameter", "get_parameters", "get_parameters_by_name", "get_secret", "get_secrets_by_name",
                       "get_app_config"}


def kept_services() -> set[str]:
    makefile = (LAYER / "Makefile").read_text(encoding="utf-8")
    (services,) = re.findall(r"^BOTOCORE_SERVICES = (.+)$", makefile, flags=re.MULTILINE)
    return set(services.split())


def _sources() -> list[Path]:
    return sorted([*(LAYER / "erphub").rglob("*.py"), *(ROOT / "functions").glob("*/*.py")])


def _clients_made(path: Path) -> list[tuple[int, str | None]]:
    """(line, service or None when not a literal) of each aws.client(...) / aws.unvalidated_client(...) call."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in MAKERS
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "aws"):
            continue
        first = node.args[0] if node.args else None
        literal = isinstance(first, ast.Constant) and isinstance(first.value, str)
        found.append((node.lineno, first.value if literal else None))  # type: ignore[union-attr]
    return found


def test_every_client_the_code_makes_has_its_model_in_the_layer_and_no_other_model_ships():
    used: set[str] = set()
    for path in _sources():
        for line, service in _clients_made(path):
            assert service is not None, f"{path.relative_to(ROOT)}:{line}: name the service as a literal"
            used.add(service)
    assert used, "no aws.client(...) call found: the scan is broken"
    assert used <= kept_services(), f"add to BOTOCORE_SERVICES in layers/hub/python/Makefile: {used - kept_services()}"
    assert kept_services() - NOT_CALLED_BY_OUR_CODE == used, "a kept model no code uses: drop it from the Makefile"


def test_no_client_is_made_outside_erphub_aws():
    """Any other way to a botocore client (boto3.client, a session's create_client, a Powertools parameters
    provider or function left to make its own) would escape the check above."""
    offenders = []
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            owner = getattr(node.func, "value", None)
            sdk = isinstance(owner, ast.Name) and owner.id in ("boto3", "botocore")  # boto3.client(...), ...
            factory = name == "create_client" or (name == "Session" and not isinstance(owner, ast.Name)) or sdk
            own_client = name in PARAMETER_PROVIDERS and not any(k.arg == "boto3_client" for k in node.keywords)
            if own_client or name in PARAMETER_FUNCTIONS or (factory and path.name != "aws.py"):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} {name}")
    assert offenders == []


def test_the_kept_services_are_botocore_s_names():
    """A misspelt name would fail the layer's build; caught here first (botocore's data folder names)."""
    data = Path(botocore.__file__).parent / "data"
    assert {s for s in kept_services() if not (data / s).is_dir()} == set()
