"""People of the local stack's accounts (issue 15): the temporary password its CLI prints, and
a sign-in through moto's Cognito as a script does it (docs/accounts.md). One helper for every
e2e test that needs a person's real tokens."""

from __future__ import annotations

from typing import Any

NEW_PASSWORD = "Dashboard-passw0rd-7"


def temporary_password(stderr: str) -> str:
    """The temporary password a local stack's CLI prints for a new person (moto sends no email)."""
    marker = "temporary password "
    assert marker in stderr, stderr
    return stderr.split(marker, 1)[1].split()[0]


def cognito_sign_in(base: str, email: str, password: str, new_password: str = NEW_PASSWORD) -> dict[str, Any]:
    """Sign in as a script does (docs/accounts.md): the stack's auth config, then Cognito's own API,
    unsigned, answering the first sign-in's NEW_PASSWORD_REQUIRED."""
    import json
    import urllib.request

    import boto3
    import botocore

    with urllib.request.urlopen(f"{base}/api/v1/auth/config", timeout=30) as response:
        config = json.loads(response.read())
    cognito = boto3.client(
        "cognito-idp",
        region_name=config["region"],
        endpoint_url=config["cognito_endpoint"],
        config=botocore.config.Config(signature_version=botocore.UNSIGNED),
    )
    step = cognito.initiate_auth(
        ClientId=config["client_id"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": password},
    )
    if step.get("ChallengeName") == "NEW_PASSWORD_REQUIRED":
        step = cognito.respond_to_auth_challenge(
            ClientId=config["client_id"],
            ChallengeName="NEW_PASSWORD_REQUIRED",
            Session=step["Session"],
            ChallengeResponses={
                "USERNAME": step["ChallengeParameters"]["USERNAME"],
                "NEW_PASSWORD": new_password,
            },
        )
    return dict(step["AuthenticationResult"])
