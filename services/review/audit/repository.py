"""SQL of the audit log. Appends are serialised per tenant by a transaction-scoped advisory
lock (the app role may not lock rows of a table it cannot update); the primary key
(tenant_id, seq) would refuse a fork even without it."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from services.review.audit.models import AuditRow

# pg_advisory_xact_lock(key1, key2): key1 names this lock family, key2 is the tenant.
_LOCK_FAMILY = 0x41554454  # "AUDT"


def lock_chain(session: Session, tenant_id: int) -> None:
    session.execute(text("SELECT pg_advisory_xact_lock(:f, :t)"), {"f": _LOCK_FAMILY, "t": tenant_id})


def head(session: Session, tenant_id: int) -> tuple[int, bytes] | None:
    row = session.execute(
        select(AuditRow.seq, AuditRow.hash)
        .where(AuditRow.tenant_id == tenant_id)
        .order_by(AuditRow.seq.desc())
        .limit(1)
    ).first()
    return None if row is None else (int(row[0]), bytes(row[1]))


def insert(session: Session, row: AuditRow) -> None:
    session.add(row)
    session.flush()


def rows(session: Session, tenant_id: int, *, batch: int = 1000) -> Iterator[AuditRow]:
    """Every row of the tenant's chain in order, read in batches by key (not OFFSET)."""
    last = 0
    while True:
        chunk = session.scalars(
            select(AuditRow)
            .where(AuditRow.tenant_id == tenant_id, AuditRow.seq > last)
            .order_by(AuditRow.seq)
            .limit(batch)
        ).all()
        if not chunk:
            return
        yield from chunk
        last = chunk[-1].seq


def count(session: Session, tenant_id: int) -> int:
    return int(session.scalar(select(func.count()).select_from(AuditRow).where(AuditRow.tenant_id == tenant_id)) or 0)


def for_entity(session: Session, tenant_id: int, entity: str, entity_id: str) -> list[AuditRow]:
    return list(
        session.scalars(
            select(AuditRow)
            .where(AuditRow.tenant_id == tenant_id, AuditRow.entity == entity, AuditRow.entity_id == entity_id)
            .order_by(AuditRow.seq)
        )
    )
