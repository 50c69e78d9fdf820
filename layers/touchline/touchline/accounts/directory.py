"""Where people's sign-in identities live (Cognito): the seam the invitations go through."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Invitation:
    """A person in the directory: `user_id` is their Cognito `sub` (the JWT's subject).

    `temporary_password` is set only when the directory hands it back instead of emailing it
    (the local stack); it is shown once and never logged or stored."""

    user_id: str
    email: str
    created: bool
    temporary_password: str | None = None


class UserDirectory(Protocol):
    def invite(self, email: str) -> Invitation:
        """The person with this email, created (and sent a temporary password) if new."""
        ...
