"""The migration files, rewritten for a self-managed sharded and replicated ClickHouse cluster.

There is one copy of the schema: the statements of `migrations/NNNN_name.sql`. For a cluster each
statement is rewritten here, never hand-copied:

* `CREATE TABLE t (…) ENGINE = XMergeTree(args) …` becomes a local table `t_local ON CLUSTER`
  with `ENGINE = ReplicatedXMergeTree('<keeper path>', '{replica}', args)` (`{shard}`/`{replica}`
  are the server's macros), plus `t ON CLUSTER AS t_local ENGINE = Distributed(…)`. Readers and
  writers keep using `t`, as on a single server; only mutations and merges address `t_local`.
* `ALTER TABLE t` column changes go to both tables (a Distributed table computes the DEFAULTs of
  the rows inserted through it, so its columns must match); mutations, TTL and settings go to
  `t_local` only.
* `CREATE MATERIALIZED VIEW v TO t AS SELECT … FROM s …` (the query cache's data versions) becomes
  `v ON CLUSTER … TO t_local AS SELECT … FROM s_local …`: a view on each node watches the blocks
  inserted into that node's local table (one replica per shard receives each, and replication
  copies both its rows and the view's), and readers see the sum through the Distributed `t`.
* `CREATE VIEW v AS …` (a plain view: `shopping_carts`) becomes `v ON CLUSTER AS …`, reading the
  Distributed tables it names.
* `non_replicated_deduplication_window` is dropped: replicated tables always deduplicate inserts,
  over the server's `replicated_deduplication_window` (10,000 blocks / 1 hour by default on
  current versions, more than the 1,000 blocks the single-server tables ask for).

The sharding key puts all of a site's rows on one shard (`site_id`, the default) or, for sites
too big for one shard, spreads `events` and `sessions` by visitor (`visitor`): docs/deploy.md,
"Self-managed cluster", says which queries decide it. Any statement this module cannot rewrite is
an error naming the migration, so a new kind of statement cannot silently skip the cluster.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

ShardsBy = Literal["site_id", "visitor"]
SHARDS_BY: tuple[ShardsBy, ...] = ("site_id", "visitor")

LOCAL_SUFFIX = "_local"
# `{shard}` and `{replica}` are each server's macros; `{database}` is expanded on creation.
DEFAULT_KEEPER_PATH = "/clickhouse/tables/{shard}/{database}/"

# With --shards-by visitor these tables are spread by (site_id, visitor_id); all others stay
# together by site. Every version of one of their rows has the same visitor, so FINAL still
# sees them all on one shard.
VISITOR_SHARDED = frozenset({"events", "sessions"})
# Tables that belong to an organisation rather than a site (`site_id` may be empty): by org.
ORG_SHARDED = frozenset({"audit_log"})

# ALTER commands a Distributed table must mirror (its columns and their DEFAULTs).
_COLUMN_COMMANDS = ("ADD COLUMN", "DROP COLUMN", "MODIFY COLUMN", "RENAME COLUMN", "COMMENT COLUMN")
# ALTER commands that act on stored parts: the local tables only.
_LOCAL_COMMANDS = (
    "MATERIALIZE COLUMN",
    "CLEAR COLUMN",
    "MODIFY TTL",
    "REMOVE TTL",
    "MATERIALIZE TTL",
    "MODIFY SETTING",
    "RESET SETTING",
    "ADD INDEX",
    "DROP INDEX",
    "MATERIALIZE INDEX",
    "CLEAR INDEX",
    "ADD PROJECTION",
    "DROP PROJECTION",
    "MATERIALIZE PROJECTION",
    "ADD CONSTRAINT",
    "DROP CONSTRAINT",
    "DELETE WHERE",
    "UPDATE ",
)

_IDENT = r"`?([A-Za-z_][A-Za-z0-9_]*)`?"
_CREATE = re.compile(
    rf"^CREATE\s+TABLE\s+(IF\s+NOT\s+EXISTS\s+)?{_IDENT}\s*\((?P<columns>.*)\)\s*"
    r"ENGINE\s*=\s*(?P<engine>[A-Za-z]*MergeTree)(?:\s*\((?P<args>[^()]*)\))?(?P<rest>.*)$",
    re.DOTALL | re.IGNORECASE,
)
_VIEW = re.compile(
    rf"^CREATE\s+MATERIALIZED\s+VIEW\s+(IF\s+NOT\s+EXISTS\s+)?{_IDENT}\s+TO\s+{_IDENT}\s+AS\s+"
    rf"(?P<head>SELECT\s.*?\sFROM\s+){_IDENT}(?P<tail>\s.*)?$",
    re.DOTALL | re.IGNORECASE,
)
_PLAIN_VIEW = re.compile(
    rf"^CREATE\s+VIEW\s+(IF\s+NOT\s+EXISTS\s+)?{_IDENT}\s+AS\s+(?P<body>.*)$", re.DOTALL | re.IGNORECASE
)
_ALTER = re.compile(rf"^ALTER\s+TABLE\s+{_IDENT}\s+(?P<body>.*)$", re.DOTALL | re.IGNORECASE)
_DROP = re.compile(rf"^DROP\s+TABLE\s+(IF\s+EXISTS\s+)?{_IDENT}\s*$", re.IGNORECASE)
_WINDOW = r"non_replicated_deduplication_window\s*=\s*\d+"
_WINDOW_SETTING = (
    (re.compile(rf",\s*{_WINDOW}", re.IGNORECASE), ""),
    (re.compile(rf"{_WINDOW}\s*,\s*", re.IGNORECASE), ""),
    (re.compile(rf"\s*SETTINGS\s+{_WINDOW}", re.IGNORECASE), ""),
)


class ClusterDDLError(ValueError):
    """A migration statement has no cluster form (extend `touchline.warehouse.cluster`)."""


@dataclass(frozen=True)
class ClusterTarget:
    """Where and how to lay the schema out: `touchline migrate --cluster NAME --shards-by …`."""

    cluster: str
    database: str
    shards_by: ShardsBy = "site_id"
    keeper_path: str = DEFAULT_KEEPER_PATH

    def __post_init__(self) -> None:
        for label, value in (("cluster", self.cluster), ("database", self.database)):
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", value):
                raise ClusterDDLError(f"{label} name {value!r} must be letters, digits, '_' or '-'")
        if self.shards_by not in SHARDS_BY:
            raise ClusterDDLError(f"--shards-by must be one of {', '.join(SHARDS_BY)}")
        if "'" in self.keeper_path or not self.keeper_path.endswith("/"):
            raise ClusterDDLError("the Keeper path must end with '/' and contain no quote")

    @property
    def on_cluster(self) -> str:
        return f"ON CLUSTER `{self.cluster}`"

    def sharding_key(self, table: str) -> str:
        if table in ORG_SHARDED:
            return "cityHash64(org_id)"
        if self.shards_by == "visitor" and table in VISITOR_SHARDED:
            return "cityHash64(site_id, visitor_id)"
        return "cityHash64(site_id)"

    def create_database(self) -> str:
        return f"CREATE DATABASE IF NOT EXISTS `{self.database}` {self.on_cluster}"

    def history_table(self) -> str:
        """`schema_migrations` on every node, one replica set across the whole cluster (no
        `{shard}` in its path), so each node reads the same history locally."""
        path = "/clickhouse/tables/all/{database}/schema_migrations"
        return (
            f"CREATE TABLE IF NOT EXISTS schema_migrations {self.on_cluster} "
            "(version UInt32, name String, checksum String,"
            " applied_at DateTime64(3, 'UTC') DEFAULT now64(3)) "
            f"ENGINE = ReplicatedMergeTree('{path}', '{{shard}}-{{replica}}') ORDER BY version"
        )

    def rewrite(self, statement: str, where: str = "") -> list[str]:
        """The cluster statements for one migration statement (`where` names it in errors)."""
        text = statement.strip()
        if match := _CREATE.match(text):
            return self._create(match, text, where)
        if match := _VIEW.match(text):
            return self._view(match, where)
        if match := _PLAIN_VIEW.match(text):
            if not match[1]:
                raise ClusterDDLError(f"{where}: CREATE VIEW must say IF NOT EXISTS to be re-runnable")
            # A plain view stores nothing: on every node, over the Distributed tables it names.
            return [f"CREATE VIEW IF NOT EXISTS {match[2]} {self.on_cluster} AS {match['body']}"]
        if match := _ALTER.match(text):
            return self._alter(match[1], match["body"], where)
        if match := _DROP.match(text):
            exists = "IF EXISTS " if match[1] else ""
            table = match[2]
            return [
                f"DROP TABLE {exists}{table} {self.on_cluster} SYNC",
                f"DROP TABLE {exists}{table}{LOCAL_SUFFIX} {self.on_cluster} SYNC",
            ]
        raise ClusterDDLError(f"{where}: no cluster form for statement: {text[:80]}…")

    def _create(self, match: re.Match[str], text: str, where: str) -> list[str]:
        if not match[1]:
            raise ClusterDDLError(f"{where}: CREATE TABLE must say IF NOT EXISTS to be re-runnable")
        table, columns, engine = match[2], match["columns"], match["engine"]
        if not re.search(r"(^|[\s(,])site_id\s", columns):
            raise ClusterDDLError(f"{where}: {table} has no site_id column to shard by")
        if engine.lower().startswith("replicated"):
            raise ClusterDDLError(f"{where}: migrations name plain *MergeTree engines; got {engine}")
        local = f"{table}{LOCAL_SUFFIX}"
        arguments = [f"'{self.keeper_path}{local}'", "'{replica}'"]
        if match["args"] and match["args"].strip():
            arguments.append(match["args"].strip())
        rest = match["rest"]
        for pattern, replacement in _WINDOW_SETTING:
            rest = pattern.sub(replacement, rest)
        return [
            f"CREATE TABLE IF NOT EXISTS {local} {self.on_cluster}\n({columns})\n"
            f"ENGINE = Replicated{engine}({', '.join(arguments)}){rest}",
            f"CREATE TABLE IF NOT EXISTS {table} {self.on_cluster} AS {local}\n"
            f"ENGINE = Distributed(`{self.cluster}`, `{self.database}`, {local}, "
            f"{self.sharding_key(table)})",
        ]

    def _view(self, match: re.Match[str], where: str) -> list[str]:
        if not match[1]:
            raise ClusterDDLError(
                f"{where}: CREATE MATERIALIZED VIEW must say IF NOT EXISTS to be re-runnable"
            )
        view, target, source, tail = match[2], match[3], match[5], match["tail"] or ""
        if re.search(r"\b(JOIN|FROM|IN)\b", tail, re.IGNORECASE):
            # A view over a join or a subquery would read one node's part of the other tables.
            raise ClusterDDLError(f"{where}: {view} must read one table only")
        return [
            f"CREATE MATERIALIZED VIEW IF NOT EXISTS {view} {self.on_cluster} TO {target}{LOCAL_SUFFIX}\n"
            f"AS {match['head']}{source}{LOCAL_SUFFIX}{tail}"
        ]

    def _alter(self, table: str, body: str, where: str) -> list[str]:
        commands, settings = _split_commands(body)
        distributed: list[str] = []
        for command in commands:
            words = " ".join(command.split()).upper()
            if words.startswith(_COLUMN_COMMANDS):
                distributed.append(command)
            elif not words.startswith(_LOCAL_COMMANDS):
                raise ClusterDDLError(f"{where}: no cluster form for ALTER command: {command[:60]}…")
        tail = f" SETTINGS {settings}" if settings else ""
        out = [f"ALTER TABLE {table}{LOCAL_SUFFIX} {self.on_cluster} {', '.join(commands)}{tail}"]
        if distributed:
            out.append(f"ALTER TABLE {table} {self.on_cluster} {', '.join(distributed)}")
        return out


def _split_commands(body: str) -> tuple[list[str], str]:
    """Split an ALTER body on top-level commas; peel off a trailing `SETTINGS …` clause."""
    parts, depth, quote, start = [], 0, "", 0
    for i, char in enumerate(body):
        if quote:
            if char == quote and body[i - 1] != "\\":
                quote = ""
        elif char in "'`\"":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(body[start:i].strip())
            start = i + 1
    parts.append(body[start:].strip())
    settings = ""
    last = re.match(r"^(?P<command>.*?)\s+SETTINGS\s+(?P<settings>[a-z_]+\s*=.*)$", parts[-1], re.DOTALL)
    if last and not parts[-1].upper().startswith(("MODIFY SETTING", "RESET SETTING")):
        parts[-1], settings = last["command"].strip(), last["settings"].strip()
    return [p for p in parts if p], settings
