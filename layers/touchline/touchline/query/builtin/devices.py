"""The devices view of the query API (docs/devices.md): the `devices` table, read with FINAL.

A device counts in a query when its latest call (`last_seen`) falls in the date range and it
is not deleted: `"date_range": "30d"` with `metrics: ["devices"]` and `dimensions:
["device:platform"]` is "active devices per platform"; `"all"` with `people_with_push_token`
is "people with a push token". Deleted devices are counted only by `deleted_devices`.
"""

from __future__ import annotations

from typing import Any

from touchline.query.builtin.tables import range_clause, site_clause
from touchline.query.compile import CompileContext, MetricContext
from touchline.query.registry import REGISTRY, Dimension, Metric, MetricRender

HAS_TOKEN = "d.push_token_sha256 != ''"


class DevicesTable:
    """The site's devices whose latest call is in the range (deleted ones flagged, not removed)."""

    name = "devices"
    alias = "d"
    time_column = "d.last_seen"

    def relation(self, ctx: CompileContext, where: str) -> str:
        inner = f"SELECT * FROM devices FINAL WHERE {site_clause(ctx)} AND {range_clause(ctx, 'last_seen')}"
        return f"FROM ({inner}) AS d WHERE {where}"


REGISTRY.table(DevicesTable())

for _name, _column, _description in (
    ("device:platform", "d.platform", "ios, android, … (context.device.type, else the OS)."),
    ("device:manufacturer", "d.manufacturer", "context.device.manufacturer."),
    ("device:model", "d.model", "context.device.model (Customer.io: device_model)."),
    ("device:os", "d.os_name", "context.os.name (Customer.io: device_os)."),
    ("device:os_version", "d.os_version", "context.os.version."),
    ("device:app_version", "d.app_version", "context.app.version (Customer.io: app_version)."),
    ("device:has_push_token", f"if({HAS_TOKEN}, 'true', 'false')", "Whether a push token is registered."),
    ("device:id", "d.device_id", "The device (context.device.id, else token:<sha256 of the token>)."),
    ("device:person", "d.person_id", "Its person (user:<userId>, else visitor:<anonymousId>)."),
):
    REGISTRY.dimension(Dimension(_name, "device", {"devices": _column}, description=_description))


def _int(value: Any, _ctx: MetricRender) -> Any:
    return int(value or 0)


def _metric(name: str, expression: str, description: str) -> None:
    def sql(m: MetricContext) -> str:
        return m.agg("devices", expression)

    REGISTRY.metric(Metric(name, "device", sql, _int, description=description, tables=("devices",)))


for _args in (
    ("devices", "countIf(d.deleted = 0)", "Devices seen in the period (latest call), not deleted."),
    ("push_devices", f"countIf(d.deleted = 0 AND {HAS_TOKEN})", "Of those, with a push token."),
    ("device_people", "uniqExactIf(d.person_id, d.deleted = 0)", "People with a device seen in the period."),
    (
        "people_with_push_token",
        f"uniqExactIf(d.person_id, d.deleted = 0 AND {HAS_TOKEN})",
        "People with at least one device holding a push token.",
    ),
    ("deleted_devices", "countIf(d.deleted = 1)", "Devices whose latest call was Device Deleted."),
):
    _metric(*_args)
