"""DashboardFunction: `GET /` and every other app path → the built dashboard (docs/dashboard.md).

`sam build` runs this directory's Makefile, which builds `dashboard/` with Vite into
`static/` beside this file; `touchline dev` runs the same target.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

from aws_lambda_powertools.utilities.typing import LambdaContext

from touchline.dashboard.assets import DashboardAssets
from touchline.settings import DashboardSettings

settings = DashboardSettings.from_env()
# Locally the SDKs' endpoint (moto) is where Cognito answers; in AWS it is the regional one.
_connect = (settings.cognito_endpoint, os.environ.get("AWS_ENDPOINT_URL"))
assets = DashboardAssets(Path(__file__).parent / "static", connect_src=tuple(c for c in _connect if c))


def handler(event: dict[str, object], context: LambdaContext) -> dict[str, object]:
    headers: dict[str, str] = event.get("headers") or {}  # type: ignore[assignment]
    served = assets.serve(
        str(event.get("rawPath") or "/"),
        if_none_match=headers.get("if-none-match", ""),
        accept_encoding=headers.get("accept-encoding", ""),
    )
    return {
        "statusCode": served.status,
        "headers": served.headers,
        "body": base64.b64encode(served.body).decode(),
        "isBase64Encoded": True,
    }
