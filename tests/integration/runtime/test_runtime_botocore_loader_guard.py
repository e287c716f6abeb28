"""local/botocore_loader.py: every botocore session of the stack's process reads botocore's data files through one
loader (per data path), each session still has its own resolver, clients and credentials, and the botocore
internals it relies on are still the ones it was written for."""

from __future__ import annotations

import threading

import pytest

from local import botocore_loader

pytestmark = pytest.mark.integration


def test_the_wrapped_botocore_internals_are_still_what_the_module_expects(stack):
    import botocore

    assert botocore.__version__ == botocore_loader.EXPECTED_BOTOCORE, "re-check local/botocore_loader.py"
    botocore_loader.check_compatible()
    assert botocore_loader.installed()
    botocore_loader.install()  # idempotent: wraps once
    original = getattr(botocore_loader.session_module().create_loader, botocore_loader.MARK)
    assert original.__module__ == "botocore.loaders" and original.__name__ == "create_loader"


def test_sessions_share_the_loaded_data_and_keep_their_own_clients_and_credentials(stack):
    from botocore.session import Session

    # Given two sessions with different credentials, created while the stack runs
    first, second = Session(), Session()
    first.set_credentials("first", "secret-1")
    second.set_credentials("second", "secret-2")
    # When each makes a DynamoDB client on the embedded endpoint and calls it
    clients = [s.create_client("dynamodb", region_name="us-east-1", endpoint_url=stack.aws.url)
               for s in (first, second)]
    tables = [c.list_tables()["TableNames"] for c in clients]
    # Then the data loader (and so the parsed models) is one, the clients and their credentials are their own
    assert first.get_component("data_loader") is second.get_component("data_loader")
    models = [c.meta.service_model for c in clients]
    assert clients[0] is not clients[1] and models[0]._service_description is models[1]._service_description
    assert [c._request_signer._credentials.access_key for c in clients] == ["first", "second"]
    assert tables[0] == tables[1] and tables[0]


def test_another_data_path_gets_a_loader_of_its_own(stack, tmp_path):
    from botocore.session import Session

    default, other = Session(), Session()
    other.set_config_variable("data_path", str(tmp_path))
    loader = other.get_component("data_loader")
    assert loader is not default.get_component("data_loader")
    assert str(tmp_path) in loader.search_paths


def test_concurrent_first_loads_answer_one_model(stack):
    from botocore.session import Session

    # Given a fresh loader (its own data path) and eight threads asking for one service model at once
    session = Session()
    session.set_config_variable("data_path", "/nonexistent-erphub-guard")
    shared = session.get_component("data_loader")
    models: list = []

    def load() -> None:
        models.append(shared.load_service_model("sqs", "service-2"))

    threads = [threading.Thread(target=load) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then every thread got the one model the loader keeps
    assert len(models) == 8 and all(m is models[0] for m in models)
    assert models[0]["metadata"]["serviceId"] == "SQS"
