"""TrackingApiFunction: Segment / Customer.io Data Pipelines calls (`POST /v1/*`) → envelopes on the
events queue → 200 `{"success": true}`. See docs/tracking-api.md."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response

from touchline.aws.http_api import HttpFunction
from touchline.tracking.api import ApiError, ApiRequest
from touchline.tracking.service import tracking_api

# SDKs read the error's code and message at the top level, 503s included.
api = HttpFunction("tracking-api", error_type=ApiError)
app = api.app


@app.post("/v1/<call>")
def post_call(call: str) -> Response[str]:
    result = tracking_api().handle(ApiRequest(call=call, body=api.body(), headers=api.headers()))
    if result.rejected:
        api.count("MessagesRejected", len(result.rejected))
        api.logger.info("rejected messages", extra={"rejected": result.rejected[:5]})
    return api.json(200, result.body())


handler = api.handler
