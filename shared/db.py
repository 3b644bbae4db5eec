"""Database engines and tenant-scoped sessions.

Row-level security does the isolation; this module makes sure every transaction tells
PostgreSQL whose rows it may see, with ``set_config('app.tenant_id', …, true)`` — the function
form of ``SET LOCAL`` — issued at the start of each transaction, so a pooled connection never
carries one tenant's identity into another's transaction.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from sqlalchemy import Connection, create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from shared.config import sqlalchemy_url

TENANT_SETTING = "app.tenant_id"
_SESSION_TENANT_KEY = "tenant_id"


# libpq waits for a server that accepted the connection but does not answer (a host gone, a
# stalled failover) as long as TCP does: minutes, with the request, its pooled connection and
# the officer hanging. A bound turns it into an error the web shell answers 503 (shared/outage).
CONNECT_TIMEOUT_SECONDS = 5


def make_engine(url: str, *, pool_size: int = 10, connect_timeout: int = CONNECT_TIMEOUT_SECONDS, **kw: Any) -> Engine:
    """``pool_pre_ping``: a connection the pool kept across a PostgreSQL restart is tried before
    use and replaced, so the first request after the restart succeeds. A ``connect_timeout`` the
    URL names is the operator's and is kept."""
    connect_args: dict[str, Any] = dict(kw.pop("connect_args", {}))
    if "connect_timeout" not in url:
        connect_args.setdefault("connect_timeout", connect_timeout)
    return create_engine(
        sqlalchemy_url(url),
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        pool_recycle=1800,
        connect_args=connect_args,
        **kw,
    )


def set_tenant(conn: Connection, tenant_id: int | None) -> None:
    """SET LOCAL for the current transaction. ``None`` clears it: the session then sees nothing."""
    conn.execute(
        text("SELECT set_config(:k, :v, true)"),
        {"k": TENANT_SETTING, "v": "" if tenant_id is None else str(int(tenant_id))},
    )


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    factory = sessionmaker(engine, expire_on_commit=False, autoflush=True)

    @event.listens_for(factory, "after_begin")
    def _apply_tenant(session: Session, _tx: Any, connection: Connection) -> None:
        # Runs once per transaction (and per connection the transaction touches).
        set_tenant(connection, session.info.get(_SESSION_TENANT_KEY))

    return factory


@contextmanager
def tenant_session(factory: sessionmaker[Session], tenant_id: int | None) -> Iterator[Session]:
    """A session whose every transaction is scoped to ``tenant_id``. Commits at the end of the
    block (the boundary); rolls back on error. Services inside only flush."""
    session = factory(info={_SESSION_TENANT_KEY: tenant_id})
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


TenantScope = Callable[[int | None], AbstractContextManager[Session]]


def tenant_scope(factory: sessionmaker[Session]) -> TenantScope:
    """``scope(tenant_id)``: a committed transaction per call, under that tenant — what the
    tree loader and the directory publisher take, so they can open one per tenant."""
    return functools.partial(tenant_session, factory)
