"""What a call may not store under its consent (docs/consent.md), for the collector and the
tracking API alike: the rows that link it to a person, and the ad click ids.

Without analytics consent a call keeps its anonymous counts (page, referrer, UTM, device type,
country, revenue) and loses everything that names or links a person: identity links, people
traits, devices and relationships are not stored; other rows (orders, refunds, video, object
history) are stored with their personal columns empty, so the accounting stays right to the
cent. The consent record itself (`consent_events`) is kept as the call sent it: it is what the
site must be able to show.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode

from touchline.consent.policy import Grants
from touchline.envelope import Row

# Rows that exist only to name or link a person.
PERSONAL_TABLES = frozenset({"identity_links", "people", "devices", "relationships"})
KEPT_TABLES = frozenset({"consent_events"})
PERSONAL_COLUMNS = (
    "visitor_id",
    "user_id",
    "anonymous_id",
    "person_id",
    "member_id",
    "email",
    "email_sha256",
    "customer_id",
    "customer_id_type",
)


def withhold(rows: Iterable[tuple[str, Row]], grants: Grants) -> list[tuple[str, Row]]:
    """The rows a call may store without analytics consent (all of them with it)."""
    rows = list(rows)
    if grants.analytics:
        return rows
    kept: list[tuple[str, Row]] = []
    for table, row in rows:
        if table in KEPT_TABLES:
            kept.append((table, row))
            continue
        values = row.__dict__
        if table in PERSONAL_TABLES or values.get("member_id"):
            continue  # a relation to a person, meaningless without them
        blank = {c: "" for c in PERSONAL_COLUMNS if values.get(c)}
        kept.append((table, row.model_copy(update=blank) if blank else row))
    return kept


def strip_click_ids(url: str) -> str:
    """The URL without ad click id parameters (gclid, fbclid, …), so none is ever extracted."""
    base, sep, fragment = url.partition("#")
    path, mark, query = base.partition("?")
    if not mark:
        return url
    from touchline.enrichment.acquisition import CLICK_IDS

    pairs = parse_qsl(query, keep_blank_values=True)
    kept = [(k, v) for k, v in pairs if k.lower() not in CLICK_IDS]
    if len(kept) == len(pairs):
        return url
    rebuilt = f"{path}?{urlencode(kept)}" if kept else path
    return f"{rebuilt}{sep}{fragment}"
