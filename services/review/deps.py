"""Request-scoped resources: the transaction boundary lives here (commit after the handler)."""

from __future__ import annotations

import hmac
from collections.abc import Iterator

from fastapi import Request
from sqlalchemy.orm import Session

from shared.db import tenant_session
from shared.errors import Unauthorized


def public_session(request: Request) -> Iterator[Session]:
    """A session with no tenant: it sees global tables only (tenants, trees, campaigns)."""
    with tenant_session(request.app.state.sessions, None) as s:
        yield s


def require_admin(request: Request) -> None:
    """Bearer token of the platform's administrators (dead letters). The officers' sign-in of
    the review console replaces it for tenant work; this one is for operators on call."""
    token = request.app.state.settings.admin_token
    given = request.headers.get("authorization", "")
    if token is None or not hmac.compare_digest(given.encode(), f"Bearer {token.get_secret_value()}".encode()):
        raise Unauthorized("Cần đăng nhập với quyền quản trị hệ thống")
