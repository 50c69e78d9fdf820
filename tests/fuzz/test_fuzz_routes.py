"""Every HTTP route of template.yaml under hostile input (issue 13): no 5xx, every 4xx a JSON
error, and the good requests sent between the bad ones all stored.

`TOUCHLINE_FUZZ_EXAMPLES` sets the hostile examples per route (default 150, plus a good request
after every third: `make test`'s budget; 25 on the 29 people routes, whose handlers run with a
signed-in owner's session); `TOUCHLINE_FUZZ_RANDOM=1` draws fresh examples instead
of the fixed sequence; `TOUCHLINE_FUZZ_REPORT=<file>` appends each route's status counts as JSON
lines. `python -m bench.bench_fuzz [examples]` runs them all that way and prints the counts.
"""

from __future__ import annotations

import json
import os
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings

from fuzz.checks import check_answer, stored_markers
from fuzz.inputs import Marker, Request, World, good, hostile, signed_in
from fuzz.stack import FuzzStack, template_routes
from touchline_dev.devstack.template import HttpRoute

ROUTES = template_routes()
EXAMPLES = int(os.environ.get("TOUCHLINE_FUZZ_EXAMPLES", "150"))
# The people routes (29, behind Cognito) run their handlers with a valid session, each call a few
# DynamoDB round trips: fewer examples in `make test`, as many as asked otherwise.
SIGNED_EXAMPLES = int(os.environ.get("TOUCHLINE_FUZZ_EXAMPLES", "25"))
# One good request after every GOOD_EVERY hostile ones (a read-only route's, a query costing
# ClickHouse work, after every READ_EVERY).
GOOD_EVERY = 3
READ_EVERY = 30


def test_every_template_route_is_fuzzed() -> None:
    """The suite reads its routes from the template: the routes it knows are all there."""
    keys = {r.route_key for r in ROUTES}
    assert {"POST /api/event", "POST /v1/batch", "POST /api/v1/payments", "POST /api/v2/query"} <= keys
    assert "GET /js/script.js" in keys


@pytest.mark.parametrize("route", ROUTES, ids=[r.route_key for r in ROUTES])
def test_route_survives_hostile_input(route: HttpRoute, fuzz_stack: tuple[FuzzStack, World]) -> None:
    stack, world = fuzz_stack
    markers: list[Marker] = []
    statuses: Counter[int] = Counter()

    @settings(
        max_examples=SIGNED_EXAMPLES if signed_in(route) else EXAMPLES,
        deadline=None,
        derandomize=os.environ.get("TOUCHLINE_FUZZ_RANDOM") is None,
        database=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
        ],
    )
    @given(request=hostile(route, world))
    def run(request: Request) -> None:
        answer = stack.request(
            request.method, request.target, request.headers, request.body, event_hook=request.hook
        )
        statuses[answer.status] += 1
        check_answer(answer, request)
        sent = sum(statuses.values())
        if sent % GOOD_EVERY == 0:
            nice = good(route, world, len(markers) + sent)
            if nice is not None and (nice.marker is not None or sent % READ_EVERY == 0):
                ok = stack.request(nice.method, nice.target, nice.headers, nice.body)
                assert 200 <= ok.status < 300, (ok.status, ok.body[:500])
                if nice.marker is not None:
                    markers.append(nice.marker)

    run()
    if report := os.environ.get("TOUCHLINE_FUZZ_REPORT"):
        with open(report, "a") as out:
            out.write(
                json.dumps({"route": route.route_key, "statuses": statuses, "good": len(markers)}) + "\n"
            )
    stack.load()
    missing = [m for m, found in stored_markers(markers).items() if not found]
    assert not missing, f"{len(missing)} of {len(markers)} good requests were answered 2xx but not stored"
