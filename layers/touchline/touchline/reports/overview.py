"""The overview report: traffic, engagement, revenue and conversion for a period, with top lists.

From `sessions FINAL` (sessions dated by their start), `events FINAL` (top pages) and
`attribution_credits FINAL` (conversions and order revenue, dated by when they happened). The
JSON form is the contract the HTTP API serves (docs/attribution.md).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from touchline.reports import QueryRunner, period, period_params, render_table
from touchline.reports.revenue import money

TOP = 10
BREAKDOWNS = {"sources": "source", "channels": "channel", "countries": "country", "devices": "device_type"}


@dataclass
class OverviewReport:
    site_id: str
    start: datetime | None
    end: datetime | None
    totals: dict[str, Any]
    revenue: dict[str, Decimal]
    top: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "site_id": self.site_id,
            "from": self.start.isoformat() if self.start else None,
            "to": self.end.isoformat() if self.end else None,
            "totals": {
                **self.totals,
                "revenue": [{"currency": c, "amount": money(a, c)} for c, a in sorted(self.revenue.items())],
            },
            **{f"top_{name}": rows for name, rows in self.top.items()},
        }

    def to_json(self) -> str:
        return json.dumps(self.as_dict())

    def to_table(self) -> str:
        t = self.totals
        revenue = ", ".join(f"{money(a, c)} {c}" for c, a in sorted(self.revenue.items())) or "-"
        lines = [
            render_table(
                [
                    "visitors",
                    "sessions",
                    "pageviews",
                    "bounce rate",
                    "visit duration",
                    "conversions",
                    "conversion rate",
                    "revenue",
                ],
                [
                    [
                        str(t["visitors"]),
                        str(t["sessions"]),
                        str(t["pageviews"]),
                        f"{t['bounce_rate'] * 100:.1f}%",
                        f"{t['visit_duration_s']:.0f}s",
                        str(t["conversions"]),
                        f"{t['conversion_rate'] * 100:.2f}%",
                        revenue,
                    ]
                ],
            )
        ]
        for name, rows in self.top.items():
            if rows:
                headers = list(rows[0])
                lines.append(f"\ntop {name}")
                lines.append(render_table(headers, [[str(r[h]) for h in headers] for r in rows]))
        return "\n".join(lines)


def overview_report(
    run: QueryRunner, site_id: str, start: datetime | None, end: datetime | None
) -> OverviewReport:
    params = period_params(site_id, start, end)
    sessions_where = _where("session_start", start, end)
    _, totals = run(
        f"""SELECT uniqExact(visitor_id), count(), sum(pageviews), sum(is_bounce), avg(duration_s)
            FROM sessions FINAL WHERE {sessions_where}""",
        params,
    )
    visitors, session_count, pageviews, bounces, duration = totals[0] if totals else (0, 0, 0, 0, 0)
    credits_where = _where("converted_at", start, end) + " AND model = 'last_touch'"
    _, conversion_rows = run(
        f"""SELECT uniqExact(conversion_id), uniqExactIf(visitor_id, visitor_id != '')
            FROM attribution_credits FINAL WHERE {credits_where}""",
        params,
    )
    conversions, converting_visitors = conversion_rows[0] if conversion_rows else (0, 0)
    _, revenue_rows = run(
        f"""SELECT currency, toString(sum(attributed_revenue)) FROM attribution_credits FINAL
            WHERE {credits_where} AND conversion_kind = 'order' GROUP BY currency""",
        params,
    )
    sessions_n = int(session_count or 0)
    visitors_n = int(visitors or 0)
    report = OverviewReport(
        site_id,
        start,
        end,
        totals={
            "visitors": visitors_n,
            "sessions": sessions_n,
            "pageviews": int(pageviews or 0),
            "bounce_rate": round(int(bounces or 0) / sessions_n, 4) if sessions_n else 0.0,
            "visit_duration_s": round(float(duration or 0), 1) if sessions_n else 0.0,
            "conversions": int(conversions or 0),
            "conversion_rate": round(int(converting_visitors or 0) / visitors_n, 4) if visitors_n else 0.0,
        },
        revenue={str(c): Decimal(str(a)) for c, a in revenue_rows},
    )
    _, pages = run(
        f"""SELECT pathname, count(), uniqExact(visitor_id) FROM events FINAL
            WHERE {_where("timestamp", start, end)} AND event_type = 'pageview'
            GROUP BY pathname ORDER BY count() DESC, pathname LIMIT {TOP}""",
        params,
    )
    report.top["pages"] = [{"page": p, "pageviews": int(n), "visitors": int(v)} for p, n, v in pages]
    for name, column in BREAKDOWNS.items():
        _, rows = run(
            f"""SELECT {column}, uniqExact(visitor_id) AS visitors, count() AS sessions
                FROM sessions FINAL WHERE {sessions_where}
                GROUP BY {column} ORDER BY visitors DESC, sessions DESC, {column} LIMIT {TOP}""",
            params,
        )
        label = column.removesuffix("_type")
        report.top[name] = [{label: value, "visitors": int(v), "sessions": int(s)} for value, v, s in rows]
    return report


def _where(column: str, start: datetime | None, end: datetime | None) -> str:
    return "site_id = {site:String}" + period(column, start, end)
