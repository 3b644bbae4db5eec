"""SQL the console's selection pages need beyond the workflow's own repository: reading a case
without creating it, the rounds of a tenant, a unit's candidates in a campaign, who nominated
what, officers' and units' names. Sessions are scoped to the officer's tenant (row-level
security); every query names the tenant too. Functions only read."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from services.review.accounts.models import OfficerAccount
from services.review.models import Campaign, Submission, Tenant, Unit
from services.review.workflow.models import (
    Case,
    Commendation,
    Complaint,
    Confirmation,
    Deadline,
    Nomination,
    Round,
)


def case_of(session: Session, tenant_id: int, submission_id: int) -> Case | None:
    """The case if the workflow has one yet (a GET must not create it)."""
    return session.get(Case, (tenant_id, submission_id))


def tenant_rounds(session: Session, tenant_id: int) -> Sequence[Any]:
    """(round, campaign code, campaign name) of every campaign the tenant has configured,
    newest campaign first, rounds in order."""
    stmt = (
        select(Round, Campaign.code, Campaign.name)
        .join(Campaign, Campaign.id == Round.campaign_id)
        .where(Round.tenant_id == tenant_id)
        .order_by(Campaign.opens_at.desc(), Round.ordinal)
    )
    return session.execute(stmt).all()


def round_by_id(session: Session, tenant_id: int, round_id: int) -> Round | None:
    return session.get(Round, (tenant_id, round_id))


def deadlines_of_round(session: Session, tenant_id: int, round_id: int) -> list[Deadline]:
    stmt = (
        select(Deadline)
        .where(Deadline.tenant_id == tenant_id, Deadline.round_id == round_id)
        .order_by(Deadline.due_at, Deadline.id)
    )
    return list(session.scalars(stmt))


def candidates(
    session: Session, tenant_id: int, campaign_id: int, unit_id: int, *, limit: int
) -> list[tuple[Submission, Case | None]]:
    """The campaign's initiatives the unit holds now (or that landed there and have no case
    yet), oldest first."""
    rows = session.execute(
        select(Submission, Case)
        .outerjoin(Case, and_(Case.tenant_id == Submission.tenant_id, Case.submission_id == Submission.id))
        .where(
            Submission.tenant_id == tenant_id,
            Submission.campaign_id == campaign_id,
            func.coalesce(Case.holder_unit_id, Submission.unit_id) == unit_id,
        )
        .order_by(Submission.submitted_at, Submission.id)
        .limit(limit)
    )
    return [(r[0], r[1]) for r in rows]


def nominated_from(
    session: Session, tenant_id: int, round_id: int, unit_id: int
) -> list[tuple[Nomination, Submission]]:
    rows = session.execute(
        select(Nomination, Submission)
        .join(
            Submission,
            and_(Submission.tenant_id == Nomination.tenant_id, Submission.id == Nomination.submission_id),
        )
        .where(Nomination.tenant_id == tenant_id, Nomination.round_id == round_id, Nomination.from_unit_id == unit_id)
        .order_by(Nomination.nominated_at)
    )
    return [(r[0], r[1]) for r in rows]


def commended_in(
    session: Session, tenant_id: int, round_id: int, unit_id: int, submission_ids: Collection[int]
) -> set[int]:
    if not submission_ids:
        return set()
    stmt = select(Commendation.submission_id).where(
        Commendation.tenant_id == tenant_id,
        Commendation.round_id == round_id,
        Commendation.unit_id == unit_id,
        Commendation.submission_id.in_(list(submission_ids)),
    )
    return {int(i) for i in session.scalars(stmt)}


def pending_link(session: Session, tenant_id: int, submission_id: int, at: dt.datetime) -> Confirmation | None:
    """The latest link sent to the employer that is neither used nor expired."""
    return session.scalar(
        select(Confirmation)
        .where(
            Confirmation.tenant_id == tenant_id,
            Confirmation.submission_id == submission_id,
            Confirmation.consumed_at.is_(None),
            Confirmation.expires_at > at,
        )
        .order_by(Confirmation.created_at.desc())
        .limit(1)
    )


def officer_names(session: Session, tenant_id: int, ids: Collection[int]) -> dict[int, str]:
    if not ids:
        return {}
    stmt = select(OfficerAccount.id, OfficerAccount.full_name).where(
        OfficerAccount.tenant_id == tenant_id, OfficerAccount.id.in_(list(ids))
    )
    return {int(i): str(n) for i, n in session.execute(stmt).all()}


def unit_names_by_code(session: Session, tenant_id: int, tree_id: int, codes: Collection[str]) -> dict[str, str]:
    if not codes:
        return {}
    stmt = select(Unit.code, Unit.name).where(
        Unit.tenant_id == tenant_id, Unit.tree_id == tree_id, Unit.code.in_(list(codes))
    )
    return {str(c): str(n) for c, n in session.execute(stmt).all()}


def tenant_names(session: Session, ids: Collection[int]) -> dict[int, str]:
    """Tenants are global reference data (no row-level security)."""
    if not ids:
        return {}
    return {int(i): str(n) for i, n in session.execute(select(Tenant.id, Tenant.name).where(Tenant.id.in_(list(ids))))}


def complaints_of(session: Session, tenant_id: int, submission_id: int) -> list[Complaint]:
    """Every complaint about an initiative, open and resolved, oldest first."""
    return list(
        session.scalars(
            select(Complaint)
            .where(Complaint.tenant_id == tenant_id, Complaint.submission_id == submission_id)
            .order_by(Complaint.filed_at, Complaint.id)
        )
    )
