"""Read side of the org tree and campaigns (what the pickers and the portal show)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from services.review import repository as repo
from services.review.models import UNIT_KIND_LABELS, OrgTree, Unit
from services.review.schemas import CampaignOut, TenantOut, UnitOut, UnitTreeOut
from shared.db import tenant_session
from shared.errors import NotFound
from shared.timeutil import format_vn, local, now


def tenants(session: Session) -> list[TenantOut]:
    return [
        TenantOut(code=t.code, name=t.name, kind=t.kind, valid_from=t.valid_from, valid_to=t.valid_to)
        for t in repo.list_tenants(session)
    ]


def campaigns(session: Session) -> list[CampaignOut]:
    trees = {t.id: t.code for t in session.scalars(select(OrgTree))}
    at = now()
    return [
        CampaignOut(
            code=c.code,
            name=c.name,
            tree=trees[c.tree_id],
            opens_at=local(c.opens_at),
            closes_at=local(c.closes_at),
            closes_at_text=format_vn(c.closes_at),
            is_open=c.opens_at <= at < c.closes_at,
            is_demo=c.is_demo,
        )
        for c in repo.list_campaigns(session)
    ]


def _out(u: Unit) -> UnitOut:
    return UnitOut(code=u.code, name=u.name, kind=u.kind, kind_label=UNIT_KIND_LABELS.get(u.kind, u.kind))


def unit_children(
    sessions: sessionmaker[Session], session: Session, tenant_code: str, tree_code: str, unit_code: str | None
) -> UnitTreeOut:
    tenant = repo.tenants_by_code(session).get(tenant_code)
    tree = repo.get_tree(session, tree_code)
    if tenant is None or tree is None:
        raise NotFound("Không tìm thấy đơn vị")
    # Units are tenant-owned: read them in a transaction scoped to that tenant.
    with tenant_session(sessions, tenant.id) as ts:
        if unit_code is None:
            node = repo.root_unit(ts, tenant.id, tree.id)
        else:
            node = ts.scalar(
                select(Unit).where(Unit.tenant_id == tenant.id, Unit.tree_id == tree.id, Unit.code == unit_code)
            )
        if node is None:
            raise NotFound("Không tìm thấy đơn vị")
        kids = [_out(u) for u in repo.children(ts, tenant.id, node.id)]
        base = _out(node)
    return UnitTreeOut(**base.model_dump(), tenant=tenant.code, tree=tree.code, children=kids)
