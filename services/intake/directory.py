"""Intake's in-memory copy of the directory review publishes (campaigns, tenants, units).

A request never waits on Redis for it: a background loop refreshes the copy when the published
version changes, and the last good copy stays in use while Redis or review are away.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from shared.contracts.directory import CampaignEntry, DirectorySnapshot, TenantEntry, UnitEntry


@dataclass
class TenantIndex:
    tenant: TenantEntry
    units: dict[str, UnitEntry] = field(default_factory=dict)


class Directory:
    def __init__(self, snapshot: DirectorySnapshot, version: str) -> None:
        self.snapshot = snapshot
        self.version = version
        self._trees: dict[str, dict[str, TenantIndex]] = {}
        for tree, tenants in snapshot.trees.items():
            idx: dict[str, TenantIndex] = {}
            for t in tenants:
                idx[t.code] = TenantIndex(t, {u.code: u for u in t.units})
            self._trees[tree] = idx
        self._by_code: dict[str, CampaignEntry] = {}
        # Each campaign's window in UTC, the zone of ``now()``: aware datetimes in the same zone
        # compare without asking either zone for its offset (twice per submission).
        self._windows: dict[int, tuple[dt.datetime, dt.datetime]] = {}
        for c in snapshot.campaigns:
            self._by_code.setdefault(c.code, c)
            self._windows[id(c)] = (c.opens_at.astimezone(dt.UTC), c.closes_at.astimezone(dt.UTC))
        self._bounds = sorted({b for w in self._windows.values() for b in w})
        # The last answer for an unpinned portal and the span of time it holds for: every
        # submission asks, and the answer only changes when a campaign opens or closes.
        self._served: tuple[dt.datetime | None, dt.datetime | None, CampaignEntry | None] | None = None

    def campaign(self, at: dt.datetime, pinned: str | None = None) -> CampaignEntry | None:
        """The campaign the portal serves: the pinned one; else the open one; else the next to
        open; else the one that closed last (the portal then offers tracking only)."""
        if pinned:
            return self._by_code.get(pinned)
        served = self._served
        if served is not None and (served[0] is None or served[0] <= at) and (served[1] is None or at < served[1]):
            return served[2]
        c = self._campaign_at(at)
        # Between two consecutive openings or closings, the answer below cannot change.
        since = next((b for b in reversed(self._bounds) if b <= at), None)
        until = next((b for b in self._bounds if b > at), None)
        self._served = (since, until, c)
        return c

    def window(self, campaign: CampaignEntry) -> tuple[dt.datetime, dt.datetime]:
        """When ``campaign`` (one of this directory's) opens and closes, in UTC."""
        w = self._windows.get(id(campaign))
        return w if w is not None else (campaign.opens_at, campaign.closes_at)

    def _campaign_at(self, at: dt.datetime) -> CampaignEntry | None:
        cs = self.snapshot.campaigns
        open_ = [c for c in cs if c.opens_at <= at < c.closes_at]
        if open_:
            return min(open_, key=lambda c: c.closes_at)
        upcoming = [c for c in cs if c.opens_at > at]
        if upcoming:
            return min(upcoming, key=lambda c: c.opens_at)
        return max(cs, key=lambda c: c.closes_at, default=None)

    def tenants(self, tree: str) -> list[TenantEntry]:
        return [i.tenant for i in self._trees.get(tree, {}).values()]

    def tenant(self, tree: str, code: str) -> TenantIndex | None:
        return self._trees.get(tree, {}).get(code)
