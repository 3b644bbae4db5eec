"""Progress against the circulars' targets (“Tiến độ”), for the officer's unit and each unit
directly below it: initiatives, grassroots unions (CĐCS) and how many of them took part, the
average per CĐCS, and — for a province — its total against the province's own target.

Targets are the circulars' figures (Thanh Hóa: every CĐCS at least 2 on average, 100% taking
part, 7,500 initiatives by 10/10/2021; Hà Quảng: at least 1 per CĐCS). They belong to a
campaign's configuration; until the workflow package carries them they live in TARGETS below.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from services.review.accounts.principal import Officer
from services.review.accounts.service import units_in_reach
from services.review.console import repository as repo
from services.review.models import UNIT_KIND_LABELS, Campaign, Unit, UnitKind
from shared.contracts.leaderboard import NATIONAL_TARGET
from shared.errors import NotFound

GRASSROOTS_KINDS = frozenset({UnitKind.grassroots.value, UnitKind.grassroots_direct.value})


@dataclass(frozen=True)
class TenantTarget:
    total: int
    by: dt.date


@dataclass(frozen=True)
class Targets:
    avg_per_grassroots: float = 2.0  # Thanh Hóa: “bình quân mỗi CĐCS có ít nhất 02 sáng kiến”
    participation_pct: float = 100.0  # “100% CĐCS tham gia”
    tenants: dict[str, TenantTarget] = field(
        default_factory=lambda: {"thanh-hoa": TenantTarget(total=7500, by=dt.date(2021, 10, 10))}
    )
    # (tenant code, unit code) → the unit's own minimum per CĐCS: Hà Quảng asks at least 1.
    unit_avg: dict[tuple[str, str], float] = field(default_factory=lambda: {("cao-bang", "H045"): 1.0})
    national: int = NATIONAL_TARGET  # the campaign's name: “75 nghìn sáng kiến”, for the whole country


TARGETS = Targets()


@dataclass(frozen=True)
class ProgressRow:
    unit_id: int
    name: str
    kind_label: str
    initiatives: int
    grassroots: int
    taking_part: int
    avg: float | None
    pct: float | None
    bar_pct: float  # share of the largest row, for the bar
    avg_target: float

    @property
    def meets_avg(self) -> bool:
        return self.avg is not None and self.avg >= self.avg_target


@dataclass(frozen=True)
class Progress:
    unit_id: int
    unit_name: str
    campaign: Campaign | None
    campaigns: list[Campaign]
    initiatives: int
    grassroots: int
    taking_part: int
    avg: float | None
    pct: float | None
    avg_target: float
    pct_target: float
    rows: list[ProgressRow]
    leaf_fallback: bool  # the tree has no CĐCS under this unit: the lowest units count instead
    tenant_target: TenantTarget | None = None
    tenant_total: int | None = None
    # The same initiatives by field, by group and by day (Asia/Ho_Chi_Minh): the charts.
    by_field: dict[str, int] = field(default_factory=dict)
    by_group: dict[str, int] = field(default_factory=dict)
    by_day: dict[dt.date, int] = field(default_factory=dict)

    @property
    def tenant_pct(self) -> float | None:
        if self.tenant_target is None or self.tenant_total is None:
            return None
        return min(100.0, 100.0 * self.tenant_total / self.tenant_target.total)


def _ratio(a: int, b: int) -> float | None:
    return a / b if b else None


def _subtree(children: dict[int, list[int]], root: int) -> list[int]:
    out, stack = [], [root]
    while stack:
        u = stack.pop()
        out.append(u)
        stack.extend(children.get(u, []))
    return out


@dataclass(frozen=True)
class _Tally:
    initiatives: int
    grassroots: int
    taking_part: int


def _tally(ids: Iterable[int], base: set[int], counts: dict[int, int], children: dict[int, list[int]]) -> _Tally:
    """Initiatives of a subtree; its base units (CĐCS) and those with at least one initiative —
    counted in the CĐCS's own subtree (a CĐCS may have component unions below it)."""
    ids = list(ids)
    total = sum(counts.get(u, 0) for u in ids)
    mine = [u for u in ids if u in base]
    part = sum(1 for u in mine if any(counts.get(x, 0) for x in _subtree(children, u)))
    return _Tally(total, len(mine), part)


def grassroots_taking_part(units: Iterable[tuple[int, int | None, str]], counts: Mapping[int, int]) -> tuple[int, int]:
    """The CĐCS of a tree (``(id, parent id, kind)`` each) and how many of them took part: an
    initiative submitted to the CĐCS or to a unit below it. Each counted unit marks its
    ancestors once, so a tenant of thousands of units costs one walk up per counted unit."""
    parent: dict[int, int | None] = {}
    base: set[int] = set()
    for uid, parent_id, kind in units:
        parent[uid] = parent_id
        if kind in GRASSROOTS_KINDS:
            base.add(uid)
    active: set[int] = set()
    for uid, n in counts.items():
        u: int | None = uid
        while n and u is not None and u in parent and u not in active:
            active.add(u)
            u = parent[u]
    return len(base), len(base & active)


def progress(session: Session, officer: Officer, *, unit_id: int | None, campaign_code: str) -> Progress:
    reach = units_in_reach(session, officer)
    root_id = officer.unit_id if unit_id is None else unit_id
    if root_id not in reach:
        raise NotFound("Không tìm thấy đơn vị", field="unit_id")
    campaigns = list(repo.campaigns(session))
    campaign = next((c for c in campaigns if c.code == campaign_code), None) if campaign_code else None
    if campaign_code and campaign is None:
        raise NotFound("Không tìm thấy chương trình", field="campaign")
    campaign = campaign or (campaigns[0] if campaigns else None)

    units: dict[int, Unit] = {u.id: u for u in repo.units(session, officer.tenant_id, reach)}
    children: dict[int, list[int]] = defaultdict(list)
    for u in units.values():
        if u.parent_id is not None and u.parent_id in units:
            children[u.parent_id].append(u.id)
    subtree = _subtree(children, root_id)
    # One pass over the subtree's rows gives the table's counts and the charts' (GROUPING SETS).
    found = repo.breakdown(session, officer.tenant_id, subtree, campaign.id) if campaign else None
    counts = found.by_unit if found else {}

    base = {u for u in subtree if units[u].kind in GRASSROOTS_KINDS}
    leaf_fallback = not base
    if leaf_fallback:
        base = {u for u in subtree if not children.get(u)}

    rows_raw = []
    for child in sorted(children.get(root_id, []), key=lambda c: units[c].name):
        t = _tally(_subtree(children, child), base, counts, children)
        rows_raw.append((child, t))
    if counts.get(root_id):  # initiatives submitted straight to this unit
        own = _Tally(counts[root_id], 1 if root_id in base else 0, 1 if root_id in base else 0)
        rows_raw.insert(0, (root_id, own))
    biggest = max((t.initiatives for _, t in rows_raw), default=0) or 1
    root = units[root_id]
    avg_target = TARGETS.unit_avg.get((officer.tenant_code, root.code), TARGETS.avg_per_grassroots)
    rows = [
        ProgressRow(
            unit_id=u,
            name=units[u].name,
            kind_label=UNIT_KIND_LABELS.get(units[u].kind, units[u].kind),
            initiatives=t.initiatives,
            grassroots=t.grassroots,
            taking_part=t.taking_part,
            avg=_ratio(t.initiatives, t.grassroots),
            pct=None if not t.grassroots else 100.0 * t.taking_part / t.grassroots,
            bar_pct=100.0 * t.initiatives / biggest,
            avg_target=TARGETS.unit_avg.get((officer.tenant_code, units[u].code), avg_target),
        )
        for u, t in rows_raw
    ]
    whole = _tally(subtree, base, counts, children)
    tenant_target = TARGETS.tenants.get(officer.tenant_code) if root.parent_id is None else None
    return Progress(
        unit_id=root_id,
        unit_name=root.name,
        campaign=campaign,
        campaigns=campaigns,
        initiatives=whole.initiatives,
        grassroots=whole.grassroots,
        taking_part=whole.taking_part,
        avg=_ratio(whole.initiatives, whole.grassroots),
        pct=None if not whole.grassroots else 100.0 * whole.taking_part / whole.grassroots,
        avg_target=avg_target,
        pct_target=TARGETS.participation_pct,
        rows=rows,
        leaf_fallback=leaf_fallback,
        tenant_target=tenant_target,
        tenant_total=repo.tenant_total(session, officer.tenant_id, campaign.id) if tenant_target and campaign else None,
        by_field=found.by_field if found else {},
        by_group=found.by_group if found else {},
        by_day=found.by_day if found else {},
    )
