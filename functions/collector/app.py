"""CollectorFunction: `POST /api/event` → validated, enriched envelope on the events queue → 202;
`GET /js/script.js` → the browser tag."""

from __future__ import annotations

from touchline.aws.client_ip import client_origin
from touchline.aws.http_api import HttpFunction, Response
from touchline.ingest.collect import IncomingHit
from touchline.ingest.service import collector, trust_rule
from touchline.tag.asset import CONTENT_TYPE, tag_asset

api = HttpFunction("collector")
app = api.app


@app.post("/api/event")
def post_event() -> Response[str]:
    headers = api.headers()
    ip, geo_headers = client_origin(api.event, trust_rule())
    incoming = IncomingHit(api.body(), headers.get("user-agent", ""), ip, geo_headers)
    accepted = collector().collect(incoming)
    # Accepted hits are not a custom metric: API Gateway's Count and Lambda's Invocations
    # already give the rate, and an EMF flush per hit would double the handler's cost.
    if accepted.dropped:
        api.count("HitsDropped", reason=accepted.dropped)
        return api.json(202, '{"ok":true}', {"X-Touchline-Dropped": accepted.dropped})
    return api.json(202, '{"ok":true}')


@app.get("/js/script.js")
@app.get("/js/touchline.js")
def get_tag() -> Response[bytes]:
    headers = api.headers()
    served = tag_asset().serve(headers.get("if-none-match", ""), headers.get("accept-encoding", ""))
    return Response(
        status_code=served.status, content_type=CONTENT_TYPE, body=served.body, headers=served.headers
    )


handler = api.handler
