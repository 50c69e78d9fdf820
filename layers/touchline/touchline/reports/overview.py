"""The overview report: traffic, engagement, revenue and conversion for a period, with top lists.

Three queries of the engine (touchline.query): the totals (visitors, visits, pageviews, bounce
rate, visit duration, last-touch conversions and the visitors whose session was their last
touch), the last-touch revenue per currency, and one top list per dimension. Sessions are dated
by their start, conversions by when they happened (docs/attribution.md).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from touchline.reports import EngineRunner, date_range, render_table
from touchline.reports.revenue import amount, money

TOP = 10
TOTALS = [
    "visitors",
    "visits",
    "pageviews",
    "bounce_rate",
    "visit_duration",
    "attributed_conversions:last_touch",
    "converting_visitors",
]
# name → (dimension, label, metrics, order metric)
BREAKDOWNS: dict[str, tuple[str, str, list[str]]] = {
    "pages": ("event:page", "page", ["pageviews", "visitors"]),
    "sources": ("visit:source", "source", ["visitors", "visits"]),
    "channels": ("visit:channel", "channel", ["visitors", "visits"]),
    "countries": ("visit:country", "country", ["visitors", "visits"]),
    "devices": ("visit:device", "device", ["visitors", "visits"]),
}
LABELS = {"visits": "sessions"}


@dataclass
class OverviewReport:
    site_id: str
    start: date | None
    end: date | None
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
                        f"{t['bounce_rate']}%",
                        f"{t['visit_duration_s']}s",
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


def overview_report(run: EngineRunner, site_id: str, start: date | None, end: date | None) -> OverviewReport:
    period = date_range(start, end)
    [row] = run({"site_id": site_id, "metrics": TOTALS, "date_range": period})["results"]
    visitors, visits, pageviews, bounce_rate, duration, conversions, converting = row["metrics"]
    revenue_rows = run(
        {
            "site_id": site_id,
            "metrics": ["attributed_revenue:last_touch"],
            "date_range": period,
            "dimensions": ["revenue:currency"],
        }
    )["results"]
    report = OverviewReport(
        site_id,
        start,
        end,
        totals={
            "visitors": visitors,
            "sessions": visits,
            "pageviews": pageviews,
            "bounce_rate": bounce_rate,
            "visit_duration_s": duration,
            "conversions": round(conversions),
            "conversion_rate": round(converting / visitors, 4) if visitors else 0.0,
        },
        revenue={r["dimensions"][0]: amount(r["metrics"][0]) for r in revenue_rows if r["metrics"][0]},
    )
    for name, (dimension, label, metrics) in BREAKDOWNS.items():
        rows = run(
            {
                "site_id": site_id,
                "metrics": metrics,
                "date_range": period,
                "dimensions": [dimension],
                "pagination": {"limit": TOP},
            }
        )["results"]
        report.top[name] = [
            {
                label: r["dimensions"][0],
                **{LABELS.get(m, m): v for m, v in zip(metrics, r["metrics"], strict=True)},
            }
            for r in rows
        ]
    return report
