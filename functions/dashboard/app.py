"""DashboardFunction: `GET /` and every other app path → the built dashboard (docs/dashboard.md).

`sam build` runs this directory's Makefile, which builds `dashboard/` with Vite into
`static/` beside this file; `touchline dev` runs the same target.
"""

from __future__ import annotations

import base64
from pathlib import Path

from aws_lambda_powertools.utilities.typing import LambdaContext

from touchline.dashboard.service import assets

STATIC = Path(__file__).parent / "static"


def handler(event: dict[str, object], context: LambdaContext) -> dict[str, object]:
    headers: dict[str, str] = event.get("headers") or {}  # type: ignore[assignment]
    served = assets(STATIC).serve(
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
