"""Org tree loading and campaign set-up: the review service's rules for its reference data.

Each tenant's units are written in a transaction scoped to that tenant (row-level security
binds the loader too). Functions here only flush: the caller's ``scope`` commits.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from services.review import repository as repo
from services.review.models import Campaign, OrgTree
from shared.db import TenantScope
from shared.orgtree import TreeData
from shared.timeutil import VN_TZ, end_of_day


@dataclass
class LoadReport:
    tree: str
    tenants: int = 0
    units: int = 0
    ended_units: int = 0
    linked_successors: int = 0


def load_tree(scope: TenantScope, data: TreeData) -> LoadReport:
    report = LoadReport(tree=data.code)
    with scope(None) as s:
        previous = repo.get_tree(s, data.supersedes) if data.supersedes else None
        if data.supersedes and previous is None:
            raise ValueError(f"cây {data.code} thay thế cây {data.supersedes}, cần nạp cây {data.supersedes} trước")
        tree = repo.upsert_tree(
            s,
            code=data.code,
            name=data.name,
            valid_from=data.valid_from,
            supersedes_id=previous.id if previous else None,
            source=data.source,
        )
        tree_id = tree.id
        superseded = bool(s.scalar(select(exists().where(OrgTree.supersedes_id == tree_id))))
        if previous is not None:
            repo.close_tree(s, previous.id, data.valid_from)
        for t in data.tenants:
            # A reload of an older tree must not undo what a newer one decided (names, ends).
            repo.upsert_tenant(
                s,
                id=t.id,
                code=t.code,
                name=t.name,
                kind=t.kind,
                valid_from=data.valid_from,
                rename=not superseded,
            )
        by_code = repo.tenants_by_code(s)
        if not superseded:
            for t in data.tenants:
                for old in t.succeeds:
                    if old != t.code and old in by_code:
                        repo.end_tenant(s, by_code[old].id, valid_to=data.valid_from, successor_id=t.id)
        tenant_ids = {t.code: by_code[t.code].id for t in data.tenants}
        report.tenants = len(data.tenants)

    new_ids: dict[tuple[str, str], int] = {}
    for t in data.tenants:
        tid = tenant_ids[t.code]
        with scope(tid) as s:
            ids = repo.unit_ids_by_code(s, tid, tree_id)
            for u in data.units_of(t.code):
                parent_id = ids[u.parent] if u.parent else None
                ids[u.code] = repo.upsert_unit(
                    s,
                    tenant_id=tid,
                    tree_id=tree_id,
                    code=u.code,
                    name=u.name,
                    kind=u.kind,
                    parent_id=parent_id,
                    valid_from=data.valid_from,
                    email=u.email,
                )
                new_ids[(t.code, u.code)] = ids[u.code]
                report.units += 1

    if previous is not None and not superseded:
        links: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
        for u in data.units:
            for old_tenant, old_code in u.succeeds:
                links[old_tenant].append((old_code, u.tenant, u.code))
        with scope(None) as s:
            old_tenants = repo.tenants_by_code(s)
        for code, tenant in old_tenants.items():
            with scope(tenant.id) as s:
                report.ended_units += repo.end_open_units(
                    s, tenant_id=tenant.id, tree_id=previous.id, valid_to=data.valid_from
                )
                for old_code, new_tenant, new_code in links.get(code, []):
                    report.linked_successors += repo.link_successor(
                        s,
                        tenant_id=tenant.id,
                        tree_id=previous.id,
                        code=old_code,
                        successor_tenant_id=tenant_ids[new_tenant],
                        successor_id=new_ids[(new_tenant, new_code)],
                        valid_to=data.valid_from,
                    )
    return report


CAMPAIGN_2021 = "75k-2021"
DEMO_CAMPAIGN = "75k-demo"


def ensure_campaigns(session: Session, *, tree_code: str, now: dt.datetime, demo: bool) -> list[Campaign]:
    """The real 2021 campaign (portal 10/3 → 24:00 20/4/2021, applied 02–05/2021) and, for a
    newcomer's machine, a demo copy that is open now (re-opened when `make run` finds it closed)."""
    tree = repo.get_tree(session, tree_code)
    if tree is None:
        raise ValueError(f"chưa nạp cây tổ chức {tree_code}")
    out = []
    real = repo.get_campaign(session, CAMPAIGN_2021)
    if real is None:
        real = repo.add_campaign(
            session,
            Campaign(
                code=CAMPAIGN_2021,
                name="Chương trình “75 nghìn sáng kiến, vượt khó, phát triển” năm 2021",
                tree_id=tree.id,
                opens_at=dt.datetime(2021, 3, 10, tzinfo=VN_TZ),
                closes_at=end_of_day(dt.date(2021, 4, 20)),
                applied_from=dt.date(2021, 2, 1),
                applied_to=dt.date(2021, 5, 31),
            ),
        )
    out.append(real)
    if demo:
        c = repo.get_campaign(session, DEMO_CAMPAIGN)
        closes = end_of_day((now.astimezone(VN_TZ) + dt.timedelta(days=30)).date())
        if c is None:
            c = repo.add_campaign(
                session,
                Campaign(
                    code=DEMO_CAMPAIGN,
                    name="[DEMO] Chương trình “75 nghìn sáng kiến, vượt khó, phát triển”",
                    tree_id=tree.id,
                    opens_at=now - dt.timedelta(days=1),
                    closes_at=closes,
                    applied_from=(now - dt.timedelta(days=90)).date(),
                    applied_to=(now + dt.timedelta(days=60)).date(),
                    is_demo=True,
                ),
            )
        elif c.closes_at <= now:
            c.closes_at = closes
            session.flush()
        out.append(c)
    return out
