"""QueryFunction: `POST /api/v2/query` (Plausible's Stats API v2, plus revenue and attribution) for
API keys and shared links, and `POST /api/v1/query`, the same for people signed in through Cognito;
`GET /api/v2/realtime` and `GET /api/v1/realtime` likewise (who is on the site now, docs/realtime.md).
a funnel's figures (`GET /api/v2/funnels/{id}` for keys, `GET /api/v1/funnels/{id}` for people);
a site's goal completions (`GET /api/v2/goal-conversions`, `GET /api/v1/goal-conversions`).

Authentication, rate limits, the engine and its cache live in `touchline.query`
(docs/query-api.md); warehouse or DynamoDB trouble is the shared adapter's 503, in Plausible's
error shape.
"""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.metrics import MetricUnit

from touchline.aws.http_api import HttpFunction
from touchline.query.api import ApiResponse
from touchline.query.errors import PlausibleError
from touchline.query.service import api as query_api
from touchline.query.service import people_funnel, people_goal_conversions
from touchline.query.service import people_query as person_query
from touchline.query.service import people_realtime as person_realtime

api = HttpFunction("query", error_type=PlausibleError)
app = api.app


@app.post("/api/v2/query")
def query() -> Response[str]:
    return _answer(query_api().query(api.headers().get("authorization"), api.body()))


@app.post("/api/v1/query")
def people_query() -> Response[str]:
    return _answer(person_query(api.jwt_claims(), api.body(), api.event))


@app.get("/api/v2/realtime")
def realtime() -> Response[str]:
    site = (api.event.get("queryStringParameters") or {}).get("site_id")
    return _answer(query_api().realtime(api.headers().get("authorization"), site))


@app.get("/api/v1/realtime")
def people_realtime() -> Response[str]:
    site = (api.event.get("queryStringParameters") or {}).get("site_id")
    return _answer(person_realtime(api.jwt_claims(), site, api.event))


@app.get("/api/v2/funnels/<funnel_id>")
def funnel(funnel_id: str) -> Response[str]:
    return _answer(query_api().funnel(api.headers().get("authorization"), funnel_id, _query_string()))


@app.get("/api/v1/funnels/<funnel_id>")
def person_funnel(funnel_id: str) -> Response[str]:
    return _answer(people_funnel(api.jwt_claims(), funnel_id, _query_string()))


@app.get("/api/v2/goal-conversions")
def goal_conversions() -> Response[str]:
    return _answer(query_api().goal_conversions(api.headers().get("authorization"), _query_string()))


@app.get("/api/v1/goal-conversions")
def person_goal_conversions() -> Response[str]:
    return _answer(people_goal_conversions(api.jwt_claims(), _query_string()))


def _query_string() -> dict[str, str]:
    params = api.event.get("queryStringParameters") or {}
    return {str(k): str(v) for k, v in params.items()} if isinstance(params, dict) else {}


def _answer(result: ApiResponse) -> Response[str]:
    api.count("Queries", status=str(result.status))
    if result.info is not None and result.info.seconds:
        total_ms = result.info.seconds["total"] * 1000
        api.metrics.add_metric(name="QueryMs", unit=MetricUnit.Milliseconds, value=total_ms)
        api.logger.info(
            "query",
            extra={
                "status": result.status,
                "cached": result.info.cached,
                "seconds": result.info.seconds,
                "queries": result.info.queries,
                "hits": result.info.hits,
            },
        )
    return api.json(result.status, result.json(), result.headers)


handler = api.handler
