"""The query engine: a Stats API v2 body → Plausible's response, from one SELECT (or the cache).

    parse (validate) → compile (SQL + bound parameters) → data version → cache or run → render

The API, the CLI reports, `touchline query` and the dashboard all call `QueryEngine.run`; the
caller has already decided who may see which site (touchline.auth) and loads the site's context.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from touchline.query import (
    builtin,  # noqa: F401  (registers the built-in vocabulary)
    dates,
)
from touchline.query.cache import DataVersion, MemoryCache, ResultCache, SharedReads, cache_key
from touchline.query.compile import Compiled, compile_query
from touchline.query.errors import QueryError
from touchline.query.model import Query, SiteContext
from touchline.query.parse import IMPORTS_WARNING, parse_query
from touchline.query.registry import REGISTRY, MetricRender, Registry
from touchline.query.sql import Warehouse

FIRST_DAY_SQL = """
SELECT toString(toDate(min(timestamp), {tz:String})), count() > 0 FROM events WHERE site_id = {site:String}
UNION ALL
SELECT toString(toDate(min(ordered_at), {tz:String})), count() > 0 FROM orders WHERE site_id = {site:String}
"""


@dataclass
class RunInfo:
    """How a query was answered (for logs, metrics and the bench)."""

    cached: bool = False
    seconds: dict[str, float] = field(default_factory=dict)
    sql: str = ""
    # A batch's: how many queries ran, and how many of them the cache answered.
    queries: int = 1
    hits: int = 0

    @classmethod
    def of_batch(cls, infos: list[RunInfo]) -> RunInfo:
        """A batch's figures: each phase's seconds summed over its queries."""
        seconds: dict[str, float] = {}
        for info in infos:
            for phase, value in info.seconds.items():
                seconds[phase] = seconds.get(phase, 0.0) + value
        hits = sum(1 for info in infos if info.cached)
        return cls(cached=bool(infos) and hits == len(infos), seconds=seconds, queries=len(infos), hits=hits)


class QueryEngine:
    def __init__(
        self,
        warehouse: Warehouse,
        *,
        registry: Registry = REGISTRY,
        cache: ResultCache | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._warehouse = warehouse
        self._registry = registry
        self._cache = cache if cache is not None else MemoryCache()
        self._versions = SharedReads(DataVersion(warehouse))
        self._clock = clock

    def parse(self, body: Any, site: SiteContext) -> Query:
        if isinstance(body, dict) and body.get("date_range") == "all" and site.first_day is None:
            from dataclasses import replace

            site = replace(site, first_day=self.first_day(site))
        return parse_query(body, site, self._clock(), self._registry)

    def first_day(self, site: SiteContext) -> date | None:
        """The site's first local day with an event or an order (`date_range: "all"` starts there;
        orders may predate the tag, e.g. a backfilled shop)."""
        _, rows = self._warehouse.select(FIRST_DAY_SQL, {"tz": site.timezone, "site": site.site_id})
        days = [date.fromisoformat(str(day)) for day, seen in rows if seen]
        return min(days) if days else None

    def select(self, sql: str, parameters: dict[str, Any]) -> list[Any]:
        """Rows of a statement built elsewhere on a parsed query (funnels, goal conversions),
        with the engine's mapping of the client's own mistakes to a 400."""
        try:
            _, rows = self._warehouse.select(sql, parameters)
        except QueryError:
            raise
        except Exception as exc:
            raise _warehouse_error(exc) from exc
        return list(rows)

    def compile(self, query: Query) -> Compiled:
        return compile_query(query, self._registry)

    def run(
        self,
        body: Any,
        site: SiteContext,
        *,
        aggregated_at: datetime | None = None,
        info: RunInfo | None = None,
        version: tuple[str, Any] | None = None,
    ) -> dict[str, Any]:
        """`version`: the site's data version read (`data_version`) before this call began, for a
        batch that shares one read between its queries; None reads it now."""
        info = info if info is not None else RunInfo()
        started = time.perf_counter()
        query = self.parse(body, site)
        compiled = self.compile(query)
        info.sql = compiled.sql
        compiled_at = time.perf_counter()
        digest, events_at = version if version is not None else self.data_version(query.site.site_id)
        key = cache_key(compiled.sql, compiled.parameters, digest)
        versioned_at = time.perf_counter()
        cached = self._cache.get(key)
        if cached is not None:
            info.cached = True
            response: dict[str, Any] = cached
        else:
            response = self.execute(query, compiled)
            response["meta"]["freshness"] = _freshness(events_at, aggregated_at)
            self._cache.put(key, response)
        done = time.perf_counter()
        info.seconds = {
            "compile": compiled_at - started,
            "version": versioned_at - compiled_at,
            "execute": done - versioned_at,
            "total": done - started,
        }
        return response

    def data_version(self, site_id: str) -> tuple[str, Any]:
        """The site's data version and when its events last landed (touchline.query.cache): a
        result computed after this read can be cached under it."""
        return self._versions.current(site_id)

    def execute(self, query: Query, compiled: Compiled) -> dict[str, Any]:
        """Run the compiled statement and render Plausible's response (no cache)."""
        try:
            _, rows = self._warehouse.select(compiled.sql, compiled.parameters)
        except QueryError:
            raise
        except Exception as exc:
            raise _warehouse_error(exc) from exc
        n_dims = len(query.dimensions)
        renders = [MetricRender(query, m) for m in query.metrics]
        renderers = []
        for name in query.metrics:
            found = self._registry.find_metric(name)
            assert found is not None
            renderers.append(found[0].render)
        results = []
        total_rows = 0
        for row in rows:
            total_rows = int(row[-1])
            metrics = [
                render(row[n_dims + i], ctx)
                for i, (render, ctx) in enumerate(zip(renderers, renders, strict=True))
            ]
            results.append({"metrics": metrics, "dimensions": [_dimension_value(v) for v in row[:n_dims]]})
        meta: dict[str, Any] = {}
        warnings = {k: v for ctx in renders for k, v in ctx.warnings.items()}
        if warnings:
            meta["metric_warnings"] = warnings
        if query.include.imports:
            meta.update(
                imports_included=False,
                imports_skip_reason="no_imported_data",
                imports_warning=IMPORTS_WARNING,
            )
        if query.include.time_labels:
            bucket = next(query.bucket(d) for d in query.dimensions if d == "time" or d.startswith("time:"))
            meta["time_labels"] = dates.labels(bucket, query.date_range)
        if query.include.total_rows:
            if not rows and query.offset > 0:
                total_rows = self._count(query)
            meta["total_rows"] = total_rows
        for name, _value in query.include.extra:
            option = self._registry.includes[name]
            if option.fill is not None:
                option.fill(query, meta, results)
        return {"results": results, "meta": meta, "query": query.echo()}

    def _count(self, query: Query) -> int:
        """Total rows when the requested page is past the end (the window count saw no row)."""
        from dataclasses import replace

        compiled = self.compile(replace(query, limit=1, offset=0))
        _, rows = self._warehouse.select(compiled.sql, compiled.parameters)
        return int(rows[0][-1]) if rows else 0


def _dimension_value(value: Any) -> Any:
    return value if isinstance(value, str) else str(value)


def _freshness(events_at: Any, aggregated_at: datetime | None) -> dict[str, Any]:
    """When the data behind the answer was last written: events as the loader stored them (event
    metrics include all of it), sessions and credits as of the last aggregation run."""

    def iso(value: Any) -> str | None:
        if value is None:
            return None
        if isinstance(value, datetime):
            moment = value if value.tzinfo else value.replace(tzinfo=UTC)
            return moment.astimezone(UTC).isoformat(timespec="seconds")
        return str(value)

    return {"events_stored_at": iso(events_at), "aggregated_at": iso(aggregated_at)}


def _warehouse_error(exc: Exception) -> Exception:
    """A ClickHouse error caused by the query's values (a regex RE2 rejects at run time, a
    too-large result) is the client's to fix; anything else is ours and propagates."""
    text = str(exc)
    for marker, message in (
        ("CANNOT_COMPILE_REGEXP", "Invalid filter: a regular expression could not be compiled."),
        ("TOO_MANY_ROWS", "The query would return too many rows; add filters or a smaller date_range."),
        ("MEMORY_LIMIT_EXCEEDED", "The query needs too much memory; add filters or a smaller date_range."),
        ("TIMEOUT_EXCEEDED", "The query took too long; add filters or a smaller date_range."),
    ):
        if marker in text:
            return QueryError(message)
    return exc
