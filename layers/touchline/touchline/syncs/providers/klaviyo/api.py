"""The Klaviyo REST API as the sync uses it: JSON:API pages and reporting queries.

Every request carries `Authorization: Klaviyo-API-Key …` and the `revision` header (Klaviyo's
date-versioned API: the payload shapes below are those of that revision). Lists are cursor
paginated: follow `links.next` until it is null; `page[size]` where the endpoint has it. Reports
are POSTs of a JSON:API document; long ones paginate with `page_cursor` through `links.next` too.
https://developers.klaviyo.com/en/reference/api_overview
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from touchline.syncs.http import HttpClient

DEFAULT_BASE_URL = "https://a.klaviyo.com"
REVISION = "2026-07-15"
JSON_API = "application/vnd.api+json"


class KlaviyoCredentials(BaseModel):
    """The secret of a Klaviyo integration (`touchline integrations add klaviyo`)."""

    model_config = ConfigDict(extra="ignore")

    api_key: str = Field(min_length=1)  # a private key, pk_…
    revision: str = REVISION
    # Reports need a conversion metric; default: the Placed Order metric found in the account.
    conversion_metric_id: str | None = None
    # Currency of `$value` when an order event does not name one (the account's currency).
    currency: str = "USD"


def headers(credentials: KlaviyoCredentials) -> dict[str, str]:
    return {
        "authorization": f"Klaviyo-API-Key {credentials.api_key}",
        "revision": credentials.revision,
        "accept": JSON_API,
    }


class KlaviyoApi:
    def __init__(self, http: HttpClient) -> None:
        self.http = http

    def pages(self, path: str, params: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        """Each page of a list, following `links.next` (which repeats the filter and sort)."""
        url: str | None = path
        query: dict[str, Any] | None = params
        while url:
            page = self.http.get(url, query).json() or {}
            yield page
            url = (page.get("links") or {}).get("next")
            query = None

    def resources(self, path: str, params: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        for page in self.pages(path, params):
            yield from page.get("data") or []

    def report(self, path: str, report_type: str, attributes: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """A reporting query's result pages (`data.attributes`)."""
        body = {"data": {"type": report_type, "attributes": attributes}}
        url: str | None = path
        while url:
            page = self.http.request("POST", url, body=body, content_type=JSON_API).json() or {}
            yield (page.get("data") or {}).get("attributes") or {}
            url = (page.get("links") or {}).get("next")
