"""The “Đề cử” page: the officer's unit's candidates in a round, best ranked first, each with
what it still lacks (the validity conditions by name, the employer's confirmation, open
complaints), what the unit has already recommended against its quota (“đã chọn 1/2”, “cần ít
nhất 1”), and, for an administrator, the units whose quota may be widened. Reads only; the
pages call the workflow to act (selection_pages.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from services.review.accounts.models import Role
from services.review.accounts.principal import Officer
from services.review.console import selection_repository as repo
from services.review.console.selection import (
    CANDIDATES_SHOWN,
    NATIONAL,
    Condition,
    ConfirmationView,
    QuotaView,
    RoundChoice,
    confirmation_view,
    current_round,
    decimal_text,
    failing_conditions,
    next_step,
    parent_name,
    quota_view,
    round_choices,
    when_text,
)
from services.review.console.service import Option
from services.review.workflow import appraisal, nominations
from services.review.workflow import repository as wf_repo
from services.review.workflow.access import DECIDERS
from services.review.workflow.models import Case
from shared.contracts.submissions import STATUS_LABELS
from shared.errors import NotFound


@dataclass(frozen=True)
class Candidate:
    tracking_code: str
    title: str
    status_label: str
    mean: str | None
    rank: int | None
    failures: list[Condition]
    confirmation: ConfirmationView
    complaints: int


@dataclass(frozen=True)
class Sent:
    tracking_code: str
    title: str
    to_name: str
    when: str
    over_quota: bool


@dataclass(frozen=True)
class Board:
    campaigns: list[Option]
    campaign_code: str
    rounds: list[RoundChoice]
    round: RoundChoice | None
    unit_name: str
    level_name: str | None = None
    target_name: str | None = None
    stop_note: str | None = None
    quota: QuotaView | None = None
    candidates: list[Candidate] = field(default_factory=list)
    sent: list[Sent] = field(default_factory=list)
    more: bool = False
    can_nominate: bool = False
    can_link: bool = False
    override_units: list[Option] = field(default_factory=list)


def board(session: Session, officer: Officer, campaign_code: str | None, round_code: str | None) -> Board:
    """The officer's unit's candidates in a round: best ranked first, each with what it still
    lacks, and what the unit has already recommended against its quota."""
    tenant = officer.tenant_id
    unit = wf_repo.unit(session, tenant, officer.unit_id)
    assert unit is not None
    configured = repo.tenant_rounds(session, tenant)
    campaigns: dict[str, Option] = {}
    for _, code, name in configured:
        campaigns.setdefault(code, Option(code, name))
    if campaign_code and campaign_code not in campaigns:
        raise NotFound("Không tìm thấy chương trình", field="campaign")
    chosen = campaign_code or next(iter(campaigns), "")
    rounds = [r for r, code, _ in configured if code == chosen]
    rnd = current_round(rounds, round_code)
    empty = Board(list(campaigns.values()), chosen, round_choices(rounds), None, unit.name)
    if rnd is None:
        return empty
    campaign_id = rnd.campaign_id
    levels = wf_repo.levels(session, tenant, campaign_id)
    mine, target, stop = next_step(levels, unit, rnd)
    quota = quota_view(nominations.quota_of(session, tenant, rnd, campaign_id, unit))
    ranking = {r.tracking_code: r for r in appraisal.unit_ranking(session, tenant, campaign_id, rnd, unit.id)}

    sent_rows = repo.nominated_from(session, tenant, rnd.id, unit.id)
    to_ids = [n.to_unit_id for n, _ in sent_rows if n.to_unit_id is not None]
    to_names = {u.id: u.name for u in wf_repo.units_by_ids(session, tenant, to_ids).values()}
    sent = [
        Sent(
            s.tracking_code,
            s.title,
            to_names.get(n.to_unit_id, NATIONAL) if n.to_unit_id else NATIONAL,
            when_text(n.nominated_at),
            n.over_quota,
        )
        for n, s in sent_rows
    ]
    sent_ids = {s.id for _, s in sent_rows}
    held = repo.candidates(session, tenant, campaign_id, unit.id, limit=CANDIDATES_SHOWN + 1)
    out = []
    for sub, case in held[:CANDIDATES_SHOWN]:
        if sub.id in sent_ids:
            continue
        # A case the workflow has not opened yet is read as it would start (nothing is written).
        case = case or Case(tenant_id=tenant, submission_id=sub.id, holder_unit_id=sub.unit_id, own_unit_id=sub.unit_id)
        r = ranking.get(sub.tracking_code)
        out.append(
            Candidate(
                tracking_code=sub.tracking_code,
                title=sub.title,
                status_label=STATUS_LABELS.get(sub.status, sub.status),
                mean=decimal_text(r.mean) if r else None,
                rank=r.rank if r else None,
                failures=failing_conditions(session, sub, case, rnd, target, unit.id) if target else [],
                confirmation=confirmation_view(session, tenant, sub.id),
                complaints=len(wf_repo.open_complaints(session, tenant, sub.id)),
            )
        )
    out.sort(key=lambda c: (c.rank is None, c.rank or 0))
    override_units: list[Option] = []
    if officer.role == Role.quan_tri:
        report = nominations.quota_report(session, officer, chosen, rnd.code)
        override_units = [
            Option(i.unit, f"{i.unit_name} ({q.text})")
            for i in report.items
            if i.max_count is not None and (q := quota_view(i)) is not None
        ]
    return Board(
        campaigns=list(campaigns.values()),
        campaign_code=chosen,
        rounds=round_choices(rounds),
        round=RoundChoice(rnd.code, rnd.name, rnd.closed_at is not None),
        unit_name=unit.name,
        level_name=mine.name if mine else None,
        target_name=(NATIONAL if unit.parent_id is None else parent_name(session, tenant, unit)) if target else None,
        stop_note=stop,
        quota=quota,
        candidates=out,
        sent=sent,
        more=len(held) > CANDIDATES_SHOWN,
        can_nominate=officer.role in DECIDERS and rnd.closed_at is None and target is not None,
        can_link=officer.role in DECIDERS,
        override_units=override_units,
    )
