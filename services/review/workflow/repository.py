"""SQL of the workflow: units and their subtrees, configuration, cases and the acts on them.
Functions take a Session and only flush; row-level security scopes every statement to the
session's tenant, and each query names the tenant as well (the key leads with it)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from services.review.models import Campaign, Submission, Unit
from services.review.workflow.models import (
    Case,
    Commendation,
    Complaint,
    Confirmation,
    Criterion,
    Deadline,
    Level,
    NationalNomination,
    Nomination,
    QuotaRule,
    QuotaUsage,
    Round,
    Score,
    Settings,
)

# --- units -----------------------------------------------------------------------------------

_ANCESTORS = text(
    """
    WITH RECURSIVE up(id, parent_id, depth) AS (
        SELECT id, parent_id, 0 FROM review.units WHERE tenant_id = :t AND id = :u
        UNION ALL
        SELECT p.id, p.parent_id, up.depth + 1 FROM review.units p
        JOIN up ON p.tenant_id = :t AND p.id = up.parent_id
    )
    SELECT id FROM up ORDER BY depth
    """
)

_SUBTREE = text(
    """
    WITH RECURSIVE down(id) AS (
        SELECT id FROM review.units WHERE tenant_id = :t AND id = :u
        UNION ALL
        SELECT c.id FROM review.units c JOIN down ON c.tenant_id = :t AND c.parent_id = down.id
    )
    SELECT id FROM down
    """
)


def unit(session: Session, tenant_id: int, unit_id: int) -> Unit | None:
    return session.get(Unit, (tenant_id, unit_id))


def unit_by_code(session: Session, tenant_id: int, tree_id: int, code: str) -> Unit | None:
    return session.scalar(select(Unit).where(Unit.tenant_id == tenant_id, Unit.tree_id == tree_id, Unit.code == code))


def ancestors(session: Session, tenant_id: int, unit_id: int) -> list[int]:
    """The unit itself, its parent, … up to the tenant's root."""
    return [int(r) for r in session.scalars(_ANCESTORS, {"t": tenant_id, "u": unit_id})]


def subtree(session: Session, tenant_id: int, unit_id: int) -> list[int]:
    return [int(r) for r in session.scalars(_SUBTREE, {"t": tenant_id, "u": unit_id})]


def units_by_ids(session: Session, tenant_id: int, ids: Sequence[int]) -> dict[int, Unit]:
    if not ids:
        return {}
    return {u.id: u for u in session.scalars(select(Unit).where(Unit.tenant_id == tenant_id, Unit.id.in_(ids)))}


# --- configuration ---------------------------------------------------------------------------


def campaign(session: Session, campaign_id: int) -> Campaign | None:
    return session.get(Campaign, campaign_id)


def campaign_by_code(session: Session, code: str) -> Campaign | None:
    return session.scalar(select(Campaign).where(Campaign.code == code))


def levels(session: Session, tenant_id: int, campaign_id: int) -> list[Level]:
    return list(
        session.scalars(
            select(Level).where(Level.tenant_id == tenant_id, Level.campaign_id == campaign_id).order_by(Level.ordinal)
        )
    )


def settings(session: Session, tenant_id: int, campaign_id: int) -> Settings | None:
    return session.get(Settings, (tenant_id, campaign_id))


def round_by_code(session: Session, tenant_id: int, campaign_id: int, code: str, *, lock: bool = False) -> Round | None:
    q = select(Round).where(Round.tenant_id == tenant_id, Round.campaign_id == campaign_id, Round.code == code)
    return session.scalar(q.with_for_update() if lock else q)


def rounds(session: Session, tenant_id: int, campaign_id: int) -> list[Round]:
    return list(
        session.scalars(
            select(Round).where(Round.tenant_id == tenant_id, Round.campaign_id == campaign_id).order_by(Round.ordinal)
        )
    )


def deadlines(session: Session, tenant_id: int, round_id: int, level_code: str) -> list[Deadline]:
    return list(
        session.scalars(
            select(Deadline).where(
                Deadline.tenant_id == tenant_id, Deadline.round_id == round_id, Deadline.level_code == level_code
            )
        )
    )


def quota_rules(session: Session, tenant_id: int, round_id: int) -> list[QuotaRule]:
    return list(
        session.scalars(
            select(QuotaRule)
            .where(QuotaRule.tenant_id == tenant_id, QuotaRule.round_id == round_id)
            .order_by(QuotaRule.id)
        )
    )


def criteria(session: Session, tenant_id: int, campaign_id: int) -> list[Criterion]:
    return list(
        session.scalars(
            select(Criterion)
            .where(Criterion.tenant_id == tenant_id, Criterion.campaign_id == campaign_id)
            .order_by(Criterion.ordinal)
        )
    )


# --- submissions and cases -------------------------------------------------------------------


def submission_by_code(session: Session, tenant_id: int, code: str) -> Submission | None:
    return session.scalar(select(Submission).where(Submission.tenant_id == tenant_id, Submission.tracking_code == code))


def submission(session: Session, tenant_id: int, submission_id: int) -> Submission | None:
    return session.get(Submission, (tenant_id, submission_id))


def ensure_case(session: Session, sub: Submission, *, lock: bool) -> Case:
    """The case of a submission, created on first use at the unit it landed at. ``lock``:
    FOR UPDATE, so two officers acting on one initiative take turns."""
    session.execute(
        insert(Case)
        .values(
            tenant_id=sub.tenant_id,
            submission_id=sub.id,
            holder_unit_id=sub.unit_id,
            own_unit_id=sub.unit_id,
            trade_secret=False,
            awards=[],
        )
        .on_conflict_do_nothing()
    )
    q = select(Case).where(Case.tenant_id == sub.tenant_id, Case.submission_id == sub.id)
    case = session.scalar(q.with_for_update() if lock else q)
    assert case is not None
    return case


def cases_held_in(
    session: Session, tenant_id: int, unit_ids: Sequence[int], *, limit: int
) -> list[tuple[Submission, Case | None]]:
    """Submissions held by (or, with no case yet, landed at) any of the units."""
    rows = session.execute(
        select(Submission, Case)
        .outerjoin(Case, (Case.tenant_id == Submission.tenant_id) & (Case.submission_id == Submission.id))
        .where(
            Submission.tenant_id == tenant_id,
            func.coalesce(Case.holder_unit_id, Submission.unit_id).in_(unit_ids),
        )
        .order_by(Submission.submitted_at, Submission.id)
        .limit(limit)
    )
    return [(r[0], r[1]) for r in rows]


def set_status(session: Session, sub: Submission, status: str) -> None:
    sub.status = status
    session.flush()


# --- scores ----------------------------------------------------------------------------------


def upsert_score(
    session: Session,
    *,
    tenant_id: int,
    round_id: int,
    unit_id: int,
    submission_id: int,
    appraiser_id: int,
    criterion_code: str,
    score: Decimal,
    comment: str | None,
    at: dt.datetime,
) -> None:
    stmt = insert(Score).values(
        tenant_id=tenant_id,
        round_id=round_id,
        unit_id=unit_id,
        submission_id=submission_id,
        appraiser_id=appraiser_id,
        criterion_code=criterion_code,
        score=score,
        comment=comment,
        scored_at=at,
    )
    session.execute(
        stmt.on_conflict_do_update(
            constraint="pk_wf_scores",
            set_={"score": stmt.excluded.score, "comment": stmt.excluded.comment, "scored_at": stmt.excluded.scored_at},
        )
    )


def scores_of(session: Session, tenant_id: int, round_id: int, unit_id: int, submission_id: int) -> list[Score]:
    return list(
        session.scalars(
            select(Score).where(
                Score.tenant_id == tenant_id,
                Score.round_id == round_id,
                Score.unit_id == unit_id,
                Score.submission_id == submission_id,
            )
        )
    )


def scores_at_unit(session: Session, tenant_id: int, round_id: int, unit_id: int) -> list[Score]:
    return list(
        session.scalars(
            select(Score).where(Score.tenant_id == tenant_id, Score.round_id == round_id, Score.unit_id == unit_id)
        )
    )


def scores_of_round(session: Session, tenant_id: int, round_id: int) -> list[Score]:
    return list(
        session.scalars(
            select(Score)
            .where(Score.tenant_id == tenant_id, Score.round_id == round_id)
            .order_by(Score.unit_id, Score.submission_id, Score.appraiser_id, Score.criterion_code)
        )
    )


def submissions_by_ids(session: Session, tenant_id: int, ids: Sequence[int]) -> dict[int, Submission]:
    if not ids:
        return {}
    return {
        s.id: s
        for s in session.scalars(select(Submission).where(Submission.tenant_id == tenant_id, Submission.id.in_(ids)))
    }


# --- confirmations ---------------------------------------------------------------------------


def add(session: Session, row: object) -> None:
    session.add(row)
    session.flush()


def confirmation(session: Session, tenant_id: int, confirmation_id: int) -> Confirmation | None:
    return session.get(Confirmation, (tenant_id, confirmation_id))


def consume_confirmation(
    session: Session,
    tenant_id: int,
    confirmation_id: int,
    *,
    at: dt.datetime,
    name: str,
    title: str,
    applied_on: dt.date,
) -> bool:
    """One use: only the first of two simultaneous submissions of the form finds it unconsumed."""
    res = session.execute(
        update(Confirmation)
        .where(
            Confirmation.tenant_id == tenant_id,
            Confirmation.id == confirmation_id,
            Confirmation.consumed_at.is_(None),
            Confirmation.expires_at > at,
        )
        .values(consumed_at=at, confirmer_name=name, confirmer_title=title, applied_on=applied_on)
        .returning(Confirmation.id)
    )
    return res.first() is not None


def latest_confirmed(session: Session, tenant_id: int, submission_id: int) -> Confirmation | None:
    return session.scalar(
        select(Confirmation)
        .where(
            Confirmation.tenant_id == tenant_id,
            Confirmation.submission_id == submission_id,
            Confirmation.consumed_at.is_not(None),
        )
        .order_by(Confirmation.consumed_at.desc())
        .limit(1)
    )


# --- complaints ------------------------------------------------------------------------------


def complaint(session: Session, tenant_id: int, complaint_id: int, *, lock: bool = False) -> Complaint | None:
    q = select(Complaint).where(Complaint.tenant_id == tenant_id, Complaint.id == complaint_id)
    return session.scalar(q.with_for_update() if lock else q)


def open_complaints(session: Session, tenant_id: int, submission_id: int) -> list[Complaint]:
    return list(
        session.scalars(
            select(Complaint).where(
                Complaint.tenant_id == tenant_id,
                Complaint.submission_id == submission_id,
                Complaint.resolved_at.is_(None),
            )
        )
    )


# --- nominations, quotas, commendations ------------------------------------------------------


def nomination_exists(session: Session, tenant_id: int, round_id: int, submission_id: int, to_level: str) -> bool:
    return (
        session.scalar(
            select(Nomination.id).where(
                Nomination.tenant_id == tenant_id,
                Nomination.round_id == round_id,
                Nomination.submission_id == submission_id,
                Nomination.to_level == to_level,
            )
        )
        is not None
    )


def nominations_of(session: Session, tenant_id: int, submission_id: int) -> list[Nomination]:
    return list(
        session.scalars(
            select(Nomination)
            .where(Nomination.tenant_id == tenant_id, Nomination.submission_id == submission_id)
            .order_by(Nomination.nominated_at)
        )
    )


def nomination_counts(session: Session, tenant_id: int, round_id: int, unit_ids: Sequence[int]) -> dict[int, int]:
    rows = session.execute(
        select(Nomination.from_unit_id, func.count())
        .where(
            Nomination.tenant_id == tenant_id, Nomination.round_id == round_id, Nomination.from_unit_id.in_(unit_ids)
        )
        .group_by(Nomination.from_unit_id)
    )
    return {int(u): int(n) for u, n in rows}


def ensure_usage(session: Session, tenant_id: int, round_id: int, unit_id: int, max_count: int | None) -> None:
    session.execute(
        insert(QuotaUsage)
        .values(tenant_id=tenant_id, round_id=round_id, unit_id=unit_id, used=0, max_count=max_count, extra=0)
        .on_conflict_do_nothing()
    )


def take_quota(session: Session, tenant_id: int, round_id: int, unit_id: int) -> tuple[int, int | None, int]:
    """used + 1, in the database: concurrent takers queue on the row and the CHECK
    ``used <= max_count + extra`` refuses the one too many (IntegrityError to the caller)."""
    row = session.execute(
        update(QuotaUsage)
        .where(QuotaUsage.tenant_id == tenant_id, QuotaUsage.round_id == round_id, QuotaUsage.unit_id == unit_id)
        .values(used=QuotaUsage.used + 1)
        .returning(QuotaUsage.used, QuotaUsage.max_count, QuotaUsage.extra)
    ).one()
    return int(row[0]), (None if row[1] is None else int(row[1])), int(row[2])


def grant_extra(session: Session, tenant_id: int, round_id: int, unit_id: int, extra: int) -> tuple[int, int]:
    row = session.execute(
        update(QuotaUsage)
        .where(QuotaUsage.tenant_id == tenant_id, QuotaUsage.round_id == round_id, QuotaUsage.unit_id == unit_id)
        .values(extra=QuotaUsage.extra + extra)
        .returning(QuotaUsage.extra - extra, QuotaUsage.extra)
    ).one()
    return int(row[0]), int(row[1])


def usage(session: Session, tenant_id: int, round_id: int, unit_ids: Sequence[int]) -> dict[int, QuotaUsage]:
    return {
        q.unit_id: q
        for q in session.scalars(
            select(QuotaUsage).where(
                QuotaUsage.tenant_id == tenant_id, QuotaUsage.round_id == round_id, QuotaUsage.unit_id.in_(unit_ids)
            )
        )
    }


def commendation_exists(session: Session, tenant_id: int, submission_id: int, unit_id: int, round_id: int) -> bool:
    return (
        session.scalar(
            select(Commendation.id).where(
                Commendation.tenant_id == tenant_id,
                Commendation.submission_id == submission_id,
                Commendation.unit_id == unit_id,
                Commendation.round_id == round_id,
            )
        )
        is not None
    )


def units_of_kinds(session: Session, tenant_id: int, unit_ids: Sequence[int], kinds: Sequence[str]) -> list[Unit]:
    if not unit_ids:
        return []
    return list(
        session.scalars(
            select(Unit)
            .where(Unit.tenant_id == tenant_id, Unit.id.in_(unit_ids), Unit.kind.in_(kinds))
            .order_by(Unit.kind, Unit.name)
        )
    )


# --- the Tổng Liên đoàn's inbox --------------------------------------------------------------


def add_national(session: Session, row: dict[str, object]) -> None:
    """INSERT without RETURNING: the province may add the row (policy source_tenant_inserts)."""
    session.execute(insert(NationalNomination).values(**row))


def national_rows(session: Session, *, limit: int) -> list[NationalNomination]:
    return list(
        session.scalars(
            select(NationalNomination)
            .order_by(NationalNomination.nominated_at, NationalNomination.source_tenant_id)
            .limit(limit)
        )
    )


def national_row(
    session: Session, source_tenant_id: int, source_submission_id: int, *, lock: bool = False
) -> NationalNomination | None:
    q = select(NationalNomination).where(
        NationalNomination.source_tenant_id == source_tenant_id,
        NationalNomination.source_submission_id == source_submission_id,
    )
    return session.scalar(q.with_for_update() if lock else q)
