"""The tag's `identify`: which identifiers one identify event links, as `identity_links` rows.

The visitor id is the row's (the tag's first-party id, or the cookieless daily hash when the
site runs the tag cookieless: an explicit identify is the only way such a hash is ever linked).
Resolving links into people is the identity service's job, not the collector's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from touchline.ingest.hit import PlausibleHit
from touchline.ingest.rows import EventRow

if TYPE_CHECKING:
    from touchline.identity.rows import IdentityLinkRow

SOURCE = "tag"


def identity_links(hit: PlausibleHit, row: EventRow) -> list[IdentityLinkRow]:
    """Visitor ↔ user, visitor ↔ email hash, and user ↔ email hash when the site gave both."""
    # Imported on the first identify: the identity rows' models cost a cold start ~20 ms.
    from touchline.identity.rows import IdentityLinkRow

    ids = [
        (kind, value)
        for kind, value in (
            ("visitor", row.visitor_id),
            ("user", hit.user_id),
            ("email_sha256", hit.email_sha256),
        )
        if value
    ]
    return [
        IdentityLinkRow.between(row.site_id, a, b, SOURCE, row.timestamp)
        for i, a in enumerate(ids)
        for b in ids[i + 1 :]
    ]
