"""SQL of the reminders ledger. Every transaction runs under one tenant (row-level security)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from services.notify.models import MailTemplate, Reminder, ReminderState


def add(session: Session, values: dict[str, Any]) -> int | None:
    """The new reminder's id, or None when the ledger has it already (the key of once)."""
    stmt = (
        insert(Reminder)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["tenant_id", "deadline_id", "unit_code", "offset_code"])
        .returning(Reminder.id)
    )
    return session.execute(stmt).scalar()


# Advisory locks of the ledger (bigint keys): "N" in the top byte, the tenant, the reminder.
# Nothing else in the database takes keys in this range (the others are hashtext() values).
_LOCK_SPACE = 0x4E << 56


def _lock_key(tenant_id: int, reminder_id: int) -> int:
    return _LOCK_SPACE | (tenant_id << 40) | (reminder_id & (2**40 - 1))


def claim(session: Session, tenant_id: int, reminder_id: int) -> Reminder | None:
    """Locked for this transaction; None when another sender holds it: the row locked (it sends
    it now) or its advisory lock taken (it waits for the server's answer, sender.py)."""
    found = session.execute(
        select(Reminder, func.pg_try_advisory_xact_lock(_lock_key(tenant_id, reminder_id)))
        .where(Reminder.tenant_id == tenant_id, Reminder.id == reminder_id)
        .with_for_update(skip_locked=True, of=Reminder)
    ).first()
    if found is None or not found[1]:
        return None
    row: Reminder = found[0]
    return row


def keep_claimed(session: Session, tenant_id: int, reminder_id: int) -> None:
    """The advisory lock of a reminder, held by the session's connection (not its transaction)
    until ``let_go`` or until the connection ends, a process killed included."""
    session.execute(select(func.pg_advisory_lock(_lock_key(tenant_id, reminder_id))))


def let_go(conn: Connection, tenant_id: int, reminder_id: int) -> None:
    conn.execute(select(func.pg_advisory_unlock(_lock_key(tenant_id, reminder_id))))
    conn.commit()


def stale_planned(session: Session, tenant_id: int, before: dt.datetime, limit: int = 5000) -> list[int]:
    """Planned long ago and never sent: a task lost (a broker that restarted empty)."""
    return list(
        session.scalars(
            select(Reminder.id)
            .where(
                Reminder.tenant_id == tenant_id,
                Reminder.state == ReminderState.planned.value,
                Reminder.created_at < before,
            )
            .order_by(Reminder.id)
            .limit(limit)
        )
    )


def mark(session: Session, tenant_id: int, reminder_id: int, **values: Any) -> None:
    session.execute(
        update(Reminder).where(Reminder.tenant_id == tenant_id, Reminder.id == reminder_id).values(**values)
    )


def of_tenant(session: Session, tenant_id: int, *, state: str | None = None, limit: int = 500) -> Sequence[Reminder]:
    stmt = select(Reminder).where(Reminder.tenant_id == tenant_id)
    if state:
        stmt = stmt.where(Reminder.state == state)
    return session.scalars(stmt.order_by(Reminder.created_at.desc(), Reminder.id.desc()).limit(limit)).all()


def templates(session: Session, tenant_id: int) -> dict[str, MailTemplate]:
    """The tenant's edited templates by name (none edited: empty, the defaults apply)."""
    rows = session.scalars(select(MailTemplate).where(MailTemplate.tenant_id == tenant_id))
    return {t.name: t for t in rows}


def save_template(session: Session, tenant_id: int, name: str, values: dict[str, Any]) -> None:
    stmt = insert(MailTemplate).values(tenant_id=tenant_id, name=name, updated_at=func.now(), **values)
    stmt = stmt.on_conflict_do_update(index_elements=["tenant_id", "name"], set_={**values, "updated_at": func.now()})
    session.execute(stmt)


def delete_template(session: Session, tenant_id: int, name: str) -> None:
    session.execute(delete(MailTemplate).where(MailTemplate.tenant_id == tenant_id, MailTemplate.name == name))
