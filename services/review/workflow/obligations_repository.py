"""SQL of what each unit owes by each deadline (obligations.py): the open rounds' deadlines in a
window; per deadline one statement for the units that owe, with their parent; per round one for
its quota counters. A province of thousands of CĐCS costs a few queries, never one per unit.
Row-level security scopes every statement to the session's tenant; each query names it too."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import BigInteger, any_, bindparam, or_, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session, aliased

from services.review.models import Campaign, Unit
from services.review.workflow.models import Deadline, QuotaUsage, Round


@dataclass(frozen=True)
class OwingRow:
    unit_id: int
    code: str
    name: str
    email: str | None
    parent_code: str | None
    parent_name: str | None
    parent_email: str | None


def deadlines_due(
    session: Session, tenant_id: int, due_from: dt.datetime, due_to: dt.datetime
) -> list[tuple[Deadline, Round, Campaign]]:
    """Deadlines due in [due_from, due_to) of the tenant's open rounds, earliest first."""
    rows = session.execute(
        select(Deadline, Round, Campaign)
        .join(Round, (Round.tenant_id == Deadline.tenant_id) & (Round.id == Deadline.round_id))
        .join(Campaign, Campaign.id == Round.campaign_id)
        .where(
            Deadline.tenant_id == tenant_id,
            Deadline.due_at >= due_from,
            Deadline.due_at < due_to,
            Round.closed_at.is_(None),
        )
        .order_by(Deadline.due_at, Deadline.id)
    )
    return [(r[0], r[1], r[2]) for r in rows]


def owing_units(
    session: Session,
    tenant_id: int,
    *,
    tree_id: int,
    kinds: Sequence[str],
    within: Collection[int] | None,
    valid_on: dt.date | None,
) -> list[OwingRow]:
    """Units of ``kinds`` in the tree (only those among ``within`` when given: a scope's
    subtree), with their parent. ``valid_on``: only units that exist on that day
    (``valid_to`` is the first day a unit no longer does)."""
    if not kinds or (within is not None and not within):
        return []
    parent = aliased(Unit)
    q = (
        select(Unit.id, Unit.code, Unit.name, Unit.email, parent.code, parent.name, parent.email)
        .outerjoin(parent, (parent.tenant_id == Unit.tenant_id) & (parent.id == Unit.parent_id))
        .where(Unit.tenant_id == tenant_id, Unit.tree_id == tree_id, Unit.kind.in_(kinds))
        .order_by(Unit.code)
    )
    if within is not None:
        # The subtree as one array parameter, walked by its own query beforehand. Joined to the
        # recursive walk instead, the planner — which cannot know how many rows a walk yields
        # and guesses a handful — may re-scan the walk for every unit: quadratic for a district
        # of thousands of CĐCS. Against an array it probes or hashes: linear either way.
        q = q.where(Unit.id == any_(bindparam("within", sorted(within), type_=ARRAY(BigInteger))))
    if valid_on is not None:
        q = q.where(Unit.valid_from <= valid_on, or_(Unit.valid_to.is_(None), Unit.valid_to > valid_on))
    return [OwingRow(int(r[0]), r[1], r[2], r[3], r[4], r[5], r[6]) for r in session.execute(q)]


def used_in_round(session: Session, tenant_id: int, round_id: int) -> dict[int, int]:
    """How many each unit has nominated in the round: its quota counter, what the console shows
    as “đã chọn”. The whole round at once (one range of the counters' key), rather than a list
    of thousands of unit ids or a join the planner may turn into a scan per unit."""
    rows = session.execute(
        select(QuotaUsage.unit_id, QuotaUsage.used).where(
            QuotaUsage.tenant_id == tenant_id, QuotaUsage.round_id == round_id
        )
    )
    return {int(u): int(n) for u, n in rows}
