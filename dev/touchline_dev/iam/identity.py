"""Whose credentials an AWS call is signed with: the running function's role, or the harness's.

In Lambda a function gets its role's credentials through the environment. Locally every function
shares one process (and `touchline.aws.clients`' cached clients), so the credentials are chosen
at signing time instead: `install()` makes every boto3 client that finds its credentials in the
environment sign with `ContextCredentials`, which are the role credentials of the function
`acting_as` has entered (a context variable, so concurrent invocations each sign as their own
function), and outside any function the harness's (the environment's). A context variable does
not follow a plain `threading.Thread`: function code that sends AWS calls from its own threads
must start them with `contextvars.copy_context().run` (as `touchline.aws.sqs` does), or those
calls sign as the harness and escape the check.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from botocore.credentials import Credentials, ReadOnlyCredentials

from .moto_iam import RoleCredentials

_current: contextvars.ContextVar[RoleCredentials | None] = contextvars.ContextVar(
    "touchline_function_role", default=None
)
_installed = {"done": False}
_lock = threading.Lock()


class ContextCredentials(Credentials):
    """Credentials that are the current function's role's, resolved at each signing."""

    def __init__(self, harness: Credentials) -> None:
        super().__init__(harness.access_key, harness.secret_key, harness.token, method="touchline-dev")
        self._harness = harness

    def get_frozen_credentials(self) -> ReadOnlyCredentials:
        role = _current.get()
        if role is not None:
            return ReadOnlyCredentials(role.access_key_id, role.secret_access_key, role.session_token)
        return self._harness.get_frozen_credentials()


def install() -> None:
    """Make credentials found in the environment context-dependent, for every botocore session."""
    from botocore.credentials import EnvProvider

    with _lock:
        if _installed["done"]:
            return
        original = EnvProvider.load

        def load(self: EnvProvider) -> Any:
            found = original(self)
            return ContextCredentials(found) if isinstance(found, Credentials) else found

        EnvProvider.load = load  # type: ignore[method-assign]
        _installed["done"] = True


@contextmanager
def acting_as(role: RoleCredentials | None) -> Iterator[None]:
    """Sign the AWS calls made inside with `role`'s credentials (None: the harness's)."""
    token = _current.set(role)
    try:
        yield
    finally:
        _current.reset(token)
