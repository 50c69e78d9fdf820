"""The error every HTTP-facing domain function raises for input the client must fix."""

from __future__ import annotations


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
