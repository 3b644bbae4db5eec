"""SQL for the org tree, tenants and campaigns. Functions take a Session and only flush."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from services.review.models import Campaign, OrgTree, Submission, Tenant, Unit


def get_tree(session: Session, code: str) -> OrgTree | None:
    return session.scalar(select(OrgTree).where(OrgTree.code == code))


def upsert_tree(
    session: Session, *, code: str, name: str, valid_from: dt.date, supersedes_id: int | None, source: str
) -> OrgTree:
    stmt = insert(OrgTree).values(
        code=code, name=name, valid_from=valid_from, supersedes_id=supersedes_id, source=source
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[OrgTree.code],
        set_={
            "name": stmt.excluded.name,
            "source": stmt.excluded.source,
            "supersedes_id": stmt.excluded.supersedes_id,
        },
    )
    session.execute(stmt)
    tree = get_tree(session, code)
    assert tree is not None
    return tree


def close_tree(session: Session, tree_id: int, valid_to: dt.date) -> None:
    session.execute(update(OrgTree).where(OrgTree.id == tree_id).values(valid_to=valid_to))


def upsert_tenant(
    session: Session, *, id: int, code: str, name: str, kind: str, valid_from: dt.date, rename: bool
) -> None:
    stmt = insert(Tenant).values(id=id, code=code, name=name, kind=kind, valid_from=valid_from)
    set_ = {"name": stmt.excluded.name, "valid_to": None, "successor_id": None} if rename else {"kind": Tenant.kind}
    session.execute(stmt.on_conflict_do_update(index_elements=[Tenant.id], set_=set_))


def tenants_by_code(session: Session) -> dict[str, Tenant]:
    return {t.code: t for t in session.scalars(select(Tenant))}


def end_tenant(session: Session, tenant_id: int, *, valid_to: dt.date, successor_id: int) -> None:
    session.execute(update(Tenant).where(Tenant.id == tenant_id).values(valid_to=valid_to, successor_id=successor_id))


def list_tenants(session: Session, *, on: dt.date | None = None) -> Sequence[Tenant]:
    q = select(Tenant).order_by(Tenant.kind.desc(), Tenant.name)
    if on is not None:
        q = q.where(Tenant.valid_from <= on, (Tenant.valid_to.is_(None)) | (Tenant.valid_to > on))
    return session.scalars(q).all()


def unit_ids_by_code(session: Session, tenant_id: int, tree_id: int) -> dict[str, int]:
    rows = session.execute(select(Unit.code, Unit.id).where(Unit.tenant_id == tenant_id, Unit.tree_id == tree_id))
    return {code: int(uid) for code, uid in rows}


def upsert_unit(
    session: Session,
    *,
    tenant_id: int,
    tree_id: int,
    code: str,
    name: str,
    kind: str,
    parent_id: int | None,
    valid_from: dt.date,
    email: str | None,
) -> int:
    stmt = insert(Unit).values(
        tenant_id=tenant_id,
        tree_id=tree_id,
        code=code,
        name=name,
        kind=kind,
        parent_id=parent_id,
        valid_from=valid_from,
        email=email,
    )
    upsert = stmt.on_conflict_do_update(
        index_elements=[Unit.tenant_id, Unit.tree_id, Unit.code],
        # An email an administrator set in the console outlives a reload of the data files.
        set_={"name": stmt.excluded.name, "kind": stmt.excluded.kind, "parent_id": stmt.excluded.parent_id},
    ).returning(Unit.id)
    return int(session.execute(upsert).scalar_one())


def end_open_units(session: Session, *, tenant_id: int, tree_id: int, valid_to: dt.date) -> int:
    res = session.execute(
        update(Unit)
        .where(Unit.tenant_id == tenant_id, Unit.tree_id == tree_id, Unit.valid_to.is_(None))
        .values(valid_to=valid_to)
    )
    return int(res.rowcount)  # type: ignore[attr-defined]  # CursorResult of an UPDATE


def link_successor(
    session: Session,
    *,
    tenant_id: int,
    tree_id: int,
    code: str,
    successor_tenant_id: int,
    successor_id: int,
    valid_to: dt.date,
) -> int:
    res = session.execute(
        update(Unit)
        .where(Unit.tenant_id == tenant_id, Unit.tree_id == tree_id, Unit.code == code)
        .values(successor_tenant_id=successor_tenant_id, successor_id=successor_id, valid_to=valid_to)
    )
    return int(res.rowcount)  # type: ignore[attr-defined]  # CursorResult of an UPDATE


def root_unit(session: Session, tenant_id: int, tree_id: int) -> Unit | None:
    return session.scalar(
        select(Unit).where(Unit.tenant_id == tenant_id, Unit.tree_id == tree_id, Unit.parent_id.is_(None))
    )


def children(session: Session, tenant_id: int, parent_id: int) -> Sequence[Unit]:
    return session.scalars(
        select(Unit).where(Unit.tenant_id == tenant_id, Unit.parent_id == parent_id).order_by(Unit.kind, Unit.name)
    ).all()


def get_campaign(session: Session, code: str) -> Campaign | None:
    return session.scalar(select(Campaign).where(Campaign.code == code))


def add_campaign(session: Session, campaign: Campaign) -> Campaign:
    session.add(campaign)
    session.flush()
    return campaign


def list_campaigns(session: Session) -> Sequence[Campaign]:
    return session.scalars(select(Campaign).order_by(Campaign.opens_at.desc())).all()


def units_of_tree(session: Session, tenant_id: int, tree_id: int) -> Sequence[Unit]:
    """Every unit of a tenant in one tree, the root first, then by kind and name."""
    return session.scalars(
        select(Unit)
        .where(Unit.tenant_id == tenant_id, Unit.tree_id == tree_id)
        .order_by(Unit.parent_id.is_not(None), Unit.kind, Unit.name)
    ).all()


def trees_by_id(session: Session) -> dict[int, str]:
    return {t.id: t.code for t in session.scalars(select(OrgTree))}


def submission_by_code(session: Session, tenant_id: int, tracking_code: str) -> tuple[Submission, Unit, Tenant] | None:
    row = session.execute(
        select(Submission, Unit, Tenant)
        .join(Unit, (Unit.tenant_id == Submission.tenant_id) & (Unit.id == Submission.unit_id))
        .join(Tenant, Tenant.id == Submission.tenant_id)
        .where(Submission.tenant_id == tenant_id, Submission.tracking_code == tracking_code)
    ).first()
    return None if row is None else (row[0], row[1], row[2])


# --- the public leaderboard (services/review/leaderboard.py) -----------------------------------


def unit_links(session: Session, tenant_id: int, tree_id: int) -> list[tuple[int, int | None, str]]:
    """(id, parent id, kind) of every unit of a tenant in one tree: what participation needs."""
    rows = session.execute(
        select(Unit.id, Unit.parent_id, Unit.kind).where(Unit.tenant_id == tenant_id, Unit.tree_id == tree_id)
    )
    return [(int(i), None if p is None else int(p), str(k)) for i, p, k in rows]


def counts_by_campaign_unit(session: Session, tenant_id: int) -> dict[tuple[int, int], int]:
    """Initiatives of a tenant per (campaign, unit submitted to): one GROUP BY over its rows."""
    rows = session.execute(
        select(Submission.campaign_id, Submission.unit_id, func.count())
        .where(Submission.tenant_id == tenant_id)
        .group_by(Submission.campaign_id, Submission.unit_id)
    )
    return {(int(c), int(u)): int(n) for c, u, n in rows}
