"""Accounts figures: what signing in and checking permissions cost.

- `authorize()` per decision, against a dict lookup as the baseline;
- the local gateway's JWT check (RS256 signature + claims) per request, against SHA-256 of the
  token (what an API key lookup hashes) as the baseline;
- Argon2id (RFC 9106 low-memory profile: 64 MiB, t=3, p=4) per shared-link password
  verification, against SHA-256 (a link's secret), and argon2's import time (the accounts
  function pays it only on shared-link routes);
- the accounts function's cold import in a fresh interpreter, against the collector's.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import time
from importlib import resources
from typing import Any

from bench.common import best_of, fresh_interpreter_ms

DECISIONS = 200_000
TOKENS = 2_000
PASSWORDS = 5


def _per_call_us(fn: Any, count: int) -> float:
    def run() -> float:
        start = time.perf_counter()
        for _ in range(count):
            fn()
        return (time.perf_counter() - start) / count * 1e6

    return best_of(3, run)


def _authorize() -> list[tuple[str, str]]:
    from touchline.accounts.permissions import Membership, Permission, Principal, Resource, Role, authorize

    person = Principal(
        kind="person",
        id="sub",
        memberships={f"org_{i}": Membership(f"org_{i}", Role.EDITOR) for i in range(5)},
    )
    resource = Resource("org_3", "site1")
    table = {("org_3", "goals:write"): True}
    decide = _per_call_us(lambda: authorize(person, Permission.GOALS_WRITE, resource), DECISIONS)
    lookup = _per_call_us(lambda: table.get(("org_3", "goals:write")), DECISIONS)
    return [
        ("authorize(): µs per decision", f"{decide:.2f} µs"),
        ("  baseline dict lookup", f"{lookup:.3f} µs ({decide / lookup:.0f}x)"),
    ]


def _jwt() -> list[tuple[str, str]]:
    from joserfc import jwk, jwt

    from touchline_dev.devstack.jwt_authorizer import JwtAuthorizer
    from touchline_dev.devstack.template import JwtAuthorizerSpec

    raw = (resources.files("moto") / "cognitoidp/resources/jwks-private.json.gz").read_bytes()
    private = json.loads(gzip.decompress(raw))
    public = {"keys": [{k: private[k] for k in ("kty", "n", "e", "kid", "alg", "use") if k in private}]}
    issuer = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_bench"
    now = int(time.time())
    claims = {
        "iss": issuer,
        "sub": "s",
        "client_id": "c",
        "token_use": "access",
        "iat": now,
        "exp": now + 3600,
    }
    token = jwt.encode(
        {"alg": "RS256", "kid": private.get("kid", "dummy")}, claims, jwk.RSAKey.import_key(private)
    )
    authorizer = JwtAuthorizer(JwtAuthorizerSpec("A", issuer, ("c",)), lambda _issuer: public)
    headers = {"authorization": f"Bearer {token}"}
    check = _per_call_us(lambda: authorizer.authorize(headers), TOKENS)
    digest = _per_call_us(lambda: hashlib.sha256(token.encode()).hexdigest(), TOKENS)
    return [
        ("local JWT authorizer: µs per token (RS256 + claims)", f"{check:.0f} µs"),
        ("  baseline SHA-256 of the token", f"{digest:.2f} µs ({check / digest:.0f}x)"),
    ]


def _argon2() -> list[tuple[str, str]]:
    from touchline.accounts.shared_links import password_hasher

    hasher = password_hasher()
    stored = hasher.hash("correct horse battery staple")

    def verify() -> float:
        start = time.perf_counter()
        for _ in range(PASSWORDS):
            hasher.verify(stored, "correct horse battery staple")
        return (time.perf_counter() - start) / PASSWORDS * 1000

    verify_ms = best_of(2, verify)
    sha_ms = (
        _per_call_us(lambda: hashlib.sha256(b"a shared link secret of 32 chars").hexdigest(), 10_000) / 1000
    )
    import_ms = fresh_interpreter_ms(
        "import time; t=time.perf_counter(); import argon2; print((time.perf_counter()-t)*1000)"
    )
    return [
        ("Argon2id verify, ms per shared-link password (64 MiB, t=3, p=4)", f"{verify_ms:.0f} ms"),
        ("  baseline SHA-256 of a link secret", f"{sha_ms * 1000:.2f} µs ({verify_ms / sha_ms:,.0f}x)"),
        ("argon2 import, ms (fresh interpreter)", f"{import_ms:.1f} ms"),
    ]


def _imports() -> list[tuple[str, str]]:
    code = (
        "import time, sys; sys.path[:0] = ['functions/{f}', 'layers/touchline']; t=time.perf_counter(); "
        "import app; print((time.perf_counter()-t)*1000)"
    )
    accounts = fresh_interpreter_ms(code.format(f="accounts"))
    collector = fresh_interpreter_ms(code.format(f="collector"))
    return [
        ("accounts function cold import, ms", f"{accounts:.0f} ms"),
        ("  baseline collector cold import", f"{collector:.0f} ms ({accounts / collector:.2f}x)"),
    ]


def run() -> list[tuple[str, str]]:
    return [*_authorize(), *_jwt(), *_argon2(), *_imports()]


if __name__ == "__main__":
    for label, figure in run():
        print(f"  {label:<72} {figure}")
