"""Tracking-API event ids: a UUIDv5 of (site, messageId), so every copy of a message has one id.

A module of its own so the loader computes them without importing the converter.
"""

from __future__ import annotations

import hashlib
import uuid

# Fixed namespace of API event ids (uuid5(NAMESPACE_URL, "https://touchline.dev/api/messageId")).
EVENT_ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://touchline.dev/api/messageId")

_NAMESPACE_BYTES = EVENT_ID_NAMESPACE.bytes


def event_id(site_id: str, message_id: str) -> str:
    """`str(uuid.uuid5(EVENT_ID_NAMESPACE, site/messageId))`, without building UUID objects (hot path)."""
    h = hashlib.sha1(_NAMESPACE_BYTES + f"{site_id}/{message_id}".encode()).hexdigest()
    # Version 5 in the 13th hex digit; the RFC 4122 variant (10xx) in the top bits of the 17th.
    return f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:32]}"


_VARIANT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}
