"""OutgoingWebhooksFunction: site owners' webhooks (docs/webhooks.md).

The 1-minute schedule (or `{"action": "dispatch"}`, `touchline webhooks dispatch`) reads what
happened since each source's watermark and queues one delivery per subscriber; the queue's
messages are delivered here, up to 10 at a time in parallel (each waits on a receiver).
"""

from __future__ import annotations

import contextvars
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.typing import LambdaContext

from touchline.aws.metrics import count
from touchline.outgoing_webhooks.dispatch import delivery_messages
from touchline.outgoing_webhooks.wiring import deliverer, dispatcher

logger = Logger(service="outgoing-webhooks")
metrics = Metrics(namespace="Touchline", service="outgoing-webhooks")
_pool = ThreadPoolExecutor(10, thread_name_prefix="webhook")


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if "Records" in event:
        return _deliver(event["Records"])
    report = dispatcher().run((event or {}).get("site") or None)
    if report.queued:
        logger.info("dispatched", extra=report.as_dict())
        count(metrics, "WebhookEventsQueued", report.queued)
    return report.as_dict()


def _deliver(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Partial batch response: a record whose delivery raised (not a failed POST: that is
    retried by a new message) stays on the queue for SQS to redeliver."""
    # Each delivery runs in this invocation's context (tracing, the local stack's credentials).
    futures = [
        (record["messageId"], _pool.submit(contextvars.copy_context().run, _one, record["body"]))
        for record in records
    ]
    failures = []
    for message_id, future in futures:
        error = future.exception()
        if error is None:
            count(metrics, "WebhookAttempts", 1, outcome=future.result())
        else:
            logger.error("delivery failed", extra={"message_id": message_id, "error": repr(error)})
            failures.append({"itemIdentifier": message_id})
    return {"batchItemFailures": failures}


def _one(body: str) -> str:
    """One delivery per message; a packed body (several, one per line) is taken line by line."""
    outcomes = [deliverer().deliver(message) for message in delivery_messages(body)]
    return outcomes[-1]
