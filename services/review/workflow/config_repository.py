"""SQL for editing a tenant's workflow configuration (configure.py): one deadline, one quota
rule, the rubric's criteria, and the quota counters whose cached maximum follows a rule.
Sessions are scoped to the officer's tenant (row-level security); every query names it too."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from services.review.workflow.models import Criterion, Deadline, QuotaRule, QuotaUsage


def deadline(session: Session, tenant_id: int, round_id: int, deadline_id: int) -> Deadline | None:
    return session.scalar(
        select(Deadline)
        .where(Deadline.tenant_id == tenant_id, Deadline.round_id == round_id, Deadline.id == deadline_id)
        .with_for_update()
    )


def quota_rule(session: Session, tenant_id: int, round_id: int, rule_id: int) -> QuotaRule | None:
    return session.scalar(
        select(QuotaRule)
        .where(QuotaRule.tenant_id == tenant_id, QuotaRule.round_id == round_id, QuotaRule.id == rule_id)
        .with_for_update()
    )


def criteria_for_update(session: Session, tenant_id: int, campaign_id: int) -> list[Criterion]:
    return list(
        session.scalars(
            select(Criterion)
            .where(Criterion.tenant_id == tenant_id, Criterion.campaign_id == campaign_id)
            .order_by(Criterion.ordinal)
            .with_for_update()
        )
    )


def usages_of_round(session: Session, tenant_id: int, round_id: int) -> list[QuotaUsage]:
    """The round's counters, locked: a nomination taking one waits for the new maximum."""
    return list(
        session.scalars(
            select(QuotaUsage)
            .where(QuotaUsage.tenant_id == tenant_id, QuotaUsage.round_id == round_id)
            .order_by(QuotaUsage.unit_id)
            .with_for_update()
        )
    )


def set_usage_max(session: Session, tenant_id: int, round_id: int, unit_id: int, max_count: int | None) -> None:
    session.execute(
        update(QuotaUsage)
        .where(QuotaUsage.tenant_id == tenant_id, QuotaUsage.round_id == round_id, QuotaUsage.unit_id == unit_id)
        .values(max_count=max_count)
    )
