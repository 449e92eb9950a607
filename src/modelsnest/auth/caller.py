"""Who is calling the gateway: an API key's owner, or a signed-in user in the dashboard.

The gateway accepts a ``Caller`` and never looks at how it was authenticated. A key brings
its limits (rpm, tpm, spend limit, allowed models); a dashboard session has none of its own
and is bounded by the user's concurrency limit and credits. ``origin`` says which surface the
call came through, and is written to the usage row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from modelsnest.auth.key_verifier import ApiKeyPrincipal

ORIGINS: Final = frozenset({"api", "playground", "store"})


@dataclass(frozen=True, slots=True)
class Caller:
    user_id: int
    user_role: str
    origin: str = "api"
    key: ApiKeyPrincipal | None = None

    def __post_init__(self) -> None:
        if self.origin not in ORIGINS:
            raise ValueError(f"unknown caller origin {self.origin!r}")

    @classmethod
    def from_key(cls, principal: ApiKeyPrincipal, *, origin: str = "api") -> Caller:
        return cls(user_id=principal.user_id, user_role=principal.user_role, origin=origin, key=principal)

    @classmethod
    def signed_in(cls, user_id: int, user_role: str, *, origin: str = "playground") -> Caller:
        return cls(user_id=user_id, user_role=user_role, origin=origin)

    @property
    def key_id(self) -> int | None:
        return self.key.key_id if self.key is not None else None

    @property
    def limit_scope(self) -> str:
        """The rate-limit bucket: the key's own, or the user's when there is no key."""
        return f"k{self.key.key_id}" if self.key is not None else f"u{self.user_id}"

    @property
    def rpm_limit(self) -> int | None:
        return self.key.rpm_limit if self.key is not None else None

    @property
    def tpm_limit(self) -> int | None:
        return self.key.tpm_limit if self.key is not None else None

    def allows_model(self, slug: str) -> bool:
        return self.key is None or self.key.allows_model(slug)

    def spend_limit_reached(self, more_nanos: int) -> bool:
        """Would spending ``more_nanos`` take the key past its spend limit?"""
        key = self.key
        if key is None or key.spend_limit_nanos is None:
            return False
        return key.spent_nanos + more_nanos > key.spend_limit_nanos
