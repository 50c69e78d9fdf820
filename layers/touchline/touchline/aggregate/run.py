"""One aggregation run for one site: scope → sessions → conversions → credits → rollups.

Incremental runs look at what ClickHouse received since the site's watermark (`inserted_at`,
so late events, redrives and refunds all count) and recompute exactly what that can change:
the sessions of visitors with new hits, the conversions of every person those visitors (or
changed orders, refunds and identities) belong to or belonged to, and every day those touch.
A full run is the same code with every scope set to "everything", so a rebuild reproduces the
incremental history row for row (under FINAL). Both are idempotent.

Neither rewrites what can no longer be recomputed: once raw events age out (their TTL,
touchline.warehouse.retention), sessions, credits, journeys and daily rollups older than the
retention horizon (`Horizon`) stay as they were computed while their events were stored.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from touchline.aggregate import attribution, conversions, journeys, rollups, sessions
from touchline.aggregate.persons import USER_MAP
from touchline.aggregate.staging import (
    Stages,
    delete_stale,
    insert_values,
    replace_scope,
    stages,
    table_columns,
)
from touchline.config.attribution_settings import AttributionSettings
from touchline.config.watermarks import Watermark, WatermarkStore
from touchline.datadriven import MODELS as DATA_DRIVEN_MODELS
from touchline.datadriven import TOUCHES
from touchline.datadriven import credits as datadriven_credits
from touchline.datadriven import fit as datadriven_fit
from touchline.warehouse.retention import kept_days
from touchline.warehouse.sql import Sql

JOB = "aggregate"
# Rows become visible a little after their inserted_at was stamped; re-reading a margin is free
# (everything is idempotent) and closes that gap.
SAFETY_MARGIN_MS = 5 * 60 * 1000
EPOCH = "toDateTime64(0, 3, 'UTC')"
# Rows inserted after the watermark (minus the margin).
NEWER = "inserted_at > fromUnixTimestamp64Milli(toInt64({since_ms:Int64}), 'UTC')"
CONVERSION_COLUMNS = (
    "conversion_id String, conversion_kind String, conversion_name String, "
    "converted_at DateTime64(3, 'UTC'), currency String, revenue Decimal(38, 4), person_id String"
)
DAY_MS = 86_400_000


@dataclass(frozen=True)
class Horizon:
    """The earliest times from which each derived table can be recomputed from stored events.

    Events younger than the events TTL are all there; older ones may be partly merged away. A
    day's margin covers a session that began before that point, and a conversion needs every
    touch of its lookback window. `kept_days` None (no TTL): everything can be recomputed.
    """

    sessions_ms: int
    credits_ms: int

    @classmethod
    def of(cls, now_ms: int, events_kept_days: int | None, lookback_ms: int) -> Horizon:
        if events_kept_days is None:
            return cls(0, 0)
        sessions_ms = max(0, now_ms - events_kept_days * DAY_MS + DAY_MS)
        return cls(sessions_ms, sessions_ms + lookback_ms)

    def parameters(self) -> dict[str, int]:
        # Rollups of a day read its sessions and its conversions: the later bound, next midnight.
        return {
            "kept_sessions_ms": self.sessions_ms,
            "kept_credits_ms": self.credits_ms,
            "kept_days_ms": (self.credits_ms // DAY_MS + 1) * DAY_MS if self.credits_ms else 0,
        }


def _since(parameter: str) -> str:
    return f"fromUnixTimestamp64Milli(toInt64({{{parameter}:Int64}}), 'UTC')"


KEPT_SESSIONS = f"session_start >= {_since('kept_sessions_ms')}"
KEPT_CREDITS = f"converted_at >= {_since('kept_credits_ms')}"
KEPT_JOURNEYS = f"ended_at >= {_since('kept_credits_ms')}"
KEPT_DAYS = f"date >= toDate({_since('kept_days_ms')})"
_site_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


@dataclass
class RunReport:
    site_id: str
    full: bool
    version: int
    since_ms: int | None
    visitors: int = 0
    sessions: int = 0
    conversions: int = 0
    credit_rows: int = 0
    journeys: int = 0
    refitted: bool = False
    days: int = 0
    seconds: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "site_id": self.site_id,
            "full": self.full,
            "version": self.version,
            "since_ms": self.since_ms,
            "visitors": self.visitors,
            "sessions": self.sessions,
            "conversions": self.conversions,
            "credit_rows": self.credit_rows,
            "journeys": self.journeys,
            "refitted": self.refitted,
            "days": self.days,
            "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
        }


class Aggregator:
    def __init__(self, sql: Sql, watermarks: WatermarkStore, margin_ms: int = SAFETY_MARGIN_MS) -> None:
        self._sql = sql
        self._watermarks = watermarks
        self._margin_ms = margin_ms

    def run(
        self, site_id: str, settings: AttributionSettings, full: bool = False, refit: bool = False
    ) -> RunReport:
        """`refit`: fit the data-driven models now even if their last fit is recent."""
        with _lock_for(site_id):
            run = _Run(self._sql, self._watermarks, site_id, settings, full, self._margin_ms)
            return run.execute(refit)


def _lock_for(site_id: str) -> threading.Lock:
    """One run per site at a time in this process (the Lambda has reserved concurrency 1)."""
    with _locks_guard:
        return _site_locks.setdefault(site_id, threading.Lock())


class _Run:
    def __init__(
        self,
        sql: Sql,
        watermarks: WatermarkStore,
        site_id: str,
        settings: AttributionSettings,
        full: bool,
        margin_ms: int,
    ) -> None:
        self.sql = sql
        self.watermarks = watermarks
        self.site_id = site_id
        self.settings = settings
        previous = watermarks.get(site_id, JOB)
        [(now,)] = sql.rows("SELECT toUnixTimestamp64Milli(now64(3))")
        self.now_ms = int(now)
        self.version = max(self.now_ms, (previous.version + 1) if previous else 0)
        # A goal added, edited or removed since the last run: goals are queries over all of
        # history, so the site's conversions (and their credits) are rebuilt.
        goals_changed = previous is not None and settings.goals_changed_ms >= previous.version
        self.horizon = Horizon.of(
            self.now_ms, _events_kept_days(sql), settings.lookback_days * attribution.DAY_MS
        )
        # Sessions written before migration 0059 lack the hit list that visit-filtered event
        # counts read: the site's sessions are rebuilt once.
        self.full = full or previous is None or goals_changed or self._sessions_without_hit_list()
        self.since_ms = None if self.full or previous is None else previous.position_ms - margin_ms
        self.report = RunReport(site_id, self.full, self.version, self.since_ms)
        self.params: dict[str, Any] = {
            **self.horizon.parameters(),
            "site": site_id,
            "version": self.version,
            "lookback_ms": settings.lookback_days * attribution.DAY_MS,
            "half_life_ms": float(settings.half_life_days * attribution.DAY_MS),
            # Milliseconds, not a datetime: a datetime parameter is sent to the second, which
            # would re-scope everything inserted in the watermark's second.
            "since_ms": self.since_ms or 0,
            **conversions.goal_parameters(settings.goals),
            **attribution.currency_parameters(),
            "models": list(attribution.MODELS),
            "data_driven_models": list(DATA_DRIVEN_MODELS),
            "non_hit_event_types": list(sessions.NON_HIT_EVENT_TYPES),
        }

    def _sessions_without_hit_list(self) -> bool:
        """Whether a kept session of the site has hits but no hit list (written before 0059).

        Read without FINAL first (reading two small columns, no merge): after the rebuild the
        pre-migration rows linger only until their parts merge, and FINAL tells those apart.
        """
        lacking = f"site_id = {{site:String}} AND {KEPT_SESSIONS} AND hits > 0 AND empty(hit_list)"
        params = {**self.horizon.parameters(), "site": self.site_id}
        [(rows,)] = self.sql.rows(f"SELECT count() FROM sessions WHERE {lacking}", params)
        if not rows:
            return False
        [(rows,)] = self.sql.rows(
            f"SELECT count() FROM sessions FINAL WHERE {lacking} AND is_deleted = 0", params
        )
        return int(rows) > 0

    def execute(self, refit: bool = False) -> RunReport:
        with stages(self.sql) as scratch:
            windows, visitors = self._step("scope", lambda: self._visitor_scope(scratch))
            dates = (
                None
                if self.full
                else scratch.create("dates", "date Date", "SELECT toDate('1970-01-01') WHERE 0")
            )
            self._step("sessions", lambda: self._sessions(scratch, windows, dates))
            persons, touch_visitors = self._step(
                "attribution", lambda: self._attribution(scratch, visitors, dates)
            )
            journey_scope = self._step(
                "journeys", lambda: self._journeys(scratch, visitors, persons, touch_visitors)
            )
            self._step("data_driven", lambda: self._data_driven(scratch, dates, journey_scope, refit))
            self._step("rollups", lambda: self._rollups(scratch, dates))
        self.watermarks.put(self.site_id, JOB, Watermark(self.now_ms, self.version))
        return self.report

    def _step(self, name: str, action: Any) -> Any:
        started = time.perf_counter()
        result = action()
        self.report.seconds[name] = time.perf_counter() - started
        return result

    def _count(self, query: str) -> int:
        [(count,)] = self.sql.rows(query, self.params)
        return int(count)

    # -- scope -------------------------------------------------------------------------------

    def _visitor_scope(self, scratch: Stages) -> tuple[str, str]:
        """Stage the visitors whose sessions or person may have changed: (windows, visitors) tables.

        `windows`: visitors with new hits and the time from which their sessions can differ.
        `visitors`: those plus visitors whose identity changed, each with the time from which
        their conversions can differ (the epoch for identity changes).
        """
        if self.full:
            return "", ""
        windows = scratch.create(
            "windows",
            "visitor_id String, window_start DateTime64(3, 'UTC')",
            sessions.WINDOWS_SELECT.replace("{newer}", NEWER),
            self.params,
        )
        visitors = scratch.create(
            "visitors",
            "visitor_id String, since DateTime64(3, 'UTC')",
            f"""SELECT visitor_id, min(since) FROM (
                   SELECT visitor_id, window_start AS since FROM {windows}
                   UNION ALL
                   SELECT id_value, {EPOCH} FROM identity_map
                   WHERE site_id = {{site:String}} AND id_type = 'visitor' AND {NEWER})
               GROUP BY visitor_id""",
            self.params,
        )
        self.report.visitors = self._count(f"SELECT count() FROM {visitors}")
        return windows, visitors

    # -- sessions ----------------------------------------------------------------------------

    def _sessions(self, scratch: Stages, windows: str, dates: str | None) -> None:
        if windows:
            visitor_scope = f"visitor_id IN (SELECT visitor_id FROM {windows})"
            select = sessions.sessions_select(visitor_scope, sessions.window_clause("timestamp", windows))
            in_window = sessions.window_clause("session_start", windows)
            scope = f"site_id = {{site:String}} AND {visitor_scope} AND {in_window}"
        else:
            select, scope = sessions.sessions_select("1"), "site_id = {site:String}"
        self._write(
            scratch,
            dates,
            "sessions",
            ("site_id", "visitor_id", "session_id"),
            scope,
            select,
            "session_start",
            kept=KEPT_SESSIONS,
        )
        written = "sessions WHERE site_id = {site:String} AND version = {version:UInt64} AND is_deleted = 0"
        self.report.sessions = self._count(f"SELECT count() FROM {written}")
        if self.full:
            self.report.visitors = self._count(f"SELECT uniqExact(visitor_id) FROM {written}")

    # -- attribution -------------------------------------------------------------------------

    def _attribution(self, scratch: Stages, visitors: str, dates: str | None) -> tuple[str, str]:
        """Rule-based credits of the conversions in scope: (persons table, touch_visitors clause)."""
        # The data-driven models' rows are rewritten by their own step.
        rule_based = "site_id = {site:String} AND model IN {models:Array(String)}"
        persons = ""
        if self.full:
            in_scope = scratch.create(
                "conversions", CONVERSION_COLUMNS, conversions.conversions_select(), self.params
            )
            credit_scope, touch_visitors = rule_based, "1"
        else:
            changed = scratch.create(
                "conversions_changed",
                CONVERSION_COLUMNS,
                conversions.conversions_select(
                    order_scope=f"concat(source, ':', order_id) IN ({self._changed_orders()})", goal_scope="0"
                ),
                self.params,
            )
            persons = self._person_scope(scratch, visitors, changed)
            # The persons' browsers: those mapped to them, and shared browsers their users signed
            # in on (any version of a session: a superset).
            touch_browsers = scratch.create(
                "touch_visitors",
                "visitor_id String",
                f"""SELECT id_value FROM identity_map FINAL
                    WHERE site_id = {{site:String}} AND id_type = 'visitor'
                        AND person_id IN (SELECT person_id FROM {persons})
                    UNION ALL
                    SELECT substring(person_id, 9) FROM {persons} WHERE startsWith(person_id, 'visitor:')
                    UNION ALL
                    SELECT visitor_id FROM sessions
                    WHERE site_id = {{site:String}} AND user_id IN (
                        SELECT id_value FROM identity_map FINAL
                        WHERE site_id = {{site:String}} AND id_type = 'user'
                            AND person_id IN (SELECT person_id FROM {persons}))""",
                self.params,
            )
            touch_visitors = f"visitor_id IN (SELECT visitor_id FROM {touch_browsers})"
            # A person's conversions before their `since` cannot have changed: every session that
            # changed starts at or after it, and touchpoints start at or before the conversion.
            # Goal events are read only for the persons' visitors (a superset; the join is exact).
            in_scope = scratch.create(
                "conversions",
                CONVERSION_COLUMNS,
                f"""SELECT c.* FROM ({conversions.conversions_select(goal_scope=touch_visitors)}) AS c
                    INNER JOIN {persons} AS p ON p.person_id = c.person_id
                    WHERE c.converted_at >= p.since""",
                self.params,
            )
            # Every conversion to rewrite or remove: those of the persons now, and those credited
            # to them before (a conversion can change person). Keyed, so FINAL reads little.
            conversion_ids = scratch.create(
                "conversion_ids",
                "conversion_id String",
                f"""SELECT conversion_id FROM {in_scope}
                    UNION DISTINCT
                    SELECT c.conversion_id FROM (
                        SELECT conversion_id, person_id, converted_at FROM attribution_credits FINAL
                        WHERE site_id = {{site:String}}) AS c
                    INNER JOIN {persons} AS p ON p.person_id = c.person_id
                    WHERE c.converted_at >= p.since""",
                self.params,
            )
            credit_scope = f"{rule_based} AND conversion_id IN (SELECT conversion_id FROM {conversion_ids})"
        self._write(
            scratch,
            dates,
            "attribution_credits",
            ("site_id", "conversion_id", "model", "touch_index"),
            credit_scope,
            attribution.credits_select(in_scope, touch_visitors),
            "converted_at",
            kept=KEPT_CREDITS,
        )
        written = (
            "attribution_credits WHERE site_id = {site:String} AND version = {version:UInt64} "
            "AND is_deleted = 0"
        )
        self.report.conversions = self._count(f"SELECT count() FROM {in_scope}")
        self.report.credit_rows = self._count(f"SELECT count() FROM {written}")
        return persons, touch_visitors

    # -- journeys and data-driven models ------------------------------------------------------

    def _journeys(self, scratch: Stages, visitors: str, persons: str, touch_visitors: str) -> str:
        """Rewrite the journeys of every person in scope; the scope as a clause over `person_id`."""
        if self.full:
            person_scope = "1"
        else:
            # Those persons, and whoever held the scope's visitors in a journey before (a visitor
            # that moved to another person leaves a journey behind).
            scoped = scratch.create(
                "journey_persons",
                "person_id String",
                f"""SELECT person_id FROM {persons}
                    UNION DISTINCT
                    SELECT person_id FROM journeys FINAL
                    WHERE site_id = {{site:String}}
                      AND arrayExists(v -> v IN (SELECT visitor_id FROM {visitors}), visitor_ids)""",
                self.params,
            )
            person_scope = f"person_id IN (SELECT person_id FROM {scoped})"
        replace_scope(
            self.sql,
            "journeys",
            f"SELECT * FROM ({journeys.journeys_select(person_scope, touch_visitors)}) WHERE {KEPT_JOURNEYS}",
            f"site_id = {{site:String}} AND {person_scope} AND {KEPT_JOURNEYS}",
            self.version,
            self.params,
        )
        written = "journeys WHERE site_id = {site:String} AND version = {version:UInt64} AND is_deleted = 0"
        self.report.journeys = self._count(f"SELECT count() FROM {written}")
        return person_scope

    def _data_driven(self, scratch: Stages, dates: str | None, journey_scope: str, refit: bool) -> None:
        """Refit the data-driven models when due, then credit conversions with the current fits:
        all of them after a refit, else those whose journeys this run rewrote."""
        if refit or self.full or self._fit_due():
            # Every touches variant is fitted now, so reports and the query API can credit any of
            # them on demand without fitting; only `all` is stored as credits.
            fits: list[datadriven_fit.Fit] = []
            for touches in TOUCHES:
                fitted = datadriven_fit.fit_site(
                    self.sql.rows, self.site_id, touches, self.settings.thresholds
                )
                insert_values(
                    self.sql,
                    "attribution_fits",
                    datadriven_fit.FIT_COLUMNS,
                    datadriven_fit.fit_rows(
                        self.site_id, fitted, self.settings.thresholds, self.now_ms, self.version
                    ),
                )
                fits.extend(f for f in fitted if touches == "all")
            delete_stale(self.sql, "attribution_fits", "site_id = {site:String}", self.version, self.params)
            self.report.refitted, journey_scope = True, "1"
        else:
            fits = datadriven_fit.stored_fits(self.sql.rows, self.site_id)
        if not any(f.ok for f in fits) and not self._count(
            "SELECT count() FROM attribution_credits WHERE site_id = {site:String} "
            "AND model IN {data_driven_models:Array(String)} AND is_deleted = 0"
        ):
            return  # nothing fitted, nothing credited before: nothing to write or remove
        self.params.update(
            datadriven_credits.credit_parameters("all", DATA_DRIVEN_MODELS, self.params["half_life_ms"])
        )
        # Credit rows carry the conversion's person, like journeys: the same clause scopes both.
        scope = (
            f"site_id = {{site:String}} AND model IN {{data_driven_models:Array(String)}} AND {journey_scope}"
        )
        self._write(
            scratch,
            dates,
            "attribution_credits",
            ("site_id", "conversion_id", "model", "touch_index"),
            scope,
            datadriven_credits.credits_select("all", journey_scope),
            "converted_at",
            label="data_driven_credits",
            kept=KEPT_CREDITS,
        )

    def _fit_due(self) -> bool:
        [(last,)] = self.sql.rows(
            "SELECT toUnixTimestamp64Milli(max(fitted_at)) FROM attribution_fits FINAL "
            "WHERE site_id = {site:String} AND touches = 'all'",
            self.params,
        )
        return self.now_ms - int(last or 0) >= int(self.settings.refit_hours * 3_600_000)

    def _changed_orders(self) -> str:
        """Order conversion ids whose order or refunds were inserted since the watermark."""
        return f"""
            SELECT concat(source, ':', order_id) FROM orders WHERE site_id = {{site:String}} AND {NEWER}
            UNION DISTINCT
            SELECT concat(source, ':', if(order_id != '', order_id, payment_id)) FROM refunds
            WHERE site_id = {{site:String}} AND {NEWER}"""

    def _person_scope(self, scratch: Stages, visitors: str, changed_conversions: str) -> str:
        """Persons whose conversions must be re-credited (now or before this run), each with the
        time from which their conversions can have changed."""
        changed_orders = self._changed_orders()
        return scratch.create(
            "persons",
            "person_id String, since DateTime64(3, 'UTC')",
            f"""
            SELECT person_id, min(since) FROM (
                SELECT if(m.person_id != '', m.person_id, concat('visitor:', v.visitor_id)) AS person_id,
                       v.since AS since
                FROM {visitors} AS v
                LEFT JOIN (SELECT id_value, person_id FROM identity_map FINAL
                           WHERE site_id = {{site:String}} AND id_type = 'visitor') AS m
                    ON m.id_value = v.visitor_id
                UNION ALL
                -- the users signed in on those browsers, now or before (any version of a session:
                -- a stale person only adds harmless work)
                SELECT u.person_id, v.since FROM sessions AS s
                INNER JOIN {visitors} AS v ON v.visitor_id = s.visitor_id
                INNER JOIN ({USER_MAP}) AS u ON u.user_id = s.user_id
                WHERE s.site_id = {{site:String}} AND s.user_id != ''
                UNION ALL
                -- any version: a stale person only adds harmless work
                SELECT c.person_id, v.since FROM attribution_credits AS c
                INNER JOIN {visitors} AS v ON v.visitor_id = c.visitor_id
                WHERE c.site_id = {{site:String}}
                UNION ALL
                SELECT person_id, {EPOCH} FROM identity_map
                WHERE site_id = {{site:String}} AND id_type != 'visitor' AND {NEWER}
                UNION ALL
                SELECT person_id, {EPOCH} FROM {changed_conversions}
                UNION ALL
                SELECT person_id, {EPOCH} FROM attribution_credits FINAL
                WHERE site_id = {{site:String}} AND conversion_id IN ({changed_orders}))
            GROUP BY person_id
            """,
            self.params,
        )

    # -- rollups -----------------------------------------------------------------------------

    def _rollups(self, scratch: Stages, dates: str | None) -> None:
        if dates is not None:
            self.report.days = self._count(f"SELECT uniqExact(date) FROM {dates}")
        for table, select in rollups.ROLLUPS.items():
            scope = f"site_id = {{site:String}} AND {KEPT_DAYS}" + (
                f" AND date IN (SELECT date FROM {dates})" if dates else ""
            )
            kept_select = f"SELECT * FROM ({rollups.rollup_select(select, dates)}) WHERE {KEPT_DAYS}"
            replace_scope(self.sql, table, kept_select, scope, self.version, self.params)
        if dates is None:
            self.report.days = self._count(
                "SELECT uniqExact(date) FROM daily_metrics FINAL WHERE site_id = {site:String}"
            )

    def _write(
        self,
        scratch: Stages,
        dates: str | None,
        table: str,
        key: tuple[str, ...],
        scope: str,
        select: str,
        date_column: str,
        label: str = "",
        *,
        kept: str,
    ) -> None:
        """Replace `scope` of `table` with `select`, both limited to the `kept` horizon; note the
        days whose rows actually changed.

        A returning visitor's old sessions are recomputed but usually come out the same; only
        days with a row added, removed or different need their rollups redone.
        """
        scope, select = f"({scope}) AND {kept}", f"SELECT * FROM ({select}) WHERE {kept}"
        if dates is None:
            replace_scope(self.sql, table, select, scope, self.version, self.params)
            return
        content = ", ".join(c for c in table_columns(self.sql, table) if c not in ("version", "is_deleted"))
        fingerprint = (
            f"cityHash64({', '.join(key)}) AS k, cityHash64({content}) AS h, toDate({date_column}) AS d"
        )
        before = scratch.create(
            f"before_{label or table}",
            "k UInt64, h UInt64, d Date",
            f"SELECT {fingerprint} FROM {table} FINAL WHERE {scope}",
            self.params,
        )
        existed = self._count(f"SELECT count() FROM {before}") > 0
        replace_scope(self.sql, table, select, scope, self.version, self.params, tombstones=existed)
        after = (
            f"SELECT {fingerprint} FROM {table} "
            "WHERE site_id = {site:String} AND version = {version:UInt64} AND is_deleted = 0"
        )
        self._add_dates(
            dates,
            f"""SELECT d FROM {before} WHERE (k, h) NOT IN (SELECT k, h FROM ({after}))
                UNION ALL
                SELECT d FROM ({after}) WHERE (k, h) NOT IN (SELECT k, h FROM {before})""",
        )

    def _add_dates(self, dates: str, select: str) -> None:
        self.sql.command(f"INSERT INTO {dates} SELECT DISTINCT * FROM ({select})", self.params)


def _events_kept_days(sql: Sql) -> int | None:
    """The events table's TTL in days (its local table's on a cluster), as migrate set it."""
    [(engine_full,)] = sql.rows(
        "SELECT any(engine_full) FROM system.tables WHERE database = currentDatabase() "
        "AND name IN ('events', 'events_local') AND position(engine_full, ' TTL ') > 0"
    )
    return kept_days(str(engine_full or ""))
