"""The embedded AWS: moto in server mode on loopback, in this process.

Calls made inside this process by clients created after start reach moto without HTTP (local/inprocess_aws.py);
the server answers everything else (other processes, clients created before)."""

from __future__ import annotations

import json
import os
import threading
import urllib.request
from functools import cached_property
from typing import Any

from local.template import ACCOUNT_ID, REGION

FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                    "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION}
_ONE_PER_PROCESS = threading.Lock()  # moto's backends and MOTO_PORT are process-global


class EmbeddedAws:
    def __init__(self, port: int = 0, in_process: bool = True) -> None:
        self.requested_port = port
        self.in_process = in_process  # False: every call over HTTP, as before (benches compare the two)
        self.server: Any = None
        self.url = ""
        self._locked = False
        self._clients: dict[str, Any] = {}
        self._clients_lock = threading.Lock()

    def start(self) -> str:
        if not _ONE_PER_PROCESS.acquire(blocking=False):
            raise RuntimeError("one local stack per process at a time (moto state and MOTO_PORT are global)")
        self._locked = True
        import logging

        from moto.server import ThreadedMotoServer  # imported lazily: ~0.75 s

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request is noise here

        from local import (
            botocore_loader,
            moto_backends,
            moto_dynamodb,
            moto_hot_paths,
            moto_lambda,
            moto_replay,
            moto_sfn,
            moto_sqs,
            moto_streams,
        )

        botocore_loader.install()  # the functions' sessions parse botocore's data files once, not once each
        moto_backends.install()  # an existing account's backends found without moto's global lock
        moto_hot_paths.install()  # a request's service and action methods found once, not per request
        moto_lambda.install()
        moto_sfn.install()  # executions parse their definition once, Lambda Tasks share one client
        moto_dynamodb.install()  # transactions atomic under the threaded server (see the module)
        moto_streams.install()  # stream records and shard iterators bounded, as AWS's are
        moto_sqs.install()  # ReceiveMessage answers its messages' JSON without moto's generic serializer
        moto_replay.install()  # archive replays honour their time window and rules, as on AWS
        from local import moto_dynamodb_items, moto_dynamodb_query, moto_dynamodb_updates, moto_serializer

        moto_serializer.install()  # answers: the keys of a member found once per shape, not per value
        moto_dynamodb_updates.install()  # an update expression parsed once per text, its tree copied by pickling
        moto_dynamodb_query.install()  # a Query reads its partition; the table sorted by its keys' plain values
        moto_dynamodb_items.install()  # an item built with one size count, not one per attribute
        from local import task_turns

        task_turns.install()  # Lambda tasks take turns on the one interpreter, the oldest execution first
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.requested_port, verbose=False)
        self.server.start()
        port = self.server.get_host_and_port()[1]
        # moto's Step Functions interpreter calls back to http://localhost:$MOTO_PORT
        os.environ["MOTO_PORT"] = str(port)
        self.url = f"http://127.0.0.1:{port}"
        if self.in_process:
            from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

            from local import inprocess_aws, inprocess_signing

            inprocess_aws.install(DomainDispatcherApplication(create_backend_app), port)
            inprocess_signing.install()  # those requests carry SigV4's headers, not its unchecked HMACs
        self._post("/moto-api/reset", {})
        self._post("/moto-api/config", {"stepfunctions": {"execute_state_machine": True},
                                         "lambda": {"use_docker": False}})
        return self.url

    def stop(self) -> None:
        if self.in_process and self._locked:
            from local import inprocess_aws

            inprocess_aws.uninstall()
        if self.server is not None:
            self.server.stop()
            self.server = None
        if self._locked:
            self._locked = False
            _ONE_PER_PROCESS.release()

    def _post(self, path: str, body: dict[str, Any]) -> None:
        request = urllib.request.Request(self.url + path, data=json.dumps(body).encode(), method="POST",  # noqa: S310
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback only  # nosec B310
            response.read()

    def client(self, service: str) -> Any:
        """A cached boto3 client on the embedded endpoint (clients are thread-safe, creating them is not)."""
        with self._clients_lock:
            if service not in self._clients:
                self._clients[service] = self._session.client(service, endpoint_url=self.url)
            return self._clients[service]

    @cached_property
    def _session(self) -> Any:
        import boto3

        return boto3.session.Session(aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                                     aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
                                     region_name=REGION)

    @property
    def account_id(self) -> str:
        return ACCOUNT_ID
