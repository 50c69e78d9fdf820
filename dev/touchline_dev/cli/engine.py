"""The query engine as the CLI runs it: as the operator (every site), on this data dir's stack.

`touchline query` and `touchline report …` send their queries through the same `QueryApi` as
`POST /api/v2/query`, so they give the API's numbers; SQL goes through the running local stack
(chdb locks its directory) or straight to the warehouse, with bound parameters either way.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from touchline_dev.cli import context
from touchline_dev.cli.errors import CliError

Runner = Callable[[dict[str, Any]], dict[str, Any]]


@contextmanager
def engine_api(args: argparse.Namespace) -> Iterator[Any]:
    """The query API (`touchline.query.api.QueryApi`) on this data dir, funnels included, with
    the config table open for as long as the block runs."""
    from touchline.config.attribution_settings import AttributionSettingsStore
    from touchline.config.sites import SiteStore
    from touchline.config.watermarks import DynamoWatermarks
    from touchline.funnels.store import FunnelStore
    from touchline.query.api import QueryApi
    from touchline.query.engine import QueryEngine
    from touchline.query.sites import SiteContexts
    from touchline.query.sql import CallableWarehouse

    directory = context.data_dir(args.data_dir)
    run_sql = getattr(args, "_querier", None) or context.querier(directory)
    args._querier = run_sql
    warehouse = CallableWarehouse(lambda sql, parameters: run_sql(sql, parameters))
    with context.config_table(directory) as (client, table):
        sites = SiteContexts(
            SiteStore(client, table), AttributionSettingsStore(client, table), DynamoWatermarks(client, table)
        )
        yield QueryApi(
            QueryEngine(warehouse),
            authenticator=_NoKeys(),
            sites=sites,
            limiter=None,
            funnels=FunnelStore(client, table),
        )


@contextmanager
def engine_runner(args: argparse.Namespace) -> Iterator[Runner]:
    """A function running Stats API v2 queries (a CliError with the API's message if refused),
    with the config table open for as long as the block runs."""
    from touchline.accounts.annotations import AnnotationStore
    from touchline.auth.principal import OPERATOR
    from touchline.config.attribution_settings import AttributionSettingsStore
    from touchline.config.sites import SiteStore
    from touchline.config.watermarks import DynamoWatermarks
    from touchline.query.api import QueryApi
    from touchline.query.engine import QueryEngine
    from touchline.query.realtime import Realtime
    from touchline.query.sites import SiteContexts
    from touchline.query.sql import CallableWarehouse

    directory = context.data_dir(args.data_dir)
    # One warehouse client for all of a command's queries (a report sends several).
    run_sql = getattr(args, "_querier", None) or context.querier(directory)
    args._querier = run_sql
    warehouse = CallableWarehouse(lambda sql, parameters: run_sql(sql, parameters))
    with context.config_table(directory) as (client, table):
        sites = SiteContexts(
            SiteStore(client, table), AttributionSettingsStore(client, table), DynamoWatermarks(client, table)
        )
        api = QueryApi(
            QueryEngine(warehouse),
            authenticator=_NoKeys(),
            sites=sites,
            limiter=None,
            annotations=AnnotationStore(client, table),
            realtime=Realtime(warehouse),
        )
        args._api = api

        def run(payload: dict[str, Any]) -> dict[str, Any]:
            response = api.run_as(OPERATOR, payload)
            if response.status == 401:
                raise CliError(
                    f"no site {payload.get('site_id')!r}: touchline sites list shows the registered ones"
                )
            if response.status != 200:
                raise CliError(str(response.body.get("error", response.body)))
            return response.body

        yield run


def run_query(args: argparse.Namespace, payload: dict[str, Any]) -> dict[str, Any]:
    """Run one Stats API v2 query."""
    with engine_runner(args) as run:
        return run(payload)


def run_realtime(args: argparse.Namespace, site: str) -> dict[str, Any]:
    """`GET /api/v1/realtime`'s answer for `site`, as the operator."""
    from touchline.auth.principal import OPERATOR

    with engine_runner(args):
        response = args._api.realtime_as(OPERATOR, site)
    if response.status == 401:
        raise CliError(f"no site {site!r}: touchline sites list shows the registered ones")
    if response.status != 200:
        raise CliError(str(response.body.get("error", response.body)))
    body: dict[str, Any] = response.body
    return body


class _NoKeys:
    def authenticate(self, authorization: str | None) -> None:
        return None
