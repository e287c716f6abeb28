"""The hub layer ships botocore's models of the services the hub calls, and no others (layers/hub/python/Makefile,
BOTOCORE_SERVICES). A client for a service whose model is not shipped fails on Lambda only (UnknownServiceError at
its creation; the local stack and the tests run the venv's whole botocore), so the list is checked against the
code here: every client is made by erphub/aws.py, from a service named as a string literal, and no module imports
another way to one."""

import ast
import re
from pathlib import Path

import botocore
import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[3]
LAYER = ROOT / "layers" / "hub" / "python"
AWS_MODULE = LAYER / "erphub" / "aws.py"
MAKERS = {"client", "unvalidated_client"}  # erphub/aws.py
# what may be imported from the SDKs and from Powertools' utilities that can make their own clients
SDK_IMPORTS = {"boto3.dynamodb.types", "botocore.exceptions", "botocore.config"}
OWN_CLIENT_UTILITIES = ("aws_lambda_powertools.utilities.parameters", "aws_lambda_powertools.utilities.idempotency",
                        "aws_lambda_powertools.utilities.streaming", "aws_lambda_powertools.utilities.feature_flags")
PROVIDERS_GIVEN_OUR_CLIENT = {"SSMProvider", "SecretsProvider"}


def kept_services() -> set[str]:
    makefile = (LAYER / "Makefile").read_text(encoding="utf-8")
    (services,) = re.findall(r"^BOTOCORE_SERVICES\s*=\s*([^#\n]*)", makefile, flags=re.MULTILINE)
    return set(services.split())


def _sources() -> list[Path]:
    return sorted([*(LAYER / "erphub").rglob("*.py"), *(ROOT / "functions").glob("*/*.py")])


def _trees() -> list[tuple[Path, ast.Module]]:
    return [(path, ast.parse(path.read_text(encoding="utf-8"))) for path in _sources()]


def _service(call: ast.Call) -> str | None:
    given = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "service"), None)
    return given.value if isinstance(given, ast.Constant) and isinstance(given.value, str) else None


def test_every_client_the_code_makes_has_its_model_in_the_layer_and_no_other_model_ships():
    used: set[str] = set()
    for path, tree in _trees():
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in MAKERS
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "aws"):
                service = _service(node)
                assert service is not None, f"{path.relative_to(ROOT)}:{node.lineno}: name the service as a literal"
                used.add(service)
    assert used, "no aws.client(...) call found: the scan is broken"
    assert used <= kept_services(), f"add to BOTOCORE_SERVICES in layers/hub/python/Makefile: {used - kept_services()}"
    assert kept_services() == used, f"no code makes a client of {kept_services() - used}: drop it from the Makefile"


def test_no_module_has_another_way_to_a_client():
    """erphub.aws is only used as `aws` (so the scan above sees every client); nothing else imports boto3's or
    botocore's client factories, nor a Powertools utility that makes its own client, except the parameters providers
    built with our client."""
    offenders = []
    for path, tree in _trees():
        where = f"{path.relative_to(ROOT)}"
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                offenders += [f"{where}:{node.lineno} import {a.name}" for a in node.names
                              if _sdk(a.name) or a.name == "erphub.aws"]
            elif isinstance(node, ast.ImportFrom) and node.module:
                if path != AWS_MODULE:  # `from botocore import exceptions` is as fine as `from botocore.exceptions ...`
                    offenders += [f"{where}:{node.lineno} from {node.module} import {a.name}" for a in node.names
                                  if _sdk(node.module) and _sdk(f"{node.module}.{a.name}")]
                if node.module == "erphub.aws" or (node.module == "erphub" and any(
                        a.name == "aws" and a.asname not in (None, "aws") for a in node.names)):
                    offenders.append(f"{where}:{node.lineno} use `from erphub import aws`")
                if node.module.startswith(OWN_CLIENT_UTILITIES) and not node.module.endswith(".exceptions"):
                    offenders += [f"{where}:{node.lineno} from {node.module} import {a.name}" for a in node.names
                                  if a.name not in PROVIDERS_GIVEN_OUR_CLIENT]
            elif (isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", ""))
                  in PROVIDERS_GIVEN_OUR_CLIENT and not any(k.arg == "boto3_client" for k in node.keywords)):
                offenders.append(f"{where}:{node.lineno} a parameters provider without boto3_client=")
    assert offenders == []


def _sdk(module: str) -> bool:
    """An import of boto3 or botocore that is not one of the SDK_IMPORTS (types, exceptions, config)."""
    top = module.split(".")[0]
    return top in ("boto3", "botocore") and not any(module == ok or module.startswith(ok + ".") for ok in SDK_IMPORTS)


def test_the_kept_services_are_botocore_s_names():
    """A misspelt name would fail the layer's build; caught here first (botocore's data folder names)."""
    data = Path(botocore.__file__).parent / "data"
    assert {s for s in kept_services() if not (data / s).is_dir()} == set()
