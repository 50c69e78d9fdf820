"""`touchline dev`: start the whole template in this process, serve until SIGINT/SIGTERM, drain.

Start: lock the data dir, bind the HTTP port (both fail fast with a clear message), start moto,
create the template's queues and tables, restore the snapshot, migrate the embedded ClickHouse,
import every function with its environment, then start the SQS pollers, the scheduler and the
HTTP server, and write `stack.json`. Stop: refuse new requests and finish the in-flight ones, let
the pollers empty the queues, save whatever could not be delivered and the tables, release the
lock. Nothing that was answered 202 is lost: it is either in ClickHouse or in `queues.json`.

The Touchline-specific parts (the ClickHouse URL override, migrations, `/_dev/sql`, the hint to
register a site) are collected in `_TouchlineWarehouse` and `_HINT`; the rest is generic.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import signal
import sys
import threading
import time
import warnings
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from touchline_dev.iam.identity import acting_as
from touchline_dev.iam.identity import install as install_identity
from touchline_dev.iam.moto_iam import RoleCredentials, create_roles, enforce, relax
from touchline_dev.iam.roles import function_roles

from .builder import build_function, needs_build
from .cognito import COGNITO_FILE, CognitoSnapshots, jwks_fetcher, restore_users
from .dev_guard import DevRouteGuard
from .environment import apply_process_environment, aws_environment, function_environment
from .http_gateway import (
    ApiInfo,
    Gateway,
    GatewayServer,
    HttpRequest,
    HttpResponse,
    PortInUseError,
    RouteTable,
)
from .intrinsics import PseudoParameters, UnresolvableError
from .jwt_authorizer import JwtAuthorizer
from .lambda_runtime import InvocationError, LocalFunction
from .local_sqs import LocalQueues
from .lock import DataDirLock, DataDirLockedError
from .queue_journal import JOURNAL_FILE, QueueJournal
from .resources import LocalResources, QueueInfo
from .scheduler import ScheduleError, Scheduler, parse_schedule, scheduler_event
from .snapshot import (
    QUEUES_FILE,
    SECRETS_FILE,
    TABLES_FILE,
    SecretSnapshots,
    TableSnapshots,
    add_saved_messages,
    restore_messages,
    restore_secrets,
    restore_tables,
    save_messages,
    take_messages,
)
from .sqs_poller import QueueTarget, SqsPoller, queue_depth
from .state import STACK_FILE, StackInfo, clickhouse_url
from .template import (
    HTTP_API,
    IMPLICIT_HTTP_API,
    LAMBDA_FUNCTION,
    SERVERLESS_FUNCTION,
    HttpRoute,
    ScheduleSource,
    Template,
    TemplateError,
    api_auth,
    cors_config,
    function_spec,
    http_routes,
    load_template,
    schedule_sources,
    sqs_sources,
)

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

    from touchline.warehouse.retention import Retention

    from .moto_backend import MotoServer

log = logging.getLogger("touchline_dev.devstack")

_SUPPORTED_EVENTS = ("HttpApi", "SQS", "ScheduleV2", "Schedule")
_HINT = "register a site: touchline sites add example.com"

# Dev values every function gets (after the template's own variables).
DEV_OVERRIDES = {
    "TOUCHLINE_SITE_CACHE_SECONDS": "1",
    # No email locally: invitations hand the temporary password back to be printed.
    "TOUCHLINE_INVITE_DELIVERY": "return",
    "POWERTOOLS_METRICS_DISABLED": "true",
    # Outgoing webhooks may reach receivers on this machine (never in AWS: docs/webhooks.md).
    "TOUCHLINE_WEBHOOKS_ALLOW_LOOPBACK": "true",
}
# Set only where the template does not set them.
DEV_DEFAULTS = {"POWERTOOLS_METRICS_NAMESPACE": "TouchlineDev", "POWERTOOLS_SERVICE_NAME": "touchline-dev"}


class StackStartError(RuntimeError):
    """The stack cannot start; the message says why and what to do (the CLI prints it as is)."""


@dataclass
class StackOptions:
    host: str = "127.0.0.1"
    port: int = 3000
    data_dir: Path = Path(".touchline")
    template: Path = Path("template.yaml")
    parameter_overrides: dict[str, str] = field(default_factory=dict)
    stack_name: str = "touchline"
    # Set up the embedded ClickHouse (chdb allows one directory per process; tests may skip it).
    clickhouse: bool = True
    drain_timeout: float = 30.0
    retry_delay_seconds: int = 1
    snapshot_interval: float = 10.0
    access_log: bool = True


class _TouchlineWarehouse:
    """The embedded ClickHouse: migrated at start, shared with the loader, queried by `/_dev/sql`
    (a query and its server-side parameters, `touchline_dev.sql_params`)."""

    def __init__(self, data_dir: Path, retention: Retention) -> None:
        from touchline.warehouse.client import connect
        from touchline.warehouse.migrate import migrate

        self.url = clickhouse_url(data_dir)
        (data_dir / "clickhouse").mkdir(parents=True, exist_ok=True)
        self.client = connect(self.url)
        self.applied = migrate(self.client, retention)
        self._lock = threading.Lock()

    def sql(self, request: HttpRequest) -> HttpResponse:
        from touchline_dev.sql_params import ParamsError, decode

        try:
            payload = json.loads(request.body or b"{}")
            query = payload["query"]
            fmt = payload.get("format", "json")
            params = decode(payload.get("parameters"))
        except (ValueError, KeyError, TypeError) as exc:
            detail = f"{exc}; " if isinstance(exc, ParamsError) else ""
            return HttpResponse.json(
                400,
                {
                    "error": f"{detail}body must be JSON: "
                    '{"query": "... {name:Type} ...", "parameters": {"name": value}, "format": "json"|"tsv"}'
                },
            )
        if fmt not in ("json", "tsv") or not isinstance(query, str):
            return HttpResponse.json(400, {"error": 'format must be "json" or "tsv"'})
        try:
            with self._lock:
                if fmt == "tsv":
                    raw = self.client.raw_query(query, parameters=params, fmt="TabSeparated")
                    return HttpResponse(200, [("content-type", "text/tab-separated-values")], bytes(raw))
                if _returns_rows(query):
                    result = self.client.query(query, parameters=params)
                    body = {
                        "columns": list(result.column_names),
                        "rows": [list(r) for r in result.result_rows],
                    }
                else:
                    self.client.command(query, parameters=params)
                    body = {"columns": [], "rows": []}
        except Exception as exc:
            return HttpResponse.json(400, {"error": str(exc)})
        return HttpResponse.json(200, body)

    def close(self) -> None:
        self.client.close()


def _returns_rows(query: str) -> bool:
    words = query.lstrip(" \t\n(").split(None, 1)
    return bool(words) and words[0].upper() in (
        "SELECT",
        "WITH",
        "SHOW",
        "DESCRIBE",
        "DESC",
        "EXPLAIN",
        "EXISTS",
    )


class DevStack:
    """The running stack; `start()`, then `wait()` (signals) or `stop()`."""

    def __init__(self, options: StackOptions) -> None:
        self.options = options
        self.data_dir = options.data_dir
        self.lock = DataDirLock(options.data_dir, role="dev")
        self.functions: dict[str, LocalFunction] = {}
        # Seconds each `BuildMethod: makefile` function's build took at start.
        self.builds: dict[str, float] = {}
        self.pollers: list[tuple[SqsPoller, QueueInfo]] = []
        self.scheduler = Scheduler()
        self.warehouse: _TouchlineWarehouse | None = None
        self.server: GatewayServer | None = None
        self.moto: MotoServer | None = None
        self.snapshots: TableSnapshots | None = None
        self.resources: LocalResources | None = None
        self.info: StackInfo | None = None
        self._sqs: SQSClient | None = None
        self.journal: QueueJournal | None = None
        self.local_queues: LocalQueues | None = None
        self._stop = threading.Event()
        self._forced = threading.Event()
        self._signals = 0
        self.started_in = 0.0
        self.roles: dict[str, RoleCredentials] = {}

    # ------------------------------------------------------------------ start

    def start(self) -> StackInfo:
        started = time.perf_counter()
        try:
            self.lock.acquire()
        except DataDirLockedError as exc:
            raise StackStartError(str(exc)) from None
        try:
            return self._start(started)
        except BaseException:
            self._teardown(save=False)
            raise

    def _start(self, started: float) -> StackInfo:
        from .moto_backend import MotoServer, aws_client

        opts = self.options
        try:
            template = load_template(opts.template)
        except TemplateError as exc:
            raise StackStartError(str(exc)) from None
        try:
            self.server = GatewayServer(opts.host, opts.port, _NO_ROUTES, access_log=opts.access_log)
        except PortInUseError:
            raise StackStartError(
                f"port {opts.port} on {opts.host} is already in use: stop what is using it or pass --port"
            ) from None
        http_url = f"http://{opts.host}:{self.server.port}"

        from .moto_backend import stack_origins

        self.moto = MotoServer(allowed_origins=stack_origins(http_url))
        self.moto.reset()  # moto's backends are per process; start from nothing
        pseudo = PseudoParameters(stack_name=opts.stack_name)
        try:
            resources = LocalResources(
                template,
                endpoint_url=self.moto.url,
                http_base_url=http_url,
                parameter_overrides=opts.parameter_overrides,
                pseudo=pseudo,
            )
        except TemplateError as exc:
            raise StackStartError(str(exc)) from None
        self.resources = resources
        apply_process_environment(aws_environment(self.moto.url, pseudo.region))
        sqs = aws_client("sqs", self.moto.url, pseudo.region)
        dynamodb = aws_client("dynamodb", self.moto.url, pseudo.region)
        self._sqs = sqs
        try:
            queues = resources.create_queues(sqs)
            tables = resources.create_tables(dynamodb)
        except TemplateError as exc:
            raise StackStartError(str(exc)) from None
        restored_items = restore_tables(dynamodb, tables, self.data_dir / TABLES_FILE)
        # What a killed run left in the journal joins what a clean stop saved, and is re-sent
        # (journaled again) with it: queues.json first, so a crash right here loses nothing.
        self.journal = QueueJournal(self.data_dir / JOURNAL_FILE)
        if leftovers := self.journal.leftovers():
            add_saved_messages(self.data_dir / QUEUES_FILE, leftovers)
            self.journal.clear()
        self.journal.install((q.name, q.logical_id) for q in queues)
        # The queues' messages live in this process from here on (docs/local-stack.md).
        self.local_queues = LocalQueues(self.journal, self.moto.url, pseudo.region, pseudo.account_id)
        for q in queues:
            attributes = sqs.get_queue_attributes(QueueUrl=q.url, AttributeNames=["All"])["Attributes"]
            self.local_queues.add_queue(q.name, q.url, q.arn, q.logical_id, attributes)
        self.local_queues.install()
        restored_messages = restore_messages(sqs, queues, self.data_dir / QUEUES_FILE)
        secretsmanager = aws_client("secretsmanager", self.moto.url, pseudo.region)
        restore_secrets(secretsmanager, self.data_dir / SECRETS_FILE)
        pools = resources.create_user_pools(aws_client("cognito-idp", self.moto.url, pseudo.region))
        restored_users = restore_users(pools, self.data_dir / COGNITO_FILE)
        self.snapshots = TableSnapshots(
            dynamodb,
            tables,
            self.data_dir / TABLES_FILE,
            secrets=SecretSnapshots(secretsmanager, self.data_dir / SECRETS_FILE),
            cognito=CognitoSnapshots(pools, self.data_dir / COGNITO_FILE),
        )

        specs = self._function_specs(template, resources)
        self.roles = self._enforce_roles(resources, pseudo.region)
        overrides = dict(DEV_OVERRIDES)
        # Browsers sign in against moto's Cognito (GET /api/v1/auth/config says where).
        overrides["TOUCHLINE_COGNITO_ENDPOINT"] = self.moto.url + "/"
        if opts.clickhouse:
            self.warehouse = _TouchlineWarehouse(self.data_dir, _retention(specs, resources))
            overrides["TOUCHLINE_CLICKHOUSE_URL"] = self.warehouse.url
        skipped = self._load_functions(specs, resources, overrides)

        apis = self._apis(template, resources)
        routes: list[HttpRoute] = []
        for function in self.functions.values():
            resource = resources.active[function.logical_id]
            routes.extend(http_routes(resource, resources.resolver))
        try:
            table = RouteTable(routes)
        except TemplateError as exc:
            raise StackStartError(str(exc)) from None
        missing = sorted({r.api for r in routes} - set(apis))
        if missing:
            raise StackStartError(f"HttpApi events refer to APIs the template does not declare: {missing}")
        self.server.gateway = Gateway(
            table, self.functions, apis, self._dev_routes(), DevRouteGuard(opts.host)
        )

        self._start_pollers(resources, sqs)
        schedules = self._start_schedules(resources)
        self.snapshots.start_periodic(opts.snapshot_interval)
        threading.Thread(target=self.server.serve_forever, name="http", daemon=True).start()

        self.info = StackInfo(
            pid=os.getpid(),
            http_url=http_url,
            moto_endpoint=self.moto.url,
            region=pseudo.region,
            data_dir=str(self.data_dir.resolve()),
            tables={t.logical_id: t.name for t in tables},
            queues={q.logical_id: q.url for q in queues},
            started_at=time.time(),
            user_pools={p.logical_id: p.pool_id for p in pools},
            user_pool_clients=dict(resources.user_pool_clients),
        )
        from .snapshot import write_atomically

        write_atomically(self.data_dir / STACK_FILE, self.info.to_json().encode())
        self.started_in = time.perf_counter() - started
        self._print_banner(routes, schedules, restored_items, restored_messages, skipped, restored_users)
        return self.info

    def _function_specs(self, template: Template, resources: LocalResources) -> dict[str, Any]:
        specs = {}
        for resource in resources.active.values():
            if resource.type in (SERVERLESS_FUNCTION, LAMBDA_FUNCTION):
                try:
                    spec = function_spec(template, resource, resources.resolver)
                    if needs_build(spec):
                        artifacts, seconds = build_function(spec, template.base_dir)
                        self.builds[spec.logical_id] = seconds
                        spec = dataclasses.replace(spec, code_dir=artifacts)
                except TemplateError as exc:
                    raise StackStartError(str(exc)) from None
                specs[resource.logical_id] = spec
        return specs

    def _load_functions(
        self, specs: dict[str, Any], resources: LocalResources, overrides: dict[str, str]
    ) -> dict[str, dict[str, str]]:
        skipped: dict[str, dict[str, str]] = {}
        for logical_id, spec in specs.items():
            env = function_environment(
                spec, resources, function_name=resources.physical_name(logical_id), overrides=overrides
            )
            variables = dict(env.variables)
            for key, value in DEV_DEFAULTS.items():
                variables.setdefault(key, value)
            role = self.roles.get(logical_id)
            function = LocalFunction(
                spec,
                name=resources.physical_name(logical_id),
                environment=variables,
                identity=lambda role=role: acting_as(role),  # type: ignore[misc]
            )
            try:
                function.load()
            except Exception as exc:
                raise StackStartError(
                    f"{logical_id}: cannot import {spec.code_dir}/{spec.handler}: {exc!r}"
                ) from exc
            self.functions[logical_id] = function
            for name, event in (resources.active[logical_id].properties.get("Events") or {}).items():
                if event.get("Type") not in _SUPPORTED_EVENTS:
                    env.skipped[f"event {name}"] = f"{event.get('Type')} events do not run locally"
            if env.skipped:
                skipped[logical_id] = env.skipped
        return skipped

    def _enforce_roles(self, resources: LocalResources, region: str) -> dict[str, RoleCredentials]:
        """Each function's role from the template in moto, and moto enforcing them from now on."""
        from .moto_backend import aws_client

        assert self.moto is not None
        install_identity()
        roles = function_roles(self.options.template, resources.resolver)
        credentials = create_roles(
            aws_client("iam", self.moto.url, region), aws_client("sts", self.moto.url, region), roles
        )
        for function, role in roles.items():
            for dropped in role.dropped:
                log.info("%s: IAM statement not enforced locally (%s)", function, dropped)
        if self.local_queues is not None:
            self.local_queues.allow_roles(
                {c.access_key_id: roles[function].documents for function, c in credentials.items()}
            )
        enforce()
        return credentials

    def _apis(self, template: Template, resources: LocalResources) -> dict[str, ApiInfo]:
        assert self.moto is not None
        fetch = jwks_fetcher(self.moto.url)
        apis = {IMPLICIT_HTTP_API: ApiInfo(resources.api_id(IMPLICIT_HTTP_API))}
        for resource in resources.active.values():
            if resource.type == HTTP_API:
                stage = resources.resolver.resolve(resource.properties.get("StageName", "$default"))
                try:
                    auth = api_auth(resource, resources.resolver)
                except (TemplateError, UnresolvableError) as exc:
                    raise StackStartError(str(exc)) from None
                apis[resource.logical_id] = ApiInfo(
                    api_id=resources.api_id(resource.logical_id),
                    stage=str(stage),
                    cors=cors_config(resource, resources.resolver),
                    authorizers={name: JwtAuthorizer(spec, fetch) for name, spec in auth.authorizers.items()},
                    default_authorizer=auth.default_authorizer,
                )
        return apis

    def _dev_routes(self) -> dict[str, Any]:
        routes: dict[str, Any] = {
            "GET /_dev/health": lambda _r: HttpResponse.json(200, {"status": "ok", "pid": os.getpid()}),
            "POST /_dev/snapshot": self._save_snapshot_route,
            "POST /_dev/invoke": self._invoke_route,
            "GET /_dev/queues": self._queues_route,
        }
        if self.warehouse is not None:
            routes["POST /_dev/sql"] = self.warehouse.sql
        return routes

    def _save_snapshot_route(self, _request: HttpRequest) -> HttpResponse:
        assert self.snapshots is not None
        return HttpResponse.json(200, {"saved": self.snapshots.save()})

    def _queues_route(self, _request: HttpRequest) -> HttpResponse:
        """Each queue's (visible, in flight) counts. Its messages live in this process, so another
        process asking moto would see them empty; a test waiting for a queue to drain asks here."""
        if self._sqs is None or self.resources is None:
            return HttpResponse.json(200, {"queues": {}})
        depths = {q.logical_id: queue_depth(self._sqs, q.url) for q in self.resources.queues()}
        return HttpResponse.json(
            200, {"queues": {k: {"visible": v, "in_flight": f} for k, (v, f) in depths.items()}}
        )

    def _invoke_route(self, request: HttpRequest) -> HttpResponse:
        """Invoke a function directly: `{"function": "LogicalId", "event": {...}}`."""
        try:
            payload = json.loads(request.body or b"{}")
            function = self.functions[payload["function"]]
        except (ValueError, KeyError, TypeError):
            return HttpResponse.json(400, {"error": f"function must be one of {sorted(self.functions)}"})
        try:
            result = function.invoke(payload.get("event", {})).result
        except InvocationError as exc:
            return HttpResponse.json(502, {"error": str(exc)})
        return HttpResponse.json(200, {"result": result})

    def _start_pollers(self, resources: LocalResources, sqs: SQSClient) -> None:
        for function in self.functions.values():
            for source in sqs_sources(resources.active[function.logical_id], resources.resolver):
                if not source.enabled:
                    continue
                try:
                    queue = resources.queue(source.queue)
                except UnresolvableError as exc:
                    raise StackStartError(f"{function.logical_id}.{source.event_name}: {exc}") from None
                # The stack's queues are in process: the poller takes its batches from them
                # directly (local_sqs.DirectSqs), not 10 messages per botocore call.
                local = self.local_queues
                poller = SqsPoller(
                    local.direct(queue.url) if local is not None and local.serves(queue.url) else sqs,
                    function,
                    QueueTarget(queue.url, queue.arn, resources.pseudo.region),
                    batch_size=source.batch_size,
                    batching_window_seconds=source.batching_window_seconds,
                    report_batch_item_failures=source.report_batch_item_failures,
                    retry_delay_seconds=self.options.retry_delay_seconds,
                )
                poller.start()
                self.pollers.append((poller, queue))

    def _start_schedules(self, resources: LocalResources) -> list[tuple[ScheduleSource, datetime | None]]:
        started: list[tuple[ScheduleSource, datetime | None]] = []
        for function in self.functions.values():
            for source in schedule_sources(resources.active[function.logical_id], resources.resolver):
                if not source.enabled:
                    started.append((source, None))
                    continue
                try:
                    schedule = parse_schedule(source.expression, timezone=source.timezone)
                except ScheduleError as exc:
                    raise StackStartError(f"{function.logical_id}.{source.event_name}: {exc}") from None
                arn = (
                    f"arn:aws:scheduler:{resources.pseudo.region}:{resources.pseudo.account_id}:"
                    f"schedule/default/{function.name}-{source.event_name}"
                )
                fire = _schedule_firing(function, source, arn, resources.pseudo)
                started.append(
                    (source, self.scheduler.add(f"{function.logical_id}.{source.event_name}", schedule, fire))
                )
        self.scheduler.start()
        return started

    def _print_banner(
        self,
        routes: list[HttpRoute],
        schedules: list[tuple[ScheduleSource, datetime | None]],
        restored_items: int,
        restored_messages: int,
        skipped: dict[str, dict[str, str]],
        restored_users: int = 0,
    ) -> None:
        assert self.info is not None
        base = self.info.http_url
        lines = [f"touchline dev: ready in {self.started_in:.1f} s (pid {self.info.pid})"]
        for route in sorted(routes, key=lambda r: r.path):
            url = base + ("/*" if route.path == "$default" else route.path)
            guard = f" [{route.authorizer}]" if route.authorizer and route.authorizer != "NONE" else ""
            lines.append(f"  {route.method:<7} {url}  -> {route.function}{guard}")
        if self.warehouse is not None:
            lines.append(f"  POST    {base}/_dev/sql  (SQL on the embedded ClickHouse: touchline sql)")
        for poller, queue in self.pollers:
            lines.append(
                f"  SQS     {queue.logical_id}  -> {poller.function.logical_id} "
                f"(batch {poller.batch_size}, window {poller.window:g} s)"
            )
        lines.append(
            f"  AWS     {self.info.moto_endpoint}  (moto: {', '.join(self.info.tables)}; queues: "
            f"{', '.join(self.info.queues)})"
        )
        for logical_id, pool_id in self.info.user_pools.items():
            clients = ", ".join(f"{k} {v}" for k, v in self.info.user_pool_clients.items())
            lines.append(
                f"  Cognito {logical_id} {pool_id}  ({restored_users} people restored; clients: {clients})"
            )
        if self.warehouse is not None:
            applied = f", applied {', '.join(self.warehouse.applied)}" if self.warehouse.applied else ""
            lines.append(f"  CH      {self.warehouse.url}  (migrated{applied})")
        for logical_id, seconds in self.builds.items():
            where = self.functions[logical_id].spec.code_dir if logical_id in self.functions else ""
            lines.append(f"  build   {logical_id}  (make build-{logical_id}: {seconds:.1f} s, into {where})")
        for source, due in schedules:
            when = f"next {due:%Y-%m-%d %H:%M:%S}Z" if due else "disabled"
            lines.append(f"  {source.kind:<7} {source.expression}  -> {source.function} ({when})")
        lines.append(
            f"  data    {self.data_dir}  ({restored_items} items restored"
            + (f", {restored_messages} queued messages re-sent" if restored_messages else "")
            + ")"
        )
        for function, variables in skipped.items():
            for key, reason in variables.items():
                what = key if key.startswith("event ") else f"{key} left unset"
                lines.append(f"  note    {function}: {what} ({reason})")
        lines.append(_HINT)
        print("\n".join(lines), flush=True)

    # ------------------------------------------------------------------ stop

    def wait(self) -> None:
        """Block until SIGINT/SIGTERM (a second one skips the drain), then stop."""

        def on_signal(signum: int, _frame: FrameType | None) -> None:
            self._signals += 1
            if self._signals == 1:
                print(
                    f"\ntouchline dev: {signal.Signals(signum).name}, stopping (again to skip the drain)",
                    flush=True,
                )
                self._stop.set()
            else:
                self._forced.set()

        previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            while not self._stop.wait(0.5):
                pass
            self.stop()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def stop(self) -> None:
        """Stop HTTP, drain the queues, save state, release the data dir."""
        if self.server is not None:
            left = self.server.stop_accepting(timeout=self.options.drain_timeout)
            if left:
                print(f"touchline dev: {left} HTTP requests still running after the timeout", flush=True)
        self.scheduler.stop()
        drained = self._drain()
        self._teardown(save=True, drained=drained)

    def _drain(self) -> bool:
        """Let the pollers deliver everything queued; False if it gave up."""
        if self._sqs is None:
            return True
        sqs = self._sqs
        polled = {queue.url: queue for _, queue in self.pollers}
        deadline = time.monotonic() + self.options.drain_timeout
        last_report = 0.0
        while True:
            depths = {url: queue_depth(sqs, url) for url in polled}
            pending = {polled[url].logical_id: d for url, d in depths.items() if d != (0, 0)}
            if not pending:
                return True
            if time.monotonic() >= deadline or self._forced.is_set():
                left = ", ".join(f"{q}: {v} queued, {f} in flight" for q, (v, f) in pending.items())
                print(f"touchline dev: gave up draining ({left}); saving them to {QUEUES_FILE}", flush=True)
                return False
            if time.monotonic() - last_report > 5:
                left = ", ".join(f"{q}: {v + f}" for q, (v, f) in pending.items())
                print(f"touchline dev: draining ({left})", flush=True)
                last_report = time.monotonic()
            time.sleep(0.2)

    def _teardown(self, *, save: bool, drained: bool = True) -> None:
        for poller, _ in self.pollers:
            poller.stop()
        if self.snapshots is not None:
            self.snapshots.stop_periodic()
        if save and self._sqs is not None and self.resources is not None:
            if not drained:
                self._wait_in_flight(self._sqs, timeout=self.options.retry_delay_seconds + 5)
            messages = {q.logical_id: take_messages(self._sqs, q.url) for q in self.resources.queues()}
            saved = save_messages(self.data_dir / QUEUES_FILE, messages)
            if self.journal is not None:
                self.journal.clear()  # what it held is delivered or in queues.json now
            if saved:
                where = ", ".join(f"{k}: {len(v)}" for k, v in messages.items() if v)
                print(
                    f"touchline dev: saved {saved} undelivered messages ({where}) for the next start",
                    flush=True,
                )
        if save and self.snapshots is not None:
            self.snapshots.save()
        if self.warehouse is not None:
            self.warehouse.close()
        (self.data_dir / STACK_FILE).unlink(missing_ok=True)
        if self.server is not None and not self.server.closing:
            self.server.stop_accepting(timeout=0)
        if self.local_queues is not None:
            self.local_queues.uninstall()
            self.local_queues = None
        if self.journal is not None:
            self.journal.close()  # unsaved (a failed start): what it holds is re-sent next time
            self.journal = None
        if self.moto is not None:
            relax()
            self.moto.stop()
        self.lock.release()

    def _wait_in_flight(self, sqs: SQSClient, timeout: float) -> None:
        """Failed messages come back after the retry delay; wait so they can be saved too."""
        deadline = time.monotonic() + timeout
        assert self.resources is not None
        while time.monotonic() < deadline:
            if all(queue_depth(sqs, q.url)[1] == 0 for q in self.resources.queues()):
                return
            time.sleep(0.2)


def _schedule_firing(
    function: LocalFunction, source: ScheduleSource, arn: str, pseudo: PseudoParameters
) -> Any:
    def fire(scheduled_time: datetime) -> None:
        event = scheduler_event(
            kind=source.kind,
            raw_input=source.input,
            schedule_arn=arn,
            scheduled_time=scheduled_time,
            region=pseudo.region,
            account_id=pseudo.account_id,
        )
        try:
            invocation = function.invoke(event)
            log.info("%s ran on schedule in %.0f ms", function.logical_id, invocation.duration_ms)
        except InvocationError as exc:
            log.error("%s failed on schedule: %s", function.logical_id, exc)

    return fire


def _retention(specs: dict[str, Any], resources: LocalResources) -> Retention:
    """The retention the template gives its functions (TOUCHLINE_*RETENTION_DAYS)."""
    from touchline.settings import WarehouseSettings

    names = [f"TOUCHLINE_{family}RETENTION_DAYS" for family in ("", "SESSION_", "METRICS_")]
    found: dict[str, str] = {}
    for spec in specs.values():
        for name in names:
            raw = spec.environment.get(name)
            if raw is not None and name not in found:
                try:
                    found[name] = str(resources.resolver.resolve(raw))
                except UnresolvableError:
                    continue
    return WarehouseSettings.from_env(found).retention()


class _NoRoutes(Gateway):
    """The gateway until the functions are loaded (the socket is bound first to fail fast)."""

    def __init__(self) -> None:
        super().__init__(RouteTable([]), {}, {})

    def handle(self, request: HttpRequest) -> HttpResponse:
        return HttpResponse.json(503, {"message": "Service Unavailable"})


_NO_ROUTES = _NoRoutes()


def _configure_output() -> None:
    """The stack's own messages to stderr; the handlers' (Powertools JSON) logs go to stdout as in Lambda."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("[dev] %(levelname)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    # Metrics are disabled locally, and Powertools still warns on every empty flush.
    warnings.filterwarnings("ignore", message="No application metrics to publish")


def serve(
    host: str = "127.0.0.1",
    port: int = 3000,
    data_dir: Path = Path(".touchline"),
    template: Path = Path("template.yaml"),
    *,
    parameter_overrides: dict[str, str] | None = None,
    drain_timeout: float = 30.0,
    access_log: bool = True,
) -> int:
    """Run the template locally until SIGINT/SIGTERM; return the exit code (0 after a clean stop).

    When it cannot start (data dir locked by another stack, port taken, template problems) it
    prints the reason to stderr and raises `SystemExit(1)`; use `DevStack` directly to get a
    `StackStartError` instead. State lives in `data_dir`: `stack.json` while
    running, `config-table.json` (DynamoDB items), `queues.json` (undelivered messages, if any),
    `clickhouse/` (the embedded ClickHouse) and `lock`.
    """
    _configure_output()
    options = StackOptions(
        host=host,
        port=port,
        data_dir=data_dir,
        template=template,
        parameter_overrides=dict(parameter_overrides or {}),
        drain_timeout=drain_timeout,
        access_log=access_log,
    )
    stack = DevStack(options)
    try:
        stack.start()
    except StackStartError as exc:
        print(f"touchline dev: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(1) from None
    stack.wait()
    print("touchline dev: stopped", flush=True)
    return 0
