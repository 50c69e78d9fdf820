"""The Plausible Events API body, in both spellings the official tracker and API clients send.

Long keys (`name, url, domain, referrer, props, revenue, interactive`) come from API users and
older scripts; compact keys (`n, u, d, r, p, $, i, h, e, sd, v`) from `@plausible-analytics/tracker`.
Limits follow Plausible's so a site switching over sees the same accept/reject behaviour.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Annotated, Any

from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from touchline import json_body
from touchline.revenue.money import InvalidAmount, iso_currency

MAX_BODY_BYTES = 16 * 1024
MAX_PROPS = 30
MAX_PROP_KEY_BYTES = 300
MAX_PROP_VALUE_BYTES = 2000
MAX_NAME_BYTES = 120
MAX_URL_BYTES = 2000
MAX_REVENUE = Decimal("1e13")
MAX_USER_ID_CHARS = 256
MAX_DOMAINS = 10
MAX_ENGAGEMENT_MS = 4_294_967_295  # events.engagement_ms is a UInt32
VISITOR_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")
EMAIL_SHA256 = re.compile(r"[0-9a-f]{64}")
IDENTIFY = "identify"


def _json_if_string(value: Any) -> Any:
    """Older trackers send `p`/`props` as a JSON-encoded string."""
    if isinstance(value, str):
        try:
            return json_body.loads(value)
        except json_body.JsonBodyError as exc:
            raise ValueError(f"props must be a JSON object ({exc})") from None
    return value


class Revenue(BaseModel):
    model_config = ConfigDict(extra="ignore")

    amount: Decimal
    currency: str

    @field_validator("amount", mode="before")
    @classmethod
    def _amount(cls, value: Any) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
            raise ValueError("revenue amount must be a number")
        try:
            amount = Decimal(str(value).strip())
        except InvalidOperation as exc:
            raise ValueError("revenue amount must be a number") from exc
        if not amount.is_finite() or abs(amount) >= MAX_REVENUE:
            raise ValueError("revenue amount out of range")
        return amount.quantize(Decimal("0.0001"))

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        try:
            return iso_currency(value)
        except InvalidAmount:
            raise ValueError(
                f"revenue currency must be an ISO 4217 code such as USD, not {value!r}"
            ) from None


class PlausibleHit(BaseModel):
    """One hit as POSTed to `/api/event`."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    name: str = Field(validation_alias=AliasChoices("name", "n"), min_length=1)
    url: str = Field(validation_alias=AliasChoices("url", "u"), min_length=1)
    domain: str = Field(validation_alias=AliasChoices("domain", "d"), min_length=1)
    referrer: str | None = Field(None, validation_alias=AliasChoices("referrer", "r"))
    props: Annotated[dict[str, Any] | None, BeforeValidator(_json_if_string)] = Field(
        None, validation_alias=AliasChoices("props", "p", "m", "meta")
    )
    revenue: Annotated[Revenue | None, BeforeValidator(_json_if_string)] = Field(
        None, validation_alias=AliasChoices("revenue", "$")
    )
    interactive: bool = Field(True, validation_alias=AliasChoices("interactive", "i"))
    hash_mode: bool = Field(False, validation_alias=AliasChoices("hash_mode", "h"))
    engagement_ms: int = Field(
        0, validation_alias=AliasChoices("engagement_time", "e"), ge=0, le=MAX_ENGAGEMENT_MS
    )
    scroll_depth: int = Field(0, validation_alias=AliasChoices("scroll_depth", "sd"), ge=0, le=255)
    screen_width: int = Field(0, validation_alias=AliasChoices("screen_width", "w"), ge=0, le=65535)
    # Touchline's tag adds its first-party visitor id (random, url-safe); Plausible's tracker
    # never sends one. Ids of another shape are refused rather than stored as someone's identity.
    visitor_id: str | None = Field(None, validation_alias=AliasChoices("visitor_id", "vid"))
    # Set by the tag after `identify`: the site's own user id, and on the identify event itself
    # optionally the sha256 (hex) of the user's trimmed, lower-cased email.
    user_id: str | None = Field(
        None, validation_alias=AliasChoices("user_id", "uid"), min_length=1, max_length=MAX_USER_ID_CHARS
    )
    email_sha256: str | None = Field(None, validation_alias=AliasChoices("email_sha256", "eh"))
    # The visitor's consent (docs/consent.md): category → granted, as the tag's
    # `touchline('consent', {...})` recorded it, or Segment's `{"categoryPreferences": {...}}`.
    consent: Annotated[dict[str, Any] | None, BeforeValidator(_json_if_string)] = Field(
        None, validation_alias=AliasChoices("consent", "c")
    )

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if len(value.encode()) > MAX_NAME_BYTES:
            raise ValueError(f"event name longer than {MAX_NAME_BYTES} bytes")
        return value

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if len(value.encode()) > MAX_URL_BYTES:
            raise ValueError(f"url longer than {MAX_URL_BYTES} bytes")
        scheme, sep, rest = value.partition("://")
        if not sep or scheme.lower() not in ("http", "https", "app") or not rest or rest[0] in "/?#":
            raise ValueError("url must be an absolute http(s) URL")
        return value

    @field_validator("props")
    @classmethod
    def _props(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is None:
            return None
        if len(value) > MAX_PROPS:
            raise ValueError(f"at most {MAX_PROPS} props allowed, got {len(value)}")
        for key, item in value.items():
            if not key or len(key.encode()) > MAX_PROP_KEY_BYTES:
                raise ValueError(f"prop keys must be 1-{MAX_PROP_KEY_BYTES} bytes")
            if isinstance(item, str) and len(item.encode()) > MAX_PROP_VALUE_BYTES:
                raise ValueError(f"prop {key!r} is longer than {MAX_PROP_VALUE_BYTES} bytes")
        return value

    @field_validator("visitor_id")
    @classmethod
    def _visitor_id(cls, value: str | None) -> str | None:
        if value is not None and not VISITOR_ID.fullmatch(value):
            raise ValueError("visitor id must be 16-64 characters from A-Z, a-z, 0-9, _ and -")
        return value

    @field_validator("consent")
    @classmethod
    def _consent(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None and len(value) > MAX_PROPS:
            raise ValueError(f"at most {MAX_PROPS} consent categories allowed, got {len(value)}")
        return value

    @field_validator("email_sha256")
    @classmethod
    def _email_sha256(cls, value: str | None) -> str | None:
        if value is None:
            return None
        digest = value.lower()
        if not EMAIL_SHA256.fullmatch(digest):
            raise ValueError("email hash must be the 64 hex digits of sha256(trimmed, lower-cased email)")
        return digest

    @model_validator(mode="after")
    def _identify_names_someone(self) -> PlausibleHit:
        if self.name == IDENTIFY and not (self.user_id or self.email_sha256):
            raise ValueError("an identify event needs a user id (uid) or an email hash (eh)")
        return self

    def props_as_strings(self) -> dict[str, str]:
        """Map(String, String) values; nulls and nested objects are dropped, as Plausible does."""
        if not self.props:
            return {}
        out: dict[str, str] = {}
        for key, item in self.props.items():
            if isinstance(item, bool):
                out[key] = "true" if item else "false"
            elif isinstance(item, str | int | float):
                out[key] = str(item)
        return out

    @field_validator("domain")
    @classmethod
    def _few_domains(cls, value: str) -> str:
        # Each domain costs a site lookup and a stored event: one request's work stays bounded.
        if len(_domain_tuple(value)) > MAX_DOMAINS:
            raise ValueError(f"at most {MAX_DOMAINS} comma-separated domains")
        return value

    def domains(self) -> list[str]:
        """A comma-separated domain sends the hit to each site (Plausible's roll-up sites), each
        distinct domain once, at most `MAX_DOMAINS` (issue 13: 1,000 copies stored 1,000 hits)."""
        return _domain_list(self.domain)


@lru_cache(maxsize=1024)
def _domain_tuple(value: str) -> tuple[str, ...]:
    """Cached: a site's tag sends the same `d` on every hit, and it is read twice per hit."""
    parts = (part.strip().lower().removeprefix("www.") for part in value.split(","))
    return tuple(dict.fromkeys(d for d in parts if d))


def _domain_list(value: str) -> list[str]:
    return list(_domain_tuple(value))
