"""`POST /api/v2/query` without HTTP: credentials and a body in, status, headers and JSON out.

    authenticate → rate limit → find the site → authorise → run the engine

A key that may not read the site gets exactly the answer a site that does not exist gets (401
"Invalid API key or site ID.", Plausible's words) and no data. Errors in the query are 400s with
Plausible's `{"error": "…"}`; a 429 carries `Retry-After` and the `X-RateLimit-*` headers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

import orjson

from touchline import json_body
from touchline.auth.principal import NO_SUCH_SITE, STATS_READ, Forbidden, Principal, authorize
from touchline.auth.rate_limit import RateDecision
from touchline.query.engine import QueryEngine, RunInfo
from touchline.query.errors import QueryError
from touchline.query.sites import SiteContexts

MISSING_KEY = "Missing API key. Use a Touchline API key (touchline api-keys create) as a Bearer token."
TOO_MANY = "Too many API requests: this key's limit is {limit} per hour. Retry after {retry} seconds."
MAX_BODY_BYTES = 256 * 1024
ANNOTATIONS = "annotations"
# A batch (`{"queries": [...]}`): a view's whole round in one request, one authorisation and one
# data-version read per site; each query counts against a key's rate limit.
MAX_BATCH = 25
BATCH_SHAPE = f'A batch is {{"queries": [...]}} with 1 to {MAX_BATCH} Stats API v2 queries.'


class Authenticator(Protocol):
    def authenticate(self, authorization: str | None) -> Principal | None: ...


class DenialLog(Protocol):
    def denied(self, principal: Principal | None, authorization: str | None, site: Any, reason: str) -> None:
        """Record a refused use of a credential (the audit log, docs/accounts.md)."""
        ...


class AnnotationReader(Protocol):
    def between(self, site_id: str, since: date | None = None, until: date | None = None) -> list[Any]:
        """A site's annotations (`touchline.accounts.annotations.Annotation`) within the days."""
        ...


class FunnelLookup(Protocol):
    def get(self, site_id: str, funnel_id: str) -> Any:
        """A site's funnel (`touchline.funnels.model.Funnel`), None if it has none of that id."""
        ...


class GoalSettings(Protocol):
    def get(self, site_id: str) -> Any:
        """A site's goals and attribution window (`AttributionSettings`), read fresh."""
        ...


class RealtimeSource(Protocol):
    def now(self, site_id: str) -> dict[str, Any]:
        """The site's realtime answer (`touchline.query.realtime.Realtime`)."""
        ...


class Limiter(Protocol):
    def hit(self, key_id: str, limit: int, cost: int = 1) -> RateDecision: ...


@dataclass
class ApiResponse:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    info: RunInfo | None = None

    def json(self) -> str:
        return orjson.dumps(self.body).decode()


class QueryApi:
    def __init__(
        self,
        engine: QueryEngine,
        authenticator: Authenticator,
        sites: SiteContexts,
        limiter: Limiter | None,
        default_rate_limit: int = 600,
        denials: DenialLog | None = None,
        annotations: AnnotationReader | None = None,
        realtime: RealtimeSource | None = None,
        funnels: FunnelLookup | None = None,
        goal_settings: GoalSettings | None = None,
        batch_workers: int = 1,
    ) -> None:
        self._engine = engine
        self._authenticator = authenticator
        self._sites = sites
        self._limiter = limiter
        self._default_limit = default_rate_limit
        self._denials = denials
        self._annotations = annotations
        self._realtime_source = realtime
        self._funnels = funnels
        self._batch_workers = max(1, batch_workers)
        self._goal_settings = goal_settings

    def query(self, authorization: str | None, body: bytes) -> ApiResponse:
        found = self._authenticate(authorization, _cost(body))
        if isinstance(found, ApiResponse):
            return found
        principal, headers = found
        return self._run(principal, body, headers)

    def realtime(self, authorization: str | None, site_ref: str | None) -> ApiResponse:
        """`GET /api/v2/realtime?site_id=…`: a key or a shared link, as for a query."""
        found = self._authenticate(authorization)
        if isinstance(found, ApiResponse):
            return found
        principal, headers = found
        return self._realtime(principal, site_ref, headers)

    def realtime_as(self, principal: Principal, site_ref: str | None) -> ApiResponse:
        """`GET /api/v1/realtime?site_id=…`: a person the gateway authenticated."""
        return self._realtime(principal, site_ref, {})

    def funnel(self, authorization: str | None, funnel_id: str, params: Mapping[str, str]) -> ApiResponse:
        """`GET /api/v2/funnels/{id}?site_id=…`: a funnel's figures for a key (rate limited)."""
        found = self._authenticate(authorization)
        if isinstance(found, ApiResponse):
            return found
        principal, headers = found
        answer = self.funnel_as(principal, funnel_id, params)
        answer.headers.update(headers)
        return answer

    def funnel_as(self, principal: Principal, funnel_id: str, params: Mapping[str, str]) -> ApiResponse:
        """A funnel's figures (docs/goals-funnels.md): `site_id`, and as the query API's
        `date_range` (`7d`, or `2025-01-01,2025-01-31`), `filters` (JSON) and `breakdown`."""
        from touchline.funnels.report import funnel_report

        found = self._site(principal, params.get("site_id"), {})
        if isinstance(found, ApiResponse):
            return found
        site = found[0]
        funnel = self._funnels.get(site.site_id, funnel_id) if self._funnels is not None else None
        if funnel is None:
            return ApiResponse(404, {"error": f"No funnel {funnel_id!r} on this site."})
        try:
            filters = json_body.loads(params["filters"].encode()) if params.get("filters") else []
            report = funnel_report(
                self._engine,
                site,
                funnel,
                date_range=_date_range(params),
                filters=filters,
                breakdown=params.get("breakdown"),
            )
        except json_body.JsonBodyError as exc:
            return ApiResponse(400, {"error": f"filters is {exc}."})
        except QueryError as exc:
            return ApiResponse(exc.status, exc.body())
        return ApiResponse(200, report)

    def goal_conversions(self, authorization: str | None, params: Mapping[str, str]) -> ApiResponse:
        """`GET /api/v2/goal-conversions?site_id=…`: a key's (rate limited)."""
        found = self._authenticate(authorization)
        if isinstance(found, ApiResponse):
            return found
        principal, headers = found
        answer = self.goal_conversions_as(principal, params)
        answer.headers.update(headers)
        return answer

    def goal_conversions_as(self, principal: Principal, params: Mapping[str, str]) -> ApiResponse:
        """A site's goal completions (docs/goals-funnels.md): `site_id`, the query API's
        `date_range`, `goal` (names or ids, comma-separated), `limit`. One row per visitor's
        completion: not for shared links, which show aggregate figures only."""
        from touchline.goals.report import DEFAULT_LIMIT, conversions_report

        if principal.kind == "shared_link":
            return ApiResponse(403, {"error": "A shared link shows aggregate figures, not conversions."})
        found = self._site(principal, params.get("site_id"), {})
        if isinstance(found, ApiResponse):
            return found
        site = found[0]
        if self._goal_settings is None:
            return ApiResponse(503, {"error": "Goal conversions are not configured."})
        raw_limit = params.get("limit") or str(DEFAULT_LIMIT)
        if not raw_limit.isdigit():
            return ApiResponse(400, {"error": "limit is a whole number."})
        goals = [g.strip() for g in params.get("goal", "").split(",") if g.strip()]
        try:
            report = conversions_report(
                self._engine,
                site,
                self._goal_settings.get(site.site_id),
                date_range=_date_range(params),
                goals=goals or None,
                limit=int(raw_limit[:9]),
            )
        except QueryError as exc:
            return ApiResponse(exc.status, exc.body())
        return ApiResponse(200, report)

    def _authenticate(
        self, authorization: str | None, cost: int = 1
    ) -> tuple[Principal, dict[str, str]] | ApiResponse:
        """The credential's principal and its rate-limit headers, or the refusal (`cost`: how
        many queries the request asks, as many requests of a key's limit)."""
        principal = self._authenticator.authenticate(authorization)
        if principal is None:
            if authorization and self._denials is not None:
                self._denials.denied(None, authorization, None, "invalid, revoked or expired credential")
            return ApiResponse(401, {"error": MISSING_KEY if not authorization else NO_SUCH_SITE})
        headers: dict[str, str] = {}
        if self._limiter is not None and principal.kind == "api_key":
            limit = principal.rate_limit_per_hour or self._default_limit
            decision = self._limiter.hit(principal.id, limit, cost)
            headers = decision.headers(time.time())
            if not decision.allowed:
                message = TOO_MANY.format(limit=decision.limit, retry=headers["Retry-After"])
                return ApiResponse(429, {"error": message}, headers)
        return principal, headers

    def _site(
        self, principal: Principal, site_ref: Any, headers: dict[str, str]
    ) -> tuple[Any, datetime | None] | ApiResponse:
        """The site a principal may read stats of, or the answer a missing one gets."""
        if not isinstance(site_ref, str) or not site_ref:
            return ApiResponse(400, {"error": "#: Required property site_id was not present."}, headers)
        found = self._sites.load(site_ref)
        try:
            authorize(
                principal,
                STATS_READ,
                found[0].site_id if found else None,
                found[0].org_id or None if found else None,
            )
        except Forbidden as exc:
            if self._denials is not None and principal.kind != "operator":
                self._denials.denied(principal, None, found[0] if found else None, exc.message)
            return ApiResponse(exc.status, {"error": exc.message}, headers)
        assert found is not None
        return found

    def _realtime(self, principal: Principal, site_ref: str | None, headers: dict[str, str]) -> ApiResponse:
        found = self._site(principal, site_ref, headers)
        if isinstance(found, ApiResponse):
            return found
        if self._realtime_source is None:
            return ApiResponse(503, {"error": "Realtime is not configured."}, headers)
        info = RunInfo()
        started = time.perf_counter()
        body = self._realtime_source.now(found[0].site_id)
        info.seconds = {"total": time.perf_counter() - started}
        return ApiResponse(200, body, {**headers, "Cache-Control": "no-store"}, info)

    def query_as(self, principal: Principal, body: bytes) -> ApiResponse:
        """A query by a caller the gateway already authenticated (a person, through the JWT
        authorizer): no key, so no key rate limit; the same authorisation and engine."""
        return self._run(principal, body, {})

    def run_as(self, principal: Principal, payload: Any) -> ApiResponse:
        """The same path for callers that authenticated otherwise (the CLI as operator)."""
        return self._run(principal, orjson.dumps(payload), {})

    def _run(self, principal: Principal, body: bytes, headers: dict[str, str]) -> ApiResponse:
        if len(body) > MAX_BODY_BYTES:
            return ApiResponse(
                413, {"error": f"The query body is larger than {MAX_BODY_BYTES} bytes."}, headers
            )
        try:
            payload = json_body.loads(body or b"null")
        except json_body.JsonBodyError as exc:
            return ApiResponse(400, {"error": f"The body is {exc}."}, headers)
        if isinstance(payload, dict) and "queries" in payload:
            return self._batch(principal, payload, headers)
        return self._one(principal, payload, headers)

    def _batch(self, principal: Principal, payload: dict[str, Any], headers: dict[str, str]) -> ApiResponse:
        """`{"queries": [q, …]}` → `{"results": [{"status", "body"}, …]}` in the same order, each
        as its own request would have been answered (a 400 for one does not fail the others).
        One version read per site serves every query of the batch: it is taken before any of
        their results is computed, so the cache's guarantee holds for each."""
        queries = payload["queries"]
        if set(payload) != {"queries"} or not isinstance(queries, list) or not 1 <= len(queries) <= MAX_BATCH:
            return ApiResponse(400, {"error": BATCH_SHAPE}, headers)
        versions = _BatchVersions(self._engine)
        workers = min(len(queries), self._batch_workers)
        if workers == 1:
            answers = [self._one(principal, query, {}, versions) for query in queries]
        else:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                answers = list(pool.map(lambda query: self._one(principal, query, {}, versions), queries))
        results = [{"status": answer.status, "body": answer.body} for answer in answers]
        infos = [answer.info for answer in answers if answer.info is not None]
        return ApiResponse(200, {"results": results}, headers, RunInfo.of_batch(infos))

    def _one(
        self,
        principal: Principal,
        payload: Any,
        headers: dict[str, str],
        versions: _BatchVersions | None = None,
    ) -> ApiResponse:
        """One query; `versions` (a batch's): the data version read once per site."""
        if not isinstance(payload, dict):
            return ApiResponse(
                400, {"error": "The body must be a JSON object (a Stats API v2 query)."}, headers
            )
        if "queries" in payload:
            return ApiResponse(400, {"error": "A batch's queries cannot be batches."}, headers)
        found = self._site(principal, payload.get("site_id"), headers)
        if isinstance(found, ApiResponse):
            return found
        site, aggregated_at = found
        info = RunInfo()
        version, read_s = versions.get(site.site_id) if versions is not None else (None, 0.0)
        try:
            result = self._engine.run(payload, site, aggregated_at=aggregated_at, info=info, version=version)
        except QueryError as exc:
            return ApiResponse(exc.status, exc.body(), headers, info)
        finally:
            if read_s:  # the batch's one read, in the figures of the query that took it
                for phase in ("version", "total"):
                    info.seconds[phase] = info.seconds.get(phase, 0.0) + read_s
        include = payload.get("include")
        if isinstance(include, dict) and include.get(ANNOTATIONS) is True:
            result = self._with_annotations(result, site.site_id)
        return ApiResponse(200, result, headers, info)

    def _with_annotations(self, result: dict[str, Any], site_id: str) -> dict[str, Any]:
        """`include: {"annotations": true}`: the site's notes on the queried days in `meta`.
        Added after the engine (its cache keys on the warehouse's data version, which a note
        does not change), to a copy: the cached answer stays as it was."""
        first, last = (date.fromisoformat(str(end)[:10]) for end in result["query"]["date_range"])
        notes = self._annotations.between(site_id, first, last) if self._annotations is not None else []
        meta = {**result.get("meta", {}), ANNOTATIONS: [note.as_dict() for note in notes]}
        return {**result, "meta": meta}


def _date_range(params: Mapping[str, str]) -> Any:
    """A GET's `date_range`: the query API's names (`7d`, `month`) or `first,last` (ISO dates)."""
    date_range: Any = params.get("date_range") or "30d"
    if "," in date_range:
        date_range = [part.strip() for part in date_range.split(",", 1)]
    return date_range


class _BatchVersions:
    """A batch's data versions: each site's read once, by the first of its queries to need it,
    before that query's result is computed (the others of the site wait for it)."""

    def __init__(self, engine: QueryEngine) -> None:
        self._engine = engine
        self._read: dict[str, tuple[str, Any]] = {}
        self._lock = threading.Lock()

    def get(self, site_id: str) -> tuple[tuple[str, Any], float]:
        """The site's version, and the seconds this call spent reading it (0 if it did not)."""
        with self._lock:
            if site_id in self._read:
                return self._read[site_id], 0.0
            started = time.perf_counter()
            self._read[site_id] = self._engine.data_version(site_id)
            return self._read[site_id], time.perf_counter() - started


def _cost(body: bytes) -> int:
    """How many queries a request asks (a batch's count, else 1), read before authorisation
    only to charge a key's rate limit; a body that does not parse costs 1 (and is refused)."""
    if b'"queries"' not in body:
        return 1
    try:
        payload = json_body.loads(body)
    except json_body.JsonBodyError:
        return 1
    queries = payload.get("queries") if isinstance(payload, dict) else None
    return min(len(queries), MAX_BATCH) if isinstance(queries, list) and queries else 1
