"""Selection upward: nomination to the next level within the round's quota (quotas.py) and
deadline, commendation (biểu dương) at any level, and nomination to the Tổng Liên đoàn, whose
inbox is a row owned by tenant 999 carrying only the initiative's public summary."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from services.review.accounts.principal import Officer
from services.review.models import Submission, Unit
from services.review.workflow import quotas
from services.review.workflow import repository as repo
from services.review.workflow.access import DECIDERS, EVERYONE, actor, case_for, record_act, require_role
from services.review.workflow.appraisal import has_complete_appraisal
from services.review.workflow.models import (
    NATIONAL_TENANT_ID,
    Case,
    Commendation,
    NationalNomination,
    Nomination,
    Round,
)
from services.review.workflow.quotas import override_quota as override_quota
from services.review.workflow.quotas import quota_of as quota_of
from services.review.workflow.quotas import quota_report as quota_report
from services.review.workflow.schemas import NationalOut, NominationOut
from services.review.workflow.service import change_status, check_validity, due_at, next_level, round_of
from services.review.workflow.validity import Failure
from shared.contracts.submissions import STATUS_LABELS, SubmissionStatus
from shared.errors import Conflict, InvalidInput, NotFound
from shared.text import multiline, one_line
from shared.timeutil import now

S = SubmissionStatus


class NotReady(InvalidInput):
    """The dossier fails conditions of selection; ``failures`` names each one."""

    code = "chua_du_dieu_kien"


def nominate(
    session: Session, officer: Officer, code: str, round_code: str, *, at: dt.datetime | None = None
) -> NominationOut:
    at = at or now()
    sub, case = case_for(session, officer, code, DECIDERS, holder=True, lock=True)
    rnd = round_of(session, sub, round_code)
    if rnd.closed_at is not None:
        raise Conflict(f"{rnd.name} đã kết thúc", field="round")
    level, target, parent = next_level(session, sub, case)
    _within_round(session, sub, rnd, level, target)
    if repo.nomination_exists(session, sub.tenant_id, rnd.id, sub.id, target):
        raise Conflict("Sáng kiến đã được giới thiệu lên cấp trên trong đợt này")
    found = check_validity(session, sub, case, at=at, due=due_at(session, sub, case, rnd, target))
    if not has_complete_appraisal(session, sub, rnd, case.holder_unit_id):
        found.append(Failure("tham_dinh", "Đã được thẩm định", "chưa có cán bộ nào chấm đủ các tiêu chí"))
    if found:
        raise NotReady(
            "Sáng kiến chưa đủ điều kiện để giới thiệu lên cấp trên: " + "; ".join(f.label for f in found),
            failures=[{"code": f.code, "label": f.label, "detail": f.detail} for f in found],
        )
    over = quotas.take(session, officer, rnd, level, case.holder_unit_id)
    holder = repo.unit(session, sub.tenant_id, case.holder_unit_id)
    assert holder is not None
    repo.add(
        session,
        Nomination(
            tenant_id=sub.tenant_id,
            round_id=rnd.id,
            submission_id=sub.id,
            from_unit_id=holder.id,
            to_unit_id=None if parent is None else parent.id,
            to_level=target,
            nominated_by=officer.id,
            nominated_at=at,
            over_quota=over,
        ),
    )
    record_act(
        session,
        officer,
        action="de_cu",
        entity="submission",
        entity_id=sub.id,
        before={"unit": holder.code},
        after={
            "round": rnd.code,
            "to_level": target,
            "to_unit": None if parent is None else parent.code,
            "over_quota": over,
        },
    )
    if parent is None:
        _send_to_national(session, sub, case, rnd, holder, at)
        to_name = "Tổng Liên đoàn Lao động Việt Nam"
        change_status(
            session, sub, case, S.de_cu_toan_quoc, actor(officer), detail=f"{holder.name} đề nghị {to_name} biểu dương"
        )
    else:
        case.holder_unit_id = parent.id
        case.updated_at = at
        session.flush()
        to_name = parent.name
        change_status(session, sub, case, S.de_cu, actor(officer), detail=f"Đã được giới thiệu lên {parent.name}")
    return NominationOut(
        tracking_code=sub.tracking_code,
        round=rnd.code,
        to_level=target,
        to_unit=None if parent is None else parent.code,
        to_unit_name=to_name,
        over_quota=over,
        status=sub.status,
        status_label=STATUS_LABELS.get(sub.status, sub.status),
    )


def _within_round(session: Session, sub: Submission, rnd: Round, level: str, target: str) -> None:
    if rnd.top_level is None:
        return
    order = {lv.code: lv for lv in repo.levels(session, sub.tenant_id, sub.campaign_id)}
    if order[target].ordinal > order[rnd.top_level].ordinal:
        raise Conflict(
            f"Trong {rnd.name}, {order[level].name} chỉ biểu dương, không đề nghị lên cấp trên", field="round"
        )


def commend(
    session: Session,
    officer: Officer,
    code: str,
    round_code: str,
    title: str | None = None,
    *,
    at: dt.datetime | None = None,
) -> NominationOut:
    """Biểu dương by the unit holding the initiative, at any level."""
    at = at or now()
    sub, case = case_for(session, officer, code, DECIDERS, holder=True, lock=True)
    rnd = round_of(session, sub, round_code)
    if repo.open_complaints(session, sub.tenant_id, sub.id):
        raise Conflict("Sáng kiến đang có khiếu nại, tranh chấp chưa giải quyết")
    if repo.commendation_exists(session, sub.tenant_id, sub.id, case.holder_unit_id, rnd.id):
        raise Conflict("Đơn vị đã biểu dương sáng kiến này trong đợt")
    unit = repo.unit(session, sub.tenant_id, case.holder_unit_id)
    assert unit is not None
    award = one_line(title or "") or f"Được {unit.name} biểu dương ({rnd.name})"
    repo.add(
        session,
        Commendation(
            tenant_id=sub.tenant_id,
            submission_id=sub.id,
            unit_id=unit.id,
            round_id=rnd.id,
            title=award,
            commended_by=officer.id,
            commended_at=at,
        ),
    )
    case.awards = [*case.awards, award]
    session.flush()
    record_act(session, officer, action="bieu_duong", entity="submission", entity_id=sub.id, after={"award": award})
    change_status(session, sub, case, S.bieu_duong, actor(officer), detail=award)
    return NominationOut(
        tracking_code=sub.tracking_code,
        round=rnd.code,
        to_level="",
        to_unit=unit.code,
        to_unit_name=unit.name,
        over_quota=False,
        status=sub.status,
        status_label=STATUS_LABELS.get(sub.status, sub.status),
    )


# --- the Tổng Liên đoàn ----------------------------------------------------------------------


def _send_to_national(session: Session, sub: Submission, case: Case, rnd: Round, holder: Unit, at: dt.datetime) -> None:
    """The public summary only: a trade secret sends its name, effect and awards, no content,
    no author."""
    secret = case.trade_secret
    repo.add_national(
        session,
        {
            "tenant_id": NATIONAL_TENANT_ID,
            "source_tenant_id": sub.tenant_id,
            "source_submission_id": sub.id,
            "round_code": rnd.code,
            "tracking_code": sub.tracking_code,
            "title": sub.title,
            "field": None if secret else sub.field,
            "summary": None if secret else sub.description,
            "benefit": sub.benefit,
            "awards": list(case.awards),
            "author": None if secret else sub.full_name,
            "source_unit_name": holder.name,
            "trade_secret": secret,
            "nominated_at": at,
            "status": "cho_xet",
        },
    )


def _national_officer(officer: Officer) -> None:
    if officer.tenant_id != NATIONAL_TENANT_ID:
        raise NotFound("Không tìm thấy")


def national_list(session: Session, officer: Officer, *, limit: int = 500) -> list[NationalOut]:
    _national_officer(officer)
    require_role(officer, EVERYONE)
    return [_national_out(r) for r in repo.national_rows(session, limit=limit)]


def national_decide(
    session: Session,
    officer: Officer,
    source_tenant_id: int,
    source_submission_id: int,
    decision: str,
    note: str | None,
) -> NationalOut:
    _national_officer(officer)
    require_role(officer, DECIDERS)
    if decision not in ("bieu_duong", "khong_chon"):
        raise InvalidInput("Quyết định phải là bieu_duong hoặc khong_chon", field="decision")
    note = multiline(note or "") or None
    if decision == "khong_chon" and note is None:
        raise InvalidInput("Cần ghi rõ lý do không chọn", field="note")
    row = repo.national_row(session, source_tenant_id, source_submission_id, lock=True)
    if row is None:
        raise NotFound("Không tìm thấy sáng kiến được đề nghị")
    if row.status != "cho_xet":  # the province and the author were told: a decision stands
        raise Conflict("Tổng Liên đoàn đã có quyết định về sáng kiến này")
    before = row.status
    row.status, row.decided_at, row.decision_note = decision, now(), note
    session.flush()
    record_act(
        session,
        officer,
        action="quyet_dinh_toan_quoc",
        entity="national_nomination",
        entity_id=f"{source_tenant_id}:{source_submission_id}",
        before={"status": before},
        after={"status": decision},
        reason=note,
    )
    return _national_out(row)


def _national_out(r: NationalNomination) -> NationalOut:
    return NationalOut(
        source_tenant_id=r.source_tenant_id,
        source_submission_id=r.source_submission_id,
        tracking_code=r.tracking_code,
        round=r.round_code,
        title=r.title,
        field=r.field,
        summary=r.summary,
        benefit=r.benefit,
        awards=list(r.awards),
        author=r.author,
        source_unit_name=r.source_unit_name,
        trade_secret=r.trade_secret,
        nominated_at=r.nominated_at,
        status=r.status,
        decision_note=r.decision_note,
    )
