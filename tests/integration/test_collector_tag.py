"""The collector serves the tag (GET /js/script.js) and turns the tag's identify into links."""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import boto3
import pytest

from helpers import TABLE, LambdaContextStub, load_handler_module, sample_event
from touchline.config.sites import SiteStore
from touchline.envelope import unpack
from touchline.identity.rows import IdentityLinkRow, email_sha256
from touchline.ingest import service
from touchline.ingest.rows import EventRow
from touchline.tag.asset import tag_asset


@pytest.fixture
def collector_app(aws: dict[str, str]) -> Iterator[ModuleType]:
    service.collector.cache_clear()
    SiteStore(boto3.client("dynamodb"), TABLE).add("shop.example.com")
    yield load_handler_module("collector")
    service.collector.cache_clear()


def get_script(app: ModuleType, ctx: LambdaContextStub, path: str = "/js/script.js", **headers: str) -> Any:
    event = sample_event("collector_tag_script.json")
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["routeKey"] = event["requestContext"]["routeKey"] = f"GET {path}"
    event["headers"].update(headers)
    return app.handler(event, ctx)


def body_of(response: dict[str, Any]) -> bytes:
    body = response["body"]
    return base64.b64decode(body) if response["isBase64Encoded"] else body.encode()


@pytest.mark.parametrize("path", ["/js/script.js", "/js/touchline.js"])
def test_the_tag_is_served_gzipped_and_cacheable(
    collector_app: ModuleType, lambda_context: LambdaContextStub, path: str
) -> None:
    response = get_script(collector_app, lambda_context, path)
    assert response["statusCode"] == 200
    headers = response["headers"]
    assert headers["Content-Type"] == "application/javascript; charset=utf-8"
    assert headers["Content-Encoding"] == "gzip"
    assert headers["Cache-Control"] == "public, max-age=3600"
    assert headers["ETag"] == tag_asset().etag
    script = gzip.decompress(body_of(response))
    assert script == tag_asset().source
    assert len(body_of(response)) <= 2200  # the tag's budget (tests/unit/tag/test_asset.py)


def test_a_client_that_has_the_tag_gets_a_304(
    collector_app: ModuleType, lambda_context: LambdaContextStub
) -> None:
    etag = get_script(collector_app, lambda_context)["headers"]["ETag"]
    response = get_script(collector_app, lambda_context, **{"if-none-match": etag})
    assert response["statusCode"] == 304
    assert body_of(response) == b""
    assert response["headers"]["ETag"] == etag


def test_a_client_without_gzip_gets_plain_javascript(
    collector_app: ModuleType, lambda_context: LambdaContextStub
) -> None:
    response = get_script(collector_app, lambda_context, **{"accept-encoding": "identity"})
    assert response["statusCode"] == 200
    assert "Content-Encoding" not in response["headers"]
    assert body_of(response) == tag_asset().source


def test_identify_queues_the_event_and_its_links(
    collector_app: ModuleType, aws: dict[str, str], lambda_context: LambdaContextStub
) -> None:
    response = collector_app.handler(sample_event("collector_identify.json"), lambda_context)
    assert response["statusCode"] == 202
    sqs = boto3.client("sqs")
    messages = sqs.receive_message(QueueUrl=aws["TOUCHLINE_EVENTS_QUEUE_URL"], MaxNumberOfMessages=10)
    envelopes = [json.loads(e) for m in messages["Messages"] for e in unpack(m["Body"])]
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for envelope in envelopes:
        by_kind.setdefault(envelope["kind"], []).append(envelope["row"])
    [event] = [EventRow.model_validate(row) for row in by_kind["events"]]
    assert (event.event_type, event.user_id, event.visitor_id) == (
        "identify",
        "user-42",
        "Zk3vQ1x9_a-B7cD2eF4gHw",
    )
    links = [IdentityLinkRow.model_validate(row) for row in by_kind["identity_links"]]
    pairs = {frozenset({(x.from_type, x.from_id), (x.to_type, x.to_id)}) for x in links}
    email = ("email_sha256", email_sha256("ada@example.com"))
    visitor, user = ("visitor", event.visitor_id), ("user", "user-42")
    assert pairs == {frozenset({visitor, user}), frozenset({visitor, email}), frozenset({user, email})}
    assert {x.site_id for x in links} == {event.site_id}


def test_a_garbage_visitor_id_is_a_400(
    collector_app: ModuleType, aws: dict[str, str], lambda_context: LambdaContextStub
) -> None:
    event = sample_event("collector_identify.json")
    event["body"] = json.dumps({**json.loads(event["body"]), "vid": "<script>"})
    response = collector_app.handler(event, lambda_context)
    assert response["statusCode"] == 400
    assert json.loads(response["body"])["error"]["code"] == "invalid_event"
