"""The seam between the sync runner and each provider: credentials in, streams out."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from touchline.syncs.deadline import Deadline
from touchline.syncs.http import HttpClient, Response
from touchline.syncs.streams import Stream


@dataclass
class Connection:
    """An opened provider: its streams, in the order a run goes through them."""

    http: HttpClient
    streams: list[Stream] = field(default_factory=list)

    def close(self) -> None:
        self.http.close()


@dataclass(frozen=True)
class Settings:
    """What a run knows about an integration besides its secret."""

    site_id: str
    base_url: str | None = None  # override of the provider's API host (fakes, the local stack)
    options: dict[str, Any] = field(default_factory=dict)
    deadline: Deadline = field(default_factory=Deadline.unlimited)
    sleep: Callable[[float], None] | None = None


@dataclass(frozen=True)
class Provider:
    name: str
    credentials: type[BaseModel]
    open: Callable[[Settings, Any], Connection]
    default_base_url: str = ""


def http_client(
    provider: str,
    settings: Settings,
    default_base_url: str,
    headers: dict[str, str],
    pace: Callable[[Response], float] | None = None,
) -> HttpClient:
    client = HttpClient(
        provider=provider,
        base_url=base_url(provider, settings, default_base_url),
        headers=headers,
        deadline=settings.deadline,
        pace=pace,
    )
    if settings.sleep is not None:
        client.sleep = settings.sleep
    return client


def base_url(provider: str, settings: Settings, default: str) -> str:
    """The integration's override, else `TOUCHLINE_<PROVIDER>_API_URL`, else the real API."""
    url = settings.base_url or os.environ.get(f"TOUCHLINE_{provider.upper()}_API_URL") or default
    return url.rstrip("/") + "/"
