"""GDPR requests: find everything stored about one person, export it, delete it.

The person is found from a user id or an email: resolution is run for the site first (so the
map is current, not as of the last scheduled run), then the person is every identifier it maps
to that person, by resolution's own rules: a browser shared by two users, or a kiosk, belongs
to neither, so one user's export or deletion never reaches another's data (issue 13).

What is theirs is then found in every warehouse table by column, so tables added later by
other features are covered without changes here:

| column(s) | matched against |
| --- | --- |
| `visitor_id`, `anonymous_id` | the person's visitor/anonymous/user ids |
| `user_id` | their user ids |
| `email` / `email_sha256` | their emails / email hashes |
| `person_id` | their person ids (resolved, and those people rows carry) |
| `customer_id_type` + `customer_id` | their typed customer ids (Stripe, Shopify, user, …) |
| `from_type/from_id`, `to_type/to_id` | links touching any of their identifiers |
| `id_type` + `id_value` | identity_map rows of their identifiers |
| `source` + `order_id` (tables without person columns) | line items and refunds of their orders |

Deletion is `ALTER TABLE … DELETE` (a mutation), waited for: matching rows are rewritten out of
their parts before the command returns. See docs/identity.md for when the bytes are gone. On a
self-managed cluster (`touchline migrate --cluster`) a table is a Distributed table over local
ones, which takes no mutation: the delete goes to `<local> ON CLUSTER <cluster>` instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from touchline.identity.resolve import VISITOR_NAMESPACE, person_id, resolve
from touchline.identity.rows import email_sha256, normalize_email
from touchline.warehouse.sql import Binds, Sql
from touchline.warehouse.versions import bump

SKIPPED_TABLES = ("schema_migrations",)


class SubjectNotFound(LookupError):
    """Nothing is stored under that user id or email."""


@dataclass
class Subject:
    """One person's identifiers on one site."""

    site_id: str
    identifiers: set[tuple[str, str]] = field(default_factory=set)
    person_ids: set[str] = field(default_factory=set)
    emails: set[str] = field(default_factory=set)

    def values(self, *types: str) -> set[str]:
        return {value for id_type, value in self.identifiers if id_type in types}

    @property
    def visitor_ids(self) -> set[str]:
        return self.values(*VISITOR_NAMESPACE)

    @property
    def email_hashes(self) -> set[str]:
        return self.values("email_sha256") | {email_sha256(e) for e in self.emails}


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[str, ...]
    replacing: bool
    mutate: str = ""  # what `ALTER TABLE` names to delete rows: the table, or its cluster's local tables

    @property
    def mutation_target(self) -> str:
        return self.mutate or self.name


def find_subject(sql: Sql, site_id: str, *, user_id: str | None = None, email: str | None = None) -> Subject:
    if not user_id and not email:
        raise ValueError("give a user id or an email")
    subject = Subject(site_id)
    if user_id:
        subject.identifiers.add(("user", user_id))
    if email:
        subject.emails.add(normalize_email(email))
        subject.identifiers.add(("email_sha256", email_sha256(email)))
    resolve(sql, site_id)
    _add_resolved(sql, subject)
    _add_people(sql, subject)
    return subject


def _add_resolved(sql: Sql, subject: Subject) -> None:
    """Persons resolution gave these identifiers, and every identifier mapped to them (this is
    how a cookieless id mapped to this person alone is included)."""
    binds = Binds(site=subject.site_id)
    condition = _identifier_condition("id_type", "id_value", subject.identifiers, binds)
    persons = {
        str(p)
        for (p,) in sql.rows(
            f"SELECT DISTINCT person_id FROM identity_map FINAL "
            f"WHERE site_id = {{site:String}} AND is_deleted = 0 AND ({condition})",
            binds.params,
        )
    }
    persons |= {person_id(t, v) for t, v in subject.identifiers if t in ("user", "email_sha256")}
    subject.person_ids |= persons
    for id_type, value in sql.rows(
        "SELECT id_type, id_value FROM identity_map FINAL WHERE site_id = {site:String} "
        "AND is_deleted = 0 AND person_id IN {persons:Array(String)}",
        {"site": subject.site_id, "persons": sorted(persons)},
    ):
        subject.identifiers.add((str(id_type), str(value)))


def _add_people(sql: Sql, subject: Subject) -> None:
    binds = Binds(site=subject.site_id)
    conditions = [_in("person_id", subject.person_ids, binds)] if subject.person_ids else []
    if users := subject.values("user"):
        conditions.append(_in("user_id", users, binds))
    if hashes := subject.email_hashes:
        conditions.append(_in("email_sha256", hashes, binds))
    if not conditions:
        return
    for pid, email in sql.rows(
        "SELECT person_id, email FROM people FINAL WHERE site_id = {site:String} AND is_deleted = 0 "
        f"AND ({' OR '.join(conditions)})",
        binds.params,
    ):
        subject.person_ids.add(str(pid))
        if email:
            subject.emails.add(str(email))


def _in(column: str, values: Iterable[str], binds: Binds) -> str:
    return f"{column} IN {binds.add('Array(String)', sorted(set(values)))}"


def _identifier_condition(
    type_column: str, value_column: str, identifiers: Iterable[tuple[str, str]], binds: Binds
) -> str:
    """SQL matching any of the identifiers (visitor/anonymous/user ids by value alone)."""
    ids = set(identifiers)
    namespaced = {v for t, v in ids if t in VISITOR_NAMESPACE}
    typed = sorted((t, v) for t, v in ids if t not in VISITOR_NAMESPACE)
    parts = []
    if namespaced:
        parts.append(
            f"({type_column} IN ('visitor', 'anonymous', 'user') AND {_in(value_column, namespaced, binds)})"
        )
    if typed:
        pairs = binds.add("Array(Tuple(String, String))", typed)
        parts.append(f"({type_column}, {value_column}) IN {pairs}")
    return " OR ".join(parts) or "0"


def personal_tables(sql: Sql) -> list[Table]:
    """Every table of the current database with a `site_id` column and something personal."""
    columns: dict[str, list[str]] = {}
    for table, column in sql.rows(
        "SELECT table, name FROM system.columns WHERE database = currentDatabase() ORDER BY table, position"
    ):
        columns.setdefault(str(table), []).append(str(column))
    engines: dict[str, str] = {}
    mutate: dict[str, str] = {}
    for name, engine, engine_full in sql.rows(
        "SELECT name, engine, engine_full FROM system.tables WHERE database = currentDatabase() "
        "AND NOT is_temporary"
    ):
        engines[str(name)] = str(engine)
        if str(engine) == "Distributed" and (target := _distributed_target(str(engine_full))):
            mutate[str(name)] = target
    behind = {target.split(" ")[0] for target in mutate.values()}  # the local tables
    return [
        Table(
            name,
            tuple(cols),
            "Replacing" in engines.get(mutate.get(name, name).split(" ")[0], ""),
            mutate.get(name, ""),
        )
        for name, cols in sorted(columns.items())
        if name not in SKIPPED_TABLES
        and name not in behind
        and not name.startswith("_")
        and "site_id" in cols
        and engines.get(name, "View") not in ("View", "MaterializedView")
    ]


def _distributed_target(engine_full: str) -> str:
    """`events_local ON CLUSTER `tl`` from `Distributed(tl, db, events_local, key)` ('' if not ours)."""
    match = re.match(r"Distributed\(\s*'?`?([\w-]+)`?'?\s*,\s*[^,]+,\s*'?`?(\w+)`?'?", engine_full)
    return f"{match[2]} ON CLUSTER `{match[1]}`" if match else ""


def row_condition(table: Table, subject: Subject, orders: set[tuple[str, str]], binds: Binds) -> str | None:
    """The WHERE (without the site) selecting this person's rows of a table, or None."""
    cols = set(table.columns)
    parts: list[str] = []

    def match(column: str, values: set[str]) -> None:
        if column in cols and values:
            parts.append(_in(column, values, binds))

    match("visitor_id", subject.visitor_ids)
    match("anonymous_id", subject.visitor_ids)
    match("user_id", subject.values("user"))
    match("email", subject.emails)
    match("email_sha256", subject.email_hashes)
    match("person_id", subject.person_ids)
    if {"customer_id_type", "customer_id"} <= cols:
        parts.append(_identifier_condition("customer_id_type", "customer_id", subject.identifiers, binds))
    for side in ("from", "to"):
        if {f"{side}_type", f"{side}_id"} <= cols:
            parts.append(_identifier_condition(f"{side}_type", f"{side}_id", subject.identifiers, binds))
    if {"id_type", "id_value"} <= cols:
        parts.append(_identifier_condition("id_type", "id_value", subject.identifiers, binds))
    if not parts and {"source", "order_id"} <= cols and orders:
        pairs = binds.add("Array(Tuple(String, String))", sorted(orders))
        parts.append(f"(source, order_id) IN {pairs}")
    parts = [p for p in parts if p != "0"]
    return " OR ".join(parts) if parts else None


def _orders_of(sql: Sql, tables: list[Table], subject: Subject) -> set[tuple[str, str]]:
    orders = next((t for t in tables if t.name == "orders"), None)
    if orders is None:
        return set()
    binds = Binds(site=subject.site_id)
    condition = row_condition(orders, subject, set(), binds)
    if condition is None:
        return set()
    return {
        (str(s), str(o))
        for s, o in sql.rows(
            f"SELECT DISTINCT source, order_id FROM orders WHERE site_id = {{site:String}} AND ({condition})",
            binds.params,
        )
    }


def export(sql: Sql, subject: Subject) -> dict[str, Any]:
    """Everything stored about the person, table by table (current versions: FINAL)."""
    tables = personal_tables(sql)
    orders = _orders_of(sql, tables, subject)
    found: dict[str, list[dict[str, Any]]] = {}
    for table in tables:
        binds = Binds(site=subject.site_id)
        condition = row_condition(table, subject, orders, binds)
        if condition is None:
            continue
        final = " FINAL" if table.replacing else ""
        rows = sql.rows(
            f"SELECT {', '.join(f'`{c}`' for c in table.columns)} FROM {table.name}{final} "
            f"WHERE site_id = {{site:String}} AND ({condition})",
            binds.params,
        )
        if rows:
            found[table.name] = [
                {c: _plain(v) for c, v in zip(table.columns, row, strict=True)} for row in rows
            ]
    return {
        "site_id": subject.site_id,
        "person_ids": sorted(subject.person_ids),
        "identifiers": [{"type": t, "value": v} for t, v in sorted(subject.identifiers)],
        "emails": sorted(subject.emails),
        "tables": found,
    }


def delete(sql: Sql, subject: Subject) -> dict[str, int]:
    """Delete the person's rows from every table; returns rows matched per table."""
    tables = personal_tables(sql)
    orders = _orders_of(sql, tables, subject)
    deleted: dict[str, int] = {}
    for table in tables:
        binds = Binds(site=subject.site_id)
        condition = row_condition(table, subject, orders, binds)
        if condition is None:
            continue
        where = f"site_id = {{site:String}} AND ({condition})"
        [(count,)] = sql.rows(f"SELECT count() FROM {table.name} WHERE {where}", binds.params)
        if int(count):
            sql.command(
                f"ALTER TABLE {table.mutation_target} DELETE WHERE {where} SETTINGS mutations_sync = 2",
                binds.params,
            )
            deleted[table.name] = int(count)
    # The query API's cache must not answer from the deleted rows (a mutation moves no version).
    bump(sql, subject.site_id, deleted)
    return deleted


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    # Arrays (journeys' touch times) and maps hold the same kinds of values.
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value
