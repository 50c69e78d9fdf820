"""The template's Cognito user pools and app clients on moto's `cognito-idp`, kept across restarts.

Pools and clients are created from their CloudFormation properties (which are CreateUserPool /
CreateUserPoolClient's parameters under other names in a few places). moto is told to derive
their ids from their configuration (`MOTO_COGNITO_IDP_*_ID_STRATEGY=HASH`), so the same template
gives the same pool id and client id on every start. Users live only in moto's memory: they are
saved to `<data_dir>/cognito.json` (mode 0600: moto keeps passwords in clear, and this is a
developer's stack, never a deployment) and put back on start with the same `sub`, so
memberships keyed on it survive. That needs moto's backend objects, which this process holds
(the moto server runs in it).

moto signs every pool's tokens with one key it ships (`kid` "dummy"), publishes it at
`<moto>/<pool id>/.well-known/jwks.json`, and names the issuer as AWS does
(`https://cognito-idp.<region>.amazonaws.com/<pool id>`); `jwks_fetcher` maps the one to the other.
"""

from __future__ import annotations

import json
import logging
import os
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .intrinsics import ACCOUNT_ID

log = logging.getLogger("touchline_dev.devstack")

COGNITO_FILE = "cognito.json"
ID_STRATEGY = {
    "MOTO_COGNITO_IDP_USER_POOL_ID_STRATEGY": "HASH",
    "MOTO_COGNITO_IDP_USER_POOL_CLIENT_ID_STRATEGY": "HASH",
}

# CloudFormation property -> CreateUserPool parameter (same name unless listed).
_POOL_RENAMES = {"UserPoolName": "PoolName"}
_POOL_PARAMETERS = (
    "PoolName",
    "Policies",
    "DeletionProtection",
    "LambdaConfig",
    "AutoVerifiedAttributes",
    "AliasAttributes",
    "UsernameAttributes",
    "SmsVerificationMessage",
    "EmailVerificationMessage",
    "EmailVerificationSubject",
    "VerificationMessageTemplate",
    "SmsAuthenticationMessage",
    "MfaConfiguration",
    "UserAttributeUpdateSettings",
    "DeviceConfiguration",
    "EmailConfiguration",
    "SmsConfiguration",
    "UserPoolTags",
    "AdminCreateUserConfig",
    "Schema",
    "UserPoolAddOns",
    "UsernameConfiguration",
    "AccountRecoverySetting",
)
_CLIENT_PARAMETERS = (
    "ClientName",
    "GenerateSecret",
    "RefreshTokenValidity",
    "AccessTokenValidity",
    "IdTokenValidity",
    "TokenValidityUnits",
    "ReadAttributes",
    "WriteAttributes",
    "ExplicitAuthFlows",
    "SupportedIdentityProviders",
    "CallbackURLs",
    "LogoutURLs",
    "DefaultRedirectURI",
    "AllowedOAuthFlows",
    "AllowedOAuthScopes",
    "AllowedOAuthFlowsUserPoolClient",
    "PreventUserExistenceErrors",
    "EnableTokenRevocation",
    "EnablePropagateAdditionalUserContextData",
    "AuthSessionValidity",
)


@dataclass(frozen=True)
class UserPoolInfo:
    logical_id: str
    pool_id: str
    arn: str
    region: str

    @property
    def provider_name(self) -> str:
        return f"cognito-idp.{self.region}.amazonaws.com/{self.pool_id}"


def use_stable_ids() -> None:
    """Make moto derive pool and client ids from their configuration (call before creating)."""
    os.environ.update(ID_STRATEGY)


def pool_parameters(properties: Mapping[str, Any]) -> dict[str, Any]:
    renamed = {_POOL_RENAMES.get(k, k): v for k, v in properties.items()}
    return {k: renamed[k] for k in _POOL_PARAMETERS if k in renamed}


def client_parameters(properties: Mapping[str, Any]) -> dict[str, Any]:
    return {k: properties[k] for k in _CLIENT_PARAMETERS if k in properties}


def jwks_fetcher(moto_url: str) -> Any:
    """Issuer → JWKS: Cognito issuers from moto; any other issuer through its discovery document."""
    prefix = "https://cognito-idp."

    def fetch(issuer: str) -> Mapping[str, Any]:
        if issuer.startswith(prefix) and ".amazonaws.com/" in issuer:
            pool_id = issuer.rsplit("/", 1)[1]
            url = f"{moto_url.rstrip('/')}/{pool_id}/.well-known/jwks.json"
        else:
            with urllib.request.urlopen(
                issuer.rstrip("/") + "/.well-known/openid-configuration", timeout=5
            ) as r:
                url = json.loads(r.read())["jwks_uri"]
        with urllib.request.urlopen(url, timeout=5) as response:
            data: Mapping[str, Any] = json.loads(response.read())
        return data

    return fetch


# --------------------------------------------------------------------------- users across restarts


def _backend(region: str) -> Any:
    from moto.cognitoidp.models import cognitoidp_backends

    return cognitoidp_backends[ACCOUNT_ID][region]


def dump_users(pools: list[UserPoolInfo]) -> dict[str, Any]:
    from .snapshot import FORMAT

    saved: dict[str, Any] = {}
    for info in pools:
        pool = _backend(info.region).user_pools.get(info.pool_id)
        if pool is None:
            continue
        users = []
        for user in pool.users.values():
            users.append(
                {
                    "username": user.username,
                    "sub": user.id,
                    "password": user.password,
                    "status": str(getattr(user.status, "value", user.status)),
                    "enabled": bool(user.enabled),
                    "attributes": [a for a in user.attributes if a["Name"] != "sub"],
                }
            )
        users.sort(key=lambda u: u["username"])
        saved[info.logical_id] = {"users": users}
    return {"format": FORMAT, "pools": saved}


def restore_users(pools: list[UserPoolInfo], path: Path) -> int:
    """Put saved users back into the (new, empty) pools, with their old `sub` and password."""
    from moto.cognitoidp.models import CognitoIdpUser, UserStatus

    from .snapshot import _read_json

    data = _read_json(path)
    if data is None:
        return 0
    by_id = {p.logical_id: p for p in pools}
    restored = 0
    for logical_id, saved in (data.get("pools") or {}).items():
        info = by_id.get(logical_id)
        if info is None:
            log.warning("cognito.json has users for %s, which the template no longer declares", logical_id)
            continue
        pool = _backend(info.region).user_pools[info.pool_id]
        for entry in saved.get("users", []):
            user = CognitoIdpUser(
                info.pool_id,
                entry["username"],
                entry["password"],
                UserStatus[entry["status"]],
                entry["attributes"],
            )
            user.id = entry["sub"]
            user.update_attributes([{"Name": "sub", "Value": entry["sub"]}])
            user.enabled = entry.get("enabled", True)
            pool.users[user.username] = user
            restored += 1
    return restored


class CognitoSnapshots:
    """Saves the pools' users when they changed (called with the table snapshots)."""

    def __init__(self, pools: list[UserPoolInfo], path: Path) -> None:
        self.pools = pools
        self.path = path
        self._last: bytes | None = path.read_bytes() if path.exists() else None

    def save(self) -> bool:
        if not self.pools:
            return False
        from .snapshot import write_atomically

        data = json.dumps(dump_users(self.pools), indent=1, sort_keys=True).encode()
        if data == self._last:
            return False
        write_atomically(self.path, data, mode=0o600)
        self._last = data
        return True
