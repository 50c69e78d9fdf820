"""The one error the query engine raises for a query the client must fix."""

from __future__ import annotations

from touchline.errors import RequestError


class QueryError(Exception):
    """A 400 answered as Plausible does: `{"error": "<what is wrong>"}`.

    `status` is 404 for a site the caller may not see (the same answer as a site that does not
    exist), 400 for everything else.
    """

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status

    def body(self) -> dict[str, str]:
        return {"error": self.message}


class PlausibleError(RequestError):
    """The shared HTTP adapter's errors (its 503) in Plausible's shape, which query clients read."""

    def body(self) -> dict[str, object]:
        return {"error": self.message}
