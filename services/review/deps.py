"""Request-scoped resources: the transaction boundary lives here (commit after the handler)."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import Request
from sqlalchemy.orm import Session

from shared.db import tenant_session


def public_session(request: Request) -> Iterator[Session]:
    """A session with no tenant: it sees global tables only (tenants, trees, campaigns)."""
    with tenant_session(request.app.state.sessions, None) as s:
        yield s
