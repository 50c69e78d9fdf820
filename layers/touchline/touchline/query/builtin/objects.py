"""Objects (accounts, companies) in the query API (docs/objects.md).

Three ways in:

* the `objects` view: `objects` (seen in the period by their latest call, not deleted) by
  `object:type` / `object:id` / `object:name`;
* the `relationships` view: `related_people` (people related to an object, as of now) and
  `relationships` (person-object pairs);
* attribution by account: `attributed_revenue:<model>` and `attributed_conversions:<model>` by
  an `object:*` dimension (or filtered by one) credit each conversion to every object its
  person is related to now. An account's revenue is its people's, so a person in two accounts
  counts in both, and accounts do not add up to the site's total.

A relationship's person is its member id's resolved person (identity_map), else
`visitor:<member id>`: the member id is the visitor id of the member's own calls (their
anonymousId, else their userId), so this is the person the aggregation's credits carry.
"""

from __future__ import annotations

from typing import Any

from touchline.query.builtin.tables import range_clause, site_clause
from touchline.query.compile import CompileContext, MetricContext
from touchline.query.registry import REGISTRY, Dimension, Metric, MetricRender

OBJECT_KIND = "object"


def members(ctx: CompileContext) -> str:
    """Current (object, person) pairs of the site, with the object's name."""
    site = site_clause(ctx)
    return f"""
        SELECT r.object_type AS object_type, r.object_id AS object_id, ob.name AS object_name,
               if(m.person_id != '', m.person_id, concat('visitor:', r.member_id)) AS person_id
        FROM (SELECT * FROM relationships FINAL WHERE {site} AND deleted = 0) AS r
        INNER JOIN (SELECT object_type, object_id, name FROM objects FINAL WHERE {site} AND deleted = 0) AS ob
            ON ob.object_type = r.object_type AND ob.object_id = r.object_id
        LEFT JOIN (SELECT id_value, person_id FROM identity_map FINAL
                   WHERE {site} AND id_type = 'visitor' AND is_deleted = 0) AS m
            ON m.id_value = r.member_id"""


def with_objects(ctx: CompileContext, inner: str) -> str:
    """`inner` (rows with a `person_id`) once per object its person belongs to, when the query
    groups or filters by an object dimension; unchanged otherwise."""
    if not ctx.uses_kind(OBJECT_KIND):
        return inner
    return f"""
        SELECT base.*, acc.object_type AS object_type, acc.object_id AS object_id,
               acc.object_name AS object_name
        FROM ({inner}) AS base
        INNER JOIN ({members(ctx)}) AS acc ON acc.person_id = base.person_id"""


class ObjectsTable:
    """The site's objects whose latest call is in the range (deleted ones flagged)."""

    name = "objects"
    alias = "ob"
    time_column = "ob.last_seen"

    def relation(self, ctx: CompileContext, where: str) -> str:
        inner = f"SELECT * FROM objects FINAL WHERE {site_clause(ctx)} AND {range_clause(ctx, 'last_seen')}"
        return f"FROM ({inner}) AS ob WHERE {where}"


class RelationshipsTable:
    """Current person-object pairs (whatever the date range: membership is a state)."""

    name = "relationships"
    alias = "rl"
    time_column = "toDateTime64(now(), 3, 'UTC')"

    def relation(self, ctx: CompileContext, where: str) -> str:
        return f"FROM ({members(ctx)}) AS rl WHERE {where}"


REGISTRY.table(ObjectsTable())
REGISTRY.table(RelationshipsTable())

for _name, _column, _description in (
    ("object:type", "object_type", "The object's type (Customer.io's objectTypeId, else '1')."),
    ("object:id", "object_id", "The object (the group call's groupId)."),
    ("object:name", "object_name", "The object's latest `name` trait."),
):
    _columns = {"objects": f"ob.{_column}", "relationships": f"rl.{_column}", "credits": f"c.{_column}"}
    if _column == "object_name":
        _columns["objects"] = "ob.name"
    REGISTRY.dimension(Dimension(_name, OBJECT_KIND, _columns, description=_description))


def _int(value: Any, _ctx: MetricRender) -> Any:
    return int(value or 0)


def _metric(name: str, table: str, expression: str, description: str) -> None:
    def sql(m: MetricContext) -> str:
        return m.agg(table, expression)

    REGISTRY.metric(Metric(name, OBJECT_KIND, sql, _int, description=description, tables=(table,)))


_metric("objects", "objects", "countIf(ob.deleted = 0)", "Objects seen in the period, not deleted.")
_metric("deleted_objects", "objects", "countIf(ob.deleted = 1)", "Objects whose latest call deleted them.")
_metric("related_people", "relationships", "uniqExact(rl.person_id)", "People related to the objects now.")
_metric("relationships", "relationships", "count()", "Person-object relationships now.")
