"""The error every HTTP-facing domain function raises for input the client must fix, and how
code that survives a failing dependency says so."""

from __future__ import annotations

import logging
from typing import Protocol

from pydantic import ValidationError


class RequestError(Exception):
    """A 4xx: the HTTP status and a JSON-able error body the client can act on."""

    def __init__(self, status: int, code: str, message: str, details: object = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details

    def body(self) -> dict[str, object]:
        error: dict[str, object] = {"code": self.code, "message": self.message}
        if self.details is not None:
            error["details"] = self.details
        return {"error": error}


class Unavailable(Exception):
    """A dependency cannot serve this request now (not the client's fault): answered 503, retried."""


def validation_problems(error: ValidationError) -> list[dict[str, str]]:
    """A pydantic error as `[{"field": "a.b", "message": ...}]`, never echoing the input."""
    return [
        {
            "field": ".".join(str(p) for p in err["loc"]) or "body",
            "message": str(err["msg"]).removeprefix("Value error, "),
        }
        for err in error.errors(include_url=False, include_input=False, include_context=False)
    ]


class Degraded(Protocol):
    """Told when a dependency failed and the caller carries on without it (a stand-in value):
    Lambda's is `touchline.aws.degraded.DegradedReporter` (a log line and a `Degraded` metric)."""

    def __call__(self, dependency: str, error: BaseException, /, **context: object) -> None: ...


def log_degraded(dependency: str, error: BaseException, /, **context: object) -> None:
    """The default: never silent, even where no reporter was wired."""
    logging.getLogger("touchline.degraded").warning(
        "%s failed; carrying on degraded: %s %s", dependency, error, context
    )
