"""SyncFunction: third-party syncs (Klaviyo, Shopify, HubSpot, Gorgias) into ClickHouse.

The schedule fans out one queued run per connected site and provider; SyncQueue messages and
direct invokes run one (the requests: `touchline.syncs.requests`).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from touchline.aws.metrics import count
from touchline.syncs import wiring
from touchline.syncs.http import SyncError
from touchline.syncs.requests import FanOut, Request, Run
from touchline.syncs.runner import RunReport
from touchline.syncs.service import fan_out, run_sync

logger = Logger(service="sync")
metrics = Metrics(namespace="Touchline", service="sync")
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=True)


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if "Records" in event:
        with processor(records=event["Records"], handler=lambda record: _queued(record, context)):
            processor.process()
        return dict(processor.response())
    request = Request.validate_python(event or {"action": "fan_out"})
    if isinstance(request, FanOut):
        queued = fan_out(wiring.integrations(), wiring.run_queue())
        if queued:
            logger.info("queued sync runs", extra={"runs": queued})
            metrics.add_metric(name="SyncRunsQueued", unit=MetricUnit.Count, value=queued)
        return {"queued": queued}
    return _run(request, context)


def _queued(record: SQSRecord, context: LambdaContext) -> None:
    request = Run.model_validate_json(record.body)
    try:
        _run(request, context)
    except SyncError as exc:  # disconnected since the fan-out: nothing to retry
        logger.warning("sync run dropped", extra={"site_id": request.site_id, "error": str(exc)})


def _run(request: Run, context: LambdaContext) -> dict[str, Any]:
    report = run_sync(
        wiring.environment(),
        request.site_id,
        request.provider,
        deadline=request.deadline(context, wiring.settings().reserve_seconds),
        full=request.full,
        since=request.since_utc,
    )
    _measure(report)
    return report.summary()


def _measure(report: RunReport) -> None:
    rows = sum(p.rows for p in report.streams.values())
    count(metrics, "SyncRows", rows, provider=report.provider)
    if report.error:
        count(metrics, "SyncFailures", provider=report.provider)
        logger.warning("sync failed", extra=report.summary())
    else:
        logger.info("synced", extra=report.summary())
