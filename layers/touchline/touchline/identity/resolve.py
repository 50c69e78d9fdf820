"""Identity resolution: `identity_links` → `identity_map`, every identifier to one person.

The links of a site form a graph; each connected component is one person. Computed inside
ClickHouse by min-label propagation (each identifier takes the smallest label among itself and its
neighbours, repeated until nothing changes: as many rounds as the longest shortest path in a
component, a handful for real identity graphs), so the edge list never leaves the warehouse and
the same code runs on ClickHouse Cloud (scratch tables are made with `EMPTY AS SELECT`, then
filled: Cloud has no CREATE AS SELECT), on the embedded engine and through `touchline dev`.

Rules (docs/identity.md):

* `visitor`, `anonymous` and `user` ids share one namespace: an id is the same node whichever of
  the three it was linked as (an API event's visitor id is its anonymousId, or its userId when
  it has none). Every such id gets an `identity_map` row of type `visitor`, which is what the
  attribution queries join `events.visitor_id` on.
* The person id is the component's best identifier: a user id (`user:<id>`) before an email hash
  (`email_sha256:<hex>`) before an external customer id (`stripe_customer:<id>`, …) before a
  visitor id (`visitor:<id>`), the smallest value within a kind. A component with one user id
  therefore keeps `user:<id>` however many devices join it, and an unlinked visitor's person,
  `visitor:<id>`, is what the attribution queries already use for unmapped visitors.
* A cookieless visitor id (the collector's daily IP/user-agent hash: all digits) never connects
  two identifiers: it is mapped to a person only when all its links lead to the same one, so two
  people behind one IP with the same browser are never merged.
* Deterministic and idempotent: the same links give the same map; only rows whose person changed
  are written (ReplacingMergeTree, newer version), and identifiers no longer linked get a
  tombstone. Re-running is cheap and safe at any time.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from touchline.warehouse.sql import Params, Sql

VISITOR_NAMESPACE = ("visitor", "anonymous", "user")
MAX_ROUNDS = 1000

# SQL over an identifier (type column t, value column v).
_NAMESPACED = "{t} IN ('visitor', 'anonymous', 'user')"
_NODE = "if({t} IN ('visitor', 'anonymous', 'user'), concat('id:', {v}), concat({t}, ':', {v}))"
_WEAK = "({t} = 'visitor' AND match({v}, '^[0-9]{{1,20}}$'))"
_RANK = "multiIf({t} = 'user', 0, {t} = 'email_sha256', 1, {t} IN ('visitor', 'anonymous'), 3, 2)"
_PREFIX = "multiIf({t} = 'user', 'user', {t} IN ('visitor', 'anonymous'), 'visitor', {t})"


def person_id(id_type: str, value: str) -> str:
    """The person id a component anchored on this identifier gets (`user:42`, `visitor:ab…`)."""
    prefix = "user" if id_type == "user" else "visitor" if id_type in ("visitor", "anonymous") else id_type
    return f"{prefix}:{value}"


@dataclass(frozen=True, slots=True)
class ResolveResult:
    identifiers: int
    persons: int
    rounds: int
    changed: int
    removed: int
    seconds: float


def _sql(template: str, t: str, v: str) -> str:
    return template.format(t=t, v=v)


class _Scratch:
    """Uniquely named work tables, dropped afterwards whatever happens."""

    def __init__(self, sql: Sql) -> None:
        self._sql = sql
        self._run = uuid.uuid4().hex[:10]
        self.created: list[str] = []

    def name(self, label: str) -> str:
        table = f"_identity_{self._run}_{label}"
        self.created.append(table)
        return table

    def drop(self, table: str) -> None:
        self._sql.command(f"DROP TABLE IF EXISTS {table}")
        if table in self.created:
            self.created.remove(table)

    def drop_all(self) -> None:
        for table in list(self.created):
            self.drop(table)


@contextmanager
def _scratch(sql: Sql) -> Iterator[_Scratch]:
    scratch = _Scratch(sql)
    try:
        yield scratch
    finally:
        scratch.drop_all()


def resolve(sql: Sql, site_id: str | None = None, *, now_ms: int | None = None) -> ResolveResult:
    """Recompute `identity_map` for one site (or all) from `identity_links`; write only changes."""
    started = time.perf_counter()
    site = "site_id = {site:String}" if site_id else "1"
    params = {"site": site_id} if site_id else {}
    with _scratch(sql) as scratch:
        ids = scratch.name("ids")
        _create_as(
            sql,
            ids,
            "(site_id, id_type, id_value)",
            "SELECT DISTINCT site_id, id_type, id_value FROM ("
            f" SELECT site_id, from_type AS id_type, from_id AS id_value FROM identity_links FINAL"
            f"  WHERE {site} AND is_deleted = 0"
            " UNION ALL"
            f" SELECT site_id, to_type, to_id FROM identity_links FINAL WHERE {site} AND is_deleted = 0)",
            params,
        )
        edges = scratch.name("edges")
        a, b = _sql(_NODE, "from_type", "from_id"), _sql(_NODE, "to_type", "to_id")
        strong = f"NOT {_sql(_WEAK, 'from_type', 'from_id')} AND NOT {_sql(_WEAK, 'to_type', 'to_id')}"
        _create_as(
            sql,
            edges,
            "(site_id, a)",
            "SELECT site_id, a, b FROM ("
            f" SELECT site_id, {a} AS a, {b} AS b FROM identity_links FINAL"
            f"  WHERE {site} AND is_deleted = 0 AND {strong}"
            " UNION ALL"
            f" SELECT site_id, {b} AS a, {a} AS b FROM identity_links FINAL"
            f"  WHERE {site} AND is_deleted = 0 AND {strong}"
            ") WHERE a != b",
            params,
        )
        labels = scratch.name("labels0")
        i_node, i_weak = _sql(_NODE, "id_type", "id_value"), _sql(_WEAK, "id_type", "id_value")
        label = f"concat(toString({_sql(_RANK, 'id_type', 'id_value')}), '|', "
        label += f"{_sql(_PREFIX, 'id_type', 'id_value')}, ':', id_value)"
        _create_as(
            sql,
            labels,
            "(site_id, node)",
            f"SELECT site_id, {i_node} AS node, min({label}) AS label FROM {ids} "
            f"WHERE NOT {i_weak} GROUP BY site_id, node",
        )
        labels, rounds = _tiered_labels(sql, scratch, edges, labels)
        result = scratch.name("result")
        weak_side = _weak_links(site, labels)
        i_joined = _sql(_NODE, "i.id_type", "i.id_value")
        _create_as(
            sql,
            result,
            "(site_id, id_type, id_value)",
            # A strong identifier's person wins over what a cookieless id's links suggest.
            "SELECT site_id, id_type, id_value, argMin(person_id, weak) AS person_id FROM ("
            # every strong identifier, as linked
            f" SELECT i.site_id AS site_id, i.id_type AS id_type, i.id_value AS id_value,"
            f"  substring(l.label, 3) AS person_id, 0 AS weak FROM {ids} AS i"
            f"  INNER JOIN {labels} AS l ON l.site_id = i.site_id AND l.node = {i_joined}"
            f"  WHERE NOT {_sql(_WEAK, 'i.id_type', 'i.id_value')}"
            " UNION ALL"
            # and as a visitor id, which is what events.visitor_id is joined on
            f" SELECT i.site_id, 'visitor', i.id_value, substring(l.label, 3), 0 FROM {ids} AS i"
            f"  INNER JOIN {labels} AS l ON l.site_id = i.site_id AND l.node = concat('id:', i.id_value)"
            f"  WHERE {_sql(_NAMESPACED, 'i.id_type', 'i.id_value')}"
            " UNION ALL"
            f" {weak_side}"
            ") GROUP BY site_id, id_type, id_value",
            params,
        )
        version = _next_version(sql, now_ms)
        current = (
            "(SELECT site_id, id_type, id_value, person_id FROM identity_map FINAL "
            f"WHERE {site} AND is_deleted = 0)"
        )
        new_rows = (
            f"SELECT r.site_id, r.id_type, r.id_value, r.person_id FROM {result} AS r "
            f"LEFT ANTI JOIN {current} AS m ON m.site_id = r.site_id AND m.id_type = r.id_type "
            "AND m.id_value = r.id_value AND m.person_id = r.person_id"
        )
        gone_rows = (
            f"SELECT m.site_id, m.id_type, m.id_value, m.person_id FROM {current} AS m "
            f"LEFT ANTI JOIN {result} AS r ON r.site_id = m.site_id AND r.id_type = m.id_type "
            "AND r.id_value = m.id_value"
        )
        [(changed_rows,)] = sql.rows(f"SELECT count() FROM ({new_rows})", params)
        [(removed_rows,)] = sql.rows(f"SELECT count() FROM ({gone_rows})", params)
        columns = "(site_id, id_type, id_value, person_id, version, is_deleted)"
        if int(removed_rows):
            sql.command(
                f"INSERT INTO identity_map {columns} "
                f"SELECT site_id, id_type, id_value, person_id, {version}, 1 FROM ({gone_rows})",
                params,
            )
        if int(changed_rows):
            sql.command(
                f"INSERT INTO identity_map {columns} "
                f"SELECT site_id, id_type, id_value, person_id, {version}, 0 FROM ({new_rows})",
                params,
            )
        [(identifiers, persons)] = sql.rows(f"SELECT count(), uniqExact(site_id, person_id) FROM {result}")
    return ResolveResult(
        identifiers=int(identifiers),
        persons=int(persons),
        rounds=rounds,
        changed=int(changed_rows),
        removed=int(removed_rows),
        seconds=time.perf_counter() - started,
    )


def _create_as(sql: Sql, table: str, order_by: str, select: str, params: Params | None = None) -> None:
    """`CREATE TABLE … AS SELECT` in two statements: ClickHouse Cloud has no CREATE AS SELECT
    (its compatibility guide suggests `CREATE … EMPTY AS SELECT`, then an INSERT)."""
    sql.command(f"CREATE TABLE {table} ENGINE = MergeTree ORDER BY {order_by} EMPTY AS {select}", params)
    sql.command(f"INSERT INTO {table} {select}", params)


# Seed tiers, best first: user ids, then email hashes, then customer ids of any provider (the
# first character of a label is its identifier's rank). Devices (rank 3) are never seeds.
TIERS = ("0", "1", "2")


def _tiered_labels(sql: Sql, scratch: _Scratch, edges: str, labels0: str) -> tuple[str, int]:
    """Every node's person label by the no-merge rule (docs/identity.md, "Shared devices").

    Tier by tier, each still unassigned node learns the smallest and largest seed label it can
    reach; anchors (user, email, customer ids) learn only from anchors, devices from anything.
    One seed reached: that seed's person. Two or more: the node is shared and stays its own
    person. None: the next tier decides. What no tier reaches (devices linked only to devices)
    is one person per component, named by its smallest identifier as before."""
    recv = scratch.name("recv")
    sql.command(
        f"CREATE TABLE {recv} ENGINE = MergeTree ORDER BY (site_id, a) AS "
        "SELECT e.site_id AS site_id, e.a AS a, e.b AS b FROM "
        f"{edges} AS e INNER JOIN {labels0} AS la ON la.site_id = e.site_id AND la.node = e.a "
        f"INNER JOIN {labels0} AS lb ON lb.site_id = e.site_id AND lb.node = e.b "
        "WHERE NOT (substring(la.label, 1, 1) != '3' AND substring(lb.label, 1, 1) = '3')"
    )
    assigned = scratch.name("assigned")
    sql.command(
        f"CREATE TABLE {assigned} (site_id String, node String, label String) "
        "ENGINE = MergeTree ORDER BY (site_id, node)"
    )
    unassigned = (
        f"SELECT l.site_id AS site_id, l.node AS node, l.label AS label FROM {labels0} AS l "
        f"LEFT ANTI JOIN {assigned} AS x ON x.site_id = l.site_id AND x.node = l.node"
    )
    rounds = 0
    for tier in TIERS:
        state = scratch.name(f"t{tier}_0")
        sql.command(
            f"CREATE TABLE {state} ENGINE = MergeTree ORDER BY (site_id, node) AS "
            f"SELECT site_id, node, label AS own, toUInt8(substring(label, 1, 1) = '{tier}') AS seed, "
            f"if(seed = 1, label, '') AS lo, lo AS hi FROM ({unassigned})"
        )
        [(seeds,)] = sql.rows(f"SELECT count() FROM {state} WHERE seed = 1")
        step = 0
        while int(seeds):
            step += 1
            rounds += 1
            if rounds > MAX_ROUNDS:
                raise RuntimeError(f"identity resolution did not converge in {MAX_ROUNDS} rounds")
            following = scratch.name(f"t{tier}_{step}")
            sql.command(
                f"CREATE TABLE {following} ENGINE = MergeTree ORDER BY (site_id, node) AS "
                "SELECT s.site_id AS site_id, s.node AS node, s.own AS own, s.seed AS seed,"
                " if(s.seed = 1 OR empty(n.lo), s.lo, if(empty(s.lo), n.lo, least(s.lo, n.lo))) AS lo,"
                " if(s.seed = 1, s.hi, greatest(s.hi, n.hi)) AS hi "
                f"FROM {state} AS s LEFT JOIN ("
                " SELECT r.site_id AS site_id, r.a AS node, minIf(c.lo, c.lo != '') AS lo, max(c.hi) AS hi"
                f" FROM {recv} AS r INNER JOIN {state} AS c ON c.site_id = r.site_id AND c.node = r.b"
                " GROUP BY r.site_id, r.a"
                ") AS n ON n.site_id = s.site_id AND n.node = s.node"
            )
            [(changed,)] = sql.rows(
                f"SELECT count() FROM {following} AS x INNER JOIN {state} AS y "
                "ON y.site_id = x.site_id AND y.node = x.node WHERE x.lo != y.lo OR x.hi != y.hi"
            )
            scratch.drop(state)
            state = following
            if int(changed) == 0:
                break
        sql.command(
            f"INSERT INTO {assigned} (site_id, node, label) "
            f"SELECT site_id, node, if(lo = hi, lo, own) FROM {state} WHERE lo != ''"
        )
        scratch.drop(state)
    # What no tier reached: devices linked only to devices, one person per component.
    labels = scratch.name("rest0")
    sql.command(f"CREATE TABLE {labels} ENGINE = MergeTree ORDER BY (site_id, node) AS {unassigned}")
    step = 0
    while True:
        step += 1
        rounds += 1
        if rounds > MAX_ROUNDS:
            raise RuntimeError(f"identity resolution did not converge in {MAX_ROUNDS} rounds")
        following = scratch.name(f"rest{step}")
        sql.command(
            f"CREATE TABLE {following} ENGINE = MergeTree ORDER BY (site_id, node) AS "
            "SELECT l.site_id AS site_id, l.node AS node,"
            " if(empty(n.best) OR l.label <= n.best, l.label, n.best) AS label "
            f"FROM {labels} AS l LEFT JOIN ("
            " SELECT e.site_id AS site_id, e.a AS node, min(c.label) AS best"
            f" FROM {edges} AS e INNER JOIN {labels} AS c ON c.site_id = e.site_id AND c.node = e.b"
            " GROUP BY e.site_id, e.a"
            ") AS n ON n.site_id = l.site_id AND n.node = l.node"
        )
        [(changed,)] = sql.rows(
            f"SELECT count() FROM {following} AS x INNER JOIN {labels} AS y "
            "ON y.site_id = x.site_id AND y.node = x.node WHERE x.label != y.label"
        )
        scratch.drop(labels)
        labels = following
        if int(changed) == 0:
            break
    sql.command(f"INSERT INTO {assigned} (site_id, node, label) SELECT site_id, node, label FROM {labels}")
    scratch.drop(labels)
    return assigned, rounds


def _weak_links(site: str, labels: str) -> str:
    """Cookieless ids whose strong neighbours all belong to one person, with that person."""
    from_weak, to_weak = _sql(_WEAK, "from_type", "from_id"), _sql(_WEAK, "to_type", "to_id")
    to_node = _sql(_NODE, "to_type", "to_id")
    return (
        "SELECT site_id, id_type, id_value, substring(min(label), 3), 1 FROM ("
        "  SELECT w.site_id AS site_id, w.id_type AS id_type, w.id_value AS id_value, l.label AS label"
        "  FROM ("
        f"   SELECT site_id, from_type AS id_type, from_id AS id_value, {to_node} AS other"
        f"   FROM identity_links FINAL WHERE {site} AND is_deleted = 0 AND {from_weak} AND NOT {to_weak}"
        "   UNION ALL"
        f"   SELECT site_id, to_type, to_id, {_sql(_NODE, 'from_type', 'from_id')}"
        f"   FROM identity_links FINAL WHERE {site} AND is_deleted = 0 AND {to_weak} AND NOT {from_weak}"
        f"  ) AS w INNER JOIN {labels} AS l ON l.site_id = w.site_id AND l.node = w.other"
        ") GROUP BY site_id, id_type, id_value HAVING uniqExact(label) = 1"
    )


def _next_version(sql: Sql, now_ms: int | None) -> int:
    """Milliseconds now, but always above every version already written (clocks can step back)."""
    [(highest,)] = sql.rows("SELECT max(version) FROM identity_map")
    now = now_ms if now_ms is not None else int(time.time() * 1000)
    return max(now, int(highest or 0) + 1)
