"""Planning: from what review says each unit owes, the reminders due now go into the ledger.

Run as often as you like (the beat runs it every minute; the tests drive the clock): the
ledger's unique key (tenant, deadline, unit, offset) makes a second run, a second beat or a
restart write nothing again. Only the flush is here; the caller commits, then hands the new
ids to the workers."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy.orm import Session

from services.notify import messages
from services.notify import repository as repo
from services.notify.models import ReminderState
from services.notify.schedule import ESCALATION, current_offset, escalation_due, send_at
from shared.contracts.obligations import DeadlineDue, ObligationsOut, UnitDue

NO_ADDRESS = "Đơn vị chưa có địa chỉ email: quản trị cập nhật tại bàn làm việc cán bộ, mục Đơn vị"


@dataclass(frozen=True)
class Policy:
    offsets: tuple[str, ...]
    morning: dt.time
    escalation_window: dt.timedelta
    console_url: str


def _values(
    tenant_id: int,
    d: DeadlineDue,
    unit_code: str,
    offset: str,
    kind: str,
    to: str | None,
    msg: messages.Message,
    at: dt.datetime,
    planned: dt.datetime,
) -> dict[str, object]:
    return {
        "tenant_id": tenant_id,
        "deadline_id": d.deadline_id,
        "unit_code": unit_code,
        "offset_code": offset,
        "kind": kind,
        "due_at": d.due_at,
        "send_at": at,
        "to_email": to,
        "subject": msg.subject,
        "body_text": msg.text,
        "body_html": msg.html,
        "state": ReminderState.planned.value if to else ReminderState.skipped.value,
        "error": None if to else NO_ADDRESS,
        # The planner's clock, not the database's: the sweep of lost tasks compares with it.
        "created_at": planned,
    }


def tenant_templates(session: Session, tenant_id: int) -> messages.Templates:
    """The tenant's edited wording by name; a name missing here renders the shipped default."""
    return {
        n: messages.Draft(t.subject, t.body_text, t.body_html) for n, t in repo.templates(session, tenant_id).items()
    }


def plan(
    session: Session,
    obligations: ObligationsOut,
    now: dt.datetime,
    policy: Policy,
    templates: messages.Templates | None = None,
) -> list[int]:
    """The ids of the reminders this run added (only those with an address are to send).
    ``templates``: the tenant's, read once here unless the caller has them already."""
    tenant = obligations.tenant_id
    if templates is None:
        templates = tenant_templates(session, tenant)
    added: list[int] = []
    for d in obligations.deadlines:
        owing = [u for u in d.units if not u.fulfilled]
        offset = current_offset(d.due_at, now, policy.offsets, policy.morning)
        if offset is not None:
            at = send_at(d.due_at, offset, policy.morning)
            for u in owing:
                msg = messages.reminder(d, u, offset, policy.console_url, templates.get("nhac_han"))
                new = repo.add(session, _values(tenant, d, u.unit_code, offset, "nhac-han", u.email, msg, at, now))
                if new is not None and u.email:
                    added.append(new)
        if escalation_due(d.due_at, now, policy.escalation_window):
            by_parent: dict[str, list[UnitDue]] = defaultdict(list)
            for u in owing:
                if u.parent_code is not None:
                    by_parent[u.parent_code].append(u)
            for parent, units in sorted(by_parent.items()):
                first = units[0]
                name = first.parent_name or parent
                msg = messages.escalation(d, name, units, policy.console_url, templates.get("qua_han"))
                values = _values(tenant, d, parent, ESCALATION, ESCALATION, first.parent_email, msg, d.due_at, now)
                new = repo.add(session, values)
                if new is not None and first.parent_email:
                    added.append(new)
    session.flush()
    return added
