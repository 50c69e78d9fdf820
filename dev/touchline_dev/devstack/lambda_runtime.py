"""Importing and invoking handlers the way the Lambda Python runtime does, in this process.

Every function's file is `app.py`, so each is imported from its path under a unique module name,
with its code directory on `sys.path` (Lambda's task root) and its environment applied first (the
module-level code reads settings at import, as it would on a cold start). Events and results go
through JSON like they do on the wire, so a handler returning something Lambda could not serialise
fails here too.

A Lambda container runs one invocation at a time, and handlers rely on it: Powertools' resolver
keeps the request being routed in `app.current_event`, a module-level object. So concurrent
requests to one function here get separate "containers" — the handler module imported once per
container, under its own name, up to `MAX_CONTAINERS` — and each container serves one invocation
at a time, as in Lambda (without this, a burst of parallel queries could read each other's
bodies). What handlers import from `touchline` is shared, as the layer is within one container.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from .handles import fresh_id
from .intrinsics import ACCOUNT_ID, REGION
from .template import FunctionSpec, TemplateError

log = logging.getLogger("touchline_dev.devstack")

Handler = Callable[[Any, Any], Any]
# Containers per function: a browser opens up to 6 connections to one host, so a dashboard's round
# of queries runs in parallel as it does against API Gateway.
MAX_CONTAINERS = 6


class InvocationError(RuntimeError):
    """The handler raised, or returned something Lambda could not serialise."""


class LambdaContext:
    """The context object of the Python runtime (awslambdaric), with the same attribute types."""

    def __init__(
        self,
        *,
        function_name: str,
        memory_size: int,
        timeout_seconds: float,
        region: str = REGION,
        account_id: str = ACCOUNT_ID,
        request_id: str | None = None,
    ) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:{region}:{account_id}:function:{function_name}"
        # A string, as in the real runtime (it is read from AWS_LAMBDA_FUNCTION_MEMORY_SIZE).
        self.memory_limit_in_mb = str(memory_size)
        self.aws_request_id = request_id or fresh_id()
        self.log_group_name = f"/aws/lambda/{function_name}"
        stream = fresh_id().replace("-", "")
        self.log_stream_name = time.strftime("%Y/%m/%d/[$LATEST]", time.gmtime()) + stream
        self.identity: Any = None
        self.client_context: Any = None
        self.tenant_id: str | None = None
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


@dataclass(frozen=True)
class Invocation:
    result: Any
    duration_ms: float
    request_id: str


class LocalFunction:
    """One function of the template: its handler, imported once, and how to invoke it."""

    def __init__(
        self,
        spec: FunctionSpec,
        *,
        name: str,
        environment: Mapping[str, str],
        identity: Callable[[], AbstractContextManager[object]] = nullcontext,
    ) -> None:
        self.spec = spec
        self.name = name
        self.environment = dict(environment)
        # Entered around the import and every invocation: the function's AWS calls sign as its
        # role (touchline_dev.iam.identity), as they would with Lambda's credentials.
        self.identity = identity
        self._handler: Handler | None = None  # the first container's (imported at startup)
        self._imported = False  # False when a test put its own handler in `_handler`
        self._import_lock = threading.Lock()
        self._idle: list[Handler] = []
        self._containers = 0
        self._free = threading.Condition()

    @property
    def logical_id(self) -> str:
        return self.spec.logical_id

    def load(self) -> Handler:
        """Import the handler (its cold start), applying the function's environment first."""
        with self._import_lock:
            if self._handler is None:
                self._handler = self._import(0)
                self._imported = True
            return self._handler

    def _import(self, container: int) -> Handler:
        os.environ.update(self.environment)
        name = self.logical_id if container == 0 else f"{self.logical_id}_{container}"
        with self.identity():
            return load_handler(self.spec.code_dir, self.spec.handler, name)

    @contextmanager
    def _container(self) -> Iterator[Handler]:
        """A container free for one invocation: an idle one, a new one, or the next one freed."""
        first = self.load()
        fresh: int | None = None
        with self._free:
            if self._containers == 0:
                self._containers, self._idle = 1, [first]
            limit = MAX_CONTAINERS if self._imported else 1
            while not self._idle and self._containers >= limit:
                self._free.wait()
            if self._idle:
                handler = self._idle.pop()
            else:
                fresh, self._containers = self._containers, self._containers + 1
        if fresh is not None:
            try:
                handler = self._import(fresh)
            except BaseException:
                with self._free:
                    self._containers -= 1
                    self._free.notify()
                raise
        try:
            yield handler
        finally:
            with self._free:
                self._idle.append(handler)
                self._free.notify()

    def invoke(self, event: Any, *, request_id: str | None = None, wire: bool = True) -> Invocation:
        """Run the handler on a JSON round-trip of `event`; raise `InvocationError` on failure.

        `wire=False` is for an event the caller built of JSON types and hands over (the gateway's
        request, the poller's batch): the round-trip would give an equal copy, and for a batch of
        10,000 records it cost more than the rest of the invocation's overhead. The result always
        goes through JSON, so a result Lambda cannot serialise still fails.
        """
        payload = json.loads(json.dumps(event)) if wire else event
        context = LambdaContext(
            function_name=self.name,
            memory_size=self.spec.memory_size,
            timeout_seconds=self.spec.timeout,
            region=self.environment.get("AWS_REGION", REGION),
            request_id=request_id,
        )
        started = time.perf_counter()
        try:
            with self._container() as handler, self.identity():
                result = handler(payload, context)
        except Exception as exc:
            raise InvocationError(f"{self.logical_id} raised {type(exc).__name__}: {exc}") from exc
        finally:
            duration_ms = (time.perf_counter() - started) * 1000
            if duration_ms > self.spec.timeout * 1000:
                log.warning(
                    "%s ran %.0f ms, over its %d s Timeout: Lambda would have stopped it",
                    self.logical_id,
                    duration_ms,
                    self.spec.timeout,
                )
        try:
            wire_result = json.loads(json.dumps(result))
        except (TypeError, ValueError) as exc:
            raise InvocationError(
                f"{self.logical_id} returned a value Lambda cannot serialise: {exc}"
            ) from exc
        return Invocation(wire_result, duration_ms, context.aws_request_id)


def module_path(code_dir: Path, handler: str) -> tuple[Path, str]:
    """`app.handler` -> (code_dir/app.py, "handler"); `pkg.mod.fn` -> (code_dir/pkg/mod.py, "fn")."""
    module, _, function = handler.rpartition(".")
    if not module or not function:
        raise TemplateError(f"Handler {handler!r} must look like module.function")
    path = code_dir.joinpath(*module.split(".")).with_suffix(".py")
    if not path.is_file():
        raise TemplateError(f"handler module {path} does not exist")
    return path, function


def load_handler(code_dir: Path, handler: str, unique_name: str) -> Handler:
    """Import `handler` from `code_dir` under a module name no other function shares."""
    path, function = module_path(code_dir, handler)
    module_name = f"_devstack_{unique_name}_{path.stem}"
    module = _import_file(module_name, path, code_dir)
    func = getattr(module, function, None)
    if not callable(func):
        raise TemplateError(f"{path} has no callable {function!r}")
    handler_func: Handler = func
    return handler_func


def _import_file(module_name: str, path: Path, code_dir: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise TemplateError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    # Lambda puts the task root first on sys.path; keep it afterwards (at the end) so that imports
    # done lazily inside the handler still find sibling modules.
    root = str(code_dir)
    sys.path.insert(0, root)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(module_name, None)
        raise
    finally:
        sys.path.remove(root)
        if root not in sys.path:
            sys.path.append(root)
    return module
