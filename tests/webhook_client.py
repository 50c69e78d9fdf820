"""Deliveries to the webhooks handler as API Gateway sends them, and reading back what they stored."""

from __future__ import annotations

import base64
import json
from types import ModuleType
from typing import Any

import boto3
from revenue_payloads import shopify_headers, stripe_body, stripe_signature

from helpers import LambdaContextStub
from touchline.load.batch import LoadBatch
from touchline.load.clickhouse_sink import ClickHouseRowSink
from touchline.warehouse.client import connect


def http_event(
    path: str, body: bytes, headers: dict[str, str], *, base64_body: bool = False
) -> dict[str, Any]:
    return {
        "version": "2.0",
        "routeKey": f"POST {path}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {k.lower(): v for k, v in headers.items()},
        "requestContext": {
            "http": {
                "method": "POST",
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "3.18.12.63",
                "userAgent": "Stripe/1.0",
            },
            "requestId": "r",
            "routeKey": f"POST {path}",
            "stage": "$default",
            "timeEpoch": 0,
        },
        "body": base64.b64encode(body).decode() if base64_body else body.decode(),
        "isBase64Encoded": base64_body,
        "pathParameters": {},
    }


class Client:
    def __init__(self, app: ModuleType, site_id: str) -> None:
        self.app, self.site_id = app, site_id

    def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
        try:
            body.decode()
            event = http_event(path, body, headers)
        except UnicodeDecodeError:  # API Gateway base64-encodes bodies that are not text
            event = http_event(path, body, headers, base64_body=True)
        response = self.app.handler(event, LambdaContextStub())
        return int(response["statusCode"]), json.loads(response["body"])

    def stripe(self, event: dict[str, Any], *, signature: str | None = None) -> tuple[int, dict[str, Any]]:
        body = stripe_body(event)
        header = stripe_signature(body) if signature is None else signature
        return self.post(
            f"/webhooks/stripe/{self.site_id}", body, {"Stripe-Signature": header} if header else {}
        )

    def shopify(
        self, topic: str, payload: dict[str, Any], webhook_id: str | None = None
    ) -> tuple[int, dict[str, Any]]:
        body = json.dumps(payload).encode()
        return self.post(
            f"/webhooks/shopify/{self.site_id}", body, shopify_headers(body, topic, webhook_id=webhook_id)
        )


def drain(aws: dict[str, str], warehouse_url: str) -> int:
    """Deliver everything queued through the loader's batch, as the LoaderFunction would."""
    sqs = boto3.client("sqs")
    batch = LoadBatch(ClickHouseRowSink(connect(warehouse_url)))
    count = 0
    while messages := sqs.receive_message(
        QueueUrl=aws["TOUCHLINE_EVENTS_QUEUE_URL"], MaxNumberOfMessages=10
    ).get("Messages", []):
        for message in messages:
            batch.add(message["Body"], key=message["MessageId"])
            sqs.delete_message(
                QueueUrl=aws["TOUCHLINE_EVENTS_QUEUE_URL"], ReceiptHandle=message["ReceiptHandle"]
            )
            count += 1
    batch.flush()
    return count


def queued(aws: dict[str, str]) -> int:
    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=aws["TOUCHLINE_EVENTS_QUEUE_URL"], AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"])


def scalar(warehouse_url: str, sql: str) -> Any:
    return connect(warehouse_url).query(sql).result_rows[0][0]
