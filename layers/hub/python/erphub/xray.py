"""The X-Ray provider behind Powertools' Tracer: the same recorder and subsegments, with the SDK's cost paid only
where it records.

Powertools' default provider imports the X-Ray SDK when the Tracer is created (at import of every function) and
`patch_all()` then imports and patches every library the SDK knows that is installed (requests, sqlite3, ...),
whether the function uses it or not. This provider (Powertools' `provider=` extension point):
- imports nothing of the SDK but its tiny on/off switch while the SDK is disabled (AWS_XRAY_SDK_ENABLED=false, as
  in the local stack, or Tracer(disabled=True) in tests): the recorder would only hand out dummy subsegments;
- otherwise loads the recorder at the first subsegment (the handler's, so before any AWS call of the first
  request), configured as Powertools configures it (streaming_threshold=0, Powertools issue #283), and patches
  botocore plus each other library of the SDK's patch_all() list that the function has imported by then; a
  library imported later is patched at the next subsegment.
So every AWS call and every vendor HTTP call still gets its subsegment, and nothing is imported for tracing alone.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Generator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from typing import Any

import aws_xray_sdk  # the package root is only the SDK's enabled flag (sdk_config); the recorder is in .core
from aws_lambda_powertools.tracing.base import BaseProvider, BaseSegment

# aws_xray_sdk.core.patcher.NO_DOUBLE_PATCH (what patch_all() patches), as the module each patch wraps
PATCHABLE = {"aiobotocore": "aiobotocore", "botocore": "botocore", "pynamodb": "pynamodb", "requests": "requests",
             "sqlite3": "sqlite3", "mysql": "mysql", "pymongo": "pymongo", "pymysql": "pymysql",
             "psycopg2": "psycopg2", "psycopg": "psycopg", "pg8000": "pg8000", "sqlalchemy_core": "sqlalchemy",
             "httpx": "httpx"}
ALWAYS_PATCHED = ("botocore",)  # every function calls AWS, and its clients are made lazily inside the first request


class Unrecorded(BaseSegment):
    """The subsegment while the SDK is disabled: it takes annotations, metadata and errors and keeps nothing."""

    def close(self, end_time: int | None = None) -> None:
        return None

    def add_subsegment(self, subsegment: Any) -> None:
        return None

    def remove_subsegment(self, subsegment: Any) -> None:
        return None

    def put_annotation(self, key: str, value: Any) -> None:
        return None

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        return None

    def add_exception(self, exception: BaseException, stack: Any, remote: bool = False) -> None:
        return None


class LazyXRayProvider(BaseProvider):
    def __init__(self) -> None:
        self._recorder: Any = None
        self._patch_all = False
        self._requested: set[str] = set(ALWAYS_PATCHED)
        self._patched: set[str] = set()
        self._lock = threading.Lock()  # the local stack runs several invocations at once in one process

    @staticmethod
    def enabled() -> bool:
        return bool(aws_xray_sdk.global_sdk_config.sdk_enabled())

    def recorder(self) -> Any:
        """The SDK's recorder, loaded and configured on first use; the libraries to trace patched."""
        with self._lock:
            if self._recorder is None:
                from aws_xray_sdk.core import xray_recorder

                xray_recorder.configure(streaming_threshold=0)
                self._recorder = xray_recorder
            self._patch_imported()
        return self._recorder

    def _patch_imported(self) -> None:
        wanted = set(PATCHABLE) if self._patch_all else self._requested
        due = {name for name in wanted - self._patched
               if name in ALWAYS_PATCHED or PATCHABLE.get(name, name) in sys.modules}
        if due:
            from aws_xray_sdk.core import patch

            patch(sorted(due), raise_errors=False)
            self._patched |= due

    @contextmanager
    def in_subsegment(self, name: str | None = None, **kwargs: Any) -> Generator[BaseSegment, None, None]:
        if not self.enabled():
            yield Unrecorded()
            return
        with self.recorder().in_subsegment(name=name, **kwargs) as subsegment:
            yield subsegment

    def in_subsegment_async(self, name: str | None = None, **kwargs: Any) -> AbstractAsyncContextManager[BaseSegment]:
        @asynccontextmanager
        async def subsegment() -> Any:
            if not self.enabled():
                yield Unrecorded()
                return
            async with self.recorder().in_subsegment_async(name=name, **kwargs) as recorded:
                yield recorded

        return subsegment()

    def put_annotation(self, key: str, value: Any) -> None:
        if self.enabled():
            self.recorder().put_annotation(key=key, value=value)

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        if self.enabled():
            self.recorder().put_metadata(key=key, value=value, namespace=namespace)

    def patch(self, modules: Sequence[str]) -> None:
        """Patched when the recorder is first used (and the module imported); names as the SDK's patch() takes."""
        self._requested |= {"botocore" if m == "boto3" else m for m in modules}

    def patch_all(self) -> None:
        self._patch_all = True
