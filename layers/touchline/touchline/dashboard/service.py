"""Wires the dashboard from settings: the built app beside the handler, read once per container."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from touchline.dashboard.assets import DashboardAssets
from touchline.settings import DashboardSettings


@cache
def assets(static: Path) -> DashboardAssets:
    settings = DashboardSettings.from_env()
    # Locally the SDKs' endpoint (moto) is where Cognito answers; in AWS it is the regional one.
    connect = (settings.cognito_endpoint, os.environ.get("AWS_ENDPOINT_URL"))
    return DashboardAssets(static, connect_src=tuple(c for c in connect if c))
