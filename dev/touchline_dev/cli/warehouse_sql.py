"""`Sql` for CLI commands: through the running `touchline dev` (chdb locks its directory) or direct."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from touchline.warehouse.sql import ClientSql, Params, Sql
from touchline_dev.cli import context
from touchline_dev.cli.errors import CliError


class StackSql:
    """Statements and their parameters sent to the running stack's `/_dev/sql`."""

    def __init__(self, stack: Any) -> None:
        self._stack = stack

    def rows(self, query: str, params: Params | None = None) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self._call(query, params)["rows"]]

    def command(self, statement: str, params: Params | None = None) -> None:
        self._call(statement, params)

    def _call(self, statement: str, params: Params | None) -> Any:
        from touchline_dev.devstack.state import query_stack

        try:
            return query_stack(self._stack, statement, "json", params)
        except RuntimeError as exc:
            raise CliError(f"query failed: {exc}") from None


def warehouse_sql(directory: Path) -> Sql:
    stack = context.running_stack(directory)
    if stack is not None:
        return StackSql(stack)
    from touchline.warehouse.client import connect

    return ClientSql(connect(context.warehouse_url(directory)))
