"""The directory review publishes for intake (shared/contracts/directory.py): campaigns and
the units of the trees they pin. Written to Redis after seeding and every minute by the
ingester, so intake never reads PostgreSQL and a Redis restart heals itself."""

from __future__ import annotations

import hashlib

import redis

from services.review import repository as repo
from shared.contracts.directory import (
    DIRECTORY_KEY,
    DIRECTORY_VERSION_KEY,
    CampaignEntry,
    DirectorySnapshot,
    TenantEntry,
    UnitEntry,
)
from shared.db import TenantScope
from shared.timeutil import now

_KIND_ORDER = {"province": 0, "central_sector": 1, "national": 2}


def build_snapshot(scope: TenantScope) -> DirectorySnapshot:
    with scope(None) as s:
        trees = repo.trees_by_id(s)
        campaigns = repo.list_campaigns(s)
        tenants = sorted(repo.list_tenants(s), key=lambda t: (_KIND_ORDER.get(t.kind, 9), t.id))
        entries = [
            CampaignEntry(
                code=c.code,
                name=c.name,
                tree=trees[c.tree_id],
                opens_at=c.opens_at,
                closes_at=c.closes_at,
                applied_from=c.applied_from,
                applied_to=c.applied_to,
                is_demo=c.is_demo,
            )
            for c in campaigns
        ]
        pinned = {c.tree_id for c in campaigns}
        tenant_rows = [(t.id, t.code, t.name, t.kind) for t in tenants]
    out: dict[str, list[TenantEntry]] = {trees[tid]: [] for tid in pinned}
    for tenant_id, code, name, kind in tenant_rows:
        # Units are tenant-owned: each tenant is read in a transaction scoped to it.
        with scope(tenant_id) as s:
            for tree_id in pinned:
                units = repo.units_of_tree(s, tenant_id, tree_id)
                if not units:
                    continue
                by_id = {u.id: u.code for u in units}
                out[trees[tree_id]].append(
                    TenantEntry(
                        id=tenant_id,
                        code=code,
                        name=name,
                        kind=kind,
                        units=[
                            UnitEntry(code=u.code, name=u.name, kind=u.kind, parent=by_id.get(u.parent_id or -1))
                            for u in units
                        ],
                    )
                )
    return DirectorySnapshot(published_at=now(), campaigns=entries, trees=out)


def publish(client: redis.Redis, snapshot: DirectorySnapshot) -> bool:
    """Write the snapshot when it changed; returns whether it did. The version is a hash of
    the content (not of the time), so an unchanged directory costs intake nothing."""
    body = snapshot.model_dump_json(exclude={"published_at"}).encode()
    version = hashlib.sha256(body).hexdigest()
    if client.get(DIRECTORY_VERSION_KEY) == version.encode():
        return False
    pipe = client.pipeline(transaction=True)
    pipe.set(DIRECTORY_KEY, snapshot.model_dump_json().encode())
    pipe.set(DIRECTORY_VERSION_KEY, version)
    pipe.execute()
    return True
