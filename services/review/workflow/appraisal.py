"""Thẩm định: a rubric per campaign (criteria with weights), several appraisers per initiative,
their scores and comments, the weighted mean and the rank within the unit (ranking.py has the
arithmetic and the tie breaks). When a round closes its scores freeze — a trigger refuses any
later change — and the hash of their snapshot goes to the audit log."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from sqlalchemy.orm import Session

from services.review.accounts.models import Role
from services.review.accounts.principal import Officer
from services.review.audit.chain import snapshot_hash
from services.review.models import Submission
from services.review.workflow import repository as repo
from services.review.workflow.access import APPRAISERS, EVERYONE, actor, case_for, record_act, require_role
from services.review.workflow.models import Criterion, Round, Score
from services.review.workflow.ranking import TIE_BREAKS, Crit, Sheet, appraiser_mean, rank
from services.review.workflow.schemas import (
    AppraisalOut,
    AppraiserSheetOut,
    RankedOut,
    RankingOut,
    RoundCloseOut,
)
from services.review.workflow.service import change_status, round_of
from shared.contracts.submissions import SubmissionStatus
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from shared.text import multiline
from shared.timeutil import now

S = SubmissionStatus


def crits(criteria: list[Criterion]) -> list[Crit]:
    return [Crit(c.code, Decimal(c.weight), c.ordinal) for c in criteria]


def _open_round(session: Session, sub: Submission, round_code: str) -> Round:
    rnd = round_of(session, sub, round_code)
    if rnd.closed_at is not None:
        raise Conflict(f"{rnd.name} đã kết thúc: điểm thẩm định đã được chốt", field="round")
    return rnd


def score(
    session: Session,
    officer: Officer,
    code: str,
    round_code: str,
    scores: dict[str, Decimal],
    comment: str | None = None,
    *,
    at: dt.datetime | None = None,
) -> AppraisalOut:
    """The officer's own scores for the initiative held by their unit (an appraiser may revise
    them until the round closes)."""
    sub, case = case_for(session, officer, code, APPRAISERS, holder=True, lock=True)
    rnd = _open_round(session, sub, round_code)
    comment = multiline(comment or "") or None
    rubric = {c.code: c for c in repo.criteria(session, sub.tenant_id, sub.campaign_id)}
    if not scores:
        raise InvalidInput("Cần chấm ít nhất một tiêu chí", field="scores")
    for key, value in scores.items():
        crit = rubric.get(key)
        if crit is None:
            raise InvalidInput(f"Không có tiêu chí “{key}” trong thang điểm", field=f"scores.{key}")
        try:
            ok = Decimal(0) <= value <= crit.max_score and value == value.quantize(Decimal("0.01"), ROUND_HALF_UP)
        except InvalidOperation:
            ok = False
        if not ok:
            raise InvalidInput(
                f"Điểm tiêu chí “{crit.name}” phải từ 0 đến {crit.max_score}, tối đa 2 chữ số thập phân",
                field=f"scores.{key}",
            )
    mine = {
        s.criterion_code: s
        for s in repo.scores_of(session, sub.tenant_id, rnd.id, case.holder_unit_id, sub.id)
        if s.appraiser_id == officer.id
    }
    at = at or now()
    for key, value in scores.items():
        repo.upsert_score(
            session,
            tenant_id=sub.tenant_id,
            round_id=rnd.id,
            unit_id=case.holder_unit_id,
            submission_id=sub.id,
            appraiser_id=officer.id,
            criterion_code=key,
            score=value,
            comment=comment,
            at=at,
        )
    record_act(
        session,
        officer,
        action="cham_diem",
        entity="submission",
        entity_id=sub.id,
        before={k: str(mine[k].score) for k in sorted(scores) if k in mine} or None,
        after={
            "round": rnd.code,
            "unit_id": case.holder_unit_id,
            "scores": {k: str(v) for k, v in sorted(scores.items())},
        },
    )
    if sub.status in (S.received, S.hop_le, S.khong_hop_le):
        change_status(session, sub, case, S.dang_tham_dinh, actor(officer))
    session.expire_all()
    return appraisal(session, officer, code, round_code)


def appraisal(session: Session, officer: Officer, code: str, round_code: str) -> AppraisalOut:
    """Every appraiser's scores and comments at the unit holding the initiative, and the mean."""
    sub, case = case_for(session, officer, code, EVERYONE)
    rnd = round_of(session, sub, round_code)
    rubric = crits(repo.criteria(session, sub.tenant_id, sub.campaign_id))
    by_appraiser: dict[int, list[Score]] = defaultdict(list)
    for s in repo.scores_of(session, sub.tenant_id, rnd.id, case.holder_unit_id, sub.id):
        by_appraiser[s.appraiser_id].append(s)
    sheets = []
    means = []
    for appraiser, rows in sorted(by_appraiser.items()):
        values = {r.criterion_code: Decimal(r.score) for r in rows}
        m = appraiser_mean(values, rubric)
        if m is not None:
            means.append(m)
        sheets.append(
            AppraiserSheetOut(
                appraiser_id=appraiser,
                scores=values,
                weighted_mean=None if m is None else m.quantize(Decimal("0.01"), ROUND_HALF_UP),
                comment=next((r.comment for r in rows if r.comment), None),
            )
        )
    holder = repo.unit(session, sub.tenant_id, case.holder_unit_id)
    assert holder is not None
    mean = (sum(means, Decimal(0)) / len(means)).quantize(Decimal("0.01"), ROUND_HALF_UP) if means else None
    return AppraisalOut(tracking_code=sub.tracking_code, round=rnd.code, unit=holder.code, appraisers=sheets, mean=mean)


def has_complete_appraisal(session: Session, sub: Submission, rnd: Round, unit_id: int) -> bool:
    rubric = crits(repo.criteria(session, sub.tenant_id, sub.campaign_id))
    by_appraiser: dict[int, dict[str, Decimal]] = defaultdict(dict)
    for s in repo.scores_of(session, sub.tenant_id, rnd.id, unit_id, sub.id):
        by_appraiser[s.appraiser_id][s.criterion_code] = Decimal(s.score)
    return any(appraiser_mean(v, rubric) is not None for v in by_appraiser.values())


def ranking(session: Session, officer: Officer, campaign_code: str, round_code: str) -> RankingOut:
    """The initiatives appraised at the officer's unit in the round, best first."""
    require_role(officer, EVERYONE)
    rnd, campaign_id = round_for(session, officer, campaign_code, round_code)
    unit = repo.unit(session, officer.tenant_id, officer.unit_id)
    assert unit is not None
    items = unit_ranking(session, officer.tenant_id, campaign_id, rnd, officer.unit_id)
    return RankingOut(round=rnd.code, unit=unit.code, tie_breaks=list(TIE_BREAKS), items=items)


def unit_ranking(session: Session, tenant_id: int, campaign_id: int, rnd: Round, unit_id: int) -> list[RankedOut]:
    """The initiatives appraised at one unit in the round, best first (then the unranked). The
    console shows an initiative's place among those of the unit holding it, whoever looks."""
    rubric = crits(repo.criteria(session, tenant_id, campaign_id))
    grouped: dict[int, dict[int, dict[str, Decimal]]] = defaultdict(lambda: defaultdict(dict))
    for s in repo.scores_at_unit(session, tenant_id, rnd.id, unit_id):
        grouped[s.submission_id][s.appraiser_id][s.criterion_code] = Decimal(s.score)
    subs = repo.submissions_by_ids(session, tenant_id, list(grouped))
    sheets = [Sheet(i, subs[i].tracking_code, subs[i].submitted_at, grouped[i]) for i in grouped]
    return [
        RankedOut(
            rank=r.rank,
            tracking_code=r.tracking_code,
            title=subs[r.submission_id].title,
            mean=r.mean,
            appraisers=r.appraisers,
            tie_break=r.tie_break,
        )
        for r in rank(sheets, rubric)
    ]


def round_for(
    session: Session, officer: Officer, campaign_code: str, round_code: str, *, lock: bool = False
) -> tuple[Round, int]:
    campaign = repo.campaign_by_code(session, campaign_code)
    rnd = (
        None if campaign is None else repo.round_by_code(session, officer.tenant_id, campaign.id, round_code, lock=lock)
    )
    if campaign is None or rnd is None:
        raise NotFound(f"Không có đợt “{round_code}”", field="round")
    return rnd, campaign.id


def close_round(
    session: Session, officer: Officer, campaign_code: str, round_code: str, *, at: dt.datetime | None = None
) -> RoundCloseOut:
    """Only the tenant's administrators at its root unit close a round. The snapshot is every
    score of the round in key order; its hash goes to the audit log and the round row."""
    if officer.role != Role.quan_tri:
        raise Forbidden("Chỉ quản trị của đơn vị cấp tỉnh mới chốt được đợt xét chọn")
    root = repo.unit(session, officer.tenant_id, officer.unit_id)
    if root is None or root.parent_id is not None:
        raise Forbidden("Chỉ quản trị của đơn vị cấp tỉnh mới chốt được đợt xét chọn")
    rnd, _ = round_for(session, officer, campaign_code, round_code, lock=True)
    if rnd.closed_at is not None:
        raise Conflict(f"{rnd.name} đã được chốt")
    rows = [
        {
            "unit_id": s.unit_id,
            "submission_id": s.submission_id,
            "appraiser_id": s.appraiser_id,
            "criterion": s.criterion_code,
            "score": str(s.score),
            "comment": s.comment,
        }
        for s in repo.scores_of_round(session, officer.tenant_id, rnd.id)
    ]
    digest = snapshot_hash(rows)
    rnd.closed_at = at or now()
    rnd.snapshot = rows
    rnd.snapshot_hash = digest
    session.flush()
    record_act(
        session,
        officer,
        action="chot_dot",
        entity="round",
        entity_id=rnd.id,
        before={"closed": False},
        after={"closed": True, "round": rnd.code, "snapshot_sha256": digest, "scores": len(rows)},
    )
    return RoundCloseOut(round=rnd.code, closed_at=rnd.closed_at, snapshot_hash=digest, scores=len(rows))
