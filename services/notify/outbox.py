"""The outbox: a tenant's reminders for the console, and resending one. No FastAPI here and no
commit: the API handler owns the transaction and sends the task after it commits."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.notify import repository as repo
from services.notify.models import Reminder, ReminderState
from shared.contracts.reminders import KIND_LABELS, STATE_LABELS, OutboxOut, ReminderOut
from shared.errors import Conflict, InvalidInput, NotFound
from shared.timeutil import local

NOT_FOUND = "Không tìm thấy thư nhắc"


def describe(r: Reminder, *, body: bool = False) -> ReminderOut:
    return ReminderOut(
        id=r.id,
        unit_code=r.unit_code,
        kind=r.kind,
        kind_label=KIND_LABELS.get(r.kind, r.kind),
        offset_code=r.offset_code,
        to_email=r.to_email,
        subject=r.subject,
        state=r.state,
        state_label=STATE_LABELS.get(r.state, r.state),
        error=r.error,
        attempts=r.attempts,
        due_at=local(r.due_at),
        send_at=local(r.send_at),
        sent_at=local(r.sent_at) if r.sent_at else None,
        body_text=r.body_text if body else None,
    )


def outbox(session: Session, tenant_id: int, state: str | None) -> OutboxOut:
    if state and state not in STATE_LABELS:
        raise InvalidInput("Trạng thái thư nhắc không hợp lệ", field="state")
    rows = repo.of_tenant(session, tenant_id, state=state or None)
    counts = dict(
        session.execute(
            select(Reminder.state, func.count()).where(Reminder.tenant_id == tenant_id).group_by(Reminder.state)
        ).all()
    )
    return OutboxOut(items=[describe(r) for r in rows], counts={k: int(counts.get(k, 0)) for k in STATE_LABELS})


def one(session: Session, tenant_id: int, reminder_id: int) -> Reminder:
    found = session.get(Reminder, (tenant_id, reminder_id))
    if found is None:
        raise NotFound(NOT_FOUND)
    return found


def resend(session: Session, tenant_id: int, reminder_id: int) -> Reminder:
    """A failed reminder queued again (the address fixed, the server's refusal cleared). A sent
    one is not sent twice by this button; one still waiting is already queued."""
    r = one(session, tenant_id, reminder_id)
    if r.state == ReminderState.sent.value:
        raise Conflict("Thư nhắc này đã được gửi")
    if r.state == ReminderState.planned.value:
        raise Conflict("Thư nhắc này đang chờ gửi")
    if not r.to_email:
        raise Conflict("Đơn vị chưa có địa chỉ email: cập nhật địa chỉ rồi lập lại kế hoạch nhắc")
    repo.mark(session, tenant_id, r.id, state=ReminderState.planned.value, error=None)
    session.flush()
    session.refresh(r)
    return r
