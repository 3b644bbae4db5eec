"""Editing a tenant's workflow configuration (quản trị): a round's deadline per level, a quota
rule's bounds, the rubric's criteria and weights. Every change is refused once its round is
closed (the round's scores are frozen and hashed; a later rule would rewrite history) and is
written to the audit log from what to what.

Who: the tenant-wide rules (no scope) belong to an administrator of the tenant's top unit; a rule
scoped to a unit's subtree also to an administrator of that unit or above. Anything else of
another tenant, or outside the officer's reach, is “not found”."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from sqlalchemy.orm import Session

from services.review.accounts.models import Role
from services.review.accounts.principal import Officer
from services.review.audit import service as audit
from services.review.workflow import config_repository as cfg_repo
from services.review.workflow import repository as repo
from services.review.workflow.access import actor, require_role, sees_unit
from services.review.workflow.appraisal import round_for
from services.review.workflow.models import Round
from services.review.workflow.quotas import level_of, max_of, rules_for
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from shared.text import one_line

RUBRIC_TOTAL = Decimal(100)
MAX_QUOTA = 10_000


@dataclass(frozen=True)
class CriterionEdit:
    """A criterion's new name and weight; ``raw_weight`` is what the officer typed."""

    code: str
    name: str
    raw_weight: str


def _may_edit_scope(session: Session, officer: Officer, scope_unit_id: int | None) -> None:
    require_role(officer, (Role.quan_tri,))
    unit = repo.unit(session, officer.tenant_id, officer.unit_id)
    at_top = unit is not None and unit.parent_id is None
    if scope_unit_id is None and not at_top:
        raise Forbidden("Chỉ quản trị của đơn vị cấp cao nhất mới được sửa quy định chung cho mọi đơn vị")
    if scope_unit_id is not None and not sees_unit(session, officer, scope_unit_id):
        raise Forbidden("Quy định này thuộc đơn vị khác, bạn không được sửa")


def _open_round(session: Session, officer: Officer, campaign_code: str, round_code: str) -> Round:
    rnd, _ = round_for(session, officer, campaign_code, round_code, lock=True)
    if rnd.closed_at is not None:
        raise Conflict(f"{rnd.name} đã chốt, không sửa được cấu hình của đợt", field="round")
    return rnd


def set_deadline(
    session: Session, officer: Officer, campaign_code: str, round_code: str, deadline_id: int, due_at: dt.datetime
) -> None:
    require_role(officer, (Role.quan_tri,))
    if due_at.tzinfo is None:
        raise InvalidInput("Thời hạn cần có múi giờ", field="due_at")
    rnd = _open_round(session, officer, campaign_code, round_code)
    d = cfg_repo.deadline(session, officer.tenant_id, rnd.id, deadline_id)
    if d is None:
        raise NotFound("Không tìm thấy thời hạn", field="deadline")
    _may_edit_scope(session, officer, d.scope_unit_id)
    before = d.due_at
    if before == due_at:
        return
    d.due_at = due_at
    session.flush()
    audit.record(
        session,
        officer.tenant_id,
        actor(officer),
        action="sua_thoi_han",
        entity="deadline",
        entity_id=d.id,
        before={"due_at": before.isoformat()},
        after={"due_at": due_at.isoformat(), "round": rnd.code, "level": d.level_code},
    )


def parse_count(raw: str, label: str, field: str) -> int | None:
    """A bound as typed on the form: blank is “no bound”."""
    raw = raw.strip()
    if not raw:
        return None
    if not raw.isdigit() or int(raw) > MAX_QUOTA:
        raise InvalidInput(f"{label} phải là số nguyên từ 0 đến {MAX_QUOTA}", field=field)
    return int(raw)


def set_quota(
    session: Session,
    officer: Officer,
    campaign_code: str,
    round_code: str,
    rule_id: int,
    min_count: int | None,
    max_count: int | None,
) -> None:
    require_role(officer, (Role.quan_tri,))
    if min_count is None and max_count is None:
        raise InvalidInput("Cần ít nhất một trong hai: số tối thiểu hoặc số tối đa", field="max_count")
    for value, label, field in ((min_count, "Số tối thiểu", "min_count"), (max_count, "Số tối đa", "max_count")):
        if value is not None and not 0 <= value <= MAX_QUOTA:
            raise InvalidInput(f"{label} phải là số nguyên từ 0 đến {MAX_QUOTA}", field=field)
    if min_count is not None and max_count is not None and min_count > max_count:
        raise InvalidInput("Số tối thiểu không được lớn hơn số tối đa", field="min_count")
    rnd = _open_round(session, officer, campaign_code, round_code)
    rule = cfg_repo.quota_rule(session, officer.tenant_id, rnd.id, rule_id)
    if rule is None:
        raise NotFound("Không tìm thấy quy định số lượng", field="quota")
    _may_edit_scope(session, officer, rule.scope_unit_id)
    before = {"min_count": rule.min_count, "max_count": rule.max_count}
    if before == {"min_count": min_count, "max_count": max_count}:
        return
    rule.min_count, rule.max_count = min_count, max_count
    session.flush()
    _follow_counters(session, officer.tenant_id, rnd)
    audit.record(
        session,
        officer.tenant_id,
        actor(officer),
        action="sua_so_luong",
        entity="quota_rule",
        entity_id=rule.id,
        before=before,
        after={"min_count": min_count, "max_count": max_count, "round": rnd.code, "level": rule.from_level},
    )


def _follow_counters(session: Session, tenant_id: int, rnd: Round) -> None:
    """The counters the database checks cache the maximum they were created with: give each the
    new one, and refuse a maximum below what a unit has already nominated."""
    usages = cfg_repo.usages_of_round(session, tenant_id, rnd.id)
    units = repo.units_by_ids(session, tenant_id, [u.unit_id for u in usages])
    for usage in usages:
        unit = units[usage.unit_id]
        maximum = max_of(
            rules_for(session, tenant_id, rnd, level_of(session, tenant_id, rnd.campaign_id, unit), unit.id)
        )
        if maximum is not None and usage.used > maximum + usage.extra:
            raise Conflict(
                f"{unit.name} đã giới thiệu {usage.used} sáng kiến trong {rnd.name}: "
                f"số tối đa không được nhỏ hơn {usage.used - usage.extra}",
                field="max_count",
            )
        if maximum != usage.max_count:
            cfg_repo.set_usage_max(session, tenant_id, rnd.id, unit.id, maximum)


def parse_weight(raw: str, name: str) -> Decimal:
    try:
        weight = Decimal(raw.strip().replace(",", "."))
    except InvalidOperation:
        raise InvalidInput(f"Trọng số của tiêu chí “{name}” phải là một số", field="weight") from None
    if not weight.is_finite() or weight <= 0:
        raise InvalidInput(f"Trọng số của tiêu chí “{name}” phải là số dương", field="weight")
    if weight != weight.quantize(Decimal("0.01")) or weight >= 10_000:
        raise InvalidInput(f"Trọng số của tiêu chí “{name}” có tối đa hai chữ số thập phân", field="weight")
    return weight


def set_rubric(session: Session, officer: Officer, campaign_code: str, edits: Mapping[str, CriterionEdit]) -> None:
    """Every criterion's name and weight at once: the weights must sum to 100. Refused once any
    round of the campaign is closed, since the rubric weighs every round's scores alike."""
    _may_edit_scope(session, officer, None)
    campaign = repo.campaign_by_code(session, campaign_code)
    criteria = [] if campaign is None else cfg_repo.criteria_for_update(session, officer.tenant_id, campaign.id)
    if campaign is None or not criteria:
        raise NotFound("Không tìm thấy thang điểm của chương trình", field="campaign")
    closed = [r.name for r in repo.rounds(session, officer.tenant_id, campaign.id) if r.closed_at is not None]
    if closed:
        raise Conflict(f"{closed[0]} đã chốt: không sửa được thang điểm của chương trình", field="campaign")
    unknown = set(edits) - {c.code for c in criteria}
    if unknown or len(edits) != len(criteria):
        raise InvalidInput("Cần gửi đủ các tiêu chí của thang điểm, không thêm tiêu chí lạ", field="criteria")
    new: dict[str, tuple[str, Decimal]] = {}
    for c in criteria:
        e = edits[c.code]
        name = one_line(e.name)  # as every form keeps what is typed (shared/text.py)
        if not name or len(name) > 200:
            raise InvalidInput(f"Tên tiêu chí thứ {c.ordinal} không được để trống, tối đa 200 ký tự", field="name")
        new[c.code] = (name, parse_weight(e.raw_weight, name))
    total = sum((w for _, w in new.values()), Decimal(0))
    if total != RUBRIC_TOTAL:
        raise InvalidInput(f"Tổng trọng số các tiêu chí phải bằng 100 (hiện là {total.normalize():f})", field="weight")
    before = {c.code: {"name": c.name, "weight": _cents(c.weight)} for c in criteria}
    after = {code: {"name": n, "weight": _cents(w)} for code, (n, w) in new.items()}
    if before == after:
        return
    for c in criteria:
        c.name, c.weight = new[c.code]
    session.flush()
    audit.record(
        session,
        officer.tenant_id,
        actor(officer),
        action="sua_thang_diem",
        entity="rubric",
        entity_id=f"{campaign.code}",
        before=before,
        after=after,
    )


def _cents(weight: Decimal) -> str:
    return str(Decimal(weight).quantize(Decimal("0.01")))
