"""LoaderFunction: an SQS batch of envelopes → one ClickHouse insert per table; bad records reported."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from touchline.aws.metrics import count
from touchline.load.service import new_batch

logger = Logger(service="loader")
metrics = Metrics(namespace="Touchline", service="loader")
# An all-invalid batch is still a normal answer: its records go back and on to the DLQ.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    batch = new_batch()

    def load_record(record: SQSRecord) -> None:
        batch.add(record.body, key=record.message_id)

    with processor(records=event["Records"], handler=load_record):
        processor.process()
    # ClickHouse down → raise: the whole batch returns to the queue and is retried; nothing lost.
    inserted_per_table, refused_by_clickhouse = batch.flush()
    response = processor.response()
    response["batchItemFailures"].extend({"itemIdentifier": key} for key in refused_by_clickhouse)
    failed = len(response["batchItemFailures"])
    for table, inserted in inserted_per_table.items():
        count(metrics, "RowsLoaded", inserted, table=table)
    if failed:
        metrics.add_metric(name="RecordsRejected", unit=MetricUnit.Count, value=failed)
        logger.warning("rejected records", extra={"count": failed, "errors": _errors(processor)})
    return response


def _errors(batch_processor: BatchProcessor) -> list[str]:
    return [str(exc_info[1])[:300] for exc_info in batch_processor.exceptions[:5] if exc_info[1]]
