"""Connected syncs: which site pulls from which provider, with what credentials, and how it went.

One config-table item per site+provider, all under one partition so the 15-minute fan-out lists
them with a single Query:

    pk = SYNCS   sk = <site_id>#<provider>   secret_name, api_base_url, options, status, message, …

The credentials themselves are a JSON object in Secrets Manager under
`touchline/syncs/<site_id>/<provider>` (the sync function may read `touchline/syncs/*` only;
webhook signing secrets live apart, under `touchline/webhooks/`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

SyncProvider = Literal["klaviyo", "shopify", "hubspot", "gorgias"]
SYNC_PROVIDERS: tuple[SyncProvider, ...] = ("klaviyo", "shopify", "hubspot", "gorgias")
SECRET_PREFIX = "touchline/syncs/"
PARTITION = "SYNCS"

Status = Literal["new", "ok", "failing"]


@dataclass(frozen=True)
class SyncIntegration:
    site_id: str
    provider: str
    secret_name: str
    api_base_url: str = ""
    options: dict[str, Any] = field(default_factory=dict)
    status: str = "new"
    message: str = ""
    status_at: str = ""
    last_run: dict[str, Any] = field(default_factory=dict)


def secret_name(site_id: str, provider: str) -> str:
    return f"{SECRET_PREFIX}{site_id}/{provider}"
