"""Selection upward: nomination to the next level within the round's quota and deadline,
commendation (biểu dương) at any level, and nomination to the Tổng Liên đoàn, whose inbox is a
row owned by tenant 999 carrying only the initiative's public summary.

The maximum of a quota is the database's to enforce: the nomination takes one from the
(round, unit) counter in the same transaction, and the CHECK on the counter refuses the one
too many, however many officers nominate at the same moment. Only an administrator may grant
more, with a reason the audit log keeps."""

from __future__ import annotations

import datetime as dt

from psycopg import errors as pg_errors
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.review.accounts.models import Role
from services.review.accounts.principal import Officer
from services.review.audit import service as audit
from services.review.models import Submission, Unit
from services.review.workflow import repository as repo
from services.review.workflow.access import (
    DECIDERS,
    EVERYONE,
    actor,
    find_case,
    require_holder,
    require_role,
    visible_unit,
)
from services.review.workflow.appraisal import _round_for, has_complete_appraisal
from services.review.workflow.models import NATIONAL_TENANT_ID, Case, Commendation, Nomination, QuotaRule, Round
from services.review.workflow.schemas import NationalOut, NominationOut, QuotaReportOut, QuotaRowOut
from services.review.workflow.service import change_status, check_validity, due_at, next_level, round_of
from shared.contracts.submissions import STATUS_LABELS, SubmissionStatus
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from shared.timeutil import now

S = SubmissionStatus


class NotReady(InvalidInput):
    """The dossier fails conditions of selection; ``failures`` names each one."""

    code = "chua_du_dieu_kien"


def _rules_for(session: Session, tenant_id: int, rnd: Round, level: str, unit_id: int) -> list[QuotaRule]:
    chain = set(repo.ancestors(session, tenant_id, unit_id))
    return [
        r
        for r in repo.quota_rules(session, tenant_id, rnd.id)
        if r.from_level == level and (r.scope_unit_id is None or r.scope_unit_id in chain)
    ]


def _max_of(rules: list[QuotaRule]) -> int | None:
    maxes = [r.max_count for r in rules if r.max_count is not None]
    return min(maxes) if maxes else None


def _min_of(rules: list[QuotaRule]) -> int | None:
    mins = [r.min_count for r in rules if r.min_count is not None]
    return max(mins) if mins else None


def nominate(
    session: Session, officer: Officer, code: str, round_code: str, *, at: dt.datetime | None = None
) -> NominationOut:
    at = at or now()
    sub, case = find_case(session, officer, code, lock=True)
    require_role(officer, DECIDERS)
    require_holder(session, officer, case)
    rnd = round_of(session, sub, round_code)
    if rnd.closed_at is not None:
        raise Conflict(f"{rnd.name} đã kết thúc", field="round")
    level, target, parent = next_level(session, sub, case)
    _within_round(session, sub, rnd, level, target)
    if repo.nomination_exists(session, sub.tenant_id, rnd.id, sub.id, target):
        raise Conflict("Sáng kiến đã được giới thiệu lên cấp trên trong đợt này")
    found = check_validity(session, sub, case, at=at, due=due_at(session, sub, case, rnd, target))
    if not has_complete_appraisal(session, sub, rnd, case.holder_unit_id):
        from services.review.workflow.validity import Failure

        found.append(Failure("tham_dinh", "Đã được thẩm định", "chưa có cán bộ nào chấm đủ các tiêu chí"))
    if found:
        raise NotReady(
            "Sáng kiến chưa đủ điều kiện để giới thiệu lên cấp trên: " + "; ".join(f.label for f in found),
            failures=[{"code": f.code, "label": f.label, "detail": f.detail} for f in found],
        )
    over = _take_quota(session, officer, rnd, level, case.holder_unit_id)
    holder_id = case.holder_unit_id
    to_national = parent is None
    repo.add(
        session,
        Nomination(
            tenant_id=sub.tenant_id,
            round_id=rnd.id,
            submission_id=sub.id,
            from_unit_id=holder_id,
            to_unit_id=None if parent is None else parent.id,
            to_level=target,
            nominated_by=officer.id,
            nominated_at=at,
            over_quota=over,
        ),
    )
    who = actor(officer)
    holder = repo.unit(session, sub.tenant_id, holder_id)
    assert holder is not None
    audit.record(
        session,
        sub.tenant_id,
        who,
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
    if to_national:
        _send_to_national(session, sub, case, rnd, holder, at)
        to_name = "Tổng Liên đoàn Lao động Việt Nam"
        change_status(session, sub, case, S.de_cu_toan_quoc, who, detail=f"{holder.name} đề nghị {to_name} biểu dương")
    else:
        assert parent is not None
        case.holder_unit_id = parent.id
        case.updated_at = at
        session.flush()
        to_name = parent.name
        change_status(session, sub, case, S.de_cu, who, detail=f"Đã được giới thiệu lên {parent.name}")
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


def _take_quota(session: Session, officer: Officer, rnd: Round, level: str, unit_id: int) -> bool:
    """One from the unit's counter for the round; True when it used an override."""
    rules = _rules_for(session, officer.tenant_id, rnd, level, unit_id)
    maximum = _max_of(rules)
    repo.ensure_usage(session, officer.tenant_id, rnd.id, unit_id, maximum)
    try:
        with session.begin_nested():
            used, max_count, _ = repo.take_quota(session, officer.tenant_id, rnd.id, unit_id)
    except IntegrityError as exc:
        if isinstance(exc.orig, pg_errors.CheckViolation):
            raise Conflict(
                f"Đơn vị đã giới thiệu đủ số lượng cho phép trong {rnd.name} (không quá {maximum} sáng kiến)",
                field="round",
            ) from exc
        raise
    return max_count is not None and used > max_count


def override_quota(
    session: Session, officer: Officer, campaign_code: str, round_code: str, unit_code: str, extra: int, reason: str
) -> QuotaRowOut:
    if officer.role != Role.quan_tri:
        raise Forbidden("Chỉ quản trị mới được cho phép vượt số lượng")
    if not reason.strip():
        raise InvalidInput("Cần ghi rõ lý do cho phép vượt số lượng", field="reason")
    if extra < 1:
        raise InvalidInput("Số lượng cho phép thêm phải từ 1 trở lên", field="extra")
    rnd, campaign_id = _round_for(session, officer, campaign_code, round_code)
    campaign = repo.campaign(session, campaign_id)
    assert campaign is not None
    unit = visible_unit(session, officer, campaign.tree_id, unit_code)
    level = _level_of(session, officer.tenant_id, campaign_id, unit)
    rules = _rules_for(session, officer.tenant_id, rnd, level, unit.id)
    repo.ensure_usage(session, officer.tenant_id, rnd.id, unit.id, _max_of(rules))
    before, after = repo.grant_extra(session, officer.tenant_id, rnd.id, unit.id, extra)
    audit.record(
        session,
        officer.tenant_id,
        actor(officer),
        action="vuot_chi_tieu",
        entity="quota",
        entity_id=f"{rnd.id}:{unit.id}",
        before={"extra": before},
        after={"extra": after, "round": rnd.code, "unit": unit.code},
        reason=reason.strip(),
    )
    return _quota_row(session, officer.tenant_id, rnd, unit, level, rules)


def _level_of(session: Session, tenant_id: int, campaign_id: int, unit: Unit) -> str:
    for lv in repo.levels(session, tenant_id, campaign_id):
        if unit.kind in lv.unit_kinds:
            return lv.code
    raise Conflict(f"Chưa cấu hình cấp xét chọn cho {unit.name}")


def _quota_row(
    session: Session, tenant_id: int, rnd: Round, unit: Unit, level: str, rules: list[QuotaRule]
) -> QuotaRowOut:
    usage = repo.usage(session, tenant_id, rnd.id, [unit.id]).get(unit.id)
    used, extra = (0, 0) if usage is None else (usage.used, usage.extra)
    lo, hi = _min_of(rules), _max_of(rules)
    return QuotaRowOut(
        unit=unit.code,
        unit_name=unit.name,
        level=level,
        used=used,
        min_count=lo,
        max_count=hi,
        extra=extra,
        below_minimum=lo is not None and used < lo,
        full=hi is not None and used >= hi + extra,
    )


def quota_of(session: Session, tenant_id: int, rnd: Round, campaign_id: int, unit: Unit) -> QuotaRowOut | None:
    """The unit's own quota in the round (None: no rule covers its level there)."""
    try:
        level = _level_of(session, tenant_id, campaign_id, unit)
    except Conflict:
        return None
    rules = _rules_for(session, tenant_id, rnd, level, unit.id)
    return _quota_row(session, tenant_id, rnd, unit, level, rules) if rules else None


def quota_report(session: Session, officer: Officer, campaign_code: str, round_code: str) -> QuotaReportOut:
    """For every unit in the officer's subtree that a quota rule covers: how many it has
    recommended, against the minimum and the maximum. ``below_minimum`` lists who still owes."""
    require_role(officer, EVERYONE)
    rnd, campaign_id = _round_for(session, officer, campaign_code, round_code)
    levels = repo.levels(session, officer.tenant_id, campaign_id)
    rules = repo.quota_rules(session, officer.tenant_id, rnd.id)
    mine = repo.subtree(session, officer.tenant_id, officer.unit_id)
    items = []
    for lv in levels:
        if not any(r.from_level == lv.code for r in rules):
            continue
        for unit in repo.units_of_kinds(session, officer.tenant_id, mine, lv.unit_kinds):
            applicable = _rules_for(session, officer.tenant_id, rnd, lv.code, unit.id)
            if applicable:
                items.append(_quota_row(session, officer.tenant_id, rnd, unit, lv.code, applicable))
    return QuotaReportOut(round=rnd.code, items=items, below_minimum=[i.unit for i in items if i.below_minimum])


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
    sub, case = find_case(session, officer, code, lock=True)
    require_role(officer, DECIDERS)
    require_holder(session, officer, case)
    rnd = round_of(session, sub, round_code)
    if repo.open_complaints(session, sub.tenant_id, sub.id):
        raise Conflict("Sáng kiến đang có khiếu nại, tranh chấp chưa giải quyết")
    if repo.commendation_exists(session, sub.tenant_id, sub.id, case.holder_unit_id, rnd.id):
        raise Conflict("Đơn vị đã biểu dương sáng kiến này trong đợt")
    unit = repo.unit(session, sub.tenant_id, case.holder_unit_id)
    assert unit is not None
    award = (title or "").strip() or f"Được {unit.name} biểu dương ({rnd.name})"
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
    who = actor(officer)
    audit.record(
        session, sub.tenant_id, who, action="bieu_duong", entity="submission", entity_id=sub.id, after={"award": award}
    )
    change_status(session, sub, case, S.bieu_duong, who, detail=award)
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
    note = (note or "").strip() or None
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
    audit.record(
        session,
        officer.tenant_id,
        actor(officer),
        action="quyet_dinh_toan_quoc",
        entity="national_nomination",
        entity_id=f"{source_tenant_id}:{source_submission_id}",
        before={"status": before},
        after={"status": decision},
        reason=note,
    )
    return _national_out(row)


def _national_out(r: object) -> NationalOut:
    from services.review.workflow.models import NationalNomination

    assert isinstance(r, NationalNomination)
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
