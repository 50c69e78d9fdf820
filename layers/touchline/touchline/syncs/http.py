"""HTTP for provider clients: urllib3 (already in the layer through clickhouse-connect and botocore).

One `HttpClient` per provider run. It owns the retry policy every provider needs:

* 429: wait what `Retry-After` says (seconds, fractional seconds or an HTTP date), else back off;
* 5xx, timeouts, dropped connections: exponential backoff with full jitter, `Retry-After` if sent;
* 401/403: `AuthError` at once (a revoked key never gets better by retrying);
* other 4xx: `ApiError` with the provider's message;
* never waits past the run's deadline: `DeadlineReached` instead, so the run stops cleanly and the
  next one resumes; a wait longer than `max_wait` (a daily quota) is `RateLimited`, same effect.

Providers add pacing from their rate-limit headers (`pace`), so a backfill slows down before the
bucket is empty instead of collecting 429s.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlencode, urljoin

import orjson
import urllib3
from urllib3.exceptions import HTTPError as TransportError

from touchline.syncs.deadline import Deadline

log = logging.getLogger("touchline.syncs")

USER_AGENT = "touchline-sync/1 (+https://github.com/touchline)"


class SyncError(Exception):
    """A sync failed; the message is for people (it ends up in `touchline sync status`)."""


class AuthError(SyncError):
    """The provider refused the credentials (401/403): the integration needs new ones."""


class ApiError(SyncError):
    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


class StopRun(Exception):
    """Stop fetching now, keep what was fetched: the next run resumes."""


class DeadlineReached(StopRun):
    pass


class RateLimited(StopRun):
    pass


@dataclass(frozen=True)
class Response:
    status: int
    headers: Mapping[str, str]
    body: bytes
    url: str

    def json(self) -> Any:
        return orjson.loads(self.body) if self.body else None

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 8  # for 5xx and transport errors; 429s are bounded by `rate_limit_attempts`
    rate_limit_attempts: int = 30
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_wait: float = 120.0  # a longer Retry-After ends the run (RateLimited) instead of sleeping
    connect_timeout: float = 10.0
    read_timeout: float = 60.0


@dataclass
class HttpClient:
    """Requests against one provider, with its auth headers, retries, pacing and the deadline."""

    provider: str
    base_url: str
    headers: dict[str, str]
    deadline: Deadline = field(default_factory=Deadline.unlimited)
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    pace: Callable[[Response], float] | None = None
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)
    requests: int = 0
    _pool: urllib3.PoolManager = field(default_factory=lambda: urllib3.PoolManager(num_pools=4, maxsize=4))

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Response:
        return self.request("GET", path, params=params)

    def post(self, path: str, body: Any, params: Mapping[str, Any] | None = None) -> Response:
        return self.request("POST", path, params=params, body=body)

    def url(self, path: str, params: Mapping[str, Any] | None = None) -> str:
        url = path if path.startswith(("http://", "https://")) else urljoin(self.base_url, path.lstrip("/"))
        if params:
            url += ("&" if "?" in url else "?") + urlencode(
                {k: v for k, v in params.items() if v is not None}, doseq=True
            )
        return url

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        content_type: str = "application/json",
    ) -> Response:
        url = self.url(path, params)
        data = orjson.dumps(body) if body is not None else None
        headers = {"user-agent": USER_AGENT, "accept": "application/json", **self.headers}
        if data is not None:
            headers["content-type"] = content_type
        failures = throttled = 0
        while True:
            self._check_time(0.0)
            try:
                response = self._send(method, url, data, headers)
            except TransportError as exc:
                failures += 1
                reason = f"{type(exc).__name__}: {exc}"
                self._retry_or_raise(failures, None, f"{self.provider}: {method} {url} failed ({reason})")
                continue
            if 200 <= response.status < 300:
                if self.pace is not None:
                    delay = self.pace(response)
                    if delay > 0:
                        self._wait(delay)
                return response
            message = _error_message(response)
            if response.status in (401, 403):
                raise AuthError(
                    f"{self.provider} refused the credentials (HTTP {response.status}): {message}"
                )
            if response.status == 429:
                throttled += 1
                if throttled > self.policy.rate_limit_attempts:
                    raise RateLimited(f"{self.provider}: still rate limited after {throttled - 1} waits")
                after = retry_after(response.header("retry-after"))
                self._wait(after if after is not None else self._backoff(throttled))
                continue
            if response.status >= 500:
                failures += 1
                self._retry_or_raise(
                    failures,
                    retry_after(response.header("retry-after")),
                    f"{self.provider}: HTTP {response.status} from {method} {_path(url)}: {message}",
                    response.status,
                )
                continue
            raise ApiError(
                f"{self.provider}: HTTP {response.status} from {method} {_path(url)}: {message}",
                response.status,
            )

    def _send(self, method: str, url: str, data: bytes | None, headers: dict[str, str]) -> Response:
        remaining = self.deadline.remaining()
        timeout = urllib3.Timeout(
            connect=min(self.policy.connect_timeout, max(remaining, 1.0)),
            read=min(self.policy.read_timeout, max(remaining, 1.0)),
        )
        self.requests += 1
        raw = self._pool.request(
            method, url, body=data, headers=headers, timeout=timeout, retries=False, preload_content=True
        )
        return Response(
            status=raw.status,
            headers={k.lower(): v for k, v in raw.headers.items()},
            body=raw.data or b"",
            url=url,
        )

    def _retry_or_raise(self, failures: int, after: float | None, message: str, status: int = 0) -> None:
        if failures >= self.policy.attempts:
            raise ApiError(f"{message} (gave up after {failures} attempts)", status)
        log.info("retrying: %s", message)
        self._wait(after if after is not None else self._backoff(failures))

    def _backoff(self, attempt: int) -> float:
        """Full jitter: uniform in [0, min(cap, base * 2^attempt)], never below 10 ms."""
        ceiling = min(self.policy.max_delay, self.policy.base_delay * 2 ** (attempt - 1))
        return max(0.01, self.rng.uniform(0, ceiling))

    def _wait(self, seconds: float) -> None:
        if seconds > self.policy.max_wait:
            raise RateLimited(f"{self.provider} asks to wait {seconds:.0f} s; resuming on a later run")
        self._check_time(seconds)
        self.sleep(seconds)

    def _check_time(self, needed: float) -> None:
        if self.deadline.remaining() <= needed:
            raise DeadlineReached(f"{self.provider}: out of time for this run")

    def close(self) -> None:
        self._pool.clear()


def retry_after(value: str | None, now: Callable[[], float] = time.time) -> float | None:
    """`Retry-After`: delta seconds (`"5"`, Shopify's `"2.0"`) or an HTTP date; None if absent/bad."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - now())


def bucket_pace(used_limit: str | None, leak_per_second: float, high_water: float = 0.8) -> float:
    """Leaky-bucket headers such as `32/40` (Shopify, Gorgias): slow down once the bucket is
    `high_water` full, by the time it takes to drain back below it."""
    if not used_limit or "/" not in used_limit:
        return 0.0
    try:
        used, limit = (float(part) for part in used_limit.split("/", 1))
    except ValueError:
        return 0.0
    if limit <= 0 or used < limit * high_water:
        return 0.0
    return (used - limit * high_water + 1) / leak_per_second


def _error_message(response: Response) -> str:
    """The provider's own words, from its usual error shapes, else the body's start."""
    try:
        payload = response.json()
    except orjson.JSONDecodeError:
        payload = None
    if isinstance(payload, dict):
        errors = payload.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):  # Klaviyo JSON:API
            first = errors[0]
            return str(first.get("detail") or first.get("title") or first)[:300]
        if isinstance(errors, str):  # Shopify
            return errors[:300]
        if isinstance(errors, dict):
            return orjson.dumps(errors).decode()[:300]
        for key in ("message", "error", "detail"):  # HubSpot, Gorgias
            if isinstance(payload.get(key), str):
                return str(payload[key])[:300]
    return response.body[:300].decode(errors="replace") or "(empty body)"


def _path(url: str) -> str:
    return url.split("?", 1)[0]
