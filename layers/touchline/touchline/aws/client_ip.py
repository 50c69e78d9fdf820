"""Who sent a request: the client IP and the CDN geo headers, by a stated trust rule.

The IP drives the cookieless visitor hash and the country, so it must not be whatever the
client says. The rule is the deployment's `TrustedProxy` template parameter
(`TOUCHLINE_TRUSTED_PROXY`):

* `none` (default): API Gateway's `requestContext.http.sourceIp`, the peer of the TCP
  connection. `X-Forwarded-For` and every CDN geo header are ignored: any client can set them.
* `cloudfront`: the API sits behind a CloudFront distribution that adds
  `CloudFront-Viewer-Address` (and, with an origin request policy, `CloudFront-Viewer-Country`
  and friends); those are trusted. A request without the header did not come through CloudFront
  and gets its `sourceIp`. Keep the API reachable only through the distribution, or anyone can
  send CloudFront's headers themselves.
* `1`…`5`: that many proxies in front of API Gateway each append the address they saw to
  `X-Forwarded-For`; the client is the entry that many hops left of the connection's peer. CDN
  geo headers are not trusted (the country comes from the IP).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MAX_HOPS = 5
CLOUDFRONT_HEADERS = (
    "cloudfront-viewer-country",
    "cloudfront-viewer-country-region",
    "cloudfront-viewer-city",
)


class TrustRuleError(ValueError):
    """`TOUCHLINE_TRUSTED_PROXY` is not none, cloudfront or a hop count."""


@dataclass(frozen=True, slots=True)
class TrustRule:
    kind: str = "none"  # none | cloudfront | hops
    hops: int = 0

    @classmethod
    def parse(cls, value: str) -> TrustRule:
        text = (value or "none").strip().lower()
        if text in ("none", "cloudfront"):
            return cls(text)
        if text.isdigit() and 1 <= int(text) <= MAX_HOPS:
            return cls("hops", int(text))
        raise TrustRuleError(f"TrustedProxy must be none, cloudfront or a hop count 1-{MAX_HOPS}: {value!r}")


NO_HEADERS: dict[str, str] = {}


def client_origin(event: Mapping[str, Any], rule: TrustRule) -> tuple[str, dict[str, str]]:
    """(client IP, the geo headers that may be believed) of a payload 2.0 event."""
    source_ip = str(event.get("requestContext", {}).get("http", {}).get("sourceIp", ""))
    if rule.kind == "none":
        return source_ip, NO_HEADERS
    headers: Mapping[str, str] = event.get("headers") or {}
    if rule.kind == "cloudfront":
        viewer = headers.get("cloudfront-viewer-address", "")
        if not viewer:
            return source_ip, NO_HEADERS
        ip = viewer.rpartition(":")[0].strip("[] ") or source_ip
        return ip, {name: headers[name] for name in CLOUDFRONT_HEADERS if name in headers}
    hops = [part.strip() for part in headers.get("x-forwarded-for", "").split(",") if part.strip()]
    if not hops or hops[-1] != source_ip:
        hops.append(source_ip)
    return hops[max(0, len(hops) - 1 - rule.hops)], NO_HEADERS
