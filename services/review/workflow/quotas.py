"""Quotas of a round: which rules bind a unit, the (round, unit) counter a nomination takes one
from, an administrator's override, and the report of who has recommended how many.

The maximum of a quota is the database's to enforce: the nomination takes one from the
counter in the same transaction, and the CHECK on the counter refuses the one too many,
however many officers nominate at the same moment. Only an administrator may grant more, with
a reason the audit log keeps."""

from __future__ import annotations

from collections.abc import Sequence

from psycopg import errors as pg_errors
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.review.accounts.models import Role
from services.review.accounts.principal import Officer
from services.review.models import Unit
from services.review.workflow import repository as repo
from services.review.workflow.access import EVERYONE, record_act, require_role, visible_unit
from services.review.workflow.appraisal import round_for
from services.review.workflow.models import Level, QuotaRule, QuotaUsage, Round
from services.review.workflow.schemas import QuotaReportOut, QuotaRowOut
from shared.errors import Conflict, Forbidden, InvalidInput
from shared.text import multiline


def _applicable(rules: Sequence[QuotaRule], level: str, chain: set[int]) -> list[QuotaRule]:
    """The rules of ``level`` that cover a unit whose ancestors (itself included) are ``chain``."""
    return [r for r in rules if r.from_level == level and (r.scope_unit_id is None or r.scope_unit_id in chain)]


def rules_for(session: Session, tenant_id: int, rnd: Round, level: str, unit_id: int) -> list[QuotaRule]:
    chain = set(repo.ancestors(session, tenant_id, unit_id))
    return _applicable(repo.quota_rules(session, tenant_id, rnd.id), level, chain)


def max_of(rules: list[QuotaRule]) -> int | None:
    maxes = [r.max_count for r in rules if r.max_count is not None]
    return min(maxes) if maxes else None


def min_of(rules: list[QuotaRule]) -> int | None:
    mins = [r.min_count for r in rules if r.min_count is not None]
    return max(mins) if mins else None


def _level_in(levels: Sequence[Level], unit: Unit) -> str:
    for lv in levels:
        if unit.kind in lv.unit_kinds:
            return lv.code
    raise Conflict(f"Chưa cấu hình cấp xét chọn cho {unit.name}")


def level_of(session: Session, tenant_id: int, campaign_id: int, unit: Unit) -> str:
    return _level_in(repo.levels(session, tenant_id, campaign_id), unit)


class RoundRules:
    """A round's levels and rules read once, for answering many units: a rule scoped to a unit
    covers its subtree, read once per scope rather than every unit's ancestors."""

    def __init__(self, session: Session, tenant_id: int, rnd: Round) -> None:
        self.levels = repo.levels(session, tenant_id, rnd.campaign_id)
        self.rules = repo.quota_rules(session, tenant_id, rnd.id)
        scopes = {r.scope_unit_id for r in self.rules if r.scope_unit_id is not None}
        self._under = {s: set(repo.subtree(session, tenant_id, s)) for s in scopes}

    def level_of(self, unit: Unit) -> str:
        return _level_in(self.levels, unit)

    def rules_for(self, level: str, unit_id: int) -> list[QuotaRule]:
        chain = {s for s, under in self._under.items() if unit_id in under}
        return _applicable(self.rules, level, chain)


def take(session: Session, officer: Officer, rnd: Round, level: str, unit_id: int) -> bool:
    """One from the unit's counter for the round; True when it used an override."""
    maximum = max_of(rules_for(session, officer.tenant_id, rnd, level, unit_id))
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
    reason = multiline(reason)
    if not reason:
        raise InvalidInput("Cần ghi rõ lý do cho phép vượt số lượng", field="reason")
    if extra < 1:
        raise InvalidInput("Số lượng cho phép thêm phải từ 1 trở lên", field="extra")
    rnd, campaign_id = round_for(session, officer, campaign_code, round_code)
    campaign = repo.campaign(session, campaign_id)
    assert campaign is not None
    unit = visible_unit(session, officer, campaign.tree_id, unit_code)
    level = level_of(session, officer.tenant_id, campaign_id, unit)
    rules = rules_for(session, officer.tenant_id, rnd, level, unit.id)
    repo.ensure_usage(session, officer.tenant_id, rnd.id, unit.id, max_of(rules))
    before, after = repo.grant_extra(session, officer.tenant_id, rnd.id, unit.id, extra)
    record_act(
        session,
        officer,
        action="vuot_chi_tieu",
        entity="quota",
        entity_id=f"{rnd.id}:{unit.id}",
        before={"extra": before},
        after={"extra": after, "round": rnd.code, "unit": unit.code},
        reason=reason,
    )
    return _quota_row(unit, level, rules, repo.usage(session, officer.tenant_id, rnd.id, [unit.id]).get(unit.id))


def _quota_row(unit: Unit, level: str, rules: list[QuotaRule], usage: QuotaUsage | None) -> QuotaRowOut:
    used, extra = (0, 0) if usage is None else (usage.used, usage.extra)
    lo, hi = min_of(rules), max_of(rules)
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
        level = level_of(session, tenant_id, campaign_id, unit)
    except Conflict:
        return None
    rules = rules_for(session, tenant_id, rnd, level, unit.id)
    if not rules:
        return None
    return _quota_row(unit, level, rules, repo.usage(session, tenant_id, rnd.id, [unit.id]).get(unit.id))


def quota_report(session: Session, officer: Officer, campaign_code: str, round_code: str) -> QuotaReportOut:
    """For every unit in the officer's subtree that a quota rule covers: how many it has
    recommended, against the minimum and the maximum. ``below_minimum`` lists who still owes."""
    require_role(officer, EVERYONE)
    rnd, _ = round_for(session, officer, campaign_code, round_code)
    known = RoundRules(session, officer.tenant_id, rnd)
    mine = repo.subtree(session, officer.tenant_id, officer.unit_id)
    covered = []
    for lv in known.levels:
        if not any(r.from_level == lv.code for r in known.rules):
            continue
        for unit in repo.units_of_kinds(session, officer.tenant_id, mine, lv.unit_kinds):
            applicable = known.rules_for(lv.code, unit.id)
            if applicable:
                covered.append((unit, lv.code, applicable))
    usage = repo.usage(session, officer.tenant_id, rnd.id, [u.id for u, _, _ in covered])
    items = [_quota_row(unit, level, rules, usage.get(unit.id)) for unit, level, rules in covered]
    return QuotaReportOut(round=rnd.code, items=items, below_minimum=[i.unit for i in items if i.below_minimum])
