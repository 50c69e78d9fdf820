"""Running syncs: one site+provider end to end, and the scheduled fan-out over all of them.

`run_sync` is the same for the Lambda (deadline = the invocation's remaining time) and the CLI
(no deadline, a progress bar): look up the integration and its secret, take the lease, open the
provider, run its streams, record the outcome on the integration and on each stream. A refused
credential (401/403) marks the integration `failing` with the provider's message; a stream the
provider fails or refuses is `failed` on its own (the run goes on with the others) and the
integration `failing` with that stream named, watermarks staying where the last durable rows put
them; infrastructure failures (ClickHouse, DynamoDB) raise, so the queue retries the run.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from pydantic import ValidationError

from touchline.config.sync_integrations import SyncIntegrationStore
from touchline.config.sync_state import SyncStateStore
from touchline.load.batch import RowSink
from touchline.syncs.deadline import Deadline
from touchline.syncs.http import AuthError, SyncError
from touchline.syncs.providers import provider as provider_named
from touchline.syncs.providers.base import Connection, Settings
from touchline.syncs.runner import Progress, RunReport, run_streams
from touchline.syncs.state import Checkpoint
from touchline.syncs.writer import DEFAULT_BATCH_ROWS, RowWriter

log = logging.getLogger("touchline.syncs")

LEASE_SECONDS = 960  # the function's 900 s timeout and a margin; renewed while a long run goes on


class SecretSource(Protocol):
    def __call__(self, name: str) -> str: ...


class RunQueue(Protocol):
    def send(self, bodies: list[str]) -> None: ...


@dataclass
class SyncEnvironment:
    integrations: SyncIntegrationStore
    state: SyncStateStore
    secret: SecretSource
    sink: RowSink
    batch_rows: int = DEFAULT_BATCH_ROWS
    sleep: Callable[[float], None] | None = None


def run_sync(
    env: SyncEnvironment,
    site_id: str,
    provider: str,
    *,
    deadline: Deadline | None = None,
    full: bool = False,
    since: datetime | None = None,
    progress: Progress | None = None,
) -> RunReport:
    deadline = deadline or Deadline.unlimited()
    report = RunReport(site_id, provider)
    spec = provider_named(provider)
    integration = env.integrations.get(site_id, provider)
    if integration is None:
        raise SyncError(
            f"{provider} is not connected to site {site_id}: touchline integrations add {provider} …"
        )
    try:
        credentials = spec.credentials.model_validate_json(env.secret(integration.secret_name))
    except ValidationError as exc:
        problem = exc.errors()[0]
        field = ".".join(str(part) for part in problem["loc"])
        message = (
            f"{provider} credentials in {integration.secret_name} are unusable: {field}: {problem['msg']}"
        )
        _record(env, report, "failing", message)
        report.error = message
        return report
    owner = uuid.uuid4().hex
    if not env.state.acquire_lease(site_id, provider, owner, LEASE_SECONDS):
        report.stopped = "another run of this integration is in progress"
        return report
    connection: Connection | None = None
    try:
        settings = Settings(
            site_id, integration.api_base_url or None, integration.options, deadline, env.sleep
        )
        connection = spec.open(settings, credentials)
        if full or since is not None:
            stored = set(env.state.load(site_id, provider))
            env.state.reset(site_id, provider, sorted(stored | {s.name for s in connection.streams}), since)
        renewed = time.monotonic()

        def save(stream: str, checkpoint: Checkpoint, rows: int) -> None:
            nonlocal renewed
            env.state.save(site_id, provider, stream, checkpoint, rows)
            if time.monotonic() - renewed > 60:
                env.state.acquire_lease(site_id, provider, owner, LEASE_SECONDS)
                renewed = time.monotonic()

        run_streams(
            report,
            connection.streams,
            env.state.load(site_id, provider),
            RowWriter(env.sink, env.batch_rows),
            save,
            deadline,
            progress=progress,
            record=lambda stream, status, message: env.state.record_status(
                site_id, provider, stream, status, message
            ),
        )
        _record(env, report, "failing" if report.failed else "ok", _describe(report))
    except AuthError as exc:
        report.error = str(exc)
        advice = f"replace the credentials: touchline integrations add {provider} {site_id} …"
        _record(env, report, "failing", f"{exc}; {advice}")
    except SyncError as exc:
        report.error = str(exc)
        _record(env, report, "failing", str(exc))
    finally:
        if connection is not None:
            connection.close()
        env.state.release_lease(site_id, provider, owner)
    return report


def _describe(report: RunReport) -> str:
    rows = sum(p.rows for p in report.streams.values())
    text = f"{rows} rows"
    if report.unfinished:
        problems = "; ".join(f"{p.stream} {p.status}: {p.message}" for p in report.unfinished)
        others = len(report.streams) - len(report.unfinished)
        text = f"{problems} ({others} other streams fine); {text}"
    if report.stopped:
        text += f"; stopped early ({report.stopped}), resumes on the next run"
    if report.rejected:
        text += f"; {len(report.rejected)} rows refused by ClickHouse"
    skipped = sum(len(p.skipped) for p in report.streams.values())
    if skipped:
        text += f"; {skipped} provider records unusable"
    return text


def _record(env: SyncEnvironment, report: RunReport, status: Any, message: str) -> None:
    try:
        env.integrations.record_run(report.site_id, report.provider, status, message, report.summary())
    except Exception:
        log.exception("could not record the run of %s/%s", report.site_id, report.provider)


def fan_out(integrations: SyncIntegrationStore, queue: RunQueue) -> int:
    """One queued run per connected site+provider (the 15-minute schedule's job)."""
    import orjson

    bodies = [
        orjson.dumps({"site_id": i.site_id, "provider": i.provider}).decode() for i in integrations.list()
    ]
    if bodies:
        queue.send(bodies)
    return len(bodies)
