"""LoaderFunction: an SQS batch of packed envelopes → one ClickHouse insert per table; bad rows kept."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from touchline.aws.metrics import count
from touchline.load.service import new_batch

logger = Logger(service="loader")
metrics = Metrics(namespace="Touchline", service="loader")


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    batch = new_batch()
    for record in event["Records"]:
        batch.add(record["body"], key=record["messageId"])
    # ClickHouse down → raise: the whole batch returns to the queue and is retried; nothing lost.
    flushed = batch.flush()
    for table, inserted in flushed.inserted.items():
        count(metrics, "RowsLoaded", inserted, table=table)
    if flushed.rejected:
        metrics.add_metric(name="RowsRejected", unit=MetricUnit.Count, value=len(flushed.rejected))
        logger.warning(
            "rejected rows",
            extra={
                "count": len(flushed.rejected),
                "kept_in": "dlq" if flushed.failed_messages else "rejected_rows",
                "errors": [row.reason[:300] for row in flushed.rejected[:5]],
            },
        )
    return {"batchItemFailures": [{"itemIdentifier": key} for key in flushed.failed_messages]}
