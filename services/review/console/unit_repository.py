"""SQL of the units page (/console/don-vi): a unit's children a page at a time, a search within a
subtree, the lock and update of one unit's email, and the demo addresses of `make run`. Every
function takes a Session scoped to the officer's tenant (row-level security) and names the
tenant in its predicates too, so each query rides the (tenant_id, …) keys; functions only flush."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import and_, func, literal, select, text
from sqlalchemy.orm import Session, aliased

from services.review.models import Unit


@dataclass(frozen=True)
class Found:
    unit: Unit
    parent_name: str | None


def lock_unit(session: Session, tenant_id: int, unit_id: int) -> Unit | None:
    """The unit, its row locked until commit: two administrators saving at once are audited
    one after the other, each “from” the other's “to”."""
    return session.scalar(select(Unit).where(Unit.tenant_id == tenant_id, Unit.id == unit_id).with_for_update())


def set_email(session: Session, unit: Unit, email: str | None) -> None:
    unit.email = email
    session.flush()


def children_page(
    session: Session, tenant_id: int, parent_id: int, *, limit: int, offset: int
) -> tuple[Sequence[Unit], int]:
    """One page of the unit's direct children in code order (the official lists' order, as
    repository.children), and how many there are in all."""
    where = (Unit.tenant_id == tenant_id, Unit.parent_id == parent_id)
    total = session.scalar(select(func.count()).select_from(Unit).where(*where)) or 0
    rows = session.scalars(select(Unit).where(*where).order_by(Unit.code).limit(limit).offset(offset)).all()
    return rows, int(total)


def child_counts(session: Session, tenant_id: int, parent_ids: Collection[int]) -> dict[int, int]:
    if not parent_ids:
        return {}
    stmt = (
        select(Unit.parent_id, func.count())
        .where(Unit.tenant_id == tenant_id, Unit.parent_id.in_(list(parent_ids)))
        .group_by(Unit.parent_id)
    )
    return {int(p): int(n) for p, n in session.execute(stmt).all() if p is not None}


def search(
    session: Session, tenant_id: int, root_id: int, words: Sequence[str], *, limit: int, offset: int
) -> tuple[list[Found], int]:
    """Units below the root (the page shows the root itself above the results) whose folded name, code or email holds
    every word. ``words`` are already folded (text.words: [0-9a-z]+ only, so nothing to escape
    in LIKE); the column is folded by review.fold, the same function in SQL."""
    reach = select(Unit.id).where(Unit.tenant_id == tenant_id, Unit.id == root_id).cte("reach", recursive=True)
    child = aliased(Unit)
    reach = reach.union_all(
        select(child.id).join(reach, and_(child.tenant_id == tenant_id, child.parent_id == reach.c.id))
    )
    parent = aliased(Unit)
    haystack = func.review.fold(Unit.name + literal(" ") + Unit.code + literal(" ") + func.coalesce(Unit.email, ""))
    where = (Unit.tenant_id == tenant_id, Unit.id != root_id, *(haystack.like(f"%{w}%") for w in words))
    total = session.scalar(select(func.count()).select_from(Unit).join(reach, reach.c.id == Unit.id).where(*where))
    stmt = (
        select(Unit, parent.name)
        .join(reach, reach.c.id == Unit.id)
        .outerjoin(parent, and_(parent.tenant_id == Unit.tenant_id, parent.id == Unit.parent_id))
        .where(*where)
        .order_by(Unit.code, Unit.id)
        .limit(limit)
        .offset(offset)
    )
    return [Found(u, p) for u, p in session.execute(stmt).all()], int(total or 0)


# The demo's addresses: one per unit, from its code, for every unit that has none (idempotent).
_DEMO_EMAILS = text(
    """
    UPDATE review.units SET email = lower(code) || '@' || :domain
    WHERE tenant_id = :t AND (email IS NULL OR email = '')
    """
)


def fill_demo_emails(session: Session, tenant_id: int, domain: str) -> int:
    result = session.execute(_DEMO_EMAILS, {"t": tenant_id, "domain": domain})
    return int(getattr(result, "rowcount", 0) or 0)
