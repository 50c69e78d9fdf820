"""API Gateway's HTTP API JWT authorizer, locally: the same checks before the function runs.

As API Gateway documents it (http-api-jwt-authorizer): take the token from the identity source
(the token alone or prefixed with `Bearer`); decode it; check its algorithm (RSA only) and its
signature with the key of its `kid` from the issuer's JWKS; then `iss` must equal the issuer,
`aud` — or `client_id` when there is no `aud`, as in Cognito access tokens — must be one of the
audiences, `exp` must be after now, `nbf` and `iat` (when present) before now, and the `scope`
(or `scp`) claim must hold one of the route's authorization scopes when it has any. A failure is
a 401 `{"message":"Unauthorized"}` with a `www-authenticate` header saying why (403 for scopes);
a success passes the claims, as strings, in `requestContext.authorizer.jwt`. Keys are cached for
an hour and fetched again for a `kid` not seen before.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .template import JwtAuthorizerSpec

RSA_ALGORITHMS = ("RS256", "RS384", "RS512")
JWKS_CACHE_SECONDS = 3600.0
# At most one refetch per this many seconds for tokens with unknown key ids.
REFETCH_SECONDS = 10.0

JwksFetcher = Callable[[str], Mapping[str, Any]]


class Unauthorized(Exception):
    """The token does not pass; `description` goes into `www-authenticate`."""

    def __init__(self, description: str, status: int = 401, error: str = "invalid_token") -> None:
        super().__init__(description)
        self.description = description
        self.status = status
        self.error = error

    def headers(self) -> list[tuple[str, str]]:
        return [
            (
                "www-authenticate",
                f'Bearer scope="" error="{self.error}" error_description="{self.description}"',
            )
        ]

    def body(self) -> dict[str, str]:
        return {"message": "Unauthorized" if self.status == 401 else "Forbidden"}


@dataclass(frozen=True)
class Authorized:
    claims: dict[str, str]
    scopes: list[str] | None

    def context(self) -> dict[str, Any]:
        """`requestContext.authorizer` of the payload 2.0 event."""
        return {"jwt": {"claims": self.claims, "scopes": self.scopes}}


class JwtAuthorizer:
    def __init__(
        self, spec: JwtAuthorizerSpec, fetch_jwks: JwksFetcher, clock: Callable[[], float] = time.time
    ) -> None:
        self.spec = spec
        self._fetch = fetch_jwks
        self._clock = clock
        self._keys: dict[str, dict[str, Any]] = {}
        self._fetched_at = -1e18
        self._lock = threading.Lock()

    def authorize(self, headers: Mapping[str, str], scopes: tuple[str, ...] = ()) -> Authorized:
        token = self._token(headers)
        header, claims, signing_input, signature = _split(token)
        algorithm = header.get("alg")
        if algorithm not in RSA_ALGORITHMS:
            raise Unauthorized(f"the token's algorithm {algorithm!r} is not supported")
        key = self._key(str(header.get("kid", "")))
        if key is None:
            raise Unauthorized("the token was signed by a key the issuer does not publish")
        if not _verify(key, algorithm, signing_input, signature):
            raise Unauthorized("the token's signature is invalid")
        self._check_claims(claims)
        granted = _scopes(claims)
        if scopes and not set(scopes) & set(granted or []):
            raise Unauthorized(
                "the token does not have the required scope", status=403, error="insufficient_scope"
            )
        return Authorized({k: _claim_text(v) for k, v in claims.items()}, granted)

    def _token(self, headers: Mapping[str, str]) -> str:
        source = self.spec.identity_source
        if not source.startswith("$request.header."):
            raise Unauthorized(f"identity source {source} is not supported locally")
        value = headers.get(source.removeprefix("$request.header.").lower(), "").strip()
        if value[:7].lower() == "bearer ":
            value = value[7:].strip()
        if not value:
            raise Unauthorized("the token is missing")
        return value

    def _check_claims(self, claims: Mapping[str, Any]) -> None:
        now = self._clock()
        if claims.get("iss") != self.spec.issuer:
            raise Unauthorized("the token does not have a valid issuer")
        audience = claims.get("aud") if "aud" in claims else claims.get("client_id")
        audiences = audience if isinstance(audience, list) else [audience]
        if not any(a in self.spec.audience for a in audiences):
            raise Unauthorized("the token does not have a valid audience")
        exp = _number(claims.get("exp"))
        if exp is None or exp <= now:
            raise Unauthorized("the token has expired")
        nbf = _number(claims.get("nbf"))
        if "nbf" in claims and (nbf is None or nbf > now):
            raise Unauthorized("the token is not valid yet")
        iat = _number(claims.get("iat"))
        if "iat" in claims and (iat is None or iat > now):
            raise Unauthorized("the token was issued in the future")

    def _key(self, kid: str) -> dict[str, Any] | None:
        with self._lock:
            now = time.monotonic()
            stale = now - self._fetched_at > JWKS_CACHE_SECONDS
            unknown = kid not in self._keys and now - self._fetched_at > REFETCH_SECONDS
            if stale or unknown:
                try:
                    keys = self._fetch(self.spec.issuer).get("keys") or []
                except Exception as exc:
                    raise Unauthorized(f"the issuer's keys could not be fetched: {exc}") from None
                self._keys = {str(k.get("kid", "")): dict(k) for k in keys if isinstance(k, dict)}
                self._fetched_at = now
            return self._keys.get(kid)


def _b64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _split(token: str) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
    parts = token.split(".")
    if len(parts) != 3:
        raise Unauthorized("the token is not a JWT")
    try:
        header = json.loads(_b64(parts[0]))
        claims = json.loads(_b64(parts[1]))
        signature = _b64(parts[2])
    except (ValueError, UnicodeDecodeError):
        raise Unauthorized("the token could not be decoded") from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise Unauthorized("the token could not be decoded")
    return header, claims, f"{parts[0]}.{parts[1]}".encode("ascii"), signature


def _verify(jwk: Mapping[str, Any], algorithm: str, signing_input: bytes, signature: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    if jwk.get("kty") != "RSA":
        return False
    try:
        numbers = rsa.RSAPublicNumbers(
            int.from_bytes(_b64(jwk["e"]), "big"), int.from_bytes(_b64(jwk["n"]), "big")
        )
        key = numbers.public_key()
    except (KeyError, ValueError):
        return False
    digest = {"RS256": hashes.SHA256(), "RS384": hashes.SHA384(), "RS512": hashes.SHA512()}[algorithm]
    try:
        key.verify(signature, signing_input, padding.PKCS1v15(), digest)
    except InvalidSignature:
        return False
    return True


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _scopes(claims: Mapping[str, Any]) -> list[str] | None:
    raw = claims.get("scope", claims.get("scp"))
    if raw is None:
        return None
    if isinstance(raw, list):
        return [str(s) for s in raw]
    return str(raw).split()


def _claim_text(value: Any) -> str:
    """API Gateway hands claims to the function as strings; arrays as `[a b]`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + " ".join(_claim_text(v) for v in value) + "]"
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"))
    return str(value)
