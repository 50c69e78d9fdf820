"""The Cognito user pool as a `UserDirectory`: invitations are AdminCreateUser.

In AWS Cognito makes the temporary password and emails it (the pool's invitation message). The
local stack has no email: `deliver="return"` makes the password here, suppresses the message and
hands it back to be printed once (`touchline orgs create`, `touchline members invite`).
"""

from __future__ import annotations

import secrets
import string
from typing import TYPE_CHECKING, Any, Literal

from touchline.accounts.directory import Invitation

if TYPE_CHECKING:
    from mypy_boto3_cognito_idp.client import CognitoIdentityProviderClient

Delivery = Literal["email", "return"]


class CognitoDirectory:
    def __init__(
        self, client: CognitoIdentityProviderClient, user_pool_id: str, deliver: Delivery = "email"
    ) -> None:
        self._client = client
        self._pool = user_pool_id
        self._deliver = deliver

    def invite(self, email: str) -> Invitation:
        kwargs: dict[str, Any] = {
            "UserPoolId": self._pool,
            "Username": email,
            "UserAttributes": [
                {"Name": "email", "Value": email},
                {"Name": "email_verified", "Value": "true"},
            ],
        }
        password = None
        if self._deliver == "return":
            password = temporary_password()
            kwargs |= {"TemporaryPassword": password, "MessageAction": "SUPPRESS"}
        else:
            kwargs["DesiredDeliveryMediums"] = ["EMAIL"]
        try:
            user = self._client.admin_create_user(**kwargs)["User"]
        except self._client.exceptions.UsernameExistsException:
            existing = self._client.admin_get_user(UserPoolId=self._pool, Username=email)
            return Invitation(_sub(existing.get("UserAttributes", [])), email, created=False)
        return Invitation(_sub(user.get("Attributes", [])), email, created=True, temporary_password=password)


def _sub(attributes: Any) -> str:
    for attribute in attributes:
        if attribute["Name"] == "sub":
            return str(attribute["Value"])
    raise RuntimeError("Cognito returned a user without a sub")


def temporary_password(length: int = 20) -> str:
    """Random, and meeting the pool's policy (upper, lower, digit, symbol) whatever the draw."""
    classes = (string.ascii_uppercase, string.ascii_lowercase, string.digits, "!#%*+-=?@^_")
    chars = [secrets.choice(c) for c in classes]
    alphabet = "".join(classes)
    chars += [secrets.choice(alphabet) for _ in range(length - len(chars))]
    secrets.SystemRandom().shuffle(chars)
    return "".join(chars)
