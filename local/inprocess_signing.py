"""SigV4 for the requests the in-process transport answers (local/inprocess_aws.py): every header botocore puts
on them, without computing the signature nobody checks.

botocore signs every request: a canonical request (every header, the query, a SHA-256 of the body), the
string to sign and five HMACs; ~0.15 ms of CPU per AWS call, on ~70 calls per activation plus the stack's own
(issue 13). A request to the embedded endpoint never leaves the process, and moto verifies no signature unless
its IAM authentication is switched on (`INITIAL_NO_AUTH_ACTION_COUNT`, infinite by default: then it reads only
the credential scope and the access key, for the account, region and service). So for those requests
`SigV4Auth.add_auth` does everything it does (the date and token headers, the Authorization header with the
same Credential scope and SignedHeaders) except the canonical request and the HMACs: the Signature is
`UNVERIFIED_SIGNATURE`. Any other request (another endpoint, HTTP to the server, moto with IAM auth on, S3's
and the other SigV4 variants, presigned URLs) is signed by botocore as before.

botocore-internal (pinned botocore==1.44.8): tests/integration/runtime/test_runtime_inprocess_signing_guard.py
fails loudly if what this relies on changes.
"""

from __future__ import annotations

import functools
import inspect
import math
from typing import Any

from local import pinned

EXPECTED_BOTOCORE = "1.44.8"
MARK = "__erphub_inprocess_signing__"
UNVERIFIED_SIGNATURE = "0" * 64  # the shape of a SigV4 signature (64 hex digits); moto reads no signature
_STEPS = ("self._modify_request_before_signing(request)", "canonical_request = self.canonical_request(request)",
          "signature = self.signature(string_to_sign, request)",
          "self._inject_signature_to_request(request, signature)")


def auth_class() -> Any:
    from botocore.auth import SigV4Auth

    return SigV4Auth


def check_compatible() -> None:
    pinned.require("botocore", EXPECTED_BOTOCORE, __name__)
    cls = auth_class()
    source = inspect.getsource(getattr(cls.add_auth, MARK, cls.add_auth))
    missing = [step for step in _STEPS if step not in source]
    if missing or "request.context['timestamp'] = datetime_now.strftime(SIGV4_TIMESTAMP)" not in source:
        raise RuntimeError(f"botocore's SigV4Auth.add_auth no longer signs in the steps expected: {missing}")


def installed() -> bool:
    return getattr(auth_class().add_auth, MARK, None) is not None


def install() -> None:
    """Idempotent; process-wide (botocore's class is). Inert while no in-process transport is active."""
    if installed():
        return
    check_compatible()
    cls = auth_class()
    cls.add_auth = _unverified_in_process(cls.add_auth)


def moto_verifies_signatures() -> bool:
    from moto import settings

    return not math.isinf(settings.INITIAL_NO_AUTH_ACTION_COUNT)


def _answered_in_process(url: str) -> bool:
    from local import inprocess_aws

    active = inprocess_aws.active()
    return active is not None and active.handles(url)


def _unverified_in_process(original: Any) -> Any:
    from botocore.auth import SIGV4_TIMESTAMP, SigV4Auth, get_current_datetime
    from botocore.exceptions import NoCredentialsError

    @functools.wraps(original)
    def add_auth(self: Any, request: Any) -> None:
        if type(self) is not SigV4Auth or not _answered_in_process(request.url) or moto_verifies_signatures():
            return original(self, request)
        if self.credentials is None:
            raise NoCredentialsError()
        request.context["timestamp"] = get_current_datetime().strftime(SIGV4_TIMESTAMP)
        self._modify_request_before_signing(request)
        self._inject_signature_to_request(request, UNVERIFIED_SIGNATURE)
        return None

    setattr(add_auth, MARK, original)
    return add_auth
