"""What a dossier reads: a unit's nominations in a round with their initiatives and cases, the
units of a subtree that nominated, and the name of the unit's chair (who signs)."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import and_, distinct, select
from sqlalchemy.orm import Session

from services.review.accounts.models import OfficerAccount, Role
from services.review.models import Submission
from services.review.workflow.models import Case, Nomination


def nominated(session: Session, tenant_id: int, round_id: int, unit_id: int) -> list[tuple[Submission, Case | None]]:
    """The initiatives the unit recommended upward in the round, in the order it chose them."""
    rows = session.execute(
        select(Submission, Case)
        .join(
            Nomination,
            and_(Nomination.tenant_id == Submission.tenant_id, Nomination.submission_id == Submission.id),
        )
        .outerjoin(Case, and_(Case.tenant_id == Submission.tenant_id, Case.submission_id == Submission.id))
        .where(Nomination.tenant_id == tenant_id, Nomination.round_id == round_id, Nomination.from_unit_id == unit_id)
        .order_by(Nomination.nominated_at, Nomination.id)
    )
    return [(r[0], r[1]) for r in rows]


def units_that_nominated(session: Session, tenant_id: int, round_id: int, unit_ids: Collection[int]) -> list[int]:
    if not unit_ids:
        return []
    stmt = select(distinct(Nomination.from_unit_id)).where(
        Nomination.tenant_id == tenant_id, Nomination.round_id == round_id, Nomination.from_unit_id.in_(unit_ids)
    )
    return sorted(session.scalars(stmt))


def chair_name(session: Session, tenant_id: int, unit_id: int) -> str | None:
    """The unit's chủ tịch who signs the Tờ trình: the earliest active account of that role."""
    return session.scalar(
        select(OfficerAccount.full_name)
        .where(
            OfficerAccount.tenant_id == tenant_id,
            OfficerAccount.unit_id == unit_id,
            OfficerAccount.role == Role.chu_tich.value,
            OfficerAccount.is_active.is_(True),
        )
        .order_by(OfficerAccount.id)
        .limit(1)
    )


def submission_ids_by_code(session: Session, tenant_id: int, codes: Collection[str]) -> list[int]:
    """The tenant's submissions a dossier names by tracking code (another tenant's: none)."""
    if not codes:
        return []
    stmt = select(Submission.id).where(Submission.tenant_id == tenant_id, Submission.tracking_code.in_(list(codes)))
    return sorted(session.scalars(stmt))
