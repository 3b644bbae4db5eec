"""Where an initiative is looked at: the unit it landed at keeps it or hands it to one of its
own units (a CĐCS); only its own unit marks it a trade secret. Both are acts of the unit
holding it, before anything went up (after a nomination the holder is the upper union)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from services.review.accounts.principal import Officer
from services.review.audit import service as audit
from services.review.workflow import repository as repo
from services.review.workflow.access import DECIDERS, actor, find_case, require_holder, require_role
from services.review.workflow.schemas import CaseOut
from services.review.workflow.service import case_out, change_status
from shared.errors import Conflict, NotFound
from shared.timeutil import now


def route(session: Session, officer: Officer, code: str, unit_code: str) -> CaseOut:
    """The unit an initiative landed at hands it to one of its own units (a CĐCS)."""
    sub, case = find_case(session, officer, code, lock=True)
    require_role(officer, DECIDERS)
    require_holder(session, officer, case)
    if case.holder_unit_id != case.own_unit_id:
        raise Conflict("Sáng kiến đã được cấp dưới giới thiệu lên, không chuyển xuống được nữa")
    holder = repo.unit(session, officer.tenant_id, case.holder_unit_id)
    assert holder is not None
    target = repo.unit_by_code(session, officer.tenant_id, holder.tree_id, unit_code)
    if target is None or target.parent_id != holder.id:
        raise NotFound(f"{holder.name} không có đơn vị trực thuộc mã “{unit_code}”", field="unit")
    case.holder_unit_id = case.own_unit_id = target.id
    case.updated_at = now()
    session.flush()
    who = actor(officer)
    audit.record(
        session,
        officer.tenant_id,
        who,
        action="chuyen_don_vi",
        entity="submission",
        entity_id=sub.id,
        before={"unit": holder.code},
        after={"unit": target.code},
    )
    change_status(session, sub, case, sub.status, who, detail=f"Đã chuyển đến {target.name} xem xét")
    return case_out(session, officer, sub, case)


def set_trade_secret(session: Session, officer: Officer, code: str, secret: bool) -> CaseOut:
    """Only the initiative's own unit decides that it is a trade secret (or no longer one)."""
    sub, case = find_case(session, officer, code, lock=True)
    require_role(officer, DECIDERS)
    if officer.unit_id != case.own_unit_id:
        raise Conflict("Chỉ đơn vị của sáng kiến mới xác định được bí mật kinh doanh")
    if case.trade_secret != secret:
        audit.record(
            session,
            officer.tenant_id,
            actor(officer),
            action="bi_mat_kinh_doanh",
            entity="submission",
            entity_id=sub.id,
            before={"trade_secret": case.trade_secret},
            after={"trade_secret": secret},
        )
        case.trade_secret = secret
        session.flush()
    return case_out(session, officer, sub, case)


def keep(session: Session, officer: Officer, code: str) -> CaseOut:
    """The unit it landed at decides to look at it itself rather than hand it down. Nothing
    moves; the decision is written down (the submitter's history says who is looking at it)."""
    sub, case = find_case(session, officer, code, lock=True)
    require_role(officer, DECIDERS)
    require_holder(session, officer, case)
    if case.holder_unit_id != case.own_unit_id:
        raise Conflict("Sáng kiến đã được cấp dưới giới thiệu lên, không cần giữ lại")
    holder = repo.unit(session, officer.tenant_id, case.holder_unit_id)
    assert holder is not None
    who = actor(officer)
    audit.record(
        session,
        officer.tenant_id,
        who,
        action="giu_lai",
        entity="submission",
        entity_id=sub.id,
        after={"unit": holder.code},
    )
    change_status(session, sub, case, sub.status, who, detail=f"{holder.name} trực tiếp xem xét")
    return case_out(session, officer, sub, case)
