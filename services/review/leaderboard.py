"""The public leaderboard review publishes for intake (shared/contracts/leaderboard.py): per
campaign, each province's and central-sector union's initiatives and CĐCS taking part.

Counted the way the directory is read: one transaction per tenant under its own row-level
security (the app role sees one tenant at a time; nothing here bypasses it), two light queries
each — the tenant's units of the pinned trees (id, parent, kind) and one GROUP BY of its
submissions per (campaign, unit). For all of 2021's 241,802 rows that is ~0.1 s of database
time, so the ingester republishes it every LEADERBOARD_EVERY seconds, beside the directory.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict

import redis

from services.review import repository as repo
from services.review.console.progress import TARGETS, grassroots_taking_part
from shared.contracts.leaderboard import (
    LEADERBOARD_KEY,
    LEADERBOARD_VERSION_KEY,
    CampaignBoard,
    LeaderboardSnapshot,
    TenantStanding,
)
from shared.db import TenantScope
from shared.timeutil import now

LEADERBOARD_EVERY = 30.0  # seconds: “live” to a person watching, cheap for PostgreSQL at the peak
RANKED_KINDS = ("province", "central_sector")  # the Tổng Liên đoàn holds no initiatives of its own


def build_leaderboard(scope: TenantScope) -> LeaderboardSnapshot:
    with scope(None) as s:
        campaigns = [(c.id, c.code, c.name, c.tree_id) for c in repo.list_campaigns(s)]
        tenants = [(t.id, t.code, t.name, t.kind) for t in repo.list_tenants(s) if t.kind in RANKED_KINDS]
    trees = {tree_id for *_, tree_id in campaigns}
    standings: dict[int, list[TenantStanding]] = defaultdict(list)
    for tenant_id, code, name, kind in tenants:
        with scope(tenant_id) as s:
            links = {tree_id: repo.unit_links(s, tenant_id, tree_id) for tree_id in trees}
            # The union as the campaign's tree names it: a province merged in 2025 lends its
            # tenant to the new province's name, but in 2021 it was still itself.
            roots = {tree_id: repo.root_unit(s, tenant_id, tree_id) for tree_id in trees}
            counts = repo.counts_by_campaign_unit(s, tenant_id)
        by_campaign: dict[int, dict[int, int]] = defaultdict(dict)
        for (campaign_id, unit_id), n in counts.items():
            by_campaign[campaign_id][unit_id] = n
        target = TARGETS.tenants.get(code)
        for campaign_id, _, _, tree_id in campaigns:
            if not links[tree_id]:  # not a union of that tree (merged away, or not yet formed)
                continue
            mine = by_campaign.get(campaign_id, {})
            grassroots, taking_part = grassroots_taking_part(links[tree_id], mine)
            root = roots[tree_id]
            standings[campaign_id].append(
                TenantStanding(
                    id=tenant_id,
                    code=code,
                    name=root.name if root is not None else name,
                    kind=kind,
                    initiatives=sum(mine.values()),
                    grassroots=grassroots,
                    taking_part=taking_part,
                    target=target.total if target else None,
                )
            )
    boards = []
    for campaign_id, campaign_code, campaign_name, _ in campaigns:
        ranked = sorted(standings[campaign_id], key=lambda t: (-t.initiatives, t.name, t.id))
        boards.append(
            CampaignBoard(
                code=campaign_code,
                name=campaign_name,
                initiatives=sum(t.initiatives for t in ranked),
                tenants=ranked,
            )
        )
    return LeaderboardSnapshot(published_at=now(), target=TARGETS.national, campaigns=boards)


def publish(client: redis.Redis, snapshot: LeaderboardSnapshot) -> bool:
    """Write the snapshot when its counts changed; returns whether it did. The version hashes
    the content without the time, so an unchanged board costs intake nothing; the time the
    page shows is that of the last change."""
    body = snapshot.model_dump_json(exclude={"published_at"}).encode()
    version = hashlib.sha256(body).hexdigest()
    if client.get(LEADERBOARD_VERSION_KEY) == version.encode():
        return False
    pipe = client.pipeline(transaction=True)
    pipe.set(LEADERBOARD_KEY, snapshot.model_dump_json().encode())
    pipe.set(LEADERBOARD_VERSION_KEY, version)
    pipe.execute()
    return True


def read(client: redis.Redis) -> LeaderboardSnapshot | None:
    """The last published snapshot (what the Tổng Liên đoàn's Tiến độ page shows), or None."""
    try:
        raw = client.get(LEADERBOARD_KEY)
    except redis.RedisError:  # the page says there are no national figures yet, rather than fail
        return None
    if not isinstance(raw, bytes | str):
        return None
    try:
        return LeaderboardSnapshot.model_validate_json(raw)
    except ValueError:
        return None
