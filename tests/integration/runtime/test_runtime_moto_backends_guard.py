"""local/moto_backends.py: `backends[account]` answers what moto answers (its own path for a new account and after
a reset, the existing backends otherwise), and the moto internals it relies on are still the ones it was written for."""

from __future__ import annotations

import uuid

import pytest

from local import moto_backends

pytestmark = pytest.mark.integration


def test_the_wrapped_moto_internals_are_still_what_the_module_expects(stack):
    import moto

    assert moto.__version__ == moto_backends.EXPECTED_MOTO, "re-check local/moto_backends.py against the new moto"
    moto_backends.check_compatible()
    assert moto_backends.installed()
    moto_backends.install()  # idempotent: wraps once
    cls = moto_backends.backend_dict()
    assert getattr(cls.__getitem__, moto_backends.MARK).__qualname__ == "BackendDict.__getitem__"
    assert getattr(cls.reset, moto_backends.MARK).__qualname__ == "BackendDict.reset"


def test_an_existing_account_gets_its_own_backends_and_a_new_account_is_created_and_registered(stack):
    from moto.core.base_backend import AccountSpecificBackend, BackendDict
    from moto.sqs.models import sqs_backends

    # Given the stack's account, which the stack's queues already live in
    existing = sqs_backends[stack.aws.account_id]
    # When it is asked for again, and for an account never seen
    again = sqs_backends[stack.aws.account_id]
    account = str(uuid.uuid4().int)[:12]
    created = sqs_backends[account]
    # Then the existing account answers the very same backends, and the new one is moto's, registered for reset
    assert again is existing and existing["us-east-1"].queues
    assert isinstance(created, AccountSpecificBackend) and created.account_id == account
    assert created is sqs_backends[account] and any(b is sqs_backends for b in BackendDict._instances)
    assert created["us-east-1"].queues == {}
    del sqs_backends[account]  # leave the stack's moto as it was


def test_after_a_reset_the_first_access_takes_moto_s_path_again(stack):
    from moto.core.base_backend import BackendDict

    # Given a BackendDict of its own (not moto's: a reset of moto's would empty the stack under the other tests)
    own = BackendDict(_Backend, "erphub-guard", use_boto3_regions=False, additional_regions=["us-east-1"])
    first = own["000000000001"]["us-east-1"]
    assert own["000000000001"]["us-east-1"] is first  # remembered: the fast path
    # When moto's reset empties every registered BackendDict (this one only, here), and it is asked again
    registered = list(BackendDict._instances)
    BackendDict._instances[:] = [own]
    try:
        BackendDict.reset()
        after = own["000000000001"]["us-east-1"]
    finally:
        BackendDict._instances[:] = registered  # the stack's, as before
    # Then moto made new backends, the old ones were reset, and the dict is registered again
    assert after is not first and first.reset_count == 1 and after.reset_count == 0


class _Backend:
    def __init__(self, region_name: str, account_id: str) -> None:
        self.region_name, self.account_id, self.reset_count = region_name, account_id, 0

    def reset(self) -> None:
        self.reset_count += 1
