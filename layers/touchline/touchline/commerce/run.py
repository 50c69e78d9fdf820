"""The commerce jobs for one site, each on its own cadence and watermark (seed 003's schedule).

| job | table(s) | every | recomputes |
| --- | --- | --- | --- |
| `commerce_rollups` | campaign_daily_aggregates, account_metrics_daily | 15 min | changed days; all, daily |
| `commerce_profiles` | customer_profiles, customer_models | hour | changed customers; all + fit, daily |
| `commerce_products` | products_master | hour | all, when input changed or the day turned |
| `commerce_baskets` | product_relationships | 4 hours | all, when input changed |

Quintiles, ranks, lifts and the model fits depend on every customer or order, so those jobs
recompute whole tables and write only the rows that changed (touchline.commerce.writes). The
profiles job fits its models once a day (the first run of a day, or a full one); the hourly
runs between recompute only the customers whose orders changed (their stored order signature
tells), predict them with the day's fit and rescore everyone. A full run is the same code with
every change check answered "yes", so it reproduces the incremental history under FINAL, except
the model columns, which follow the fit of the day each row was computed on; both are idempotent.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from touchline.aggregate.staging import Stages, replace_scope, stages
from touchline.commerce import baskets, models, orders, products, profiles, rollups
from touchline.commerce.baskets import BasketSettings
from touchline.commerce.models import ModelSettings
from touchline.commerce.money_sql import currency_parameters
from touchline.commerce.writes import column_types, rows_select, write_changed
from touchline.config.watermarks import Watermark, WatermarkStore
from touchline.warehouse.sql import ClientSql

if TYPE_CHECKING:
    from clickhouse_connect.driver.client import Client

ROLLUPS = "commerce_rollups"
PROFILES = "commerce_profiles"
PRODUCTS = "commerce_products"
BASKETS = "commerce_baskets"
HOUR_MS = 3_600_000
CADENCE_MS = {ROLLUPS: 0, PROFILES: HOUR_MS, PRODUCTS: HOUR_MS, BASKETS: 4 * HOUR_MS}
JOBS = (ROLLUPS, PROFILES, PRODUCTS, BASKETS)
# Rows become visible a little after their inserted_at; re-reading a margin costs nothing.
SAFETY_MARGIN_MS = 5 * 60 * 1000
NEWER = "inserted_at > fromUnixTimestamp64Milli(toInt64({since_ms:Int64}), 'UTC')"

# What each whole-table job reads: (table, "changed since" condition).
_INPUTS: dict[str, tuple[tuple[str, str], ...]] = {
    PROFILES: (
        ("orders", NEWER),
        ("refunds", NEWER),
        ("order_line_items", NEWER),
        ("identity_map", NEWER),
        ("products", "version > {since_ms:Int64}"),
    ),
    PRODUCTS: (
        ("orders", NEWER),
        ("order_line_items", NEWER),
        ("identity_map", NEWER),
        ("products", "version > {since_ms:Int64}"),
        ("events", NEWER),
        ("sessions", "version > {since_ms:Int64}"),
        ("product_reviews", NEWER),
    ),
    BASKETS: (("orders", NEWER), ("order_line_items", NEWER), ("products", "version > {since_ms:Int64}")),
}


_PREDICTION_COLUMNS = [
    ("currency", "String"), ("x", "UInt32"), ("big_t", "Float64"), ("alive_90", "Float64"),
    ("alive_365", "Float64"),
]  # fmt: skip
_MODEL_COLUMNS = [
    ("currency", "String"), ("bg", "UInt8"), ("gg", "UInt8"), ("r", "Float64"), ("alpha", "Float64"),
    ("a", "Float64"), ("b", "Float64"), ("p", "Float64"), ("q", "Float64"), ("gamma", "Float64"),
]  # fmt: skip


def _scored(
    prediction_rows: list[list[Any]], fits: list[models.SiteModel]
) -> tuple[str, str, dict[str, Any]]:
    """The predictions and the fitted models as inline tables, with the values they bind."""
    predictions, prediction_params = rows_select("pred", _PREDICTION_COLUMNS, prediction_rows)
    model_table, model_params = rows_select("model", _MODEL_COLUMNS, _model_rows(fits))
    return predictions, model_table, {**prediction_params, **model_params}


def _model_rows(fits: list[models.SiteModel]) -> list[list[Any]]:
    return [
        [
            m.currency, int(m.bgnbd is not None), int(m.gamma_gamma is not None),
            *((m.bgnbd.r, m.bgnbd.alpha, m.bgnbd.a, m.bgnbd.b) if m.bgnbd else (0.0,) * 4),
            *((m.gamma_gamma.p, m.gamma_gamma.q, m.gamma_gamma.gamma) if m.gamma_gamma else (0.0,) * 3),
        ]
        for m in fits
    ]  # fmt: skip


@dataclass(frozen=True)
class CommerceSettings:
    models: ModelSettings = field(default_factory=ModelSettings)
    baskets: BasketSettings = field(default_factory=BasketSettings)


@dataclass
class JobReport:
    job: str
    ran: bool
    reason: str  # full | first run | changed | new day | not due | unchanged
    rows_written: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    detail: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "job": self.job,
            "ran": self.ran,
            "reason": self.reason,
            "rows_written": self.rows_written,
            "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
            **({"detail": self.detail} if self.detail else {}),
        }


@dataclass
class CommerceReport:
    site_id: str
    as_of: str
    jobs: list[JobReport] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"site_id": self.site_id, "as_of": self.as_of, "jobs": [j.as_dict() for j in self.jobs]}


class CommerceRunner:
    def __init__(self, client: Client, watermarks: WatermarkStore, margin_ms: int = SAFETY_MARGIN_MS) -> None:
        self._client = client
        self._watermarks = watermarks
        self._margin_ms = margin_ms

    def run(
        self,
        site_id: str,
        settings: CommerceSettings | None = None,
        *,
        full: bool = False,
        due_only: bool = True,
        as_of: date | None = None,
        jobs: tuple[str, ...] = JOBS,
    ) -> CommerceReport:
        """Run the jobs that are due (all of them with `due_only=False`); `as_of` fixes "today"."""
        settings = settings or CommerceSettings()
        now_ms = int(self._client.query("SELECT toUnixTimestamp64Milli(now64(3))").result_rows[0][0])
        day = as_of or datetime.fromtimestamp(now_ms / 1000, UTC).date()
        report = CommerceReport(site_id, day.isoformat())
        # Every value is a server-side parameter (`{name:Type}` in the SQL, `self.params`).
        with stages(ClientSql(self._client)) as scratch:
            shared = _SharedStage(scratch)
            for job in jobs:
                report.jobs.append(
                    _Job(
                        self._client, self._watermarks, site_id, job, settings, day, now_ms, self._margin_ms
                    ).run(full, due_only, scratch, shared)
                )
        return report


@dataclass
class _SharedStage:
    """The site's staged orders and line items, made by the first job of a run that needs them and
    read by the others: an hourly run (rollups, profiles, products, every 4 hours baskets) stages
    the orders once, not once per job. They depend only on the site and the as-of date, the same
    for every job of a run."""

    scratch: Stages
    orders: str = ""
    lines: str = ""


class _Job:
    def __init__(
        self,
        client: Client,
        watermarks: WatermarkStore,
        site_id: str,
        job: str,
        settings: CommerceSettings,
        as_of: date,
        now_ms: int,
        margin_ms: int,
    ) -> None:
        self.client = client
        self.watermarks = watermarks
        self.site_id = site_id
        self.job = job
        self.settings = settings
        self.as_of = as_of
        self.now_ms = now_ms
        self.previous = watermarks.get(site_id, job)
        self.since_ms = 0 if self.previous is None else self.previous.position_ms - margin_ms
        self.version = max(now_ms, (self.previous.version + 1) if self.previous else 0)
        self.params: dict[str, Any] = {
            "site": site_id,
            "version": self.version,
            "as_of": as_of,
            "since_ms": self.since_ms,
            "min_co_purchases": settings.baskets.min_co_purchases,
            "lift_threshold": settings.baskets.lift_threshold,
            **currency_parameters(),
        }

    def run(self, full: bool, due_only: bool, scratch: Stages, shared: _SharedStage) -> JobReport:
        reason = self._reason(full, due_only)
        if reason in ("not due", "unchanged"):
            if reason == "unchanged":  # nothing to do up to now: the next check starts here
                self.watermarks.put(self.site_id, self.job, Watermark(self.now_ms, self.previous.version))  # type: ignore[union-attr]
            return JobReport(self.job, False, reason)
        report = JobReport(self.job, True, reason)
        action: Callable[[Stages, JobReport], None] = {
            ROLLUPS: self._rollups,
            PROFILES: self._profiles,
            PRODUCTS: self._products,
            BASKETS: self._baskets,
        }[self.job]
        self.shared = shared
        action(scratch, report)
        self.watermarks.put(self.site_id, self.job, Watermark(self.now_ms, self.version))
        return report

    def _reason(self, full: bool, due_only: bool) -> str:
        if full:
            return "full"
        if self.previous is None:
            return "first run"
        if due_only and self.now_ms - self.previous.position_ms < CADENCE_MS[self.job]:
            return "not due"
        last_day = datetime.fromtimestamp(self.previous.position_ms / 1000, UTC).date()
        if (
            self.job in (ROLLUPS, PROFILES, PRODUCTS)
            and last_day != datetime.fromtimestamp(self.now_ms / 1000, UTC).date()
        ):
            return "new day"
        if self.job == ROLLUPS:
            return "changed"  # the run itself finds which days changed (maybe none)
        for table, condition in _INPUTS[self.job]:
            found = self.client.query(
                f"SELECT 1 FROM {table} WHERE site_id = {{site:String}} AND {condition} LIMIT 1",
                parameters=self.params,
            ).result_rows
            if found:
                return "changed"
        return "unchanged"

    def _step(self, report: JobReport, name: str, action: Callable[[], Any]) -> Any:
        started = time.perf_counter()
        result = action()
        report.seconds[name] = report.seconds.get(name, 0.0) + time.perf_counter() - started
        return result

    def _stage(self, scratch: Stages, report: JobReport, with_lines: bool = True) -> tuple[str, str]:
        """The run's staged orders (and lines), staged now if no earlier job of the run did."""
        shared = self.shared
        if not shared.orders:
            shared.orders = self._step(report, "orders", lambda: orders.stage_orders(scratch, self.params))
        if with_lines and not shared.lines:
            shared.lines = self._step(
                report, "lines", lambda: orders.stage_lines(scratch, shared.orders, self.params)
            )
        return shared.orders, shared.lines if with_lines else ""

    # -- jobs ----------------------------------------------------------------------------------

    def _profiles(self, scratch: Stages, report: JobReport) -> None:
        if report.reason == "changed":
            staged, _ = self._stage(scratch, report, with_lines=False)
            fits = self._todays_fits(staged)
            if fits is not None:
                self._changed_profiles(scratch, report, staged, fits)
                return
        self._all_profiles(scratch, report)

    def _todays_fits(self, staged: str) -> list[models.SiteModel] | None:
        """The fits stored today for every currency the customers pay in, when every stored
        profile is of today too (its days-since columns hold); else None: fit and score all."""
        stored = models.stored_models(self.client, self.site_id, self.as_of)
        currencies = {
            str(r[0])
            for r in self.client.query(
                f"SELECT DISTINCT currency FROM {staged} WHERE person_id != ''"
            ).result_rows
        }
        stale = self.client.query(
            "SELECT count() FROM customer_profiles FINAL "
            "WHERE site_id = {site:String} AND as_of != {as_of:Date}",
            parameters=self.params,
        ).result_rows[0][0]
        if stale or not currencies <= set(stored):
            return None
        return [stored[c] for c in sorted(currencies)]

    def _changed_profiles(
        self, scratch: Stages, report: JobReport, staged: str, fits: list[models.SiteModel]
    ) -> None:
        """The hourly run between two daily fits: only the customers whose orders, refunds, lines
        or identity changed are summarised and predicted (with today's fit); every customer is
        rescored (quintiles move), and only rows that changed are written."""
        changed = self._step(
            report,
            "changed",
            lambda: scratch.create(
                "changed",
                "person_id String, currency String",
                profiles.changed_select(staged, NEWER),
                self.params,
            ),
        )
        theirs = self._step(
            report,
            "their orders",
            lambda: scratch.create(
                "changed_orders",
                orders.ORDER_COLUMNS,
                f"SELECT * FROM {staged} "
                f"WHERE (person_id, currency) IN (SELECT person_id, currency FROM {changed})",
                self.params,
            ),
        )
        lines = self._step(
            report, "their lines", lambda: orders.stage_lines(scratch, theirs, self.params, few=True)
        )
        customers = self._step(
            report,
            "customers",
            lambda: scratch.create(
                "customers",
                f"{profiles.CUSTOMER_COLUMNS}, changed UInt8",
                profiles.changed_customers_select(theirs, lines, changed),
                self.params,
            ),
        )
        prediction_rows, fits = self._step(
            report,
            "predict",
            lambda: models.prediction_rows(
                self.client, f"(SELECT * FROM {customers} WHERE changed = 1)", fits
            ),
        )
        predictions, model_table, scored_params = _scored(prediction_rows, fits)
        report.rows_written = self._step(
            report,
            "write",
            lambda: write_changed(
                self.client,
                scratch,
                "customer_profiles",
                profiles.changed_profiles_select(customers, model_table, predictions),
                ("person_id", "currency"),
                self.version,
                {**self.params, **scored_params},
                scope=f"SELECT person_id, currency FROM {changed}",
            ),
        )
        counted = self.client.query(f"SELECT count(), countIf(changed = 1) FROM {customers}").result_rows[0]
        report.detail = {"customers": int(counted[0]), "recomputed": int(counted[1]), "fit": "today's"}

    def _all_profiles(self, scratch: Stages, report: JobReport) -> None:
        staged, lines = self._stage(scratch, report)
        customers = self._step(
            report,
            "customers",
            lambda: scratch.create(
                "customers", profiles.CUSTOMER_COLUMNS, profiles.customers_select(staged, lines), self.params
            ),
        )
        currencies = [
            str(r[0]) for r in self.client.query(f"SELECT DISTINCT currency FROM {customers}").result_rows
        ]
        fits = self._step(
            report,
            "fit",
            lambda: [
                models.fit_site(self.client, customers, c, self.settings.models) for c in sorted(currencies)
            ],
        )
        prediction_rows, fits = self._step(
            report, "predict", lambda: models.prediction_rows(self.client, customers, fits)
        )
        predictions, model_table, scored_params = _scored(prediction_rows, fits)
        params = {**self.params, **scored_params}
        report.rows_written = self._step(
            report,
            "write",
            lambda: write_changed(
                self.client,
                scratch,
                "customer_profiles",
                profiles.profiles_select(profiles.scored(customers), model_table, predictions),
                ("person_id", "currency"),
                self.version,
                params,
            ),
        )
        model_columns = column_types(self.client, "customer_models")
        stored = [
            dict(
                zip(
                    models.MODEL_COLUMNS,
                    models.model_row(self.site_id, m, self.as_of, self.version),
                    strict=True,
                )
            )
            for m in fits
        ]
        fitted, fitted_params = rows_select(
            "fitted", model_columns, [[row[name] for name, _ in model_columns] for row in stored]
        )
        write_changed(
            self.client,
            scratch,
            "customer_models",
            f"SELECT * FROM {fitted}",
            ("currency",),
            self.version,
            {**self.params, **fitted_params},
            stage=False,
        )
        report.detail = {
            "customers": int(self.client.query(f"SELECT count() FROM {customers}").result_rows[0][0]),
            "models": [
                {
                    "currency": m.currency,
                    "status": m.status,
                    "customers": m.customers,
                    **({"bgnbd": m.bgnbd.__dict__} if m.bgnbd else {}),
                    **({"gamma_gamma": m.gamma_gamma.__dict__} if m.gamma_gamma else {}),
                }
                for m in fits
            ],
        }

    def _products(self, scratch: Stages, report: JobReport) -> None:
        _, lines = self._stage(scratch, report)
        report.rows_written = self._step(
            report,
            "write",
            lambda: write_changed(
                self.client,
                scratch,
                "products_master",
                products.products_select(lines),
                ("product_id", "currency"),
                self.version,
                self.params,
            ),
        )

    def _baskets(self, scratch: Stages, report: JobReport) -> None:
        _, lines = self._stage(scratch, report)
        counts = self._step(
            report,
            "counts",
            lambda: scratch.create(
                "basket_counts", baskets.COUNT_COLUMNS, baskets.counts_select(lines), self.params
            ),
        )
        report.rows_written = self._step(
            report,
            "write",
            lambda: write_changed(
                self.client,
                scratch,
                "product_relationships",
                baskets.relationships_select(counts, lines),
                ("product_a", "product_b"),
                self.version,
                self.params,
            ),
        )

    def _rollups(self, scratch: Stages, report: JobReport) -> None:
        if report.reason == "changed" and self._step(report, "currency", self._primary_currency_moved):
            report.reason = "primary currency changed"
        if report.reason == "changed":
            staged, dates = self._changed_rollups(scratch, report)
        else:
            staged, _ = self._stage(scratch, report, with_lines=False)
            dates = self._step(report, "scope", lambda: self._all_dates(scratch, staged))
        days = int(self.client.query(f"SELECT count() FROM {dates}").result_rows[0][0])
        report.detail = {"days": days}
        if days == 0:
            return
        scope = f"site_id = {{site:String}} AND date IN (SELECT date FROM {dates})"
        for table, select in (
            ("campaign_daily_aggregates", rollups.campaigns_select(dates)),
            ("account_metrics_daily", rollups.account_select(staged, dates)),
        ):
            started = time.perf_counter()
            replace_scope(ClientSql(self.client), table, select, scope, self.version, self.params)
            report.seconds[table] = time.perf_counter() - started

    def _primary_currency_moved(self) -> bool:
        """Whether the orders since the last run changed the site's primary currency (where the
        Klaviyo statistics go): then every day is recomputed."""
        found = self.client.query(rollups.primary_currency_moved_select(NEWER), parameters=self.params)
        return bool(found.result_rows[0][0])

    def _all_dates(self, scratch: Stages, staged: str) -> str:
        select = f"""
            SELECT DISTINCT toDate(ordered_at) FROM {staged}
            UNION DISTINCT SELECT toDate(converted_at) FROM attribution_credits
            WHERE site_id = {{site:String}}
            UNION DISTINCT SELECT date FROM campaign_statistics WHERE site_id = {{site:String}}
            UNION DISTINCT SELECT date FROM flow_statistics WHERE site_id = {{site:String}}
            UNION DISTINCT SELECT date FROM account_metrics_daily WHERE site_id = {{site:String}}
            UNION DISTINCT SELECT date FROM campaign_daily_aggregates WHERE site_id = {{site:String}}"""
        return scratch.create("dates", "date Date", select, self.params)

    def _changed_rollups(self, scratch: Stages, report: JobReport) -> tuple[str, str]:
        """The changed days, and the orders their rows read, without resolving every order: the
        changed orders and their customers' (for the new-or-repeat split), then the orders of the
        days to recompute and all orders of those days' customers (their first-order day), each
        looked up by key. Rows equal those of a run over every order (rollups.account_select
        reads only the days' orders and their customers' first days)."""
        key_columns = rollups.KEY_COLUMNS

        def resolved(purpose: str, keys: str) -> str:
            return orders.stage_orders(scratch, self.params, rollups.in_keys(keys), purpose)

        def create(purpose: str, columns: str, select: str) -> str:
            return scratch.create(purpose, columns, select, self.params)

        def related(purpose: str, keys: str, persons: str = "") -> str:
            """The orders `keys` and all orders of their customers' (and `persons`'), resolved."""
            ids = create(f"{purpose}_ids", "id_value String", rollups.related_ids_select(keys, persons))
            return resolved(
                purpose, create(f"{purpose}_keys", key_columns, rollups.keys_with_ids_select(ids, keys))
            )

        def scope() -> str:
            keys = create("rollup_changed_keys", key_columns, rollups.changed_keys_select(NEWER))
            theirs = related("rollup_their_orders", keys, rollups.identity_changed_select(NEWER))
            persons = create(
                "rollup_changed_persons", "person_id String, identity UInt8",
                rollups.changed_persons_select(keys, theirs, NEWER),
            )  # fmt: skip
            return create(
                "rollup_dates", "date Date", rollups.changed_dates_select(keys, theirs, persons, NEWER)
            )

        dates = self._step(report, "scope", scope)

        def stage() -> str:
            return related(
                "rollup_orders", create("rollup_day_keys", key_columns, rollups.day_keys_select(dates))
            )

        return self._step(report, "orders", stage), dates
