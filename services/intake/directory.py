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

    def campaign(self, at: dt.datetime, pinned: str | None = None) -> CampaignEntry | None:
        """The campaign the portal serves: the pinned one; else the open one; else the next to
        open; else the one that closed last (the portal then offers tracking only)."""
        cs = self.snapshot.campaigns
        if pinned:
            return next((c for c in cs if c.code == pinned), None)
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
