"""The providers' HTTP client: Retry-After, backoff with jitter, auth failures, the deadline."""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from fakes.server import FakeApi, Reply, Request
from touchline.syncs.deadline import Deadline
from touchline.syncs.http import (
    ApiError,
    AuthError,
    DeadlineReached,
    HttpClient,
    RateLimited,
    Response,
    RetryPolicy,
    bucket_pace,
    retry_after,
)


class Scripted(FakeApi):
    """Answers GET /thing with the scripted replies in turn, then 200."""

    def __init__(self, replies: list[Reply | None]) -> None:
        super().__init__()
        self.replies = list(replies)
        self.route("GET", r"/thing", self._thing)
        self.route("POST", r"/echo", lambda request, _m: Reply(200, request.json()))

    def handle(self, request: Request) -> Reply | None:
        if request.path == "/thing" and self.replies:
            self.calls.append(request)
            return self.replies.pop(0)
        return super().handle(request)

    def _thing(self, request: Request, _m: re.Match[str]) -> Reply:
        return Reply(200, {"ok": True, "query": {k: v[0] for k, v in request.query.items()}})


@pytest.fixture
def sleeps() -> list[float]:
    return []


def client(
    api: FakeApi,
    sleeps: list[float],
    *,
    policy: RetryPolicy | None = None,
    deadline: Deadline | None = None,
    pace: Callable[[Response], float] | None = None,
) -> HttpClient:
    return HttpClient(
        "fake",
        api.base_url + "/",
        {"authorization": "Bearer t"},
        deadline=deadline or Deadline.unlimited(),
        policy=policy or RetryPolicy(),
        pace=pace,
        sleep=sleeps.append,
        rng=random.Random(7),
    )


def serve(replies: list[Reply | None]) -> Iterator[Scripted]:
    api = Scripted(replies)
    with api.serve():
        yield api


@pytest.fixture
def api(request: pytest.FixtureRequest) -> Iterator[Scripted]:
    yield from serve(getattr(request, "param", []))


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("5", 5.0),
        ("2.0", 2.0),
        ("0", 0.0),
        (" 1 ", 1.0),
        ("-3", 0.0),
        ("soon", None),
        (None, None),
        ("", None),
    ],
)
def test_retry_after_seconds(header: str | None, seconds: float | None) -> None:
    assert retry_after(header) == seconds


def test_retry_after_http_date() -> None:
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    header = format_datetime(now + timedelta(seconds=30), usegmt=True)
    assert retry_after(header, now=lambda: now.timestamp()) == 30.0


@pytest.mark.parametrize(
    "api", [[Reply(429, {}, {"Retry-After": "2.0"}), Reply(429, {}, {"Retry-After": "3"})]], indirect=True
)
def test_429_waits_what_retry_after_says(api: Scripted, sleeps: list[float]) -> None:
    response = client(api, sleeps).get("thing", {"a": "1"})
    assert response.json()["ok"] and sleeps == [2.0, 3.0]
    assert len(api.calls) == 3 and all(c.arg("a") == "1" for c in api.calls)


@pytest.mark.parametrize("api", [[Reply(500, {}), Reply(502, {}), Reply(503, {}), None]], indirect=True)
def test_5xx_and_dropped_connections_back_off_with_jitter(api: Scripted, sleeps: list[float]) -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=30)
    assert client(api, sleeps, policy=policy).get("thing").status == 200
    assert len(sleeps) == 4
    ceilings = [0.5, 1.0, 2.0, 4.0]  # full jitter: uniform in [0, base * 2^(n-1)]
    assert all(0.01 <= s <= c for s, c in zip(sleeps, ceilings, strict=True))
    assert len(set(sleeps)) == 4  # jittered, not a fixed schedule


@pytest.mark.parametrize("api", [[Reply(500, {"message": "boom"})] * 10], indirect=True)
def test_gives_up_after_the_policy_attempts(api: Scripted, sleeps: list[float]) -> None:
    with pytest.raises(ApiError, match=r"HTTP 500 .*boom.*gave up after 3 attempts"):
        client(api, sleeps, policy=RetryPolicy(attempts=3)).get("thing")


@pytest.mark.parametrize(
    "api", [[Reply(401, {"errors": [{"detail": "Missing or invalid private key."}]})]], indirect=True
)
def test_401_is_an_auth_error_with_the_providers_words(api: Scripted, sleeps: list[float]) -> None:
    with pytest.raises(
        AuthError, match=r"refused the credentials \(HTTP 401\): Missing or invalid private key"
    ):
        client(api, sleeps).get("thing")
    assert sleeps == []


@pytest.mark.parametrize("api", [[Reply(400, {"message": "bad filter"})]], indirect=True)
def test_other_4xx_fail_at_once(api: Scripted, sleeps: list[float]) -> None:
    with pytest.raises(ApiError, match="bad filter") as caught:
        client(api, sleeps).get("thing")
    assert caught.value.status == 400 and sleeps == []


@pytest.mark.parametrize("api", [[Reply(429, {}, {"Retry-After": "30"})]], indirect=True)
def test_no_wait_past_the_deadline(api: Scripted, sleeps: list[float]) -> None:
    with pytest.raises(DeadlineReached):
        client(api, sleeps, deadline=Deadline.after(10)).get("thing")
    assert sleeps == []


@pytest.mark.parametrize("api", [[Reply(429, {}, {"Retry-After": "86400"})]], indirect=True)
def test_a_daily_quota_ends_the_run_instead_of_sleeping(api: Scripted, sleeps: list[float]) -> None:
    with pytest.raises(RateLimited, match="asks to wait 86400 s"):
        client(api, sleeps).get("thing")


def test_a_passed_deadline_sends_nothing(api: Scripted, sleeps: list[float]) -> None:
    with pytest.raises(DeadlineReached):
        client(api, sleeps, deadline=Deadline(lambda: -1.0)).get("thing")
    assert api.calls == []


def test_json_bodies_and_pacing(api: Scripted, sleeps: list[float]) -> None:
    http = client(api, sleeps, pace=lambda response: 0.25)
    assert http.post("echo", {"x": [1, 2]}).json() == {"x": [1, 2]}
    assert sleeps == [0.25]
    assert api.calls[-1].headers["content-type"] == "application/json"


@pytest.mark.parametrize(
    ("header", "expected"),
    [(None, 0.0), ("10/40", 0.0), ("31/40", 0.0), ("32/40", 0.5), ("40/40", 4.5), ("x/40", 0.0)],
)
def test_bucket_pacing(header: str | None, expected: float) -> None:
    assert bucket_pace(header, leak_per_second=2.0) == pytest.approx(expected)


def test_error_messages_from_each_providers_shape() -> None:
    from touchline.syncs.http import _error_message

    def message(body: bytes) -> str:
        return _error_message(Response(400, {}, body, "u"))

    assert (
        message(b'{"errors": [{"title": "Invalid input.", "detail": "bad sort"}]}') == "bad sort"
    )  # Klaviyo
    assert message(b'{"errors": "[API] Invalid API key"}') == "[API] Invalid API key"  # Shopify
    assert message(b'{"errors": {"limit": ["too big"]}}') == '{"limit":["too big"]}'
    assert message(b'{"status": "error", "message": "secondly limit"}') == "secondly limit"  # HubSpot
    assert message(b"<html>gateway</html>") == "<html>gateway</html>"
