"""Who is acting: the signed-in officer, as every part of review receives it (frozen, no ORM)."""

from __future__ import annotations

from dataclasses import dataclass

from services.review.accounts.models import ROLE_LABELS, Role


@dataclass(frozen=True)
class Officer:
    tenant_id: int
    id: int
    unit_id: int
    role: Role
    name: str
    username: str
    tenant_code: str
    unit_name: str

    @property
    def login_name(self) -> str:
        return login_name(self.username, self.tenant_code)

    @property
    def role_label(self) -> str:
        return ROLE_LABELS[self.role]


def login_name(username: str, tenant_code: str) -> str:
    """What the officer types to sign in: the tenant is part of the name (see migration 0004)."""
    return f"{username}@{tenant_code}"
