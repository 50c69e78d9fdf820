"""The collector handler on the sample API Gateway events, with SQS and DynamoDB in moto.

Behind `CollectorEndpoint=function-url` the same handler receives Lambda Function URL events
(payload 2.0 too: the `$default` route and stage, the URL's domain, an anonymous caller; see
events/collector_function_url_pageview.json). The `shape` fixture runs the request tests on
both, so CORS aside (the URL's own configuration, tests/unit/test_collector_endpoint.py), bodies,
limits, base64 and the IP trust rule are held to one behaviour."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.data_classes import LambdaFunctionUrlEvent

from helpers import (
    TABLE,
    TEMPLATE,
    LambdaContextStub,
    LocalAwsStack,
    enforcing_stack,
    load_handler_module,
    sample_event,
)
from touchline.config.sites import SiteStore
from touchline.envelope import unpack
from touchline.ingest import service
from touchline.ingest.rows import EventRow
from touchline_dev.devstack.template import parse_template_text


@pytest.fixture
def collector_app(aws: dict[str, str]) -> Iterator[ModuleType]:
    service.collector.cache_clear()
    SiteStore(boto3.client("dynamodb"), TABLE).add("shop.example.com")
    yield load_handler_module("collector")
    service.collector.cache_clear()


def as_function_url(event: dict[str, Any]) -> dict[str, Any]:
    """An HTTP API sample as the same request arrives through the collector's Function URL."""
    url_id = "abcdefghijklmnopqrstuvwxyz012345"
    domain = f"{url_id}.lambda-url.us-east-1.on.aws"
    converted = json.loads(json.dumps(event))
    converted["routeKey"] = "$default"
    converted["headers"]["host"] = domain
    converted["requestContext"].update(
        accountId="anonymous", apiId=url_id, domainName=domain, domainPrefix=url_id, routeKey="$default"
    )
    return converted


Shape = Callable[[dict[str, Any]], dict[str, Any]]


@pytest.fixture(params=["httpapi", "function-url"])
def shape(request: pytest.FixtureRequest) -> Shape:
    """A `CollectorEndpoint`'s event shape: HTTP API events as they are, or as Function URL events."""
    return as_function_url if request.param == "function-url" else (lambda event: event)


def queued(aws: dict[str, str]) -> list[EventRow]:
    sqs = boto3.client("sqs")
    messages = sqs.receive_message(QueueUrl=aws["TOUCHLINE_EVENTS_QUEUE_URL"], MaxNumberOfMessages=10)
    envelopes = [json.loads(e) for m in messages.get("Messages", []) for e in unpack(m["Body"])]
    assert all(e["v"] == 1 and e["kind"] == "events" for e in envelopes)
    return [EventRow.model_validate(e["row"]) for e in envelopes]


def invoke(app: ModuleType, event: dict[str, Any], ctx: LambdaContextStub) -> tuple[int, dict[str, Any]]:
    response = app.handler(event, ctx)
    return response["statusCode"], json.loads(response["body"])


def test_pageview_is_enqueued_with_minimal_enrichment(
    shape: Shape, collector_app: ModuleType, aws: dict[str, str], lambda_context: LambdaContextStub
) -> None:
    status, body = invoke(collector_app, shape(sample_event("collector_pageview.json")), lambda_context)
    assert (status, body) == (202, {"ok": True})
    [row] = queued(aws)
    assert row.event_type == "pageview" and row.name == "pageview"
    assert row.hostname == "shop.example.com" and row.pathname == "/pricing"
    assert (row.utm_source, row.utm_medium, row.utm_campaign) == ("newsletter", "email", "nov")
    assert row.referrer == "https://www.google.com/"
    assert row.site_id == SiteStore(boto3.client("dynamodb"), TABLE).by_domain("shop.example.com").site_id  # type: ignore[union-attr]


def test_compact_keys_sent_as_text_plain(
    shape: Shape, collector_app: ModuleType, aws: dict[str, str], lambda_context: LambdaContextStub
) -> None:
    event = shape(sample_event("collector_compact_text_plain.json"))
    status, _ = invoke(collector_app, event, lambda_context)
    assert status == 202
    [row] = queued(aws)
    assert (row.event_type, row.name) == ("goal", "Signup")
    assert row.props == {"plan": "pro", "seats": "3"}
    assert str(row.revenue) == "49.9900" and row.currency == "USD"


def test_base64_body_is_decoded(
    shape: Shape, collector_app: ModuleType, aws: dict[str, str], lambda_context: LambdaContextStub
) -> None:
    status, _ = invoke(collector_app, shape(sample_event("collector_base64_body.json")), lambda_context)
    assert status == 202
    assert queued(aws)[0].pathname == "/"


@pytest.mark.parametrize(
    ("sample", "status", "code"),
    [
        ("collector_malformed_json.json", 400, "invalid_json"),
        ("collector_bad_url.json", 400, "invalid_event"),
        ("collector_too_many_props.json", 400, "invalid_event"),
        ("collector_unknown_site.json", 404, "unknown_site"),
    ],
)
def test_bad_input_is_a_json_4xx_and_nothing_is_enqueued(
    shape: Shape,
    collector_app: ModuleType,
    aws: dict[str, str],
    lambda_context: LambdaContextStub,
    sample: str,
    status: int,
    code: str,
) -> None:
    got_status, body = invoke(collector_app, shape(sample_event(sample)), lambda_context)
    assert got_status == status
    assert body["error"]["code"] == code and body["error"]["message"]
    assert queued(aws) == []


def test_oversized_body_is_413(
    shape: Shape, collector_app: ModuleType, aws: dict[str, str], lambda_context: LambdaContextStub
) -> None:
    event = shape(sample_event("collector_pageview.json"))
    event["body"] = json.dumps(
        {
            "name": "pageview",
            "url": "https://shop.example.com/",
            "domain": "shop.example.com",
            "props": {"big": "x" * 17_000},
        }
    )
    status, body = invoke(collector_app, event, lambda_context)
    assert status == 413 and body["error"]["code"] == "body_too_large"
    assert queued(aws) == []


def test_queue_failure_is_503_not_202(
    collector_app: ModuleType,
    aws: dict[str, str],
    lambda_context: LambdaContextStub,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TOUCHLINE_EVENTS_QUEUE_URL", aws["TOUCHLINE_EVENTS_QUEUE_URL"] + "-missing")
    service.collector.cache_clear()
    status, body = invoke(collector_app, sample_event("collector_pageview.json"), lambda_context)
    assert status == 503 and body["error"]["code"] == "unavailable"


def _stored(app: ModuleType, aws: dict[str, str], event: dict[str, Any]) -> EventRow:
    assert app.handler(event, LambdaContextStub())["statusCode"] == 202
    [row] = queued(aws)
    return row


def _with_client_claims(event: dict[str, Any]) -> dict[str, Any]:
    """What any client can add to its request: a forwarded-for chain and CDN geo headers."""
    event["headers"].update(
        {
            "x-forwarded-for": "8.8.8.8, 1.1.1.1",
            "cloudfront-viewer-address": "81.2.69.160:443",
            "cloudfront-viewer-country": "GB",
            "cf-ipcountry": "JP",
        }
    )
    return event


def test_a_spoofed_forwarded_for_changes_nothing_by_default(
    shape: Shape, collector_app: ModuleType, aws: dict[str, str]
) -> None:
    honest = shape(sample_event("collector_pageview.json"))
    del honest["headers"]["x-forwarded-for"]
    plain = _stored(collector_app, aws, honest)
    spoofed = _stored(collector_app, aws, _with_client_claims(shape(sample_event("collector_pageview.json"))))
    assert (spoofed.visitor_id, spoofed.country) == (plain.visitor_id, plain.country)
    assert plain.country == ""  # sourceIp 203.0.113.7 is a documentation address: no country


def test_behind_cloudfront_the_viewer_address_and_country_are_trusted(
    shape: Shape, collector_app: ModuleType, aws: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOUCHLINE_TRUSTED_PROXY", "cloudfront")
    service.trust_rule.cache_clear()
    try:
        row = _stored(collector_app, aws, _with_client_claims(shape(sample_event("collector_pageview.json"))))
        bypassed = _stored(collector_app, aws, shape(sample_event("collector_pageview.json")))
    finally:
        service.trust_rule.cache_clear()
    assert row.country == "GB"
    # Without CloudFront's header the request did not come through it: sourceIp, no header trusted.
    assert bypassed.country == "" and bypassed.visitor_id != row.visitor_id


def test_with_trusted_hops_the_client_is_that_many_hops_left(
    shape: Shape, collector_app: ModuleType, aws: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []
    real = service.collector()

    class Spy:
        def enrich(self, hit: Any) -> dict[str, object]:
            seen.append(hit.ip)
            return {"hostname": "shop.example.com", "pathname": "/"}

    monkeypatch.setattr(real, "_enricher", Spy())
    monkeypatch.setenv("TOUCHLINE_TRUSTED_PROXY", "1")
    service.trust_rule.cache_clear()
    try:
        event = shape(sample_event("collector_pageview.json"))
        event["headers"]["x-forwarded-for"] = "6.6.6.6, 198.51.100.9"  # a forgery, then the client
        event["requestContext"]["http"]["sourceIp"] = "10.1.1.1"  # the trusted proxy
        collector_app.handler(event, LambdaContextStub())
    finally:
        service.trust_rule.cache_clear()
    assert seen == ["198.51.100.9"]


def _salts(aws: dict[str, str]) -> list[str]:
    items = boto3.client("dynamodb").query(
        TableName=aws["TOUCHLINE_CONFIG_TABLE"],
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "SALT"}},
    )["Items"]
    return [item["sk"]["S"] for item in items]


def test_the_collector_role_creates_the_days_salt(
    collector_app: ModuleType, aws: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    """Under CollectorFunction's own role (template.yaml, enforced by moto) the first hit of the
    day stores the shared salt, so every container hashes a visitor alike."""
    _stored(collector_app, aws, sample_event("collector_pageview.json"))
    assert _salts(aws) == [datetime.now(UTC).date().isoformat()]
    assert "carrying on degraded" not in caplog.text


def _without_salt_statement(template: Path, out: Path) -> Path:
    """template.yaml as it was before the salt permission: the collector may only read the table."""
    data = parse_template_text(template.read_text())
    policies = data["Resources"]["CollectorFunction"]["Properties"]["Policies"]
    kept = [p for p in policies if "SALT" not in json.dumps(p)]
    assert len(kept) == len(policies) - 1
    data["Resources"]["CollectorFunction"]["Properties"]["Policies"] = kept
    out.write_text(json.dumps(data))
    return out


def test_without_the_salt_permission_the_write_is_denied_and_reported(
    collector_app: ModuleType, aws: dict[str, str], caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    """The old policy (DynamoDBReadPolicy only) fails here as in AWS: AccessDenied on the salt's
    PutItem, the hit still accepted with a stand-in salt, and the failure logged and counted."""
    old = _without_salt_statement(TEMPLATE, tmp_path / "template.json")
    stack = enforcing_stack()
    stack.roles["CollectorFunction"] = LocalAwsStack.roles_of(old)["CollectorFunction"]
    caplog.set_level("WARNING", logger="touchline.degraded")
    _stored(collector_app, aws, sample_event("collector_pageview.json"))
    assert _salts(aws) == []
    assert "salt_store failed; carrying on degraded" in caplog.text
    assert "AccessDeniedException" in caplog.text and "dynamodb:PutItem" in caplog.text


def test_a_cookieless_site_ignores_the_tags_visitor_id(
    collector_app: ModuleType, aws: dict[str, str], lambda_context: LambdaContextStub
) -> None:
    store = SiteStore(boto3.client("dynamodb"), TABLE)
    site = store.by_domain("shop.example.com")
    assert site is not None
    event = sample_event("collector_pageview.json")
    body = json.loads(event["body"]) | {"vid": "0c1d2e3f-4a5b-4c6d-8e7f-901234567890"}
    event["body"] = json.dumps(body)
    assert invoke(collector_app, event, lambda_context)[0] == 202
    store.set_cookieless(site.site_id, True)  # what PATCH /api/v1/sites/{id} {"cookieless": true} does
    service.collector.cache_clear()
    assert invoke(collector_app, event, lambda_context)[0] == 202
    kept, hashed = sorted(queued(aws), key=lambda row: row.received_at)
    assert kept.visitor_id == body["vid"]
    assert hashed.visitor_id != body["vid"] and hashed.visitor_id.isdigit()  # the daily hash


def test_the_function_url_sample_is_read_as_powertools_reads_it_and_stored_like_its_twin(
    collector_app: ModuleType, aws: dict[str, str], lambda_context: LambdaContextStub
) -> None:
    """events/collector_function_url_pageview.json has the shape AWS documents for Function URL
    requests; Powertools' own Function URL event class reads the method, path and client IP the
    handler routes and trusts, and the row equals the HTTP API twin's (same body, agent, IP)."""
    url_event = sample_event("collector_function_url_pageview.json")
    seen = LambdaFunctionUrlEvent(url_event)
    assert (seen.http_method, seen.path, seen.request_context.http.source_ip) == (
        "POST",
        "/api/event",
        "203.0.113.7",
    )
    assert invoke(collector_app, url_event, lambda_context) == (202, {"ok": True})
    twin = sample_event("collector_pageview.json")
    assert invoke(collector_app, twin, lambda_context) == (202, {"ok": True})
    via_url, via_api = queued(aws)
    varying = {"event_id", "timestamp", "received_at"}
    assert via_url.model_dump(exclude=varying) == via_api.model_dump(exclude=varying)


def test_the_tag_is_served_on_both_shapes(shape: Shape, collector_app: ModuleType) -> None:
    response = collector_app.handler(shape(sample_event("collector_tag_script.json")), LambdaContextStub())
    assert response["statusCode"] == 200
    assert response["headers"]["Content-Type"].startswith("application/javascript")


def test_one_requests_site_lookups_are_bounded(
    collector_app: ModuleType,
    aws: dict[str, str],
    lambda_context: LambdaContextStub,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 13: ten domains this container has not seen cost two DynamoDB round trips (not one
    or two reads each), an unknown domain asked again costs none (cached 5 s), and a value that
    is not a hostname is never looked up."""
    from touchline.aws import clients

    monkeypatch.setenv("TOUCHLINE_SITE_CACHE_SECONDS", "60")  # as deployed (the tests' default is 0)
    service.collector.cache_clear()
    lookups: list[str] = []

    def count(params: dict[str, Any], model: Any, **_: Any) -> None:
        if model.name in {"GetItem", "BatchGetItem"} and (
            "DOMAIN#" in json.dumps(params) or "SITE#" in json.dumps(params)
        ):
            lookups.append(model.name)

    clients.dynamodb().meta.events.register("provide-client-params.dynamodb", count)
    try:
        event = sample_event("collector_pageview.json")
        body = json.loads(event["body"])
        unknown = [f"unknown-{i}.example" for i in range(9)]
        event["body"] = json.dumps(body | {"domain": ",".join(["shop.example.com", *unknown])})
        assert invoke(collector_app, event, lambda_context)[0] == 202
        assert lookups == ["BatchGetItem", "BatchGetItem"]  # the pointers, then the one site found
        lookups.clear()
        assert invoke(collector_app, event, lambda_context)[0] == 202
        assert lookups == []  # every domain cached, the unknown ones too
        event["body"] = json.dumps(body | {"domain": "not a domain,%%%,a..b,-x-.example"})
        status, answer = invoke(collector_app, event, lambda_context)
        assert (status, answer["error"]["code"]) == (404, "unknown_site")
        assert lookups == []
    finally:
        clients.dynamodb().meta.events.unregister("provide-client-params.dynamodb", count)
    assert len(queued(aws)) == 2
